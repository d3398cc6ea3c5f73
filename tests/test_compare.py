"""compare.py: one route comparison for diff and what-if, and the pure helpers moved out of ui/."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from lmos_studio.compare import NO_ANSWER, Answer, by_resolution, compare_routes
from lmos_studio.errors import DesignFileError
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import RoutingTest
from lmos_studio.resolve import mismatch_reasons
from lmos_studio.routing.base import FittedRouter, RouteResult, RoutingTable, route_batch
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.regression import outcome_rows, run_routing_tests
from lmos_studio.routing.table import ALL_AGENTS, DISABLED, agent_key, all_agents_table, channel_key, routing_table
from lmos_studio.whatif import Edit, apply_changes, channel_rows, route_rows, what_if
from tests.routing_fake import DESIGN, OverlapRouter


class CountingRouter:
    """OverlapRouter that counts fits and routed queries (to check each table is fitted once)."""

    name = "counting"

    def __init__(self) -> None:
        self.fits = 0
        self.routed = 0
        self.inner = OverlapRouter()

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        self.fits += 1
        fitted = self.inner.fit(table, seed=seed)
        outer = self

        class Fitted:
            name = "counting"

            def route(self, query: str, *, top_k: int = 5) -> RouteResult:
                outer.routed += 1
                return fitted.route(query, top_k=top_k)

        return Fitted()


QUERIES = [
    LabelledQuery("show my bill", "billing", channel="web-stable", line=2),
    LabelledQuery("show my bill", "billing", channel="web-stable", line=3),  # the same text: routed once
    LabelledQuery("rain tomorrow", "weather", channel="app-stable", line=4),
]


def test_a_design_compared_with_itself_routes_nothing() -> None:
    router = CountingRouter()
    assert compare_routes(DESIGN, DESIGN, QUERIES, router=router) == []
    assert router.fits == router.routed == 0  # same table on both sides: the answer cannot change


def test_removing_an_agent_breaks_its_queries_and_routes_each_table_once() -> None:
    router = CountingRouter()
    after = apply_changes(DESIGN, [Edit("remove-agent", "billing")])
    changes = compare_routes(DESIGN, after, QUERIES, router=router)
    assert [(c.query.line, c.channel, c.before.agent, c.after.agent) for c in changes] == [
        (2, "default/web-stable", "billing", changes[0].after.agent),
        (3, "default/web-stable", "billing", changes[0].after.agent),
    ]
    assert all(c.broken and not c.fixed for c in changes)
    assert router.fits == 2 and router.routed == 2  # web-stable before and after; one distinct text each


def test_resolution_answers_without_a_router() -> None:
    table = routing_table(DESIGN, "web-stable")
    wired = table.candidates[0]
    assert by_resolution(table, LabelledQuery("x", "someone", wired.capability)) == Answer(
        wired.agent, wired.capability
    )
    assert by_resolution(table, LabelledQuery("x", wired.agent)) == Answer(wired.agent, "")
    assert by_resolution(table, LabelledQuery("x", "ghost")) == NO_ANSWER and not NO_ANSWER
    assert by_resolution(None, LabelledQuery("x", wired.agent)) == NO_ANSWER


def test_a_channel_one_side_lacks_answers_nothing_there() -> None:
    web = next(c for c in DESIGN.channels if c.key == "default/web-stable")
    without = DESIGN.replace(channels=tuple(c for c in DESIGN.channels if c is not web))
    [change] = compare_routes(DESIGN, without, [LabelledQuery("show my bill", "billing", channel="web-stable")])
    assert change.after == NO_ANSWER and change.channel == "default/web-stable" and change.broken


def test_diff_and_whatif_agree_on_the_same_change() -> None:
    after = apply_changes(DESIGN, [Edit("remove-agent", "billing")])
    router = OverlapRouter()
    diff = diff_designs(DESIGN, after, queries=QUERIES, router=router)
    whatif = what_if(DESIGN, [Edit("remove-agent", "billing")], router=router, queries=QUERIES)
    assert [(c.query, c.before, c.after) for c in diff.routing_impact] == [
        (c.query, c.before, c.after) for c in whatif.routes
    ]


def test_whatif_refuses_an_unknown_channel() -> None:
    with pytest.raises(DesignFileError, match="channel: channel 'nope' is not a Channel of this design"):
        what_if(
            DESIGN,
            [Edit("remove-agent", "billing")],
            router=OverlapRouter(),
            queries=[LabelledQuery("x", "a", channel="nope")],
        )


def test_whatif_rows_come_from_plain_data() -> None:
    result = what_if(DESIGN, [Edit("remove-agent", "billing")], router=OverlapRouter(), queries=QUERIES)
    data = result.to_dict()
    assert route_rows(data) == result.route_rows() and channel_rows(data) == result.channel_rows()
    assert {r["effect"] for r in route_rows(data)} == {"broken"}


def test_route_batch_answers_in_order_and_an_empty_table_answers_nothing() -> None:
    table = routing_table(DESIGN, "web-stable")
    results = route_batch(OverlapRouter(), ["show my bill", "nothing at all here"], table)
    assert len(results) == 2 and results[0].best is not None
    assert [r.best for r in route_batch(OverlapRouter(), ["a", "b"], RoutingTable("x", ()))] == [None, None]


def test_channel_lookup_and_agent_keys() -> None:
    assert channel_key(DESIGN, "") == ALL_AGENTS
    assert routing_table(DESIGN, channel_key(DESIGN, "web-stable")) == routing_table(DESIGN, "web-stable")
    assert agent_key(DESIGN, "team/web", "billing") == "team/billing"
    assert agent_key(DESIGN, "", "billing") == "default/billing"
    assert agent_key(DESIGN, "", "ghost") == "ghost"
    billing = DESIGN.agent("billing")
    assert billing is not None
    disabled = DESIGN.with_agent(billing.model_copy(update={"annotations": {DISABLED: "true"}}))
    assert "billing" not in all_agents_table(disabled).agents and "billing" in all_agents_table(DESIGN).agents


def test_mismatch_reasons_are_structured() -> None:
    billing, web = DESIGN.agent("billing"), DESIGN.channels[0]
    assert billing is not None
    moved = billing.model_copy(update={"namespace": "other", "supported_channels": ()})
    reasons = mismatch_reasons(moved, web)
    assert [r.filter for r in reasons] == ["namespace", "channel"]
    assert str(reasons[1]) == "supportedChannels is empty (matches no channel)"


def test_outcome_rows() -> None:
    tested = DESIGN.replace(
        routing_tests=(
            RoutingTest(query="show my bill", expect_agent="billing", channel="web-stable", name="bill"),
            RoutingTest(query="rain tomorrow", channel="app-stable", name="rain"),  # expects no agent
        )
    )
    rows = outcome_rows(run_routing_tests(tested, router=OverlapRouter()))
    assert [(r["result"], r["name"], r["routed to"]) for r in rows] == [
        ("PASS", "bill", "billing"),
        ("FAIL", "rain", "weather"),
    ]
    # why a test failed is the third column, beside its name: the page's table is wide, and the message, last, fell
    # off its right edge at 1 400 px
    assert list(rows[1])[:3] == ["result", "name", "message"] and rows[1]["message"]
