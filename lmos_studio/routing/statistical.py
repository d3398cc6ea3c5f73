"""The offline statistical router: TF-IDF (stemmed words + char n-grams), a linear model, kNN and
description matching, blended by how many examples the table has. No model download, scikit-learn only.

Three signals, each a probability over (agent, capability) classes:
* a linear SVM over examples and descriptions plus synonym-swapped copies of them (so it learns that
  "refund" and "money back" mean the same; class centroids for very large tables), its decision values
  turned into probabilities by a softmax; from SVM_AGENT_ROWS rows on it tells agents apart and the
  per-agent capability models split each agent's probability among its capabilities,
* a top-k nearest-example vote, as lmos-router's vector router does (exact on near-duplicates),
* zero-shot description matching (capability and agent names and descriptions, with a synonym lexicon),
  which carries the answer when a class has few or no examples.
Agents are ranked by the sum of their classes' probabilities; within the chosen agent, a per-agent model of
its own capabilities has half the say in which capability is shown (routing/capability.py), and, given an
embedder (`StatisticalRouter(embedder=…)`), the queries' sentence embeddings most of it (`CapabilityCentroids`);
without one, static word vectors (MiniLM's input token table) a share that fades with examples (`StaticCentroids`).
The same static vectors have a say among agents too, on small tables (`StaticCentroids.ranked`: a share of the
class probabilities that fades with examples per class; none beyond 27): "cover for my vehicle" reaches the
policy agent though it shares no word with it.
"No agent fits" has two signals (routing/threshold.py): the `fit` threshold (`FittedStatistical`; on tables with
examples, at most 27 per class, `fit` is the larger of the TF-IDF fit and a static one from the same static word
vectors, `StaticCentroids.soft_fit`) and "nearer elsewhere" in the kNN vote's TF-IDF space (`keep_services`).
Queries are encoded without scikit-learn's per-call validation (see `SparseEncoder`): one route is a few
dictionary look-ups and small matrix products. `route_batch` (eval, whatif, diff, routing tests, the
Evaluate page) analyses each distinct query once, scores the distinct ones together and ranks them in one
vectorised step, and leaves evidence to be computed when it is read; its answers are `route`'s, bit for
bit (tests/test_routing_batch.py, with a golden of answers). What a batch still costs is mostly the kNN
similarity over word and char n-gram vectors (one sparse product per chunk), without the stop n-grams of
large tables (KNN_STOP_SHARE); the vote picks the nearest examples without a full selection where they are
certain (`_knn_vote`, the same bits as `np.argpartition`'s picks).
A fit analyses each text once (the reading that fits a vocabulary also counts the examples' and descriptions'
features; they give their rows, the synonym copies' and the `fit` matrix) and fits its SVMs through liblinear
directly (routing/linear.py, LinearSVC's weights bit for bit, large ones at liblinear's own dual tolerance);
the lexicon check's fold fits skip what only evidence and "no agent fits" use, and fit no SVMs (CHECK_MODELS in
routing/lexicon.py: the kNN vote and description matching alone). What a fit still costs is mostly liblinear
itself: the SVM over examples and synonym copies with char n-grams (over agents on large tables,
SVM_AGENT_ROWS) and the per-agent SVMs, then the text analysis (benchmarks/batch.py reports the parts).

What was tried and measured here, session by session, adopted or not: docs/routing-research.md
(`routing/statistical.py`).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.model import message_key
from lmos_studio.routing.base import Match, RouteResult, RoutingTable, listed_texts
from lmos_studio.routing.capability import (
    SIBLING_MAX_CLASSES,
    CapabilityCentroids,
    SiblingModels,
    StaticCentroids,
    capability_scores,
    fit_siblings,
    sibling_softmax,
    soft_fit_on,
)
from lmos_studio.routing.lexicon import CHECK_MODELS, CHECK_TOL, Held, LexiconChoice, choose_lexicon, setting_of
from lmos_studio.routing.linear import LOOSE_TOL, svm_fit
from lmos_studio.routing.text import Lexicon, normalize
from lmos_studio.routing.threshold import (
    GENERIC_SHARE,
    STATISTICAL_ELSEWHERE_FLOOR,
    STATISTICAL_ELSEWHERE_LOO,
    STATISTICAL_ELSEWHERE_MARGIN,
    STATISTICAL_SERVICE_KEEP_BELOW,
    elsewhere_limit,
    loo_picks,
    no_match_threshold,
    off_topic_messages,
    other_services,
    services_kept,
)
from lmos_studio.routing.training import TrainingSet, rank_agents_batch, training_set

if TYPE_CHECKING:
    from lmos_studio.routing.encoder import Embedder

try:  # scipy's sparse kernels (private): one-pass products, see `_product`
    from scipy.sparse import _sparsetools
except ImportError:  # pragma: no cover - another scipy layout: plain `a @ b`
    _sparsetools = None

KNN_K = 5  # neighbours that vote, as lmos-router's vector router (top 5, grouped by agent)
# `_knn_vote`: the examples in groups of every (examples // KNN_BLOCK)-th one, KNN_BLOCK per group, whose maxima
# bound the nearest; more than KNN_CANDIDATES similarities at or above a row's bound (ties): the slow way
KNN_BLOCK = 16
KNN_CANDIDATES = 256
# The kNN vote's similarity leaves out "stop n-grams": words in more than KNN_STOP_SHARE of the examples, char
# n-grams in more than KNN_STOP_SHARE_CHAR, and in either case in more than KNN_STOP_MIN examples (tables of at
# most 100 examples keep them all; the SVM, the fit and the evidence keep them always). They make every example
# a little similar to every query, say little about which one is nearest (lowest idf) and are most of the
# product's work: on the 3 000 lmos-router examples they are 5 % of the 11 000 features and 94 % of the
# multiply-adds. Chosen on dev data (lmos-router 5-fold seeded and 5 per intent, informal-dev, dev networks),
# where they cost no accuracy; words at 0.05 lost a query of informal-dev, char n-grams at 0.03 one without
# the lexicon.
KNN_STOP_SHARE = 0.1
KNN_STOP_SHARE_CHAR = 0.05
KNN_STOP_MIN = 100
AUGMENT = True  # train the SVM on synonym-swapped copies of examples and descriptions too
AUGMENT_WEIGHT = 1.0  # sample weight of a synonym-swapped copy
KNN_SHARE = 0.35  # share of the example-based weight that goes to the kNN vote (the rest: the SVM)
WORD_WEIGHT = 0.5  # weights of the parts of the joint vector: stemmed words, bigrams and concepts,
CHAR_WEIGHT = 0.5  # and char n-grams (typos, inflections)
SVM_C = 1.0  # liblinear's default regularisation
SVM_MAX_CLASSES = 150  # more classes: class centroids instead of one-vs-rest SVMs (fit time, memory)
# From SVM_AGENT_ROWS rows (examples, descriptions and synonym copies) on, the model's SVM tells agents apart
# and the per-agent capability models (routing/capability.py, fitted anyway) split each agent's probability
# among its capabilities: one-vs-rest over agents instead of classes, the SVM's cost divided by about
# classes / agents where it is the largest part of a fit (lmos-router train.csv: 28 classes, 11 agents, SVM
# time ÷ 2). On dev data it did as well or better there (lmos-router seeded agent .998 → .999, informal-dev
# seeded .943 → .962); below that size, where the class SVM costs little, it did worse on the six dev
# networks (3 examples per class: 4 of 241 queries' agents lost), so small tables keep the class SVM.
SVM_AGENT_ROWS = 1000
# The agent SVM (SVM_AGENT_ROWS) reads char n-grams of SVM_AGENT_GRAMS characters only (a word's edge counts:
# "wb" grams are padded with spaces): 2-grams are few features but in every word of every row, and liblinear's
# time goes with the nonzeros (lmos-router train.csv seeded: 2-grams 515 of 11 242 features but 31 % of the
# 729 000 nonzeros, 5-grams 15 %; agent SVM 0.22 → 0.14 s at load 2). The kNN vote, description matching, `fit`,
# the per-agent models and small tables' class SVM keep them all. Session 10, dev data only
# (benchmarks/statistical_fit_dev.py, statistical_dev.py, capability_dev.py, lexicon_check_dev.py): the same
# figures but lmos-router seeded with the lexicon (agent .9987 → .9983, capability .9955 → .9952: 1 of 2 996);
# (3, 5) did as well (1 of 2 996 lost without the lexicon) for −25 % of the SVM's time instead of −38 %; (4, 5)
# lost more (lmos-router seeded agent .9987 → .9973, informal-dev seeded without the lexicon .7547 → .7358), as
# did the per-agent models without 2-grams (informal-dev seeded capability .7647 → .7255).
SVM_AGENT_GRAMS = (3, 4)
# Where the SVM tells agents apart (SVM_AGENT_ROWS), the per-agent capability models stop at liblinear's own dual
# tolerance too (LOOSE_TOL, routing/linear.py; smaller tables keep `svm_fit`'s by size). Session 10, dev data
# only: lmos-router seeded and informal-dev seeded figures (statistical_fit_dev.py) and statistical_dev.py the
# same to the 4th decimal; the "seeded" golden's top answers the same, 4 of its 131 queries show another
# capability for an agent ranked below at a score of 0.002 or less; per-agent SVMs of a cold fit on train.csv
# 0.069 → 0.047 s.
SIBLING_LOOSE = True
CENTROID_TEMPERATURE = 12.0  # softmax sharpness over cosine similarities to class centroids
SVM_TEMPERATURE = 8.0  # softmax sharpness over SVM decision values (margins are about ±1)
ZERO_SHOT_SVM = 0.3  # without examples, weight of the SVM trained on descriptions (+ synonym copies)
ZERO_SHOT_TEMPERATURE = 12.0  # softmax sharpness over description cosine similarities
EVIDENCE_EXAMPLES = 2  # nearest examples quoted per agent
EVIDENCE_TERMS = 4  # shared terms quoted per agent
BATCH_CHUNK = 512  # queries scored together (bounds the queries × examples similarity matrix)
# Products (`_one_pass`) taken this many cells at a time (the kernel's output, 1.5 MB, reused block to block).
# Leave-one-out cosines (`loo_max_similarity`) and the "nearer elsewhere" maxima are read from these blocks'
# stored entries (`_row_max_product`), each text's own entry zeroed in place: no dense block is filled (session
# 8 took them as dense blocks of 2**17 cells, LOO_CELLS; session 10: loo_fits on train.csv 25.6 → 16.7 ms).
PRODUCT_CELLS = 2**18
EVIDENCE_BLOCK = 64  # routed queries whose evidence is computed together, when one of them is read
# A fit's and a batch's arrays (counts, rows, product blocks, liblinear's copies) are up to a few MB each. glibc's
# malloc maps such a block fresh (pages faulted in, then unmapped) until a freed mapped block has raised its mmap
# threshold to that block's size (and its heap trim threshold to twice it; mallopt(3), up to 32 MB on 64-bit).
# `_allocator_warmed` frees one block of this size, untouched, before a process's first fit or batch: later
# arrays come from the heap and reuse its pages. Cold fit on train.csv (8 fresh processes, medians): page faults
# 17 500 → 10 900, CPU 0.545 → 0.473 s (8 MB: 0.527 s). Elsewhere (another allocator) it is a no-op's cost.
ALLOCATOR_WARM_BYTES = 30 * 2**20

Vector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]  # (feature indices, L2-normalised values)
# `FittedStatistical._score`: (class scores, kNN similarities, fit, capability pick, elsewhere, nearest service)
Scored = tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
]


@lru_cache(maxsize=1)  # once per process: the thresholds stay raised
def _allocator_warmed() -> bool:
    """Raise glibc's mmap and trim thresholds (see ALLOCATOR_WARM_BYTES) by freeing one untouched block."""
    np.empty(ALLOCATOR_WARM_BYTES, dtype=np.uint8)
    return True


def _softmax(values: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    e = np.exp((values - values.max()) * temperature)
    return np.asarray(e / e.sum(), dtype=np.float64)


def blend_weights(examples_per_class: float) -> tuple[float, float, float]:
    """(linear model, kNN, description) weights: descriptions fade as examples per class grow."""
    if examples_per_class <= 0:
        return ZERO_SHOT_SVM, 0.0, 1.0 - ZERO_SHOT_SVM
    description = 1.0 / (1.0 + examples_per_class / 3.0)  # 5 per class → 0.375, 100 → 0.03
    knn = KNN_SHARE * (1.0 - description)
    return 1.0 - description - knn, knn, description


CHAR_WORD_CACHE = 65536  # words whose char n-gram ids an encoder remembers


class _Part:
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
        # the words' n-gram ids remembered: those of the fit's corpus handed over by `_fit`, more as they come
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


Ranked = tuple[tuple[str, str, float], ...]  # a query's (agent, capability, score), best first (`rank_agents_batch`)


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
        self.parts: list[_Part] = []
        offset = 0
        for vectorizer, weight in parts:
            self.parts.append(_Part(vectorizer, weight, offset))
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


def _ids_in(word: _Part, parts: Sequence[_Part]) -> npt.NDArray[np.int64]:
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


def _first_rows(counts: Counts, k: int) -> Counts:
    """The counts of the first `k` texts of a list (as `SparseEncoder.counts` of those texts alone gives them)."""
    end = int(counts.lengths[:k].sum())
    return Counts(counts.lengths[:k], counts.ids[:end], counts.tf[:end])


def _head(rows: sp.csr_matrix, k: int) -> sp.csr_matrix:
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


class _EvidenceBlock:
    """The evidence of up to EVIDENCE_BLOCK routed queries, computed for all of them when one of their
    matches' `evidence` is first read: their cosine similarities to the examples are taken in one product
    (rows are scored independently: the same bits in any block), then dropped."""

    __slots__ = ("found", "router", "wanted")

    def __init__(self, router: FittedStatistical) -> None:
        self.router = router
        self.wanted: list[tuple[str, Ranked]] = []  # (query, its ranked matches)
        self.found: list[dict[str, tuple[str, ...]]] | None = None

    def __len__(self) -> int:
        """Queries registered so far."""
        return len(self.wanted)

    def add(self, query: str, ranked: Ranked) -> Callable[[str], tuple[str, ...]]:
        """Register a query with its ranked (agent, capability, score); returns `of(agent)` for its matches."""
        self.wanted.append((query, ranked))
        return partial(self._of, len(self.wanted) - 1)

    def _of(self, row: int, agent: str) -> tuple[str, ...]:
        if self.found is None:
            queries = [query for query, _ in self.wanted]
            sims = self.router.similarities(queries)
            self.found = [
                self.router.evidence(query, sims[i], [a for a, _, _ in ranked])
                for i, (query, ranked) in enumerate(self.wanted)
            ]
            self.wanted = []
        return self.found[row][agent]


@dataclass
class FittedStatistical:
    """The statistical router fitted on one routing table.

    Its `fit` for "no agent fits" is the TF-IDF cosine (stemmed words, bigrams and lexicon concepts, no char
    n-grams) between the query and the nearest example or description of the channel, in [0, 1], leaving out
    generic words: those in at least `GENERIC_SHARE` of the general off-topic messages of
    routing/off_topic.txt ("what", "get"), which alone make "what's the weather" look like "what's the fee";
    with `static_fit`, the static fit where that is larger (routing/threshold.py, STATIC_FIT_SCALE). `fit_of`
    is the TF-IDF fit alone.
    """

    data: TrainingSet
    encoder: SparseEncoder
    features_by_example: sp.csr_matrix  # (features × examples): column i = example i's vector
    knn_by_example: sp.csr_matrix  # the same without stop n-grams (`without_stop_ngrams`): the kNN vote's
    coef: npt.NDArray[np.float64] | sp.csr_matrix | None  # (features × model classes); None: < 2 classes
    intercept: npt.NDArray[np.float64]
    model_classes: npt.NDArray[np.int64]  # class index of each column of `coef`
    temperature: float  # softmax sharpness over the linear model's decision values
    zero_shot: SparseEncoder
    descriptions_by_feature: sp.csr_matrix  # (zero-shot features × classes)
    weights: tuple[float, float, float]
    # per agent, its terms → rank (0 = most distinctive); None until evidence is first read (`terms`)
    agent_terms: dict[str, dict[str, int]] | None
    lexicon: Lexicon
    fit_encoder: SparseEncoder  # word-level TF-IDF of `fit`
    fit_by_text: sp.csr_matrix  # (fit features × texts): examples then descriptions
    fit_weights: npt.NDArray[np.float64] | None = None  # per fit feature: 0 for a generic word, else 1
    off_topic_by_feature: sp.csr_matrix | None = None  # the off-topic messages as `fit` sees them (rows)
    loo: npt.NDArray[np.float64] | None = None  # `loo_fits()`, once computed
    threshold: float | None = None  # no agent below it (see `no_match_threshold`)
    lexicon_choice: LexiconChoice = field(default_factory=lambda: LexiconChoice("customer-service", True))
    siblings: SiblingModels | None = None  # per-agent capability models (routing/capability.py)
    descriptions_knn: sp.csr_matrix | None = None  # (features × classes) as `knn_by_example`: "elsewhere"
    services_knn: sp.csr_matrix | None = None  # (features × kept service messages) as `knn_by_example`
    service_texts: tuple[str, ...] = ()  # … and their texts (evidence)
    listed: frozenset[str] = frozenset()  # the design's out-of-scope messages, casefolded (`listed_texts`)
    elsewhere_limit: float | None = None  # no agent above it (see `keep_services`); None: the signal is off
    name: str = "statistical"
    agent_model: bool = False  # the SVM's columns are agents, split by `siblings` (see SVM_AGENT_ROWS)
    centroids: CapabilityCentroids | None = None  # the embedded within-agent opinion (given an embedder)
    # the static word vector opinions (capability.py, `_static`): within the agent without an embedder
    # (static_pick) and among agents (static_agents, STATIC_AGENT_SHARE); False: none (no table, nothing to
    # choose, a share below STATIC_MIN_SHARE, a fit of the lexicon check's folds, the embedding router's part)
    static: StaticCentroids | None = None
    static_pick: bool = True
    static_agents: bool = True
    # the static fit (`StaticCentroids.soft_fit`, routing/threshold.py STATIC_FIT_SCALE): `fit` is the larger of
    # the TF-IDF fit and it; False: none (not asked for, no examples, more than 27 per class, no table)
    static_fit: bool = True
    # per model word id, the zero-shot id of its term (-1: none); empty when not all map (`_zero_shot_counts`)
    zero_shot_ids: npt.NDArray[np.int64] | None = field(default=None, repr=False)
    # (`fit_by_text`, it without repeated or empty columns: `_distinct_columns`), when `fit` is first taken on it
    fit_by_distinct: tuple[sp.csr_matrix, sp.csr_matrix] | None = field(default=None, repr=False, compare=False)

    def class_scores(self, query: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(blended class probabilities, the kNN vote's similarity of the query to every example)."""
        scores, sims, _ = self.score_batch([query])
        return scores[0], sims[0]

    def score_batch(
        self, queries: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """For a list of queries at once: (class probabilities q×classes, the kNN vote's similarity to the
        examples q×examples (cosine without stop n-grams, see KNN_STOP_SHARE), fit q). Sparse matrix
        products over the whole list; no per-query model calls. Each query is analysed once: the model's word
        part and the `fit` encoder share the same counts."""
        scores, sims, fit, *_ = self._score(queries)
        return scores, sims, fit

    def _score(self, queries: Sequence[str], *, similarities: bool = True) -> Scored:
        """`score_batch` plus what picks the capability within an agent (routing/capability.py) and the
        "nearer elsewhere" values with the nearest kept service message (`_elsewhere`). `similarities=False`
        (what `route_batch` reads): the kNN similarities are taken and voted on block by block
        (`_knn_vote_blocks`) and not returned (q × 0)."""
        n, q = len(self.data.classes), len(queries)
        w_svm, w_knn, w_zs = self._weights()
        p_svm, p_knn = np.zeros((q, n)), np.zeros((q, n))
        # The kNN similarities: the product below when there are examples (not allocated and zeroed first).
        sims = np.zeros((q, 0 if w_svm or w_knn else len(self.data.texts)))
        fit_counts = None
        zs_counts = None
        x = None
        softmaxes: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] | None = None
        sims_max = None  # each row's largest kNN similarity (None: no examples)
        if w_svm or w_knn:
            counts = self.encoder.counts(queries)
            x = self.encoder.assemble(counts, q)
            if self._fit_shares_words():
                fit_counts = counts[:1]
            if w_zs:
                zs_counts = self._zero_shot_counts(counts[0]) if self.encoder.parts else None
            empty = np.diff(x.indptr) == 0
            if len(self.data.texts) and (similarities or not w_knn):
                sims = _product(x, self.knn_by_example)
            # the per-agent models' softmaxes, once: the agent model's P(class | agent) and the capability pick
            if self.siblings is not None:
                softmaxes = list(sibling_softmax(self.siblings, x))
            if w_svm and self.coef is not None and self.agent_model:  # P(agent) × P(class | agent)
                decision = _dense(x @ self.coef) + self.intercept
                p_agent = np.zeros((q, len(self.data.agents)))
                p_agent[:, self.model_classes] = _softmax_rows(decision, self.temperature)
                p_svm = p_agent[:, self.data.agent_index()] * _within_agent(softmaxes, q, self.data)
                p_svm[empty] = 1.0 / n
            elif w_svm and self.coef is not None:
                decision = _dense(x @ self.coef) + self.intercept
                p_svm[:, self.model_classes] = _softmax_rows(decision, self.temperature)
                p_svm[empty] = 0.0
                p_svm[np.ix_(empty, self.model_classes)] = 1.0 / len(self.model_classes)
            elif w_svm:
                p_svm[:, self.model_classes] = 1.0 / len(self.model_classes)
            if w_knn and sims.shape[1]:  # the similarities taken above
                found = _knn_vote(p_knn, sims, self.data.labels)
                sims_max = sims.max(axis=1) if found is None else found
            elif w_knn:  # examples (the kNN share is theirs): voted block by block
                sims_max = _knn_vote_blocks(p_knn, x, self.knn_by_example, self.data.labels)
            elif sims.shape[1]:
                sims_max = sims.max(axis=1)
            if w_knn:
                p_knn /= p_knn.sum(axis=1, keepdims=True)
        scores = w_svm * p_svm + w_knn * p_knn
        if w_zs:
            z = self.zero_shot.matrix(queries) if zs_counts is None else self.zero_shot.assemble([zs_counts], q)
            similarity = _dense(z @ self.descriptions_by_feature)
            scores += w_zs * _softmax_rows(similarity, ZERO_SHOT_TEMPERATURE)
        if fit_counts is None:
            fit_counts = self.fit_encoder.counts(queries)
        fit = self._max_fit(self._weighted_fit(self.fit_encoder.assemble(fit_counts, q)))
        static = self._static()
        static_queries = None if static is None else static.query_vectors(queries)
        if static is not None and static_queries is not None:  # the static opinion among agents, the static fit
            cosines = static.agent_cosines(static_queries)
            if self.static_agents:
                scores = static.ranked(static_queries, scores, cosines)
            if self.static_fit:
                fit = static.soft_fit(fit, cosines)
        pick = scores if x is None else capability_scores(self.siblings, x, scores, softmaxes=softmaxes)
        if self.centroids is not None:
            pick = self.centroids.mixed(list(queries), pick)
        elif self.static_pick and static is not None and static_queries is not None and x is not None:
            pick = static.mixed_vectors(static_queries, pick)
        elsewhere, nearest = self._elsewhere(x, sims_max)
        return scores, sims, fit, pick, elsewhere, nearest

    def _static(self) -> StaticCentroids | None:
        """The static word vector opinions (routing/capability.py), built when first scored (a stored fit
        rebuilds them from the table); None, with `static_pick`, `static_agents` and `static_fit` turned off,
        when there are none (none wanted, nothing to choose, shares below STATIC_MIN_SHARE, or no table)."""
        pick = self.static_pick and self.centroids is None  # an embedder's opinion replaces the static pick
        if self.static is None and (pick or self.static_agents or self.static_fit):
            self.static = StaticCentroids.fit(self.data, pick=pick, agents=self.static_agents, soft=self.static_fit)
            if self.static is None:
                self.static_pick = self.static_agents = self.static_fit = False
        if self.static is not None and not self.static.soft:
            self.static_fit = False
        return self.static

    def _elsewhere(
        self, x: sp.csr_matrix | None, sims_max: npt.NDArray[np.float64] | None
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Per query (rows of `x`, `sims_max` its largest kNN similarity to an example, None without
        examples): cosine to the nearest kept service message − cosine to the channel's nearest example or
        description, in the kNN vote's space, and which message is nearest; empty when the signal is off."""
        if x is None or self.services_knn is None or self.descriptions_knn is None:
            return np.zeros(0), np.zeros(0, dtype=np.int64)
        own = _product(x, self.descriptions_knn).max(axis=1, initial=0.0)
        if sims_max is not None:
            own = np.maximum(own, sims_max)
        to_services = _product(x, self.services_knn)
        return to_services.max(axis=1) - own, np.asarray(to_services.argmax(axis=1), dtype=np.int64)

    def keep_services(self, examples: sp.csr_matrix, out_of_scope: Sequence[str]) -> None:
        """Turn the "nearer elsewhere" signal on (routing/threshold.py), in the kNN vote's space: keep the
        service messages (routing/other_services.txt) nearer to another service message than to the channel's
        nearest example or description, plus the design's out-of-scope examples; the limit comes from the
        examples' own `elsewhere` against the packaged messages kept (the design's own only when none is),
        each left out (at most STATISTICAL_ELSEWHERE_LOO of them). `examples`:
        the examples' rows (examples × features). Off without examples."""
        if not len(self.data.texts) or not self.encoder.n_features:
            return
        keep = _kept_features(self.features_by_example, self.knn_by_example)
        self.descriptions_knn = _masked(self.encoder.matrix(self.data.descriptions), keep).T.tocsr()
        texts = other_services()
        services = self.encoder.matrix(texts)
        services_knn = _masked(services, keep).T.tocsr()
        # Cosines here are ≥ 0 (TF-IDF): a row's largest stored product entry is its largest cosine (0 for none).
        to_channel = np.maximum(
            _row_max_product(services, self.knn_by_example),
            _product(services, self.descriptions_knn).max(axis=1, initial=0.0),
        )
        pairwise = _product(services, services_knn)
        np.fill_diagonal(pairwise, -1.0)
        picked = loo_picks(len(self.data.texts), STATISTICAL_ELSEWHERE_LOO)
        left_out = examples[picked]
        loo_own = np.maximum(  # each one left out: its own entry as 0 (the maximum with the descriptions' ≥ 0)
            _row_max_product(left_out, self.knn_by_example, left_out=picked),
            _product(left_out, self.descriptions_knn).max(axis=1, initial=0.0),
        )
        kept = services_kept(
            to_channel, np.clip(loo_own, 0.0, 1.0), pairwise.max(axis=1), keep_below=STATISTICAL_SERVICE_KEEP_BELOW
        )
        kept_knn = services_knn[:, np.flatnonzero(kept)]
        if out_of_scope:
            kept_knn = sp.hstack([kept_knn, _masked(self.encoder.matrix(out_of_scope), keep).T]).tocsr()
        self.service_texts = tuple(t for t, k in zip(texts, kept, strict=True) if k) + tuple(out_of_scope)
        if not self.service_texts:
            return
        self.services_knn = kept_knn.tocsr()
        # the limit from the packaged messages kept, not the design's own (see FittedEmbedding.keep_services)
        packaged = self.services_knn[:, : int(kept.sum())].tocsr() if out_of_scope and kept.any() else self.services_knn
        loo_elsewhere = _product(left_out, packaged).max(axis=1) - loo_own
        self.elsewhere_limit = elsewhere_limit(
            loo_elsewhere, margin=STATISTICAL_ELSEWHERE_MARGIN, floor=STATISTICAL_ELSEWHERE_FLOOR
        )

    def _weights(self) -> tuple[float, float, float]:
        """The blend weights (model, kNN, descriptions) as this table can use them."""
        w_svm, w_knn, w_zs = self.weights
        if self.coef is None:  # one class or no model: the kNN vote takes the model's share
            w_svm, w_knn = 0.0, w_svm + w_knn
        if not len(self.data.texts):  # no examples: descriptions take the kNN share
            w_knn, w_zs = 0.0, w_zs + w_knn
        return w_svm, w_knn, w_zs

    def similarities(self, queries: Sequence[str]) -> npt.NDArray[np.float64]:
        """Each query's cosine similarity to every example (q × examples), stop n-grams included (evidence)."""
        w_svm, w_knn, _ = self._weights()
        if (w_svm or w_knn) and len(self.data.texts):
            return _product(self.encoder.matrix(queries), self.features_by_example)
        return np.zeros((len(queries), len(self.data.texts)))

    def _zero_shot_counts(self, counts: Counts) -> Counts | None:
        """The zero-shot encoder's counts of texts, from the model word part's `counts` of them: its terms
        are some of the word part's (descriptions are part of the corpus) and both vocabularies are sorted,
        so a text's ids map in order, those of terms it lacks dropped (the counts its own reading gives);
        None when the two read texts differently or the zero-shot terms are not all the word part's."""
        if self.zero_shot_ids is None:
            self.zero_shot_ids = _ids_in(self.encoder.parts[0], self.zero_shot.parts)
        if not len(self.zero_shot_ids):
            return None
        ids = self.zero_shot_ids[counts.ids]
        known = ids >= 0
        text_of = np.repeat(np.arange(len(counts.lengths)), counts.lengths)
        lengths = np.bincount(text_of[known], minlength=len(counts.lengths)).astype(np.int64)
        return Counts(lengths, ids[known], counts.tf[known])

    def _fit_shares_words(self) -> bool:
        """True when the `fit` encoder is the model's word part alone (as `StatisticalRouter.fit` builds it)."""
        if len(self.fit_encoder.parts) != 1 or not self.encoder.parts:
            return False
        mine, model = self.fit_encoder.parts[0], self.encoder.parts[0]
        return mine.vocabulary is model.vocabulary and mine.idf is model.idf and mine.analyze == model.analyze

    def fit_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The texts as `fit` sees them (texts × fit features): word TF-IDF without generic words, L2 rows."""
        return self._weighted_fit(self.fit_encoder.matrix(texts))

    def fit_of(self, queries: Sequence[str]) -> npt.NDArray[np.float64]:
        """Cosine of each query to the nearest example or description (words and concepts, generic words
        left out), in [0, 1]."""
        return self._max_fit(self.fit_matrix(queries))

    def _weighted_fit(self, encoded: sp.csr_matrix) -> sp.csr_matrix:
        """Rows of the `fit` encoder as `fit` sees them: generic words left out, L2 rows (`fit_matrix`)."""
        if self.fit_weights is not None:
            encoded = sp.csr_matrix(encoded @ sp.diags(self.fit_weights))
            # `l2_normalize`'s own kernel, in place on the fresh product: its bits without its input checks
            # (a copy, and on a process's first call a dataframe library probe of ~10 ms)
            inplace_csr_row_normalize_l2(encoded)
        return encoded

    def _max_fit(self, weighted: sp.csr_matrix) -> npt.NDArray[np.float64]:
        """Each row's largest cosine to the channel's texts, in [0, 1] (the same bits as `a @ b` then max),
        each distinct text once (`_distinct_columns`: equal columns give equal products, bit for bit)."""
        if not self.fit_by_text.shape[1] or not weighted.shape[0]:
            return np.zeros(weighted.shape[0])
        if self.fit_by_distinct is None or self.fit_by_distinct[0] is not self.fit_by_text:
            self.fit_by_distinct = (self.fit_by_text, _distinct_columns(self.fit_by_text))
        best = _row_max_product(weighted, self.fit_by_distinct[1])  # sparse: word overlaps are few; entries ≥ 0
        return np.asarray(np.clip(best, 0.0, 1.0), dtype=np.float64)

    def key(self, query: str) -> tuple[object, ...]:
        """What the query's answer depends on (queries with equal keys get equal answers; a batch scores
        each key once): the analysis every encoder makes of it (once per distinct analysis: the model's word
        part, the zero-shot and the `fit` encoders read a text alike)."""
        return tuple(part.key(query) for part in self._key_parts())

    def _key_parts(self) -> list[_Part]:
        """The encoders' parts that read a text differently (one per distinct `analysis`), for `key`."""
        parts = {p.analysis: p for p in (*self.encoder.parts, *self.zero_shot.parts, *self.fit_encoder.parts)}
        return list(parts.values())

    def evidence(self, query: str, sims: npt.NDArray[np.float64], agents: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Per agent: its nearest examples (with cosine similarity) and the query terms it shares."""
        wanted = set(agents)
        found: dict[str, list[str]] = {a: [] for a in agents}
        nearest = np.argsort(-sims, kind="stable")[: 8 * KNN_K] if len(sims) else ()  # ties: example order
        for i in nearest:
            agent = self.data.classes[self.data.labels[i]][0]
            if agent in wanted and len(found[agent]) < EVIDENCE_EXAMPLES and sims[i] > 0:
                found[agent].append(f'similar example: "{self.data.texts[i]}" ({sims[i]:.2f})')
        forms = self.lexicon.surface_forms(query)
        for agent in agents:
            ranks = self.terms().get(agent, {})
            shared = sorted((t for t in forms if t in ranks), key=ranks.__getitem__)
            words = list(dict.fromkeys(forms[t] for t in shared))[:EVIDENCE_TERMS]
            if words:
                found[agent].append("shared terms: " + ", ".join(words))
        return {a: tuple(v) for a, v in found.items()}

    def terms(self) -> dict[str, dict[str, int]]:
        """Per agent, its terms → rank (`_agent_terms`): what evidence quotes as shared terms, counted when
        evidence is first read (a batch that reads none never counts them)."""
        if self.agent_terms is None:
            self.agent_terms = _agent_terms(self.data, self.lexicon)
        return self.agent_terms

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        return self.route_batch([query], top_k=top_k)[0]

    @gc_paused()  # many short-lived containers and no cycles: collections would only re-walk the heap
    def route_batch(self, queries: Sequence[str], *, top_k: int = 5) -> list[RouteResult]:
        """Route a whole list at once; the same answers as `route` one by one (tested bit for bit).

        Queries that analyse alike (`key`) are scored once; the distinct ones in chunks of BATCH_CHUNK
        (matrix products), ranked in one vectorised step. Evidence is computed only when a match's
        `evidence` is read (eval, whatif, diff never read most of it)."""
        began = time.perf_counter()
        _allocator_warmed()
        # each distinct text once, then each distinct key (`self.key`, its parts found once) once
        texts = list(dict.fromkeys(q for q in queries if q.strip())) if self.data.classes else []
        parts = self._key_parts()
        keys = zip(*(part.keys(texts) for part in parts), strict=True) if parts else [()] * len(texts)
        row_of: dict[tuple[object, ...], int] = {}
        text_rows = [row_of.setdefault(key, len(row_of)) for key in keys]
        first = dict(zip(reversed(text_rows), reversed(texts), strict=True))  # each row's first text
        distinct = [first[row] for row in range(len(row_of))]
        ranked: list[Ranked] = []
        fits: list[float] = []
        elsewhere: list[float] = []
        nearest: list[int] = []
        for start in range(0, len(distinct), BATCH_CHUNK):
            scores, _, fit, pick, away, near = self._score(distinct[start : start + BATCH_CHUNK], similarities=False)
            ranked += rank_agents_batch(self.data, scores, top_k=top_k, pick=pick)
            fits += fit.tolist()
            elsewhere += away.tolist()
            nearest += near.tolist()
        on = self.elsewhere_limit is not None and len(elsewhere) == len(distinct)
        each_ms = (time.perf_counter() - began) * 1000 / max(len(queries), 1)
        fit_of_row = [round(fit, 4) for fit in fits]
        away_of_row = [round(e, 4) for e in elsewhere] if on else [None] * len(distinct)
        limit = self.elsewhere_limit if on else None
        text_of_row = [self.service_texts[k] for k in nearest] if on else [""] * len(distinct)
        answered: dict[str, RouteResult] = {}  # the same text: the same (immutable) answer
        block = _EvidenceBlock(self)
        name, threshold, listed = self.name, self.threshold, self.listed
        for text, row in zip(texts, text_rows, strict=True):
            if len(block) == EVIDENCE_BLOCK:
                block = _EvidenceBlock(self)
            why = block.add(text, ranked[row])
            answered[text] = RouteResult(
                router=name,
                matches=tuple([Match(a, c, score, partial(why, a)) for a, c, score in ranked[row]]),
                latency_ms=each_ms,
                fit=fit_of_row[row],
                threshold=threshold,
                elsewhere=away_of_row[row],
                elsewhere_limit=limit,
                elsewhere_text=text_of_row[row],
                elsewhere_listed=bool(listed) and message_key(text_of_row[row]) in listed,
                listed=bool(listed) and message_key(text) in listed,
            )
        empty = RouteResult(router=self.name, matches=(), fit=0.0, threshold=self.threshold)
        return [answered.get(query, empty) for query in queries]

    def loo_fits(self) -> npt.NDArray[np.float64]:
        """Leave-one-out: each example's fit to the channel's other texts (at most LOO_MAX examples), the
        static fit's too (each example's own class centroid without it) when that is on."""
        if self.loo is None:
            self.loo = loo_max_similarity(self.fit_by_text, len(self.data.texts))
            static = self._static() if self.static_fit else None
            if static is not None and static.soft and len(static.loo) == len(self.loo):
                self.loo = np.maximum(self.loo, static.loo)
        return self.loo

    def off_topic_fits(self) -> npt.NDArray[np.float64]:
        """The fit of each general off-topic message (routing/off_topic.txt) to the channel."""
        if not self.fit_by_text.shape[1]:
            return np.zeros(len(off_topic_messages()))
        if self.off_topic_by_feature is None:
            self.off_topic_by_feature = self.fit_matrix(off_topic_messages())
        cos = self.off_topic_by_feature @ self.fit_by_text
        return np.clip(np.asarray(cos.max(axis=1).todense(), dtype=np.float64).ravel(), 0.0, 1.0)


def _within_agent(
    softmaxes: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] | None, q: int, data: TrainingSet
) -> npt.NDArray[np.float64]:
    """Per query (`q` of them) and class: the class's probability within its agent, the softmax of its agent's
    capability model (`sibling_softmax` of the queries, as routing/capability.py takes it), uniform over the
    classes of an agent without one."""
    agent_of = data.agent_index()
    per_agent = np.bincount(agent_of, minlength=len(data.agents)).astype(np.float64)
    within = np.tile(1.0 / per_agent[agent_of], (q, 1))
    for group, own in softmaxes or ():
        within[:, group] = own
    return within


def _knn_vote(
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


def _knn_vote_blocks(
    p_knn: npt.NDArray[np.float64], x: sp.csr_matrix, by_example: sp.csr_matrix, labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """`_knn_vote` of the similarities `_product(x, by_example)`, block by block as `_one_pass` takes the
    product (rows are voted independently: the same bits), each block made dense in one buffer that stays in
    cache instead of the whole q × examples matrix going through memory twice; each row's largest similarity."""
    blocks = _one_pass(x, by_example)
    if blocks is None:
        sims = _product(x, by_example)
        found = _knn_vote(p_knn, sims, labels)
        return sims.max(axis=1) if found is None else found
    rows, cols = x.shape[0], by_example.shape[1]
    buffer = np.empty((min(rows, max(1, PRODUCT_CELLS // cols)), cols))  # `_one_pass`'s rows per block
    best = np.empty(rows)
    for start, end, indptr, indices, data in blocks:
        block = buffer[: end - start]
        block.fill(0.0)
        _sparsetools.csr_todense(end - start, cols, indptr, indices, data, block)
        found = _knn_vote(p_knn[start:end], block, labels)
        best[start:end] = block.max(axis=1) if found is None else found
    return best


def _knn_vote_slow(
    p_knn: npt.NDArray[np.float64], sims: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], rows: Any
) -> None:
    """`_knn_vote` of the given rows by `np.argpartition` (the reference)."""
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


def _softmax_rows(values: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    if not values.shape[1]:
        return values
    e = np.exp((values - values.max(axis=1, keepdims=True)) * temperature)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def loo_max_similarity(by_text: Any, n_examples: int) -> npt.NDArray[np.float64]:
    """For the first `n_examples` columns of a (features × texts) matrix of unit vectors: each one's largest
    cosine to any other column (leave-one-out), for at most LOO_MAX examples spread evenly."""
    if n_examples == 0 or by_text.shape[1] < 2:
        return np.zeros(0)
    picked = loo_picks(n_examples)
    columns = by_text[:, picked]
    if sp.issparse(by_text):  # TF-IDF (entries ≥ 0): the row maxima of the product, its own entry as 0
        best = _row_max_product(sp.csr_matrix(columns.T), sp.csr_matrix(by_text), left_out=picked)
        return np.asarray(np.clip(best, 0.0, 1.0), dtype=np.float64)
    cos = _dense(columns.T @ by_text)
    cos[np.arange(len(picked)), picked] = -1.0  # leave each one out
    return np.asarray(np.clip(cos.max(axis=1), 0.0, 1.0), dtype=np.float64)


_GENERIC: dict[tuple[tuple[str, ...], ...], frozenset[str]] = {}  # lexicon groups → generic word features


def generic_features(lexicon: Lexicon) -> frozenset[str]:
    """The word features (as `lexicon` reads them) in at least `GENERIC_SHARE` of the off-topic messages;
    computed once per lexicon and process."""
    found = _GENERIC.get(lexicon.groups)
    if found is None:
        messages = off_topic_messages()
        counts = Counter(f for m in messages for f in set(lexicon.word_features(m)))
        found = frozenset(f for f, n in counts.items() if n >= GENERIC_SHARE * len(messages))
        if len(_GENERIC) > 32:  # a few lexicons per process (built-in or not, a design's vocabulary)
            _GENERIC.clear()
        _GENERIC[lexicon.groups] = found
    return found


def generic_words_out(fit_encoder: SparseEncoder, lexicon: Lexicon) -> npt.NDArray[np.float64]:
    """Per fit feature: 0 for a generic word (`generic_features`), else 1."""
    weights = np.ones(fit_encoder.n_features)
    for part in fit_encoder.parts:
        for feature in generic_features(lexicon):
            j = part.vocabulary.get(feature)
            if j is not None:
                weights[part.offset + j] = 0.0
    return weights


def without_stop_ngrams(by_example: sp.csr_matrix, encoder: SparseEncoder) -> sp.csr_matrix:
    """A (features × examples) matrix of `encoder`'s features without its stop n-grams (rows of words in more
    than KNN_STOP_SHARE of the examples, of char n-grams in more than KNN_STOP_SHARE_CHAR, and in more than
    KNN_STOP_MIN of them); the same matrix when it has none."""
    df = np.diff(by_example.indptr)
    share = np.full(len(df), KNN_STOP_SHARE)
    for part in encoder.parts:
        if part.preprocess is not None:  # char n-grams
            share[part.offset : part.offset + len(part.vocabulary)] = KNN_STOP_SHARE_CHAR
    drop = df > np.maximum(share * by_example.shape[1], KNN_STOP_MIN)
    if not drop.any():
        return by_example
    keep = np.repeat(~drop, df)
    indptr = np.concatenate([[0], np.cumsum(np.where(drop, 0, df))])
    return sp.csr_matrix((by_example.data[keep], by_example.indices[keep], indptr), shape=by_example.shape)


def _kept_features(by_example: sp.csr_matrix, knn_by_example: sp.csr_matrix) -> npt.NDArray[np.bool_] | None:
    """Which features the kNN vote keeps (`without_stop_ngrams`); None when it keeps them all."""
    if knn_by_example is by_example:
        return None
    return np.asarray((np.diff(knn_by_example.indptr) > 0) | (np.diff(by_example.indptr) == 0), dtype=bool)


def _masked(rows: sp.csr_matrix, keep: npt.NDArray[np.bool_] | None) -> sp.csr_matrix:
    """Rows (texts × features) without the features `keep` leaves out (as the kNN vote sees texts)."""
    if keep is None:
        return rows
    return (rows @ sp.diags(keep.astype(np.float64))).tocsr()


def _agent_svm_rows(rows: sp.csr_matrix, encoder: SparseEncoder) -> sp.csr_matrix:
    """`rows` (texts × features, as `encoder` assembles them) as the agent SVM reads them: char n-grams of
    SVM_AGENT_GRAMS characters only; the same shape, the same order within each row, the others left out."""
    shortest, longest = SVM_AGENT_GRAMS
    out = np.zeros(rows.shape[1], dtype=bool)
    for part in encoder.parts:
        if part.preprocess is not None:  # a char part: its terms' lengths and ids, read in C
            terms = part.vocabulary
            length = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
            ids = np.fromiter(terms.values(), dtype=np.int64, count=len(terms))
            out[part.offset + ids[(length < shortest) | (length > longest)]] = True
    if not out.any():
        return rows
    kept = np.flatnonzero(~out[rows.indices])
    indptr = np.searchsorted(kept, rows.indptr).astype(rows.indptr.dtype)  # nonzeros kept before each row
    return sp.csr_matrix((rows.data.take(kept), rows.indices.take(kept), indptr), shape=rows.shape, copy=False)


def _dense(matrix: Any) -> npt.NDArray[np.float64]:
    """A product of sparse and/or dense matrices as a dense float array."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)


def _product(a: sp.csr_matrix, b: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """`a @ b` of two CSR matrices as a dense array, by scipy's own `csr_matmat` kernel (so to the same
    bits) but in one pass: `a @ b` first counts the product's entries in a pass as long as the product
    itself, and a query's similarities to the examples are dense anyway. Falls back to `a @ b`."""
    blocks = _one_pass(a, b)
    if blocks is None:
        return _dense(a @ b)
    rows, cols = a.shape[0], b.shape[1]
    out = np.zeros((rows, cols))
    for start, end, indptr, indices, data in blocks:  # C loop: out[row, indices] += data
        _sparsetools.csr_todense(end - start, cols, indptr, indices, data, out[start:end])
    return out


def _distinct_columns(matrix: sp.csr_matrix) -> sp.csr_matrix:
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


def _row_max_product(
    a: sp.csr_matrix, b: sp.csr_matrix, left_out: npt.NDArray[np.int64] | None = None
) -> npt.NDArray[np.float64]:
    """Each row's largest stored value of `a @ b` (0 for an empty row), the values as `a @ b` stores them
    (the same kernel, the same sums), in one pass (see `_product`) without building the matrix.
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


def _agent_terms(data: TrainingSet, lexicon: Lexicon) -> dict[str, dict[str, int]]:
    """Each agent's terms ranked by how much of a term's use is this agent's (then by frequency)."""
    counts: dict[str, dict[str, int]] = {}
    texts = [(data.classes[c][0], data.descriptions[c]) for c in range(len(data.classes))]
    texts += [(data.classes[label][0], text) for text, label in zip(data.texts, data.labels, strict=True)]
    for agent, text in texts:
        mine = counts.setdefault(agent, {})
        for term in set(lexicon.word_features(text)):
            if " " not in term:
                mine[term] = mine.get(term, 0) + 1
    total: dict[str, int] = {}
    for mine in counts.values():
        for term, n in mine.items():
            total[term] = total.get(term, 0) + n
    return {
        agent: {t: rank for rank, t in enumerate(sorted(mine, key=lambda t: (-mine[t] / total[t], -mine[t], t)))}
        for agent, mine in counts.items()
    }


def _fit(vectorizer: TfidfVectorizer, texts: list[str]) -> Counts | None:
    """Fit a vectorizer's vocabulary and idf to what scikit-learn's `fit` gives (vocabulary sorted by term,
    smooth idf computed as `TfidfTransformer` does; tested), reading each text once, char n-grams word by word
    and remembered per word. Texts of stop words only still give a (one-term) vocabulary.

    Returns the texts' counts as the fitted vectorizer's `_Part` gives them (`SparseEncoder.counts`, the same
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
    if grams is not None:  # the corpus's words' n-grams, for the `_Part` of this vectorizer (all in its vocabulary)
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


def _joined(first: Counts, then: Counts) -> Counts:
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


Model = tuple[npt.NDArray[np.float64] | sp.csr_matrix, npt.NDArray[np.float64], npt.NDArray[np.int64], float]


def _linear_model(
    features: sp.csr_matrix,
    labels: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    *,
    tol: float | None = None,
) -> Model | None:
    """(weights as features × classes, intercepts, class order, softmax temperature); None if < 2 classes.
    `tol`: the SVMs' stopping tolerance (None: `svm_fit`'s by size).

    A one-vs-rest linear SVM up to SVM_MAX_CLASSES classes; beyond, class centroids (linear too, but
    fitted in one pass and stored sparse: a 1 000-agent design must not cost minutes or gigabytes).
    """
    present = np.flatnonzero(np.bincount(labels))  # the classes present: `np.unique` (without its hashing)
    if len(present) < 2:
        return None
    if len(present) > SVM_MAX_CLASSES:
        rows = sp.csr_matrix((weights, (labels, np.arange(len(labels)))), shape=(int(present.max()) + 1, len(labels)))
        centroids = l2_normalize(rows @ features)[present]
        return sp.csr_matrix(centroids.T), np.zeros(len(present)), present.astype(np.int64), CENTROID_TEMPERATURE
    coef, intercept = svm_fit(features, labels, weights, c=SVM_C, tol=tol)  # LinearSVC's, seeded (linear.py)
    if len(present) == 2:  # binary: one weight vector for the second class; mirror it for the first
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return np.ascontiguousarray(coef.T), intercept, present.astype(np.int64), SVM_TEMPERATURE


def word_vectorizer(lexicon: Lexicon) -> TfidfVectorizer:
    """The (unfitted) vectorizer of the model's word part and of the zero-shot descriptions: stemmed words,
    bigrams and `lexicon`'s concepts, sublinear tf."""
    return TfidfVectorizer(analyzer=lexicon.word_features, sublinear_tf=True)


def char_vectorizer(lexicon: Lexicon) -> TfidfVectorizer:
    """The (unfitted) vectorizer of the model's char part: char n-grams within words (any lexicon)."""
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=normalize)


class StatisticalRouter:
    """Offline router: fit on a table's examples and descriptions (and seed rows); see the module doc.

    `lexicon`: None follows the table's (the design's `spec.routing.lexicon`, default `auto`); a setting
    ("auto", "customer-service", "none") or True / False (customer-service / none) overrides it. A design's
    vocabulary counts either way. `elsewhere`: False leaves the "nearer elsewhere" signal off (for a router
    fitted only as a part of another, or to rank only: the embedding router, the lexicon `auto` check).
    `embedder`: when given, it has most of the say in which capability of the chosen agent is shown
    (routing/capability.py, `CapabilityCentroids`); agents, scores, `fit` and evidence do not change.
    `static_fit`: False leaves `fit` and its threshold to the TF-IDF words alone (routing/threshold.py,
    STATIC_FIT_SCALE; the embedding router's lexical part, whose fit is a part of the embedding router's).
    """

    name = "statistical"

    def __init__(
        self,
        *,
        lexicon: bool | str | None = None,
        elsewhere: bool = True,
        embedder: Embedder | None = None,
        static_fit: bool = True,
    ) -> None:
        self.lexicon = lexicon
        self.elsewhere = elsewhere
        self.embedder = embedder
        self.static_fit = static_fit

    @gc_paused()  # many short-lived containers and no cycles: collections would only re-walk the heap
    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedStatistical:
        _allocator_warmed()
        fitted = self._fit(table, seed, full=True)
        if self.embedder is not None and fitted.data.classes:
            fitted.centroids = CapabilityCentroids.fit(fitted.data, self.embedder)
        return fitted

    def _fit(
        self,
        table: RoutingTable,
        seed: Sequence[tuple[str, str, str]],
        *,
        full: bool,
        tol: float | None = None,
        models: bool = True,
        shared: dict[str, Any] | None = None,
    ) -> FittedStatistical:
        """`fit`; `full=False` for the lexicon check's folds, which read only the ranked matches: the same
        matches, without what only evidence and "no agent fits" use (agent terms, the `fit` matrix, the
        threshold). `tol`: the SVMs' stopping tolerance (None: `svm_fit`'s by size). `models=False`: no SVMs
        (nor the synonym copies that only they learn from): the kNN vote and description matching alone, as
        the lexicon check fits its folds (routing/lexicon.py, CHECK_MODELS). `shared`: what the lexicon check's
        fits of one fold (the same table and seed, another lexicon) share: the training set and the char n-gram
        part, made by the first of them (`held_out_scores`)."""
        data = shared["data"] if shared is not None and "data" in shared else training_set(table, seed)
        if shared is not None:
            shared["data"] = data
        lexicon, choice = choose_lexicon(data, setting_of(self.lexicon, table.lexicon), held_out_scores)
        n = len(data.classes)
        corpus = list(data.texts) + list(data.descriptions)
        word, char, zero_shot = word_vectorizer(lexicon), char_vectorizer(lexicon), word_vectorizer(lexicon)
        if corpus and shared is not None and shared.get("corpus") == corpus:  # reads no lexicon: the same part
            char, char_counts = shared["char"]
            fitted_counts = [_fit(word, corpus), char_counts]
        else:
            fitted_counts = [_fit(vectorizer, corpus) for vectorizer in (word, char)] if corpus else []
            if corpus and shared is not None:
                shared.update(corpus=corpus, char=(char, fitted_counts[1]))
        zs_counts = _fit(zero_shot, list(data.descriptions)) if corpus else None
        encoder = SparseEncoder([(word, WORD_WEIGHT), (char, CHAR_WEIGHT)] if corpus else [])
        zs_encoder = SparseEncoder([(zero_shot, 1.0)] if corpus else [])
        fit_encoder = SparseEncoder([(word, 1.0)] if corpus else [])
        texts, labels = list(corpus), [*data.labels.tolist(), *range(n)]
        if AUGMENT and models:  # synonym-swapped copies teach the SVM that synonyms are interchangeable
            for text, label in zip(corpus, labels[: len(corpus)], strict=True):
                variant = lexicon.synonym_variant(text)
                if variant is not None:
                    texts.append(variant)
                    labels.append(label)
        # Every text is analysed once: the rows of the examples, descriptions and synonym copies come from one
        # count (a row's bits never depend on the other rows), and the `fit` encoder (the word part alone)
        # reads the examples' and descriptions' word counts from it.
        corpus_counts = [c for c in fitted_counts if c is not None]
        if corpus and len(corpus_counts) == len(encoder.parts):  # the corpus as the fit read it, then the copies
            counts = [_joined(*pair) for pair in zip(corpus_counts, encoder.counts(texts[len(corpus) :]), strict=True)]
        else:
            counts = encoder.counts(texts)
        features = encoder.assemble(counts, len(texts))  # examples, then descriptions, then synonym copies
        examples = _head(features, len(data.texts))
        weights = np.concatenate([np.ones(len(corpus)), np.full(len(texts) - len(corpus), AUGMENT_WEIGHT)])
        all_labels = np.array(labels, dtype=np.int64)
        agent_model = len(texts) >= SVM_AGENT_ROWS and 2 <= len(data.agents) < n <= min(
            SVM_MAX_CLASSES, SIBLING_MAX_CLASSES
        )
        model_labels = data.agent_index()[all_labels] if agent_model else all_labels
        fits_model = models and (len(data.texts) > 0 or ZERO_SHOT_SVM > 0)
        agent_features = _agent_svm_rows(features, encoder) if agent_model and fits_model else features
        model = _linear_model(agent_features, model_labels, weights, tol=tol) if fits_model else None
        coef, intercept, classes, temperature = model or (None, np.zeros(0), np.zeros(0, dtype=np.int64), 1.0)
        sibling_tol = LOOSE_TOL if agent_model and SIBLING_LOOSE and tol is None else tol
        by_example = examples.T.tocsr()
        fitted = FittedStatistical(
            data=data,
            encoder=encoder,
            features_by_example=by_example,
            knn_by_example=without_stop_ngrams(by_example, encoder),
            coef=coef,
            intercept=intercept,
            model_classes=classes,
            temperature=temperature,
            zero_shot=zs_encoder,
            descriptions_by_feature=(
                zs_encoder.matrix(data.descriptions) if zs_counts is None else zs_encoder.assemble([zs_counts], n)
            ).T.tocsr(),
            weights=blend_weights(data.examples_per_class()),
            agent_terms=None if full else {},  # evidence only: counted when first read (`terms`)
            lexicon=lexicon,
            fit_encoder=fit_encoder,
            fit_by_text=sp.csr_matrix((fit_encoder.n_features, 0)),
            lexicon_choice=choice,
            siblings=(
                fit_siblings(features, all_labels, weights, data.agent_index(), tol=sibling_tol)
                if corpus and models
                else None
            ),
            agent_model=agent_model,
        )
        if not full:  # the lexicon check's folds: without the static opinion, which reads no lexicon (its
            fitted.static_pick = False  # capabilities would tip the check: the acme sample's web channel's did)
            fitted.static_agents = False  # nor the one among agents: the check compares lexicons, words alone
            fitted.static_fit = False  # nor a fit: the check reads the ranked matches only
            return fitted
        if corpus:
            fitted.fit_weights = generic_words_out(fit_encoder, lexicon)
            word_counts = _first_rows(counts[0], len(corpus))
            fitted.fit_by_text = fitted._weighted_fit(fit_encoder.assemble([word_counts], len(corpus))).T.tocsr()
        fitted.static_pick = self.embedder is None  # an embedder's opinion (`fit` adds it) replaces the static pick
        fitted.static_fit = self.static_fit and soft_fit_on(data)
        if fitted.static_fit:  # built now (the threshold reads its leave-one-out fits), as `fit` will use it
            fitted._static()
        rule = "statistical-static" if fitted.static_fit else "statistical"
        fitted.threshold = (
            table.min_score if table.min_score is not None else no_match_threshold(rule, fitted.loo_fits())
        )
        if table.min_score is None and self.elsewhere:  # an explicit threshold: the fit rule only
            fitted.keep_services(examples, table.out_of_scope)
            fitted.listed = listed_texts(table.out_of_scope)
        return fitted


def held_out_correct(table: RoutingTable, seed: list[Held], held: list[Held], setting: str) -> int:
    """The lexicon auto check (routing/lexicon.py): right agents plus right capabilities on the held-out
    texts of this router fitted on `table` + `seed` with the lexicon `setting`."""
    return held_out_scores(table, seed, held, (setting,))[0]


def held_out_scores(table: RoutingTable, seed: list[Held], held: list[Held], settings: tuple[str, ...]) -> list[int]:
    """`held_out_correct` under each setting, the fits sharing their char n-gram part (it reads no lexicon:
    the same vocabulary, idf and counts; fitted once, the held-out texts' words read into it once)."""
    shared: dict[str, Any] = {}
    scores: list[int] = []
    for setting in settings:
        router = StatisticalRouter(lexicon=setting, elsewhere=False)
        fitted = router._fit(table, seed, full=False, tol=CHECK_TOL, models=CHECK_MODELS, shared=shared)
        right = 0
        results = fitted.route_batch([text for text, _, _ in held], top_k=1)
        for (_, agent, capability), result in zip(held, results, strict=True):
            top = result.matches[0] if result.matches else None
            right += top is not None and top.agent == agent
            right += top is not None and top.agent == agent and top.capability == capability
        scores.append(right)
    return scores
