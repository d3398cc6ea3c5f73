"""A large design's collapsed graph, built from the design and its resolution without the agent-level graph.

What `graph.level_of_detail` draws when every cluster is collapsed (a node per group and channel standing for
its agents, trust edges merged between them with counts), for one pass over agents, memberships and trust
edges: no networkx node per agent, no edge per trust pair. Equal node for node, edge for edge and position for
position to `level_of_detail(build_graph(design), place(graph, saved positions), ())` (a test compares them);
a filter, an opened cluster or a small design needs the full graph (graph.py). Also the filter choices of a
design (`graph.filter_options` without the graph).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.graph import (
    LOD_MAX_LINKS,
    LOD_MAX_NODES,
    LOOSE,
    TRUST,
    Position,
    Slot,
    add_merged_links,
    agent_labels,
    agent_node,
    aggregate_attrs,
    aggregate_node,
    arrange_cluster,
    channel_node,
    cluster_grid,
    cluster_nodes,
    label_width,
    loose_attrs,
    memberships,
    saved_positions,
    trust_attrs,
    trust_key,
    trust_links,
)
from lmos_studio.model import Design, TrustEdge
from lmos_studio.resolve import Resolution
from lmos_studio.trust import RefIndex


def node_count(design: Design, resolutions: Sequence[Resolution]) -> int:
    """How many nodes `build_graph(design)` has: agents, groups and channels (by node id)."""
    agents = {a.key for a in design.agents}
    groups = {g.name for g in design.groups}
    channels = {r.channel.key for r in resolutions}
    return len(agents) + len(groups) + len(channels)


def opens_collapsed(design: Design, resolutions: Sequence[Resolution], limit: int = LOD_MAX_NODES) -> bool:
    """Whether the design's graph opens with its clusters collapsed (`graph.needs_collapse`)."""
    return node_count(design, resolutions) > limit


@gc_paused()  # a large design's aggregates: many small dicts, no garbage cycles
def collapsed_graph(
    design: Design, *, resolutions: Sequence[Resolution], max_links: int = LOD_MAX_LINKS
) -> tuple[nx.MultiDiGraph, dict[str, Position]]:
    """Every cluster collapsed, and where each aggregate is drawn: `level_of_detail(graph, place(graph,
    saved), ())` of the design's full graph, computed from the design."""
    index = RefIndex(design, resolutions)
    agents = dict.fromkeys(agent_node(a) for a in design.agents)  # graph order: agents, groups, channels
    clusters: dict[str, dict[str, object]] = {}
    for node, data in cluster_nodes(design, resolutions):
        clusters.setdefault(node, {}).update(data)  # as add_node on a node that exists
    # the full graph's adjacency, in networkx's order (a cluster's members come before its trust targets): the
    # merged edges take the first edge's attributes and keep the order met among equal counts
    adjacency: dict[str, dict[str, dict[str, TrustEdge]]] = {}
    homes: dict[str, str] = {}
    for cluster, agent, _ in memberships(design, resolutions, index, capabilities=False):
        homes.setdefault(agent, cluster)
        adjacency.setdefault(cluster, {}).setdefault(agent, {})
    for sources, targets, edge in trust_links(design, index):
        key = trust_key(edge.key)
        for source in sources:
            row = adjacency.setdefault(source, {})
            for target in targets:
                if source != target:
                    row.setdefault(target, {})[key] = edge  # a repeated key keeps its place, takes the new values
    counts: dict[str, int] = {}
    stand_in: dict[str, str] = {}
    for node in agents:
        home = homes.get(node) or LOOSE
        counts[home] = counts.get(home, 0) + 1
        stand_in[node] = aggregate_node(home)
    stand_in.update((node, aggregate_node(node)) for node in clusters)
    out = nx.MultiDiGraph(name=design.name)
    for node, data in clusters.items():
        out.add_node(aggregate_node(node), **aggregate_attrs(node, data, counts.get(node, 0)))
    if LOOSE in counts:
        out.add_node(aggregate_node(LOOSE), **loose_attrs(counts[LOOSE]))
    links: dict[Slot, int] = {}
    first: dict[Slot, TrustEdge] = {}
    for source in (*agents, *clusters):
        a = stand_in[source]
        for target, keys in adjacency.get(source, {}).items():
            b = stand_in[target]
            if a != b and keys:
                slot = (a, b, TRUST)
                links[slot] = links.get(slot, 0) + len(keys)
                first.setdefault(slot, next(iter(keys.values())))
    add_merged_links(out, links, lambda slot: trust_attrs(first[slot]), max_links=max_links)
    return out, _positions(design, agents, clusters, homes, counts)


def _positions(
    design: Design,
    agents: dict[str, None],
    clusters: dict[str, dict[str, object]],
    homes: dict[str, str],
    counts: dict[str, int],
) -> dict[str, Position]:
    """Each aggregate where `level_of_detail` puts it: at its cluster's saved or laid-out position; the agents
    in no cluster where the first of them is."""
    saved = saved_positions(design.layout)
    labels = agent_labels(design.agents)
    widest: dict[str, float] = {}
    for node in agents:
        home = homes.get(node)
        if home:
            widest[home] = max(widest.get(home, 0.0), label_width(labels[node]))
    boxes = {
        c: arrange_cluster(str(d["kind"]), str(d["label"]), counts.get(c, 0), widest.get(c, 0.0))[1]
        for c, d in clusters.items()
    }
    computed, top = cluster_grid(list(clusters), boxes)
    placed = {aggregate_node(c): saved.get(c, computed[c]) for c in clusters}
    if LOOSE in counts:
        first = next(node for node in agents if not homes.get(node))
        placed[aggregate_node(LOOSE)] = saved.get(first, (0.0, top))
    return placed


def filter_options_of(design: Design, resolutions: Sequence[Resolution]) -> dict[str, list[str]]:
    """`graph.filter_options(build_graph(design))` without the graph: tenants, channel labels and subsets of the
    agents and channels, and every group and channel node id."""
    tenants: set[str] = set()
    channels: set[str] = set()
    subsets: set[str] = set()
    for agent in {a.key: a for a in design.agents}.values():  # a repeated key: the graph keeps the last one's values
        tenants.update(agent.supported_tenants)
        channels.update(agent.supported_channels)
        subsets.add(agent.subset)
    clusters = dict.fromkeys(node for node, _ in cluster_nodes(design, ()))
    for channel in {channel_node(r.channel): r.channel for r in resolutions}.values():
        clusters[channel_node(channel)] = None
        tenants.update([channel.tenant] if channel.tenant else [])
        channels.update([channel.channel] if channel.channel else [])
        subsets.add(channel.subset)
    return {"tenant": sorted(tenants), "channel": sorted(channels), "subset": sorted(subsets), "group": list(clusters)}
