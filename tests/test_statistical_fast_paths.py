"""The statistical router's fast paths give the same bits as their plain references."""

from __future__ import annotations

import numpy as np
import pytest

from lmos_studio.routing import statistical
from lmos_studio.routing.statistical import _knn_vote, _knn_vote_slow


def _votes(sims: np.ndarray, labels: np.ndarray, n_classes: int, *, fast: bool) -> np.ndarray:
    p = np.zeros((sims.shape[0], n_classes))
    if fast:
        _knn_vote(p, sims, labels)
    else:
        _knn_vote_slow(p, sims, labels, np.arange(sims.shape[0]))
    p /= p.sum(axis=1, keepdims=True)
    return p


@pytest.mark.parametrize("examples", [3, 6, 40, 700, 3001])
@pytest.mark.parametrize("n_classes", [1, 2, 7])
def test_knn_vote_matches_argpartition(examples: int, n_classes: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statistical, "KNN_BLOCK", 8)  # small tables take the fast path too
    rng = np.random.default_rng(examples * 10 + n_classes)
    labels = np.sort(rng.integers(0, n_classes, examples))
    sims = rng.random((300, examples)) * (rng.random((300, examples)) < 0.3)  # mostly zeros
    sims[:40] = np.round(sims[:40], 1)  # ties everywhere
    sims[40:60] = 0.0  # nothing in common: zeros tie
    sims[60:80, : examples // 2] = 0.5  # one value repeated
    sims[80:120] = np.where(labels == labels[0], sims[80:120] + 1.0, sims[80:120])  # one class nearest
    fast, slow = _votes(sims, labels, n_classes, fast=True), _votes(sims, labels, n_classes, fast=False)
    assert np.array_equal(fast, slow)


def test_flat_ids_are_ids_one_after_the_other() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from lmos_studio.routing.statistical import _Part
    from lmos_studio.routing.text import normalize

    train = ["cancel my order", "where is my parcel", "refund please", "change my address"]
    texts = [*train, "", "  tabs\tand\nnewlines  ", "a", "cancel cancel parcel", "zzz", "refunds refund"]
    for vectorizer in (
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), preprocessor=normalize, sublinear_tf=True),
        TfidfVectorizer(sublinear_tf=True),
    ):
        part = _Part(vectorizer.fit(train), 0.5, 0)
        for _ in range(2):  # the second time from the per-word cache
            flat, sizes = part.flat_ids(texts)
            assert flat.tolist() == [j for t in texts for j in part.ids(t)]
            assert sizes.tolist() == [len(part.ids(t)) for t in texts]
        assert part.flat_ids([])[0].tolist() == []


@pytest.mark.parametrize("ngram_range", [(2, 5), (1, 1), (1, 3), (3, 5), (4, 4)])
def test_char_wb_grams_are_scikit_learns(ngram_range: tuple[int, int]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyze = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range).build_analyzer()
    rng = np.random.default_rng(sum(ngram_range))
    words = ["a", "ab", "abc", "abcd", "abcde", "x" * 30, "café", "0"]
    words += ["".join(rng.choice(list("abé0"), size=int(rng.integers(1, 9)))) for _ in range(300)]
    for word in words:
        assert list(statistical._char_wb_grams(word, ngram_range)) == analyze(word), word


@pytest.mark.parametrize("cells", [1, 7, 64, 2**17])
def test_products_in_blocks_are_scipys(cells: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse as sp

    monkeypatch.setattr(statistical, "PRODUCT_CELLS", cells)  # one row per block up to one block for all
    rng = np.random.default_rng(cells)
    dense = sp.random(37, 50, density=0.2, random_state=rng).toarray()
    dense[5] = 0.0  # an empty row
    a = sp.csr_matrix(dense)
    b = sp.random(50, 23, density=0.15, format="csr", random_state=rng)
    reference = (a @ b).toarray()
    assert np.array_equal(statistical._product(a, b), reference)
    best = statistical._row_max_product(a, b)
    assert np.array_equal(best, reference.max(axis=1, initial=0.0))
    assert best[5] == 0.0
