"""The statistical router's fast paths give the same bits as their plain references."""

from __future__ import annotations

import numpy as np
import pytest

from lmos_studio.routing import products, sparse
from lmos_studio.routing.products import _knn_vote_slow, knn_vote


def _votes(sims: np.ndarray, labels: np.ndarray, n_classes: int, *, fast: bool) -> np.ndarray:
    p = np.zeros((sims.shape[0], n_classes))
    if fast:
        knn_vote(p, sims, labels)
    else:
        _knn_vote_slow(p, sims, labels, np.arange(sims.shape[0]))
    p /= p.sum(axis=1, keepdims=True)
    return p


@pytest.mark.parametrize("examples", [3, 6, 40, 700, 3001])
@pytest.mark.parametrize("n_classes", [1, 2, 7])
@pytest.mark.parametrize("block", [3, 8, 64])
def test_knn_vote_matches_argpartition(
    examples: int, n_classes: int, block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(products, "KNN_BLOCK", block)  # small tables take the fast path too
    rng = np.random.default_rng(examples * 10 + n_classes)
    labels = np.sort(rng.integers(0, n_classes, examples))
    sims = rng.random((300, examples)) * (rng.random((300, examples)) < 0.3)  # mostly zeros
    sims[:40] = np.round(sims[:40], 1)  # ties everywhere
    sims[40:60] = 0.0  # nothing in common: zeros tie
    sims[60:80, : examples // 2] = 0.5  # one value repeated
    sims[80:120] = np.where(labels == labels[0], sims[80:120] + 1.0, sims[80:120])  # one class nearest
    fast, slow = _votes(sims, labels, n_classes, fast=True), _votes(sims, labels, n_classes, fast=False)
    assert np.array_equal(fast, slow)


@pytest.mark.parametrize("cache", [1, 3, 65536])
def test_flat_ids_are_the_analyzers_one_after_the_other(cache: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from lmos_studio.routing.sparse import EncoderPart
    from lmos_studio.routing.text import normalize

    monkeypatch.setattr(sparse, "CHAR_WORD_CACHE", cache)  # the word table started afresh, or not
    train = ["cancel my order", "where is my parcel", "refund please", "change my address"]
    texts = [*train, "", "  tabs\tand\nnewlines  ", "a", "cancel cancel parcel", "zzz", "refunds refund"]
    for vectorizer in (
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=normalize, sublinear_tf=True),
        TfidfVectorizer(sublinear_tf=True),
    ):
        part = EncoderPart(vectorizer.fit(train), 0.5, 0)
        analyze = vectorizer.build_analyzer()
        expected = [[part.vocabulary[g] for g in analyze(t) if g in part.vocabulary] for t in texts]
        for _ in range(2):  # the second time from the words remembered
            flat, sizes = part.flat_ids(texts)
            assert flat.tolist() == [j for ids in expected for j in ids]
            assert sizes.tolist() == [len(ids) for ids in expected]
            assert [part.ids(t) for t in texts] == expected
        assert part.flat_ids([])[0].tolist() == []
        assert part.flat_ids(["", " "])[1].tolist() == [0, 0]


def test_a_fit_hands_its_words_ngrams_to_the_encoder() -> None:
    from lmos_studio.routing.sparse import SparseEncoder, char_vectorizer, fit_vectorizer
    from lmos_studio.routing.text import NO_LEXICON

    train = ["cancel my order", "where is my parcel", "refund please", "Change my ADDRESS 42"]
    handed, fresh = char_vectorizer(NO_LEXICON), char_vectorizer(NO_LEXICON)
    counted = fit_vectorizer(handed, train)
    fresh.vocabulary_, fresh.idf_ = handed.vocabulary_, handed.idf_  # the same fit, no words handed over
    assert isinstance(handed.word_grams_, sparse._WordGrams) and not hasattr(fresh, "word_grams_")
    texts = [*train, "cancel parcel 7", "new words here", ""]
    ours, theirs = SparseEncoder([(handed, 1.0)]), SparseEncoder([(fresh, 1.0)])
    assert len(ours.parts[0].grams.index) == len({w for t in train for w in t.lower().split()})
    for mine, other in zip(ours.counts(texts), theirs.counts(texts), strict=True):
        assert all(np.array_equal(a, b) for a, b in zip(mine, other, strict=True))
    assert counted is not None
    assert all(np.array_equal(a, b) for a, b in zip(counted, ours.counts(train)[0], strict=True))


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 1), (1, 3), (3, 5), (4, 4)])
def test_char_wb_grams_are_scikit_learns(ngram_range: tuple[int, int]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    rng = np.random.default_rng(sum(ngram_range))
    words = ["a", "ab", "abc", "abcd", "abcde", "x" * 30, "café", "0"]
    words += ["".join(rng.choice(list("abé0"), size=int(rng.integers(1, 9)))) for _ in range(300)]
    for word in words:
        assert list(sparse._char_wb_grams(word, ngram_range)) == analyze(word), word


@pytest.mark.parametrize("cells", [1, 7, 64, 2**17])
def test_products_in_blocks_are_scipys(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse as sp

    monkeypatch.setattr(products, "PRODUCT_CELLS", cells)  # one row per block up to one block for all
    rng = np.random.default_rng(cells)
    dense = sp.random(37, 50, density=0.2, random_state=rng).toarray()
    dense[5] = 0.0  # an empty row
    a = sp.csr_matrix(dense)
    b = sp.random(50, 23, density=0.15, format="csr", random_state=rng)
    reference = (a @ b).toarray()
    assert np.array_equal(products.dense_product(a, b), reference)
    best = products.row_max_product(a, b)
    assert np.array_equal(best, reference.max(axis=1, initial=0.0))
    assert best[5] == 0.0


@pytest.mark.parametrize("cells", [1, 100, 2**18])
def test_knn_vote_in_blocks_is_the_vote_of_the_product(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse as sp

    monkeypatch.setattr(products, "PRODUCT_CELLS", cells)
    monkeypatch.setattr(products, "KNN_BLOCK", 8)  # the fast path on a small table too
    rng = np.random.default_rng(cells)
    x = sp.csr_matrix(np.round(sp.random(60, 40, density=0.3, random_state=rng).toarray(), 1))
    by_example = sp.csr_matrix(np.round(sp.random(40, 90, density=0.2, random_state=rng).toarray(), 1))
    labels = np.sort(rng.integers(0, 6, 90))
    sims = products.dense_product(x, by_example)
    expected, got = np.zeros((60, 6)), np.zeros((60, 6))
    found = products.knn_vote(expected, sims, labels)
    best = products.knn_vote_blocks(got, x, by_example, labels)
    assert np.array_equal(got, expected)
    assert np.array_equal(best, sims.max(axis=1) if found is None else found)


@pytest.mark.parametrize("hashes", ["random", "all equal"])
def test_distinct_columns_keep_each_column_once_and_the_row_maxima(
    hashes: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import scipy.sparse as sp

    rng = np.random.default_rng(7)
    if hashes == "all equal":  # every column of a size a candidate: the entry by entry check decides

        class Zeros:
            def random(self, n: int) -> np.ndarray:
                return np.zeros(n)

        monkeypatch.setattr(np.random, "default_rng", lambda seed: Zeros())
    base = np.round(sp.random(30, 12, density=0.3, random_state=rng).toarray(), 1)
    base[:, 3] = 0.0  # an empty column
    twin = base[:, 5].copy()
    twin[np.flatnonzero(twin)[:1]] += 0.1  # the same rows, another value
    dense = np.column_stack([base, base[:, [0, 0, 5, 3, 7]], twin])
    matrix = sp.csr_matrix(dense)
    distinct = products.distinct_columns(matrix)
    kept = {tuple(column) for column in distinct.toarray().T}
    assert kept == {tuple(column) for column in dense.T if column.any()}
    if hashes == "random":  # else equal columns apart in the order may both stay (still correct)
        assert distinct.shape == (30, len(kept))
    queries = sp.csr_matrix(np.round(sp.random(9, 30, density=0.4, random_state=rng).toarray(), 2))
    assert np.array_equal(products.row_max_product(queries, distinct), products.row_max_product(queries, matrix))
