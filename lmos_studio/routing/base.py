"""The Router protocol and the routing table a channel's resolution gives it.

A `RoutingTable` lists what a router may answer with: the (agent, capability) pairs the operator wired
into a channel (or, for a design without Channels, every agent's capabilities). Routers are fitted on a
table and then answer queries with ranked `Match`es that carry a score and the evidence for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Candidate:
    """One (agent, capability) a router may pick, with the text it can learn from."""

    agent: str
    capability: str
    description: str = ""
    examples: tuple[str, ...] = ()
    agent_description: str = ""
    version: str = ""


@dataclass(frozen=True)
class RoutingTable:
    """What a channel can route to. `channel` is the Channel's key (namespace/name) or "" for all agents."""

    channel: str
    candidates: tuple[Candidate, ...]

    @property
    def agents(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.agent for c in self.candidates))


@dataclass(frozen=True)
class Match:
    """One ranked answer: agent, capability, a score in [0, 1] (higher is better) and why."""

    agent: str
    capability: str
    score: float
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouteResult:
    """A router's answer to one query; `matches` best first (may be empty: no agent)."""

    router: str
    matches: tuple[Match, ...]
    latency_ms: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)  # tokens / cost for LLM routers

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


class FittedRouter(Protocol):
    """A router fitted on one routing table."""

    name: str

    def route(self, query: str, *, top_k: int = 5) -> RouteResult: ...


class Router(Protocol):
    """A routing method; `fit` learns a table (and optional labelled seed examples)."""

    name: str

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        """`seed` rows are (text, agent, capability-or-empty)."""
        ...


def route_batch(router: Router, queries: Sequence[str], table: RoutingTable, *, top_k: int = 1) -> list[RouteResult]:
    """Every query's answer in one table, in order: the one path for routing a list of queries.

    Fits `router` on `table` once; an empty table answers every query with no match.
    """
    if not table.candidates:
        return [RouteResult(router=router.name, matches=()) for _ in queries]
    fitted = router.fit(table)
    return [fitted.route(query, top_k=top_k) for query in queries]
