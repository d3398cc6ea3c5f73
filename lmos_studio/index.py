"""Index a design's agents once, look them up many times: candidates per channel scope, providers per capability.

The operator filters every Agent for every Channel (namespace, subset, tenant, channel label); done naively that
is channels × agents. `AgentIndex` groups the agents once by (namespace, subset, tenant), with each agent's
channel labels as a bit mask, so resolution, lint, graph and export touch only a channel's candidates. The
answers are exactly the operator's (`resolve.is_candidate` is the definition; tests compare both). Pure, no
I/O; an index belongs to one tuple of agents and is built in O(agents × tenants).

Built in one pass over the agents' models in design order (the order they lie in memory), keeping by position
what resolution reads: each agent's capability names (a tuple) and a reference to its capabilities. A channel
passes over a candidate by its tuple of names, in C, and touches only the capabilities it wants; positions are
4-byte ints in arrays, not int objects spread over the heap. Providers, agents by name and filter counts
(asked about unresolved requirements and channels without candidates) are made on first use.
"""

from __future__ import annotations

from array import array
from collections import Counter, deque
from collections.abc import Collection, Container, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import chain, compress, islice, repeat
from operator import and_, attrgetter, contains, eq, le, not_
from typing import Any, NamedTuple

from lmos_studio.errors import VersionError
from lmos_studio.model import Agent, Capability, Channel
from lmos_studio.versions import Version, parse_version

_ANY_TENANT = None  # the bucket of agents with empty supportedTenants (they serve every tenant)
Scope = tuple[str, str, str | None, str | None]  # (namespace, subset, tenant, channel label) of a Channel
# one provided capability: (parsed version, None if not strict SemVer; capability; its agent; version text)
Offer = tuple[Version | None, Capability, Agent, str]
Site = tuple[int, int, Capability]  # where a capability is: its agent's position, its index there; the capability
_MASK_BITS = 64  # bits of a label mask (array type "Q"); past that many labels, labels share bits
_SCAN_BEFORE_MAP = 8  # providers of this many capability names are found by scanning; then a map of all is made


class _Every:
    """A container of every name (`offers` without `names`)."""

    def __contains__(self, name: object) -> bool:
        return True


_EVERY_NAME = _Every()


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

    The operator iterates agents by (namespace, name), design order on ties, so candidates come out in exactly
    the order `resolve.candidate_agents` gives.
    """

    agents: Sequence[Agent]
    # by position (design order), what one pass over the models keeps: names and namespaces (for the operator's
    # order), each agent's capability names (a tuple) and its capabilities (the model's own tuple, not a copy)
    _names: list[str] = field(init=False, repr=False)
    _namespaces: list[str] = field(init=False, repr=False)
    _cap_names: list[tuple[str, ...]] = field(init=False, repr=False)
    _caps: list[tuple[Capability, ...]] = field(init=False, repr=False)
    # by (namespace, subset, tenant; None for the agents that list no tenant): positions as 4-byte ints and each
    # one's channel labels as a bit mask (`_label_bits`), side by side in two arrays. A channel reads its
    # candidates from two small contiguous blocks (one bucket per tenant, not one per tenant and label: half the
    # appends, a fifth of the buckets), not from int objects spread over the heap.
    _by_tenant: dict[tuple[str, str, str | None], tuple[array[int], array[int]]] = field(init=False, repr=False)
    _label_bits: dict[str, int] = field(init=False, repr=False)  # channel label → its bit (shared past 64 labels)
    # the operator's order (None when design order is it): positions in that order, and each position's place in it
    _order: array[int] | None = field(init=False, repr=False)
    _rank: array[int] | None = field(init=False, repr=False)
    # memoised per channel scope
    _candidates: dict[Scope, tuple[Agent, ...]] = field(init=False, repr=False, default_factory=dict)
    _candidate_positions: dict[Scope, array[int]] = field(init=False, repr=False, default_factory=dict)
    _parsed: dict[str, Version | None] = field(init=False, repr=False, default_factory=dict)  # version text → parsed
    # resolution's range checks, (range text, provided version text) → satisfied: a check is Python-heavy and the
    # same few hundred ranges meet the same few hundred versions in many channels
    satisfied: dict[tuple[str, str], bool] = field(init=False, repr=False, default_factory=dict)
    # made on first use (resolution asks for them only about unresolved requirements and empty channels)
    _providers: dict[str, list[int]] = field(init=False, repr=False, default_factory=dict)
    _providers_all: bool = field(init=False, repr=False, default=False)
    _named: dict[str, list[int]] | None = field(init=False, repr=False, default=None)
    _counts: dict[str, _Counts] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        names: list[str] = []
        namespaces: list[str] = []
        cap_names: list[tuple[str, ...]] = []
        caps_of: list[tuple[Capability, ...]] = []
        by_tenant: dict[tuple[str, str, str | None], tuple[array[int], array[int]]] = {}
        label_bits: dict[str, int] = {}
        masks: dict[tuple[str, ...], int] = {}  # labels tuple → mask (the same few combinations recur)
        any_tenant = (_ANY_TENANT,)
        for position, agent in enumerate(self.agents):
            ns, subset, tenants, labels = (
                agent.namespace,
                agent.subset,
                agent.supported_tenants,
                agent.supported_channels,
            )
            names.append(agent.name)
            namespaces.append(ns)
            mask = masks.get(labels)
            if mask is None:
                mask = masks[labels] = _mask(labels, label_bits)
            if mask:  # an agent with no channel label is no channel's candidate
                for tenant in (set(tenants) if len(tenants) > 1 else tenants) or any_tenant:
                    found = by_tenant.get((ns, subset, tenant))
                    if found is None:
                        found = by_tenant[ns, subset, tenant] = (array("i"), array("Q"))
                    found[0].append(position)
                    found[1].append(mask)
            caps = agent.capabilities
            caps_of.append(caps)
            cap_names.append(tuple([cap.name for cap in caps]))
        self._names, self._namespaces, self._cap_names, self._caps = names, namespaces, cap_names, caps_of
        self._by_tenant, self._label_bits = by_tenant, label_bits
        self._order, self._rank = _operator_order(namespaces, names)

    def _in_operator_order(self, positions: Iterable[int]) -> list[int]:
        """Positions (ascending) sorted as the operator iterates their agents: (namespace, name, position)."""
        if self._rank is None:
            return list(positions)
        return sorted(positions, key=self._rank.__getitem__)

    def candidates(self, channel: Channel) -> tuple[Agent, ...]:
        """The agents the operator considers for this channel, in its iteration order (`candidate_agents`)."""
        scope = (channel.namespace, channel.subset, channel.tenant, channel.channel)
        found = self._candidates.get(scope)
        if found is None:
            found = self._candidates[scope] = tuple(map(self.agents.__getitem__, self._positions(scope)))
        return found

    def candidate_positions(self, channel: Channel) -> array[int]:
        """Where the channel's candidates are in `agents`, in the operator's order: the compact form of
        `candidates` (4-byte ints, shared by the channels of one scope) that a `Resolution` keeps."""
        return self._positions((channel.namespace, channel.subset, channel.tenant, channel.channel))

    def _positions(self, scope: Scope) -> array[int]:
        found = self._candidate_positions.get(scope)
        if found is None:
            found = self._candidate_positions[scope] = array("i", self._lookup(scope))
        return found

    def _lookup(self, scope: Scope) -> list[int]:
        ns, subset, tenant, label = scope
        if label is None:  # a channel without a channel label matches no agent
            return []
        bit = self._label_bits.get(label)
        if bit is None:  # no agent supports this channel label
            return []
        every = self._with_label(self._by_tenant.get((ns, subset, _ANY_TENANT)), label, bit)
        own = self._with_label(self._by_tenant.get((ns, subset, tenant)), label, bit) if tenant is not None else []
        # an agent is in the any-tenant bucket only when it lists no tenant: the two lists never share a position
        return self._in_operator_order(sorted(every + own) if every and own else every or own)

    def _with_label(self, bucket: tuple[array[int], array[int]] | None, label: str, bit: int) -> list[int]:
        """The positions of a tenant bucket whose agents support the label, filtered in C by the label's bit (and
        checked against the model when labels share bits: a design with more than 64 channel labels)."""
        if bucket is None:
            return []
        found = list(compress(bucket[0], map(and_, bucket[1], repeat(bit))))
        if len(self._label_bits) > _MASK_BITS:
            found = [p for p in found if label in self.agents[p].supported_channels]
        return found

    def offers(self, channel: Channel, names: Collection[str] | None = None) -> dict[str, list[Offer]]:
        """The capabilities a channel's candidates provide, by name, as resolution reads them: (parsed version or
        None if not strict SemVer, capability, agent, version text) in the candidates' order, each agent's in its
        own order (what resolution picks from); only those named in `names`, if given (a channel requires a few
        of the many names its candidates offer). The same as `offer_sites`, with the agents and versions."""
        return {
            name: [
                (self.parsed_version(cap.version), cap, self.agents[position], cap.version)
                for position, _, cap in sites
            ]
            for name, sites in self.offer_sites(channel, names).items()
        }

    def offer_sites(self, channel: Channel, names: Collection[str] | None = None) -> dict[str, list[Site]]:
        """Where the capabilities a channel's candidates provide are, by name: (position of the agent in `agents`,
        index in its capabilities, the capability), in the operator's order (`offers`).

        A candidate none of whose capability names is wanted is passed over in C (`set.isdisjoint` on its tuple
        of names): only the capabilities of the wanted names are touched."""
        positions = self._positions((channel.namespace, channel.subset, channel.tenant, channel.channel))
        names_of, caps_of = self._cap_names, self._caps
        if names is None:
            hits: Iterable[int] = positions
            wanted: Container[str] = _EVERY_NAME
        else:
            wanted = names if isinstance(names, set | frozenset) else set(names)
            hits = compress(positions, map(not_, map(wanted.isdisjoint, map(names_of.__getitem__, positions))))
        by_name: dict[str, list[Site]] = {}
        for position in hits:
            for at, name in enumerate(names_of[position]):
                if name in wanted:
                    found = by_name.get(name)
                    if found is None:
                        by_name[name] = [(position, at, caps_of[position][at])]
                    else:
                        found.append((position, at, caps_of[position][at]))
        return by_name

    def parsed_version(self, text: str) -> Version | None:
        """A provided version parsed strictly, once per distinct text per index; None if it is not strict SemVer
        (resolution raises the operator's error only if a channel asks for that capability)."""
        try:
            return self._parsed[text]
        except KeyError:  # a text not seen yet (once per distinct text)
            version = None
            with suppress(VersionError):
                version = parse_version(text)
            self._parsed[text] = version
            return version

    def in_namespace(self, namespace: str, *, limit: int | None = None) -> tuple[Agent, ...]:
        """The agents of a namespace in the operator's order (the first `limit` of them, if given)."""
        order = self._order or range(len(self.agents))
        mine = compress(order, map(eq, map(self._namespaces.__getitem__, order), repeat(namespace)))
        return tuple(map(self.agents.__getitem__, islice(mine, limit)))  # scanned in C, only up to `limit`

    def providers(self, capability: str) -> tuple[Agent, ...]:
        """Agents (design order) that provide a capability of this exact name, in any namespace or scope."""
        return tuple(map(self.agents.__getitem__, self.provider_positions(capability)))

    def provider_positions(self, capability: str) -> list[int]:
        """Where the agents that provide a capability name are in `agents` (ascending). The first few names
        asked are found by a scan of the names records in C (an unresolved requirement or two need not hash every
        agent's names); past `_SCAN_BEFORE_MAP` names, a map of all is made once."""
        found = self._providers.get(capability)
        if found is not None:
            return found
        if self._providers_all:
            return []
        if len(self._providers) < _SCAN_BEFORE_MAP:
            scanned = list(compress(range(len(self._cap_names)), map(contains, self._cap_names, repeat(capability))))
            self._providers[capability] = scanned
            return scanned
        providers: dict[str, list[int]] = {}
        for position, own in enumerate(self._cap_names):
            for name in set(own) if len(own) > 1 else own:
                found = providers.get(name)
                if found is None:
                    providers[name] = [position]
                else:
                    found.append(position)
        self._providers, self._providers_all = providers, True
        return providers.get(capability, [])

    def named(self, name: str) -> tuple[Agent, ...]:
        """Agents (design order) with this name, in any namespace."""
        if self._named is None:
            named: dict[str, list[int]] = {}
            for position, agent_name in enumerate(self._names):
                found = named.get(agent_name)
                if found is None:
                    named[agent_name] = [position]
                else:
                    found.append(position)
            self._named = named
        return tuple(self.agents[i] for i in self._named.get(name, ()))

    def _filter_counts(self, namespace: str) -> _Counts:
        """A namespace's agents counted by subset, tenant and channel label, on first use (only a channel with no
        candidate asks): counted in C (`Counter`), not agent by agent."""
        found = self._counts.get(namespace)
        if found is None:
            mine = list(compress(self.agents, map(eq, self._namespaces, repeat(namespace))))
            tenants = list(map(attrgetter("supported_tenants"), mine))
            found = self._counts[namespace] = _Counts(
                len(mine),
                Counter(map(attrgetter("subset"), mine)),
                Counter(chain.from_iterable(map(set, tenants))),  # an agent counts once per distinct tenant
                Counter(chain.from_iterable(map(set, map(attrgetter("supported_channels"), mine)))),
                sum(map(bool, tenants)),
            )
        return found

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


def _mask(labels: tuple[str, ...], bits: dict[str, int]) -> int:
    """The bit mask of a tuple of channel labels, giving each new label the next bit (`_MASK_BITS` of them, then
    bits are shared and a match is checked against the model)."""
    mask = 0
    for label in labels:
        bit = bits.get(label)
        if bit is None:
            bit = bits[label] = 1 << (len(bits) % _MASK_BITS)
        mask |= bit
    return mask


def _operator_order(namespaces: list[str], names: list[str]) -> tuple[array[int] | None, array[int] | None]:
    """The operator's order (namespace, then name; design order on ties: the sort is stable) as the positions in
    that order and each position's place in it, or (None, None) when design order already is that order (a
    design kept sorted). Candidates are sorted by these 4-byte ints in one contiguous block, not by comparing
    the candidates' names (strings spread over a large design's memory)."""
    keys: list[Any] = list(zip(namespaces, names, strict=True)) if len(set(namespaces)) > 1 else names
    if all(map(le, keys, keys[1:])):
        return None, None
    order = array("i", sorted(range(len(keys)), key=keys.__getitem__))
    rank = array("i", (0,)) * len(keys)
    deque(map(rank.__setitem__, order, range(len(keys))), maxlen=0)  # rank[order[i]] = i, in C
    return order, rank
