"""The graph of a design as a self-contained interactive HTML page (vis-network nodes and edges, inlined).

Offline by construction: the vis-network script and style shipped inside the pyvis package are inlined,
and nothing else is referenced. Registry text is untrusted: tooltips are HTML in which every value is
`html.escape`d (the page turns them into elements, so escaped text stays text); labels are plain text drawn
on the canvas as written (vis-network's default label mode: no markup, no entities; its "html" mode drew
`<b>` in a name as bold and, its entity decoding broken in 9.1.2, `&lt;` as those four characters).
"""

from __future__ import annotations

import html
import importlib.util
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import networkx as nx

from lmos_studio.aggregate import collapsed_graph, opens_collapsed
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.graph import (
    AGENT,
    AGENT_SIZE,
    AGGREGATE,
    CHANNEL,
    CHANNEL_SIZE,
    GROUP,
    LOOSE,
    TRUST,
    GraphFilter,
    Highlight,
    Position,
    filter_graph,
    layout,
    level_of_detail,
    needs_collapse,
    place,
    saved_positions,
)
from lmos_studio.model import Design
from lmos_studio.redact import redact_text
from lmos_studio.resolve import Resolution

TEMPLATES = Path(__file__).parent / "templates"


def _package_dir(name: str) -> Path:
    """Where an installed package is, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"{name} is not installed: pip install {name}")
    return Path(next(iter(spec.submodule_search_locations)))


# vis-network shipped with pyvis 0.3.2, found without importing pyvis (its package imports IPython: ~0.4 s)
VIS_DIR = _package_dir("pyvis") / "lib" / "vis-9.1.2"
PHYSICS_MAX_NODES = 150  # above this the layout is final (no physics); below, physics tidies it once
EDGE_LABELS_MAX = 300  # edge labels clutter and slow the canvas on larger graphs: tooltips only then
DEFAULT_HEIGHT_PX = 640
COLORS = {
    "stable": "#4e79a7",
    "canary": "#f28e2b",
    "group": "#d4c4f5",
    "resolved": "#8cd17d",
    "unresolved": "#ff9d9a",
    "trust": "#555555",
    "member": "#bbbbbb",
    "highlight": "#d62728",
}
DIMMED_OPACITY = 0.25  # nodes outside a highlight fade to this


def tooltip(heading: str, rows: Iterable[tuple[str, str]]) -> str:
    """Tooltip HTML: our own tags around `html.escape`d text only, with credentials masked (`redact_text`: a
    description may hold a link with user-info or a token)."""
    lines = [f"<b>{html.escape(redact_text(heading))}</b>"]
    lines += [f'<span class="k">{html.escape(k)}:</span> {html.escape(redact_text(v))}' for k, v in rows if v]
    return "<br>".join(lines)


def _join(values: Any) -> str:
    return ", ".join(str(v) for v in values) if values else ""


def _node_tooltip(node: str, data: Mapping[str, Any]) -> str:
    kind = data["kind"]
    if kind == AGENT:
        return tooltip(
            f"Agent {data['namespace']}/{data['name']}",
            [
                ("description", data["description"]),
                ("subset", data["subset"]),
                ("tenants", _join(data["tenants"]) or "(every tenant)"),
                ("channels", _join(data["channels"])),
                ("capabilities", _join(data["capabilities"])),
                ("protocols", _join(data["protocols"])),
                ("member of", _join(m.split(":", 1)[1] for m in data.get("member_of", ()))),
            ],
        )
    if kind == GROUP:
        return tooltip(f"Group {data['name']}", [("description", data["description"]), ("members", str(data["size"]))])
    if kind == AGGREGATE:
        what = {GROUP: "Group", CHANNEL: "Channel", LOOSE: "Agents"}.get(str(data["of"]), "")
        return tooltip(
            f"{what} {data['name']} (collapsed)",
            [("agents inside", str(data["count"])), ("expand", "double-click to show its agents")],
        )
    return tooltip(
        f"Channel {data['namespace']}/{data['name']}",
        [
            ("labels", f"tenant={data['tenant']} channel={data['channel']} subset={data['subset']}"),
            ("status", data["status"]),
            ("wired agents", str(data["size"])),
            ("unresolved", _join(data["unresolved"])),
        ],
    )


def _node_style(data: Mapping[str, Any]) -> dict[str, Any]:
    kind = data["kind"]
    if kind == AGENT:
        return {
            "shape": "dot",
            "size": AGENT_SIZE,
            "color": COLORS["canary" if data["subset"] == "canary" else "stable"],
        }
    if kind == GROUP:
        return {"shape": "box", "color": COLORS["group"]}
    if kind == AGGREGATE:
        of = data["of"]
        color = COLORS["group"] if of == GROUP else COLORS["stable"] if of == LOOSE else COLORS[_status(data)]
        return {"shape": "database", "color": color, "size": 14 + min(30, int(data["count"]) ** 0.5 * 2)}
    status = "resolved" if data["status"] == "RESOLVED" else "unresolved"
    return {"shape": "hexagon", "size": CHANNEL_SIZE, "color": COLORS[status]}


def _status(data: Mapping[str, Any]) -> str:
    return "resolved" if data.get("status") == "RESOLVED" else "unresolved"


def _vis_options(physics: bool, edge_labels: bool) -> dict[str, Any]:
    return {
        "physics": {
            "enabled": physics,
            "stabilization": {"iterations": 200},
            "barnesHut": {"springLength": 120, "avoidOverlap": 0.3},
        },
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": not edge_labels},
        "nodes": {"font": {"size": 12}},  # labels are plain text (see the module docstring)
        "edges": {"smooth": False, "font": {"size": 10, "align": "middle"}},
        "layout": {"randomSeed": 0, "improvedLayout": False},  # positions come from graph.layout
    }


@dataclass
class Network:
    """What the page templates and the canvas take of a pyvis Network: vis-network node and edge options (as
    pyvis's Node and Edge build them: every edge here names its arrows), in order."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    node_ids: list[str] = field(default_factory=list)
    node_map: dict[str, dict[str, Any]] = field(default_factory=dict)


def build_network(
    graph: nx.MultiDiGraph,
    *,
    positions: Mapping[str, Position] | None = None,
    highlight: Highlight | None = None,
    physics: bool | None = None,
    height_px: int = DEFAULT_HEIGHT_PX,
) -> Network:
    """The vis-network nodes and edges of the graph: labels as written, escaped tooltips, fixed positions, highlight
    applied."""
    positions = positions if positions is not None else layout(graph)
    physics = graph.number_of_nodes() <= PHYSICS_MAX_NODES if physics is None else physics
    edge_labels = graph.number_of_edges() <= EDGE_LABELS_MAX
    net = Network()
    lit = highlight or Highlight()
    for node, data in graph.nodes(data=True):
        x, y = positions.get(node, (0.0, 0.0))
        style = _node_style(data)
        if lit:
            style |= (
                {"borderWidth": 4, "color": {"background": style["color"], "border": COLORS["highlight"]}}
                if node in lit.nodes
                else {"opacity": DIMMED_OPACITY}
            )
        _append_node(
            net,
            node,
            label=str(data["label"]),
            title=_node_tooltip(node, data),
            x=x,
            y=y,
            kind=data["kind"],
            home=data.get("home", ""),
            **style,
        )
    known = set(net.node_ids)
    for u, v, key, data in graph.edges(keys=True, data=True):
        if u in known and v in known:  # checked once here (pyvis's Network.add_edge scans its node list: O(n·e))
            net.edges.append({**_edge_style(u, v, key, data, lit, edge_labels), "from": u, "to": v})
    return net


def _append_node(net: Network, node: str, *, label: str, **options: Any) -> None:
    """What pyvis's `Network.add_node` does, without its duplicate check that scans a list (O(n) per node, so
    quadratic): networkx node ids are unique already."""
    shape, color = options.pop("shape", "dot"), options.pop("color", "#97c2fc")
    entry = {"color": color, **options, "id": node, "label": label or node, "shape": shape}  # pyvis's Node order
    net.nodes.append(entry)
    net.node_ids.append(node)
    net.node_map[node] = entry


def _edge_style(u: str, v: str, key: str, data: Mapping[str, Any], lit: Highlight, labels: bool) -> dict[str, Any]:
    trust = data["kind"] == TRUST
    if trust:
        title = tooltip(
            f"Trust {data['ref']}",
            [
                ("capabilities", _join(data["capabilities"]) or "(all)"),
                ("protocol", data["protocol"]),
                ("description", data["description"]),
            ],
        )
    else:
        title = tooltip("Member", [("wired capabilities", _join(data["capabilities"]))])
    if data.get("count", 1) > 1:
        title = tooltip(f"{data['count']} {'trust' if trust else 'membership'} edges", [])
    style: dict[str, Any] = {
        "id": f"{u}|{v}|{key}",
        "title": title,
        "arrows": "to" if trust else "",
        "dashes": not trust,
        "width": (1.5 if trust else 1) + min(6.0, (data.get("count", 1) - 1) ** 0.5),
        "color": COLORS["trust"] if trust else COLORS["member"],
    }
    if trust and labels and data.get("label"):
        style["label"] = str(data["label"])
    if lit:
        if (u, v, key) in lit.edges:
            style |= {"width": 4, "color": COLORS["highlight"]}
        else:
            style["color"] = {"color": style["color"], "opacity": DIMMED_OPACITY}
    return style


@gc_paused()  # the page's node and edge dicts of a large graph: no garbage while they are built
def render_html(
    graph: nx.MultiDiGraph,
    *,
    positions: Mapping[str, Position] | None = None,
    highlight: Highlight | None = None,
    physics: bool | None = None,
    height_px: int = DEFAULT_HEIGHT_PX,
    title: str = "",
) -> str:
    """A complete offline HTML page showing the graph (for st.components.v1.html or a file)."""
    net = build_network(graph, positions=positions, highlight=highlight, physics=physics, height_px=height_px)
    use_physics = graph.number_of_nodes() <= PHYSICS_MAX_NODES if physics is None else physics
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    counts = {kind: sum(1 for _, k in graph.nodes(data="kind") if k == kind) for kind in (AGENT, GROUP, CHANNEL)}
    hidden = sum(int(d["count"]) for _, d in graph.nodes(data=True) if d["kind"] == AGGREGATE)
    collapsed = sum(1 for _, k in graph.nodes(data="kind") if k == AGGREGATE)
    summary = (
        f"{counts[AGENT]} agents · {counts[GROUP]} groups · {counts[CHANNEL]} channels · "
        f"{sum(int(d.get('count', 1)) for *_, d in graph.edges(data=True) if d['kind'] == TRUST)} trust edges"
    )
    if collapsed:
        summary += f" · {collapsed} collapsed clusters holding {hidden} agents"
        summary += " (graph --expand NAME or --full draws their agents)"
    if graph.graph.get("hidden_links"):
        summary += f" · {graph.graph['hidden_links']} trust edges between collapsed clusters not drawn"
    return env.get_template("graph.html").render(
        title=title or str(graph.graph.get("name", "design")),
        height_px=height_px,
        vis_js=(VIS_DIR / "vis-network.min.js").read_text(encoding="utf-8"),
        vis_css=(VIS_DIR / "vis-network.css").read_text(encoding="utf-8"),
        nodes=net.nodes,
        edges=net.edges,
        options=_vis_options(use_physics, graph.number_of_edges() <= EDGE_LABELS_MAX),
        clusters=[n for n, k in graph.nodes(data="kind") if k in (GROUP, CHANNEL)],
        focus=(highlight.focus if highlight else ""),
        note=(highlight.note if highlight else ""),
        summary=summary,
        colors=COLORS,
    )


def canvas_payload(
    graph: nx.MultiDiGraph,
    *,
    positions: Mapping[str, Position],
    highlight: Highlight | None = None,
    height_px: int = DEFAULT_HEIGHT_PX,
    lod: bool = False,
) -> dict[str, Any]:
    """What the Designer's canvas draws, as JSON-ready data: nodes and edges (labels as written, escaped tooltips,
    positions fixed), the highlight's note and a one-line summary. No physics: positions are the user's."""
    net = build_network(graph, positions=positions, highlight=highlight, physics=False, height_px=height_px)
    keep = ("id", "label", "title", "x", "y", "kind", "shape", "size", "color", "borderWidth", "opacity")
    nodes = [{k: n[k] for k in keep if k in n} for n in net.nodes]
    hidden = sum(int(d["count"]) for _, d in graph.nodes(data=True) if d["kind"] == AGGREGATE)
    counts = {kind: sum(1 for _, k in graph.nodes(data="kind") if k == kind) for kind in (AGENT, GROUP, CHANNEL)}
    summary = f"{counts[AGENT] + hidden} agents · {counts[GROUP]} groups · {counts[CHANNEL]} channels"
    if hidden:
        summary += f" · {hidden} agents in collapsed clusters (double-click one to open it)"
    if graph.graph.get("hidden_links"):
        summary += f" · {graph.graph['hidden_links']} trust edges between collapsed clusters not drawn"
    lit = highlight or Highlight()
    return {
        "nodes": nodes,
        "edges": list(net.edges),
        "note": lit.note,
        "focus": lit.focus,
        "summary": summary,
        "height": height_px,
        "lod": lod,
    }


def canvas_view(
    design: Design,
    graph: nx.MultiDiGraph,
    flt: GraphFilter,
    highlight: Highlight,
    expanded: frozenset[str],
    height_px: int = DEFAULT_HEIGHT_PX,
) -> dict[str, Any]:
    """The Designer canvas's data for a design and its (full) graph: saved positions, the filter, the level
    of detail (collapsed above 150 nodes but for `expanded`), the highlight; with a version for the browser."""
    positions = place(graph, saved_positions(design.layout))
    shown = filter_graph(graph, flt)
    lod = needs_collapse(shown)
    shown, positions = level_of_detail(shown, positions, expanded if lod else None)
    data = canvas_payload(shown, positions=positions, highlight=highlight, height_px=height_px, lod=lod)
    data["version"] = _version(design, flt, highlight, expanded)
    return data


def collapsed_canvas_view(
    design: Design, resolutions: Sequence[Resolution], highlight: Highlight, height_px: int = DEFAULT_HEIGHT_PX
) -> dict[str, Any] | None:
    """`canvas_view` with no filter and no cluster opened, for a design whose canvas opens collapsed, without
    its full graph (`aggregate.collapsed_graph`: one pass over the design); None when the design is drawn in
    full (then use `canvas_view`)."""
    if not opens_collapsed(design, resolutions):
        return None
    shown, positions = collapsed_graph(design, resolutions=resolutions)
    data = canvas_payload(shown, positions=positions, highlight=highlight, height_px=height_px, lod=True)
    data["version"] = _version(design, GraphFilter(), highlight, frozenset())
    return data


def _version(design: Design, flt: GraphFilter, highlight: Highlight, expanded: frozenset[str]) -> str:
    return f"{design.digest()[:16]}:{hash((flt, highlight, expanded)) & 0xFFFFFFFF:x}"
