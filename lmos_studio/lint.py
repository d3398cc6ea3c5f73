"""Design lint: findings (code, severity, objects, message, fix) about resolution, trust, names and routing.

Pure functions over the model. Object ids are the graph's node ids (`agent:<ns>/<name>`, `group:<name>`,
`channel:<ns>/<name>`), trust edge ids (`trust:<edge key>`) and `capability:<name>`, so the Designer can
highlight them. The codes are part of the CLI contract (`lmos-studio lint`): keep their names.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, NamedTuple

from lmos_studio.errors import VersionError
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.graph import agent_node, channel_node, group_node, trust_key
from lmos_studio.model import CHANNEL_PREFIX, GROUP_PREFIX, Agent, Design, TrustEdge
from lmos_studio.names import dns1123_label_problem, dns1123_subdomain_problem, label_value_problem, suggest_name
from lmos_studio.resolve import Resolution, Unresolved, mismatch_reasons, provided_version
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
    "missing-examples",
    "ambiguous-capabilities",
    "canary-without-agents",
    "invalid-name",
    "caret-zero-range",
)
MAX_LISTED = 5  # agents named in one message before "…"
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


class _Party(NamedTuple):
    """What the trust checks need of one agent (by key, as `expand_trust` names them)."""

    key: str
    agent: Agent
    name: str  # the agent's name, kept here so listing a pair does not go back to the agent
    tenants: frozenset[str]  # empty: every tenant
    protocols: frozenset[str]  # of its endpoints
    offers: frozenset[str]  # the names of the capabilities it provides


class _Sides:
    """Each ref and each agent key of a design's trust edges looked up once (edges name them many times): a ref's
    kind and the facts of the agents it stands for, in one entry, so an edge costs one lookup per ref.
    Equal tenant and protocol sets are one object, so comparing them stays in a few hot objects.

    When the design's agent keys are distinct (`exact`), every agent's facts and every bare agent name's entry
    are made up front in one pass in design order, so the edges, which name agents in no order, look up only
    these small records and never go back to the agents' models (at 50 000 agents those are far apart in
    memory and each visit is a cache miss); a party's `agent` is then the very agent `RefIndex.agents_of`
    gives. Otherwise entries are made as edges first name them, from `RefIndex`."""

    def __init__(self, design: Design, index: RefIndex) -> None:
        self.index = index
        self.by_key = index.by_key
        self.own = self.by_key if design.agents is index.design.agents else {a.key: a for a in design.agents}
        self.refs: dict[str, tuple[str | None, tuple[_Party, ...]]] = {}
        self.parties: dict[str, _Party] = {}
        self.sets: dict[frozenset[str], frozenset[str]] = {}
        self.named: dict[str, tuple[_Party, ...]] | None = None  # bare agent name → its agents' facts (`exact`)
        self.exact = self.own is self.by_key and len(self.by_key) == len(design.agents)
        if self.exact:
            self._prefill()

    def _prefill(self) -> None:
        parties, sets = self.parties, self.sets
        named: dict[str, list[_Party]] = {}
        for key, agent in self.by_key.items():  # every agent in design order (keys distinct), its key made once
            name = agent.name
            tenants = frozenset(agent.supported_tenants)
            protocols = frozenset(e.protocol for e in agent.endpoints)
            tenants, protocols = sets.setdefault(tenants, tenants), sets.setdefault(protocols, protocols)
            offers = frozenset([c.name for c in agent.capabilities])
            party = parties[key] = _Party(key, agent, name, tenants, protocols, offers)
            found = named.get(name)
            if found is None:
                named[name] = [party]
            else:
                found.append(party)
        # A ref without "/" names no agent key (keys are ns/name), so `RefIndex.agents_named` finds it by name.
        self.named = {name: tuple(found) for name, found in named.items() if "/" not in name}
        self.refs.update(
            (name, ("agent", found))
            for name, found in self.named.items()
            if not name.startswith((GROUP_PREFIX, CHANNEL_PREFIX))
        )

    def entry(self, ref: str) -> tuple[str | None, tuple[_Party, ...]]:
        """The ref's kind (`RefIndex.kind`: None for a ref to nothing) and the facts of the agents it stands for
        (`RefIndex.agents_of`)."""
        found = self.refs.get(ref)
        if found is None:
            named, index = self.named, self.index
            if named is not None and ref.startswith(GROUP_PREFIX):  # a group's members, from the bare names' facts
                group = index.groups.get(ref[len(GROUP_PREFIX) :])
                members = group.members if group is not None else ()
                parties = tuple(p for m in members for p in (named.get(m, ()) if "/" not in m else self.keyed(m)))
                found = ("group" if group is not None else None, parties)
            elif named is not None and "/" not in ref and not ref.startswith(CHANNEL_PREFIX):
                found = (None, ())  # no agent has this name (every bare agent name has its entry already)
            else:
                found = (index.kind(ref), tuple(self.party(a.key) for a in index.agents_of(ref)))
            self.refs[ref] = found
        return found

    def keyed(self, ref: str) -> tuple[_Party, ...]:
        """The facts of the agents a ref with "/" names (`RefIndex.agents_named`)."""
        return tuple(self.party(a.key) for a in self.index.agents_named(ref))

    def side(self, ref: str) -> tuple[_Party, ...]:
        """The facts of the agents a ref stands for (`RefIndex.agents_of`)."""
        return self.entry(ref)[1]

    def party(self, key: str) -> _Party:
        found = self.parties.get(key)
        if found is None:
            agent, sets = self.by_key[key], self.sets
            tenants = frozenset(agent.supported_tenants)
            protocols = frozenset(e.protocol for e in self.own[key].endpoints)
            tenants, protocols = sets.setdefault(tenants, tenants), sets.setdefault(protocols, protocols)
            offers = frozenset([c.name for c in agent.capabilities])
            found = self.parties[key] = _Party(key, agent, agent.name, tenants, protocols, offers)
        return found


def _trust(design: Design, index: RefIndex, *, by_key: bool = False) -> list[Finding]:
    """Every trust finding: `_trust_parts` one after the other."""
    unknown, crossed, mismatched = _trust_parts(design, index, by_key=by_key)
    return [*unknown, *crossed, *mismatched]


def _trust_parts(
    design: Design, index: RefIndex, *, by_key: bool = False
) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Every trust finding in one pass over the edges (each edge's refs looked up once): unknown targets (edge
    order), then cross-tenant and protocol findings of the pairs `expand_trust` gives, without a list of pairs:
    an edge's pairs are checked as they are made, and a finding keeps the first pairs it names and their count.
    An edge's key is made only when it has a finding (parties are one object per agent key, so a pair of one
    agent is told by identity). The pair findings come in the order their edge keys first appear, or, with
    `by_key`, in the order of their keys (lint's final order within each code). Returned as three lists: the
    unknown targets, the cross-tenant findings and the protocol findings.
    """
    unknown: list[Finding] = []
    offered_by: dict[str, AbstractSet[str]] = {}  # callee ref → the capability names its agents provide
    # edge key → [count, first pair, …]: the pairs its finding names (the first `MAX_LISTED`) and how many there are
    bad_tenant: dict[str, list[Any]] = {}
    bad_protocol: dict[str, list[Any]] = {}
    sides = _Sides(design, index)
    known, entry, exact = sides.refs, sides.entry, sides.exact  # exact: a party's agent is the ref's agent
    for edge in design.trust_edges:
        caller_ref, callee_ref = edge.caller, edge.callee
        caller_kind, callers = known.get(caller_ref) or entry(caller_ref)
        callee_kind, callees = known.get(callee_ref) or entry(callee_ref)
        key = ""
        if caller_kind is None or callee_kind is None:
            key = edge.key
            for role, ref, kind in (("caller", caller_ref, caller_kind), ("callee", callee_ref, callee_kind)):
                if kind is None:
                    unknown.append(
                        Finding(
                            "unknown-trust-target",
                            ERROR,
                            (trust_key(key),),
                            f"trust edge {key}: {role} {ref!r} names no agent, group or channel",
                            "fix the name, add the missing agent/group, or remove the edge",
                        )
                    )
        if edge.capabilities and callee_kind is not None:
            offered = offered_by.get(callee_ref)
            if offered is None:
                if not exact:
                    offered = {c.name for a in index.agents_of(callee_ref) for c in a.capabilities}
                elif len(callees) == 1:  # most refs: the names made once per agent, in design order
                    offered = callees[0].offers
                else:
                    offered = frozenset().union(*(p.offers for p in callees))
                offered_by[callee_ref] = offered
            missing = [c for c in edge.capabilities if c not in offered]
            if missing:
                key = key or edge.key
                unknown.append(
                    Finding(
                        "unknown-trust-target",
                        ERROR,
                        (trust_key(key), *(_cap(c) for c in missing)),
                        f"trust edge {key}: {callee_ref} does not provide {', '.join(missing)}",
                        f"limit the edge to capabilities it provides ({', '.join(sorted(offered)) or 'none'})",
                    )
                )
        if not callers or not callees:
            continue
        protocol = edge.protocol
        for caller in callers:
            for callee in callees:
                if callee is caller:
                    continue
                if caller.tenants and callee.tenants and caller.tenants.isdisjoint(callee.tenants):
                    key = key or edge.key
                    listed = bad_tenant.get(key)
                    if listed is None:
                        bad_tenant[key] = [1, f"{caller.name}→{callee.name}"]
                    else:
                        if listed[0] < MAX_LISTED:
                            listed.append(f"{caller.name}→{callee.name}")
                        listed[0] += 1
                if not _protocol_ok(caller.protocols, callee.protocols, protocol):
                    key = key or edge.key
                    listed = bad_protocol.get(key)
                    if listed is None:
                        listed = bad_protocol[key] = [0]
                    if listed[0] < MAX_LISTED:
                        a, b = caller.agent, callee.agent
                        listed.append(f"{a.name} [{', '.join(a.protocols)}]→{b.name} [{', '.join(b.protocols)}]")
                    listed[0] += 1
    crossed = [
        Finding(
            "cross-tenant-trust",
            WARNING,
            (trust_key(key),),
            f"trust edge {key} lets agents that share no tenant call each other: {_names(pairs[1:], pairs[0])}",
            "limit the edge to agents of the same tenant, or add the tenant to both agents",
        )
        for key, pairs in bad_tenant.items()
    ]
    if by_key:
        crossed = _key_order(bad_tenant, crossed)
    edges = _last_paired(design, sides.side, bad_protocol) if bad_protocol else {}
    mismatched = [
        Finding(
            "protocol-mismatch",
            WARNING,
            (trust_key(key),),
            f"trust edge {key}{f' over {edges[key].protocol}' if edges[key].protocol else ''}: caller and callee "
            f"share no protocol: {_names(pairs[1:], pairs[0])}",
            "pick a protocol from the callee's endpoints, or add a matching endpoint to the caller",
        )
        for key, pairs in bad_protocol.items()
    ]
    if by_key:
        mismatched = _key_order(bad_protocol, mismatched)
    return unknown, crossed, mismatched


def _key_order(keys: Iterable[str], findings: list[Finding]) -> list[Finding]:
    """The findings (one per key, in the keys' order) sorted by their keys. Made in the keys' order and then
    sorted, so making them reads the pairs in the order they were recorded, not in key order (at 150 000 keys
    that order is random in memory)."""
    ordered = list(keys)
    return [findings[i] for i in sorted(range(len(ordered)), key=ordered.__getitem__)]


def _last_paired(
    design: Design, lookup: Callable[[str], tuple[_Party, ...]], keys: Container[str]
) -> dict[str, TrustEdge]:
    """For each of `keys`: the last edge with that key that pairs two different agents (edges of one key may
    name different protocols; the finding's text names the last one's)."""
    found: dict[str, TrustEdge] = {}
    for edge in design.trust_edges:
        callers, callees = lookup(edge.caller), lookup(edge.callee)
        if any(caller is not callee for caller in callers for callee in callees):
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

    def found(obj: str, what: str, problem: str, value: str) -> Finding:
        return Finding(
            "invalid-name", ERROR, (obj,), f"{what} {value!r} {problem}", f"rename it, e.g. {suggest_name(value)!r}"
        )

    for agent in design.agents:
        name, namespace = agent.name, agent.namespace
        name_problem, namespace_problem = dns1123_label_problem(name), label(namespace)
        bad_labels = [(k, v, problem) for k, v in agent.labels.items() if (problem := label_value(v))]
        if name_problem or namespace_problem or bad_labels:
            node = agent_node(agent)
            if name_problem:
                yield found(node, "Agent name (a Service host name, RFC 1123 label)", name_problem, name)
            if namespace_problem:
                yield found(node, "namespace", namespace_problem, namespace)
            for k, v, problem in sorted(bad_labels):
                yield found(node, f"Agent {name} label {k}", problem, v)
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


# --- entry point ----------------------------------------------------------------------------------------


def trust_findings(design: Design, index: RefIndex) -> list[Finding]:
    """Findings about the trust edges (unknown targets, cross-tenant, protocol mismatch). Each edge's findings
    depend only on that edge and on the agents, groups and channels, so an editor may keep them per edge (when
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
        *_names_findings(design),
        *_caret_zero(design),
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
