"""What-if: change a design (remove or disable an agent, remove a capability, move an agent to another
channel/subset) and see which channels resolve differently and which routing tests and labelled queries
change route, before → after.

A disabled agent stays in the design but takes no traffic: its supportedChannels are emptied (so the
operator never wires it) and it is left out of the all-agents routing table. The route comparison is
`compare.compare_routes`, the same one `lmos-studio diff` uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from lmos_studio.compare import Answer, RouteChange, compare
from lmos_studio.errors import RoutingError
from lmos_studio.model import Agent, Design
from lmos_studio.redact import redact_text
from lmos_studio.resolve import Resolution, resolve_design
from lmos_studio.routing.base import Router
from lmos_studio.routing.evaluate import check_labelled
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.table import DISABLED, channel_key
from lmos_studio.visible import SHOWN_CHARS, cut

__all__ = [
    "CHANGE_KINDS",
    "DISABLED",
    "Edit",
    "WhatIf",
    "apply_changes",
    "channel_rows",
    "parse_change",
    "route_rows",
    "what_if",
]

ChangeKind = Literal["remove-agent", "disable-agent", "remove-capability", "move-agent"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("remove-agent", "disable-agent", "remove-capability", "move-agent")
NONE = "(none)"
TEST = "test"  # the source label of a routing test in what-if results


@dataclass(frozen=True)
class Edit:
    """One what-if edit of a design; `agent` is a name or namespace/name."""

    kind: ChangeKind
    agent: str
    capability: str = ""  # remove-capability
    channel: str = ""  # move-agent: the channel label the agent serves afterwards
    subset: str = ""  # move-agent: the subset label afterwards ("" = unchanged)

    def describe(self) -> str:
        if self.kind == "remove-capability":
            return f"remove capability {self.capability} of {self.agent}"
        if self.kind == "move-agent":
            subset = f" (subset {self.subset})" if self.subset else ""
            return f"move {self.agent} to channel {self.channel}{subset}"
        return f"{self.kind.split('-')[0]} agent {self.agent}"


def parse_change(kind: str, value: str) -> Edit:
    """A change from its CLI spelling: NAME, AGENT:CAP or AGENT:CHANNEL_LABEL[:SUBSET]."""
    if kind not in CHANGE_KINDS:
        raise RoutingError(f"unknown what-if change '{kind}'; use one of: {', '.join(CHANGE_KINDS)}")
    parts = [p.strip() for p in value.split(":")]
    if not parts[0] or any(not p for p in parts):
        raise RoutingError(f"--{kind} '{value}': empty name; see `lmos-studio whatif --help`")
    if kind in ("remove-agent", "disable-agent"):
        if len(parts) != 1:
            raise RoutingError(f"--{kind} '{value}': give just the agent name")
        return Edit(kind, parts[0])
    if kind == "remove-capability":
        if len(parts) != 2:
            raise RoutingError(f"--remove-capability '{value}': write AGENT:CAPABILITY")
        return Edit(kind, parts[0], capability=parts[1])
    if len(parts) not in (2, 3):
        raise RoutingError(f"--move-agent '{value}': write AGENT:CHANNEL_LABEL or AGENT:CHANNEL_LABEL:SUBSET")
    return Edit(kind, parts[0], channel=parts[1], subset=parts[2] if len(parts) == 3 else "")


def _target(design: Design, ref: str) -> Agent:
    found = [a for a in design.agents if ref in (a.key, a.name)]
    if len(found) == 1:
        return found[0]
    if found:
        keys = ", ".join(a.key for a in found)
        raise RoutingError(f"agent '{ref}' is ambiguous ({keys}); use namespace/name")
    known = ", ".join(a.name for a in design.agents) or "none"
    raise RoutingError(f"agent '{cut(ref, SHOWN_CHARS)}' is not in the design; agents: {known}")


def _changed_agent(agent: Agent, change: Edit) -> Agent | None:
    if change.kind == "remove-agent":
        return None
    if change.kind == "disable-agent":
        return agent.model_copy(
            update={"supported_channels": (), "annotations": {**agent.annotations, DISABLED: "true"}}
        )
    if change.kind == "remove-capability":
        if agent.capability(change.capability) is None:
            have = ", ".join(c.name for c in agent.capabilities) or "none"
            raise RoutingError(f"agent '{agent.name}' has no capability '{change.capability}'; it has: {have}")
        return agent.model_copy(
            update={"capabilities": tuple(c for c in agent.capabilities if c.name != change.capability)}
        )
    labels = {**agent.labels, **({"subset": change.subset} if change.subset else {})}
    return agent.model_copy(update={"supported_channels": (change.channel,), "labels": labels})


def apply_changes(design: Design, changes: Sequence[Edit]) -> Design:
    """The design after the changes (in order); an unknown agent or capability is a RoutingError."""
    for change in changes:
        agent = _target(design, change.agent)
        changed = _changed_agent(agent, change)
        agents = [changed if a.key == agent.key else a for a in design.agents]
        design = design.replace(agents=tuple(a for a in agents if a is not None))
    return design


@dataclass(frozen=True)
class ChannelChange:
    """A channel whose resolution changes: status and the (agent, capability) pairs it loses or gains."""

    channel: str
    before: str
    after: str
    lost: tuple[str, ...]
    gained: tuple[str, ...]
    reasons: tuple[str, ...]  # why requirements are unresolved afterwards


@dataclass(frozen=True)
class WhatIf:
    """The effect of a set of changes."""

    changes: tuple[Edit, ...]
    channels: tuple[ChannelChange, ...]
    routes: tuple[RouteChange, ...]
    checked_tests: int
    checked_queries: int
    lexicon: dict[str, dict[str, str]] = field(default_factory=dict)  # before/after: channel key → lexicon line
    skipped_tests: tuple[tuple[str, str], ...] = ()  # (name, why) of routing tests naming no Channel of the design

    def to_dict(self) -> dict[str, Any]:
        return {
            "changes": [c.describe() for c in self.changes],
            "channels": [
                {
                    "channel": c.channel,
                    "before": c.before,
                    "after": c.after,
                    "lost": list(c.lost),
                    "gained": list(c.gained),
                    "reasons": list(c.reasons),
                }
                for c in self.channels
            ],
            "routes": [{**_route(r), "broken": r.broken, "fixed": r.fixed} for r in self.routes],
            "checked": {"tests": self.checked_tests, "queries": self.checked_queries},
            "skipped": [{"test": name, "reason": reason} for name, reason in self.skipped_tests],
            "lexicon": self.lexicon,
        }

    def route_rows(self) -> list[dict[str, Any]]:
        return route_rows(self.to_dict())

    def channel_rows(self) -> list[dict[str, Any]]:
        return channel_rows(self.to_dict())


def route_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows of the routes in `WhatIf.to_dict()` (plain data, as the app keeps it), with their effect."""
    return [
        {
            **{k: v for k, v in r.items() if k not in ("broken", "fixed")},
            "effect": "broken" if r["broken"] else "fixed" if r["fixed"] else "changed",
        }
        for r in data["routes"]
    ]


def channel_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Table rows of the channels in `WhatIf.to_dict()`: lists joined into text."""
    return [
        {
            "channel": c["channel"],
            "before": c["before"],
            "after": c["after"],
            "lost": ", ".join(c["lost"]),
            "gained": ", ".join(c["gained"]),
            "reasons": "; ".join(c["reasons"]),
        }
        for c in data["channels"]
    ]


def _wired(resolution: Resolution) -> set[str]:
    return {f"{w.agent.name}/{w.provided.name}" for w in resolution.wires}


def channel_changes(before: Design, after: Design) -> list[ChannelChange]:
    """Channels whose status or wiring differ between two designs (same channels on both sides)."""
    after_by_key = {r.channel.key: r for r in resolve_design(after)}
    changes = []
    for old in resolve_design(before):
        new = after_by_key.get(old.channel.key)
        if new is None:
            continue
        lost, gained = sorted(_wired(old) - _wired(new)), sorted(_wired(new) - _wired(old))
        if old.status != new.status or lost or gained:
            changes.append(
                ChannelChange(
                    old.channel.key,
                    old.status,
                    new.status,
                    tuple(lost),
                    tuple(gained),
                    tuple(u.reason for u in new.unresolved),
                )
            )
    return changes


def _answer(answer: Answer) -> str:
    return f"{answer.agent}/{answer.capability}" if answer else NONE


def _route(change: RouteChange) -> dict[str, Any]:
    query = change.query
    return {
        "source": query.source,
        "name": redact_text(query.name or f"line {query.line}"),  # a routing test is named by its query
        "query": redact_text(query.text),
        "channel": change.channel,
        "expected": query.agent,
        "before": _answer(change.before),
        "after": _answer(change.after),
    }


def what_if(
    design: Design,
    changes: Sequence[Edit],
    *,
    router: Router,
    queries: Sequence[LabelledQuery] = (),
    source: str | None = None,
) -> WhatIf:
    """Apply the changes and compare channel resolution and the route of every routing test and query.

    A channel a query names must be a Channel of the design (else `RoutingError`); a query's agent must be
    routable in its channel before or after the changes (else `DesignFileError` naming `source`, the query's
    line and field). A routing test whose channel is unknown or ambiguous is left out and named in
    `skipped_tests` (`lmos-studio test` reports it as that test's error): the design's own broken test does not
    stop the comparison of the others.
    """
    after = apply_changes(design, changes)
    check_labelled([design, after], queries, source=source)
    tests, skipped = [], []
    for t in design.routing_tests:
        try:
            channel_key(design, t.channel)
        except RoutingError as exc:
            skipped.append((redact_text(t.name or t.query), str(exc)))  # a test is named by its query
            continue
        tests.append(
            LabelledQuery(
                t.query,
                t.expect_agent,
                t.expect_capability,
                t.channel,
                source=TEST,
                name=t.name or t.query,
                min_score=t.min_score,
            )
        )
    for ref in dict.fromkeys(q.channel for q in queries):
        channel_key(design, ref)  # an unknown or ambiguous channel is an error here, not a silent no-answer
    compared = compare(design, after, [*tests, *queries], router=router)
    return WhatIf(
        tuple(changes),
        tuple(channel_changes(design, after)),
        tuple(compared.changes),
        checked_tests=len(tests),
        checked_queries=len(queries),
        lexicon=compared.lexicon_json(),
        skipped_tests=tuple(skipped),
    )
