"""Index a design's agents once, look them up many times: candidates per channel scope, providers per capability.

The operator filters every Agent for every Channel (namespace, subset, tenant, channel label); done naively that
is channels × agents. `AgentIndex` groups the agents once by (namespace, subset, channel label, tenant) and by
provided capability name, so resolution, lint, graph and export touch only a channel's candidates. The answers
are exactly the operator's (`resolve.is_candidate` is the definition; tests compare both). Pure, no I/O; an
index belongs to one tuple of agents and is built in O(agents × labels). Only the candidate scopes are made up
front; providers, agents by name and filter counts (asked about unresolved requirements and channels without
candidates) are made on first use from compact records, not by a second walk over the agents' models.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, NamedTuple

from lmos_studio.errors import VersionError
from lmos_studio.model import Agent, Capability, Channel
from lmos_studio.versions import Version, parse_version

_ANY_TENANT = None  # the bucket of agents with empty supportedTenants (they serve every tenant)
Scope = tuple[str, str, str | None, str | None]  # (namespace, subset, tenant, channel label) of a Channel
# one provided capability: (parsed version, None if not strict SemVer; capability; its agent; version text)
Offer = tuple[Version | None, Capability, Agent, str]
_UNPARSED: Any = object()


@dataclass(frozen=True)
class FilterCounts:
    """How many agents of a channel's namespace fail each of the operator's filters (one agent may fail several)."""

    in_namespace: int
    subset: int
    tenant: int
    channel: int


class _Counts(NamedTuple):
    """One namespace's agents: how many, and how many have each subset, tenant and channel label."""

    agents: int
    subset: Counter[str]
    tenant: Counter[str]
    label: Counter[str]
    tenanted: int  # agents with a non-empty supportedTenants


@dataclass
class AgentIndex:
    """Lookups over one tuple of agents, built once; candidate lists are memoised per channel scope.

    `rank` orders agents as the operator iterates them (namespace, name; design order on ties), so candidates
    come out in exactly the order `resolve.candidate_agents` gives.
    """

    agents: Sequence[Agent]
    _rank: list[int] = field(init=False, repr=False)  # position in design order → operator order
    _by_rank: list[Agent] = field(init=False, repr=False)
    _scoped: dict[tuple[str, str, str, str | None], list[int]] = field(init=False, repr=False)
    _namespace: dict[str, list[int]] = field(init=False, repr=False)
    _agent_names: list[str] = field(init=False, repr=False)  # by position
    # made on first use (resolution asks for them only about unresolved requirements and empty channels)
    _providers: dict[str, list[int]] | None = field(init=False, repr=False, default=None)
    _named: dict[str, list[int]] | None = field(init=False, repr=False, default=None)
    # per namespace: each agent's subset, supportedTenants and supportedChannels (counted on first use)
    _facts: dict[str, tuple[list[str], list[tuple[str, ...]], list[tuple[str, ...]]]] = field(init=False, repr=False)
    _counts: dict[str, _Counts] = field(init=False, repr=False, default_factory=dict)
    _candidates: dict[Scope, tuple[Agent, ...]] = field(init=False, repr=False, default_factory=dict)
    _candidate_ranks: dict[Scope, list[int]] = field(init=False, repr=False, default_factory=dict)
    # by rank, made on first use: each agent's capability names, and its offers (`_offer_records`)
    _offers: tuple[list[tuple[str, ...]], list[tuple[Offer, ...]]] | None = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        order = sorted(range(len(self.agents)), key=lambda i: (self.agents[i].namespace, self.agents[i].name, i))
        self._rank = [0] * len(order)
        for rank, position in enumerate(order):
            self._rank[position] = rank
        self._by_rank = [self.agents[i] for i in order]
        self._scoped, self._namespace, self._facts, self._agent_names = {}, {}, {}, []
        for position, agent in enumerate(self.agents):
            self._add(position, agent)
        for ranks in self._namespace.values():
            ranks.sort()

    def _add(self, position: int, agent: Agent) -> None:
        rank, ns, subset, scoped = self._rank[position], agent.namespace, agent.subset, self._scoped
        tenants = set(agent.supported_tenants) or (_ANY_TENANT,)
        for label in set(agent.supported_channels):
            for tenant in tenants:
                found = scoped.get((ns, subset, label, tenant))
                if found is None:
                    scoped[ns, subset, label, tenant] = [rank]
                else:
                    found.append(rank)
        found = self._namespace.get(ns)
        if found is None:
            self._namespace[ns] = [rank]
        else:
            found.append(rank)
        facts = self._facts.get(ns)
        if facts is None:
            facts = self._facts[ns] = ([], [], [])
        facts[0].append(subset)
        facts[1].append(agent.supported_tenants)
        facts[2].append(agent.supported_channels)
        self._agent_names.append(agent.name)

    def _providers_made(self) -> dict[str, list[int]]:
        """Positions by provided capability name, made on first use from the offer records' shared name strings
        (not from the agents' models)."""
        if self._providers is None:
            offered = self._offer_records_made()[0]
            providers: dict[str, list[int]] = {}
            for position, rank in enumerate(self._rank):
                for capability in set(offered[rank]):
                    found = providers.get(capability)
                    if found is None:
                        providers[capability] = [position]
                    else:
                        found.append(position)
            self._providers = providers
        return self._providers

    def _named_made(self) -> dict[str, list[int]]:
        """Positions by agent name, made on first use from the names `_add` kept (only a requirement that other
        agents provide asks, so resolving a design where none does never hashes every agent's name)."""
        if self._named is None:
            named: dict[str, list[int]] = {}
            for position, name in enumerate(self._agent_names):
                found = named.get(name)
                if found is None:
                    named[name] = [position]
                else:
                    found.append(position)
            self._named = named
        return self._named

    def _filter_counts(self, namespace: str) -> _Counts:
        """A namespace's agents counted by subset, tenant and channel label, on first use (only a channel with no
        candidate asks), from the facts `_add` kept: counted in C (`Counter`), not agent by agent."""
        found = self._counts.get(namespace)
        if found is None:
            subsets, tenants, labels = self._facts.get(namespace, ([], [], []))
            found = self._counts[namespace] = _Counts(
                len(subsets),
                Counter(subsets),
                Counter(chain.from_iterable(map(set, tenants))),  # an agent counts once per distinct tenant
                Counter(chain.from_iterable(map(set, labels))),
                sum(map(bool, tenants)),
            )
        return found

    def candidates(self, channel: Channel) -> tuple[Agent, ...]:
        """The agents the operator considers for this channel, in its iteration order (`candidate_agents`)."""
        scope = (channel.namespace, channel.subset, channel.tenant, channel.channel)
        found = self._candidates.get(scope)
        if found is None:
            found = self._candidates[scope] = self._lookup(scope)
        return found

    def _lookup(self, scope: Scope) -> tuple[Agent, ...]:
        ns, subset, tenant, label = scope
        if label is None:  # a channel without a channel label matches no agent
            return ()
        ranks = set(self._scoped.get((ns, subset, label, _ANY_TENANT), ()))
        if tenant is not None:
            ranks.update(self._scoped.get((ns, subset, label, tenant), ()))
        ordered = self._candidate_ranks[scope] = sorted(ranks)
        return tuple(self._by_rank[r] for r in ordered)

    def offers(self, channel: Channel, names: Container[str] | None = None) -> dict[str, list[Offer]]:
        """The capabilities a channel's candidates provide, by name, as resolution reads them: (parsed version or
        None if not strict SemVer, capability, agent, version text) in the candidates' order, each agent's in its
        own order (what resolution picks from); only those named in `names`, if given (a channel requires a few
        of the many names its candidates offer).

        Read from two lists by rank (`_offer_records`): each agent's capability names (one shared string object
        per distinct name, so the few hundred names stay in cache) and its offers, made together in one pass. A
        channel touches one small tuple of names per candidate, not the candidate's models, version strings or
        capabilities (at 50 000 agents the models are far apart in memory), except the offers of the names it
        requires."""
        self.candidates(channel)
        ranks = self._candidate_ranks.get(
            (channel.namespace, channel.subset, channel.tenant, channel.channel), []
        )  # no channel label: no candidates
        names_of, offers_of = self._offer_records_made()
        by_name: dict[str, list[Offer]] = {}
        for rank in ranks:
            for at, name in enumerate(names_of[rank]):
                if names is not None and name not in names:
                    continue
                found = by_name.get(name)
                if found is None:
                    by_name[name] = [offers_of[rank][at]]
                else:
                    found.append(offers_of[rank][at])
        return by_name

    def _offer_records_made(self) -> tuple[list[tuple[str, ...]], list[tuple[Offer, ...]]]:
        if self._offers is None:
            self._offers = self._offer_records()
        return self._offers

    def _offer_records(self) -> tuple[list[tuple[str, ...]], list[tuple[Offer, ...]]]:
        """Per agent, by rank: (its capability names, its offers) in its own order, made once per index in one
        pass over the agents in design order (the order their models lie in memory). Versions are parsed here,
        once per distinct text (`parse_version` is cached); a text that is not strict SemVer is kept as None,
        and resolution raises the operator's error only if a channel asks for that capability."""
        names_of: list[Any] = [None] * len(self.agents)
        offers_of: list[Any] = [None] * len(self.agents)
        canonical: dict[str, str] = {}
        parsed: dict[str, Version | None] = {}
        for agent, rank in zip(self.agents, self._rank, strict=True):
            names = []
            offers = []
            for cap in agent.capabilities:
                name, text = cap.name, cap.version
                names.append(canonical.setdefault(name, name))
                version = parsed.get(text, _UNPARSED) if isinstance(text, str) else None
                if version is _UNPARSED:
                    try:
                        version = parsed[text] = parse_version(text)
                    except VersionError:
                        version = parsed[text] = None
                offers.append((version, cap, agent, text))
            names_of[rank], offers_of[rank] = tuple(names), tuple(offers)
        return names_of, offers_of

    def in_namespace(self, namespace: str, *, limit: int | None = None) -> tuple[Agent, ...]:
        """The agents of a namespace in the operator's order (the first `limit` of them, if given)."""
        return tuple(self._by_rank[r] for r in self._namespace.get(namespace, [])[:limit])

    def providers(self, capability: str) -> tuple[Agent, ...]:
        """Agents (design order) that provide a capability of this exact name, in any namespace or scope."""
        return tuple(self.agents[i] for i in self._providers_made().get(capability, ()))

    def named(self, name: str) -> tuple[Agent, ...]:
        """Agents (design order) with this name, in any namespace."""
        return tuple(self.agents[i] for i in self._named_made().get(name, ()))

    def filter_counts(self, channel: Channel) -> FilterCounts:
        """For a channel: agents in its namespace, and how many of them fail the subset, tenant and channel
        filter (the counts `resolve.mismatch_reasons` would give agent by agent)."""
        counts = self._filter_counts(channel.namespace)
        tenant_ok = counts.tenant[channel.tenant] if channel.tenant is not None else 0
        label_ok = counts.label[channel.channel] if channel.channel is not None else 0
        return FilterCounts(
            in_namespace=counts.agents,
            subset=counts.agents - counts.subset[channel.subset],
            tenant=counts.tenanted - tenant_ok,
            channel=counts.agents - label_ok,
        )
