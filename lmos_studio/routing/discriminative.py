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

Chosen in session 11 on dev data (benchmarks/separator_dev.py, results/separator-dev*.json; the default
router, lexicon `auto`): model, α, temperature and share on half a of the dev networks, checked on halves b
and c, the lmos-router split (benchmarks/routing.py's grouped folds) and informal-dev. Right agents (and
capabilities), without → with: dev half a 157 (143) → 161 (145) of 179; half b 160 (153) → 160 (153) of 176;
half c 54 (47) → 55 (48) of 63; lmos-router 5 per intent 2 966 (2 670) → 2 973 (2 690) of 3 000, seeded
2 997 (2 859) → 2 998 (2 872), zero-shot unchanged (no examples: no separator); informal-dev fitted on
train.csv: seeded 51 (40) → 51 (42) of 53, 5 per intent 50 (38) → 50 (38). With the customer-service lexicon:
halves a / b / c 157 / 157 / 55 → 160 / 158 / 55; without a lexicon informal-dev seeded 45 (33) → 45 (31), 5
per intent 44 (29) → 46 (31) (results/separator-dev-routers.json). Out-of-scope answers and false rejects are
the same on every dev network (scores only). Cost (benchmarks/separator_cost.py side by side with the
commit before, 3 rounds, load 2-5; results/separator-cost.json), CPU time: its own fit on the seeded
lmos-router table (3 028 rows) 0.028 s; the router's fit there 0.616 → 0.618 s, with 5 per intent 0.214 →
0.196 s (noise); `route_batch` of 5 000 queries 1.97 → 2.02 s with the text cache warm, 22.2 → 22.7 s cold,
0.88× → 0.91× of encoding them in one batch (issue #10's target: within 1.5×).

Tried in session 11 and not adopted (same benchmarks, dev data only; results/separator-dev*.json):
* the share half a alone would choose: it gains up to 0.3 at 3 examples per class (SEPARATOR_SHARE 0.6: 163
  (148) of 179), but there half b loses (160 → 156 of 176), informal-dev seeded too (51 → 49 of 53) and
  lmos-router seeded (2 997 → 2 996). On half a the gain climbs with the share (3 per class: 158 at 0.05 with
  LinearSVC in exploratory runs, 161 at 0.1, 163 at 0.3); 0.1 (SEPARATOR_SHARE 0.2) was taken after seeing half
  b lose at 0.3 and hold at 0.1-0.2: for the share, half b is not a clean check; half c, the lmos-router split
  and informal-dev are;
* scikit-learn's LinearSVC (classes balanced, C 0.1-1, temperature 20) instead of least squares: the same
  figures within a query or two (C 1: halves a / b / c 161 / 161 / 55, lmos-router 5 per intent 2 974, seeded
  2 998), but its fit on the seeded lmos-router table costs 1-3 s CPU;
* agent columns instead of class columns (the statistical router's SVM_AGENT_ROWS idea; a class gets its
  agent's probability split as the blend splits it), least squares or SVM: halves a / b / c 158-160 / 159-160 /
  55, and the capability gain on lmos-router seeded is gone (2 859);
* logistic regression (C 10-1000, its own probabilities): half a 158-161, below least squares at equal shares;
  shrunk linear discriminant analysis (Ledoit-Wolf or 0.3): half a 159-161 at the adopted share, 162-164 at
  0.3, where half b loses as above (session 11's exploratory runs: 156-157 of 176);
* the capabilities' own texts as more rows (SVM): halves a / b / c 160 / 161 / 55, no better; the weight taken
  from the class prototypes alone (all of theirs, 0.325 at 3 per class): half a 161, half b 157, informal-dev
  seeded 49 and 5 per intent 49 of 53.
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
