"""A large design's collapsed graph built from the design equals the full graph collapsed (nodes, attributes,
edges in order, positions), and lint's trust-pair counts equal the findings it lists."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from lmos_studio.aggregate import collapsed_graph, filter_options_of, opens_collapsed
from lmos_studio.graph import (
    GraphFilter,
    Highlight,
    build_graph,
    collapse_graph,
    filter_options,
    highlight_agent,
    level_of_detail,
    needs_collapse,
    place,
    saved_positions,
)
from lmos_studio.lint import (
    PAIR_CODES,
    self_trust_findings,
    trust_findings,
    trust_pair_counts,
    unknown_target_findings,
)
from lmos_studio.model import Agent, Capability, Design, Endpoint, Group, TrustEdge
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import RefIndex, safe_resolutions
from lmos_studio.view import canvas_view, collapsed_canvas_view


def tricky() -> Design:
    """Agents sharing a name across namespaces, channel and group refs, two edges with one key, edges to
    nothing, a group trusting itself, agents in no cluster and saved positions."""
    design = synthetic_design(300, 15, 12, 800, seed=5)
    twins = tuple(a.model_copy(update={"namespace": "other"}) for a in design.agents[:40:3])
    loose = tuple(
        Agent(name=f"loose-{i}", endpoints=(Endpoint(protocol="grpc", uri=f"grpc://loose-{i}:1"),)) for i in range(7)
    )
    agents, channels, groups = design.agents, design.channels, design.groups
    extra = (
        TrustEdge(caller=f"channel:{channels[0].name}", callee=f"group:{groups[1].name}", protocol="http"),
        TrustEdge(caller=f"group:{groups[2].name}", callee=f"group:{groups[2].name}"),
        TrustEdge(caller=f"group:{groups[3].name}", callee=f"channel:{channels[4].name}", protocol="ws"),
        TrustEdge(caller=agents[0].name, callee=agents[3].name, protocol="ws", description="first"),
        TrustEdge(caller=agents[0].name, callee=agents[3].name, protocol="http", description="second"),
        TrustEdge(caller="nobody", callee=agents[5].name),
        TrustEdge(caller=agents[6].name, callee="group:none"),
        TrustEdge(caller=agents[9].key, callee=agents[12].name),
        TrustEdge(caller=agents[12].name, callee=f"channel:{channels[0].key}"),
        TrustEdge(caller="loose-0", callee="loose-1"),
        TrustEdge(caller="loose-2", callee=agents[1].name),
    )
    layout = {
        "positions": {
            f"group:{groups[0].name}": [5.0, 7.0],
            f"agent:{agents[1].key}": [1.5, 2.5],
            f"channel:{channels[2].key}": [-40, 90],
            "agent:default/loose-0": [300, -20],
        }
    }
    return design.replace(agents=agents + twins + loose, trust_edges=design.trust_edges + extra, layout=layout)


DESIGNS = {
    "synthetic-400": lambda: synthetic_design(400, 20, 10, 1200, seed=1),
    "synthetic-2000": lambda: synthetic_design(2000, 100, 100, 6000, seed=3),
    "tricky": tricky,
}


@pytest.fixture(scope="module", params=sorted(DESIGNS))
def design(request: pytest.FixtureRequest) -> Design:
    return DESIGNS[request.param]()


def dump(graph: object) -> tuple[object, ...]:
    return (dict(graph.graph), list(graph.nodes(data=True)), list(graph.edges(keys=True, data=True)))  # type: ignore[attr-defined]


def test_collapsed_graph_equals_the_full_graph_collapsed(design: Design) -> None:
    resolutions = safe_resolutions(design)
    full = build_graph(design, resolutions=resolutions)
    assert needs_collapse(full) and opens_collapsed(design, resolutions)
    expected, expected_positions = level_of_detail(full, place(full, saved_positions(design.layout)), ())
    shown, positions = collapsed_graph(design, resolutions=resolutions)
    assert dump(shown) == dump(expected)
    assert list(positions.items()) == list(expected_positions.items())
    small, _ = collapsed_graph(design, resolutions=resolutions, max_links=5)  # ties broken as the full graph's
    assert dump(small) == dump(collapse_graph(full, (), max_links=5))


def test_canvas_without_the_full_graph_is_the_same(design: Design) -> None:
    resolutions = safe_resolutions(design)
    full = build_graph(design, resolutions=resolutions)
    for highlight in (Highlight(), highlight_agent(full, design.agents[0].key)):
        fast = collapsed_canvas_view(design, resolutions, highlight, 500)
        assert fast == canvas_view(design, full, GraphFilter(), highlight, frozenset(), 500)


def test_filter_choices_without_the_graph(design: Design) -> None:
    resolutions = safe_resolutions(design)
    assert filter_options_of(design, resolutions) == filter_options(build_graph(design, resolutions=resolutions))


def test_a_small_design_is_drawn_in_full() -> None:
    design = synthetic_design(20, 2, 2, 10, seed=0)
    resolutions = safe_resolutions(design)
    assert not opens_collapsed(design, resolutions)
    assert collapsed_canvas_view(design, resolutions, Highlight()) is None
    assert filter_options_of(design, resolutions) == filter_options(build_graph(design))


# --- lint's trust-pair counts ----------------------------------------------------------------------------


def random_design(seed: int) -> Design:
    """A small design where tenants and protocols vary a lot: empty sets, shared and disjoint ones, refs to
    groups and to names two namespaces share, edges with and without a protocol, edges that share a key."""
    rng = random.Random(seed)
    tenants = ["t1", "t2", "t3"]
    protocols = ["http", "ws", "grpc"]
    capabilities = ["pay", "refund", "track"]
    agents = []
    for i in range(rng.randint(2, 14)):
        namespace = rng.choice(["default", "default", "other"])
        chosen = rng.sample(protocols, rng.randint(0, 2))
        agents.append(
            Agent(
                name=f"a{i % 9}",
                namespace=namespace,
                supported_tenants=tuple(rng.sample(tenants, rng.randint(0, 2))),
                endpoints=tuple(Endpoint(protocol=p, uri=f"{p}://a{i}:1") for p in chosen),
                capabilities=tuple(
                    Capability(name=c, version="1.0.0") for c in rng.sample(capabilities[:2], rng.randint(0, 2))
                ),
            )
        )
    names = sorted({a.name for a in agents})
    groups = [Group(name=f"g{i}", members=tuple(rng.sample(names, rng.randint(1, len(names))))) for i in range(3)]
    refs = [*names, *(f"group:{g.name}" for g in groups), "missing"]
    edges = [
        TrustEdge(
            caller=rng.choice(refs),
            callee=rng.choice(refs),
            protocol=rng.choice(["", "", *protocols]),
            capabilities=tuple(rng.sample(capabilities, rng.choice([0, 0, 1, 2]))),  # "track": nobody offers it
        )
        for _ in range(rng.randint(1, 25))
    ]
    return Design(name=f"random-{seed}", agents=tuple(agents), groups=tuple(groups), trust_edges=tuple(edges))


@pytest.mark.parametrize("seed", range(300))
def test_trust_pair_counts_and_unknown_targets_equal_the_findings(seed: int) -> None:
    design = random_design(seed)
    index = RefIndex(design, safe_resolutions(design))
    found = trust_findings(design, index)
    listed = Counter(f.code for f in found)
    assert trust_pair_counts(design, index) == {code: listed[code] for code in PAIR_CODES}
    assert unknown_target_findings(design, index) == [f for f in found if f.code == "unknown-trust-target"]
    assert self_trust_findings(design, index) == [f for f in found if f.code == "self-trust"]


def test_the_lean_lint_lists_every_finding_but_the_trust_pair_ones() -> None:
    """The Designer's lean lint (large designs: trust-pair findings counted, not listed) left out the
    `self-trust` findings, which `lmos-studio lint` reports. It lists them now: every finding of lint (but
    ambiguity) except `PAIR_CODES`."""
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.ui import resources
    from tests.conftest import SAMPLES

    large = tricky()
    one = large.agents[0].key  # its name is shared with an agent of another namespace
    self_edge = TrustEdge(caller=one, callee=one, protocol="http")
    for design in (read_design(SAMPLES / "faulty.yaml"), large.replace(trust_edges=(*large.trust_edges, self_edge))):
        lean, counts = resources.lint_findings_lean(design)
        listed = resources.lint_findings_without_ambiguity(design)
        assert lean == [f for f in listed if f.code not in PAIR_CODES]
        assert counts == {code: sum(f.code == code for f in listed) for code in PAIR_CODES}
        assert any(f.code == "self-trust" for f in lean)


def test_trust_pair_counts_of_larger_designs() -> None:
    for design in (tricky(), synthetic_design(600, 30, 20, 1800, seed=2)):
        index = RefIndex(design, safe_resolutions(design))
        listed = Counter(f.code for f in trust_findings(design, index))
        counts = trust_pair_counts(design, index)
        assert counts == {code: listed[code] for code in PAIR_CODES}
        assert sum(counts.values()) > 0
