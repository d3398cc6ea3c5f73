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
Queries are encoded without scikit-learn's per-call validation (`SparseEncoder`, routing/sparse.py): one route is a few
dictionary look-ups and small matrix products. `route_batch` (eval, whatif, diff, routing tests, the
Evaluate page) analyses each distinct query once, scores the distinct ones together and ranks them in one
vectorised step, and leaves evidence to be computed when it is read; its answers are `route`'s, bit for
bit (tests/test_routing_batch.py, with a golden of answers). What a batch still costs is mostly the kNN
similarity over word and char n-gram vectors (one sparse product per chunk), without the stop n-grams of
large tables (KNN_STOP_SHARE); the vote picks the nearest examples without a full selection where they are
certain (`knn_vote`, routing/products.py: the same bits as `np.argpartition`'s picks).
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

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
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
from lmos_studio.routing.products import (
    KNN_K,
    allocator_warmed,
    as_dense,
    dense_product,
    distinct_columns,
    knn_vote,
    knn_vote_blocks,
    loo_max_similarity,
    row_max_product,
)
from lmos_studio.routing.sparse import (
    Counts,
    EncoderPart,
    SparseEncoder,
    char_vectorizer,
    first_rows,
    fit_vectorizer,
    head_rows,
    ids_in,
    joined_counts,
    word_vectorizer,
)
from lmos_studio.routing.text import Lexicon
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
EVIDENCE_BLOCK = 64  # routed queries whose evidence is computed together, when one of them is read

# `FittedStatistical._score`: (class scores, kNN similarities, fit, capability pick, elsewhere, nearest service)
Scored = tuple[
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.int64],
]


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


Ranked = tuple[tuple[str, str, float], ...]  # a query's (agent, capability, score), best first (`rank_agents_batch`)


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
    # (`fit_by_text`, it without repeated or empty columns: `distinct_columns`), when `fit` is first taken on it
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
        (`knn_vote_blocks`) and not returned (q × 0)."""
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
                sims = dense_product(x, self.knn_by_example)
            # the per-agent models' softmaxes, once: the agent model's P(class | agent) and the capability pick
            if self.siblings is not None:
                softmaxes = list(sibling_softmax(self.siblings, x))
            if w_svm and self.coef is not None and self.agent_model:  # P(agent) × P(class | agent)
                decision = as_dense(x @ self.coef) + self.intercept
                p_agent = np.zeros((q, len(self.data.agents)))
                p_agent[:, self.model_classes] = _softmax_rows(decision, self.temperature)
                p_svm = p_agent[:, self.data.agent_index()] * _within_agent(softmaxes, q, self.data)
                p_svm[empty] = 1.0 / n
            elif w_svm and self.coef is not None:
                decision = as_dense(x @ self.coef) + self.intercept
                p_svm[:, self.model_classes] = _softmax_rows(decision, self.temperature)
                p_svm[empty] = 0.0
                p_svm[np.ix_(empty, self.model_classes)] = 1.0 / len(self.model_classes)
            elif w_svm:
                p_svm[:, self.model_classes] = 1.0 / len(self.model_classes)
            if w_knn and sims.shape[1]:  # the similarities taken above
                found = knn_vote(p_knn, sims, self.data.labels)
                sims_max = sims.max(axis=1) if found is None else found
            elif w_knn:  # examples (the kNN share is theirs): voted block by block
                sims_max = knn_vote_blocks(p_knn, x, self.knn_by_example, self.data.labels)
            elif sims.shape[1]:
                sims_max = sims.max(axis=1)
            if w_knn:
                p_knn /= p_knn.sum(axis=1, keepdims=True)
        scores = w_svm * p_svm + w_knn * p_knn
        if w_zs:
            z = self.zero_shot.matrix(queries) if zs_counts is None else self.zero_shot.assemble([zs_counts], q)
            similarity = as_dense(z @ self.descriptions_by_feature)
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
        own = dense_product(x, self.descriptions_knn).max(axis=1, initial=0.0)
        if sims_max is not None:
            own = np.maximum(own, sims_max)
        to_services = dense_product(x, self.services_knn)
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
            row_max_product(services, self.knn_by_example),
            dense_product(services, self.descriptions_knn).max(axis=1, initial=0.0),
        )
        pairwise = dense_product(services, services_knn)
        np.fill_diagonal(pairwise, -1.0)
        picked = loo_picks(len(self.data.texts), STATISTICAL_ELSEWHERE_LOO)
        left_out = examples[picked]
        loo_own = np.maximum(  # each one left out: its own entry as 0 (the maximum with the descriptions' ≥ 0)
            row_max_product(left_out, self.knn_by_example, left_out=picked),
            dense_product(left_out, self.descriptions_knn).max(axis=1, initial=0.0),
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
        loo_elsewhere = dense_product(left_out, packaged).max(axis=1) - loo_own
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
            return dense_product(self.encoder.matrix(queries), self.features_by_example)
        return np.zeros((len(queries), len(self.data.texts)))

    def _zero_shot_counts(self, counts: Counts) -> Counts | None:
        """The zero-shot encoder's counts of texts, from the model word part's `counts` of them: its terms
        are some of the word part's (descriptions are part of the corpus) and both vocabularies are sorted,
        so a text's ids map in order, those of terms it lacks dropped (the counts its own reading gives);
        None when the two read texts differently or the zero-shot terms are not all the word part's."""
        if self.zero_shot_ids is None:
            self.zero_shot_ids = ids_in(self.encoder.parts[0], self.zero_shot.parts)
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
        each distinct text once (`distinct_columns`: equal columns give equal products, bit for bit)."""
        if not self.fit_by_text.shape[1] or not weighted.shape[0]:
            return np.zeros(weighted.shape[0])
        if self.fit_by_distinct is None or self.fit_by_distinct[0] is not self.fit_by_text:
            self.fit_by_distinct = (self.fit_by_text, distinct_columns(self.fit_by_text))
        best = row_max_product(weighted, self.fit_by_distinct[1])  # sparse: word overlaps are few; entries ≥ 0
        return np.asarray(np.clip(best, 0.0, 1.0), dtype=np.float64)

    def key(self, query: str) -> tuple[object, ...]:
        """What the query's answer depends on (queries with equal keys get equal answers; a batch scores
        each key once): the analysis every encoder makes of it (once per distinct analysis: the model's word
        part, the zero-shot and the `fit` encoders read a text alike)."""
        return tuple(part.key(query) for part in self._key_parts())

    def _key_parts(self) -> list[EncoderPart]:
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
            shared = sorted((t for t in forms if t in ranks and not lone_token(t)), key=ranks.__getitem__)
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
        allocator_warmed()
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


def _softmax_rows(values: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    if not values.shape[1]:
        return values
    e = np.exp((values - values.max(axis=1, keepdims=True)) * temperature)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


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


def generic_words_out(
    fit_encoder: SparseEncoder, lexicon: Lexicon, *, lone_tokens: bool = False
) -> npt.NDArray[np.float64]:
    """Per fit feature: 0 for a generic word (`generic_features`) or, unless `lone_tokens`, a lone character
    (`lone_token`: every number reads as "0", so "12345" fitted "the printer on floor 3"; "a b c" fitted "meeting
    room B"), else 1."""
    weights = np.ones(fit_encoder.n_features)
    for part in fit_encoder.parts:
        for feature in generic_features(lexicon):
            j = part.vocabulary.get(feature)
            if j is not None:
                weights[part.offset + j] = 0.0
        for feature, j in part.vocabulary.items() if not lone_tokens else ():
            if lone_token(feature):
                weights[part.offset + j] = 0.0
    return weights


def lone_token(term: str) -> bool:
    """A word feature of one character: a number (every number reads as "0") or a single letter. It says nothing
    of what a message is about: it neither makes a message fit a channel nor counts as a shared term."""
    return len(term) == 1


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
    `lone_tokens`: True counts one-character word features in `fit` (`lone_token`; the embedding router's
    lexical part).
    """

    name = "statistical"

    def __init__(
        self,
        *,
        lexicon: bool | str | None = None,
        elsewhere: bool = True,
        embedder: Embedder | None = None,
        static_fit: bool = True,
        lone_tokens: bool = False,
    ) -> None:
        self.lexicon = lexicon
        self.elsewhere = elsewhere
        self.embedder = embedder
        self.static_fit = static_fit
        # one-character word features (`lone_token`) counted in `fit`: only the embedding router's lexical part,
        # whose constants were chosen with them (without them, dev networks: 2 fewer out-of-scope queries caught)
        self.lone_tokens = lone_tokens

    @gc_paused()  # many short-lived containers and no cycles: collections would only re-walk the heap
    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedStatistical:
        allocator_warmed()
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
            fitted_counts = [fit_vectorizer(word, corpus), char_counts]
        else:
            fitted_counts = [fit_vectorizer(vectorizer, corpus) for vectorizer in (word, char)] if corpus else []
            if corpus and shared is not None:
                shared.update(corpus=corpus, char=(char, fitted_counts[1]))
        zs_counts = fit_vectorizer(zero_shot, list(data.descriptions)) if corpus else None
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
            copies = encoder.counts(texts[len(corpus) :])
            counts = [joined_counts(*pair) for pair in zip(corpus_counts, copies, strict=True)]
        else:
            counts = encoder.counts(texts)
        features = encoder.assemble(counts, len(texts))  # examples, then descriptions, then synonym copies
        examples = head_rows(features, len(data.texts))
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
            fitted.fit_weights = generic_words_out(fit_encoder, lexicon, lone_tokens=self.lone_tokens)
            word_counts = first_rows(counts[0], len(corpus))
            fitted.fit_by_text = fitted._weighted_fit(fit_encoder.assemble([word_counts], len(corpus))).T.tocsr()
        fitted.static_pick = self.embedder is None  # an embedder's opinion (`fit` adds it) replaces the static pick
        fitted.static_fit = self.static_fit and soft_fit_on(data)
        if fitted.static_fit:  # built now (the threshold reads its leave-one-out fits), as `fit` will use it
            fitted._static()
        rule = "statistical-static" if fitted.static_fit else "statistical"
        fitted.threshold = (
            table.min_score if table.min_score is not None else no_match_threshold(rule, fitted.loo_fits())
        )
        if table.min_score is None and self.elsewhere:  # an explicit threshold: no "nearer elsewhere"
            fitted.keep_services(examples, table.out_of_scope)
        fitted.listed = listed_texts(table.out_of_scope)  # the design's own list holds under any threshold
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
