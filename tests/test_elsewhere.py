"""The second "no agent fits" signal, "nearer elsewhere" (routing/threshold.py, the embedding router): which
requests for other services a channel keeps, its limit, the rejection and its reason, how it meets an explicit
threshold, and the design's own out-of-scope examples (`spec.routing.outOfScope`). Small hand-made channels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.model import Agent, Capability, Design, OutOfScopeExample, RoutingSettings
from lmos_studio.routing.base import Candidate, Match, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.select import table_digest
from lmos_studio.routing.statistical import StatisticalRouter
from lmos_studio.routing.table import routing_table
from lmos_studio.routing.threshold import (
    ELSEWHERE_FLOOR,
    ELSEWHERE_MARGIN,
    FIT_SHARE_WITH_ELSEWHERE,
    RULES,
    SERVICE_GAP,
    elsewhere_limit,
    no_match_threshold,
    other_services,
    services_kept,
)
from tests.conftest import run_cli

IT_DESK = RoutingTable(  # a small IT help desk: hardware and accounts, nothing about rooms, food or travel
    channel="it",
    candidates=(
        Candidate(
            "hardware-agent",
            "laptop_repair",
            "Repairs broken laptops and screens.",
            ("my laptop won't start", "the screen of my notebook is cracked", "my laptop is very slow"),
        ),
        Candidate(
            "hardware-agent",
            "printer_fault",
            "Fixes printers that jam or do not print.",
            ("the printer is jammed", "I can't print anything", "the printer says out of toner"),
        ),
        Candidate(
            "access-agent",
            "password_reset",
            "Resets passwords and unlocks accounts.",
            ("I forgot my password", "my account is locked", "reset my windows password"),
        ),
        Candidate(
            "access-agent",
            "vpn_access",
            "Sets up VPN access from home.",
            ("the vpn does not connect", "I need vpn access to work from home", "vpn keeps dropping"),
        ),
    ),
)


@pytest.fixture(scope="module")
def desk() -> object:
    return EmbeddingRouter().fit(IT_DESK)


def test_a_same_domain_near_miss_is_rejected_by_the_second_signal(desk: object) -> None:
    chair, heating, room, laptop = route_fitted(
        desk,  # type: ignore[arg-type]
        [
            "my desk chair is broken",
            "the heating in my office is broken",
            "book a meeting room for ten",
            "my laptop broke",
        ],
    )
    for near_miss in (chair, heating):
        assert near_miss.rejected_by == "elsewhere" and near_miss.no_match and near_miss.best is None
        assert near_miss.fit is not None and near_miss.threshold is not None
        assert near_miss.fit >= near_miss.threshold  # the fit alone would let it in
        assert near_miss.elsewhere is not None and near_miss.elsewhere_limit is not None
        assert near_miss.elsewhere > near_miss.elsewhere_limit and near_miss.elsewhere_text in near_miss.reason
        assert near_miss.matches, "the nearest candidates are still listed"
    assert "chair" in chair.elsewhere_text
    assert room.no_match and room.elsewhere is not None and room.elsewhere_limit is not None
    assert room.elsewhere > room.elsewhere_limit and "meeting room" in room.elsewhere_text  # both signals say no
    assert laptop.best is not None and laptop.best.capability == "laptop_repair" and laptop.rejected_by is None
    assert laptop.reason == ""


def test_in_scope_paraphrases_are_not_rejected(desk: object) -> None:
    queries = [
        "can't get into my account, forgot the pw",
        "the printer on floor two is eating my paper",
        "remote connection to the office network fails",
        "my notebook display has a crack",
    ]
    results = route_fitted(desk, queries)  # type: ignore[arg-type]
    assert [r.rejected_by for r in results] == [None] * len(queries)


def test_the_channel_keeps_other_services_and_drops_its_own_kind(desk: object) -> None:
    kept = set(desk.service_texts)  # type: ignore[attr-defined]
    assert "book a meeting room for 10 people" in kept and "book a table for four at eight" in kept
    assert "reset my network password" not in kept and "the printer keeps jamming" not in kept


def test_an_explicit_threshold_is_the_fit_rule_only(desk: object) -> None:
    chair = desk.route("my desk chair is broken")  # type: ignore[attr-defined]
    assert chair.rejected_by == "elsewhere"
    forced = chair.with_threshold(0.0)  # --min-score 0: always answer
    assert forced.elsewhere_limit is None and not forced.no_match and forced.best is not None
    assert chair.with_threshold(0.3).rejected_by is None  # its fit is above 0.3: the fit rule lets it in
    design_threshold = EmbeddingRouter().fit(
        RoutingTable(IT_DESK.channel, IT_DESK.candidates, min_score=0.3)
    )  # spec.routing.minScore: the signal is off, the threshold is the design's
    held = design_threshold.route("my desk chair is broken")
    assert held.threshold == 0.3 and held.elsewhere_limit is None and held.rejected_by is None


def test_without_examples_the_signal_is_off() -> None:
    zero_shot = RoutingTable("it", tuple(Candidate(c.agent, c.capability, c.description) for c in IT_DESK.candidates))
    fitted = EmbeddingRouter().fit(zero_shot)
    assert fitted.elsewhere_limit is None and fitted.services is None
    result = fitted.route("book a meeting room for ten people on friday")
    assert result.elsewhere is None and result.rejected_by != "elsewhere"
    assert fitted.threshold == RULES["embedding"].default  # zero-shot threshold unchanged


def test_the_designs_own_out_of_scope_examples_are_always_kept() -> None:
    own = ("order new business cards", "water the plants in the office")
    fitted = EmbeddingRouter().fit(RoutingTable(IT_DESK.channel, IT_DESK.candidates, out_of_scope=own))
    assert set(own) <= set(fitted.service_texts)
    cards = fitted.route("I need 200 new business cards with my new job title")
    assert cards.no_match and cards.elsewhere_text == "order new business cards"
    assert cards.elsewhere is not None and cards.elsewhere_limit is not None and cards.elsewhere > cards.elsewhere_limit


def test_limit_and_kept_services_rules() -> None:
    loo = np.array([-0.3, -0.2, -0.1, 0.0])
    assert elsewhere_limit(loo) == round(float(np.quantile(loo, 0.9)) + ELSEWHERE_MARGIN, 4)
    assert elsewhere_limit(np.array([-0.9, -0.8])) == ELSEWHERE_FLOOR  # near-duplicate examples: the floor
    assert elsewhere_limit(np.zeros(0)) is None
    to_channel, nearest_other = np.array([0.1, 0.6, 0.2, 0.3, 0.3]), np.array([0.5, 0.5, 0.1, 0.5, 0.33])
    kept = services_kept(to_channel, np.array([0.4, 0.5, 0.6]), nearest_other, gap=SERVICE_GAP)
    # too near the channel, nearer it than to its own kind, or about as near it as to its own kind (SERVICE_GAP)
    assert kept.tolist() == [True, False, False, True, False]
    assert 0.33 - 0.3 < SERVICE_GAP < 0.5 - 0.3
    assert not services_kept(to_channel, np.zeros(0), nearest_other).any()


def test_with_the_signal_on_the_fit_threshold_is_a_share_of_the_rule() -> None:
    loo, off = np.full(10, 0.6), np.linspace(0.0, 0.35, 50)
    plain = no_match_threshold("embedding", loo, off)
    assert no_match_threshold("embedding", loo, off, with_elsewhere=True) == round(plain * FIT_SHARE_WITH_ELSEWHERE, 4)


def test_the_packaged_service_list_is_clean() -> None:
    messages = other_services()
    assert len(messages) >= 150 and len(set(messages)) == len(messages)
    assert not any(m.startswith("#") or not m.strip() for m in messages)


def test_rejected_by_and_reason_of_a_result() -> None:
    match = (Match("a", "c", 0.9),)
    assert RouteResult("r", ()).rejected_by == "no-candidates"
    assert RouteResult("r", match, fit=0.1, threshold=0.2).rejected_by == "fit"
    assert "fit 0.10, below the channel's threshold 0.20" in RouteResult("r", match, fit=0.1, threshold=0.2).reason
    near = RouteResult("r", match, fit=0.5, threshold=0.2, elsewhere=0.2, elsewhere_limit=0.1, elsewhere_text="x")
    assert near.rejected_by == "elsewhere" and '("x")' in near.reason and not near.with_threshold(0.3).no_match
    assert near.with_threshold(None) is near
    assert RouteResult("r", match, fit=0.5, threshold=0.2, elsewhere=0.05, elsewhere_limit=0.1).best == match[0]


STUDIO = """apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {{name: desk}}
spec:
  routing:
{routing}
"""


def test_out_of_scope_examples_round_trip_and_go_to_their_channel() -> None:
    text = STUDIO.format(
        routing="    outOfScope:\n    - book a meeting room\n    - {text: '  the canteen   menu ', channel: web}"
    )
    design = design_from_text(text).design
    assert design.routing.out_of_scope == (
        OutOfScopeExample(text="book a meeting room"),
        OutOfScopeExample(text="the canteen menu", channel="web"),
    )
    assert design_from_text(design_to_yaml(design)).design.routing == design.routing
    assert design.routing.out_of_scope_for("mail", "default/mail") == ("book a meeting room",)
    assert design.routing.out_of_scope_for("web", "default/web") == ("book a meeting room", "the canteen menu")
    agents = (Agent(name="it-agent", capabilities=(Capability(name="laptop", version="1.0.0", examples=("x",)),)),)
    plain = Design(name="d", agents=agents)
    table = routing_table(plain.model_copy(update={"routing": design.routing}), None)
    assert table.out_of_scope == ("book a meeting room", "the canteen menu")  # no channels: every example
    assert table_digest(table) != table_digest(routing_table(plain, None))
    assert RoutingSettings().out_of_scope_for() == ()


@pytest.mark.parametrize(
    ("routing", "message"),
    [
        ("    outOfScope: ['  ']", r"spec\.routing\.outOfScope\[0\]\.text: .*must not be empty"),
        ("    outOfScope: [{channel: web}]", r"spec\.routing\.outOfScope\[0\]\.text: .*missing; add `text:`"),
        ("    outOfScope: [{text: a, chanel: web}]", r"spec\.routing\.outOfScope\[0\]\.chanel: .*is not a field here"),
        ("    outOfScope: [3]", r"spec\.routing\.outOfScope\[0\]"),
        (f"    outOfScope: ['{'x' * 501}']", r"at most 500 characters"),
    ],
)
def test_bad_out_of_scope_examples_name_the_field(routing: str, message: str) -> None:
    with pytest.raises(DesignFileError, match=message):
        design_from_text(STUDIO.format(routing=routing), path="desk.yaml")


AGENTS = """apiVersion: lmos.eclipse/v1
kind: Agent
metadata: {name: hardware-agent}
spec:
  providedCapabilities:
  - name: laptop_repair
    version: 1.0.0
    description: Repairs broken laptops.
    examples: [my laptop won't start, the screen of my notebook is cracked, my laptop is very slow]
  - name: printer_fault
    version: 1.0.0
    description: Fixes printers that jam or do not print.
    examples: [the printer is jammed, I can't print anything, the printer says out of toner]
"""


def test_route_json_says_which_signal_rejected_and_min_score_turns_it_off(tmp_path: Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text(AGENTS + "---\n" + STUDIO.format(routing="    outOfScope: [my office chair is broken]"))
    result = run_cli("route", str(path), "-o", "json", "the desk chair in my office broke")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["match"] is None and data["rejected_by"] == "elsewhere", data
    assert "my office chair is broken" in data["reason"] and data["fit"] >= data["threshold"]
    assert data["elsewhere"] > data["elsewhere_limit"] and data["matches"]
    table = run_cli("route", str(path), "-o", "table", "the desk chair in my office broke")
    assert "no agent of this channel would answer (nearer to a message the design lists as out of scope" in table.stdout
    forced = run_cli("route", str(path), "-o", "json", "--min-score", "0", "the desk chair in my office broke")
    assert json.loads(forced.stdout)["match"] is not None and json.loads(forced.stdout)["rejected_by"] is None


def test_the_playground_says_which_signal_rejected() -> None:
    from lmos_studio.ui.routing import fit_text, no_agent_text

    match = (Match("a", "c", 0.9),)
    near = RouteResult("r", match, fit=0.5, threshold=0.2, elsewhere=0.2, elsewhere_limit=0.1, elsewhere_text="x *y*")
    assert no_agent_text(near).startswith("No agent of this channel would answer: the message is nearer to")
    assert r"x \*y\*" in no_agent_text(near)  # the message is Markdown-escaped
    below = no_agent_text(RouteResult("r", match, fit=0.1, threshold=0.2))
    assert "fit 0.10, below the channel's threshold 0.20" in below
    answered = RouteResult("r", match, fit=0.5, threshold=0.2, elsewhere=-0.1, elsewhere_limit=0.1)
    assert fit_text(answered) == (
        "Answers: fit 0.50, at or above the channel's threshold 0.20 · nearer to this channel than to any other "
        "service's request (by 0.10); no agent would answer were another service nearer by more than 0.10."
    )
    close = RouteResult("r", match, fit=0.5, threshold=0.2, elsewhere=0.04, elsewhere_limit=0.1)
    assert "a request for another service is a little nearer (by 0.04)" in fit_text(close)
    assert fit_text(RouteResult("r", match, fit=0.5, threshold=0.2)) == (
        "Answers: fit 0.50, at or above the channel's threshold 0.20."
    )
    assert "by 0.20, more than the 0.10 it allows" in near.reason and "more than the 0.10 it allows" in (
        no_agent_text(near)
    )


def test_a_failed_routing_test_says_which_signal_rejected_its_query() -> None:
    """A query rejected as nearer another service once failed with "no agent fits (fit 0.62 < threshold 0.26…)",
    which is false: the fit let it in. The note gives the signal that rejected it, and the nearest candidates."""
    from lmos_studio.model import RoutingTest
    from lmos_studio.routing.regression import run_routing_tests
    from tests.routing_fake import DESIGN, OverlapRouter

    class Elsewhere:
        name = "elsewhere"

        def route(self, query: str, *, top_k: int = 5) -> RouteResult:
            return RouteResult(
                self.name,
                (Match("billing", "view-bill", 0.9),),
                fit=0.62,
                threshold=0.26,
                elsewhere=0.12,
                elsewhere_limit=0.07,
                elsewhere_text="book a table for four",
            )

    class Router(OverlapRouter):
        def fit(self, table: RoutingTable, *, seed: object = ()) -> Elsewhere:  # type: ignore[override]
            return Elsewhere()

    tests = [
        RoutingTest(query="book me a table", channel="web-stable", expect_agent="billing"),
        RoutingTest(query="book me a table", channel="web-stable"),
    ]
    failed, passed = run_routing_tests(DESIGN, router=Router(), tests=tests)
    assert passed.passed and not failed.passed
    (note,) = failed.evidence
    assert "< threshold" not in note and "fit 0.62" not in note
    assert "nearer to a request for another service" in note and "book a table for four" in note
    assert "more than the 0.07 it allows" in note and note.endswith("nearest candidates: billing)")


@pytest.mark.parametrize("router", [EmbeddingRouter, StatisticalRouter])
def test_listing_out_of_scope_messages_never_lets_through_what_was_rejected(router: type) -> None:
    """The design's own examples are written near the channel: counted in the limit's calibration they raised
    it, so listing a message could let others through that were rejected before. The limit now comes from the
    packaged messages only, and a listed message can only add rejections."""
    own = (  # near-misses of an IT desk, each near one of its examples
        "my laptop bag strap broke",
        "the printer room needs a new coffee machine",
        "reset the code of my gym locker",
        "my phone screen is cracked, can you fix it",
    )
    plain = router().fit(IT_DESK)
    listed = router().fit(RoutingTable(IT_DESK.channel, IT_DESK.candidates, out_of_scope=own))
    assert listed.elsewhere_limit == plain.elsewhere_limit
    queries = [*own, "the heating in my office is broken", "my desk chair is broken", "book a meeting room for ten"]
    before, after = route_fitted(plain, queries), route_fitted(listed, queries)
    for query, was, now in zip(queries, before, after, strict=True):
        assert now.no_match or not was.no_match, query
        assert now.elsewhere is not None and was.elsewhere is not None and now.elsewhere >= was.elsewhere
