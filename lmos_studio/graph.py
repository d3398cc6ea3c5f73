"""A design as a networkx graph: agents, custom groups and Channels as nodes; trust and membership as edges.

Also filters (tenant, channel label, subset, group, a set of agents), a deterministic layout computed in
Python (clusters on a grid, members around them a label apart: O(n)), highlights for the Playground and lint,
and DOT text. Node ids: `agent:<ns>/<name>`, `group:<name>`, `channel:<ns>/<name>`; trust edges have the
key `trust:<edge key>`, membership edges the key `member`. No HTML here (see view.py).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from lmos_studio.errors import EditError
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.model import CHANNEL_PREFIX, GROUP_PREFIX, LAYOUT_POSITIONS, Agent, Channel, Design, TrustEdge
from lmos_studio.resolve import Resolution
from lmos_studio.trust import RefIndex, safe_resolutions
from lmos_studio.visible import SHOWN_CHARS, cut

AGENT, GROUP, CHANNEL = "agent", "group", "channel"
TRUST, MEMBER = "trust", "member"
MEMBER_KEY = "member"
# What the canvas draws (view.py, ui/canvas.js), for a layout in which labels do not cross nodes or labels
AGENT_SIZE = 12  # radius of an agent's dot, px
CHANNEL_SIZE = 18  # radius of a channel's hexagon, px
# measured in vis-network 9.1.2, the copy pyvis ships (tests/test_canvas_browser.py reads each node's shape and
# label boxes): a label's top is 10 px under a dot or hexagon, its line 12 px high; a group's box reaches 11 px
# beyond its label each way
LABEL_OFFSET = 10.0  # px from a dot's or hexagon's edge down to its label
LABEL_LINE_PX = 15.0  # height of a one-line label in the 12 px font (12 drawn, 3 to spare)
BOX_PADDING = 11.0  # px from a group's label to the edge of its box
CHAR_PX, UPPER_CHAR_PX, WIDE_CHAR_PX, FULL_CHAR_PX = 7.0, 9.0, 11.0, 13.0  # estimated label widths a character
LABEL_GAP_X = 16.0  # px between the labels of two agents side by side
LABEL_GAP_Y = 12.0  # px between an agent's label and the dot under it (less crowds a group's box between two)
CLEARANCE = 4.0  # px at least between a cluster's shape or label and its members'
CELL_MARGIN = 80.0  # px between what two clusters draw

Position = tuple[float, float]


def agent_node(agent: Agent) -> str:
    return f"{AGENT}:{agent.key}"


def channel_node(channel: Channel) -> str:
    return f"{CHANNEL}:{channel.key}"


def group_node(name: str) -> str:
    return f"{GROUP}:{name}"


def trust_ref(design: Design, node: str) -> str:
    """The trust-edge ref a graph node stands for: an agent by its name, a channel as `channel:<name>`, but
    either by `ns/name` when another namespace has one of that name (a bare name names them all, so an edge
    drawn to one would trust every one); a group as `group:<name>`. EditError for a collapsed cluster."""
    what, _, rest = node.partition(":")
    namespace, _, name = rest.rpartition("/")
    if what == AGENT:
        shared = sum(1 for a in design.agents if a.name == name) > 1
        return rest if shared and namespace else name
    if what == GROUP:
        return node
    if what == CHANNEL:
        shared = sum(1 for c in design.channels if c.name == name) > 1
        return CHANNEL_PREFIX + (rest if shared and namespace else name)
    raise EditError(f"{node} cannot be the end of a trust edge: expand the cluster and connect its agents")


def trust_key(edge_key: str) -> str:
    return f"{TRUST}:{edge_key}"


@gc_paused()  # millions of node and edge dicts, no garbage: full collections would re-walk the growing graph
def build_graph(design: Design, *, resolutions: Sequence[Resolution] | None = None) -> nx.MultiDiGraph:
    """The graph of a design. Channel membership comes from resolution (wired agents); trust edges whose
    caller or callee names nothing are left out (lint reports them as unknown-trust-target).

    Linear in agents + wires + trust edges: node ids and the nodes a ref names are computed once each."""
    resolutions = list(resolutions) if resolutions is not None else safe_resolutions(design)
    index = RefIndex(design, resolutions)
    graph = nx.MultiDiGraph(name=design.name)
    labels = agent_labels(design.agents)
    for agent in design.agents:
        node = agent_node(agent)
        graph.add_node(
            node,
            kind=AGENT,
            label=labels[node],
            name=agent.name,
            namespace=agent.namespace,
            subset=agent.subset,
            tenants=agent.supported_tenants,
            channels=agent.supported_channels,
            description=agent.description,
            capabilities=tuple(f"{c.name} {c.version}" for c in agent.capabilities),
            protocols=agent.protocols,
            groups=(),
            member_of=(),
        )
    for node, data in cluster_nodes(design, resolutions):
        graph.add_node(node, **data)
    homes: dict[str, str] = {}
    for cluster, member, capabilities in memberships(design, resolutions, index):
        _add_membership(graph, cluster, member, label="", capabilities=capabilities)
        homes.setdefault(member, cluster)
    for sources, targets, edge in trust_links(design, index):
        key, attrs = trust_key(edge.key), trust_attrs(edge)
        graph.add_edges_from((s, t, key, attrs) for s in sources for t in targets if s != t)
    for node, home in homes.items():
        graph.nodes[node]["home"] = home
    return graph


def agent_labels(agents: Sequence[Agent]) -> dict[str, str]:
    """Each agent node's canvas label: its name, or namespace/name when another agent has that name too."""
    repeated = _repeated(agent.name for agent in agents)
    return {agent_node(a): a.key if a.name in repeated else a.name for a in agents}


def _repeated(names: Iterable[str]) -> set[str]:
    """The names given more than once (objects of one kind in different namespaces): the canvas labels those
    namespace/name, so two `acme-web-stable` channels are not drawn as the same word."""
    seen: set[str] = set()
    twice: set[str] = set()
    for name in names:
        (twice if name in seen else seen).add(name)
    return twice


def cluster_nodes(design: Design, resolutions: Sequence[Resolution]) -> Iterator[tuple[str, dict[str, object]]]:
    """The group and channel nodes of the graph with their attributes, groups first, in graph order."""
    for group in design.groups:
        yield (
            group_node(group.name),
            {
                "kind": GROUP,
                "label": group.name,
                "name": group.name,
                "description": group.description,
                "size": len(group.members),
            },
        )
    repeated = _repeated(r.channel.name for r in resolutions)
    for resolution in resolutions:
        channel = resolution.channel
        yield (
            channel_node(channel),
            {
                "kind": CHANNEL,
                "label": f"{channel.namespace}/{channel.name}" if channel.name in repeated else channel.name,
                "name": channel.name,
                "namespace": channel.namespace,
                "tenant": channel.tenant or "",
                "channel": channel.channel or "",
                "subset": channel.subset,
                "status": resolution.status,
                "size": len(resolution.agents),
                "unresolved": tuple(u.required.name for u in resolution.unresolved),
            },
        )


def memberships(
    design: Design, resolutions: Sequence[Resolution], index: RefIndex, *, capabilities: bool = True
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(cluster node, agent node, wired capabilities) of every membership edge, in graph order: group members
    that exist, then the agents resolution wires into each channel (`capabilities=False`: none listed)."""
    for group in design.groups:
        node = group_node(group.name)
        for member in group.members:
            for agent in index.agents_named(member):
                yield node, agent_node(agent), ()
    for resolution in resolutions:
        node = channel_node(resolution.channel)
        caps: dict[str, list[str]] = {}  # agent key → what it provides here, in wire order
        if capabilities:
            for wire in resolution.wires:
                caps.setdefault(wire.agent.key, []).append(f"{wire.provided.name} {wire.provided.version}")
        for agent in resolution.agents:
            yield node, agent_node(agent), tuple(caps.get(agent.key, ()))


def trust_links(design: Design, index: RefIndex) -> Iterator[tuple[list[str], list[str], TrustEdge]]:
    """Per trust edge whose caller and callee name something: the nodes it joins (each source to each target
    but itself) and the edge. The nodes a ref names are looked up once per ref."""
    refs: dict[str, list[str]] = {}
    for edge in design.trust_edges:
        sources = refs.get(edge.caller)
        if sources is None:
            sources = refs[edge.caller] = _ref_nodes(index, edge.caller)
        targets = refs.get(edge.callee)
        if targets is None:
            targets = refs[edge.callee] = _ref_nodes(index, edge.callee)
        if sources and targets:
            yield sources, targets, edge


def trust_attrs(edge: TrustEdge) -> dict[str, object]:
    """The attributes of a trust edge's graph edges (key `trust_key(edge.key)`)."""
    return {
        "kind": TRUST,
        "ref": edge.key,
        "capabilities": edge.capabilities,
        "protocol": edge.protocol,
        "description": edge.description,
        "label": _trust_label(edge.capabilities, edge.protocol),
    }


def _add_membership(
    graph: nx.MultiDiGraph, cluster: str, agent: str, *, label: str, capabilities: tuple[str, ...]
) -> None:
    graph.add_edge(cluster, agent, key=MEMBER_KEY, kind=MEMBER, label=label, capabilities=capabilities)
    data = graph.nodes[agent]
    data["member_of"] = (*data["member_of"], cluster)


def _agent_nodes(index: RefIndex, ref: str) -> list[str]:
    return [agent_node(a) for a in index.agents_named(ref)]


def _ref_nodes(index: RefIndex, ref: str) -> list[str]:
    if ref.startswith(GROUP_PREFIX):
        return [ref] if ref[len(GROUP_PREFIX) :] in index.groups else []
    if ref.startswith(CHANNEL_PREFIX):
        return [channel_node(c) for c in index.channels_named(ref[len(CHANNEL_PREFIX) :])]
    return _agent_nodes(index, ref)


def _trust_label(capabilities: Sequence[str], protocol: str) -> str:
    caps = ", ".join(capabilities) if capabilities else "*"
    return f"{caps} ({protocol})" if protocol else caps


# --- filters --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphFilter:
    """What to show; empty fields filter nothing. `group` is a group or channel node id."""

    tenant: str = ""
    channel: str = ""  # a channel label value (web, ivr, …)
    subset: str = ""
    group: str = ""
    agents: frozenset[str] = field(default_factory=frozenset)  # agent node ids; empty = all

    def __bool__(self) -> bool:
        return bool(self.tenant or self.channel or self.subset or self.group or self.agents)


def _agent_matches(data: Mapping[str, object], flt: GraphFilter, members: Collection[str] | None, node: str) -> bool:
    tenants = data.get("tenants") or ()
    channels = data.get("channels") or ()
    return (
        (not flt.tenant or not tenants or flt.tenant in tenants)  # type: ignore[operator]
        and (not flt.channel or flt.channel in channels)  # type: ignore[operator]
        and (not flt.subset or data.get("subset") == flt.subset)
        and (members is None or node in members)
        and (not flt.agents or node in flt.agents)
    )


def _cluster_matches(data: Mapping[str, object], flt: GraphFilter) -> bool:
    if data["kind"] != CHANNEL:
        return True
    return (
        (not flt.tenant or data.get("tenant") == flt.tenant)
        and (not flt.channel or data.get("channel") == flt.channel)
        and (not flt.subset or data.get("subset") == flt.subset)
    )


def cluster_members(graph: nx.MultiDiGraph, cluster: str) -> set[str]:
    """The agent nodes a group or channel node holds (membership edges only, not trust)."""
    return {v for _, v, k in graph.out_edges(cluster, keys=True) if k == MEMBER_KEY}


def filter_graph(graph: nx.MultiDiGraph, flt: GraphFilter) -> nx.MultiDiGraph:
    """The part of the graph the filter keeps: matching agents, the clusters that hold them or match, and
    the edges between what is kept (a copy; node attributes are shared values)."""
    if not flt:
        return graph
    members = cluster_members(graph, flt.group) if flt.group in graph else None
    keep_agents = {n for n, d in graph.nodes(data=True) if d["kind"] == AGENT and _agent_matches(d, flt, members, n)}
    keep = set(keep_agents)
    labels = bool(flt.tenant or flt.channel or flt.subset)
    for node, data in graph.nodes(data=True):
        if data["kind"] == AGENT or (flt.group and node != flt.group) or not _cluster_matches(data, flt):
            continue
        if (
            node == flt.group
            or not cluster_members(graph, node).isdisjoint(keep_agents)
            or (labels and data["kind"] == CHANNEL)
        ):
            keep.add(node)
    sub: nx.MultiDiGraph = graph.subgraph(keep).copy()
    return sub


def filter_options(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Values each filter can take in this graph (for select boxes)."""
    tenants: set[str] = set()
    channels: set[str] = set()
    subsets: set[str] = set()
    clusters: list[str] = []
    for node, data in graph.nodes(data=True):
        if data["kind"] == AGENT:
            tenants.update(data["tenants"])
            channels.update(data["channels"])
            subsets.add(data["subset"])
        else:
            clusters.append(node)
            if data["kind"] == CHANNEL:
                tenants.update([data["tenant"]] if data["tenant"] else [])
                channels.update([data["channel"]] if data["channel"] else [])
                subsets.add(data["subset"])
    return {"tenant": sorted(tenants), "channel": sorted(channels), "subset": sorted(subsets), "group": clusters}


# --- layout ---------------------------------------------------------------------------------------------

Box = tuple[float, float, float, float]  # left, top, right, bottom of what a node draws, as offsets from its position


def label_width(text: str) -> float:
    """The width of a canvas label in px, estimated on the generous side (vis-network draws labels in 12 px
    Arial: about 6 px a lowercase letter; wide East Asian characters a full 12 px)."""
    if text.isascii():  # counted in C: this runs once per node
        raw = text.encode()
        upper = len(raw) - len(raw.translate(None, _UPPER))
        wide = len(raw) - len(raw.translate(None, _WIDE))
        return len(raw) * CHAR_PX + upper * (UPPER_CHAR_PX - CHAR_PX) + wide * (WIDE_CHAR_PX - CHAR_PX)
    width = 0.0
    for char in text:
        if char.isascii():
            width += label_width(char)
        else:
            width += FULL_CHAR_PX if unicodedata.east_asian_width(char) in "WF" else UPPER_CHAR_PX
    return width


_WIDE = b"MWmw@%"  # ASCII characters as wide as a capital M
_UPPER = bytes(c for c in range(ord("A"), ord("Z") + 1) if c not in _WIDE)


def node_box(kind: str, label: str) -> Box:
    """What vis-network draws for a node of this kind and label, around its position: an agent's dot or a
    channel's hexagon with the label under it (3 px below the shape), a group's box with the label inside."""
    width = label_width(label)
    if kind == GROUP:
        half = width / 2 + BOX_PADDING
        return (-half, -LABEL_LINE_PX / 2 - BOX_PADDING, half, LABEL_LINE_PX / 2 + BOX_PADDING)
    size = AGENT_SIZE if kind == AGENT else CHANNEL_SIZE
    half = max(size, width / 2)
    return (-half, -size, half, size + LABEL_OFFSET + LABEL_LINE_PX)


def _overlaps(a: Box, b: Box, dx: float, dy: float, margin: float) -> bool:
    """Whether box `b` moved by (dx, dy) comes within `margin` of box `a`."""
    return (
        dx + b[0] < a[2] + margin
        and a[0] < dx + b[2] + margin
        and dy + b[1] < a[3] + margin
        and a[1] < dy + b[3] + margin
    )


def _crosses(box: Box, dx: float, dy: float, margin: float) -> bool:
    """Whether the line from (0, 0) to (dx, dy) comes within `margin` of `box`, which lies under (0, 0)
    (box top > 0): where the line is between the box's top and bottom, is it between its sides?"""
    top, bottom = box[1] - margin, box[3] + margin
    if dy <= top:
        return False
    low, high = dx * top / dy, dx * min(bottom, dy) / dy
    return min(low, high) < box[2] + margin and box[0] - margin < max(low, high)


def _square_ring(ring: int) -> list[tuple[int, int]]:
    """The cells at Chebyshev distance `ring` from (0, 0), clockwise from the top middle (8 · ring of them)."""
    top = [(i, -ring) for i in range(0, ring)]
    right = [(ring, j) for j in range(-ring, ring)]
    bottom = [(i, ring) for i in range(ring, -ring, -1)]
    left = [(-ring, j) for j in range(ring, -ring, -1)]
    back = [(i, -ring) for i in range(-ring, 0)]
    return top + right + bottom + left + back


def arrange_cluster(kind: str, label: str, count: int, member_width: float) -> tuple[list[Position], Box]:
    """Offsets of a cluster's `count` members and the box the whole cluster draws (`member_width`: the widest
    member label, px). Members sit in cells of a grid around the centre, one label wide and one dot-and-label
    high plus a gap, filled in square rings from the top: two members' dots and labels never overlap, and cells
    that would cross the cluster's own shape or label (under a channel's hexagon), or whose edge from the
    channel would run through that label, are skipped. A ring that is
    not full spreads its members evenly over its free cells. Deterministic; O(count)."""
    centre = node_box(kind, label)
    # a channel's label hangs under its hexagon: the dashed edge to a member below must not run through it (a
    # group's label is inside its box, which edges start at the border of)
    own_label = None if kind == GROUP else (centre[0], centre[3] - LABEL_LINE_PX, centre[2], centre[3])
    half = max(AGENT_SIZE, member_width / 2)
    member = (-half, -AGENT_SIZE, half, AGENT_SIZE + LABEL_OFFSET + LABEL_LINE_PX)  # node_box of the widest
    cell_w = 2 * half + LABEL_GAP_X
    cell_h = member[3] - member[1] + LABEL_GAP_Y
    offsets: list[Position] = []
    ring = 0
    while len(offsets) < count:
        ring += 1
        free = [
            (i * cell_w, j * cell_h)
            for i, j in _square_ring(ring)
            if not _overlaps(centre, member, i * cell_w, j * cell_h, CLEARANCE)
            and not (own_label and _crosses(own_label, i * cell_w, j * cell_h, CLEARANCE))
        ]
        take = min(len(free), count - len(offsets))
        offsets += [free[math.floor(k * len(free) / take + 0.5)] for k in range(take)] if take else []
    left, top, right, bottom = centre
    for dx, dy in offsets:
        left, top = min(left, dx + member[0]), min(top, dy + member[1])
        right, bottom = max(right, dx + member[2]), max(bottom, dy + member[3])
    return offsets, (left, top, right, bottom)


@gc_paused()
def layout(graph: nx.MultiDiGraph) -> dict[str, Position]:
    """Positions for every node: clusters (groups, then channels) on a grid in graph order, each agent around
    its first cluster (`arrange_cluster`), agents in no cluster on a grid below, a label wide apart. O(nodes)."""
    clusters = [n for n, d in graph.nodes(data=True) if d["kind"] != AGENT]
    members: dict[str, list[str]] = {c: [] for c in clusters}
    widest: dict[str, float] = {}
    loose: list[str] = []
    for node, data in graph.nodes(data=True):
        if data["kind"] != AGENT:
            continue
        home = data.get("home", "")
        members.get(home, loose).append(node)
        key = home if home in members else LOOSE
        widest[key] = max(widest.get(key, 0.0), label_width(str(data["label"])))
    arranged = {
        c: arrange_cluster(graph.nodes[c]["kind"], str(graph.nodes[c]["label"]), len(m), widest.get(c, 0.0))
        for c, m in members.items()
    }
    positions, top = cluster_grid(clusters, {c: box for c, (_, box) in arranged.items()})
    for cluster in clusters:
        cx, cy = positions[cluster]
        for node, (dx, dy) in zip(members[cluster], arranged[cluster][0], strict=True):
            positions[node] = (round(cx + dx, 1), round(cy + dy, 1))
    width = max(1, math.ceil(math.sqrt(len(loose))))
    step_x = max(2 * AGENT_SIZE, widest.get(LOOSE, 0.0)) + LABEL_GAP_X
    step_y = 2 * AGENT_SIZE + LABEL_OFFSET + LABEL_LINE_PX + LABEL_GAP_Y
    for i, node in enumerate(loose):
        positions[node] = (round((i % width) * step_x, 1), round(top + (i // width) * step_y, 1))
    return positions


def cluster_grid(clusters: Sequence[str], boxes: Mapping[str, Box]) -> tuple[dict[str, Position], float]:
    """`layout`'s cluster centres and the y where the agents in no cluster start. `boxes`: what each cluster
    draws with its members around it (`arrange_cluster`). Clusters fill a square grid in order; each column is
    as wide and each row as high as its largest cluster, with CELL_MARGIN between them. O(clusters)."""
    cols = max(1, math.ceil(math.sqrt(len(clusters))))
    rows = math.ceil(len(clusters) / cols)
    left, right = [0.0] * cols, [0.0] * cols
    above, below = [0.0] * rows, [0.0] * rows
    for i, cluster in enumerate(clusters):
        box = boxes.get(cluster, (0.0, 0.0, 0.0, 0.0))
        col, row = i % cols, i // cols
        left[col], right[col] = max(left[col], -box[0]), max(right[col], box[2])
        above[row], below[row] = max(above[row], -box[1]), max(below[row], box[3])
    xs, ys = [0.0] * cols, [0.0] * rows
    for col in range(1, cols):
        xs[col] = xs[col - 1] + right[col - 1] + CELL_MARGIN + left[col]
    for row in range(1, rows):
        ys[row] = ys[row - 1] + below[row - 1] + CELL_MARGIN + above[row]
    positions = {cluster: (round(xs[i % cols], 1), round(ys[i // cols], 1)) for i, cluster in enumerate(clusters)}
    top = round(ys[-1] + below[-1] + CELL_MARGIN + AGENT_SIZE, 1) if clusters else 0.0
    return positions, top


# --- highlights -----------------------------------------------------------------------------------------


EdgeId = tuple[str, str, str]


@dataclass(frozen=True)
class Highlight:
    """Nodes and edges to emphasise, a node to centre on and a short note for the legend."""

    nodes: frozenset[str] = frozenset()
    edges: frozenset[EdgeId] = frozenset()
    focus: str = ""
    note: str = ""

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges)


def find_agent(graph: nx.MultiDiGraph, ref: str) -> str | None:
    """The node id of an agent given its node id, `ns/name` or name."""
    if ref in graph and graph.nodes[ref]["kind"] == AGENT:
        return ref
    if f"{AGENT}:{ref}" in graph:
        return f"{AGENT}:{ref}"
    return next((n for n, d in graph.nodes(data=True) if d["kind"] == AGENT and d["name"] == ref), None)


def highlight_agent(graph: nx.MultiDiGraph, agent: str) -> Highlight:
    """An agent, its trust edges (both directions) and the clusters it belongs to."""
    node = find_agent(graph, agent)
    if node is None:
        return Highlight()
    edges = {(u, v, k) for u, v, k in graph.in_edges(node, keys=True)}
    edges |= {(u, v, k) for u, v, k in graph.out_edges(node, keys=True)}
    nodes = {node} | {u for u, _, _ in edges} | {v for _, v, _ in edges}
    return Highlight(frozenset(nodes), frozenset(edges), focus=node, note=f"agent {graph.nodes[node]['name']}")


def highlight_route(graph: nx.MultiDiGraph, *, agent: str, capability: str = "", channel: str = "") -> Highlight:
    """A routing decision: this channel sends the query to this agent's capability."""
    node = find_agent(graph, agent)
    if node is None:
        return Highlight()
    nodes, edges = {node}, set()
    channel_id = None
    if channel:  # a channel name may exist in several namespaces: prefer the one that wires this agent
        named = [
            n
            for n, d in graph.nodes(data=True)
            if d["kind"] == CHANNEL and channel in (n, d["name"], n.split(":", 1)[1])
        ]
        channel_id = next((n for n in named if graph.has_edge(n, node, MEMBER_KEY)), named[0] if named else None)
    if channel_id is not None:
        nodes.add(channel_id)
        if graph.has_edge(channel_id, node, MEMBER_KEY):
            edges.add((channel_id, node, MEMBER_KEY))
    where = f" in {graph.nodes[channel_id]['name']}" if channel_id else ""
    what = f" · {capability}" if capability else ""
    return Highlight(
        frozenset(nodes), frozenset(edges), focus=node, note=f"route{where} → {graph.nodes[node]['name']}{what}"
    )


def highlight_objects(graph: nx.MultiDiGraph, objects: Iterable[str], *, note: str = "") -> Highlight:
    """Node ids, trust edge ids (`trust:<key>`), edge keys and agent names/keys, as lint findings and the
    Playground give them; ids that name nothing in the graph are ignored."""
    wanted = set(objects)
    nodes = {o for o in wanted if o in graph}
    nodes |= {n for n in (find_agent(graph, o) for o in wanted - nodes) if n is not None}
    keys = wanted | {trust_key(o) for o in wanted}
    edges = {(u, v, k) for u, v, k in graph.edges(keys=True) if k in keys}
    nodes |= {u for u, _, _ in edges} | {v for _, v, _ in edges}
    focus = min(nodes, default="")
    return Highlight(frozenset(nodes), frozenset(edges), focus=focus, note=note)


# --- DOT ------------------------------------------------------------------------------------------------


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: nx.MultiDiGraph) -> str:
    """Graphviz DOT text of the graph (clusters as boxes, trust edges solid, membership dashed)."""
    shapes = {AGENT: "ellipse", GROUP: "box", CHANNEL: "hexagon"}
    lines = [f"digraph {_dot_id(str(graph.graph.get('name', 'design')))} {{", "  rankdir=LR;"]
    for node, data in graph.nodes(data=True):
        lines.append(f"  {_dot_id(node)} [label={_dot_id(data['label'])}, shape={shapes[data['kind']]}];")
    for u, v, data in graph.edges(data=True):
        style = "solid" if data["kind"] == TRUST else "dashed"
        label = f", label={_dot_id(data['label'])}" if data.get("label") else ""
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [style={style}{label}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- saved positions --------------------------------------------------------------------------------------


def saved_positions(layout_data: Mapping[str, object]) -> dict[str, Position]:
    """The positions kept in a design's `layout` (entries that are not two numbers are ignored)."""
    raw = layout_data.get(LAYOUT_POSITIONS) if isinstance(layout_data, Mapping) else None
    found: dict[str, Position] = {}
    if isinstance(raw, Mapping):
        for node, value in raw.items():
            if (
                isinstance(value, (list, tuple))
                and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
            ):
                found[str(node)] = (float(value[0]), float(value[1]))
    return found


def with_positions(layout_data: Mapping[str, object], moved: Mapping[str, Position]) -> dict[str, object]:
    """A design `layout` with some nodes' positions replaced (rounded to 0.1 px so files stay short)."""
    positions = {k: [x, y] for k, (x, y) in saved_positions(layout_data).items()}
    positions |= {k: [round(x, 1), round(y, 1)] for k, (x, y) in moved.items()}
    return {**dict(layout_data), LAYOUT_POSITIONS: dict(sorted(positions.items()))}


def place(graph: nx.MultiDiGraph, saved: Mapping[str, Position]) -> dict[str, Position]:
    """Positions for every node: saved ones as they are; a node without one is laid out as `layout` would,
    moved along with its home cluster when that cluster has a saved position (a new agent appears beside
    its group or channel, not far away)."""
    computed = layout(graph)
    if not saved:
        return computed
    placed: dict[str, Position] = {}
    for node, (x, y) in computed.items():
        if node in saved:
            placed[node] = saved[node]
            continue
        home = graph.nodes[node].get("home", "")
        if home in saved and home in computed:
            hx, hy = computed[home]
            sx, sy = saved[home]
            placed[node] = (round(sx + x - hx, 1), round(sy + y - hy, 1))
        else:
            placed[node] = (x, y)
    return placed


# --- level of detail ------------------------------------------------------------------------------------

AGGREGATE = "aggregate"  # node kind: a collapsed group or channel standing for its members
AGGREGATE_PREFIX = "aggregate:"
LOOSE = "loose"  # the aggregate of agents that are in no group or channel
LOD_MAX_NODES = 150  # above this many nodes the graph opens with clusters collapsed
LOD_MAX_LINKS = 2000  # merged edges between collapsed clusters drawn at most (the strongest); the rest counted


def aggregate_node(cluster: str) -> str:
    return f"{AGGREGATE_PREFIX}{cluster}"


def needs_collapse(graph: nx.MultiDiGraph, limit: int = LOD_MAX_NODES) -> bool:
    return bool(graph.number_of_nodes() > limit)


def collapse_graph(
    graph: nx.MultiDiGraph, expanded: Collection[str] = (), *, max_links: int = LOD_MAX_LINKS
) -> nx.MultiDiGraph:
    """The graph with every cluster not in `expanded` collapsed: its home members become one aggregate
    node (`aggregate:<cluster id>`, kind "aggregate", with `count`, `cluster` and the cluster's attributes),
    agents in no cluster become `aggregate:loose` unless "loose" is expanded. Edges between what remains
    are kept; edges that now join the same two aggregates are merged into one with a `count`; of those, the
    `max_links` with the highest counts are drawn and the others counted in `graph.graph["hidden_links"]`
    (so the drawing stays small at any size). O(nodes + edges + links·log links)."""
    stand_in: dict[str, str] = {}
    counts: dict[str, int] = {}
    for node, data in graph.nodes(data=True):
        if data["kind"] != AGENT:
            continue
        home = data.get("home") or LOOSE
        if home not in expanded:
            stand_in[node] = aggregate_node(home)
            counts[home] = counts.get(home, 0) + 1
    out = nx.MultiDiGraph(**graph.graph)
    for node, data in graph.nodes(data=True):
        if node in stand_in:
            continue
        if data["kind"] != AGENT and node not in expanded:
            out.add_node(aggregate_node(node), **aggregate_attrs(node, data, counts.pop(node, 0)))
            stand_in[node] = aggregate_node(node)
        else:
            out.add_node(node, **data)
    for home, members in counts.items():  # loose agents, and members whose home cluster is expanded elsewhere
        if home == LOOSE:
            out.add_node(aggregate_node(LOOSE), **loose_attrs(members))
    counts_of: dict[Slot, int] = {}
    first: dict[Slot, Mapping[str, object]] = {}
    for u, v, key, data in graph.edges(keys=True, data=True):
        a, b = stand_in.get(u, u), stand_in.get(v, v)
        both_collapsed = a.startswith(AGGREGATE_PREFIX) and b.startswith(AGGREGATE_PREFIX)
        if a == b or (data["kind"] == MEMBER and both_collapsed):
            continue  # inside one aggregate, or an overlap of two collapsed clusters
        if a == u and b == v:
            out.add_edge(u, v, key=key, **data)
            continue
        slot = (a, b, data["kind"])
        counts_of[slot] = counts_of.get(slot, 0) + 1
        first.setdefault(slot, data)
    add_merged_links(out, counts_of, first.__getitem__, max_links=max_links)
    return out


def aggregate_attrs(cluster: str, data: Mapping[str, object], members: int) -> dict[str, object]:
    """The attributes of a collapsed cluster's aggregate node: the cluster's, plus how many agents it stands for."""
    label = f"{data['label']} ({members})"
    return {**data, "kind": AGGREGATE, "cluster": cluster, "of": data["kind"], "count": members, "label": label}


def loose_attrs(members: int) -> dict[str, object]:
    """The attributes of the aggregate of the agents in no group or channel."""
    return {
        "kind": AGGREGATE,
        "cluster": LOOSE,
        "of": LOOSE,
        "count": members,
        "label": f"in no group or channel ({members})",
        "name": LOOSE,
        "description": "",
    }


Slot = tuple[str, str, str]  # (from, to, edge kind) of a merged edge


def add_merged_links(
    out: nx.MultiDiGraph,
    counts: Mapping[Slot, int],
    first: Callable[[Slot], Mapping[str, object]],
    *,
    max_links: int,
) -> None:
    """Draw the `max_links` merged edges with the highest counts (ties in the order met), each with the
    attributes of the first edge it merges (`first`), and count the others in `out.graph["hidden_links"]`."""
    ranked = sorted(counts.items(), key=lambda item: -item[1])
    out.graph["hidden_links"] = sum(count for _, count in ranked[max_links:])
    for (a, b, kind), count in ranked[:max_links]:
        data = first((a, b, kind))
        label = f"{count} trust edges" if kind == TRUST and count > 1 else str(data.get("label", ""))
        merged = {**data, "ref": data.get("ref", ""), "capabilities": (), "label": label if kind == TRUST else ""}
        out.add_edge(a, b, key=f"{kind}:{a}->{b}", **{**merged, "count": count})


def cluster_ids(graph: nx.MultiDiGraph, refs: Iterable[str]) -> set[str]:
    """Cluster node ids for names as a user types them: a node id, `group:x`, `channel:ns/x`, or a bare name;
    "loose" for the agents in no cluster. A name that matches nothing is an EditError naming the choices."""
    found: set[str] = set()
    for ref in refs:
        if ref == LOOSE or (ref in graph and graph.nodes[ref]["kind"] != AGENT):
            found.add(ref)
            continue
        matches = [
            n for n, d in graph.nodes(data=True) if d["kind"] != AGENT and ref in (d["name"], n.split(":", 1)[1])
        ]
        if not matches:
            raise EditError(f"--expand {cut(ref, SHOWN_CHARS)!r}: no group or channel of that name (or use 'loose')")
        found.update(matches)
    return found


@gc_paused()
def level_of_detail(
    graph: nx.MultiDiGraph,
    positions: Mapping[str, Position],
    expanded: Collection[str] | None = None,
    *,
    full: bool = False,
) -> tuple[nx.MultiDiGraph, dict[str, Position]]:
    """What to draw: the whole graph when it is small (or `full`), else the graph with every cluster but
    `expanded` collapsed (None: all collapsed), aggregates placed where their cluster is."""
    if full or (not expanded and not needs_collapse(graph)):
        return graph, dict(positions)
    shown = collapse_graph(graph, expanded or ())
    placed = {n: positions[n] for n in shown if n in positions}
    for node, data in shown.nodes(data=True):
        if data["kind"] != AGGREGATE:
            continue
        if data["cluster"] in positions:
            placed[node] = positions[data["cluster"]]
        else:  # the loose agents: where the first of them is
            first = next(
                (positions[n] for n, d in graph.nodes(data=True) if d["kind"] == AGENT and not d.get("home")), None
            )
            placed[node] = first or (0.0, 0.0)
    return shown, placed
