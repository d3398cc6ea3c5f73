"""The statistical router's batch path: `route_batch` answers exactly as `route` one by one, and both answer
exactly as the stored golden (agents, capabilities, scores, fit, threshold and evidence), so speeding the batch
path up never changes an answer.

The golden (tests/golden/routing/statistical.json) holds the queries and the answers of several fitted tables
(seeded, few-shot without the lexicon, zero-shot, class centroids, a design vocabulary, the acme channels).
After an intended change to routing answers (scoring weights, ranking, lexicon), regenerate and review it:

    REGENERATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_routing_batch.py -k golden -p no:cacheprovider
    git diff --stat tests/golden
"""

from __future__ import annotations

import csv
import json
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lmos_studio.formats.design_file import read_design
from lmos_studio.routing import products, sparse, statistical
from lmos_studio.routing.base import Match, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.statistical import FittedStatistical, StatisticalRouter
from lmos_studio.routing.table import routing_table
from tests.conftest import ACME, SAMPLES, router_benchmark_table

GOLDEN = Path(__file__).parent / "golden" / "routing" / "statistical.json"
TOP_K = 3
ODD = [
    "",
    "   ",
    "?!",
    "{{Order Number}}",
    "12345",
    "Order #{{Order Number}} — wo ist mein Paket??",
    "ÄÖÜ ß café naïve",
    "cancel cancel cancel cancel my order order",
    "a an the",
    "I'd like to get my money back for order 42 because it arrived broken and late",
    "x" * 300,
    "How do I change my password?\n\tPlease   help",
    "PAYMENT methods: PayPal / Visa / Apple-Pay?",
    "track_order",
    "will it rain tomorrow",
]


def _benchmark() -> tuple[RoutingTable, list[tuple[str, str, str]]]:
    table, rows = router_benchmark_table()
    return table, rows


def _csv_queries(name: str) -> list[str]:
    with (SAMPLES / name).open(newline="") as f:
        return [r["query"] for r in csv.DictReader(f)]


def _cases() -> Iterator[tuple[str, FittedStatistical, list[str]]]:
    """(name, fitted router, the queries of a fresh golden) for every configuration the golden covers."""
    table, rows = _benchmark()
    queries = [*_csv_queries("router-benchmark-queries.csv"), *(r[0] for r in rows[::37]), *ODD]
    seed = rows[::3]
    yield "seeded", StatisticalRouter().fit(table, seed=seed), queries
    few: dict[str, list[tuple[str, str, str]]] = {}
    for row in rows:
        few.setdefault(row[2], []).append(row)
    five = [r for group in few.values() for r in group[:5]]
    yield "five-per-intent-no-lexicon", StatisticalRouter(lexicon=False).fit(table, seed=five), queries
    yield "zero-shot", StatisticalRouter().fit(table), queries
    vocabulary = (("parcel", "package", "consignment", "delivery box"), ("gmail", "email", "e-mail", "mail address"))
    yield "vocabulary", StatisticalRouter().fit(RoutingTable("", table.candidates, vocabulary=vocabulary)), queries
    saved = statistical.SVM_MAX_CLASSES
    statistical.SVM_MAX_CLASSES = 5  # class centroids instead of SVMs (as on a large table)
    try:
        centroids = StatisticalRouter().fit(table, seed=rows[1::5])
    finally:
        statistical.SVM_MAX_CLASSES = saved
    yield "centroids", centroids, queries
    design = read_design(ACME)
    acme = [*_csv_queries("acme-queries.csv"), *(t.query for t in design.routing_tests), *ODD]
    for key in ("default/acme-web-stable", "default/acme-ivr-stable", ""):
        yield f"acme {key or 'all agents'}", StatisticalRouter().fit(routing_table(design, key)), acme


def _answer(result: RouteResult) -> dict[str, Any]:
    return {
        "fit": result.fit,
        "threshold": result.threshold,
        "no_match": result.no_match,
        "matches": [[m.agent, m.capability, m.score, list(m.evidence)] for m in result.matches],
    }


@pytest.fixture(scope="module")
def cases() -> list[tuple[str, FittedStatistical, list[str]]]:
    return list(_cases())


def test_golden_answers_are_unchanged(cases: list[tuple[str, FittedStatistical, list[str]]]) -> None:
    if os.environ.get("REGENERATE_GOLDEN"):
        fresh = {}
        for name, fitted, queries in cases:
            answers = fitted.route_batch(queries, top_k=TOP_K)
            fresh[name] = [{"query": q, **_answer(r)} for q, r in zip(queries, answers, strict=True)]
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        cases_text = (
            f"{json.dumps(name)}: [\n" + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n]"
            for name, rows in fresh.items()
        )
        GOLDEN.write_text("{\n" + ",\n".join(cases_text) + "\n}\n")  # one line per query: readable diffs
    stored = json.loads(GOLDEN.read_text())
    assert sorted(stored) == sorted(name for name, _, _ in cases)
    for name, fitted, _ in cases:
        queries = [row["query"] for row in stored[name]]
        batch = fitted.route_batch(queries, top_k=TOP_K)
        for row, got in zip(stored[name], batch, strict=True):
            assert _answer(got) == {k: v for k, v in row.items() if k != "query"}, (name, row["query"])


def test_route_batch_equals_route_one_by_one(cases: list[tuple[str, FittedStatistical, list[str]]]) -> None:
    for name, fitted, queries in cases:
        repeated = [*queries, *queries[:7], queries[3].upper(), f"{queries[2]} 99"]  # duplicates in one batch
        for top_k in (1, TOP_K):
            batch = fitted.route_batch(repeated, top_k=top_k)
            for query, got in zip(repeated, batch, strict=True):
                alone = fitted.route(query, top_k=top_k)
                assert _answer(got) == _answer(alone), (name, query)
                assert got.matches == alone.matches


def test_route_fitted_and_small_chunks_answer_the_same(
    cases: list[tuple[str, FittedStatistical, list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, fitted, queries = cases[0]
    whole = [_answer(r) for r in route_fitted(fitted, queries, top_k=TOP_K)]
    monkeypatch.setattr(statistical, "BATCH_CHUNK", 7)
    assert [_answer(r) for r in fitted.route_batch(queries, top_k=TOP_K)] == whole
    monkeypatch.setattr(products, "_sparsetools", None)  # scipy's `a @ b` instead of the one-pass kernel
    assert [_answer(r) for r in fitted.route_batch(queries, top_k=TOP_K)] == whole


@pytest.mark.parametrize("cells", [1, 5000, 2**18])
def test_scores_without_the_similarities_are_the_same_bits(
    cases: list[tuple[str, FittedStatistical, list[str]]], cells: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(products, "PRODUCT_CELLS", cells)  # the kNN vote a row, a few rows, all at a time
    for name, fitted, queries in cases:
        full, voted = fitted._score(queries), fitted._score(queries, similarities=False)
        assert voted[1].shape == (len(queries), 0), name
        for mine, theirs in zip(voted[:1] + voted[2:], full[:1] + full[2:], strict=True):
            assert mine.tobytes() == theirs.tobytes(), name


def test_zero_shot_counts_from_the_word_part_are_its_own(
    cases: list[tuple[str, FittedStatistical, list[str]]],
) -> None:
    for name, fitted, queries in cases:
        texts = [*queries, *fitted.data.descriptions, "", "zzz qqq", *fitted.data.texts[:50]]
        shared = fitted._zero_shot_counts(fitted.encoder.counts(texts)[0])
        assert shared is not None and fitted.zero_shot_ids is not None and len(fitted.zero_shot_ids), name
        for mine, theirs in zip(shared, fitted.zero_shot.counts(texts)[0], strict=True):
            assert np.array_equal(mine, theirs), name
    _, fitted, _ = cases[0]
    assert not len(sparse.ids_in(fitted.encoder.parts[1], fitted.zero_shot.parts))  # char n-grams: no


def test_evidence_is_read_on_demand_and_pickles() -> None:
    table, rows = _benchmark()
    fitted = StatisticalRouter().fit(table, seed=rows[::10])
    result = fitted.route_batch(["I want my money back"], top_k=2)[0]
    copy = pickle.loads(pickle.dumps(result))  # the UI's st.cache_data pickles route results
    assert copy == result and copy.matches[0].evidence == result.matches[0].evidence
    assert any(e.startswith("similar example") for e in result.matches[0].evidence)
    assert Match("a", "c", 0.5, lambda: ("why",)) == Match("a", "c", 0.5, ("why",))
    assert repr(Match("a", "c", 0.5)) == "Match(agent='a', capability='c', score=0.5, evidence=())"


def test_encoder_matrix_is_encode_bit_for_bit(cases: list[tuple[str, FittedStatistical, list[str]]]) -> None:
    for name, fitted, queries in cases:
        texts = [*queries, *fitted.data.texts[:200], *fitted.data.descriptions]
        for encoder in (fitted.encoder, fitted.zero_shot, fitted.fit_encoder):
            fast = encoder.matrix(texts)
            for row, text in enumerate(texts):
                idx, val = encoder.encode(text)
                got = slice(fast.indptr[row], fast.indptr[row + 1])
                assert fast.indices[got].tolist() == idx.tolist(), (name, text)
                assert fast.data[got].tobytes() == val.tobytes(), (name, text)  # the same bits, not close


def test_char_ngrams_word_by_word_are_the_analyzers(cases: list[tuple[str, FittedStatistical, list[str]]]) -> None:
    _, fitted, queries = cases[0]
    part = fitted.encoder.parts[1]
    assert part.preprocess is not None  # the char_wb part takes the word-by-word path
    texts = [*queries, "  tabs\tand\nnewlines  ", "a", "ab abc abcd abcde abcdef", "\u00a0nbsp\u2003em space"]
    for text in texts:
        expected = [part.vocabulary[g] for g in part.analyze(text) if g in part.vocabulary]
        assert part.ids(text) == expected, text
        assert part.ids(text) == expected, text  # again, from the per-word cache


def test_rank_agents_batch_is_rank_agents_row_by_row(cases: list[tuple[str, FittedStatistical, list[str]]]) -> None:
    from lmos_studio.routing.training import rank_agents, rank_agents_batch

    rng = np.random.default_rng(0)
    for name, fitted, queries in cases:
        scores, _, _ = fitted.score_batch(queries)
        n = scores.shape[1]
        tied = np.full((3, n), 1.0 / n)  # ties everywhere: the stable order decides
        noisy = rng.dirichlet(np.ones(n), size=20)
        for rows in (scores, tied, noisy):
            picks = rng.dirichlet(np.ones(n), size=len(rows))  # a within-agent opinion (routing/capability.py)
            for top_k in (1, 3, 50):
                batch = rank_agents_batch(fitted.data, rows, top_k=top_k)
                for row, got in zip(rows, batch, strict=True):
                    want = [(m.agent, m.capability, m.score) for m in rank_agents(fitted.data, row, top_k=top_k)]
                    assert list(got) == want, name
                picked = rank_agents_batch(fitted.data, rows, top_k=top_k, pick=picks)
                for row, pick, got in zip(rows, picks, picked, strict=True):
                    matches = rank_agents(fitted.data, row, top_k=top_k, pick=pick)
                    assert list(got) == [(m.agent, m.capability, m.score) for m in matches], name


def test_batch_routing_computes_no_evidence_until_read(monkeypatch: pytest.MonkeyPatch) -> None:
    table, rows = _benchmark()
    fitted = StatisticalRouter().fit(table, seed=rows[::10])
    calls: list[int] = []
    compute = FittedStatistical.evidence

    def counted(self: FittedStatistical, *args: Any) -> dict[str, tuple[str, ...]]:
        calls.append(1)
        return compute(self, *args)

    monkeypatch.setattr(FittedStatistical, "evidence", counted)
    results = fitted.route_batch([f"cancel my order {i}" for i in range(100)] + ["where is my parcel"], top_k=2)
    assert not calls
    last_block = len(results) - statistical.EVIDENCE_BLOCK
    assert results[-1].matches[0].evidence and len(calls) == last_block  # computed with its block only
    assert results[-2].matches[1].evidence is not None and len(calls) == last_block  # read: kept
    assert results[0].matches[0].evidence and len(calls) == len(results)  # the first block


@pytest.mark.parametrize("texts", [None, ["a an the", "the"], ["", "thanks"]])
def test_vocabulary_fit_is_scikit_learns(texts: list[str] | None) -> None:
    """`sparse.fit_vectorizer` (one reading per text) gives the vocabulary and idf of `TfidfVectorizer.fit`, and the
    texts' counts as the fitted encoder gives them."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from lmos_studio.routing.text import CUSTOMER_SERVICE, normalize

    table, rows = _benchmark()
    texts = texts or [text for text, _, _ in rows[::7]] + [c.description for c in table.candidates]
    for make in (
        lambda: TfidfVectorizer(analyzer=CUSTOMER_SERVICE.word_features, sublinear_tf=True),
        lambda: TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=normalize),
    ):
        ours, theirs = make(), make()
        counted = sparse.fit_vectorizer(ours, texts)
        if counted is not None:  # the texts' counts from the same reading: as the fitted encoder counts them
            want = sparse.SparseEncoder([(ours, 1.0)]).counts(texts)[0]
            assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(counted, want, strict=True))
        try:
            theirs.fit(texts)
        except ValueError:  # empty vocabulary: `_fit` adds one text
            theirs.fit([*texts, "unknown open create"])
        assert ours.vocabulary_ == theirs.vocabulary_
        assert np.array_equal(ours.idf_, theirs.idf_)
