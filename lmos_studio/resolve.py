"""Resolve a Channel's required capabilities against Agents, exactly as the LMOS operator does.

Pure functions over the model, no I/O (LMOS.md §1.6): candidates are the Agents of the Channel's namespace
whose subset, tenant and channel match; each requirement independently takes the HIGHEST (or, for
MOST_SIMILAR, the lowest) satisfying provided version, first in (agent name, capability) order on ties;
unresolved requirements still leave a partial ChannelRouting. Version rules live in versions.py.
Beyond the operator, every unresolved requirement carries a human reason (`Unresolved.reason`).
Candidates come from an `index.AgentIndex` built once per design, so a design costs O(agents + candidates).
"""

from __future__ import annotations

from array import array
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import FrozenInstanceError, dataclass
from typing import Any, Literal

from lmos_studio.errors import VersionError
from lmos_studio.formats.lmos import API_VERSION
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.index import AgentIndex
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from lmos_studio.versions import Version, parse_range, parse_version

RESOLVED = "RESOLVED"
UNRESOLVED = "UNRESOLVED"
ROUTING_LABELS = ("channel", "tenant", "version", "subset")  # the order the operator copies them in


@dataclass(frozen=True)
class Wire:
    """One requirement wired to one provided capability of one agent."""

    required: RequiredCapability
    provided: Capability
    agent: Agent


@dataclass(frozen=True)
class Unresolved:
    """A requirement no candidate satisfies, with the reason a person needs to fix it."""

    required: RequiredCapability
    cause: str  # no-candidates | no-provider | no-version-in-range
    reason: str


class Resolution:
    """What the operator would write for one Channel: status and (possibly partial) routing.

    Immutable, compared by (channel, candidates, wires, unresolved). What `resolve_channel` makes keeps the
    candidates as their positions in the design's agents (`AgentIndex.candidate_positions`: 4-byte ints, shared
    by the channels of one scope) and each wire as (requirement, agent position, capability index), and makes
    the tuples of agents and of `Wire`s when they are first read (`channel_routing` reads neither). A large
    design's resolutions then hold no references to ~70 agents and capabilities per channel, spread over the
    design's memory, which the collector touched one by one each time it passed over them.
    """

    __slots__ = ("_agents", "_candidates", "_positions", "_wired", "_wires", "channel", "unresolved")
    channel: Channel
    unresolved: tuple[Unresolved, ...]
    _candidates: tuple[Agent, ...] | None
    _agents: Sequence[Agent]
    _positions: Sequence[int]
    _wires: tuple[Wire, ...] | None
    _wired: tuple[tuple[RequiredCapability, ...], Sequence[int], Sequence[int]]  # requirements, positions, indexes

    def __init__(
        self,
        channel: Channel,
        candidates: tuple[Agent, ...],
        wires: tuple[Wire, ...],
        unresolved: tuple[Unresolved, ...],
    ) -> None:
        self._set(channel, unresolved, candidates=candidates, agents=candidates, positions=range(len(candidates)))
        object.__setattr__(self, "_wires", wires)
        object.__setattr__(self, "_wired", ((), (), ()))

    @classmethod
    def _at(
        cls,
        channel: Channel,
        *,
        agents: Sequence[Agent],
        positions: Sequence[int],
        wired: tuple[tuple[RequiredCapability, ...], Sequence[int], Sequence[int]],
        unresolved: tuple[Unresolved, ...],
    ) -> Resolution:
        """A resolution whose candidates are `agents` at `positions` and whose wires are `wired`: (requirements,
        their agents' positions, their capabilities' indexes in those agents), made into objects when read."""
        resolution = cls.__new__(cls)
        resolution._set(channel, unresolved, candidates=None, agents=agents, positions=positions)
        object.__setattr__(resolution, "_wires", None)
        object.__setattr__(resolution, "_wired", wired)
        return resolution

    def _set(
        self,
        channel: Channel,
        unresolved: tuple[Unresolved, ...],
        *,
        candidates: tuple[Agent, ...] | None,
        agents: Sequence[Agent],
        positions: Sequence[int],
    ) -> None:
        fields = {"channel": channel, "unresolved": unresolved, "_candidates": candidates}
        for name, value in {**fields, "_agents": agents, "_positions": positions}.items():
            object.__setattr__(self, name, value)

    @property
    def candidates(self) -> tuple[Agent, ...]:
        found = self._candidates
        if found is None:
            found = tuple(map(self._agents.__getitem__, self._positions))
            object.__setattr__(self, "_candidates", found)
        return found

    @property
    def wires(self) -> tuple[Wire, ...]:
        found = self._wires
        if found is None:
            found = tuple(Wire(required, provided, agent) for required, provided, agent in self._wiring())
            object.__setattr__(self, "_wires", found)
        return found

    def _wiring(self) -> Iterator[tuple[RequiredCapability, Capability, Agent]]:
        """(required, provided, agent) of each wire, in order, without making `Wire` objects."""
        if self._wires is not None:
            for wire in self._wires:
                yield wire.required, wire.provided, wire.agent
            return
        agents = self._agents
        for required, position, at in zip(*self._wired, strict=True):
            agent = agents[position]
            yield required, agent.capabilities[at], agent

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def _fields(self) -> tuple[Channel, tuple[Agent, ...], tuple[Wire, ...], tuple[Unresolved, ...]]:
        return (self.channel, self.candidates, self.wires, self.unresolved)

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if isinstance(other, Resolution) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        channel, candidates, wires, unresolved = self._fields()
        return f"Resolution(channel={channel!r}, candidates={candidates!r}, wires={wires!r}, unresolved={unresolved!r})"

    def __reduce__(self) -> tuple[type[Resolution], tuple[Any, ...]]:
        return (Resolution, self._fields())

    @property
    def status(self) -> str:
        return UNRESOLVED if self.unresolved or not self._positions else RESOLVED

    @property
    def resolved(self) -> bool:
        return self.status == RESOLVED

    def provider(self, required_name: str) -> Wire | None:
        return next((w for w in self.wires if w.required.name == required_name), None)

    @property
    def agents(self) -> tuple[Agent, ...]:
        """The distinct wired agents in order of first wiring (the routing's group order)."""
        seen: dict[str, Agent] = {}
        for wire in self.wires:
            seen.setdefault(wire.agent.key, wire.agent)
        return tuple(seen.values())


def _agent_sort_key(agent: Agent) -> tuple[str, str]:
    return (agent.namespace, agent.name)  # Kubernetes lists a namespace's objects in name order


def is_candidate(agent: Agent, channel: Channel) -> bool:
    """Whether the operator would consider this agent for this channel (namespace, subset, tenant, channel)."""
    return (
        agent.namespace == channel.namespace
        and agent.subset == channel.subset
        and (not agent.supported_tenants or channel.tenant in agent.supported_tenants)
        and channel.channel in agent.supported_channels
    )  # empty supportedChannels never matches


def candidate_agents(channel: Channel, agents: Iterable[Agent]) -> tuple[Agent, ...]:
    """The candidates in the operator's iteration order."""
    return tuple(sorted((a for a in agents if is_candidate(a, channel)), key=_agent_sort_key))


def provided_version(agent: Agent, cap: Capability, locations: Mapping[str, str] | None = None) -> Version:
    """The provided version parsed strictly; a bad one is the reconcile error the operator would hit."""
    try:
        return parse_version(cap.version)
    except VersionError as exc:
        where = (locations or {}).get(f"Agent {agent.key}", agent.source or "")
        prefix = f"{where}: " if where else ""
        index = agent.capabilities.index(cap)
        raise VersionError(
            f"{prefix}Agent {agent.name}: spec.providedCapabilities[{index}].version of capability "
            f"'{cap.name}': {exc}. The operator would fail to reconcile every Channel that requires it",
            value=cap.version,
            agent=agent.name,
            capability=cap.name,
            path=where or None,
        ) from exc


def invalid_versions(design: Design, *, locations: Mapping[str, str] | None = None) -> list[VersionError]:
    """Every provided version that is not strict SemVer, as the error resolution would raise."""
    problems = []
    for agent in design.agents:
        for cap in agent.capabilities:
            try:
                provided_version(agent, cap, locations)
            except VersionError as exc:
                problems.append(exc)
    return problems


def _pick(strategy: str, providers: list[tuple[Version, int, int]]) -> tuple[Version, int, int]:
    """The provider the operator wires: the highest version (the lowest for MOST_SIMILAR), the first on ties."""
    best = providers[0]
    for candidate in providers[1:]:  # strict comparison: the first maximal/minimal element wins ties
        if (strategy == "MOST_SIMILAR" and candidate[0] < best[0]) or (
            strategy != "MOST_SIMILAR" and candidate[0] > best[0]
        ):
            best = candidate
    return best


def _why_not(
    required: RequiredCapability,
    offers: Sequence[tuple[Agent, str]],
    candidates: Container[int],
    others: AgentIndex,
    channel: Channel,
) -> Unresolved:
    if offers:  # (agent, version text) of the candidates' capabilities of this name, in the operator's order
        versions = ", ".join(f"{agent.name} {text}" for agent, text in offers)
        return Unresolved(
            required,
            "no-version-in-range",
            f"no version in range '{required.version}' "
            f"({parse_range(required.version).normalized or 'matches nothing'}): "
            f"candidates offer {versions}",
        )
    # by position: an agent equal to a candidate is one (candidacy depends on the model's content only)
    elsewhere = [others.agents[p] for p in others.provider_positions(required.name) if p not in candidates]
    hint = ""
    if elsewhere:
        shown = sorted(elsewhere, key=lambda agent: agent.name)[:_NAMED_MAX]
        named = ", ".join(f"{agent.name} ({_mismatch(agent, channel)})" for agent in shown)  # each its own reason
        more = f" and {len(elsewhere) - len(shown)} more" if len(elsewhere) > len(shown) else ""
        verb = "provides it but is not a candidate" if len(elsewhere) == 1 else "provide it but are not candidates"
        hint = f"; {named}{more} {verb}"
    return Unresolved(required, "no-provider", f"no candidate agent provides '{required.name}'{hint}")


_NAMED_MAX = 5  # agents named in a no-provider hint: enough to see the pattern, short enough to read


def _mismatch(agent: Agent, channel: Channel) -> str:
    return "; ".join(m.text for m in mismatch_reasons(agent, channel)) or "filtered out"


Filter = Literal["namespace", "subset", "tenant", "channel"]  # the operator's candidate filters, in order


@dataclass(frozen=True)
class Mismatch:
    """One candidate filter an agent fails for a channel, and the sentence that says how."""

    filter: Filter
    text: str

    def __str__(self) -> str:
        return self.text


def mismatch_reasons(agent: Agent, channel: Channel) -> list[Mismatch]:
    """Why an agent is not a candidate of a channel, in the operator's filter order."""
    reasons = []
    if agent.namespace != channel.namespace:
        reasons.append(Mismatch("namespace", f"namespace {agent.namespace} ≠ {channel.namespace}"))
    if agent.subset != channel.subset:
        reasons.append(Mismatch("subset", f"subset {agent.subset} ≠ {channel.subset}"))
    if agent.supported_tenants and channel.tenant not in agent.supported_tenants:
        reasons.append(Mismatch("tenant", f"tenant {channel.tenant} not in {list(agent.supported_tenants)}"))
    if channel.channel not in agent.supported_channels:
        reasons.append(
            Mismatch(
                "channel",
                f"channel {channel.channel} not in {list(agent.supported_channels)}"
                if agent.supported_channels
                else "supportedChannels is empty (matches no channel)",
            )
        )
    return reasons


def distinct_requirements(channel: Channel) -> tuple[RequiredCapability, ...]:
    """The Channel's requirements as the operator holds them: a Kotlin `Set<RequiredCapability>` of data
    classes, so entries equal in (id, name, version, strategy) count once, first occurrence kept."""
    seen: dict[tuple[str, str, str, str], RequiredCapability] = {}
    for required in channel.required_capabilities:
        seen.setdefault((required.id, required.name, required.version, required.strategy), required)
    return tuple(seen.values())


def resolve_channel(
    channel: Channel,
    agents: Sequence[Agent],
    *,
    locations: Mapping[str, str] | None = None,
    index: AgentIndex | None = None,
) -> Resolution:
    """The operator's resolution of one Channel against all agents of a design.

    `index` is an `AgentIndex` of the same `agents` (pass one when resolving many channels: building it is the
    linear part). Raises `VersionError` where the operator's reconcile would throw (a non-SemVer provided version).
    """
    lookup = index or AgentIndex(agents)
    positions = lookup.candidate_positions(channel)
    if not positions:
        why = _no_candidates_reason(channel, lookup)
        return Resolution(
            channel, (), (), tuple(Unresolved(r, "no-candidates", why) for r in distinct_requirements(channel))
        )
    requirements = distinct_requirements(channel)
    # where the candidates' capabilities of the required names are, by name, in the operator's iteration order
    by_name = lookup.offer_sites(channel, {r.name for r in requirements})
    wired: list[RequiredCapability] = []
    wired_positions = array("i")
    wired_indexes = array("i")
    unresolved: list[Unresolved] = []
    checked = lookup.satisfied
    for required in requirements:
        wanted = required.version
        sites = by_name.get(required.name, ())
        providers = []
        for position, at, cap in sites:
            text = cap.version
            parsed = lookup.parsed_version(text)
            if parsed is None:  # raises the operator's reconcile error
                parsed = provided_version(lookup.agents[position], cap, locations)
            satisfied = checked.get((wanted, text))
            if satisfied is None:
                satisfied = checked[wanted, text] = parse_range(wanted).satisfied_by(parsed)
            if satisfied:
                providers.append((parsed, position, at))
        if not providers:
            offers = [(lookup.agents[position], cap.version) for position, _, cap in sites]
            unresolved.append(_why_not(required, offers, positions, lookup, channel))
            continue
        # identical (required, provided, agent) triples would collapse (a set), but the requirements are distinct
        # (`distinct_requirements`), so no two wires here are equal: appended without comparing models (500
        # channels' membership tests were ~24 000 deep pydantic comparisons of a 10 000-agent design)
        _, position, at = _pick(required.strategy, providers)
        wired.append(required)
        wired_positions.append(position)
        wired_indexes.append(at)
    return Resolution._at(
        channel,
        agents=lookup.agents,
        positions=positions,
        wired=(tuple(wired), wired_positions, wired_indexes),
        unresolved=tuple(unresolved),
    )


def _no_candidates_reason(channel: Channel, agents: AgentIndex) -> str:
    fails = agents.filter_counts(channel)  # what mismatch_reasons gives agent by agent, counted from the index
    if not fails.in_namespace:
        return f"no candidate agent: no Agent in namespace {channel.namespace}"
    same_ns = agents.in_namespace(channel.namespace, limit=2)
    counts = {"subset": fails.subset, "tenant": fails.tenant, "channel": fails.channel}
    detail = ", ".join(f"{n} fail the {k} filter" for k, n in counts.items() if n)
    example = "; ".join(f"{a.name}: {', '.join(m.text for m in mismatch_reasons(a, channel))}" for a in same_ns[:2])
    return (
        f"no candidate agent for tenant={channel.tenant} channel={channel.channel} "
        f"subset={channel.subset} ({fails.in_namespace} agents in namespace {channel.namespace}: {detail}; "
        f"e.g. {example})"
    )


@gc_paused()  # a large design's resolutions are many objects and no garbage: collecting only re-walks them
def resolve_design(
    design: Design, *, locations: Mapping[str, str] | None = None, index: AgentIndex | None = None
) -> list[Resolution]:
    """Every Channel of the design, in design order (`index`: an AgentIndex of `design.agents`, if one is kept)."""
    index = index or AgentIndex(design.agents)
    return [resolve_channel(c, design.agents, locations=locations, index=index) for c in design.channels]


@dataclass(frozen=True)
class ReconcileFailure:
    """A Channel whose reconcile the operator would fail (a provider's version is not strict SemVer, LMOS.md
    §1.6 step 5): its status is not updated and no ChannelRouting is written; the other Channels resolve."""

    channel: Channel
    error: VersionError


def resolve_each(
    design: Design, *, locations: Mapping[str, str] | None = None, index: AgentIndex | None = None
) -> list[Resolution | ReconcileFailure]:
    """`resolve_design`, a Channel whose reconcile would fail given as a `ReconcileFailure` rather than raised
    for the whole design (`lmos-studio resolve` reports every Channel)."""
    index = index or AgentIndex(design.agents)
    found: list[Resolution | ReconcileFailure] = []
    for channel in design.channels:
        try:
            found.append(resolve_channel(channel, design.agents, locations=locations, index=index))
        except VersionError as exc:
            found.append(ReconcileFailure(channel, exc))
    return found


def channel_status(resolution: Resolution) -> dict[str, Any]:
    """`status` as the operator writes it on the Channel."""
    return {
        "resolveStatus": resolution.status,
        "unresolvedRequiredCapabilities": [
            {
                "id": u.required.id,
                "name": u.required.name,
                "version": u.required.version,
                "strategy": u.required.strategy,
            }
            for u in resolution.unresolved
        ],
    }


def channel_routing(resolution: Resolution) -> dict[str, Any]:
    """The `ChannelRouting` the operator would generate (LMOS.md §1.4), including partial routings."""
    channel = resolution.channel
    groups: dict[str, dict[str, Any]] = {}
    hosts: dict[int, str] = {}  # by agent object: each wired agent's host made once
    for required, provided, agent in resolution._wiring():
        key = agent.key
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "id": agent.id,
                "name": agent.name,
                "description": agent.description,
                "capabilities": [],
            }
        host = hosts.get(id(agent))
        if host is None:
            host = hosts[id(agent)] = agent.host
        group["capabilities"].append(
            {
                "id": provided.id,
                "name": provided.name,
                "requiredVersion": required.version,
                "providedVersion": provided.version,
                "description": provided.description,
                "host": host,
            }
        )
    owner: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "Channel", "name": channel.name}
    uid = channel.metadata_extras.get("uid")
    if uid:
        owner["uid"] = str(uid)
    return {
        "apiVersion": API_VERSION,
        "kind": "ChannelRouting",
        "metadata": {
            "name": channel.name,
            "namespace": channel.namespace,
            "labels": {k: channel.labels.get(k) for k in ROUTING_LABELS},  # missing → null
            "ownerReferences": [owner],
        },
        "spec": {"capabilityGroups": list(groups.values())},
    }
