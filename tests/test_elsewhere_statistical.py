"""The statistical router's "nearer elsewhere" signal (routing/threshold.py, `FittedStatistical.keep_services`):
the same rule as the embedding router's, in the kNN vote's TF-IDF space. Which service messages a channel keeps,
the rejection and its reason, an explicit threshold, zero-shot, the design's own out-of-scope examples, the
switch that leaves it off, and `route` = `route_batch`. The small IT desk of tests/test_elsewhere.py."""

from __future__ import annotations

import numpy as np
import pytest

from lmos_studio.routing.base import Candidate, RoutingTable, route_fitted
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.statistical import FittedStatistical, StatisticalRouter
from lmos_studio.routing.threshold import (
    ELSEWHERE_QUANTILE,
    RULES,
    STATISTICAL_ELSEWHERE_FLOOR,
    STATISTICAL_ELSEWHERE_MARGIN,
    elsewhere_limit,
    services_kept,
)
from tests.test_elsewhere import IT_DESK


@pytest.fixture(scope="module")
def desk() -> FittedStatistical:
    return StatisticalRouter().fit(IT_DESK)


def test_a_same_domain_near_miss_is_rejected_by_the_second_signal(desk: FittedStatistical) -> None:
    heating, laptop = route_fitted(desk, ["the heating in my office is broken", "my laptop broke"])
    assert heating.rejected_by == "elsewhere" and heating.no_match and heating.best is None
    assert heating.fit >= (heating.threshold or 0.0)  # the fit alone would let it in
    assert heating.elsewhere is not None and heating.elsewhere_limit == desk.elsewhere_limit
    assert heating.elsewhere > heating.elsewhere_limit
    assert heating.elsewhere_text in desk.service_texts and heating.elsewhere_text in heating.reason
    assert heating.matches, "the nearest candidates are still listed"
    assert laptop.best is not None and laptop.best.capability == "laptop_repair" and laptop.rejected_by is None
    assert laptop.elsewhere is not None and laptop.elsewhere <= (laptop.elsewhere_limit or 0.0)


def test_in_scope_paraphrases_are_not_rejected_as_nearer_elsewhere(desk: FittedStatistical) -> None:
    queries = [
        "can't get into my account, forgot the pw",
        "the printer on floor two is eating my paper",
        "remote connection to the office network fails",
        "my notebook display has a crack",
        "the printer is jammed again",
    ]
    assert all(r.rejected_by != "elsewhere" for r in route_fitted(desk, queries))


def test_the_channel_keeps_other_services_and_drops_its_own_kind(desk: FittedStatistical) -> None:
    kept = set(desk.service_texts)
    assert "book a meeting room for 10 people" in kept and "book a table for four at eight" in kept
    assert "reset my network password" not in kept and "the printer keeps jamming" not in kept
    assert desk.services_knn is not None and desk.services_knn.shape == (desk.encoder.n_features, len(kept))


def test_the_limit_is_the_examples_quantile_plus_the_margin_at_least_the_floor() -> None:
    loo = np.array([-0.1, 0.0, 0.1, 0.3])
    expected = round(float(np.quantile(loo, ELSEWHERE_QUANTILE)) + STATISTICAL_ELSEWHERE_MARGIN, 4)
    found = elsewhere_limit(loo, margin=STATISTICAL_ELSEWHERE_MARGIN, floor=STATISTICAL_ELSEWHERE_FLOOR)
    assert found == max(expected, STATISTICAL_ELSEWHERE_FLOOR)
    near_duplicates = np.array([-0.9, -0.8])  # a large table's examples sit on near-duplicates: the floor
    floor = STATISTICAL_ELSEWHERE_FLOOR
    assert elsewhere_limit(near_duplicates, margin=STATISTICAL_ELSEWHERE_MARGIN, floor=floor) == floor
    to_channel, nearest_other = np.array([0.1, 0.6, 0.2, 0.3]), np.array([0.5, 0.5, 0.1, 0.5])
    kept = services_kept(to_channel, np.array([0.05]), nearest_other, keep_below=None)
    assert kept.tolist() == [True, False, False, True]  # no quantile condition: nearer its own kind is enough


def test_an_explicit_threshold_is_the_fit_rule_only(desk: FittedStatistical) -> None:
    heating = desk.route("the heating in my office is broken")
    assert heating.rejected_by == "elsewhere"
    forced = heating.with_threshold(0.0)  # --min-score 0: always answer
    assert forced.elsewhere_limit is None and not forced.no_match and forced.best is not None
    held = StatisticalRouter().fit(RoutingTable(IT_DESK.channel, IT_DESK.candidates, min_score=0.1))
    result = held.route("the heating in my office is broken")  # spec.routing.minScore: the signal is off
    assert held.elsewhere_limit is None and result.elsewhere is None and result.threshold == 0.1
    assert result.rejected_by is None


def test_without_examples_or_when_switched_off_the_signal_is_off() -> None:
    zero_shot = RoutingTable("it", tuple(Candidate(c.agent, c.capability, c.description) for c in IT_DESK.candidates))
    fitted = StatisticalRouter().fit(zero_shot)
    assert fitted.elsewhere_limit is None and fitted.services_knn is None
    result = fitted.route("the heating in my office is broken")
    assert result.elsewhere is None and result.rejected_by != "elsewhere"
    assert fitted.threshold == RULES["statistical"].default  # zero-shot threshold unchanged
    off = StatisticalRouter(elsewhere=False).fit(IT_DESK)
    assert off.elsewhere_limit is None and off.route("the heating in my office is broken").elsewhere is None


def test_the_embedding_routers_lexical_part_has_no_signal_of_its_own() -> None:
    fitted = EmbeddingRouter().fit(IT_DESK)
    assert fitted.lexical.elsewhere_limit is None and fitted.lexical.services_knn is None


def test_the_designs_own_out_of_scope_examples_are_always_kept() -> None:
    own = ("order new business cards for the team", "the heating in the meeting room is broken")
    fitted = StatisticalRouter().fit(RoutingTable(IT_DESK.channel, IT_DESK.candidates, out_of_scope=own))
    assert fitted.service_texts[-2:] == own
    result = fitted.route("the heating in the meeting room is broken again")
    assert result.rejected_by == "elsewhere" and result.elsewhere_text == own[1]


def test_route_and_route_batch_agree_on_the_signal(desk: FittedStatistical) -> None:
    queries = ["the heating in my office is broken", "my laptop broke", "book a table for four at eight", "", "vpn"]
    batch = desk.route_batch([*queries, queries[0]], top_k=2)
    for query, got in zip([*queries, queries[0]], batch, strict=True):
        alone = desk.route(query, top_k=2)
        assert (got.elsewhere, got.elsewhere_limit, got.elsewhere_text, got.rejected_by) == (
            alone.elsewhere,
            alone.elsewhere_limit,
            alone.elsewhere_text,
            alone.rejected_by,
        ), query


def test_on_a_large_table_the_signal_uses_the_knn_votes_features() -> None:
    """Over 100 examples sharing words: the stop n-grams the kNN vote leaves out are left out of the
    descriptions and service messages too, so every cosine of the signal is taken in one space."""
    topics = {"laptop_repair": "laptop", "printer_fault": "printer", "password_reset": "password"}
    candidates = tuple(
        Candidate(
            "desk-agent",
            capability,
            f"Helps with the {word}.",
            tuple(f"please help, my {word} problem number {i} is back" for i in range(60)),
        )
        for capability, word in topics.items()
    )
    fitted = StatisticalRouter().fit(RoutingTable("it", candidates))
    assert fitted.knn_by_example is not fitted.features_by_example  # stop n-grams ("please", "help") left out
    dropped = (np.diff(fitted.knn_by_example.indptr) == 0) & (np.diff(fitted.features_by_example.indptr) > 0)
    assert dropped.any() and fitted.descriptions_knn is not None and fitted.services_knn is not None
    assert not np.diff(fitted.descriptions_knn.indptr)[dropped].any()
    assert not np.diff(fitted.services_knn.indptr)[dropped].any()
    assert fitted.elsewhere_limit is not None and fitted.elsewhere_limit >= STATISTICAL_ELSEWHERE_FLOOR
    queries = ["please help, my printer is jammed", "book a table for four at eight", "my laptop problem is back"]
    for got, query in zip(fitted.route_batch(queries), queries, strict=True):
        alone = fitted.route(query)
        assert (got.elsewhere, got.rejected_by) == (alone.elsewhere, alone.rejected_by)
    assert fitted.route("my laptop problem is back").rejected_by is None
