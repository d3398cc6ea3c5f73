"""Index a design's agents once, look them up many times: candidates per channel scope, providers per capability.

The operator filters every Agent for every Channel (namespace, subset, tenant, channel label); done naively that
is channels × agents. `AgentIndex` groups the agents once by (namespace, subset, channel label, tenant) and by
provided capability name, so resolution, lint, graph and export touch only a channel's candidates. The answers
are exactly the operator's (`resolve.is_candidate` is the definition; tests compare both). Pure, no I/O; an
index belongs to one tuple of agents and is built in O(agents × labels).
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmos_studio.model import Agent, Capability, Channel

_ANY_TENANT = None  # the bucket of agents with empty supportedTenants (they serve every tenant)
Scope = tuple[str, str, str | None, str | None]  # (namespace, subset, tenant, channel label) of a Channel


@dataclass(frozen=True)
class FilterCounts:
    """How many agents of a channel's namespace fail each of the operator's filters (one agent may fail several)."""

    in_namespace: int
    subset: int
    tenant: int
    channel: int


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
    _providers: dict[str, list[int]] = field(init=False, repr=False)
    _named: dict[str, list[int]] = field(init=False, repr=False)
    _counts: dict[tuple[str | None, ...], int] = field(init=False, repr=False)
    _candidates: dict[Scope, tuple[Agent, ...]] = field(init=False, repr=False, default_factory=dict)
    _candidate_ranks: dict[Scope, list[int]] = field(init=False, repr=False, default_factory=dict)
    _offers: list[tuple[Any, ...]] | None = field(init=False, repr=False, default=None)  # by rank, lazily

    def __post_init__(self) -> None:
        order = sorted(range(len(self.agents)), key=lambda i: (self.agents[i].namespace, self.agents[i].name, i))
        self._rank = [0] * len(order)
        for rank, position in enumerate(order):
            self._rank[position] = rank
        self._by_rank = [self.agents[i] for i in order]
        self._scoped, self._namespace, self._providers, self._named = {}, {}, {}, {}
        self._counts = {}
        for position, agent in enumerate(self.agents):
            self._add(position, agent)
        for ranks in self._namespace.values():
            ranks.sort()

    def _add(self, position: int, agent: Agent) -> None:
        rank, ns, subset, counts = self._rank[position], agent.namespace, agent.subset, self._counts
        tenants = set(agent.supported_tenants)
        labels = set(agent.supported_channels)
        for label in labels:
            for tenant in tenants or (_ANY_TENANT,):
                self._scoped.setdefault((ns, subset, label, tenant), []).append(rank)
        self._namespace.setdefault(ns, []).append(rank)
        self._named.setdefault(agent.name, []).append(position)
        for name in {c.name for c in agent.capabilities}:
            self._providers.setdefault(name, []).append(position)
        for key in (("ns", ns), ("subset", ns, subset), *(("tenant", ns, t) for t in tenants)):
            counts[key] = counts.get(key, 0) + 1
        for label in labels:
            counts["label", ns, label] = counts.get(("label", ns, label), 0) + 1
        if tenants:
            counts["tenanted", ns] = counts.get(("tenanted", ns), 0) + 1

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

    def offered(
        self, channel: Channel, names: Container[str] | None = None
    ) -> dict[str, list[tuple[str, tuple[Capability, Agent]]]]:
        """The capabilities a channel's candidates provide, by name: (version text, (capability, agent)) in the
        candidates' order, each agent's in its own order (what resolution picks from); only those named in
        `names`, if given (a channel requires a few of the many names its candidates offer).

        Read from one flat tuple per agent (`_offer_records`), so a channel touches one small object per
        candidate, not the candidate's models (at 50 000 agents the models are far apart in memory)."""
        self.candidates(channel)
        ranks = self._candidate_ranks.get(
            (channel.namespace, channel.subset, channel.tenant, channel.channel), []
        )  # no channel label: no candidates
        offers = self._offers
        if offers is None:
            offers = self._offers = self._offer_records()
        by_name: dict[str, list[tuple[str, tuple[Capability, Agent]]]] = {}
        for rank in ranks:
            items = iter(offers[rank])
            agent = next(items)
            for name, version, cap in zip(items, items, items, strict=False):  # (name, version, capability) triples
                if names is not None and name not in names:
                    continue
                found = by_name.get(name)
                if found is None:
                    by_name[name] = [(version, (cap, agent))]
                else:
                    found.append((version, (cap, agent)))
        return by_name

    def _offer_records(self) -> list[tuple[Any, ...]]:
        """Per agent, in the operator's order: (agent, name, version text, capability, name, …) of its provided
        capabilities in its own order, made once per index in one pass."""
        records: list[tuple[Any, ...]] = []
        for agent in self._by_rank:
            record: list[Any] = [agent]
            for cap in agent.capabilities:
                record += (cap.name, cap.version, cap)
            records.append(tuple(record))
        return records

    def in_namespace(self, namespace: str, *, limit: int | None = None) -> tuple[Agent, ...]:
        """The agents of a namespace in the operator's order (the first `limit` of them, if given)."""
        return tuple(self._by_rank[r] for r in self._namespace.get(namespace, [])[:limit])

    def providers(self, capability: str) -> tuple[Agent, ...]:
        """Agents (design order) that provide a capability of this exact name, in any namespace or scope."""
        return tuple(self.agents[i] for i in self._providers.get(capability, ()))

    def named(self, name: str) -> tuple[Agent, ...]:
        """Agents (design order) with this name, in any namespace."""
        return tuple(self.agents[i] for i in self._named.get(name, ()))

    def filter_counts(self, channel: Channel) -> FilterCounts:
        """For a channel: agents in its namespace, and how many of them fail the subset, tenant and channel
        filter (the counts `resolve.mismatch_reasons` would give agent by agent)."""
        ns, count = channel.namespace, self._counts.get
        total = count(("ns", ns), 0)
        tenant_ok = count(("tenant", ns, channel.tenant), 0) if channel.tenant is not None else 0
        label_ok = count(("label", ns, channel.channel), 0) if channel.channel is not None else 0
        return FilterCounts(
            in_namespace=total,
            subset=total - count(("subset", ns, channel.subset), 0),
            tenant=count(("tenanted", ns), 0) - tenant_ok,
            channel=total - label_ok,
        )
