"""The statistical fit's shortcuts give what the plain way gives, bit for bit: one count for every text of a fit
(examples, descriptions, synonym copies, the `fit` matrix), leave-one-out maxima from the product's
entries, the agents' terms counted when evidence is first read, the lexicon check's lighter fold fits (the
same ranked matches as a full fit), and the allocator warmed once per process."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from lmos_studio.routing import capability, products, statistical
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.lexicon import CHECK_TOL
from lmos_studio.routing.linear import LOOSE_TOL, svm_fit
from lmos_studio.routing.products import as_dense, loo_max_similarity
from lmos_studio.routing.statistical import StatisticalRouter
from lmos_studio.routing.threshold import loo_picks
from tests.conftest import router_benchmark_table


@pytest.fixture(scope="module")
def benchmark() -> tuple[RoutingTable, list[tuple[str, str, str]]]:
    table, rows = router_benchmark_table()
    return table, rows[::7]


def _same(a: sp.spmatrix, b: sp.spmatrix) -> bool:
    a, b = sp.csr_matrix(a), sp.csr_matrix(b)
    a.sort_indices()
    b.sort_indices()
    return (
        a.shape == b.shape
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


def test_one_count_gives_the_matrices_of_separate_encodings(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]],
) -> None:
    table, seed = benchmark
    fitted = StatisticalRouter().fit(table, seed=seed)
    texts = list(fitted.data.texts)
    corpus = texts + list(fitted.data.descriptions)
    assert _same(fitted.features_by_example, fitted.encoder.matrix(texts).T)
    assert _same(fitted.fit_by_text, fitted.fit_matrix(corpus).T)


@pytest.mark.parametrize("cells", [2**30, products.PRODUCT_CELLS, 1000, 1])  # one block … one row per block
def test_sparse_leave_one_out_equals_the_dense_reference(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]], cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(products, "PRODUCT_CELLS", cells)
    table, seed = benchmark
    by_text = StatisticalRouter().fit(table, seed=seed).fit_by_text
    n = by_text.shape[1] - 5  # the last columns are descriptions: compared with, never left out
    picked = loo_picks(n)
    cos = as_dense(by_text[:, picked].T @ by_text)
    cos[np.arange(len(picked)), picked] = -1.0
    want = np.clip(cos.max(axis=1), 0.0, 1.0)
    assert np.array_equal(loo_max_similarity(by_text, n), want)


@pytest.mark.parametrize(("tol", "models"), [(None, True), (CHECK_TOL, True), (None, False)])
@pytest.mark.parametrize("setting", ["customer-service", "none"])
def test_the_lexicon_checks_fold_fits_rank_as_full_fits(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]], setting: str, tol: float | None, models: bool
) -> None:
    table, seed = benchmark
    queries = [text for text, _, _ in seed[::5]] + ["will it rain tomorrow", "", "refund my order 42"]
    full = StatisticalRouter(lexicon=setting)._fit(table, seed[:60], full=True, tol=tol, models=models)
    light = StatisticalRouter(lexicon=setting)._fit(table, seed[:60], full=False, tol=tol, models=models)
    full.static_pick = full.static_agents = False  # the folds leave the static opinions out (routing/capability.py)
    for a, b in zip(full.route_batch(queries, top_k=3), light.route_batch(queries, top_k=3), strict=True):
        assert [(m.agent, m.capability, m.score) for m in a.matches] == [
            (m.agent, m.capability, m.score) for m in b.matches
        ]


def test_agent_terms_are_counted_when_evidence_is_first_read(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]],
) -> None:
    table, seed = benchmark
    fitted = StatisticalRouter().fit(table, seed=seed)
    assert fitted.agent_terms is None  # a batch that reads no evidence never counts them
    result = fitted.route("I want my money back for order 42")
    assert fitted.agent_terms is None
    assert any(line.startswith("shared terms:") for line in result.matches[0].evidence)
    assert fitted.agent_terms == statistical._agent_terms(fitted.data, fitted.lexicon)


def test_the_lexicon_checks_fits_have_no_svms(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # CHECK_MODELS off: the check's folds score with the kNN vote and the descriptions alone (no class model,
    # no per-agent models, no synonym copies); on, they are the router's own fits (the benchmark's reference).
    table, seed = benchmark
    fitted = StatisticalRouter(lexicon="customer-service")._fit(table, seed[:60], full=False, models=False)
    assert fitted.coef is None and fitted.siblings is None and fitted._weights()[0] == 0.0
    assert fitted.features_by_example.shape[1] == len(fitted.data.texts)
    held = [(text, agent, capability) for text, agent, capability in seed[60:90]]
    seen: list[bool] = []

    def spy(self: StatisticalRouter, *args: object, **kwargs: object) -> statistical.FittedStatistical:
        seen.append(bool(kwargs["models"]))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    original = StatisticalRouter._fit
    monkeypatch.setattr(StatisticalRouter, "_fit", spy)
    without = statistical.held_out_correct(table, seed[:60], held, "customer-service")
    monkeypatch.setattr(statistical, "CHECK_MODELS", True)
    with_svms = statistical.held_out_correct(table, seed[:60], held, "customer-service")
    assert seen == [False, True]
    assert 0 < without <= 2 * len(held) and 0 < with_svms <= 2 * len(held)


def test_per_agent_models_of_a_large_table_stop_at_the_loose_tolerance(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where the SVM tells agents apart (SVM_AGENT_ROWS rows on), the per-agent models stop at LOOSE_TOL too;
    # a smaller table's keep `svm_fit`'s tolerance by size, and the lexicon check's reference keeps its own.
    seen: list[float | None] = []

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("tol"))  # type: ignore[arg-type]
        return svm_fit(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(capability, "svm_fit", spy)
    table, few = benchmark
    _, rows = router_benchmark_table()
    large = StatisticalRouter(lexicon="customer-service").fit(table, seed=rows)
    assert large.agent_model and seen and set(seen) == {LOOSE_TOL}
    seen.clear()
    small = StatisticalRouter(lexicon="customer-service").fit(table, seed=few)
    assert not small.agent_model and seen and set(seen) == {None}
    seen.clear()
    StatisticalRouter(lexicon="customer-service")._fit(table, rows, full=False, tol=CHECK_TOL)
    assert seen and set(seen) == {CHECK_TOL}


def test_the_allocator_is_warmed_once_per_process_before_a_fit_or_a_batch(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]],
) -> None:
    table, seed = benchmark
    products.allocator_warmed.cache_clear()
    fitted = StatisticalRouter().fit(table, seed=seed[:40])
    hits = products.allocator_warmed.cache_info().hits  # the lexicon check's folds route batches too
    fitted.route_batch(["refund my order", "where is my parcel"])
    info = products.allocator_warmed.cache_info()
    assert (info.misses, info.hits) == (1, hits + 1)  # the fit warmed it; the batch found it done


def test_the_agent_svm_reads_char_3_and_4_grams_only_and_the_class_svm_all(
    benchmark: tuple[RoutingTable, list[tuple[str, str, str]]],
) -> None:
    # SVM_AGENT_GRAMS: a large table's agent SVM leaves char 2- and 5-grams out (their weights are zero); the kNN
    # vote keeps them, and so do a small table's class SVM and the per-agent models.
    table, few = benchmark
    _, rows = router_benchmark_table()
    large = StatisticalRouter(lexicon="customer-service").fit(table, seed=rows)
    small = StatisticalRouter(lexicon="customer-service").fit(table, seed=few)
    for fitted, agent_model in ((large, True), (small, False)):
        char = next(part for part in fitted.encoder.parts if part.preprocess is not None)
        short = char.offset + np.array([i for gram, i in char.vocabulary.items() if len(gram) in (2, 5)])
        assert fitted.agent_model is agent_model and isinstance(fitted.coef, np.ndarray) and len(short)
        assert bool(np.any(fitted.coef[short])) is not agent_model
        assert fitted.siblings is not None and np.any(fitted.siblings.coef[short])
        assert fitted.features_by_example[short].nnz


def test_the_agent_svm_rows_leave_out_only_those_nonzeros() -> None:
    # The same matrix, shape and row order, without the char n-grams outside SVM_AGENT_GRAMS; a row with only
    # those (or none at all) stays, empty.
    candidates = (Candidate("a", "x", "Pay my bill", ("pay my bill",)), Candidate("b", "y", "Track my parcel", ()))
    fitted = StatisticalRouter(lexicon="none").fit(RoutingTable(channel="", candidates=candidates))
    texts = ["pay my bill", "a", "", "track a parcel, pay"]
    rows = fitted.encoder.matrix(texts)
    cut = statistical._agent_svm_rows(rows, fitted.encoder)
    char = next(part for part in fitted.encoder.parts if part.preprocess is not None)
    short = np.zeros(rows.shape[1], dtype=bool)
    low, high = statistical.SVM_AGENT_GRAMS
    short[[char.offset + i for gram, i in char.vocabulary.items() if not low <= len(gram) <= high]] = True
    expected = sp.csr_matrix(rows.toarray() * ~short)
    assert cut.shape == rows.shape and short.any() and cut.nnz < rows.nnz
    assert np.array_equal(cut.toarray(), expected.toarray()) and cut.nnz == expected.nnz
    assert cut.indices.dtype == rows.indices.dtype and cut.indptr.dtype == rows.indptr.dtype
