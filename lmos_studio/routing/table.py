"""Routing tables from a design: what each channel's resolution wired, or every agent without Channels."""

from __future__ import annotations

from lmos_studio.errors import RoutingError
from lmos_studio.model import Agent, Capability, Design, RoutingSettings
from lmos_studio.resolve import Resolution, resolve_design
from lmos_studio.routing.base import Candidate, RoutingTable

ALL_AGENTS = ""  # the table key of a design without Channels (route over every agent)


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
    design's routing settings: no-match threshold and vocabulary)."""
    settings = settings or RoutingSettings()
    return RoutingTable(
        channel=resolution.channel.key,
        candidates=tuple(_candidate(w.agent, w.provided) for w in resolution.wires),
        min_score=settings.min_score,
        vocabulary=settings.vocabulary,
    )


def all_agents_table(design: Design) -> RoutingTable:
    """Every capability of every agent (for designs without Channels)."""
    return RoutingTable(
        channel=ALL_AGENTS,
        candidates=tuple(_candidate(a, c) for a in design.agents for c in a.capabilities),
        min_score=design.routing.min_score,
        vocabulary=design.routing.vocabulary,
    )


def routing_tables(design: Design) -> dict[str, RoutingTable]:
    """Channel key → table; a design without Channels has one table under ALL_AGENTS."""
    if not design.channels:
        return {ALL_AGENTS: all_agents_table(design)}
    return {r.channel.key: table_for_resolution(r, design.routing) for r in resolve_design(design)}


def routing_table(design: Design, channel: str | None) -> RoutingTable:
    """The table of one channel, named by key (ns/name), by name, or by its `channel` label when unambiguous.

    `None` or "" routes over all agents.
    """
    if not channel:
        return all_agents_table(design)
    matches = [c for c in design.channels if channel in (c.key, c.name)]
    if not matches:
        matches = [c for c in design.channels if c.channel == channel]
    if len(matches) != 1:
        known = ", ".join(c.key for c in design.channels) or "none"
        what = "is ambiguous" if matches else "is not a Channel of this design"
        raise RoutingError(f"channel '{channel}' {what}; use one of: {known}")
    resolution = next(r for r in resolve_design(design.replace(channels=tuple(matches))))
    return table_for_resolution(resolution, design.routing)
