"""TF-IDF vectors for the offline statistical router, without scikit-learn's per-call checks.

`fit_vectorizer` fits a `TfidfVectorizer`'s vocabulary and idf as scikit-learn's `fit` does (tested), reading
each text once (char n-grams word by word, each distinct word's once) and returning the texts' counts from the
same reading, so a fit's corpus is analysed once. `SparseEncoder` turns texts into rows (sublinear tf × idf,
each part L2-normalised and weighted, then L2 per row) as `TfidfVectorizer.transform` + weighted `hstack` + L2
would, to the same bits, for a whole list at once: each text analysed once per part, then counted and weighted
vectorised over the list (`Counts`). Pure computation; no I/O. Used by routing/statistical.py (the router),
routing/stored.py (a fit as plain data) and the lexicon check.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import lru_cache
from itertools import chain, repeat
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from lmos_studio.routing.text import Lexicon, normalize

Vector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]  # (feature indices, L2-normalised values)
CHAR_WORD_CACHE = 65536  # words whose char n-gram ids an encoder remembers


class EncoderPart:
    """One fitted vectorizer of a `SparseEncoder`: how a text becomes its features' ids and counts."""

    def __init__(self, vectorizer: TfidfVectorizer, weight: float, offset: int) -> None:
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: npt.NDArray[np.float64] = vectorizer.idf_
        self.weight, self.offset = weight, offset
        # A callable analyzer is called as is: scikit-learn's wrapper only decodes bytes and files (we pass str).
        self.analyze: Callable[[str], Sequence[str]] = (
            vectorizer.analyzer
            if callable(vectorizer.analyzer) and vectorizer.input == "content"
            else vectorizer.build_analyzer()
        )
        # char_wb n-grams never cross a word: a text's are its words' in order, so they are looked up word by
        # word and remembered per word (the same ids, in the same order, as the analyzer's; tested).
        self.preprocess: Callable[[str], str] | None = (
            vectorizer.preprocessor if vectorizer.analyzer == "char_wb" and vectorizer.preprocessor else None
        )
        self.ngram_range: tuple[int, int] = vectorizer.ngram_range
        # the words' n-gram ids remembered: those of the fit's corpus handed over by `fit_vectorizer`, more as they come
        found = getattr(vectorizer, "word_grams_", None)
        self.grams: _WordGrams = found if isinstance(found, _WordGrams) else _WordGrams()

    def ids(self, text: str) -> list[int]:
        """The ids of the text's features known to the vocabulary, in the analyzer's order."""
        if self.preprocess is None:
            get = self.vocabulary.get
            return [j for j in map(get, self.analyze(text)) if j is not None]
        return [int(j) for j in self.flat_ids([text])[0]]

    def flat_ids(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """`ids` of each text, one after the other, and how many each text has (char n-grams: gathered from
        the ids remembered per word in one vectorised step, without a Python int per n-gram)."""
        if self.preprocess is None:  # every text's features looked up in one pass, unknown ones (-1) dropped
            analysed = list(map(self.analyze, texts))
            sizes = np.fromiter(map(len, analysed), dtype=np.int64, count=len(analysed))
            found = map(self.vocabulary.get, chain.from_iterable(analysed), repeat(-1))
            ids = np.fromiter(found, dtype=np.int64, count=int(sizes.sum()))
            known = ids >= 0
            if known.all():
                return ids, sizes
            up_to = np.concatenate([[0], np.cumsum(known)])  # known ids before each position
            return ids[known], np.diff(up_to[np.cumsum(sizes)], prepend=0)
        return self.grams.read([self.preprocess(t).split() for t in texts], self._char_wb_ids)

    def _char_wb_ids(self, word: str) -> list[int]:
        """scikit-learn's `_char_wb_ngrams` of one word, as vocabulary ids."""
        get = self.vocabulary.get
        return [j for j in map(get, _char_wb_grams(word, self.ngram_range)) if j is not None]

    def key(self, text: str) -> object:
        """What this part's encoding of a text depends on (texts with equal keys encode alike)."""
        return self.preprocess(text) if self.preprocess is not None else tuple(self.analyze(text))

    def keys(self, texts: Iterable[str]) -> Iterator[object]:
        """`key` of each text, mapped without a Python call per text of its own."""
        if self.preprocess is not None:
            return map(self.preprocess, texts)
        return map(tuple, map(self.analyze, texts))

    @property
    def analysis(self) -> object:
        """Identifies how `key` reads a text: parts with equal `analysis` give equal keys."""
        return ("char_wb", self.preprocess, self.ngram_range) if self.preprocess is not None else self.analyze


@lru_cache(maxsize=CHAR_WORD_CACHE)  # a pure function of the word: every fit and encoder of a process shares it
def _char_wb_grams(word: str, ngram_range: tuple[int, int]) -> tuple[str, ...]:
    """scikit-learn's `_char_wb_ngrams` of one word (padded with spaces), in its order."""
    w = f" {word} "
    grams: list[str] = []
    low, high = ngram_range
    for n in range(low, high + 1):
        if len(w) <= n:  # a short word counts once
            grams.append(w)
            break
        grams += [w[i : i + n] for i in range(len(w) - n + 1)]
    return tuple(grams)


class _WordGrams:
    """Words' char n-gram ids (char_wb n-grams never cross a word: a text's are its words' in order), each
    word's read once and kept in one flat array, so a list of texts' ids are gathered from it in one
    vectorised step. Grows as new words come (started afresh beyond CHAR_WORD_CACHE words); a lock keeps
    it whole when threads share a fitted router."""

    __slots__ = ("flat", "index", "lengths", "lock", "starts")

    def __init__(self) -> None:
        self.index: dict[str, int] = {}  # word → its row
        self.flat = np.zeros(0, dtype=np.int64)  # every row's ids, row after row
        self.starts = np.zeros(0, dtype=np.int64)  # per row: where its ids start in `flat`
        self.lengths = np.zeros(0, dtype=np.int64)  # per row: how many
        self.lock = threading.Lock()

    def _clear(self) -> None:
        self.index = {}
        self.flat, self.starts, self.lengths = (np.zeros(0, dtype=np.int64) for _ in range(3))

    def read(
        self, texts: Sequence[Sequence[str]], ids_of: Callable[[str], list[int]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The ids of each text's words (`ids_of(word)` for a word not seen yet), one text after the other,
        and how many each text has."""
        words = list(chain.from_iterable(texts))
        with self.lock:
            if len(self.index) > CHAR_WORD_CACHE:
                self._clear()
            index = self.index
            new = [w for w in dict.fromkeys(words) if w not in index]
            if new:
                self._add(new, ids_of)
            rows = np.fromiter(map(index.__getitem__, words), dtype=np.int64, count=len(words))
            flat, starts, lengths = self.flat, self.starts, self.lengths
        per_word = lengths[rows]
        ends = np.cumsum(per_word)
        total = int(ends[-1]) if len(ends) else 0
        found = flat[np.repeat(starts[rows] - ends + per_word, per_word) + np.arange(total)]
        words_per_text = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        before = np.concatenate([[0], ends])[np.cumsum(words_per_text)]  # ids up to each text's end
        return found, np.diff(before, prepend=0)

    def _add(self, words: list[str], ids_of: Callable[[str], list[int]]) -> None:
        found = [ids_of(w) for w in words]
        lengths = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        ends = np.cumsum(lengths)
        self.starts = np.concatenate([self.starts, len(self.flat) + ends - lengths])
        self.lengths = np.concatenate([self.lengths, lengths])
        flat = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=int(ends[-1]) if len(ends) else 0)
        self.flat = np.concatenate([self.flat, flat])
        self.index.update(zip(words, range(len(self.index), len(self.index) + len(words)), strict=True))

    def renumbered(self, new_id: npt.NDArray[np.int64]) -> _WordGrams:
        """The same words with each id i as `new_id[i]`."""
        other = _WordGrams()
        other.index, other.starts, other.lengths = self.index, self.starts, self.lengths
        other.flat = new_id[self.flat]
        return other


class Counts(NamedTuple):
    """One part's analysis of a list of texts: per text, its distinct known features by id, with counts."""

    lengths: npt.NDArray[np.int64]  # per text: how many distinct features
    ids: npt.NDArray[np.int64]  # feature ids, text after text, ascending within a text
    tf: npt.NDArray[np.float64]  # each one's count in its text


class SparseEncoder:
    """TF-IDF encoding from fitted vectorizers (sublinear tf, idf, L2 per part, weighted, then L2 overall).

    Equivalent to `TfidfVectorizer.transform` + weighted `hstack` + L2, without its per-call overhead.
    `encode` is the plain one-text reference; `matrix` encodes a list to the same bits: each text analysed
    once per part (char n-grams word by word, remembered per word), then counted and weighted vectorised over
    the list. A row's features are in ascending id order and its sums of squares are taken segment by segment
    (`_row_dots`), so a row's bits never depend on the other texts of the list.
    """

    def __init__(self, parts: Sequence[tuple[TfidfVectorizer, float]]) -> None:
        self.parts: list[EncoderPart] = []
        offset = 0
        for vectorizer, weight in parts:
            self.parts.append(EncoderPart(vectorizer, weight, offset))
            offset += len(vectorizer.vocabulary_)
        self.n_features = offset

    def encode(self, text: str) -> Vector:
        indices: list[npt.NDArray[np.int64]] = []
        values: list[npt.NDArray[np.float64]] = []
        for part in self.parts:
            counts: dict[int, int] = {}
            for feature in part.analyze(text):
                j = part.vocabulary.get(feature)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.array(sorted(counts), dtype=np.int64)
            val = (1.0 + np.log(np.array([counts[j] for j in idx.tolist()], dtype=np.float64))) * part.idf[idx]
            indices.append(idx + part.offset)
            values.append(val * (part.weight / np.sqrt(_dot(val))))
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx, val = np.concatenate(indices), np.concatenate(values)
        return idx, val / np.sqrt(_dot(val))

    def counts(self, texts: Sequence[str]) -> list[Counts]:
        """Per part, each text's feature counts (the analysis `assemble` turns into rows), counted for the
        whole list at once."""
        return [_tally(*part.flat_ids(texts), max(len(part.vocabulary), 1)) for part in self.parts]

    def key(self, text: str) -> tuple[object, ...]:
        return tuple(part.key(text) for part in self.parts)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The texts' rows (as `encode` gives them) as one CSR matrix."""
        return self.assemble(self.counts(texts), len(texts))

    def assemble(self, counts: Sequence[Counts], n: int) -> sp.csr_matrix:
        """Rows from per-part counts: sublinear tf × idf, each part L2-normalised and weighted, then the row.
        Each part's entries are written to their places in the rows (one part: already in place)."""
        lengths = np.array([c.lengths for c in counts], dtype=np.int64).reshape(len(counts), n)
        sizes = lengths.sum(axis=0)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=indptr[1:])
        nnz = int(indptr[-1])
        index = np.int32 if max(nnz, self.n_features) < 2**31 - 1 else np.int64  # what scipy would make of it
        indices: npt.NDArray[np.signedinteger[Any]] = np.empty(nnz, dtype=index)
        data = np.empty(nnz)
        before = np.zeros(n, dtype=np.int64)  # per row: entries of earlier parts
        for part, part_counts, part_lengths in zip(self.parts, counts, lengths, strict=True):
            total = int(part_lengths.sum())
            if not total:
                continue
            idx, tf = part_counts.ids, part_counts.tf
            val = part.idf[idx]
            repeated = np.flatnonzero(tf != 1.0)  # sublinear tf: 1 + log(1) = 1, idf × 1 = idf (the same bits)
            val[repeated] *= 1.0 + np.log(tf[repeated])
            starts = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(part_lengths, out=starts[1:])
            norms = _row_dots(val, starts)
            val *= np.repeat(part.weight / np.sqrt(np.where(part_lengths > 0, norms, 1.0)), part_lengths)
            if total == nnz:  # the only part with entries: its rows are the rows
                np.add(idx, part.offset, out=indices, casting="unsafe")  # ids < n_features: they fit
                data = val
                break
            where = np.repeat(indptr[:-1] + before - starts[:-1], part_lengths)
            where += np.arange(total)
            indices[where] = idx + part.offset
            data[where] = val
            before += part_lengths
        norms = _row_dots(data, indptr)
        data /= np.repeat(np.sqrt(np.where(sizes > 0, norms, 1.0)), sizes)
        return sp.csr_matrix((data, indices, indptr.astype(index)), shape=(n, self.n_features))


def ids_in(word: EncoderPart, parts: Sequence[EncoderPart]) -> npt.NDArray[np.int64]:
    """Per id of `word`'s vocabulary, the id of its term in the one part of `parts` (-1 where it has none);
    empty unless that part reads texts as `word` does and every term of it is one of `word`'s."""
    if len(parts) != 1 or parts[0].analyze != word.analyze or (parts[0].preprocess or word.preprocess) is not None:
        return np.zeros(0, dtype=np.int64)
    get = parts[0].vocabulary.get
    ids = np.fromiter((get(term, -1) for term in word.vocabulary), dtype=np.int64, count=len(word.vocabulary))
    order = np.fromiter(word.vocabulary.values(), dtype=np.int64, count=len(word.vocabulary))
    mapped = np.full(len(word.vocabulary), -1, dtype=np.int64)
    mapped[order] = ids
    kept = mapped[mapped >= 0]
    if len(kept) != len(parts[0].vocabulary) or np.any(np.diff(kept) <= 0):  # all, in the same order
        return np.zeros(0, dtype=np.int64)
    return mapped


def _tally(flat: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64], width: int) -> Counts:
    """The counts of texts whose feature ids (below `width`) are `flat`, `sizes[i]` of them text after text:
    each text's distinct ids ascending, with how often each occurs. One sort of (text, id) keys, 32-bit
    where they fit (about twice as fast, the same order), in place, and the runs' edges (what `np.unique(…,
    return_counts=True)` does, without its copy and its 64-bit index arrays: a fit's char part on train.csv,
    396 000 keys, 7-9 → 6 ms in a fresh process); each text's run found by a binary search and its ids by a
    subtraction (not a division and a modulo per key)."""
    n = len(sizes)
    kind = np.dtype(np.int32) if n * width < 2**31 else np.dtype(np.int64)
    keyed: npt.NDArray[np.signedinteger[Any]] = np.repeat(np.arange(0, n * width, width, dtype=kind), sizes)
    keyed += flat.astype(kind, copy=False)
    if not len(keyed):
        return Counts(np.zeros(n, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    keyed.sort()
    first = np.empty(len(keyed), dtype=bool)  # where each (text, id) run starts
    first[0] = True
    np.not_equal(keyed[1:], keyed[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    unique = keyed[starts]  # each (text, id) once
    tf = np.empty(len(starts))  # its count: the run's length
    np.subtract(starts[1:], starts[:-1], out=tf[:-1], casting="unsafe")  # small integers: exact as floats
    tf[-1] = len(keyed) - starts[-1]
    ends = np.searchsorted(unique, np.arange(1, n + 1, dtype=np.int64) * width)
    lengths = np.diff(ends, prepend=0).astype(np.int64)
    unique -= np.repeat(np.arange(0, n * width, width, dtype=kind), lengths)
    return Counts(lengths, unique.astype(np.int64), tf)


def first_rows(counts: Counts, k: int) -> Counts:
    """The counts of the first `k` texts of a list (as `SparseEncoder.counts` of those texts alone gives them)."""
    end = int(counts.lengths[:k].sum())
    return Counts(counts.lengths[:k], counts.ids[:end], counts.tf[:end])


def head_rows(rows: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """The first `k` rows of a CSR matrix, sharing its arrays (`rows[:k]`, without copying them)."""
    end = int(rows.indptr[k])
    return sp.csr_matrix(
        (rows.data[:end], rows.indices[:end], rows.indptr[: k + 1]), shape=(k, rows.shape[1]), copy=False
    )


def _row_dots(values: npt.NDArray[np.float64], starts: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Each segment's sum of squares (empty → 0), in one vectorised pass: `np.add.reduceat` sums each segment
    on its own, so a row gets the bits `_dot` gives it alone (what `SparseEncoder.encode` uses)."""
    out = np.zeros(len(starts) - 1)
    filled = np.flatnonzero(np.diff(starts))
    if len(filled):
        out[filled] = np.add.reduceat(values * values, starts[filled])
    return out


def _dot(values: npt.NDArray[np.float64]) -> float:
    """A vector's sum of squares, as `_row_dots` takes it for one row."""
    return float(np.add.reduceat(values * values, [0])[0]) if len(values) else 0.0


def fit_vectorizer(vectorizer: TfidfVectorizer, texts: list[str]) -> Counts | None:
    """Fit a vectorizer's vocabulary and idf to what scikit-learn's `fit` gives (vocabulary sorted by term,
    smooth idf computed as `TfidfTransformer` does; tested), reading each text once, char n-grams word by word
    and remembered per word. Texts of stop words only still give a (one-term) vocabulary.

    Returns the texts' counts as the fitted vectorizer's `EncoderPart` gives them (`SparseEncoder.counts`, the same
    ids and counts: tested), taken from the same reading, so a fit's corpus is analysed once; None when there
    are no texts or no terms in them (the one-term vocabulary)."""
    if not texts:
        return None
    found = _analysed(vectorizer, texts)
    if found is None:  # no terms: scikit-learn would raise; one text more gives a one-term vocabulary
        read = _reader(vectorizer)
        df = Counter(chain.from_iterable([*map(set, map(read, texts)), set(read("unknown open create"))]))
        terms = sorted(df)
        _set_idf(vectorizer, terms, np.array([df[t] for t in terms], dtype=np.float64), len(texts) + 1)
        return None
    flat, sizes, seen, grams = found
    terms = sorted(seen)  # the vocabulary: distinct terms, sorted (no key function: a plain string sort)
    vocabulary = dict(zip(terms, range(len(terms)), strict=True))
    rank = np.fromiter(map(vocabulary.__getitem__, seen), dtype=np.int64, count=len(seen))  # provisional → term id
    if grams is not None:  # the corpus's words' n-grams, for this vectorizer's `EncoderPart` (all in its vocabulary)
        vectorizer.word_grams_ = grams.renumbered(rank)
    width = len(seen)
    counted = _tally(rank[flat], sizes, width)  # each (text, term) once, with its count
    _set_idf(vectorizer, terms, np.bincount(counted.ids, minlength=width).astype(float), len(texts), vocabulary)
    return counted


def _set_idf(
    vectorizer: TfidfVectorizer,
    terms: list[str],
    df: npt.NDArray[np.float64],
    n_docs: int,
    vocabulary: dict[str, int] | None = None,
) -> None:
    """A vectorizer's vocabulary (`terms`, sorted; `vocabulary`: term → index in `terms`, when the caller has
    it) and smooth idf from each term's document frequency."""
    df += 1.0  # smooth: one more document has all
    idf = np.full_like(df, n_docs + 1, dtype=np.float64)
    idf /= df
    np.log(idf, out=idf)
    idf += 1.0
    vectorizer.vocabulary_ = dict(zip(terms, range(len(terms)), strict=True)) if vocabulary is None else vocabulary
    vectorizer.idf_ = idf


def _analysed(
    vectorizer: TfidfVectorizer, texts: list[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], list[str], _WordGrams | None] | None:
    """Each text's terms as provisional ids (in order of first sight), one text after the other, how many
    each text has, the terms by provisional id and, for char n-grams, the words' n-grams by provisional id;
    None when the texts have no terms. Char n-grams are read word by word: each distinct word's once."""
    grams = None
    if vectorizer.analyzer == "char_wb" and vectorizer.preprocessor:
        preprocess, ngram_range = vectorizer.preprocessor, vectorizer.ngram_range
        by_text = [preprocess(text).split() for text in texts]
        distinct = list(dict.fromkeys(chain.from_iterable(by_text)))  # each word once, in order of first sight
        per_word = [_char_wb_grams(word, ngram_range) for word in distinct]
        ids = _first_sight(per_word)
        grams = _WordGrams()
        grams.index = dict(zip(distinct, range(len(distinct)), strict=True))
        grams.lengths = np.fromiter(map(len, per_word), dtype=np.int64, count=len(per_word))
        grams.starts = np.cumsum(grams.lengths) - grams.lengths
        grams.flat = np.fromiter(
            map(ids.__getitem__, chain.from_iterable(per_word)), dtype=np.int64, count=int(grams.lengths.sum())
        )
        flat, sizes = grams.read(by_text, _known_only)  # every word is in the table: gathered, none added
    else:
        found = list(map(_reader(vectorizer), texts))
        ids = _first_sight(found)
        sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
        flat = np.fromiter(map(ids.__getitem__, chain.from_iterable(found)), dtype=np.int64, count=int(sizes.sum()))
    if not ids:
        return None
    return flat, sizes, list(ids), grams


def _known_only(word: str) -> list[int]:
    """`_WordGrams.read`'s reader of new words where every word is known already (never called)."""
    raise KeyError(word)


def _first_sight(lists: Sequence[Sequence[str]]) -> dict[str, int]:
    """Each distinct string of the lists → its number in order of first sight (one pass in C, no Python loop)."""
    seen = dict.fromkeys(chain.from_iterable(lists))
    return dict(zip(seen, range(len(seen)), strict=True))


def joined_counts(first: Counts, then: Counts) -> Counts:
    """The counts of two lists of texts, one after the other (as `SparseEncoder.counts` of both gives them)."""
    return Counts(*(np.concatenate([a, b]) for a, b in zip(first, then, strict=True)))


def _reader(vectorizer: TfidfVectorizer) -> Callable[[str], Sequence[str]]:
    """The vectorizer's analyzer: a callable one as is, char_wb n-grams word by word (remembered per word)."""
    if vectorizer.analyzer == "char_wb" and vectorizer.preprocessor:
        preprocess, ngram_range = vectorizer.preprocessor, vectorizer.ngram_range

        def grams(text: str) -> list[str]:
            found: list[str] = []
            for word in preprocess(text).split():
                found += _char_wb_grams(word, ngram_range)
            return found

        return grams
    if callable(vectorizer.analyzer) and vectorizer.input == "content":
        return vectorizer.analyzer  # type: ignore[no-any-return]
    return vectorizer.build_analyzer()  # type: ignore[no-any-return]


def word_vectorizer(lexicon: Lexicon) -> TfidfVectorizer:
    """The (unfitted) vectorizer of the model's word part and of the zero-shot descriptions: stemmed words,
    bigrams and `lexicon`'s concepts, sublinear tf."""
    return TfidfVectorizer(analyzer=lexicon.word_features, sublinear_tf=True)


def char_vectorizer(lexicon: Lexicon) -> TfidfVectorizer:
    """The (unfitted) vectorizer of the model's char part: char n-grams within words (any lexicon)."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=normalize)
