"""Custom groups and trust edges: pure edits that return new Designs, ref lookup and trust expansion.

Refs name an agent (`name` or `ns/name`), a custom group (`group:<name>`) or a Channel
(`channel:<name>` or `channel:<ns>/<name>`). Channel membership is what the operator's resolution wires
into the Channel: it is computed, never edited. Custom groups have explicit members (agent names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
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
from lmos_studio.names import (
    dns1035_label_problem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    label_value_problem,
    suggest_name,
)
from lmos_studio.resolve import Resolution, resolve_design
from lmos_studio.versions import parse_version


class AgentPair(NamedTuple):
    """One caller agent that may call one callee agent, and the edge that says so."""

    caller: str  # agent key ns/name
    callee: str
    capabilities: tuple[str, ...]  # empty: every capability of the callee
    protocol: str
    edge: TrustEdge


def without_invalid_versions(design: Design) -> Design:
    """The design minus provided capabilities whose version is not SemVer (so resolution can run)."""

    known: dict[str, bool] = {}  # version text → strict SemVer? (a design's agents share few texts)

    def ok(version: str) -> bool:
        found = known.get(version) if isinstance(version, str) else None
        if found is None:
            try:
                parse_version(version)
                found = True
            except Exception:  # VersionError; anything else also means "the operator cannot use it"
                found = False
            if isinstance(version, str):
                known[version] = found
        return found

    agents = []
    for agent in design.agents:
        caps = tuple(c for c in agent.capabilities if ok(c.version))
        same = len(caps) == len(agent.capabilities)
        agents.append(agent if same else agent.model_copy(update={"capabilities": caps}))
    return design.replace(agents=tuple(agents))


def safe_resolutions(design: Design) -> list[Resolution]:
    """Every Channel resolved as the operator would, ignoring non-SemVer provided versions (lint reports them)."""
    return resolve_design(without_invalid_versions(design))


@dataclass
class RefIndex:
    """Lookups over one design: agents by name/key, groups, channels and (lazily) channel members."""

    design: Design
    resolutions: Sequence[Resolution] | None = None
    by_key: dict[str, Agent] = field(init=False)
    by_name: dict[str, list[Agent]] = field(init=False)
    groups: dict[str, Group] = field(init=False)
    _channels: dict[str, list[Channel]] = field(init=False)  # by name and by ns/name
    _members: dict[str, tuple[Agent, ...]] | None = field(init=False, default=None)
    _agents_of: dict[str, tuple[Agent, ...]] = field(init=False, default_factory=dict)  # ref → agents, memoised
    _kinds: dict[str, str | None] = field(init=False, default_factory=dict)  # ref → kind, memoised

    def __post_init__(self) -> None:
        self.by_key = {a.key: a for a in self.design.agents}
        self.by_name = {}
        for agent in self.design.agents:
            self.by_name.setdefault(agent.name, []).append(agent)
        self.groups = {g.name: g for g in self.design.groups}
        self._channels = {}
        for channel in self.design.channels:
            for ref in dict.fromkeys((channel.name, channel.key)):
                self._channels.setdefault(ref, []).append(channel)

    def agents_named(self, ref: str) -> tuple[Agent, ...]:
        """Agents a plain ref names: `ns/name` or a bare name (every namespace)."""
        if ref in self.by_key:
            return (self.by_key[ref],)
        return tuple(self.by_name.get(ref, ()))

    def channels_named(self, name: str) -> tuple[Channel, ...]:
        return tuple(self._channels.get(name, ()))

    def channel_members(self) -> dict[str, tuple[Agent, ...]]:
        """Channel key → the agents resolution wires into it."""
        if self._members is None:
            resolutions = self.resolutions if self.resolutions is not None else safe_resolutions(self.design)
            self._members = {r.channel.key: r.agents for r in resolutions}
        return self._members

    def kind(self, ref: str) -> str | None:
        """agent | group | channel, or None for a ref to nothing."""
        try:
            return self._kinds[ref]
        except KeyError:
            found = self._kinds[ref] = self._kind(ref)
            return found

    def _kind(self, ref: str) -> str | None:
        if ref.startswith(GROUP_PREFIX):
            return "group" if ref[len(GROUP_PREFIX) :] in self.groups else None
        if ref.startswith(CHANNEL_PREFIX):
            return "channel" if self.channels_named(ref[len(CHANNEL_PREFIX) :]) else None
        return "agent" if self.agents_named(ref) else None

    def agents_of(self, ref: str) -> tuple[Agent, ...]:
        """The agents a ref stands for (group members that exist, channel members by resolution); each ref is
        looked up once per index (trust edges name the same agents, groups and channels many times)."""
        try:
            return self._agents_of[ref]
        except KeyError:
            found = self._agents_of[ref] = self._lookup(ref)
            return found

    def _lookup(self, ref: str) -> tuple[Agent, ...]:
        if ref.startswith(GROUP_PREFIX):
            group = self.groups.get(ref[len(GROUP_PREFIX) :])
            return tuple(a for m in (group.members if group else ()) for a in self.agents_named(m))
        if ref.startswith(CHANNEL_PREFIX):
            members = self.channel_members()
            return tuple(a for c in self.channels_named(ref[len(CHANNEL_PREFIX) :]) for a in members.get(c.key, ()))
        return self.agents_named(ref)


def channel_members(design: Design, resolutions: Sequence[Resolution] | None = None) -> dict[str, tuple[str, ...]]:
    """Channel key → names of the agents resolution wires into it (read-only: membership is computed)."""
    index = RefIndex(design, resolutions)
    return {key: tuple(a.name for a in agents) for key, agents in index.channel_members().items()}


def add_agents(design: Design, agents: Iterable[Agent]) -> Design:
    """Add agents (one with the same namespace/name replaces the one in the design)."""
    for agent in agents:
        design = design.with_agent(agent)
    return design


# --- custom groups --------------------------------------------------------------------------------------


def _check_group_name(name: str) -> None:
    problem = dns1123_label_problem(name)
    if problem:
        raise EditError(f"group name {name!r} {problem}")


def _require_group(design: Design, name: str) -> Group:
    group = design.group(name)
    if group is None:
        raise EditError(f"no group named {name!r}; pick one of {[g.name for g in design.groups]}")
    return group


def _check_agents(design: Design, names: Iterable[str]) -> tuple[str, ...]:
    index = RefIndex(design)
    names = tuple(dict.fromkeys(names))
    unknown = [n for n in names if not index.agents_named(n)]
    if unknown:
        raise EditError(f"unknown agent(s) {unknown}: add them to the design first")
    return names


def _named_once(group: Group) -> Group:
    """The group, when no two members name one agent (`Group.repeated_member`): a design file refuses that."""
    repeated = group.repeated_member()
    if repeated is not None:
        raise EditError(f"group {group.name!r} {group.repeated_text(*repeated)}: keep one of them")
    return group


def _put_group(design: Design, group: Group, *, replacing: str | None = None) -> Design:
    groups = [group if g.name == (replacing or group.name) else g for g in design.groups]
    return design.replace(groups=tuple(groups))


def create_group(design: Design, name: str, *, members: Iterable[str] = (), description: str = "") -> Design:
    """A design with a new custom group."""
    _check_group_name(name)
    if design.group(name) is not None:
        raise EditError(f"a group named {name!r} already exists; choose another name")
    group = _named_once(Group(name=name, members=_check_agents(design, members), description=description))
    return design.replace(groups=(*design.groups, group))


def rename_group(design: Design, old: str, new: str) -> Design:
    """Rename a group and rewrite every trust edge that refers to it; where it was dragged to stays."""
    group = _require_group(design, old)
    if new == old:
        return design
    _check_group_name(new)
    if design.group(new) is not None:
        raise EditError(f"a group named {new!r} already exists; choose another name")
    old_ref, new_ref = GROUP_PREFIX + old, GROUP_PREFIX + new
    edges = tuple(
        e.model_copy(
            update={
                "caller": new_ref if e.caller == old_ref else e.caller,
                "callee": new_ref if e.callee == old_ref else e.callee,
            }
        )
        for e in design.trust_edges
    )
    renamed = _put_group(design, group.model_copy(update={"name": new}), replacing=old)
    edges = tuple(dict.fromkeys(edges))  # an edge already naming the new ref would now be written twice
    return renamed.replace(trust_edges=edges, layout=_moved_position(design.layout, old_ref, new_ref))


def _moved_position(layout: dict[str, object], old_node: str, new_node: str) -> dict[str, object]:
    """The design layout with the saved position of graph node `old_node` kept under `new_node` instead."""
    return _moved_positions(layout, {old_node: new_node})


def _moved_positions(layout: dict[str, object], nodes: dict[str, str]) -> dict[str, object]:
    """The design layout with the saved position of each graph node `old` of `nodes` kept under `nodes[old]`."""
    positions = layout.get(LAYOUT_POSITIONS)
    if not isinstance(positions, dict) or not any(k in nodes for k in positions):
        return layout
    moved = {nodes.get(k, k): v for k, v in positions.items()}
    return {**layout, LAYOUT_POSITIONS: dict(sorted(moved.items()))}


def add_members(design: Design, group_name: str, agents: Iterable[str]) -> Design:
    """Add agents (names) to a custom group; members already in it stay once."""
    group = _require_group(design, group_name)
    members = tuple(dict.fromkeys((*group.members, *_check_agents(design, agents))))
    return _put_group(design, _named_once(group.model_copy(update={"members": members})))


def remove_members(design: Design, group_name: str, agents: Iterable[str]) -> Design:
    """Remove agents from a custom group (names not in it are ignored)."""
    group = _require_group(design, group_name)
    gone = set(agents)
    return _put_group(design, group.model_copy(update={"members": tuple(m for m in group.members if m not in gone)}))


def dissolve_group(design: Design, name: str) -> Design:
    """Remove a group and every trust edge that refers to it (the agents stay)."""
    _require_group(design, name)
    ref = GROUP_PREFIX + name
    return design.replace(
        groups=tuple(g for g in design.groups if g.name != name),
        trust_edges=tuple(e for e in design.trust_edges if ref not in (e.caller, e.callee)),
    )


def dangling_trust_edges(design: Design, *, index: RefIndex | None = None) -> list[TrustEdge]:
    """Trust edges whose caller or callee names nothing in the design (the graph cannot draw them); each ref
    is looked up once."""
    index = index or RefIndex(design, [])
    refs = dict.fromkeys(ref for e in design.trust_edges for ref in (e.caller, e.callee))
    known = {ref: index.kind(ref) is not None for ref in refs}
    return [e for e in design.trust_edges if not (known[e.caller] and known[e.callee])]


def remove_agent(design: Design, key: str) -> Design:
    """Remove the agent `namespace/name` with the group memberships and trust edges that name it by `ns/name`;
    those that name it by its bare name go too when no other agent keeps that name (refs are names or keys)."""
    if not any(a.key == key for a in design.agents):
        raise EditError(f"no agent {key}")
    agents = tuple(a for a in design.agents if a.key != key)
    name = key.split("/", 1)[-1]
    gone = {key} if any(a.name == name for a in agents) else {key, name}
    return design.replace(
        agents=agents,
        groups=tuple(
            g
            if gone.isdisjoint(g.members)
            else g.model_copy(update={"members": tuple(m for m in g.members if m not in gone)})
            for g in design.groups
        ),
        trust_edges=tuple(e for e in design.trust_edges if gone.isdisjoint((e.caller, e.callee))),
    )


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
        layout=_moved_position(design.layout, f"agent:{key}", f"agent:{renamed.key}"),
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
        layout=_moved_position(design.layout, f"channel:{key}", f"channel:{renamed.key}"),
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
        layout=_moved_positions(design.layout, nodes),
    )


def _moved_agent(agent: Agent, namespace: str) -> Agent:
    moved = agent.model_copy(update={"namespace": namespace})
    return moved.model_copy(update={"endpoints": tuple(_moved_endpoint(e, agent, moved) for e in agent.endpoints)})


def set_agent_reach(design: Design, key: str, *, channels: Iterable[str], tenants: Iterable[str]) -> Design:
    """The agent `namespace/name` with these supported channels and tenants (blank entries dropped, each
    once, in order; no tenants = every tenant): what an A2A card or an AgentRoutingSpec cannot say."""
    agent = next((a for a in design.agents if a.key == key), None)
    if agent is None:
        raise EditError(f"no agent {key}")

    def distinct(values: Iterable[str], what: str) -> tuple[str, ...]:
        kept = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
        for value in kept:  # matched against a Channel's label: a value no label can hold would match nothing
            if problem := label_value_problem(value):
                raise EditError(f"{what} {value!r} {problem}; e.g. {suggest_name(value)!r}")
        return kept

    return design.with_agent(
        agent.model_copy(
            update={
                "supported_channels": distinct(channels, "channel"),
                "supported_tenants": distinct(tenants, "tenant"),
            }
        )
    )


def remove_channel(design: Design, key: str) -> Design:
    """Remove the Channel `namespace/name` and the trust edges that name it by `channel:ns/name`; those that
    name it `channel:name` go too when no other channel has its name."""
    if not any(c.key == key for c in design.channels):
        raise EditError(f"no channel {key}")
    channels = tuple(c for c in design.channels if c.key != key)
    name = key.split("/", 1)[-1]
    gone = {CHANNEL_PREFIX + key}
    if not any(c.name == name for c in channels):
        gone.add(CHANNEL_PREFIX + name)
    return design.replace(
        channels=channels, trust_edges=tuple(e for e in design.trust_edges if gone.isdisjoint((e.caller, e.callee)))
    )


# --- trust edges ----------------------------------------------------------------------------------------


def ref_options(design: Design) -> list[str]:
    """Every ref an edge may name: agents, then groups, then channels; a name that several namespaces share is
    offered as is (every one of them) and as each `ns/name` (just that one)."""
    agents = Counter(a.name for a in design.agents)
    channels = Counter(c.name for c in design.channels)
    return (
        list(agents)
        + [a.key for a in design.agents if agents[a.name] > 1]
        + [GROUP_PREFIX + g.name for g in design.groups]
        + [CHANNEL_PREFIX + name for name in channels]
        + [CHANNEL_PREFIX + c.key for c in design.channels if channels[c.name] > 1]
    )


def protocol_options(design: Design, callee: str, *, index: RefIndex | None = None) -> tuple[str, ...]:
    """Protocols the callee's endpoints offer (for a group: those every member offers, else any member's)."""
    agents = (index or RefIndex(design)).agents_of(callee)
    sets = [set(a.protocols) for a in agents if a.protocols]
    if not sets:
        return ()
    common = set.intersection(*sets)
    return tuple(sorted(common or set.union(*sets)))


def capability_options(design: Design, callee: str, *, index: RefIndex | None = None) -> tuple[str, ...]:
    """Capability names the callee provides (any member of a group or channel)."""
    agents = (index or RefIndex(design)).agents_of(callee)
    return tuple(sorted({c.name for a in agents for c in a.capabilities}))


def _check_edge(design: Design, edge: TrustEdge) -> None:
    index = RefIndex(design)
    for role, ref in (("caller", edge.caller), ("callee", edge.callee)):
        if index.kind(ref) is None:
            raise EditError(f"trust edge {role} {ref!r} names no agent, group or channel of the design")
    if edge.caller == edge.callee:
        raise EditError(f"trust edge from {edge.caller!r} to itself: pick a different callee")
    offered = capability_options(design, edge.callee, index=index)
    missing = [c for c in edge.capabilities if c not in offered]
    if missing and index.kind(edge.callee) != "channel":
        raise EditError(f"{edge.callee!r} provides no capability {missing}; it offers {list(offered)}")
    protocols = protocol_options(design, edge.callee, index=index)
    if edge.protocol and protocols and edge.protocol not in protocols:
        raise EditError(f"{edge.callee!r} has no {edge.protocol!r} endpoint; choose one of {list(protocols)}")


def add_trust_edge(design: Design, edge: TrustEdge) -> Design:
    """A design with one more trust edge (refs, capabilities and protocol are checked)."""
    if any(e.key == edge.key for e in design.trust_edges):
        raise EditError(f"trust edge {edge.key} already exists; edit it instead")
    _check_edge(design, edge)
    return design.replace(trust_edges=(*design.trust_edges, edge))


def replace_trust_edge(design: Design, key: str, edge: TrustEdge) -> Design:
    """Replace the edge with `key` by `edge` (same position); other edges of that key (other protocols) go, as
    they would otherwise all become `edge`: a design file refuses an edge written twice."""
    if not any(e.key == key for e in design.trust_edges):
        raise EditError(f"no trust edge {key}")
    if edge.key != key and any(e.key == edge.key for e in design.trust_edges):
        raise EditError(f"trust edge {edge.key} already exists")
    _check_edge(design, edge)
    at = next(i for i, e in enumerate(design.trust_edges) if e.key == key)
    edges = [e for i, e in enumerate(design.trust_edges) if i == at or e.key != key]  # one key, one edge after
    edges[at] = edge  # (every edge before the first of `key` is kept: it is still at `at`)
    return design.replace(trust_edges=tuple(edges))


def remove_trust_edge(design: Design, key: str) -> Design:
    if not any(e.key == key for e in design.trust_edges):
        raise EditError(f"no trust edge {key}")
    return design.replace(trust_edges=tuple(e for e in design.trust_edges if e.key != key))


def trust_edge(design: Design, key: str) -> TrustEdge | None:
    return next((e for e in design.trust_edges if e.key == key), None)


# --- expansion and checks -------------------------------------------------------------------------------


def expand_trust(design: Design, *, index: RefIndex | None = None) -> list[AgentPair]:
    """Every (caller agent, callee agent) pair the trust edges allow, in edge order (no self pairs)."""
    index = index or RefIndex(design)
    keys: dict[str, list[str]] = {}  # ref → its agents' keys
    pairs: list[AgentPair] = []
    for edge in design.trust_edges:
        callers = keys.get(edge.caller)
        if callers is None:
            callers = keys[edge.caller] = [a.key for a in index.agents_of(edge.caller)]
        callees = keys.get(edge.callee)
        if callees is None:
            callees = keys[edge.callee] = [a.key for a in index.agents_of(edge.callee)]
        for key in callers:
            pairs.extend(
                AgentPair(key, callee, edge.capabilities, edge.protocol, edge) for callee in callees if callee != key
            )
    return pairs
