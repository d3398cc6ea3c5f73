"""The default "no agent fits" threshold (routing/threshold.py): its range, its two distributions (the
examples' leave-one-out fits and the general off-topic messages), generic words in the statistical fit,
the off-topic term of the embedding fit, and the packaged off-topic list."""

from __future__ import annotations

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
