"""Routing tables from a design: what each channel's resolution wired, or every agent without Channels.

The one place a channel reference (key, name or channel label) becomes a Channel key (`channel_key`).
"""

from __future__ import annotations

from lmos_studio.errors import RoutingError
from lmos_studio.model import Agent, Capability, Design, RoutingSettings
from lmos_studio.resolve import Resolution, resolve_channel
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.visible import SHOWN_CHARS, cut

ALL_AGENTS = ""  # the table key of a design without Channels (route over every agent)
DISABLED = "studio.lmos.eclipse/disabled"  # annotation of an agent that takes no traffic (what-if)


def _candidate(agent: Agent, cap: Capability) -> Candidate:
    return Candidate(
        agent=agent.name,
        capability=cap.name,
        description=cap.description,
        examples=cap.examples,
        agent_description=agent.description,
        version=cap.version,
    )


def table_for_resolution(resolution: Resolution, settings: RoutingSettings | None = None) -> RoutingTable:
    """The (agent, capability) pairs the operator wired into one channel, in routing order (with the
    design's routing settings: no-match threshold, vocabulary and lexicon policy)."""
    settings = settings or RoutingSettings()
    return RoutingTable(
        channel=resolution.channel.key,
        candidates=tuple(_candidate(w.agent, w.provided) for w in resolution.wires),
        min_score=settings.min_score,
        vocabulary=settings.vocabulary,
        lexicon=settings.lexicon,
        out_of_scope=settings.out_of_scope_for(resolution.channel.name, resolution.channel.key),
    )


def all_agents_table(design: Design) -> RoutingTable:
    """Every capability of every agent that takes traffic (for designs without Channels)."""
    live = [a for a in design.agents if a.annotations.get(DISABLED) != "true"]
    return RoutingTable(
        channel=ALL_AGENTS,
        candidates=tuple(_candidate(a, c) for a in live for c in a.capabilities),
        min_score=design.routing.min_score,
        vocabulary=design.routing.vocabulary,
        lexicon=design.routing.lexicon,
        out_of_scope=design.routing.out_of_scope_for(),
    )


def channel_key(design: Design, ref: str) -> str:
    """The key of the Channel named by key, name or channel label; "" stays "" (all agents).

    A name shared by Channels of several namespaces means the one in the default namespace, if any.
    A design without Channels routes every query over all its agents, whatever channel it names.
    Raises `RoutingError` for a reference that is unknown or ambiguous, naming the channels there are.
    """
    if not ref or not design.channels:
        return ALL_AGENTS
    candidates = design.channels_named(ref)  # by key, then name, then channel label
    if len(candidates) == 1:
        return candidates[0].key
    if candidates:
        names = ", ".join(c.key for c in candidates)
        raise RoutingError(f"channel '{cut(ref, SHOWN_CHARS)}' is ambiguous ({names}); name it by namespace/name")
    known = ", ".join(c.key for c in design.channels) or "none (leave it empty to route over all agents)"
    raise RoutingError(f"channel '{cut(ref, SHOWN_CHARS)}' is not a Channel of this design; use one of: {known}")


def agent_key(design: Design, channel_key: str, agent: str) -> str:
    """The namespace/name of an agent a table answered with (a channel routes within its own namespace)."""
    if channel_key:
        return f"{channel_key.split('/', 1)[0]}/{agent}"
    found = design.agent(agent)
    return found.key if found else agent


def routing_table(design: Design, channel: str | None) -> RoutingTable:
    """The table of one channel, named as `channel_key` takes it; `None` or "" routes over all agents."""
    key = channel_key(design, channel or "")
    if key == ALL_AGENTS:
        return all_agents_table(design)
    found = next(c for c in design.channels if c.key == key)
    return table_for_resolution(resolve_channel(found, design.agents), design.routing)
