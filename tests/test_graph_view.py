"""Graph invariants, deterministic layout, filters, highlights, DOT; the HTML view is offline and escaped."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.formats.design_file import read_design
from lmos_studio.graph import (
    AGENT,
    MEMBER,
    MEMBER_KEY,
    TRUST,
    GraphFilter,
    build_graph,
    filter_graph,
    filter_options,
    highlight_agent,
    highlight_objects,
    highlight_route,
    layout,
    to_dot,
)
from lmos_studio.model import Design, TrustEdge
from lmos_studio.synthetic import synthetic_design
from lmos_studio.view import build_network, render_html, tooltip
from tests.conftest import ACME, SAMPLES

Box = tuple[float, float, float, float]
PAYLOAD = "<img src=x onerror=alert(1)>"


def check_invariants(design: Design) -> None:
    graph = build_graph(design)
    agents = [n for n, kind in graph.nodes(data="kind") if kind == AGENT]
    assert sorted(agents) == sorted(f"agent:{a.key}" for a in design.agents)  # one node per agent
    assert len(agents) == len(set(agents))
    for u, v in graph.edges():  # no edge to an unknown node (networkx would add it silently)
        assert "kind" in graph.nodes[u] and "kind" in graph.nodes[v]
    positions = layout(graph)
    assert set(positions) == set(graph.nodes)
    assert len(set(positions.values())) == len(positions)  # no two nodes on the same spot
    assert crossings(graph, positions) == []  # nor their labels over each other


@pytest.mark.parametrize("path", [ACME, SAMPLES / "faulty.yaml"], ids=lambda p: p.name)
def test_sample_graph_invariants(path: Path) -> None:
    check_invariants(read_design(path))


@settings(max_examples=15, deadline=None)
@given(
    n_agents=st.integers(0, 40),
    n_channels=st.integers(0, 6),
    n_groups=st.integers(0, 6),
    n_edges=st.integers(0, 60),
    seed=st.integers(0, 1000),
)
def test_synthetic_graph_invariants(n_agents: int, n_channels: int, n_groups: int, n_edges: int, seed: int) -> None:
    check_invariants(synthetic_design(n_agents, n_channels, n_groups, n_edges, seed=seed))


def test_unknown_trust_targets_are_left_out() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    graph = build_graph(design)
    keys = {k for _, _, k in graph.edges(keys=True)}
    assert "trust:billing-agent->ghost-agent" not in keys
    assert "trust:contract-agent->billing-agent[view-bill]" in keys
    assert "ghost-agent" not in graph and "agent:default/ghost-agent" not in graph


def test_group_trust_and_membership_edges() -> None:
    graph = build_graph(read_design(ACME))
    assert graph.has_edge(
        "group:billing-domain",
        "agent:default/contract-agent",
        "trust:group:billing-domain->contract-agent[view-contract]",
    )
    assert graph.has_edge("group:billing-domain", "agent:default/billing-agent-stable", MEMBER_KEY)
    assert graph.has_edge("channel:default/acme-ivr-canary", "agent:default/billing-agent-canary", MEMBER_KEY)
    data = graph.get_edge_data("agent:default/contract-agent", "agent:default/billing-agent-stable")
    (edge,) = data.values()
    assert edge["kind"] == TRUST and edge["label"] == "view-bill (http)"


def test_layout_is_deterministic() -> None:
    design = synthetic_design(200, 10, 10, 300, seed=3)
    assert layout(build_graph(design)) == layout(build_graph(design.model_copy(deep=True)))


def test_filters() -> None:
    graph = build_graph(read_design(ACME))
    options = filter_options(graph)
    assert options["subset"] == ["canary", "stable"] and "acme" in options["tenant"]
    canary = filter_graph(graph, GraphFilter(subset="canary"))
    agents = {n for n, k in canary.nodes(data="kind") if k == AGENT}
    assert agents == {"agent:default/billing-agent-canary", "agent:default/contract-agent-canary"}
    assert "channel:default/acme-web-stable" not in canary and "channel:default/acme-ivr-canary" in canary
    one_group = filter_graph(graph, GraphFilter(group="group:billing-domain"))
    assert set(one_group) == {
        "group:billing-domain",
        "agent:default/billing-agent-stable",
        "agent:default/billing-agent-canary",
    }
    assert filter_graph(graph, GraphFilter()) is graph
    subset = filter_graph(graph, GraphFilter(agents=frozenset({"agent:lmos-demo/weather-agent"})))
    assert {n for n, k in subset.nodes(data="kind") if k == AGENT} == {"agent:lmos-demo/weather-agent"}
    for sub in (canary, one_group, subset):
        assert all(u in sub and v in sub for u, v in sub.edges())


def test_highlights() -> None:
    graph = build_graph(read_design(ACME))
    lit = highlight_agent(graph, "contract-agent")
    assert lit.focus == "agent:default/contract-agent"
    assert "agent:default/billing-agent-stable" in lit.nodes and "group:billing-domain" in lit.nodes
    route = highlight_route(graph, agent="billing-agent-stable", capability="view-bill", channel="acme-web-stable")
    assert route.nodes == {"agent:default/billing-agent-stable", "channel:default/acme-web-stable"}
    assert route.edges == {("channel:default/acme-web-stable", "agent:default/billing-agent-stable", MEMBER_KEY)}
    assert "view-bill" in route.note
    assert not highlight_agent(graph, "ghost")
    found = highlight_objects(graph, ["contract-agent->billing-agent-stable[view-bill]", "capability:x"])
    assert found.nodes == {"agent:default/contract-agent", "agent:default/billing-agent-stable"}


def test_dot_quotes_everything() -> None:
    design = read_design(ACME)
    design = design.replace(
        trust_edges=(TrustEdge(caller="contract-agent", callee="billing-agent-stable", capabilities=('say "hi"',)),)
    )
    dot = to_dot(build_graph(design))
    assert dot.startswith('digraph "acme" {') and dot.rstrip().endswith("}")
    assert 'label="say \\"hi\\""' in dot


def test_html_is_offline_and_escaped() -> None:
    design = read_design(SAMPLES / "faulty.yaml")
    html = render_html(build_graph(design))
    assert not re.search(r"""(src|href)\s*=\s*["']?https?:""", html)  # nothing fetched from the network
    assert "<link" not in html
    data = json.loads(re.search(r"var nodeData = (\[.*?\]);\n", html).group(1))  # type: ignore[union-attr]
    billing = next(n for n in data if n["id"] == "agent:default/billing-agent")
    assert "&lt;img src=x onerror=alert(1)&gt;" in billing["title"]
    assert PAYLOAD not in billing["title"]
    assert PAYLOAD not in html.split("var nodeData")[1]  # also not raw anywhere in the data


def test_labels_are_plain_text_as_written() -> None:
    """Labels went in vis-network's "html" label mode with `&` and `<` escaped: the canvas drew an agent named
    `<script>` as `&lt;script>` (vis-network 9.1.2 decodes no entity there) and `<b>x</b>` in bold. Labels are
    plain text in the default label mode now (canvas and page); the page's JSON still never holds a raw `<`."""
    design = read_design(SAMPLES / "faulty.yaml")
    name = "<b>lonely</b> & <script>"
    design = design.replace(
        agents=tuple(a.model_copy(update={"name": name}) if a.name == "lonely-agent" else a for a in design.agents)
    )
    graph = build_graph(design)
    node = next(n for n in build_network(graph).nodes if n["id"] == f"agent:default/{name}")
    assert node["label"] == name
    page = render_html(graph)
    options = json.loads(re.search(r"var options = (\{.*?\});\n", page).group(1))  # type: ignore[union-attr]
    assert "multi" not in options["nodes"]["font"] and "multi" not in options["edges"]["font"]
    assert "multi" not in page.split("var options")[1]  # nor for the clusters the page's buttons make
    assert name not in page and "<script>" not in page.split("var nodeData")[1]  # JSON in a script: \u003c


def test_tooltip_escaping() -> None:
    assert tooltip("<x>", [("k", PAYLOAD), ("empty", "")]) == (
        '<b>&lt;x&gt;</b><br><span class="k">k:</span> &lt;img src=x onerror=alert(1)&gt;'
    )


def test_large_design_turns_physics_off() -> None:
    big = render_html(build_graph(synthetic_design(200, 5, 5, 100)))
    small = render_html(build_graph(synthetic_design(10, 2, 2, 10)))

    def physics(html: str) -> bool:
        options = json.loads(re.search(r"var options = (\{.*?\});\n", html).group(1))  # type: ignore[union-attr]
        return bool(options["physics"]["enabled"])

    assert not physics(big)
    assert physics(small)


def test_a_name_given_in_two_namespaces_is_labelled_with_its_namespace() -> None:
    """acme has two channels named acme-web-stable (default and lmos-demo): the canvas drew both as
    'acme-web-stable'; now those two say namespace/name and every other label stays the bare name."""
    graph = build_graph(read_design(ACME))
    labels = {n: d["label"] for n, d in graph.nodes(data=True)}
    assert labels["channel:default/acme-web-stable"] == "default/acme-web-stable"
    assert labels["channel:lmos-demo/acme-web-stable"] == "lmos-demo/acme-web-stable"
    assert labels["channel:default/acme-ivr-stable"] == "acme-ivr-stable"
    assert labels["agent:default/billing-agent-stable"] == "billing-agent-stable"
    twin = read_design(ACME).agent("billing-agent-stable")
    assert twin is not None
    design = read_design(ACME)
    design = design.model_copy(update={"agents": (*design.agents, twin.model_copy(update={"namespace": "other"}))})
    labels = dict(build_graph(design).nodes(data="label"))
    assert labels["agent:other/billing-agent-stable"] == "other/billing-agent-stable"
    assert labels["agent:default/billing-agent-stable"] == "default/billing-agent-stable"


# What vis-network draws, as measured in Chromium (getBoundingBox, 12 px labels): 5.2-6.2 px a character, a label
# 3 px under a dot (size 12) or hexagon (18) and 12 px high; a group's box 10 px wider than its label, 34 px high.
CHAR, LABEL_GAP, LABEL_HIGH = 6.2, 3.0, 12.0


def drawn_boxes(graph: nx.MultiDiGraph, positions: Mapping[str, tuple[float, float]]) -> dict[str, list[Box]]:
    """Per node, the boxes it draws on the canvas: its shape, and its label unless that is inside the shape."""
    boxes: dict[str, list[Box]] = {}
    for node, data in graph.nodes(data=True):
        x, y = positions[node]
        half = len(str(data["label"])) * CHAR / 2
        if data["kind"] == "group":
            boxes[node] = [(x - half - 5, y - 17, x + half + 5, y + 17)]
            continue
        size = 12.0 if data["kind"] == AGENT else 18.0
        label_top = y + size + LABEL_GAP
        boxes[node] = [
            (x - size, y - size, x + size, y + size),
            (x - half, label_top, x + half, label_top + LABEL_HIGH),
        ]
    return boxes


def crossings(graph: nx.MultiDiGraph, positions: Mapping[str, tuple[float, float]]) -> list[tuple[str, str]]:
    """Pairs of nodes whose shapes or labels overlap (all pairs: for graphs of a few hundred nodes)."""
    boxes = list(drawn_boxes(graph, positions).items())
    return [
        (a, b)
        for i, (a, mine) in enumerate(boxes)
        for b, theirs in boxes[i + 1 :]
        if any(p[0] < q[2] and q[0] < p[2] and p[1] < q[3] and q[1] < p[3] for p in mine for q in theirs)
    ]


def _segment_crosses(box: Box, start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether the straight segment from `start` to `end` passes through `box` (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    low, high = 0.0, 1.0
    for step, room in (
        (-(x1 - x0), x0 - box[0]),
        (x1 - x0, box[2] - x0),
        (-(y1 - y0), y0 - box[1]),
        (y1 - y0, box[3] - y0),
    ):
        if step == 0:
            if room < 0:
                return False
            continue
        t = room / step
        if step < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low >= high:
            return False
    return True


def member_edges_across_own_label(
    graph: nx.MultiDiGraph, positions: Mapping[str, tuple[float, float]]
) -> list[tuple[str, str]]:
    """(cluster, member) of the membership edges whose line passes through the cluster's own label (a
    channel's label is under its hexagon; a group's is inside its box, which edges start at the border of)."""
    boxes = drawn_boxes(graph, positions)
    return [
        (cluster, member)
        for cluster, member, kind in graph.edges(data="kind")
        if kind == MEMBER
        and len(boxes[cluster]) > 1
        and _segment_crosses(boxes[cluster][1], positions[cluster], positions[member])
    ]


@pytest.mark.parametrize(
    "design",
    [read_design(ACME), synthetic_design(80, 6, 6, 40, seed=2), synthetic_design(150, 3, 2, 0, seed=5)],
    ids=["acme", "synthetic-80", "synthetic-150-few-clusters"],
)
def test_labels_do_not_cross_nodes_or_labels(design: Design) -> None:
    """The canvas put the members of a cluster on rings 70 px apart whatever their labels: on acme the two lower
    members of product-recommender sat across its label and their ~110 px labels overlapped, and 2-member groups
    put their members' labels over each other. Members now sit a label wide and a label high apart, clear of
    their cluster's shape and label, and clusters are as far apart as what they draw."""
    graph = build_graph(design)
    assert crossings(graph, layout(graph)) == []


@pytest.mark.parametrize(
    "design",
    [read_design(ACME), synthetic_design(80, 6, 6, 40, seed=2), synthetic_design(150, 3, 2, 0, seed=5)],
    ids=["acme", "synthetic-80", "synthetic-150-few-clusters"],
)
def test_member_edges_do_not_run_through_their_cluster_s_label(design: Design) -> None:
    """A channel's member placed straight under it (or, under a wide label, beside that cell) was joined to it by
    a dashed membership edge through the channel's own label (on acme: lmos-demo/acme-web-stable to news-agent;
    9 such edges on the 150-agent design). Cells whose edge would cross that label are skipped now, as cells
    crossing the label itself were."""
    graph = build_graph(design)
    assert member_edges_across_own_label(graph, layout(graph)) == []
