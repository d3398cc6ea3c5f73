"""Routing impact of a design change: which routing tests and labelled queries get a different answer.

With a router (from `lmos_studio.routing.select`, when that library is installed) each query is routed
through the router fitted on each side's channel table; without one, answers come from resolution only:
the agent wired for the expected capability, or whether the expected agent is still wired in the channel.
`read_queries` reads labelled queries from CSV (columns text, agent, channel, capability).
"""

from __future__ import annotations

import csv
import importlib
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lmos_studio.errors import DesignFileError, VersionError
from lmos_studio.formats.yamlio import read_text
from lmos_studio.model import Design
from lmos_studio.resolve import Resolution
from lmos_studio.routing.base import FittedRouter, Router, RoutingTable, route_fitted
from lmos_studio.routing.table import all_agents_table, table_for_resolution

RESOLUTION = "resolution"
TEXT_COLUMNS = ("text", "query", "instruction")  # accepted names of the query column (lmos-router uses `instruction`)
Resolutions = Mapping[str, Resolution | VersionError]
Answer = tuple[str, str]  # (agent, capability); ("", "") = no answer


@dataclass(frozen=True)
class LabelledQuery:
    """A query with the agent (and optionally capability) that should answer it in a channel."""

    text: str
    agent: str
    channel: str = ""  # a Channel's key, name or channel label; "" = every agent of the design
    capability: str = ""
    source: str = "query"  # "query" (from a CSV) or "routing-test"


@dataclass(frozen=True)
class RouteChange:
    """A query whose answer differs between the two designs."""

    query: str
    channel: str
    before_agent: str
    before_capability: str
    after_agent: str
    after_capability: str
    expected_agent: str = ""
    source: str = "query"

    @property
    def regressed(self) -> bool:
        """The old design answered as expected and the new one does not."""
        return self.before_agent == self.expected_agent != self.after_agent

    def to_json(self) -> dict[str, str]:
        return {
            "source": self.source,
            "query": self.query,
            "channel": self.channel,
            "beforeAgent": self.before_agent,
            "beforeCapability": self.before_capability,
            "afterAgent": self.after_agent,
            "afterCapability": self.after_capability,
            "expectedAgent": self.expected_agent,
        }

    def row(self) -> dict[str, str]:
        return {
            "source": self.source,
            "query": self.query,
            "channel": self.channel,
            "before": _answer(self.before_agent, self.before_capability),
            "after": _answer(self.after_agent, self.after_capability),
            "expected": self.expected_agent,
        }


def _answer(agent: str, capability: str) -> str:
    if not agent:
        return "—"
    return f"{agent} ({capability})" if capability else agent


@dataclass
class Impact:
    changes: list[RouteChange]
    method: str = RESOLUTION
    notes: list[str] = field(default_factory=list)


def read_queries(path: str | Path) -> list[LabelledQuery]:
    """Labelled queries from a CSV file whose header names text (or query, instruction) and agent columns.

    `channel` and `capability` columns are optional; raises `DesignFileError` naming the file and line.
    """
    where = str(path)
    reader = csv.DictReader(io.StringIO(read_text(Path(path))))
    columns = [c.strip().lower() for c in reader.fieldnames or ()]
    text_col = next((c for c in TEXT_COLUMNS if c in columns), None)
    if text_col is None or "agent" not in columns:
        raise DesignFileError(
            f"header {columns or 'missing'} needs a text column ({', '.join(TEXT_COLUMNS)}) "
            "and an agent column; e.g. `text,agent,channel`",
            path=where,
            line=1,
        )
    queries = []
    for number, row in enumerate(reader, start=2):
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(v, str)}
        if not clean.get(text_col) or not clean.get("agent"):
            raise DesignFileError(f"row needs both {text_col} and agent", path=where, line=number)
        queries.append(
            LabelledQuery(
                text=clean[text_col],
                agent=clean["agent"],
                channel=clean.get("channel", ""),
                capability=clean.get("capability", ""),
            )
        )
    return queries


def _tests(old: Design, new: Design) -> list[LabelledQuery]:
    seen: dict[tuple[str, str, str], LabelledQuery] = {}
    for test in (*new.routing_tests, *old.routing_tests):
        query = LabelledQuery(
            text=test.query,
            agent=test.expect_agent,
            channel=test.channel,
            capability=test.expect_capability,
            source="routing-test",
        )
        seen.setdefault((query.text, query.channel, query.agent), query)
    return list(seen.values())


def channel_key(design: Design, ref: str) -> str | None:
    """The key of the Channel a test names: by key, by name (default namespace first), or by channel label."""
    if not ref:
        return None
    for channel in design.channels:
        if channel.key == ref:
            return channel.key
    named = [c for c in design.channels if c.name == ref] or [c for c in design.channels if c.channel == ref]
    named.sort(key=lambda c: c.namespace != "default")  # stable: the default namespace wins ties
    return named[0].key if named else None


def _by_resolution(design: Design, resolutions: Resolutions, query: LabelledQuery) -> Answer:
    if not query.channel:
        agent = design.agent(query.agent)
        if agent is None or (query.capability and agent.capability(query.capability) is None):
            return ("", "")
        return (agent.name, query.capability)
    key = channel_key(design, query.channel)
    resolution = resolutions.get(key) if key else None
    if not isinstance(resolution, Resolution):
        return ("", "")
    if query.capability:
        wire = resolution.provider(query.capability)
        return (wire.agent.name, wire.provided.name) if wire else ("", "")
    wired = any(a.name == query.agent for a in resolution.agents)
    return (query.agent, "") if wired else ("", "")


class _RouterSide:
    """One design's fitted routers, per channel table, fitted on first use."""

    def __init__(self, router: Router, design: Design, resolutions: Resolutions) -> None:
        self.router, self.design, self.resolutions = router, design, resolutions
        self.fitted: dict[str, FittedRouter | None] = {}
        self.answers: dict[tuple[str, str], Answer] = {}

    def table(self, ref: str) -> RoutingTable | None:
        if not ref:
            return all_agents_table(self.design)
        key = channel_key(self.design, ref)
        resolution = self.resolutions.get(key) if key else None
        return table_for_resolution(resolution, self.design.routing) if isinstance(resolution, Resolution) else None

    def prefetch(self, table: RoutingTable | None, texts: Sequence[str]) -> None:
        """Route the texts not answered yet in this table as one batch."""
        if table is None or not table.candidates:
            return
        missing = list(dict.fromkeys(t for t in texts if (table.channel, t) not in self.answers))
        if not missing:
            return
        if table.channel not in self.fitted:
            self.fitted[table.channel] = self.router.fit(table)
        fitted = self.fitted[table.channel]
        results = route_fitted(fitted, missing) if fitted else []
        for text, result in zip(missing, results, strict=True):
            best = result.best
            self.answers[(table.channel, text)] = (best.agent, best.capability) if best else ("", "")

    def answer(self, query: LabelledQuery, table: RoutingTable | None) -> Answer:
        if table is None or not table.candidates:
            return ("", "")
        self.prefetch(table, [query.text])
        return self.answers[(table.channel, query.text)]


def _load_router(name: str) -> Router | None:
    try:
        select = importlib.import_module("lmos_studio.routing.select")
    except ModuleNotFoundError as exc:
        if exc.name != "lmos_studio.routing.select":
            raise
        return None
    router: Any = select.get_router(name)
    return router  # type: ignore[no-any-return]


def routing_impact(
    old: Design,
    new: Design,
    *,
    queries: Sequence[LabelledQuery] = (),
    router: str | None = None,
    resolutions: tuple[Resolutions, Resolutions],
) -> Impact:
    """Routing tests of both designs and `queries` whose answer differs between `old` and `new`."""
    items = [*_tests(old, new), *queries]
    impact = Impact(changes=[])
    sides: tuple[_RouterSide, _RouterSide] | None = None
    if router:
        loaded = _load_router(router)
        if loaded is None:
            impact.notes.append(
                f"router {router!r} requested but the routing library (lmos_studio.routing.select) "
                "is not installed: impact computed from resolution only"
            )
        else:
            sides = (_RouterSide(loaded, old, resolutions[0]), _RouterSide(loaded, new, resolutions[1]))
            impact.method = getattr(loaded, "name", router)
            refs = list(dict.fromkeys(q.channel for q in items))
            for ref in refs:  # one batch per channel and side (a table both sides share is not routed)
                pair = (sides[0].table(ref), sides[1].table(ref))
                if pair[0] != pair[1]:
                    texts = [q.text for q in items if q.channel == ref]
                    sides[0].prefetch(pair[0], texts)
                    sides[1].prefetch(pair[1], texts)
    for query in items:
        if sides is None:
            before = _by_resolution(old, resolutions[0], query)
            after = _by_resolution(new, resolutions[1], query)
        else:
            tables = (sides[0].table(query.channel), sides[1].table(query.channel))
            if tables[0] == tables[1]:  # same table, same (deterministic) answer: skip routing
                continue
            before, after = sides[0].answer(query, tables[0]), sides[1].answer(query, tables[1])
        if before != after:
            impact.changes.append(
                RouteChange(query.text, query.channel, *before, *after, expected_agent=query.agent, source=query.source)
            )
    return impact
