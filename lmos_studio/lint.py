"""Design lint: findings (code, severity, objects, message, fix) about resolution, trust, names and routing.

Pure functions over the model. Object ids are the graph's node ids (`agent:<ns>/<name>`, `group:<name>`,
`channel:<ns>/<name>`), trust edge ids (`trust:<edge key>`), `capability:<name>` and `rollout:<ns>/<name>` (no
graph node: the rollout's channels are named next to it), so the Designer can highlight them. The codes are part
of the CLI contract (`lmos-studio lint`): keep their names.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from lmos_studio.errors import VersionError
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.graph import agent_node, channel_node, group_node, trust_key
from lmos_studio.model import (
    CHANNEL_LABELS,
    CHANNEL_PREFIX,
    DEFAULT_SUBSET,
    GROUP_PREFIX,
    Agent,
    Channel,
    Design,
    RoutingTest,
    TrustEdge,
    message_key,
)
from lmos_studio.names import (
    dns1035_label_problem,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    label_value_problem,
    suggest_name,
)
from lmos_studio.redact import redact_text
from lmos_studio.resolve import Resolution, Unresolved, mismatch_reasons, provided_version
from lmos_studio.rollouts import rollout_problems
from lmos_studio.trust import RefIndex, safe_resolutions
from lmos_studio.versions import CaretQuirk, caret_zero_quirks

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
CODES = (
    "unresolved-capability",
    "invalid-version",
    "orphan-agent",
    "cross-tenant-trust",
    "unknown-trust-target",
    "protocol-mismatch",
    "self-trust",
    "missing-examples",
    "ambiguous-capabilities",
    "canary-without-agents",
    "rollout-missing-channel",
    "rollout-weights",
    "rollout-channel-mismatch",
    "invalid-name",
    "caret-zero-range",
    "routing-test-unreachable",
    "routing-test-duplicate",
    "out-of-scope-unknown-channel",
    "out-of-scope-conflict",
    "missing-channel-label",
    "duplicate-channel",
)
MAX_LISTED = 5  # agents named in one message before "…"
WILDCARDS = frozenset({"*", ".*"})  # a tenant or channel written as "every" (no label value can hold it)
_CODE_ORDER = {code: i for i, code in enumerate(CODES)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem (or hint) about a design."""

    code: str
    severity: str  # error | warning | info
    objects: tuple[str, ...]
    message: str
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "objects": list(self.objects),
            "message": self.message,
            "fix": self.fix,
        }


def _cap(name: str) -> str:
    return f"capability:{name}"


def _names(first: Sequence[str], count: int) -> str:
    """The first `MAX_LISTED` of `count` agents (or pairs), without namespaces, and how many more there are."""
    if count == 1 and "/" not in first[0]:  # most trust findings: one pair of two agent names
        return first[0]
    shown = ", ".join(a.split("/", 1)[-1] for a in first[:MAX_LISTED])
    return shown + (f" and {count - MAX_LISTED} more" if count > MAX_LISTED else "")


# --- resolution -----------------------------------------------------------------------------------------

_FIXES = {
    "version": "widen the channel's version range or provide a version inside it",
    "name": "add an agent that provides this capability (same name, case-sensitive) or fix the name",
    "tenant": "add the channel's tenant to supportedTenants of an agent that provides it (or leave it empty)",
    "channel": "add the channel's channel label to supportedChannels of an agent that provides it",
    "subset": "label an agent that provides it with the channel's subset, or change the channel's subset",
    "namespace": "deploy an agent that provides it in the channel's namespace",
}


def _why(unresolved: Unresolved, resolution: Resolution, providers: dict[str, list[Agent]]) -> list[str]:
    """Which filter keeps the requirement unresolved: version, name, or tenant/channel/subset/namespace."""
    if unresolved.cause == "no-version-in-range":
        return ["version"]
    whys: dict[str, None] = {}
    agents = providers[unresolved.required.name]
    for agent in agents:
        for reason in mismatch_reasons(agent, resolution.channel):
            whys[reason.filter] = None
    if agents and not whys:  # providers are candidates, but none in range
        return ["version"]
    return list(whys) or ["name"]


def _providers(design: Design, names: Iterable[str]) -> dict[str, list[Agent]]:
    """For each capability name: the agents (design order) that provide it, in any namespace or scope."""
    found: dict[str, list[Agent]] = {name: [] for name in names}
    if found:
        for agent in design.agents:
            for name in dict.fromkeys(c.name for c in agent.capabilities):
                if name in found:
                    found[name].append(agent)
    return found


def _unresolved(design: Design, resolutions: Sequence[Resolution]) -> Iterator[Finding]:
    misses = [(resolution, miss) for resolution in resolutions for miss in resolution.unresolved]
    wanted = (miss.required.name for _, miss in misses if miss.cause != "no-version-in-range")
    providers = _providers(design, wanted)
    for resolution, miss in misses:
        channel = resolution.channel
        why = _why(miss, resolution, providers)
        yield Finding(
            "unresolved-capability",
            ERROR,
            (channel_node(channel), _cap(miss.required.name)),
            f"Channel {channel.key} requires {miss.required.name} {miss.required.version}: "
            f"unresolved because of {'/'.join(why)}: {miss.reason}",
            "; or ".join(_FIXES[w] for w in why if w in _FIXES),
        )


def _invalid_versions(design: Design) -> Iterator[Finding]:
    valid: set[str] = set()  # version texts already parsed: a design's agents share few
    for agent in design.agents:
        for cap in agent.capabilities:
            if cap.version in valid:
                continue
            try:
                provided_version(agent, cap)
            except VersionError as exc:
                yield Finding(
                    "invalid-version",
                    ERROR,
                    (agent_node(agent), _cap(cap.name)),
                    str(exc),
                    f"write a strict SemVer version (MAJOR.MINOR.PATCH), e.g. {_semver_guess(cap.version)!r}",
                )
            else:
                valid.add(cap.version)


def _caret_zero(design: Design) -> Iterator[Finding]:
    """Ranges like `^0` / `^0.0` that the operator's semver4j reads differently from npm (versions.py)."""
    seen: dict[str, tuple[list[CaretQuirk], str]] = {}  # a design's channels share few range texts
    for channel in design.channels:
        for req in channel.required_capabilities:
            found = seen.get(req.version)
            if found is None:
                found = seen[req.version] = caret_zero_quirks(req.version)
            quirks, rewrite = found
            if not quirks:
                continue
            said = "; ".join(f"`{q.section}` {q.operator_meaning}" for q in quirks)
            yield Finding(
                "caret-zero-range",
                WARNING,
                (channel_node(channel), _cap(req.name)),
                f"Channel {channel.key} requires {req.name} '{req.version}': in the operator {said}; "
                f"write `{rewrite}` if you mean npm's caret",
                f"set the requirement's version to '{rewrite}' (or to the range you mean)",
            )


def _semver_guess(version: str) -> str:
    parts = [p for p in version.lstrip("vV").split(".") if p.isdigit()][:3]
    return ".".join(parts + ["0"] * (3 - len(parts)))


def _canary(design: Design, resolutions: Sequence[Resolution]) -> Iterator[Finding]:
    named = {r.canary_channel for r in design.rollouts}
    for resolution in resolutions:
        channel = resolution.channel
        canary = channel.subset == "canary" or channel.name in named or channel.key in named
        if canary and channel.required_capabilities and not resolution.agents:
            yield Finding(
                "canary-without-agents",
                WARNING,
                (channel_node(channel),),
                f"canary Channel {channel.key} (subset {channel.subset}) has no agent serving any of its "
                f"{len(channel.required_capabilities)} requirements",
                f"add Agents labelled subset={channel.subset} for tenant {channel.tenant} and channel "
                f"{channel.channel} that provide the required capabilities",
            )


_ROLLOUT_FIXES = {
    "rollout-missing-channel": "add the channel to the design, or name an existing channel of the rollout's namespace "
    "in spec.strategy.canary.stableChannel / canaryChannel",
    "rollout-channel-mismatch": "name a Channel labelled subset=stable as spec.strategy.canary.stableChannel and one "
    "labelled subset=canary, with the same tenant and channel labels, as canaryChannel (lmos-studio canary makes such "
    "a pair)",
    "rollout-weights": "set spec.strategy.canary's stableChannel.weight and canaryChannel.weight to two percentages "
    "that add up to 100 (e.g. 90 and 10)",
}


def _rollouts(design: Design) -> Iterator[Finding]:
    """Broken ChannelRollouts, with the codes and texts `lmos-studio canary` reports (`rollouts.py`)."""
    for rollout in design.rollouts:
        problems = rollout_problems(design, rollout)
        if not problems:
            continue
        named = (
            design.channel(rollout.stable_channel, rollout.namespace),
            design.channel(rollout.canary_channel, rollout.namespace),
        )
        objects = (f"rollout:{rollout.key}", *(channel_node(c) for c in named if c is not None))
        for problem in problems:
            yield Finding(
                problem.code,
                problem.severity,
                objects,
                f"ChannelRollout {rollout.key}: {problem.message}",
                _ROLLOUT_FIXES[problem.code],
            )


def _out_of_scope(design: Design, resolutions: Sequence[Resolution]) -> Iterator[Finding]:
    """The design's out-of-scope list (`spec.routing.outOfScope`) against the rest of it: an example naming a
    channel the design does not have applies to none (`out-of-scope-unknown-channel`); one that is an example
    of a capability its channel routes to, or the query of a routing test expecting an agent there, says the
    opposite of it (`out-of-scope-conflict`): the example then rejects the capability's own paraphrases, or
    the test fails."""
    listed = design.routing.out_of_scope
    if not listed:
        return
    channels = {c.key: c for c in design.channels}
    wired = {r.channel.key: r.agents for r in resolutions}
    examples_of: dict[str, dict[tuple[str, str], Agent]] = {}  # a message's key → (agent, capability) giving it
    for a in design.agents:
        for capability in a.capabilities:
            for text in capability.examples:
                examples_of.setdefault(message_key(text), {})[(a.key, capability.name)] = a
    tests_of: dict[str, list[tuple[int, RoutingTest]]] = {}  # … → routing tests expecting an agent for it
    for number, test in enumerate(design.routing_tests, start=1):
        if test.expect_agent:
            tests_of.setdefault(message_key(test.query), []).append((number, test))
    for number, example in enumerate(listed):
        field = f"spec.routing.outOfScope[{number}]"
        named = [c for c in design.channels if example.channel in (c.key, c.name)] if example.channel else []
        if example.channel and not named:
            yield Finding(
                "out-of-scope-unknown-channel",
                WARNING,
                (f"out-of-scope:{redact_text(example.text)}",),
                f"{field} ('{redact_text(example.text)}') is listed for channel '{example.channel}', which the "
                "design does not have: it applies to no channel",
                "name a Channel of the design (its name, or namespace/name), or drop `channel` to list it for "
                "every channel",
            )
            continue
        where = [channel_node(c) for c in named]
        said, shown = message_key(example.text), redact_text(example.text)
        routed = {a.key for c in named for a in wired.get(c.key, ())} if example.channel else None
        for (agent_key, capability_name), agent in examples_of.get(said, {}).items():
            if routed is None or agent_key in routed:
                yield Finding(
                    "out-of-scope-conflict",
                    WARNING,
                    (agent_node(agent), *where),
                    f"{field} ('{shown}') is an example of {agent_key}'s capability "
                    f"'{capability_name}': listed as out of scope, it rejects that capability's own requests",
                    "remove the message from spec.routing.outOfScope, or the example from the capability",
                )
        scope = {c.key for c in named} if example.channel else None
        for test_number, test in tests_of.get(said, ()):
            key = next((k for k, c in channels.items() if test.channel in (k, c.name)), test.channel)
            if scope is not None and key not in scope:
                continue
            test_name = redact_text(test.name or f"{test.channel or 'all agents'}: {test.query}")  # as `test` names it
            yield Finding(
                "out-of-scope-conflict",
                WARNING,
                (f"routing-test:{test_name}", *where),
                f"{field} ('{shown}') is the query of routing test {test_number}, which expects "
                f"{test.expect_agent}: listed as out of scope, no agent answers it and the test fails",
                "remove the message from spec.routing.outOfScope, or make the test expect no agent",
            )


# --- membership, trust ----------------------------------------------------------------------------------


def _orphans(design: Design, resolutions: Sequence[Resolution]) -> Iterator[Finding]:
    wired = {a.key for r in resolutions for a in r.agents}
    grouped = {m for g in design.groups for m in g.members}
    for agent in design.agents:
        if agent.key not in wired and agent.name not in grouped and agent.key not in grouped:
            yield Finding(
                "orphan-agent",
                WARNING,
                (agent_node(agent),),
                f"Agent {agent.key} is in no channel (resolution wires it nowhere) and in no group",
                "add it to a group, make a channel require one of its capabilities, or remove it",
            )


def _protocol_ok(caller: frozenset[str], callee: frozenset[str], protocol: str) -> bool:
    if not callee:
        return True  # nothing known about the callee's endpoints
    if protocol:
        return protocol in callee and (not caller or protocol in caller)
    return not caller or bool(caller & callee)


_PROTOCOL = attrgetter("protocol")  # of an endpoint
_NAME = attrgetter("name")  # of a capability


class _Numbered:
    """Distinct sets of strings numbered in the order first seen (equal sets share a number), and each set's
    items as numbers too (`items`: every set's item numbers one set after the other, `sizes`: how many each)."""

    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self.ids: dict[frozenset[str], int] = {}
        self.listed: dict[tuple[str, ...], int] = {}  # items as an agent lists them → number (no set made)
        self.sizes: list[int] = []
        self.items: list[int] = []
        self._item_ids: dict[str, int] = {}

    def number(self, items: tuple[str, ...]) -> int:
        found = self.listed.get(items)
        if found is None:
            as_set = frozenset(items)
            found = self.ids.get(as_set)
            if found is None:
                found = self.ids[as_set] = len(self.sets)
                self.sets.append(as_set)
                self.sizes.append(len(as_set))
                item_ids = self._item_ids
                self.items += [item_ids.setdefault(item, len(item_ids)) for item in as_set]
            self.listed[items] = found
        return found


class _Sides:
    """The agents and refs of a design's trust edges as small integers, so that the pass over the edges looks
    each ref up once and the edges' pairs are checked in numpy, as arrays of ids (`_PairChecks`), not as one
    Python object per pair.

    A party is one agent key (`expand_trust` names agents by key): its key, agent and name, the numbers of its
    tenant set and protocol set (equal sets share a number; tenant set 0 is the empty one) and the names of the
    capabilities it provides, each in a list by party id. An entry is one ref: its kind (`RefIndex.kind`) and
    its parties (`RefIndex.agents_of`, as party ids); `ids` maps a ref to its entry id, -1 for a ref to
    nothing, so an edge costs one lookup per ref.

    When the design's agent keys are distinct (`exact`), every agent's party and every bare agent name's entry
    are made up front in one pass in design order, so the edges, which name agents in no order, never go back
    to the agents' models (at 50 000 agents those are far apart in memory and each visit is a cache miss); a
    party's agent is then the very agent `RefIndex.agents_of` gives. Otherwise parties and entries are made as
    edges first name them, from `RefIndex`."""

    def __init__(self, design: Design, index: RefIndex) -> None:
        self.index = index
        self.by_key = index.by_key
        self.own = self.by_key if design.agents is index.design.agents else {a.key: a for a in design.agents}
        self.party_of: dict[str, int] = {}  # agent key → party id
        self.keys: list[str] = []  # by party id, as are the next five
        self.agents: list[Agent] = []
        self.names: list[str] = []
        self.tenant_set: list[int] = []
        self.protocol_set: list[int] = []
        self.offers: list[frozenset[str]] = []
        self.tenant_sets, self.protocol_sets = _Numbered(), _Numbered()
        self.tenant_sets.number(())  # number 0: no tenants (every tenant)
        self.ids: dict[str, int] = {}  # ref → entry id (-1: the ref names nothing)
        self.kinds: list[str] = []  # by entry id, as is the next one
        self.members: list[tuple[int, ...]] = []
        self.named: dict[str, tuple[int, ...]] | None = None  # bare agent name → its party ids (`exact`)
        self.exact = self.own is self.by_key and len(self.by_key) == len(design.agents)
        if self.exact:
            self._prefill()

    def _prefill(self) -> None:
        names, tenant_set, protocol_set, offers = self.names, self.tenant_set, self.protocol_set, self.offers
        tenant_sets, protocol_sets = self.tenant_sets, self.protocol_sets
        tenants_listed, protocols_listed = tenant_sets.listed, protocol_sets.listed
        own_names: list[str] = []
        for key, agent in self.by_key.items():  # every agent in design order (keys distinct)
            tenants = agent.supported_tenants
            tenant = tenants_listed.get(tenants)
            tenant_set.append(tenant_sets.number(tenants) if tenant is None else tenant)
            protocols = tuple(map(_PROTOCOL, agent.endpoints))
            protocol = protocols_listed.get(protocols)
            protocol_set.append(protocol_sets.number(protocols) if protocol is None else protocol)
            name = agent.name
            own_names.append(name)
            # the name as a new string (the key's tail: keys are ns/name), made next to the others: the findings'
            # texts read it, and the agents' own strings are far apart in memory at 50 000 agents
            names.append(key[len(key) - len(name) :])
            offers.append(frozenset(map(_NAME, agent.capabilities)))
        self.keys = list(self.by_key)
        self.agents = list(self.by_key.values())
        self.party_of = {key: party for party, key in enumerate(self.keys)}
        named: dict[str, list[int]] = {}
        for party, name in enumerate(own_names):
            found = named.get(name)
            if found is None:
                named[name] = [party]
            else:
                found.append(party)
        # A ref without "/" names no agent key (keys are ns/name), so `RefIndex.agents_named` finds it by name.
        self.named = {name: tuple(found) for name, found in named.items() if "/" not in name}
        for name, parties in self.named.items():
            if not name.startswith((GROUP_PREFIX, CHANNEL_PREFIX)):
                self.ids[name] = self._entry("agent", parties)

    def _entry(self, kind: str, parties: tuple[int, ...]) -> int:
        self.kinds.append(kind)
        self.members.append(parties)
        return len(self.kinds) - 1

    def add(self, ref: str) -> int:
        """The entry id of a ref not looked up before (-1: it names nothing)."""
        named, index = self.named, self.index
        kind: str | None
        if named is not None and ref.startswith(GROUP_PREFIX):  # a group's members, from the bare names' parties
            group = index.groups.get(ref[len(GROUP_PREFIX) :])
            members = group.members if group is not None else ()
            parties = tuple(p for m in members for p in (named.get(m, ()) if "/" not in m else self._keyed(m)))
            kind = "group" if group is not None else None
        elif named is not None and "/" not in ref and not ref.startswith(CHANNEL_PREFIX):
            kind, parties = None, ()  # no agent has this name (every bare agent name has its entry already)
        else:
            kind, parties = index.kind(ref), tuple(self.party(a.key) for a in index.agents_of(ref))
        found = self.ids[ref] = -1 if kind is None else self._entry(kind, parties)  # a ref to nothing: no agents
        return found

    def entry(self, ref: str) -> tuple[str | None, tuple[int, ...]]:
        """The ref's kind (`RefIndex.kind`) and its parties (`RefIndex.agents_of`)."""
        found = self.ids.get(ref)
        if found is None:
            found = self.add(ref)
        return (None, ()) if found < 0 else (self.kinds[found], self.members[found])

    def _keyed(self, ref: str) -> tuple[int, ...]:
        """The parties a ref with "/" names (`RefIndex.agents_named`)."""
        return tuple(self.party(a.key) for a in self.index.agents_named(ref))

    def party(self, key: str) -> int:
        found = self.party_of.get(key)
        if found is None:
            agent = self.by_key[key]
            found = self.party_of[key] = len(self.keys)
            self.keys.append(key)
            self.agents.append(agent)
            self.names.append(agent.name)
            self.tenant_set.append(self.tenant_sets.number(agent.supported_tenants))
            self.protocol_set.append(self.protocol_sets.number(tuple(map(_PROTOCOL, self.own[key].endpoints))))
            self.offers.append(frozenset(map(_NAME, agent.capabilities)))
        return found

    def offered(self, entry: int, ref: str) -> frozenset[str] | set[str]:
        """The names of the capabilities the agents of a callee (a known ref) provide."""
        if not self.exact:  # agents of one key may provide other capabilities than the one its party keeps
            return {c.name for a in self.index.agents_of(ref) for c in a.capabilities}
        parties = self.members[entry]
        if len(parties) == 1:  # most refs: the names made once per agent, in design order
            return self.offers[parties[0]]
        return frozenset().union(*(self.offers[p] for p in parties))


_Ids = npt.NDArray[np.int64]
_Flags = npt.NDArray[np.bool_]
_ROW = 4  # tenant sets up to this size are compared as rows of tenant numbers (row × row per pair); larger, as sets
_TABLE = 1 << 16  # up to this many (caller protocols, callee protocols, edge protocol) codes: a table by code


class _PairChecks:
    """Every (caller, callee) party pair of the edges as arrays (`expand_trust`'s pairs, edge by edge, callers
    then callees in their refs' order, self pairs included) and which pairs are bad: tenants (both parties name
    tenants, none in common) and protocols (`_protocol_ok` fails). Numpy does per pair what a loop over the
    pairs did, so the pairs cost a few passes over arrays of ids, not a visit of each party's Python objects."""

    def __init__(
        self, sides: _Sides, callers: list[int], callees: list[int], *, protocol_of: list[int], protocols: list[str]
    ) -> None:
        sizes = np.fromiter(map(len, sides.members), np.int64, len(sides.members))
        sizes = np.append(sizes, 0)  # entry -1 (a ref to nothing) is this last one: no parties
        flat = np.fromiter(chain.from_iterable(sides.members), np.int64, int(sizes.sum()))
        starts = np.cumsum(sizes) - sizes
        caller, callee = np.fromiter(callers, np.int64, len(callers)), np.fromiter(callees, np.int64, len(callees))
        widths = sizes[callee]
        counts = sizes[caller] * widths
        self.edges = len(callers)
        self.edge: _Ids = np.repeat(np.arange(self.edges, dtype=np.int64), counts)  # each pair's edge
        within = np.arange(self.edge.size, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        width = widths[self.edge]
        self.caller: _Ids = flat[starts[caller][self.edge] + within // width]  # party ids
        self.callee: _Ids = flat[starts[callee][self.edge] + within % width]
        self.other: _Flags = self.caller != self.callee  # a pair of two agents (none trusts itself)
        tenant_set = np.fromiter(sides.tenant_set, np.int64, len(sides.tenant_set))
        caller_tenants, callee_tenants = tenant_set[self.caller], tenant_set[self.callee]
        self.bad_tenant: _Flags = self.other & (caller_tenants != 0) & (callee_tenants != 0)  # set 0: every tenant
        checked = np.flatnonzero(self.bad_tenant)
        shared = _overlap(sides.tenant_sets, caller_tenants[checked], callee_tenants[checked])
        self.bad_tenant[checked[shared]] = False
        protocol_set = np.fromiter(sides.protocol_set, np.int64, len(sides.protocol_set))
        ok = _protocols_ok(
            sides.protocol_sets.sets,
            protocol_set[self.caller],
            protocol_set[self.callee],
            protocols,
            np.fromiter(protocol_of, np.int64, len(protocol_of))[self.edge],
        )
        self.bad_protocol: _Flags = self.other & ~ok

    def listed(
        self, bad: _Flags, keys: list[str], text: Callable[[int, int], str], *, by_key: bool
    ) -> list[tuple[str, int, list[str]]]:
        """For each edge key with `bad` pairs: the key, how many (the pairs of edges of one key add up) and the
        first `MAX_LISTED` pairs' texts, in the order of the keys (`by_key`) or the order they first have one.
        The bad edges are sorted by key (stably: edges of one key stay in edge order) and runs of one key merged,
        so no table of keys is made (at 150 000 bad edges each entry would be a visit of memory at random)."""
        at = np.flatnonzero(bad)
        if not at.size:
            return []
        edge = self.edge[at]
        starts = np.flatnonzero(np.diff(edge, prepend=-1))  # each bad edge's first bad pair
        counts, firsts = np.diff(starts, append=at.size).tolist(), starts.tolist()
        callers, callees = self.caller[at].tolist(), self.callee[at].tolist()
        edge_keys = [keys[e] for e in edge[starts].tolist()]
        found: list[tuple[str, int, list[str]]] = []
        seen: list[int] = []  # by run: its first bad edge (for the order of first appearance)
        previous = None
        for b in sorted(range(len(edge_keys)), key=edge_keys.__getitem__):
            key, count, first = edge_keys[b], counts[b], firsts[b]
            if key != previous:
                if count == 1:  # most bad edges: one pair
                    found.append((key, 1, [text(callers[first], callees[first])]))
                else:
                    shown = range(first, first + min(count, MAX_LISTED))
                    found.append((key, count, [text(callers[i], callees[i]) for i in shown]))
                seen.append(b)
                previous = key
            else:  # another edge of the key before
                key, before, texts = found[-1]
                texts += [text(callers[i], callees[i]) for i in range(first, first + min(count, MAX_LISTED - before))]
                found[-1] = (key, before + count, texts)
        if not by_key:
            found = [found[i] for i in sorted(range(len(found)), key=seen.__getitem__)]
        return found

    def self_only(self) -> list[int]:
        """The edges (positions) whose pairs are all an agent with itself (an agent to itself, or a group of one
        to that agent), in order."""
        every = np.bincount(self.edge, minlength=self.edges)
        other = np.bincount(self.edge[self.other], minlength=self.edges)
        found: list[int] = np.flatnonzero((every > 0) & (other == 0)).tolist()
        return found

    def paired(self) -> list[int]:
        """The edges (positions) that pair two different agents, in order."""
        found: list[int] = np.flatnonzero(np.bincount(self.edge[self.other], minlength=self.edges)).tolist()
        return found


def _overlap(numbered: _Numbered, left: _Ids, right: _Ids) -> _Flags:
    """Whether the sets numbered `left[i]` and `right[i]` share an item, for each i: sets of up to `_ROW` items as
    rows of item numbers (padded with -1 on the left, -2 on the right) compared cell by cell; larger ones as sets."""
    sizes = np.fromiter(numbered.sizes, np.int64, len(numbered.sizes))
    items = np.fromiter(numbered.items, np.int64, len(numbered.items))
    wide = int(min(sizes.max(initial=1), _ROW))
    row = np.repeat(np.arange(sizes.size, dtype=np.int64), sizes)
    column = np.arange(items.size, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    cells = column < wide
    rows = np.full((sizes.size, wide), -1, np.int64)
    rows[row[cells], column[cells]] = items[cells]
    lefts, rights = rows[left], np.where(rows < 0, -2, rows)[right]
    shared = np.zeros(left.size, np.bool_)
    for j in range(wide):
        for k in range(wide):
            shared |= lefts[:, j] == rights[:, k]
    sets = numbered.sets
    for i in np.flatnonzero((sizes[left] > wide) | (sizes[right] > wide)).tolist():
        shared[i] = not sets[left[i]].isdisjoint(sets[right[i]])
    return shared


def _protocols_ok(
    sets: Sequence[frozenset[str]], caller: _Ids, callee: _Ids, protocols: list[str], edge: _Ids
) -> _Flags:
    """`_protocol_ok` of each pair (its caller's and callee's protocol set numbers, its edge's protocol number),
    worked out once per distinct combination."""
    n_sets, n_protocols = len(sets), len(protocols)
    code = (caller * n_sets + callee) * n_protocols + edge
    table = n_sets * n_sets * n_protocols <= _TABLE
    present: _Ids = np.flatnonzero(np.bincount(code)) if table else np.unique(code)
    ok = np.array(
        [
            _protocol_ok(sets[c // (n_sets * n_protocols)], sets[c // n_protocols % n_sets], protocols[c % n_protocols])
            for c in present.tolist()
        ],
        np.bool_,
    )
    if table:
        by_code = np.zeros(n_sets * n_sets * n_protocols, np.bool_)
        by_code[present] = ok
        found: _Flags = by_code[code]
    else:
        found = ok[np.searchsorted(present, code)]
    return found


def _trust(design: Design, index: RefIndex, *, by_key: bool = False) -> list[Finding]:
    """Every trust finding: `_trust_parts` one after the other."""
    unknown, crossed, mismatched = _trust_parts(design, index, by_key=by_key)
    return [*unknown, *crossed, *mismatched]


def _trust_parts(
    design: Design, index: RefIndex, *, by_key: bool = False
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Every trust finding in one pass over the edges (each edge's refs looked up once, as entry ids): unknown
    targets (edge order) and edges that only pair an agent with itself (`self-trust`, edge order, after them),
    then the cross-tenant and protocol findings of the pairs `expand_trust` gives, checked in numpy
    (`_PairChecks`); a finding keeps the first pairs it names and their count. The pair findings come
    in the order their edge keys first appear, or, with `by_key`, in the order of their keys (lint's final
    order within each code). Returned as three lists: the unknown targets and self-trust findings, the
    cross-tenant findings and the protocol findings.
    """
    unknown: list[Finding] = []  # and the self-trust findings
    offered_by: dict[int, frozenset[str] | set[str]] = {}  # callee entry → the capability names its agents provide
    sides = _Sides(design, index)
    ids, add = sides.ids, sides.add
    edges = design.trust_edges
    callers: list[int] = []  # by edge: entry ids
    callees: list[int] = []
    protocols: dict[str, int] = {}  # edge protocol → number
    protocol_of: list[int] = []  # by edge
    keys: list[str] = []  # by edge: made while the edge is at hand (bad edges are most edges of a large design)
    for edge in edges:
        caller_ref, callee_ref = edge.caller, edge.callee
        caller = ids.get(caller_ref)
        if caller is None:
            caller = add(caller_ref)
        callee = ids.get(callee_ref)
        if callee is None:
            callee = add(callee_ref)
        callers.append(caller)
        callees.append(callee)
        protocol_of.append(protocols.setdefault(edge.protocol, len(protocols)))
        key = edge.key
        keys.append(key)
        if caller < 0 or callee < 0:
            for role, ref, entry in (("caller", caller_ref, caller), ("callee", callee_ref, callee)):
                if entry < 0:
                    unknown.append(
                        Finding(
                            "unknown-trust-target",
                            ERROR,
                            (trust_key(key),),
                            f"trust edge {key}: {role} {ref!r} names no agent, group or channel",
                            "fix the name, add the missing agent/group, or remove the edge",
                        )
                    )
        caps = edge.capabilities
        if caps and callee >= 0:
            offered = offered_by.get(callee)
            if offered is None:
                offered = offered_by[callee] = sides.offered(callee, callee_ref)
            missing = [] if offered.issuperset(caps) else [c for c in caps if c not in offered]
            if missing:
                unknown.append(
                    Finding(
                        "unknown-trust-target",
                        ERROR,
                        (trust_key(key), *(_cap(c) for c in missing)),
                        f"trust edge {key}: {callee_ref} does not provide {', '.join(missing)}",
                        f"limit the edge to capabilities it provides ({', '.join(sorted(offered)) or 'none'})",
                    )
                )
    if not edges:
        return unknown, [], []
    pairs = _PairChecks(sides, callers, callees, protocol_of=protocol_of, protocols=list(protocols))
    names, agents = sides.names, sides.agents

    def tenant_text(caller: int, callee: int) -> str:
        return f"{names[caller]}→{names[callee]}"

    def protocol_text(caller: int, callee: int) -> str:
        a, b = agents[caller], agents[callee]
        return f"{a.name} [{', '.join(a.protocols)}]→{b.name} [{', '.join(b.protocols)}]"

    crossed = [
        Finding(
            "cross-tenant-trust",
            WARNING,
            (trust_key(key),),
            f"trust edge {key} lets agents that share no tenant call each other: {_names(texts, count)}",
            "limit the edge to agents of the same tenant, or add the tenant to both agents",
        )
        for key, count, texts in pairs.listed(pairs.bad_tenant, keys, tenant_text, by_key=by_key)
    ]
    bad_protocol = pairs.listed(pairs.bad_protocol, keys, protocol_text, by_key=by_key)
    last = _last_paired(edges, pairs.paired(), {key for key, _, _ in bad_protocol}) if bad_protocol else {}
    mismatched = [
        Finding(
            "protocol-mismatch",
            WARNING,
            (trust_key(key),),
            f"trust edge {key}{f' over {last[key].protocol}' if last[key].protocol else ''}: caller and callee "
            f"share no protocol: {_names(texts, count)}",
            "pick a protocol from the callee's endpoints, or add a matching endpoint to the caller",
        )
        for key, count, texts in bad_protocol
    ]
    said: set[str] = set()  # edges of one key (other protocols) name the same refs: one finding per key
    for e in pairs.self_only():
        key = keys[e]
        if key in said:
            continue
        said.add(key)
        unknown.append(_self_trust(key, names[int(pairs.caller[np.searchsorted(pairs.edge, e)])]))
    return unknown, crossed, mismatched


def _self_trust(key: str, alone: str) -> Finding:
    return Finding(
        "self-trust",
        WARNING,
        (trust_key(key),),
        f"trust edge {key} only lets {alone} call itself: it has no effect (no policy is exported for it)",
        "remove the edge, or point it at the other agent, group or channel meant",
    )


def _last_paired(edges: Sequence[TrustEdge], paired: list[int], keys: Container[str]) -> dict[str, TrustEdge]:
    """For each of `keys`: the last edge with that key that pairs two different agents (`paired`: the positions
    of those edges; edges of one key may name different protocols, the finding's text names the last one's)."""
    found: dict[str, TrustEdge] = {}
    for e in paired:
        edge = edges[e]
        key = edge.key
        if key in keys:
            found[key] = edge
    return found


# --- routing quality ------------------------------------------------------------------------------------


def _missing_examples(resolutions: Sequence[Resolution]) -> Iterator[Finding]:
    for resolution in resolutions:
        for wire in resolution.wires:
            if not wire.provided.examples:
                yield Finding(
                    "missing-examples",
                    WARNING,
                    (channel_node(resolution.channel), agent_node(wire.agent), _cap(wire.provided.name)),
                    f"Channel {resolution.channel.key}: {wire.agent.name} provides {wire.provided.name} "
                    "without examples, so vector routing cannot pick it",
                    "add 3–10 example customer messages to the capability",
                )


# --- names ----------------------------------------------------------------------------------------------


def _names_findings(design: Design) -> Iterator[Finding]:
    label_problems: dict[str, str | None] = {}  # namespaces: few distinct values, many agents
    value_problems: dict[str, str | None] = {}  # label values likewise

    def label(value: str) -> str | None:
        if value not in label_problems:
            label_problems[value] = dns1123_label_problem(value)
        return label_problems[value]

    def label_value(value: str) -> str | None:
        if value not in value_problems:
            value_problems[value] = label_value_problem(value)
        return value_problems[value]

    def found(obj: str, what: str, problem: str, value: str, letter_prefix: str = "") -> Finding:
        fix = f"rename it, e.g. {suggest_name(value, letter_prefix=letter_prefix)!r}"
        return Finding("invalid-name", ERROR, (obj,), f"{what} {value!r} {problem}", fix)

    for agent in design.agents:
        name, namespace = agent.name, agent.namespace
        name_problem, namespace_problem = dns1035_label_problem(name), label(namespace)
        bad_labels = [(k, v, problem) for k, v in agent.labels.items() if (problem := label_value(v))]
        if name_problem or namespace_problem or bad_labels:
            node = agent_node(agent)
            if name_problem:
                yield found(node, "Agent name (a Service host name, RFC 1035 label)", name_problem, name, "agent-")
            if namespace_problem:
                yield found(node, "namespace", namespace_problem, namespace)
            for k, v, problem in sorted(bad_labels):
                yield found(node, f"Agent {name} label {k}", problem, v)
        # a channel or tenant is matched against a Channel's label: one no label can hold matches no Channel
        for what, values in (("supported channel", agent.supported_channels), ("tenant", agent.supported_tenants)):
            for value in values:
                if problem := label_value(value):
                    message = f"Agent {name} {what} {value!r} {problem}: no Channel label holds it, it matches none"
                    fix = f"write it as a Channel's label would be, e.g. {suggest_name(value)!r}"
                    if value.strip() in WILDCARDS:  # meant as "every": the operator reads no wildcard
                        plural = "supportedTenants" if what == "tenant" else "supportedChannels"
                        fix = f"leave {plural} empty to serve every {what.split()[-1]} (the operator has no wildcard)"
                    yield Finding("invalid-name", ERROR, (agent_node(agent),), message, fix)
    for channel in design.channels:
        node = channel_node(channel)
        problem = dns1123_subdomain_problem(channel.name)
        if problem:
            yield found(node, "Channel name (RFC 1123 subdomain)", problem, channel.name)
        problem = label(channel.namespace)
        if problem:
            yield found(node, "namespace", problem, channel.namespace)
        for k, v in sorted(channel.labels.items()):
            problem = label_value(v)
            if problem:
                yield found(node, f"Channel {channel.name} label {k}", problem, v)
    for group in design.groups:
        problem = dns1123_label_problem(group.name)
        if problem:
            yield found(group_node(group.name), "group name (RFC 1123 label)", problem, group.name)


def _missing_channel_labels(design: Design) -> Iterator[Finding]:
    """A Channel without one of the labels the operator copies onto its ChannelRouting and the runtime finds it by
    (LMOS.md §1.3): export refuses it, so lint says so first."""
    for channel in design.channels:
        missing = channel.missing_labels
        if missing:
            named = ", ".join(missing)
            yield Finding(
                "missing-channel-label",
                ERROR,
                (channel_node(channel),),
                f"Channel {channel.key} lacks the label{'s' if len(missing) > 1 else ''} {named}: the operator copies "
                f"{', '.join(CHANNEL_LABELS)} onto its ChannelRouting and the runtime finds Channels by them; "
                "export refuses it",
                f'add metadata.labels {named} (e.g. version: "1.0.0"; subset, if left out, is {DEFAULT_SUBSET})',
            )


def _duplicate_channels(design: Design) -> Iterator[Finding]:
    """Channels of one namespace with the same tenant, channel and subset labels: the operator API answers the
    runtime's lookup with "the first matching" one (LMOS.md §2.1), so which one routes is left to list order."""
    seen: dict[tuple[str, str, str, str], list[Channel]] = {}
    for channel in design.channels:
        if channel.tenant and channel.channel:  # without those labels: `missing-channel-label`
            seen.setdefault((channel.namespace, channel.tenant, channel.channel, channel.subset), []).append(channel)
    for (namespace, tenant, label, subset), same in seen.items():
        if len(same) > 1:
            names = ", ".join(c.key for c in same)
            yield Finding(
                "duplicate-channel",
                ERROR,
                tuple(channel_node(c) for c in same),
                f"Channels {names} all have tenant {tenant}, channel {label} and subset {subset} in namespace "
                f"{namespace}: the operator API answers the runtime with the first matching one, so which of them "
                "routes is left to chance",
                "give each a different channel or subset label, or remove all but one",
            )


# --- entry point ----------------------------------------------------------------------------------------


def trust_findings(design: Design, index: RefIndex) -> list[Finding]:
    """Findings about the trust edges (unknown targets, self-trust, cross-tenant, protocol mismatch). Each edge's
    findings depend only on that edge and on the agents, groups and channels, so an editor may keep them per edge (when
    no two edges share a key) and pass them to `lint_design(trust=…)`."""
    return _trust(design, index)


PAIR_CODES = ("cross-tenant-trust", "protocol-mismatch")  # the trust findings that look at agent pairs


def unknown_target_findings(design: Design, index: RefIndex) -> list[Finding]:
    """The `unknown-trust-target` findings of `trust_findings`, in its order, without looking at agent pairs
    (for a summary before the list; each ref is looked up once)."""
    kinds: dict[str, str | None] = {}
    offered_by: dict[str, set[str]] = {}  # callee ref → the capability names its agents provide
    found: list[Finding] = []
    for edge in design.trust_edges:
        for ref in (edge.caller, edge.callee):
            if ref not in kinds:
                kinds[ref] = index.kind(ref)
        for role, ref in (("caller", edge.caller), ("callee", edge.callee)):
            if kinds[ref] is None:
                found.append(
                    Finding(
                        "unknown-trust-target",
                        ERROR,
                        (trust_key(edge.key),),
                        f"trust edge {edge.key}: {role} {ref!r} names no agent, group or channel",
                        "fix the name, add the missing agent/group, or remove the edge",
                    )
                )
        if edge.capabilities and kinds[edge.callee] is not None:
            offered = offered_by.get(edge.callee)
            if offered is None:
                offered = offered_by[edge.callee] = {
                    c.name for a in index.agents_of(edge.callee) for c in a.capabilities
                }
            missing = [c for c in edge.capabilities if c not in offered]
            if missing:
                found.append(
                    Finding(
                        "unknown-trust-target",
                        ERROR,
                        (trust_key(edge.key), *(_cap(c) for c in missing)),
                        f"trust edge {edge.key}: {edge.callee} does not provide {', '.join(missing)}",
                        f"limit the edge to capabilities it provides ({', '.join(sorted(offered)) or 'none'})",
                    )
                )
    return found


def self_trust_findings(design: Design, index: RefIndex) -> list[Finding]:
    """The `self-trust` findings of `trust_findings`, in its order, without listing pairs: an edge whose caller
    and callee both stand for one and the same agent (one check per edge; each ref is looked up once)."""
    alone: dict[str, Agent | None] = {}  # ref → the one agent it stands for (None: none, or several)
    found: list[Finding] = []
    said: set[str] = set()
    for edge in design.trust_edges:
        for ref in (edge.caller, edge.callee):
            if ref not in alone:
                keys = {a.key: a for a in index.agents_of(ref)}
                alone[ref] = next(iter(keys.values())) if len(keys) == 1 else None
        caller, callee = alone[edge.caller], alone[edge.callee]
        key = edge.key
        if caller is not None and callee is not None and caller.key == callee.key and key not in said:
            said.add(key)
            found.append(_self_trust(key, caller.name))
    return found


def trust_pair_counts(design: Design, index: RefIndex) -> dict[str, int]:
    """How many findings of each of `PAIR_CODES` `trust_findings` holds (one per trust edge key with a bad
    pair), without listing pairs: per ref, agents are grouped by tenant set and by protocol set, so an edge
    costs its callers' groups × its callees' groups, not its pairs. For a summary before the list."""
    tenants = {key: frozenset(a.supported_tenants) for key, a in index.by_key.items()}
    protocols = {a.key: frozenset(e.protocol for e in a.endpoints) for a in design.agents}
    named = dict.fromkeys(ref for e in design.trust_edges for ref in (e.caller, e.callee))
    refs = {ref: _pair_classes(index, ref, tenants, protocols) for ref in named}
    cross_tenant: set[str] = set()
    mismatch: set[str] = set()
    for edge in design.trust_edges:
        key, protocol = edge.key, edge.protocol
        caller_tenants, caller_protocols, caller_common = refs[edge.caller]
        callee_tenants, callee_protocols, callee_common = refs[edge.callee]
        if (
            callee_tenants
            and key not in cross_tenant
            and any(a.isdisjoint(b) for a in caller_tenants for b in callee_tenants)
        ):
            cross_tenant.add(key)  # two disjoint non-empty tenant sets are two different agents
        if key in mismatch or (
            protocol
            and (caller_common is None or protocol in caller_common)
            and (callee_common is None or protocol in callee_common)
        ):  # every caller and callee that names endpoints offers the edge's protocol: no mismatch
            continue
        if any(
            not _protocol_ok(p, q, protocol) and (p != q or len(callers | callees) > 1)
            for p, callers in caller_protocols
            for q, callees in callee_protocols
        ):  # with the same protocols on both sides the pair must be two agents (none trusts itself)
            mismatch.add(key)
    return {"cross-tenant-trust": len(cross_tenant), "protocol-mismatch": len(mismatch)}


_PairClasses = tuple[
    tuple[frozenset[str], ...], tuple[tuple[frozenset[str], frozenset[str]], ...], frozenset[str] | None
]


def _pair_classes(
    index: RefIndex, ref: str, tenants: dict[str, frozenset[str]], protocols: dict[str, frozenset[str]]
) -> _PairClasses:
    """A ref's agents as their distinct non-empty tenant sets, their protocol sets with the agents holding each,
    and the protocols common to every agent that names endpoints (None: no agent does)."""
    agents = index.agents_of(ref)
    if len(agents) == 1:  # most refs: one agent
        key = agents[0].key
        tenant_set, protocol_set = tenants[key], protocols[key]
        return ((tenant_set,) if tenant_set else (), ((protocol_set, frozenset((key,))),), protocol_set or None)
    keys = {a.key for a in agents}
    by_protocols: dict[frozenset[str], set[str]] = {}
    for key in keys:
        by_protocols.setdefault(protocols[key], set()).add(key)
    named = [p for p in by_protocols if p]
    return (
        tuple({tenants[k] for k in keys} - {frozenset()}),  # an empty tenant set is every tenant
        tuple((p, frozenset(k)) for p, k in by_protocols.items()),
        frozenset.intersection(*named) if named else None,
    )


def lint_design(
    design: Design,
    *,
    resolutions: Sequence[Resolution] | None = None,
    extra: Sequence[Finding] = (),
    trust: Sequence[Finding] | None = None,
) -> list[Finding]:
    """Every finding about a design, errors first, then by code and objects (a stable order).

    `ambiguous-capabilities` needs the routers (a higher layer): `routing.confusion.lint_with_routing` adds
    those findings through `extra`; this function alone does not report them. `trust`: `trust_findings` of
    this design, when the caller kept them."""
    with gc_paused():  # lint makes no cycles: collecting would only re-walk the findings as they grow
        return _lint(design, resolutions, extra, trust)


def _lint(
    design: Design,
    resolutions: Sequence[Resolution] | None,
    extra: Sequence[Finding],
    trust: Sequence[Finding] | None,
) -> list[Finding]:
    resolutions = list(resolutions) if resolutions is not None else safe_resolutions(design)
    index = RefIndex(design, resolutions)
    # `_trust_parts(by_key=True)` gives the pair findings in their final order (one per edge key, in the keys'
    # order, their objects `trust:<key>`): they go to the order as runs, not one by one (at 150 000 of them
    # another visit of each finding and the sort's keys cost as much as making them).
    runs: dict[str, list[Finding]] = {}
    if trust is None:
        trust, runs["cross-tenant-trust"], runs["protocol-mismatch"] = _trust_parts(design, index, by_key=True)
    findings = [
        *_unresolved(design, resolutions),
        *_invalid_versions(design),
        *_orphans(design, resolutions),
        *trust,
        *_missing_examples(resolutions),
        *extra,
        *_canary(design, resolutions),
        *_rollouts(design),
        *_names_findings(design),
        *_caret_zero(design),
        *_out_of_scope(design, resolutions),
        *_missing_channel_labels(design),
        *_duplicate_channels(design),
    ]
    return _in_order(findings, runs=runs)


def _in_order(findings: Iterable[Finding], *, runs: dict[str, list[Finding]] | None = None) -> list[Finding]:
    """Errors first, then by code (`CODES` order), objects and message; stable. Findings are put in buckets by
    (severity, code) first, so the sort compares only objects and messages, within one bucket. `runs`: code →
    findings of that code, all warnings, already in that order and coming before `findings` (a bucket that also
    gets findings of `findings` is sorted as a whole)."""
    buckets: dict[tuple[int, int], list[Finding]] = {}
    presorted: set[tuple[int, int]] = set()
    for code, run in (runs or {}).items():
        if run:
            rank = (SEVERITY_ORDER[WARNING], _CODE_ORDER[code])
            buckets[rank] = list(run)
            presorted.add(rank)
    for finding in findings:
        rank = (SEVERITY_ORDER[finding.severity], _CODE_ORDER[finding.code])
        bucket = buckets.get(rank)
        if bucket is None:
            buckets[rank] = [finding]
        else:
            bucket.append(finding)
            presorted.discard(rank)
    ordered: list[Finding] = []
    for rank in sorted(buckets):
        bucket = buckets[rank]
        ordered += bucket if rank in presorted else sorted(bucket, key=_objects_message)
    return ordered


def _objects_message(finding: Finding) -> tuple[str, tuple[str, ...], str]:
    """The order of (objects, message), led by the first object: keys whose first items are all strings
    compare faster (an empty `objects` leads with "", which sorts it first, as `()` sorts first)."""
    objects = finding.objects
    return (objects[0] if objects else ""), objects, finding.message


def has_errors(findings: Sequence[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)


def finding_rows(findings: Sequence[Finding]) -> list[dict[str, str]]:
    """Findings as table rows (for the page and the CLI table)."""
    return [
        {"severity": f.severity, "code": f.code, "objects": ", ".join(f.objects), "message": f.message, "fix": f.fix}
        for f in findings
    ]
