"""The embedding router's discriminative part (routing/discriminative.py): the least-squares model, its
probabilities, its share of the dense blend, and that "no agent fits" does not depend on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.discriminative import SEPARATOR_MAX_CLASSES, SEPARATOR_SHARE, Separator, least_squares, shares
from lmos_studio.routing.embedding import EmbeddingRouter
from lmos_studio.routing.statistical import blend_weights
from lmos_studio.routing.training import training_set
from tests.routing_fake import no_match_signals

HR = RoutingTable(
    channel="hr",
    candidates=(
        Candidate(
            "payroll-agent",
            "payslip_question",
            "Questions about a payslip, wrong or missing pay",
            ("my payslip is wrong", "I wasn't paid this month", "why is my salary lower"),
        ),
        Candidate(
            "people-agent",
            "contract_change",
            "Changes to a contract: hours, role, team",
            ("I want to change my working hours", "can I move to another team", "update my contract"),
        ),
        Candidate(
            "leave-agent",
            "book_holiday",
            "Book annual leave and days off",
            ("I want to book a week off", "holiday request for august", "can I take friday off"),
        ),
    ),
)


@pytest.mark.parametrize(("rows", "dim"), [(12, 30), (40, 6)])  # fewer rows than dimensions, and more
def test_least_squares_is_balanced_ridge_with_an_unpenalised_intercept(rows: int, dim: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, dim))
    labels = np.array([0] * (rows // 2) + [1] * (rows // 3) + [2] * (rows - rows // 2 - rows // 3))
    coef, intercept = least_squares(x, labels, alpha=0.3)
    targets = np.where(labels[:, None] == np.arange(3)[None, :], 1.0, -1.0)
    weights = (len(labels) / (3 * np.bincount(labels)))[labels]
    ridge = Ridge(alpha=0.3).fit(x, targets, sample_weight=weights)
    assert coef == pytest.approx(ridge.coef_, abs=1e-8)
    assert intercept == pytest.approx(ridge.intercept_, abs=1e-8)


def test_separator_learns_the_direction_that_tells_classes_apart() -> None:
    """Two classes whose rows differ along one axis and scatter widely along another: the model's decision
    rests on the first axis, where nearest-centroid cosine would be swayed by the second."""
    rng = np.random.default_rng(1)
    noise = rng.normal(scale=3.0, size=(20, 1))
    side = np.repeat([-1.0, 1.0], 10)[:, None]
    rows = np.hstack([side * 0.2, noise])
    coef, _ = least_squares(rows, (side[:, 0] > 0).astype(np.int64), alpha=0.1)
    assert abs(coef[1, 0]) > 10 * abs(coef[1, 1])


def test_agent_columns_split_each_agents_probability_as_the_blend_does() -> None:
    separator = Separator(
        coef=np.array([[1.0, 0.0], [0.0, 1.0]]),
        intercept=np.zeros(2),
        agent_of=np.array([0, 0, 1]),
        by_agent=True,
        temperature=1.0,
    )
    blend = np.array([[0.3, 0.1, 0.6]])
    p = separator.probabilities(np.array([[2.0, 0.0]]), blend)
    agent_0 = np.exp(2.0) / (np.exp(2.0) + 1.0)
    assert p[0] == pytest.approx([agent_0 * 0.75, agent_0 * 0.25, 1 - agent_0])
    assert p.sum() == pytest.approx(1.0)


def test_its_share_grows_with_examples_and_the_blend_still_sums_to_one() -> None:
    for per_class in (1.0, 3.0, 5.0, 100.0):
        weights, own = shares(blend_weights(per_class))
        assert own == pytest.approx(SEPARATOR_SHARE * (1 - blend_weights(per_class)[2]))
        assert sum(weights) + own == pytest.approx(1.0)
    assert shares(blend_weights(3.0))[1] == pytest.approx(0.1)  # the dev networks' 3 examples per class


def test_the_router_fits_it_on_examples_and_descriptions_and_not_without_examples() -> None:
    fitted = EmbeddingRouter().fit(HR)
    assert fitted.separator is not None and fitted.separator.coef.shape == (3, fitted.examples.shape[1])
    assert fitted.separator_weight == pytest.approx(shares(blend_weights(3.0))[1])
    bare = RoutingTable(channel="hr", candidates=tuple(replace(c, examples=()) for c in HR.candidates))
    zero_shot = EmbeddingRouter().fit(bare)
    assert zero_shot.separator is None and zero_shot.separator_weight == 0.0
    assert zero_shot.weights == blend_weights(0.0)  # a table without examples keeps its blend as it was


def test_scores_move_but_no_agent_fits_does_not() -> None:
    """The separator changes the agents' shares, never `fit`, the threshold or "nearer elsewhere"."""
    fitted = EmbeddingRouter().fit(HR)
    queries = ["I was paid for 30 hours but worked 38", "can I go part time", "what's the weather", "days off"]
    with_it = fitted.route_batch(queries)
    fitted.separator, fitted.separator_weight, fitted.weights = None, 0.0, blend_weights(3.0)
    without = fitted.route_batch(queries)
    assert any(
        [m.score for m in a.matches] != [m.score for m in b.matches] for a, b in zip(with_it, without, strict=True)
    )
    for a, b in zip(with_it, without, strict=True):
        assert no_match_signals(a) == no_match_signals(b)
        assert sum(m.score for m in a.matches) == pytest.approx(1.0, abs=1e-3)


def test_no_separator_beyond_max_classes_its_targets_would_not_fit_in_memory() -> None:
    many = RoutingTable(
        channel="large",
        candidates=tuple(
            Candidate(f"agent-{i // 3}", f"capability_{i}", f"capability {i}", (f"example {i}",))
            for i in range(SEPARATOR_MAX_CLASSES + 1)
        ),
    )
    data = training_set(many)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(data.classes), 8)).astype(np.float32)
    assert Separator.fit(data, vectors, vectors) is None
    fewer = training_set(replace(many, candidates=many.candidates[:SEPARATOR_MAX_CLASSES]))
    assert Separator.fit(fewer, vectors[:-1], vectors[:-1]) is not None
