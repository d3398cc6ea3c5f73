"""The agent index gives exactly what filtering every agent gives (`resolve.is_candidate`, `mismatch_reasons`)."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import VersionError
from lmos_studio.index import AgentIndex, Offer
from lmos_studio.model import Agent, Capability, Channel
from lmos_studio.resolve import Resolution, candidate_agents, mismatch_reasons, resolve_channel, resolve_design
from lmos_studio.synthetic import synthetic_design
from lmos_studio.versions import Version, parse_version

NAMES = st.sampled_from(["a", "b", "c", "billing", "news"])  # few names: duplicates across namespaces
NAMESPACES = st.sampled_from(["default", "shop"])
TENANTS = st.sampled_from(["acme", "globex", ""])
LABELS = st.sampled_from(["web", "ivr", "app"])
CAPS = st.sampled_from(["view-bill", "pay-bill", "news"])


@st.composite
def agents(draw: st.DrawFn) -> Agent:
    return Agent(
        name=draw(NAMES),
        namespace=draw(NAMESPACES),
        labels=draw(st.sampled_from([{}, {"subset": "canary"}, {"subset": "stable"}])),
        supported_tenants=tuple(draw(st.lists(TENANTS, max_size=3))),  # duplicates allowed, as a file may have
        supported_channels=tuple(draw(st.lists(LABELS, max_size=3))),
        capabilities=tuple(
            Capability(name=n, version=f"1.{i}.0") for i, n in enumerate(draw(st.lists(CAPS, max_size=3)))
        ),
    )


@st.composite
def channels(draw: st.DrawFn) -> Channel:
    labels = {
        key: draw(values)
        for key, values in (("tenant", TENANTS), ("channel", LABELS), ("subset", st.sampled_from(["stable", "canary"])))
        if draw(st.booleans()) or key == "channel"
    }
    if draw(st.booleans()):
        labels.pop("channel")  # a channel without a channel label matches no agent
    return Channel(name="ch", namespace=draw(NAMESPACES), labels=labels)


def _parsed_or_none(text: str) -> Version | None:
    """A provided version as the index keeps it: parsed, or None when it is not strict SemVer."""
    try:
        return parse_version(text)
    except VersionError:
        return None


def _counts(channel: Channel, pool: list[Agent]) -> dict[str, int]:
    counts = {"subset": 0, "tenant": 0, "channel": 0}
    for agent in pool:
        if agent.namespace != channel.namespace:
            continue
        for reason in mismatch_reasons(agent, channel):
            counts[reason.filter] += 1
    return counts


@settings(max_examples=300, deadline=None)
@given(st.lists(agents(), max_size=12), st.lists(channels(), min_size=1, max_size=4))
def test_candidates_and_counts_match_filtering_every_agent(pool: list[Agent], chans: list[Channel]) -> None:
    index = AgentIndex(pool)
    for channel in chans:
        assert index.candidates(channel) == candidate_agents(channel, pool)
        assert index.candidates(channel) is index.candidates(channel)  # memoised per scope
        offered: dict[str, list[Offer]] = {}
        for agent in candidate_agents(channel, pool):  # what resolution picks from, in the operator's order
            for cap in agent.capabilities:
                offered.setdefault(cap.name, []).append((_parsed_or_none(cap.version), cap, agent, cap.version))
        assert index.offers(channel) == offered
        some = {"view-bill", "news", "nothing"}  # only the names a channel requires
        assert index.offers(channel, some) == {k: v for k, v in offered.items() if k in some}
        counts = index.filter_counts(channel)
        assert counts.in_namespace == sum(a.namespace == channel.namespace for a in pool)
        assert {"subset": counts.subset, "tenant": counts.tenant, "channel": counts.channel} == _counts(channel, pool)
    for name in ("view-bill", "news", "nothing"):
        assert index.providers(name) == tuple(a for a in pool if a.capability(name))
    assert index.named("a") == tuple(a for a in pool if a.name == "a")
    for channel in chans:
        positions = index.candidate_positions(channel)
        assert tuple(pool[p] for p in positions) == candidate_agents(channel, pool)
    for namespace in ("default", "shop", "none"):
        mine = tuple(sorted((a for a in pool if a.namespace == namespace), key=lambda a: a.name))  # stable
        assert index.in_namespace(namespace) == mine
        assert index.in_namespace(namespace, limit=2) == mine[:2]


def test_providers_by_scan_and_by_map_agree() -> None:
    """The first names asked are scanned for, later ones read from a map of every name: the same answers."""
    design = synthetic_design(300, 10, seed=5)
    names = [*sorted({c.name for a in design.agents for c in a.capabilities})[:20], "nothing"]
    index = AgentIndex(design.agents)
    for name in names + names:
        assert index.providers(name) == tuple(a for a in design.agents if a.capability(name))


def test_resolution_candidates_are_made_when_read() -> None:
    """A resolution keeps its candidates' positions and gives the same tuple, equality, copy and pickle."""
    design = synthetic_design(200, 20, seed=2)
    index = AgentIndex(design.agents)
    for resolution in resolve_design(design):
        candidates = candidate_agents(resolution.channel, design.agents)
        assert resolution.candidates == candidates
        assert resolution.candidates is resolution.candidates
        assert resolution.status == ("RESOLVED" if candidates and not resolution.unresolved else "UNRESOLVED")
        eager = Resolution(resolution.channel, candidates, resolution.wires, resolution.unresolved)
        assert eager == resolution and repr(eager) == repr(resolution)
        assert pickle.loads(pickle.dumps(resolution)) == resolution == copy.deepcopy(resolution)
        assert resolve_channel(resolution.channel, design.agents, index=index) == resolution
    with pytest.raises(FrozenInstanceError):
        resolution.wires = ()  # type: ignore[misc]


def test_resolving_with_a_shared_index_equals_resolving_channel_by_channel() -> None:
    design = synthetic_design(300, 40, seed=3)
    shared = resolve_design(design)
    alone = [resolve_channel(c, design.agents) for c in design.channels]
    assert shared == alone
    assert sum(r.resolved for r in shared) > 0 and sum(not r.resolved for r in shared) > 0


def test_candidates_past_sixty_four_channel_labels() -> None:
    """Label masks share bits past 64 labels: candidates are still exactly the filter's."""
    labels = [f"label-{i}" for i in range(70)]
    pool = [
        Agent(name=f"a{i}", supported_tenants=("acme",) if i % 3 else (), supported_channels=(labels[i % 70],))
        for i in range(200)
    ]
    index = AgentIndex(pool)
    for label in labels:
        channel = Channel(name="ch", labels={"tenant": "acme", "channel": label})
        assert index.candidates(channel) == candidate_agents(channel, pool)
