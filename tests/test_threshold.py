"""The default "no agent fits" threshold (routing/threshold.py): its range, its two distributions (the
examples' leave-one-out fits and the general off-topic messages), generic words in the statistical fit,
the off-topic term of the embedding fit, and the packaged off-topic list."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.statistical import StatisticalRouter
from lmos_studio.routing.threshold import (
    LOO_MAX,
    RULES,
    loo_picks,
    no_match_threshold,
    off_topic_messages,
    on_topic,
)

FITS = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=60).map(np.array)
ROUTERS = st.sampled_from(sorted(RULES))

STUDENTS = RoutingTable(
    channel="students",
    candidates=(
        Candidate("exams-agent", "grades", "Tells grades", ("what's my grade in statistics", "are the marks out")),
        Candidate("fees-agent", "fees", "Semester fees", ("what's the semester fee", "can I pay the fee later")),
    ),
)


@given(ROUTERS, FITS, st.none() | FITS)
def test_the_threshold_stays_in_the_routers_range(router: str, loo: np.ndarray, off_topic: np.ndarray | None) -> None:
    rule = RULES[router]
    assert rule.low <= no_match_threshold(router, loo, off_topic) <= rule.high


@given(ROUTERS, st.none() | FITS)
def test_without_examples_the_lenient_default_is_used(router: str, off_topic: np.ndarray | None) -> None:
    assert no_match_threshold(router, np.zeros(0), off_topic) == RULES[router].default


@settings(max_examples=50)
@given(ROUTERS, FITS, FITS, st.floats(0.0, 0.5))
def test_closer_examples_never_lower_it_and_off_topic_messages_never_raise_it(
    router: str, loo: np.ndarray, off_topic: np.ndarray, shift: float
) -> None:
    alone = no_match_threshold(router, loo)
    assert no_match_threshold(router, np.clip(loo + shift, 0, 1), off_topic) >= no_match_threshold(
        router, loo, off_topic
    )
    assert no_match_threshold(router, loo, off_topic) <= alone


def test_the_embedding_threshold_sits_below_most_off_topic_fits_and_the_examples() -> None:
    loo = np.full(20, 0.6)  # the examples are near each other …
    off_topic = np.linspace(0.0, 0.35, 100)  # … the off-topic messages far from them
    threshold = no_match_threshold("embedding", loo, off_topic)
    quantile = RULES["embedding"].off_topic_quantile
    assert quantile is not None and threshold == round(float(np.quantile(off_topic, quantile)), 4)
    assert np.mean(off_topic < threshold) >= 0.89 and threshold < loo.min()


def test_off_topic_messages_as_near_as_the_channels_own_examples_are_on_topic() -> None:
    loo = np.array([0.4, 0.5, 0.6, 0.7])
    assert on_topic(np.array([0.1, 0.5, 0.9]), loo).tolist() == [False, True, True]
    assert not on_topic(np.array([0.9]), np.zeros(0)).any()  # zero-shot: every message is kept


def test_leave_one_out_cost_is_bounded() -> None:
    assert len(loo_picks(10)) == 10 and len(loo_picks(0)) == 0
    assert len(loo_picks(50 * LOO_MAX)) == LOO_MAX


def test_the_packaged_off_topic_list_is_clean() -> None:
    messages = off_topic_messages()
    assert len(messages) >= 100 and len(set(messages)) == len(messages)
    assert not any(m.startswith("#") or not m.strip() for m in messages)


def test_a_generic_word_alone_does_not_make_a_query_fit() -> None:
    fitted = StatisticalRouter().fit(STUDENTS)
    assert fitted.fit_weights is not None and 0 in fitted.fit_weights  # "what" is generic
    weather, fee = fitted.fit_of(["what's the weather in vienna", "what is the fee for next semester"])
    assert weather == 0.0 < fee


def test_the_statistical_threshold_holds_weather_out_and_grades_in() -> None:
    fitted = StatisticalRouter().fit(STUDENTS)
    weather, grade = fitted.route_batch(["what's the weather in vienna", "my statistics grade"])
    assert weather.no_match and weather.matches  # still ranked, shown greyed
    assert grade.best is not None and grade.best.agent == "exams-agent"


def test_the_embedding_fit_is_lowered_by_a_near_off_topic_message() -> None:
    fitted = EmbeddingRouter().fit(STUDENTS)
    assert fitted.off_topic is not None and len(fitted.off_topic)
    joke, marks = fitted.route_batch(["tell me a joke", "are my exam marks published yet"])
    assert joke.no_match and joke.fit is not None and joke.threshold is not None and joke.fit < joke.threshold
    assert marks.best is not None and marks.best.agent == "exams-agent"
    loo = fitted.loo_fits()
    assert len(loo) == 4 and ((loo >= 0) & (loo <= 1)).all()


ROADSIDE = RoutingTable(  # "my vehicle died on the highway" shares no word with it, and means a breakdown
    channel="roadside",
    candidates=(
        Candidate(
            "roadside-agent",
            "breakdown",
            "Sends a mechanic when the car has broken down.",
            ("my car broke down", "the car won't start", "I need a mechanic"),
        ),
        Candidate(
            "roadside-agent",
            "locked_out",
            "Opens the car when the keys are locked inside.",
            ("I locked my keys in the car", "can't open the car door", "keys are inside"),
        ),
        Candidate(
            "policy-agent",
            "buy_policy",
            "Quotes a new car insurance policy.",
            ("how much is car insurance", "I want a new policy", "quote for insuring my car"),
        ),
    ),
)


def test_the_static_fit_keeps_a_query_that_shares_no_word_and_holds_chat_out() -> None:
    """The statistical router's `fit` is the larger of its TF-IDF fit and the static word vectors' (threshold.py,
    STATIC_FIT_SCALE): a query meaning a capability in other words fits; chat still does not."""
    queries = ["my vehicle died on the highway", "the engine stopped on the motorway", "tell me a joke"]
    fitted = StatisticalRouter(lexicon="none").fit(ROADSIDE)
    words = StatisticalRouter(lexicon="none", static_fit=False).fit(ROADSIDE)
    assert fitted.static_fit and not words.static_fit
    vehicle, engine, joke = fitted.route_batch(queries)
    assert list(words.fit_of(queries)) == [0.0, 0.0, 0.0]  # no word in common: no TF-IDF fit
    assert [r.no_match for r in words.route_batch(queries)] == [True, True, True]
    assert not vehicle.no_match and vehicle.best is not None and vehicle.best.capability == "breakdown"
    assert not engine.no_match and engine.fit is not None and engine.fit > 0.0
    assert joke.no_match and joke.fit == 0.0
    # the threshold: the "statistical-static" rule over the examples' leave-one-out fits, taken the same way
    loo = fitted.loo_fits()
    assert fitted.threshold == no_match_threshold("statistical-static", loo)
    assert len(loo) == 9 and (loo >= words.loo_fits()).all() and (loo > words.loo_fits()).any()


def test_the_static_fit_is_off_in_the_embedding_routers_lexical_part_and_on_large_or_zero_shot_tables() -> None:
    lexical = EmbeddingRouter(lexicon="none").fit(ROADSIDE).lexical
    assert not lexical.static_fit  # its fit is a part of the embedding fit (LEXICAL_SHARE): words alone
    assert list(lexical.fit_of(["my vehicle died on the highway"])) == [0.0]
    zero_shot = RoutingTable(channel="", candidates=tuple(replace(c, examples=()) for c in ROADSIDE.candidates))
    assert not StatisticalRouter().fit(zero_shot).static_fit  # no examples: the fixed default threshold
    many = tuple(
        replace(c, examples=tuple(f"{e} {i}" for e in c.examples for i in range(10))) for c in ROADSIDE.candidates
    )
    large = StatisticalRouter().fit(RoutingTable(channel="", candidates=many))  # 30 examples per class
    assert not large.static_fit and large.static is None  # where the static opinions fade out: no cost
    assert large.threshold == no_match_threshold("statistical", large.loo_fits())
