"""Renaming an agent or a Channel, and moving a design into another namespace: pure edits that return new
Designs, with every ref to what moved rewritten so that it names exactly what it named before.

Trust edges, group members, routing tests, ChannelRollouts, out-of-scope messages, saved canvas positions and
each agent's endpoints at its own Service host follow. A key stays a key; a bare name keeps its form while it
still names the same set of agents or Channels, else it is split into refs that do (`_Names`), so no trust edge
or group gains or loses anyone (tests/test_rename.py checks the allowed pairs). Used by the Designer's Rename,
`lmos-studio edit rename-agent|rename-channel`, `export --namespace` (`move_namespace`) and the save's
continuity of renamed resources (formats/roundtrip.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from lmos_studio.errors import EditError
from lmos_studio.model import (
    CHANNEL_PREFIX,
    DEFAULT_NAMESPACE,
    GROUP_PREFIX,
    LAYOUT_POSITIONS,
    Agent,
    Channel,
    Design,
    Endpoint,
    Group,
    RoutingTest,
    TrustEdge,
)
from lmos_studio.names import dns1035_label_problem, dns1123_subdomain_problem


def rename_agent(design: Design, key: str, new: str) -> Design:
    """Rename the agent `namespace/name`; what names it follows, so that every ref names the same agents as
    before: trust edges and group members (a key stays a key; a bare name keeps its form where it still names
    the same agents, else the agents are named apart, by key where the bare name would name more), routing
    tests of its namespace expecting it, its saved canvas position, and its endpoints at its own in-cluster
    Service (named after the agent). No edge or group gains or loses an agent: a bare `new` that named an agent
    of another namespace is written by that agent's key, so it does not reach the renamed one."""
    agent = next((a for a in design.agents if a.key == key), None)
    if agent is None:
        raise EditError(f"no agent {key}")
    if new == agent.name:
        return design
    problem = dns1035_label_problem(new)
    _check_new_name(
        "agent",
        new,
        problem and f"{problem} (an agent's name is its Service's host name)",
        design.agent(new, agent.namespace) is not None and f"an agent in namespace {agent.namespace}",
    )
    renamed = agent.model_copy(update={"name": new})
    renamed = renamed.model_copy(
        update={"endpoints": tuple(_moved_endpoint(e, agent, renamed) for e in agent.endpoints)}
    )
    agents = tuple(renamed if a.key == key else a for a in design.agents)
    names = _Names([(a.key, a.name) for a in design.agents], [(a.key, a.name) for a in agents], {key: renamed.key})

    def refs(ref: str) -> list[str]:
        return [ref] if ":" in ref else names.refs(ref)  # group: and channel: refs name no agent

    shared = any(a.name == agent.name and a.key != key for a in design.agents)
    tests = tuple(
        t.model_copy(update={"expect_agent": new})
        if t.expect_agent == agent.name and _tests_agent(design, t.channel, agent, shared)
        else t
        for t in design.routing_tests
    )
    return design.replace(
        agents=agents,
        groups=tuple(_group_with(g, refs) for g in design.groups),
        trust_edges=_edges_with(design.trust_edges, refs),
        routing_tests=tests,
        layout=moved_position(design.layout, f"agent:{key}", f"agent:{renamed.key}"),
    )


@dataclass(frozen=True)
class _Names:
    """Objects (agents or Channels) as (key, name) before and after a rename (`moved`: old key → new key), and how
    to write a ref (a key, or a bare name naming every object of that name) so that it names the same objects
    after it as before."""

    before: list[tuple[str, str]]
    after: list[tuple[str, str]]
    moved: dict[str, str]

    def named(self, ref: str, objects: list[tuple[str, str]]) -> set[str]:
        return {k for k, n in objects if ref in (k, n)}

    def refs(self, ref: str) -> list[str]:
        """`ref` rewritten: one ref or several (a bare name split up), each naming some of the objects it named."""
        named = self.named(ref, self.before)
        if not named:
            return [ref]  # it names nothing (lint reports it): nothing to follow
        target = {self.moved.get(k, k) for k in named}
        if "/" in ref:  # a key
            return [self.moved.get(ref, ref)]
        now = self.named(ref, self.after)
        if now == target:
            return [ref]
        out, rest = ([ref], target - now) if now and now <= target else ([], target)
        name_of = dict(self.after)
        for k in sorted(rest):  # the bare name where it names just this object, else the key
            out.append(name_of[k] if self.named(name_of[k], self.after) == {k} else k)
        return out


def _group_with(group: Group, refs: Callable[[str], list[str]]) -> Group:
    members = tuple(dict.fromkeys(r for m in group.members for r in refs(m)))
    return group if members == group.members else group.model_copy(update={"members": members})


def _edges_with(edges: Sequence[TrustEdge], refs: Callable[[str], list[str]]) -> tuple[TrustEdge, ...]:
    """Each edge with its caller and callee rewritten; an edge whose ref splits up becomes one edge per ref."""
    out = [
        edge
        if (caller, callee) == (edge.caller, edge.callee)
        else edge.model_copy(update={"caller": caller, "callee": callee})
        for edge in edges
        for caller in refs(edge.caller)
        for callee in refs(edge.callee)
    ]
    return tuple(dict.fromkeys(out))


def _check_new_name(what: str, new: str, problem: str | None, taken: str | bool) -> None:
    """Refuse a new name Kubernetes does not take (`problem`) or that `taken` says is in use ("an agent in
    namespace default")."""
    if problem:
        raise EditError(f"{what} name {new!r} {problem}")
    if taken:
        raise EditError(f"{taken} is named {new!r} already; choose another name")


def _moved_endpoint(endpoint: Endpoint, old: Agent, new: Agent) -> Endpoint:
    """An endpoint at the agent's own in-cluster Service (`<name>.<namespace>.svc.cluster.local`, or a shorter
    form of it) follows a rename or a move: the Service is named after the agent, in its namespace. Other hosts
    are kept as written."""
    parts = urlsplit(endpoint.uri)
    host = parts.hostname or ""
    forms = {
        old.host: new.host,
        f"{old.name}.{old.namespace}.svc": f"{new.name}.{new.namespace}.svc",
        f"{old.name}.{old.namespace}": f"{new.name}.{new.namespace}",
        old.name: new.name,  # the pod's own namespace
    }
    if host not in forms:
        return endpoint
    netloc = parts.netloc.replace(host, forms[host], 1)
    return endpoint.model_copy(update={"uri": urlunsplit(parts._replace(netloc=netloc))})


def _tests_agent(design: Design, channel: str, agent: Agent, shared: bool) -> bool:
    """Whether a routing test in `channel` (a Channel's name or key; "" = all agents) expecting an agent of
    `agent`'s name means `agent`: its channel is in the agent's namespace, or no other agent has the name."""
    if not shared:
        return True
    named = [c for c in design.channels if channel in (c.key, c.name)]
    return bool(named) and all(c.namespace == agent.namespace for c in named)


def _routed_in(channels: Sequence[Channel], ref: str) -> str | None:
    """The Channel a routing test's `channel` routes in, by key or by name (a name several namespaces share:
    the default namespace's), as `routing.table.channel_key` reads it; None for a label or an unknown ref."""
    if any(c.key == ref for c in channels):
        return ref
    named = [c for c in channels if c.name == ref]
    if len(named) > 1:
        named = [c for c in named if c.namespace == DEFAULT_NAMESPACE]
    return named[0].key if len(named) == 1 else None


def rename_channel(design: Design, key: str, new: str) -> Design:
    """Rename the Channel `namespace/name`; what names it follows, so that every ref names the same Channels as
    before: trust edges (`channel:ns/name` or `channel:name`, as `rename_agent` rewrites agent refs), routing
    tests routed in it (and none routed elsewhere moves to it), out-of-scope messages listed for it,
    ChannelRollouts of its namespace naming it, its saved canvas position."""
    channel = next((c for c in design.channels if c.key == key), None)
    if channel is None:
        raise EditError(f"no channel {key}")
    if new == channel.name:
        return design
    _check_new_name(
        "channel",
        new,
        dns1123_subdomain_problem(new),
        design.channel(new, channel.namespace) is not None and f"a channel in namespace {channel.namespace}",
    )
    renamed = channel.model_copy(update={"name": new})
    channels = tuple(renamed if c.key == key else c for c in design.channels)
    names = _Names([(c.key, c.name) for c in design.channels], [(c.key, c.name) for c in channels], {key: renamed.key})

    def refs(ref: str) -> list[str]:
        if not ref.startswith(CHANNEL_PREFIX):
            return [ref]
        return [CHANNEL_PREFIX + r for r in names.refs(ref.removeprefix(CHANNEL_PREFIX))]

    def routed(test: RoutingTest) -> RoutingTest:
        was = _routed_in(design.channels, test.channel)
        if was is None:  # all agents, a channel label, or unknown: it stays, unless the new name would capture it
            labelled = [c.key for c in design.channels if test.channel and c.channel == test.channel]
            if _routed_in(channels, test.channel) is None or len(labelled) != 1:
                return test
            was = labelled[0]  # routed in by its label: written by key, so the renamed Channel's name does not take it
        target = names.moved.get(was, was)
        if "/" in test.channel:
            written = target
        elif _routed_in(channels, test.channel) == target:
            written = test.channel
        else:
            name = dict(names.after)[target]
            written = name if _routed_in(channels, name) == target else target
        return test if written == test.channel else test.model_copy(update={"channel": written})

    listed = [
        example.model_copy(update={"channel": ref})
        for example in design.routing.out_of_scope
        for ref in (names.refs(example.channel) if example.channel else [""])
    ]
    rollouts = tuple(
        r.model_copy(
            update={
                "stable_channel": new if r.stable_channel == channel.name else r.stable_channel,
                "canary_channel": new if r.canary_channel == channel.name else r.canary_channel,
            }
        )
        if r.namespace == channel.namespace
        else r
        for r in design.rollouts
    )
    return design.replace(
        channels=channels,
        trust_edges=_edges_with(design.trust_edges, refs),
        routing_tests=tuple(routed(t) for t in design.routing_tests),
        routing=design.routing.model_copy(update={"out_of_scope": tuple(dict.fromkeys(listed))}),
        rollouts=rollouts,
        layout=moved_position(design.layout, f"channel:{key}", f"channel:{renamed.key}"),
    )


def move_namespace(design: Design, namespace: str) -> Design:
    """Every agent, Channel and ChannelRollout moved into `namespace`, and what names them by key follows, as
    `rename_agent` and `rename_channel` rewrite refs: trust edges (agents, `channel:` refs), group members, routing
    tests' and out-of-scope messages' channels, saved canvas positions, and each agent's endpoints at its own
    in-cluster Service (`<name>.<namespace>.svc.cluster.local`). Bare names stay: they name the same objects.
    The caller checks that moving keeps resolution (one namespace, as export's `--namespace` refuses more)."""
    agents = tuple(_moved_agent(a, namespace) for a in design.agents)
    channels = tuple(c.model_copy(update={"namespace": namespace}) for c in design.channels)
    agent_names = _Names(
        [(a.key, a.name) for a in design.agents],
        [(a.key, a.name) for a in agents],
        {old.key: new.key for old, new in zip(design.agents, agents, strict=True)},
    )
    channel_names = _Names(
        [(c.key, c.name) for c in design.channels],
        [(c.key, c.name) for c in channels],
        {old.key: new.key for old, new in zip(design.channels, channels, strict=True)},
    )

    def refs(ref: str) -> list[str]:
        if ref.startswith(CHANNEL_PREFIX):
            return [CHANNEL_PREFIX + r for r in channel_names.refs(ref.removeprefix(CHANNEL_PREFIX))]
        return [ref] if ref.startswith(GROUP_PREFIX) else agent_names.refs(ref)

    def channel_ref(ref: str) -> str:  # a Channel's key moves; a name or a channel label names what it named
        return channel_names.moved.get(ref, ref)

    nodes = {f"agent:{k}": f"agent:{v}" for k, v in agent_names.moved.items()}
    nodes |= {f"channel:{k}": f"channel:{v}" for k, v in channel_names.moved.items()}
    listed = tuple(e.model_copy(update={"channel": channel_ref(e.channel)}) for e in design.routing.out_of_scope)
    return design.replace(
        agents=agents,
        channels=channels,
        rollouts=tuple(r.model_copy(update={"namespace": namespace}) for r in design.rollouts),
        groups=tuple(_group_with(g, agent_names.refs) for g in design.groups),
        trust_edges=_edges_with(design.trust_edges, refs),
        routing_tests=tuple(t.model_copy(update={"channel": channel_ref(t.channel)}) for t in design.routing_tests),
        routing=design.routing.model_copy(update={"out_of_scope": listed}),
        layout=moved_positions(design.layout, nodes),
    )


def _moved_agent(agent: Agent, namespace: str) -> Agent:
    moved = agent.model_copy(update={"namespace": namespace})
    return moved.model_copy(update={"endpoints": tuple(_moved_endpoint(e, agent, moved) for e in agent.endpoints)})


def moved_position(layout: dict[str, object], old_node: str, new_node: str) -> dict[str, object]:
    """The design layout with the saved position of graph node `old_node` kept under `new_node` instead."""
    return moved_positions(layout, {old_node: new_node})


def moved_positions(layout: dict[str, object], nodes: dict[str, str]) -> dict[str, object]:
    """The design layout with the saved position of each graph node `old` of `nodes` kept under `nodes[old]`."""
    positions = layout.get(LAYOUT_POSITIONS)
    if not isinstance(positions, dict) or not any(k in nodes for k in positions):
        return layout
    moved = {nodes.get(k, k): v for k, v in positions.items()}
    return {**layout, LAYOUT_POSITIONS: dict(sorted(moved.items()))}
