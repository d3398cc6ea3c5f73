"""Custom groups and trust edges: pure edits that return new Designs, ref lookup and trust expansion.

Refs name an agent (`name` or `ns/name`), a custom group (`group:<name>`) or a Channel
(`channel:<name>` or `channel:<ns>/<name>`). Channel membership is what the operator's resolution wires
into the Channel: it is computed, never edited. Custom groups have explicit members (agent names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from lmos_studio.errors import EditError
from lmos_studio.model import (
    CHANNEL_PREFIX,
    GROUP_PREFIX,
    Agent,
    Channel,
    Design,
    Group,
    TrustEdge,
)
from lmos_studio.names import (
    dns1123_label_problem,
    label_value_problem,
    suggest_name,
)
from lmos_studio.renames import moved_position
from lmos_studio.resolve import Resolution, resolve_design
from lmos_studio.versions import parse_version
from lmos_studio.visible import SHOWN_CHARS, cut


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
    return renamed.replace(trust_edges=edges, layout=moved_position(design.layout, old_ref, new_ref))


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
            raise EditError(
                f"trust edge {role} {cut(ref, SHOWN_CHARS)!r} names no agent, group or channel of the design"
            )
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
