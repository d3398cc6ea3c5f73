"""The embedding router's discriminative part: a linear model in MiniLM space that learns which directions tell a
channel's classes apart, its decision values turned into probabilities for the dense blend.

Every other part of the embedding router's dense blend is nearest-neighbour-like (class prototypes, a kNN vote,
descriptions): none of them learns that, in this channel, one direction of the space separates two agents and
another means nothing. `Separator.fit` fits ridge regression on ±1 one-vs-rest targets (`least_squares`:
classes balanced, closed form) on the vectors `EmbeddingRouter.fit` already holds (the examples and the class
descriptions: no encoder call); `Separator.probabilities` softmaxes its decision values. Its weight in the
dense part is SEPARATOR_SHARE of the weight the examples' parts have (`shares`): it grows with examples per
class (3 per class: 0.1; 100: 0.19) and a table without examples has none. It changes scores only: `fit`, the
threshold and "nearer elsewhere" are computed apart, so "no agent fits" answers do not move. Pure computation
over vectors; no I/O.

What was tried and measured here, session by session, adopted or not: docs/routing-research.md
(`routing/discriminative.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from lmos_studio.routing.training import TrainingSet

SEPARATOR_ALPHA = 0.1  # the least-squares model's ridge penalty (unit vectors: a few rows' worth)
SEPARATOR_TEMPERATURE = 20.0  # softmax sharpness over its decision values (about ±1 at the training rows)
SEPARATOR_SHARE = 0.2  # its share of the dense part, times the examples' share of it (1 − descriptions' weight)
# More classes than this: no separator (the blend as it is). Its ±1 targets are a dense rows × classes matrix: a
# channel of 10 000 agents with examples would need tens of GB. The statistical router's SVM stops at the same
# size (statistical.SVM_MAX_CLASSES); every dev and benchmark table is below it (lmos-router: 28 classes).
SEPARATOR_MAX_CLASSES = 150


@dataclass(frozen=True)
class Separator:
    """A linear model over unit MiniLM vectors: one column per class (or per agent, `by_agent`)."""

    coef: npt.NDArray[np.float64]  # columns × dim
    intercept: npt.NDArray[np.float64]  # columns (columns: the sorted labels the model was fitted on)
    agent_of: npt.NDArray[np.int64]  # for each class, its agent's index
    by_agent: bool = False  # columns are agents: a class gets its agent's probability split as the blend splits it
    temperature: float = SEPARATOR_TEMPERATURE

    @classmethod
    def fit(
        cls,
        data: TrainingSet,
        examples: npt.NDArray[np.float32],
        descriptions: npt.NDArray[np.float32],
        *,
        alpha: float = SEPARATOR_ALPHA,
        by_agent: bool = False,
        temperature: float = SEPARATOR_TEMPERATURE,
    ) -> Separator | None:
        """On the examples (labelled by `data.labels`) and each class's description; None without examples, with
        fewer than two columns (a zero-shot table keeps its blend as it is) or more than SEPARATOR_MAX_CLASSES."""
        if len(data.classes) > SEPARATOR_MAX_CLASSES:
            return None
        agent_of = data.agent_index()
        labels = np.concatenate([data.labels, np.arange(len(data.classes), dtype=np.int64)])
        if by_agent:
            labels = agent_of[labels]
        if not len(examples) or len(np.unique(labels)) < 2:
            return None
        rows = np.vstack([examples, descriptions]).astype(np.float64)
        coef, intercept = least_squares(rows, labels, alpha=alpha)
        return cls(coef, intercept, agent_of, by_agent, temperature)

    def probabilities(
        self, queries: npt.NDArray[np.float64], blend: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """(queries × classes) probabilities; with agent columns, each agent's probability split among its
        classes in the proportions of `blend` (the dense blend without this part)."""
        values = queries @ self.coef.T + self.intercept
        e = np.exp((values - values.max(axis=1, keepdims=True)) * self.temperature)
        p = e / e.sum(axis=1, keepdims=True)
        if not self.by_agent:
            return np.asarray(p, dtype=np.float64)
        member = self.agent_of[:, None] == np.arange(p.shape[1])[None, :]  # classes × agents
        per_agent = blend @ member.astype(np.float64)
        within = blend / np.maximum(per_agent[:, self.agent_of], 1e-12)
        return np.asarray(p[:, self.agent_of] * within, dtype=np.float64)


def least_squares(
    rows: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], *, alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(coef: columns × dim, intercept) of ridge regression on ±1 one-vs-rest targets, one column per distinct
    label (sorted), each label's rows weighted so that every label weighs the same ("balanced"), the intercept
    unpenalised (rows and targets centred on their weighted means). Closed form: with fewer rows than
    dimensions through the rows' Gram matrix (rows × rows), else through the dimensions' (dim × dim). On one
    BLAS thread: these products are small, and on a busy machine BLAS's threads only spin, in CPU time
    (lmos-router train.csv seeded: 0.09 → 0.03 s; the fit of a 5-per-intent table: +0.09 → +0.01 s)."""
    with threadpool_limits(limits=1, user_api="blas"):
        return _least_squares(rows, labels, alpha)


def _least_squares(
    rows: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], alpha: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    columns, index = np.unique(labels, return_inverse=True)
    weights = (len(index) / (len(columns) * np.bincount(index)))[index]
    targets = -np.ones((len(index), len(columns)))
    targets[np.arange(len(index)), index] = 1.0
    mean_x = weights @ rows / weights.sum()
    mean_y = weights @ targets / weights.sum()
    root = np.sqrt(weights)[:, None]
    x, y = root * (rows - mean_x), root * (targets - mean_y)
    if len(x) < x.shape[1]:  # Xᵀ(XXᵀ + αI)⁻¹Y: the same solution, a smaller system
        coef = x.T @ np.linalg.solve(x @ x.T + alpha * np.eye(len(x)), y)
    else:
        coef = np.linalg.solve(x.T @ x + alpha * np.eye(x.shape[1]), x.T @ y)
    return np.asarray(coef.T, dtype=np.float64), np.asarray(mean_y - mean_x @ coef, dtype=np.float64)


def shares(
    weights: tuple[float, float, float], *, share: float = SEPARATOR_SHARE
) -> tuple[tuple[float, float, float], float]:
    """The dense blend's (prototypes, kNN, descriptions) weights with a separator, and the separator's: `share`
    times the weight the examples' parts have (1 − the descriptions'), the other three scaled down to make room,
    so that it grows with examples per class as they do (3 per class: 0.1)."""
    w_proto, w_knn, w_desc = weights
    own = share * (1.0 - w_desc)
    return (w_proto * (1 - own), w_knn * (1 - own), w_desc * (1 - own)), own


def with_separator(
    data: TrainingSet,
    examples: npt.NDArray[np.float32],
    descriptions: npt.NDArray[np.float32],
    weights: tuple[float, float, float],
) -> tuple[tuple[float, float, float], Separator | None, float]:
    """The embedding router's hook: (dense weights, separator, its weight) for a table, `weights` unchanged and
    no separator where `Separator.fit` gives none."""
    separator = Separator.fit(data, examples, descriptions)
    if separator is None:
        return weights, None, 0.0
    kept, own = shares(weights)
    return kept, separator, own
