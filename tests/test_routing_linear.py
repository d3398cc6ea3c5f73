"""`svm_fit` gives `LinearSVC`'s weights and intercepts bit for bit, on the direct path and the fallback."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.svm import LinearSVC

from lmos_studio.routing import linear
from lmos_studio.routing.linear import svm_fit


def _data(rows: int, features: int, classes: int, seed: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = sp.random(rows, features, density=0.2, format="csr", random_state=seed, dtype=np.float64)
    labels = np.arange(rows, dtype=np.int64) % classes
    weights = rng.choice([1.0, 0.5, 2.0], size=rows)
    return sp.csr_matrix(x), labels, weights


def _reference(x: object, labels: np.ndarray, weights: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    model = LinearSVC(C=c, random_state=0).fit(x, labels, sample_weight=weights)
    return model.coef_, model.intercept_


@pytest.mark.parametrize(
    ("rows", "features", "classes"),
    [(40, 300, 5), (30, 200, 2), (400, 50, 4), (12, 80, 3)],  # dual, binary, primal (more rows than features), tiny
)
def test_direct_path_equals_linearsvc(rows: int, features: int, classes: int) -> None:
    x, labels, weights = _data(rows, features, classes, seed=rows)
    assert linear._direct(x, labels, weights)
    coef, intercept = svm_fit(x, labels, weights, c=1.0)
    want_coef, want_intercept = _reference(x, labels, weights, 1.0)
    assert np.array_equal(coef, want_coef)
    assert np.array_equal(intercept, want_intercept)


def test_other_input_goes_through_linearsvc() -> None:
    x, labels, weights = _data(40, 120, 3, seed=7)
    for features in (x.astype(np.float32), x.toarray(), x.tocsc()):
        assert not linear._direct(features, labels, weights)
        coef, intercept = svm_fit(features, labels, weights, c=0.5)
        want_coef, want_intercept = _reference(features, labels, weights, 0.5)
        assert np.array_equal(coef, want_coef)
        assert np.array_equal(intercept, want_intercept)


@pytest.mark.parametrize("tol", [0.01, 0.1])
def test_a_given_tolerance_is_linearsvcs(tol: float) -> None:
    x, labels, weights = _data(40, 300, 5, seed=3)
    coef, intercept = svm_fit(x, labels, weights, c=1.0, tol=tol)
    model = LinearSVC(C=1.0, tol=tol, random_state=0).fit(x, labels, sample_weight=weights)
    assert np.array_equal(coef, model.coef_)
    assert np.array_equal(intercept, model.intercept_)
    assert not np.array_equal(coef, svm_fit(x, labels, weights, c=1.0)[0])  # the default (1e-4) is another fit
