"""Compare two designs' routes: which labelled queries get a different answer before and after a change.

One comparison serves `lmos-studio diff` (two designs) and what-if (a design and its edited copy). Each
query is answered in its channel's routing table on each side: by a `Router` (every distinct table fitted
once, its whole query list routed in one batch through `routing.base.route_fitted`), or without one by
resolution only (the agent wired for the expected capability, or whether the expected agent is wired at
all). A query
whose table is the same on both sides cannot change and is not routed. `compare` also says, per side,
which lexicon each routed channel's router used (the tables carry the design's `spec.routing.lexicon`).
Building the query list (routing tests, CSV rows) and presenting the changes is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lmos_studio.errors import RoutingError, VersionError
from lmos_studio.model import Design
from lmos_studio.routing.base import Router, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.lexicon import lexicon_choice_of
from lmos_studio.routing.table import ALL_AGENTS, channel_key, routing_table

RESOLUTION = "resolution"  # the method name when no router is given


@dataclass(frozen=True)
class Answer:
    """Who answers a query: agent and capability; the empty Answer means no agent answers."""

    agent: str = ""
    capability: str = ""

    def __bool__(self) -> bool:
        return bool(self.agent)


NO_ANSWER = Answer()


@dataclass(frozen=True)
class RouteChange:
    """A query whose answer differs between the two designs; `channel` is the key it was routed in."""

    query: LabelledQuery
    channel: str
    before: Answer
    after: Answer

    @property
    def broken(self) -> bool:
        """The first design answered with the expected agent and the second does not."""
        return self.before.agent == self.query.agent != self.after.agent

    @property
    def fixed(self) -> bool:
        """The second design answers with the expected agent and the first did not."""
        return self.before.agent != self.query.agent == self.after.agent


class _Side:
    """One design's routing tables, by channel key, computed once."""

    def __init__(self, design: Design) -> None:
        self.design = design
        self._tables: dict[str, RoutingTable | None] = {}

    def key(self, ref: str) -> str | None:
        """The channel key of a reference, or None when this design has no such (unambiguous) channel."""
        try:
            return channel_key(self.design, ref)
        except RoutingError:
            return None

    def table(self, key: str | None) -> RoutingTable | None:
        if key is None:
            return None
        if key not in self._tables:
            try:
                self._tables[key] = routing_table(self.design, key)
            except VersionError:  # the operator would fail this channel's reconcile: nothing answers there
                self._tables[key] = None
        return self._tables[key]


def by_resolution(table: RoutingTable | None, query: LabelledQuery) -> Answer:
    """The answer resolution alone gives: the wired provider of the expected capability, else the expected agent
    when the table routes to it (over all agents: when that agent has the expected capability)."""
    if table is None:
        return NO_ANSWER
    if table.channel == ALL_AGENTS or not query.capability:
        pairs = {(c.agent, c.capability) for c in table.candidates}
        if query.capability:
            return Answer(query.agent, query.capability) if (query.agent, query.capability) in pairs else NO_ANSWER
        return Answer(query.agent, "") if query.agent in table.agents else NO_ANSWER
    wired = next((c for c in table.candidates if c.capability == query.capability), None)
    return Answer(wired.agent, wired.capability) if wired else NO_ANSWER


@dataclass(frozen=True)
class Comparison:
    """The changed routes, and per side (before, after) each routed channel's lexicon choice (one line)."""

    changes: list[RouteChange]
    # per side: channel key → `LexiconChoice.describe()`
    lexicon: tuple[dict[str, str], dict[str, str]] = field(default_factory=lambda: ({}, {}))

    def lexicon_json(self) -> dict[str, dict[str, str]]:
        """{"before": {channel key: summary}, "after": {…}}: only channels routed (their tables differ)."""
        sides = zip(("before", "after"), self.lexicon, strict=True)
        return {side: dict(sorted(found.items())) for side, found in sides}


def _routed(
    router: Router, jobs: dict[int, tuple[RoutingTable, list[str]]]
) -> tuple[dict[tuple[int, str], RouteResult], dict[int, str]]:
    """Each table fitted once and its texts routed as one batch; the results and each table's lexicon line."""
    results: dict[tuple[int, str], RouteResult] = {}
    lexicon: dict[int, str] = {}
    for table_id, (table, texts) in jobs.items():
        fitted = router.fit(table)
        if (choice := lexicon_choice_of(fitted)) is not None:
            lexicon[table_id] = choice.describe()
        for text, result in zip(texts, route_fitted(fitted, texts, top_k=1), strict=True):
            results[(table_id, text)] = result
    return results, lexicon


def _answer(result: RouteResult | None, min_score: float | None) -> Answer:
    """The answer of a result, held to a routing test's own threshold (None: the router's rule)."""
    best = result.with_threshold(min_score).best if result is not None else None
    return Answer(best.agent, best.capability) if best else NO_ANSWER


def compare_routes(
    before: Design, after: Design, queries: Sequence[LabelledQuery], *, router: Router | None = None
) -> list[RouteChange]:
    """The queries whose answer differs from `before` to `after`, in query order (`compare(...).changes`)."""
    return compare(before, after, queries, router=router).changes


def compare(
    before: Design, after: Design, queries: Sequence[LabelledQuery], *, router: Router | None = None
) -> Comparison:
    """The queries whose answer differs from `before` to `after`, in query order, and the lexicon choices.

    A query names its channel by key, name or channel label ("" = all agents); a channel one design lacks
    answers nothing there. Without `router` the answers come from resolution only (`by_resolution`).
    """
    sides = (_Side(before), _Side(after))
    same: dict[tuple[int, int], bool] = {}
    pending: list[tuple[LabelledQuery, str, RoutingTable | None, RoutingTable | None]] = []
    for query in queries:
        keys = (sides[0].key(query.channel), sides[1].key(query.channel))
        tables = (sides[0].table(keys[0]), sides[1].table(keys[1]))
        pair = (id(tables[0]), id(tables[1]))
        if pair not in same:
            same[pair] = tables[0] == tables[1]
        if not same[pair]:  # the same table gives the same answer
            pending.append((query, keys[0] if keys[0] is not None else keys[1] or "", *tables))
    lexicon: tuple[dict[str, str], dict[str, str]] = ({}, {})
    if router is None:
        answer_of = [(by_resolution(b, q), by_resolution(a, q)) for q, _, b, a in pending]
    else:
        jobs: dict[int, tuple[RoutingTable, list[str]]] = {}
        side_of: dict[int, int] = {}
        for query, _, old_table, new_table in pending:
            for side, table in enumerate((old_table, new_table)):
                if table is not None and table.candidates:
                    texts = jobs.setdefault(id(table), (table, []))[1]
                    texts.append(query.text)
                    side_of[id(table)] = side
        for table_id, (table, texts) in jobs.items():
            jobs[table_id] = (table, list(dict.fromkeys(texts)))  # each distinct query once per table
        answers, choices = _routed(router, jobs)
        for table_id, summary in choices.items():
            lexicon[side_of[table_id]][jobs[table_id][0].channel] = summary

        def routed(table: RoutingTable | None, query: LabelledQuery) -> Answer:
            return _answer(answers.get((id(table), query.text)), query.min_score) if table is not None else NO_ANSWER

        answer_of = [(routed(b, q), routed(a, q)) for q, _, b, a in pending]
    changes = [
        RouteChange(query, key, old, new)
        for (query, key, _, _), (old, new) in zip(pending, answer_of, strict=True)
        if old != new
    ]
    return Comparison(changes, lexicon)
