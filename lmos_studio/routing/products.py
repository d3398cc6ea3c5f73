"""Sparse products and the kNN vote of the offline statistical router, to the bits of scipy's own kernels.

`dense_product` and `row_max_product` take `a @ b` of two CSR matrices by scipy's `csr_matmat` kernel in one
pass, PRODUCT_CELLS cells at a time into reused buffers (`_one_pass`); `knn_vote` / `knn_vote_blocks` add each
query's KNN_K nearest examples' similarities to their classes, as `np.argpartition` picks them but mostly without
a full selection; `distinct_columns` drops repeated columns; `loo_max_similarity` gives each example's largest
cosine to the others (leave-one-out). Each is tested against its plain numpy/scipy reference
(tests/test_statistical_fast_paths.py). Pure computation; no I/O. What was tried here: docs/routing-research.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from lmos_studio.routing.threshold import loo_picks

try:  # scipy's sparse kernels (private): one-pass products, see `dense_product`
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - another scipy layout: plain `a @ b`
    _sparsetools = None


KNN_K = 5  # neighbours that vote, as lmos-router's vector router (top 5, grouped by agent)
# `knn_vote`: the examples in groups of every (examples // KNN_BLOCK)-th one, KNN_BLOCK per group, whose maxima
# bound the nearest; more than KNN_CANDIDATES similarities at or above a row's bound (ties): the slow way
KNN_BLOCK = 16
KNN_CANDIDATES = 256
# Products (`_one_pass`) taken this many cells at a time (the kernel's output, 1.5 MB, reused block to block).
# Leave-one-out cosines (`loo_max_similarity`) and the "nearer elsewhere" maxima are read from these blocks'
# stored entries (`row_max_product`), each text's own entry zeroed in place: no dense block is filled (session
# 8 took them as dense blocks of 2**17 cells, LOO_CELLS; session 10: loo_fits on train.csv 25.6 → 16.7 ms).
PRODUCT_CELLS = 2**18
# A fit's and a batch's arrays (counts, rows, product blocks, liblinear's copies) are up to a few MB each. glibc's
# malloc maps such a block fresh (pages faulted in, then unmapped) until a freed mapped block has raised its mmap
# threshold to that block's size (and its heap trim threshold to twice it; mallopt(3), up to 32 MB on 64-bit).
# `allocator_warmed` frees one block of this size, untouched, before a process's first fit or batch: later
# arrays come from the heap and reuse its pages. Cold fit on train.csv (8 fresh processes, medians): page faults
# 17 500 → 10 900, CPU 0.545 → 0.473 s (8 MB: 0.527 s). Elsewhere (another allocator) it is a no-op's cost.
ALLOCATOR_WARM_BYTES = 30 * 2**20


@lru_cache(maxsize=1)  # once per process: the thresholds stay raised
def allocator_warmed() -> bool:
    """Raise glibc's mmap and trim thresholds (see ALLOCATOR_WARM_BYTES) by freeing one untouched block."""
    np.empty(ALLOCATOR_WARM_BYTES, dtype=np.uint8)
    return True


def knn_vote(
    p_knn: npt.NDArray[np.float64], sims: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64] | None:
    """Add each row's KNN_K nearest examples' similarities (at least 1e-6) to their classes in `p_knn`, as
    `np.argpartition` picks and orders them (`_knn_vote_slow`), to the same bits but mostly without it: the
    selection is most of the vote's time. A row whose KNN_K nearest are certain (the KNN_K-th similarity above
    the next) and whose sums cannot depend on the order of the votes (all in one class, whose share is then
    exactly 1, or at most two in any class: a + b = b + a) is voted directly; the others as before (rows are
    selected independently: the same picks among fewer rows). The KNN_K + 1 nearest are found among the
    entries at or above the (KNN_K + 1)-th largest of the rows' group maxima (a lower bound of them): the
    examples in groups of KNN_BLOCK, group g holding examples g, g + groups, g + 2 × groups, … (so its maxima
    are an elementwise maximum of KNN_BLOCK contiguous slices, vectorised, not a short reduction per group).

    Returns each row's largest similarity, taken from the group maxima (None where it took the slow way)."""
    q, m = sims.shape
    k = min(KNN_K, m)
    blocks = m // KNN_BLOCK
    if m <= k + 1 or blocks <= k or not q:
        _knn_vote_slow(p_knn, sims, labels, np.arange(q))
        return None
    full = blocks * KNN_BLOCK
    by_block = sims[:, :full].reshape(q, KNN_BLOCK, blocks)  # [row, i, g]: example i × blocks + g (group g)
    maxima = by_block.max(axis=1)
    row_max: npt.NDArray[np.float64] = maxima.max(axis=1)
    if full < m:
        np.maximum(row_max, sims[:, full:].max(axis=1), out=row_max)
    bound = np.partition(maxima, blocks - k - 1, axis=1)[:, blocks - k - 1]
    block_row, block = np.nonzero(maxima >= bound[:, None])  # only these blocks (and the tail) can hold them
    at, within = np.nonzero(by_block[block_row, :, block] >= bound[block_row, None])
    tail_row, tail_col = np.nonzero(sims[:, full:] >= bound[:, None])
    row = np.concatenate([block_row[at], tail_row])
    col = np.concatenate([within * blocks + block[at], tail_col + full])
    per_row = np.bincount(row, minlength=q)
    few = per_row <= KNN_CANDIDATES  # many candidates (ties at the bound): the slow way
    keep = few[row]
    row, col = row[keep], col[keep]
    value = sims[row, col]
    order = np.lexsort((-value, row))  # per row, largest first
    row, col, value = row[order], col[order], value[order]
    starts = np.concatenate([[0], np.cumsum(per_row * few)])[:-1]
    rows = np.flatnonzero(few)
    first = starts[rows][:, None] + np.arange(k + 1)  # each row's k + 1 largest (every row has ≥ k + 1)
    certain = value[first[:, k - 1]] > value[first[:, k]]
    top_labels = np.sort(labels[col[first[:, :k]]], axis=1)
    one_class = top_labels[:, 0] == top_labels[:, -1]
    no_three = ~(top_labels[:, 2:] == top_labels[:, :-2]).any(axis=1)
    direct = certain & (one_class | no_three)
    picked = first[direct, :k]
    votes = np.maximum(value[picked], 1e-6)
    np.add.at(p_knn, (np.repeat(rows[direct], k), labels[col[picked]].ravel()), votes.ravel())
    slow = np.ones(q, dtype=bool)
    slow[rows[direct]] = False
    _knn_vote_slow(p_knn, sims, labels, np.flatnonzero(slow))
    return row_max


def knn_vote_blocks(
    p_knn: npt.NDArray[np.float64], x: sp.csr_matrix, by_example: sp.csr_matrix, labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """`knn_vote` of the similarities `dense_product(x, by_example)`, block by block as `_one_pass` takes the
    product (rows are voted independently: the same bits), each block made dense in one buffer that stays in
    cache instead of the whole q × examples matrix going through memory twice; each row's largest similarity."""
    blocks = _one_pass(x, by_example)
    if blocks is None:
        sims = dense_product(x, by_example)
        found = knn_vote(p_knn, sims, labels)
        return sims.max(axis=1) if found is None else found
    rows, cols = x.shape[0], by_example.shape[1]
    buffer = np.empty((min(rows, max(1, PRODUCT_CELLS // cols)), cols))  # `_one_pass`'s rows per block
    best = np.empty(rows)
    for start, end, indptr, indices, data in blocks:
        block = buffer[: end - start]
        block.fill(0.0)
        _sparsetools.csr_todense(end - start, cols, indptr, indices, data, block)
        found = knn_vote(p_knn[start:end], block, labels)
        best[start:end] = block.max(axis=1) if found is None else found
    return best


def _knn_vote_slow(
    p_knn: npt.NDArray[np.float64], sims: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], rows: Any
) -> None:
    """`knn_vote` of the given rows by `np.argpartition` (the reference)."""
    if not len(rows):
        return
    k = min(KNN_K, sims.shape[1])
    part = sims[rows]
    top = (
        np.argpartition(-part, k - 1, axis=1)[:, :k]
        if part.shape[1] > k
        else np.tile(np.arange(part.shape[1]), (len(rows), 1))
    )
    votes = np.maximum(np.take_along_axis(part, top, axis=1), 1e-6)
    np.add.at(p_knn, (np.repeat(rows, top.shape[1]), labels[top].ravel()), votes.ravel())


def loo_max_similarity(by_text: Any, n_examples: int) -> npt.NDArray[np.float64]:
    """For the first `n_examples` columns of a (features × texts) matrix of unit vectors: each one's largest
    cosine to any other column (leave-one-out), for at most LOO_MAX examples spread evenly."""
    if n_examples == 0 or by_text.shape[1] < 2:
        return np.zeros(0)
    picked = loo_picks(n_examples)
    columns = by_text[:, picked]
    if sp.issparse(by_text):  # TF-IDF (entries ≥ 0): the row maxima of the product, its own entry as 0
        best = row_max_product(sp.csr_matrix(columns.T), sp.csr_matrix(by_text), left_out=picked)
        return np.asarray(np.clip(best, 0.0, 1.0), dtype=np.float64)
    cos = as_dense(columns.T @ by_text)
    cos[np.arange(len(picked)), picked] = -1.0  # leave each one out
    return np.asarray(np.clip(cos.max(axis=1), 0.0, 1.0), dtype=np.float64)


def as_dense(matrix: Any) -> npt.NDArray[np.float64]:
    """A product of sparse and/or dense matrices as a dense float array."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)


def dense_product(a: sp.csr_matrix, b: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """`a @ b` of two CSR matrices as a dense array, by scipy's own `csr_matmat` kernel (so to the same
    bits) but in one pass: `a @ b` first counts the product's entries in a pass as long as the product
    itself, and a query's similarities to the examples are dense anyway. Falls back to `a @ b`."""
    blocks = _one_pass(a, b)
    if blocks is None:
        return as_dense(a @ b)
    rows, cols = a.shape[0], b.shape[1]
    out = np.zeros((rows, cols))
    for start, end, indptr, indices, data in blocks:  # C loop: out[row, indices] += data
        _sparsetools.csr_todense(end - start, cols, indptr, indices, data, out[start:end])
    return out


def distinct_columns(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """`matrix` without its empty columns and with each set of equal columns (the same entries, bit for bit)
    once, as CSR: the columns hashed by two sums of their entries times fixed pseudo-random numbers, sorted by
    size and hashes, and a column dropped only when it equals, entry by entry, the one before it in that order
    (kept, or equal to one kept). On train.csv's `fit_by_text`: 3 028 texts, 2 174 distinct; `fit` of 3 316
    queries 9.4 → 6.4 ms (their products with the texts' words 1 343 → 929 per query)."""
    by_column = matrix.tocsc()  # each column's entries by ascending row: equal columns, equal arrays
    indptr, indices, data = by_column.indptr, by_column.indices, by_column.data
    sizes = np.diff(indptr)
    filled = np.flatnonzero(sizes)
    rng = np.random.default_rng(0)
    spread = rng.random(matrix.shape[0]), rng.random(matrix.shape[0])
    hashes = np.zeros((2, matrix.shape[1]))
    if len(filled):
        hashes[0, filled] = np.add.reduceat(data * spread[0][indices], indptr[filled])
        hashes[1, filled] = np.add.reduceat(spread[1][indices], indptr[filled])
    order = np.lexsort((hashes[1], hashes[0], sizes))
    before, after = order[:-1], order[1:]
    alike = (sizes[before] == sizes[after]) & (hashes[0, before] == hashes[0, after])
    alike &= hashes[1, before] == hashes[1, after]
    pairs = np.flatnonzero(alike & (sizes[after] > 0))
    size = sizes[after[pairs]]
    within = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    left, right = np.repeat(indptr[before[pairs]], size) + within, np.repeat(indptr[after[pairs]], size) + within
    differ = (indices[left] != indices[right]) | (data[left] != data[right])
    equal = np.bincount(np.repeat(np.arange(len(pairs)), size)[differ], minlength=len(pairs)) == 0
    keep = sizes > 0
    keep[after[pairs[equal]]] = False
    return sp.csr_matrix(by_column[:, np.flatnonzero(keep)])


def row_max_product(
    a: sp.csr_matrix, b: sp.csr_matrix, left_out: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.float64]:
    """Each row's largest stored value of `a @ b` (0 for an empty row), the values as `a @ b` stores them
    (the same kernel, the same sums), in one pass (see `dense_product`) without building the matrix.
    `left_out`: per row, a column whose entry counts as 0 (leave-one-out: a text's cosine to itself)."""
    best = np.zeros(a.shape[0])
    blocks = _one_pass(a, b)
    if blocks is None:
        product = (a @ b).tocsr()
        blocks = iter([(0, a.shape[0], product.indptr, product.indices, product.data)])
    for start, end, indptr, indices, data in blocks:
        sizes = np.diff(indptr[: end - start + 1])
        filled = np.flatnonzero(sizes)
        if not len(filled):
            continue
        values = data[: int(indptr[end - start])]
        if left_out is not None:  # the kernel's output is read before the next block: zeroed in place
            values[indices[: len(values)] == np.repeat(left_out[start:end], sizes)] = 0.0
        best[start + filled] = np.maximum.reduceat(values, indptr[filled])
    return best


Block = tuple[int, int, Any, Any, npt.NDArray[np.float64]]  # rows start:end of `a @ b` as (indptr, indices, data)


def _one_pass(a: sp.csr_matrix, b: sp.csr_matrix) -> Iterator[Block] | None:
    """`a @ b` by scipy's `csr_matmat` in one pass, PRODUCT_CELLS cells of it at a time: (start, end, indptr,
    indices, data) of rows start:end, its arrays allocated once for a dense block and reused by the next (read
    each before the next); None where that cannot be (no kernel, empty or too large). Small blocks keep the
    kernel's output in cache and reuse its pages instead of faulting fresh ones in for every product (a chunk
    of 512 queries × 3 000 examples: 18 MB of them)."""
    rows, cols = a.shape[0], b.shape[1]
    kernel = getattr(_sparsetools, "csr_matmat", None) if _sparsetools is not None else None
    if kernel is None or not rows or not cols or a.shape[1] != b.shape[0] or rows * cols > 2**31 - 1:
        return None
    index = np.int32 if max(a.nnz, b.nnz, a.shape[1], rows * cols) < 2**31 - 1 else np.int64
    step = min(rows, max(1, PRODUCT_CELLS // cols))
    a_indptr, a_indices = a.indptr.astype(index, copy=False), a.indices.astype(index, copy=False)
    a_data = np.asarray(a.data, dtype=np.float64)
    b_parts = (b.indptr.astype(index, copy=False), b.indices.astype(index, copy=False))
    b_data = np.asarray(b.data, dtype=np.float64)

    def blocks() -> Iterator[Block]:
        indptr = np.empty(step + 1, dtype=index)
        indices = np.empty(step * cols, dtype=index)
        data = np.empty(step * cols)
        for start in range(0, rows, step):
            end = min(rows, start + step)
            first, last = a_indptr[start], a_indptr[end]
            kernel(
                end - start,
                cols,
                a_indptr[start : end + 1] - first,
                a_indices[first:last],
                a_data[first:last],
                *b_parts,
                b_data,
                indptr,
                indices,
                data,
            )
            yield start, end, indptr, indices, data

    return blocks()
