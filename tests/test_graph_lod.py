"""Level of detail and kept positions: large graphs open collapsed into aggregates with counts; dragged
positions are reused and new nodes appear beside their cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from lmos_studio.errors import EditError
from lmos_studio.formats.design_file import read_design, write_design
from lmos_studio.graph import (
    AGENT,
    AGGREGATE,
    LOOSE,
    TRUST,
    aggregate_node,
    build_graph,
    cluster_ids,
    collapse_graph,
    layout,
    level_of_detail,
    needs_collapse,
    place,
    saved_positions,
    with_positions,
)
from lmos_studio.model import Agent
from lmos_studio.synthetic import synthetic_design
from lmos_studio.view import render_html
from tests.conftest import run_cli


@pytest.fixture(scope="module")
def big() -> object:
    return build_graph(synthetic_design(400, 20, 10, 1200, seed=1))


def test_large_graph_collapses_with_counts(big: object) -> None:
    assert needs_collapse(big)  # type: ignore[arg-type]
    shown, positions = level_of_detail(big, layout(big))  # type: ignore[arg-type]
    kinds = {d["kind"] for _, d in shown.nodes(data=True)}
    assert AGENT not in kinds and AGGREGATE in kinds
    agents = sum(1 for _, d in big.nodes(data=True) if d["kind"] == AGENT)  # type: ignore[attr-defined]
    assert sum(d["count"] for _, d in shown.nodes(data=True)) == agents  # every agent counted once
    trust = sum(1 for *_, k in big.edges(data="kind") if k == TRUST)  # type: ignore[attr-defined]
    drawn = sum(d.get("count", 1) for *_, d in shown.edges(data=True) if d["kind"] == TRUST)
    assert drawn + shown.graph["hidden_links"] <= trust  # edges inside one aggregate disappear
    assert set(positions) == set(shown)


def test_expanding_a_cluster_shows_its_members(big: object) -> None:
    cluster = next(n for n, d in big.nodes(data=True) if d["kind"] == "channel")  # type: ignore[attr-defined]
    shown, _ = level_of_detail(big, layout(big), {cluster})  # type: ignore[arg-type]
    assert cluster in shown and aggregate_node(cluster) not in shown
    homes = {n for n, d in big.nodes(data=True) if d.get("home") == cluster}  # type: ignore[attr-defined]
    assert homes and homes <= set(shown)
    assert aggregate_node(LOOSE) not in shown or shown.nodes[aggregate_node(LOOSE)]["count"] > 0


def test_links_are_capped(big: object) -> None:
    shown = collapse_graph(big, max_links=5)  # type: ignore[arg-type]
    merged = [d for *_, d in shown.edges(data=True) if d["kind"] == TRUST and "count" in d]
    assert len(merged) <= 5 and shown.graph["hidden_links"] > 0


def test_small_graph_is_not_collapsed() -> None:
    graph = build_graph(synthetic_design(20, 2, 2, 10, seed=0))
    shown, _ = level_of_detail(graph, layout(graph))
    assert shown is graph


def test_cluster_names_and_errors(big: object) -> None:
    name = next(d["name"] for _, d in big.nodes(data=True) if d["kind"] == "group")  # type: ignore[attr-defined]
    assert cluster_ids(big, [name, LOOSE]) == {f"group:{name}", LOOSE}  # type: ignore[arg-type]
    with pytest.raises(EditError, match="no group or channel"):
        cluster_ids(big, ["nope"])  # type: ignore[arg-type]


def test_saved_positions_are_kept_and_new_agents_sit_by_their_cluster() -> None:
    design = synthetic_design(30, 2, 2, 10, seed=0)
    graph = build_graph(design)
    computed = layout(graph)
    cluster = next(n for n, d in graph.nodes(data=True) if d["kind"] != AGENT)
    member = next(n for n, d in graph.nodes(data=True) if d.get("home") == cluster)
    laid = with_positions({}, {cluster: (5000.0, 5000.0), "agent:x/y": (1.0, 2.0)})
    assert saved_positions(laid) == {cluster: (5000.0, 5000.0), "agent:x/y": (1.0, 2.0)}
    assert saved_positions({"positions": {"a": ["x", 1], "b": [True, 2]}}) == {}
    placed = place(graph, saved_positions(laid))
    assert placed[cluster] == (5000.0, 5000.0)
    dx, dy = computed[member][0] - computed[cluster][0], computed[member][1] - computed[cluster][1]
    assert placed[member] == (round(5000 + dx, 1), round(5000 + dy, 1))


def test_graph_html_of_a_large_design_starts_collapsed(tmp_path: Path) -> None:
    design = synthetic_design(1000, 50, 50, 3000, seed=0)
    path = tmp_path / "large.yaml"
    write_design(design.replace(agents=(*design.agents, Agent(name="zz-new"))), path)
    out = tmp_path / "g.html"
    result = run_cli("graph", str(path), "--html", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "collapsed clusters holding 1001 agents" in text
    assert '"agent:' not in text  # no agent node is drawn
    read = read_design(path)  # drawn from the design's aggregates: the same page as collapsing its full graph
    network = build_graph(read)
    shown, positions = level_of_detail(network, place(network, saved_positions(read.layout)))
    assert text == render_html(shown, positions=positions, title=read.name)
    full = tmp_path / "full.html"
    assert run_cli("graph", str(path), "--html", str(full), "--full").returncode == 0
    assert full.stat().st_size > out.stat().st_size
    one = tmp_path / "one.html"
    assert run_cli("graph", str(path), "--html", str(one), "--expand", "loose").returncode == 0
    assert '"agent:default/zz-new"' in one.read_text()
