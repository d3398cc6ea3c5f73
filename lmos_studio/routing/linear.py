"""The offline routers' linear SVMs: scikit-learn's `LinearSVC` (liblinear, squared hinge, L2, one-vs-rest),
fitted without the estimator's per-call checks.

A fit of the statistical router fits up to a few dozen of them (the class model, one per agent for the
capability, and the same again in each fold of the lexicon `auto` check), most of them small: there the
estimator's input validation, parameter validation (by signature inspection) and label checks cost as much
as liblinear itself. `svm_fit` hands matrices the routers already built right (CSR, float64, 32-bit indices)
straight to liblinear's `train_wrap`, prepared as `LinearSVC.fit` (its `_fit_liblinear`) prepares them: the
same weights and intercepts, bit for bit (tests/test_routing_linear.py). Anything else, or a scikit-learn
whose private parts differ, goes through `LinearSVC` itself. Pure computation; no I/O.
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

try:  # what `LinearSVC.fit` calls once its input is checked (private: see `_direct`)
    from sklearn.svm import _liblinear
    from sklearn.svm._base import _get_liblinear_solver_type
    from sklearn.svm._classes import _validate_dual_parameter
except ImportError:  # pragma: no cover - another scikit-learn layout: LinearSVC itself
    _liblinear = _get_liblinear_solver_type = _validate_dual_parameter = None

SEED = 0  # liblinear shuffles: a fixed seed, reproducible answers
# Stopping tolerance: LinearSVC's 1e-4; from LOOSE_ROWS rows on, where liblinear solves the dual (fewer rows than
# features), liblinear's own default for its dual solvers, 0.1: about 30 % fewer passes over the data (the
# statistical router's agent SVM on train.csv: 40 → 12 passes, 0.65 → 0.47 s). Chosen on dev data
# (benchmarks/statistical_fit_dev.py): there the answers held on the large tables (lmos-router train.csv seeded:
# 5 812 rows with the synonym copies), while 0.1 for every fit lost a few on small ones (lmos-router zero-shot
# capability .723 → .717, dev networks agent 160 → 159 of 241), so small fits keep 1e-4.
TOL = 1e-4
LOOSE_TOL = 0.1
LOOSE_ROWS = 1000


def svm_fit(
    features: sp.csr_matrix,
    labels: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    *,
    c: float,
    tol: float | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """(coef: classes × features, or 1 × features for two classes; intercepts) of
    `LinearSVC(C=c, tol=…, random_state=SEED).fit(features, labels, sample_weight=weights)` (tol: `tol` when
    given, else TOL, or LOOSE_TOL for a large dual problem), convergence warnings
    silenced (liblinear may stop at max_iter on tiny tables: still a usable model). Two classes or more."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "The number of unique classes", UserWarning)  # zero-shot: 1–2 per class
        if tol is None:
            tol = LOOSE_TOL if LOOSE_ROWS <= features.shape[0] < features.shape[1] else TOL  # a large dual problem
        model = LinearSVC(C=c, tol=tol, random_state=SEED)
        found = _train(model, features, labels, weights) if _direct(features, labels, weights) else None
        if found is None:
            model.fit(features, labels, sample_weight=weights)
            found = model.coef_, model.intercept_
    coef, intercept = found
    return np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64)


def _train(model: LinearSVC, features: sp.csr_matrix, labels: Any, weights: Any) -> tuple[Any, Any] | None:
    """`model.fit`'s (coef, intercept): what scikit-learn's `_fit_liblinear` does for this model (labels as
    indices of the sorted classes, uniform class weights, the seed drawn from `random_state`, liblinear's
    `train_wrap`, the last column as intercept), without its input checks; None if this scikit-learn's
    `train_wrap` takes other arguments."""
    if not model.fit_intercept or model.intercept_scaling <= 0 or model.class_weight is not None:
        return None  # pragma: no cover - svm_fit's model has scikit-learn's defaults
    classes, index = np.unique(labels, return_inverse=True)
    dual = _validate_dual_parameter(model.dual, model.loss, model.penalty, model.multi_class, features)
    _liblinear.set_verbosity_wrap(model.verbose)
    seed = _liblinear_seed(model.random_state)
    try:
        raw, _ = _liblinear.train_wrap(
            features,
            np.require(np.asarray(index, dtype=np.float64).ravel(), requirements="W"),
            True,  # sparse
            _get_liblinear_solver_type(model.multi_class, model.penalty, model.loss, dual),
            model.tol,
            model.intercept_scaling,  # bias: fit_intercept is on
            model.C,
            np.ones(len(classes), dtype=np.float64),  # class_weight=None
            model.max_iter,
            seed,
            0.1,  # epsilon (regression only)
            np.ascontiguousarray(weights, dtype=np.float64),
        )
    except TypeError:  # pragma: no cover - another signature
        return None
    return raw[:, :-1], model.intercept_scaling * raw[:, -1]


@lru_cache(maxsize=8)  # a pure function of the seed; a RandomState costs more to seed than a small fit (~70 µs)
def _liblinear_seed(random_state: int) -> int:
    """The seed `_fit_liblinear` draws for liblinear from an int `random_state`."""
    return int(np.random.RandomState(random_state).randint(np.iinfo("i").max))


def _direct(features: Any, labels: Any, weights: Any) -> bool:
    """True when `features` are what `LinearSVC.fit`'s checks would pass on unchanged (CSR, float64, 32-bit
    indices, finite), with integer labels and float64 weights, one per row: then `_train` gets the same input
    that `fit` would give liblinear (and the same arguments, `dual` resolved by `fit`'s own rule)."""
    return (
        _liblinear is not None
        and _get_liblinear_solver_type is not None
        and _validate_dual_parameter is not None
        and isinstance(features, sp.csr_matrix)
        and features.dtype == np.float64
        and features.indices.dtype == np.int32
        and features.indptr.dtype == np.int32
        and bool(np.isfinite(features.data).all())
        and isinstance(labels, np.ndarray)
        and labels.dtype.kind == "i"
        and labels.shape == (features.shape[0],)
        and isinstance(weights, np.ndarray)
        and weights.dtype == np.float64
        and weights.shape == (features.shape[0],)
        and len(labels) > 0
        and labels.min() != labels.max()  # two classes or more (`np.unique` hashes: slower)
    )
