"""The offline statistical router: TF-IDF (stemmed words + char n-grams), a linear model, kNN and
description matching, blended by how many examples the table has. No model download, scikit-learn only.

Three signals, each a probability over (agent, capability) classes:
* a linear SVM over examples and descriptions plus synonym-swapped copies of them (so it learns that
  "refund" and "money back" mean the same; class centroids for very large tables), its decision values
  turned into probabilities by a softmax,
* a top-k nearest-example vote, as lmos-router's vector router does (exact on near-duplicates),
* zero-shot description matching (capability and agent names and descriptions, with a synonym lexicon),
  which carries the answer when a class has few or no examples.
Queries are encoded without scikit-learn's per-call validation (see `SparseEncoder`): one route is a few
dictionary look-ups and small matrix products.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize as l2_normalize
from sklearn.svm import LinearSVC

from lmos_studio.routing.base import RouteResult, RoutingTable
from lmos_studio.routing.text import Lexicon, lexicon_for, normalize
from lmos_studio.routing.threshold import GENERIC_SHARE, loo_picks, no_match_threshold, off_topic_messages
from lmos_studio.routing.training import TrainingSet, rank_agents, training_set

KNN_K = 5  # neighbours that vote, as lmos-router's vector router (top 5, grouped by agent)
AUGMENT = True  # train the SVM on synonym-swapped copies of examples and descriptions too
AUGMENT_WEIGHT = 1.0  # sample weight of a synonym-swapped copy
KNN_SHARE = 0.35  # share of the example-based weight that goes to the kNN vote (the rest: the SVM)
WORD_WEIGHT = 0.5  # weights of the parts of the joint vector: stemmed words, bigrams and concepts,
CHAR_WEIGHT = 0.5  # and char n-grams (typos, inflections)
SVM_C = 1.0  # liblinear's default regularisation
SVM_MAX_CLASSES = 150  # more classes: class centroids instead of one-vs-rest SVMs (fit time, memory)
CENTROID_TEMPERATURE = 12.0  # softmax sharpness over cosine similarities to class centroids
SVM_TEMPERATURE = 8.0  # softmax sharpness over SVM decision values (margins are about ±1)
ZERO_SHOT_SVM = 0.3  # without examples, weight of the SVM trained on descriptions (+ synonym copies)
ZERO_SHOT_TEMPERATURE = 12.0  # softmax sharpness over description cosine similarities
EVIDENCE_EXAMPLES = 2  # nearest examples quoted per agent
EVIDENCE_TERMS = 4  # shared terms quoted per agent
BATCH_CHUNK = 512  # queries scored together (bounds the queries × examples similarity matrix)

Vector = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]  # (feature indices, L2-normalised values)


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


class SparseEncoder:
    """TF-IDF encoding of single texts from fitted vectorizers (sublinear tf, idf, L2 per part, weighted).

    Equivalent to `TfidfVectorizer.transform` + weighted `hstack` + L2, without its per-call overhead.
    """

    def __init__(self, parts: Sequence[tuple[TfidfVectorizer, float]]) -> None:
        self.parts: list[tuple[Callable[[str], list[str]], dict[str, int], npt.NDArray[np.float64], int, float]] = []
        offset = 0
        for vectorizer, weight in parts:
            vocabulary = vectorizer.vocabulary_
            self.parts.append((vectorizer.build_analyzer(), vocabulary, vectorizer.idf_, offset, weight))
            offset += len(vocabulary)
        self.n_features = offset

    def encode(self, text: str) -> Vector:
        indices: list[npt.NDArray[np.int64]] = []
        values: list[npt.NDArray[np.float64]] = []
        for analyze, vocabulary, idf, offset, weight in self.parts:
            counts: dict[int, int] = {}
            for feature in analyze(text):
                j = vocabulary.get(feature)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
            val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * idf[idx]
            indices.append(idx + offset)
            values.append(val * (weight / np.sqrt(val @ val)))
        if not indices:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx, val = np.concatenate(indices), np.concatenate(values)
        return idx, val / np.sqrt(val @ val)

    def matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        rows = [self.encode(t) for t in texts]
        indptr = np.cumsum([0] + [len(i) for i, _ in rows])
        indices = np.concatenate([i for i, _ in rows]) if rows else np.zeros(0, dtype=np.int64)
        data = np.concatenate([v for _, v in rows]) if rows else np.zeros(0)
        return sp.csr_matrix((data, indices, indptr), shape=(len(rows), self.n_features))


@dataclass
class FittedStatistical:
    """The statistical router fitted on one routing table.

    Its `fit` for "no agent fits" is the TF-IDF cosine (stemmed words, bigrams and lexicon concepts, no char
    n-grams) between the query and the nearest example or description of the channel, in [0, 1], leaving out
    generic words: those in at least `GENERIC_SHARE` of the general off-topic messages of
    routing/off_topic.txt ("what", "get"), which alone make "what's the weather" look like "what's the fee".
    """

    data: TrainingSet
    encoder: SparseEncoder
    features_by_example: sp.csr_matrix  # (features × examples): column i = example i's vector
    coef: npt.NDArray[np.float64] | sp.csr_matrix | None  # (features × model classes); None: < 2 classes
    intercept: npt.NDArray[np.float64]
    model_classes: npt.NDArray[np.int64]  # class index of each column of `coef`
    temperature: float  # softmax sharpness over the linear model's decision values
    zero_shot: SparseEncoder
    descriptions_by_feature: sp.csr_matrix  # (zero-shot features × classes)
    weights: tuple[float, float, float]
    agent_terms: dict[str, dict[str, int]]  # per agent, its terms → rank (0 = most distinctive)
    lexicon: Lexicon
    fit_encoder: SparseEncoder  # word-level TF-IDF of `fit`
    fit_by_text: sp.csr_matrix  # (fit features × texts): examples then descriptions
    fit_weights: npt.NDArray[np.float64] | None = None  # per fit feature: 0 for a generic word, else 1
    off_topic_by_feature: sp.csr_matrix | None = None  # the off-topic messages as `fit` sees them (rows)
    loo: npt.NDArray[np.float64] | None = None  # `loo_fits()`, once computed
    threshold: float | None = None  # no agent below it (see `no_match_threshold`)
    name: str = "statistical"

    def class_scores(self, query: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(blended class probabilities, similarity of the query to every example)."""
        scores, sims, _ = self.score_batch([query])
        return scores[0], sims[0]

    def score_batch(
        self, queries: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """For a list of queries at once: (class probabilities q×classes, similarity to examples q×examples,
        fit q). Sparse matrix products over the whole list; no per-query model calls."""
        n, q = len(self.data.classes), len(queries)
        w_svm, w_knn, w_zs = self.weights
        p_svm, p_knn = np.zeros((q, n)), np.zeros((q, n))
        sims = np.zeros((q, len(self.data.texts)))
        if self.coef is None:  # one class or no model: the kNN vote takes the model's share
            w_svm, w_knn = 0.0, w_svm + w_knn
        if not len(self.data.texts):  # no examples: descriptions take the kNN share
            w_knn, w_zs = 0.0, w_zs + w_knn
        if w_svm or w_knn:
            x = self.encoder.matrix(queries)
            empty = np.diff(x.indptr) == 0
            if len(self.data.texts):
                sims = _dense(x @ self.features_by_example)
            if w_svm and self.coef is not None:
                decision = _dense(x @ self.coef) + self.intercept
                p_svm[:, self.model_classes] = _softmax_rows(decision, self.temperature)
                p_svm[empty] = 0.0
                p_svm[np.ix_(empty, self.model_classes)] = 1.0 / len(self.model_classes)
            elif w_svm:
                p_svm[:, self.model_classes] = 1.0 / len(self.model_classes)
            if w_knn:
                k = min(KNN_K, sims.shape[1])
                top = (
                    np.argpartition(-sims, k - 1, axis=1)[:, :k]
                    if sims.shape[1] > k
                    else np.tile(np.arange(sims.shape[1]), (q, 1))
                )
                votes = np.maximum(np.take_along_axis(sims, top, axis=1), 1e-6)
                rows = np.repeat(np.arange(q), top.shape[1])
                np.add.at(p_knn, (rows, self.data.labels[top].ravel()), votes.ravel())
                p_knn /= p_knn.sum(axis=1, keepdims=True)
        scores = w_svm * p_svm + w_knn * p_knn
        if w_zs:
            z = self.zero_shot.matrix(queries)
            similarity = _dense(z @ self.descriptions_by_feature)
            scores += w_zs * _softmax_rows(similarity, ZERO_SHOT_TEMPERATURE)
        return scores, sims, self.fit_of(queries)

    def fit_matrix(self, texts: Sequence[str]) -> sp.csr_matrix:
        """The texts as `fit` sees them (texts × fit features): word TF-IDF without generic words, L2 rows."""
        x = self.fit_encoder.matrix(texts)
        if self.fit_weights is not None:
            x = l2_normalize(x @ sp.diags(self.fit_weights)).tocsr()
        return x

    def fit_of(self, queries: Sequence[str]) -> npt.NDArray[np.float64]:
        """Cosine of each query to the nearest example or description (words and concepts, generic words
        left out), in [0, 1]."""
        if not self.fit_by_text.shape[1] or not len(queries):
            return np.zeros(len(queries))
        cos = self.fit_matrix(queries) @ self.fit_by_text
        return np.clip(np.asarray(cos.max(axis=1).todense(), dtype=np.float64).ravel(), 0.0, 1.0)

    def evidence(self, query: str, sims: npt.NDArray[np.float64], agents: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Per agent: its nearest examples (with cosine similarity) and the query terms it shares."""
        wanted = set(agents)
        found: dict[str, list[str]] = {a: [] for a in agents}
        nearest = np.argsort(-sims)[: 8 * KNN_K] if len(sims) else ()
        for i in nearest:
            agent = self.data.classes[self.data.labels[i]][0]
            if agent in wanted and len(found[agent]) < EVIDENCE_EXAMPLES and sims[i] > 0:
                found[agent].append(f'similar example: "{self.data.texts[i]}" ({sims[i]:.2f})')
        forms = self.lexicon.surface_forms(query)
        for agent in agents:
            ranks = self.agent_terms.get(agent, {})
            shared = sorted((t for t in forms if t in ranks), key=ranks.__getitem__)
            words = list(dict.fromkeys(forms[t] for t in shared))[:EVIDENCE_TERMS]
            if words:
                found[agent].append("shared terms: " + ", ".join(words))
        return {a: tuple(v) for a, v in found.items()}

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        return self.route_batch([query], top_k=top_k)[0]

    def route_batch(self, queries: Sequence[str], *, top_k: int = 5) -> list[RouteResult]:
        """Route a whole list at once (vectorised in chunks); the same answers as `route` one by one."""
        results: list[RouteResult] = []
        for start in range(0, len(queries), BATCH_CHUNK):
            results += self._route_chunk(queries[start : start + BATCH_CHUNK], top_k)
        return results

    def _route_chunk(self, queries: Sequence[str], top_k: int) -> list[RouteResult]:
        began = time.perf_counter()
        live = [i for i, text in enumerate(queries) if text.strip()] if self.data.classes else []
        scored = self.score_batch([queries[i] for i in live]) if live else None
        each_ms = (time.perf_counter() - began) * 1000 / max(len(queries), 1)
        results = [RouteResult(router=self.name, matches=(), fit=0.0, threshold=self.threshold)] * len(queries)
        for row, i in enumerate(live):
            assert scored is not None
            start = time.perf_counter()
            scores, sims, fits = scored[0][row], scored[1][row], scored[2][row]
            matches = rank_agents(self.data, scores, top_k=top_k)
            evidence = self.evidence(queries[i], sims, [m.agent for m in matches])
            matches = tuple(m.__class__(m.agent, m.capability, m.score, evidence[m.agent]) for m in matches)
            results[i] = RouteResult(
                router=self.name,
                matches=matches,
                latency_ms=each_ms + (time.perf_counter() - start) * 1000,
                fit=round(float(fits), 4),
                threshold=self.threshold,
            )
        return results

    def loo_fits(self) -> npt.NDArray[np.float64]:
        """Leave-one-out: each example's fit to the channel's other texts (at most LOO_MAX examples)."""
        if self.loo is None:
            self.loo = loo_max_similarity(self.fit_by_text, len(self.data.texts))
        return self.loo

    def off_topic_fits(self) -> npt.NDArray[np.float64]:
        """The fit of each general off-topic message (routing/off_topic.txt) to the channel."""
        if not self.fit_by_text.shape[1]:
            return np.zeros(len(off_topic_messages()))
        if self.off_topic_by_feature is None:
            self.off_topic_by_feature = self.fit_matrix(off_topic_messages())
        cos = self.off_topic_by_feature @ self.fit_by_text
        return np.clip(np.asarray(cos.max(axis=1).todense(), dtype=np.float64).ravel(), 0.0, 1.0)


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
    for _, vocabulary, _, offset, _ in fit_encoder.parts:
        for feature in generic_features(lexicon):
            j = vocabulary.get(feature)
            if j is not None:
                weights[offset + j] = 0.0
    return weights


def _dense(matrix: Any) -> npt.NDArray[np.float64]:
    """A product of sparse and/or dense matrices as a dense float array."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)


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


def _fit(vectorizer: TfidfVectorizer, texts: list[str]) -> None:
    """Fit a vectorizer; texts of stop words only still give a (one-term) vocabulary."""
    if not texts:
        return
    try:
        vectorizer.fit(texts)
    except ValueError:  # empty vocabulary
        vectorizer.fit([*texts, "unknown open create"])


Model = tuple[npt.NDArray[np.float64] | sp.csr_matrix, npt.NDArray[np.float64], npt.NDArray[np.int64], float]


def _linear_model(
    features: sp.csr_matrix, labels: npt.NDArray[np.int64], weights: npt.NDArray[np.float64]
) -> Model | None:
    """(weights as features × classes, intercepts, class order, softmax temperature); None if < 2 classes.

    A one-vs-rest linear SVM up to SVM_MAX_CLASSES classes; beyond, class centroids (linear too, but
    fitted in one pass and stored sparse: a 1 000-agent design must not cost minutes or gigabytes).
    """
    present = np.unique(labels)
    if len(present) < 2:
        return None
    if len(present) > SVM_MAX_CLASSES:
        rows = sp.csr_matrix((weights, (labels, np.arange(len(labels)))), shape=(int(present.max()) + 1, len(labels)))
        centroids = l2_normalize(rows @ features)[present]
        return sp.csr_matrix(centroids.T), np.zeros(len(present)), present.astype(np.int64), CENTROID_TEMPERATURE
    model = LinearSVC(C=SVM_C)
    with warnings.catch_warnings():  # liblinear may stop at max_iter on tiny tables: still a usable model
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(features, labels, sample_weight=weights)
    coef = np.asarray(model.coef_, dtype=np.float64)
    intercept = np.asarray(model.intercept_, dtype=np.float64)
    if len(present) == 2:  # binary: one weight vector for the second class; mirror it for the first
        coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
    return np.ascontiguousarray(coef.T), intercept, present.astype(np.int64), SVM_TEMPERATURE


class StatisticalRouter:
    """Offline router: fit on a table's examples and descriptions (and seed rows); see the module doc.

    `lexicon=False` leaves out the built-in customer-service lexicon (a design's vocabulary still counts).
    """

    name = "statistical"

    def __init__(self, *, lexicon: bool = True) -> None:
        self.lexicon = lexicon

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedStatistical:
        data = training_set(table, seed)
        lexicon = lexicon_for(table.vocabulary, builtin=self.lexicon)
        n = len(data.classes)
        corpus = list(data.texts) + list(data.descriptions)
        word = TfidfVectorizer(analyzer=lexicon.word_features, sublinear_tf=True)
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, preprocessor=normalize)
        zero_shot = TfidfVectorizer(analyzer=lexicon.word_features, sublinear_tf=True)
        if corpus:
            for vectorizer, texts in ((word, corpus), (char, corpus), (zero_shot, list(data.descriptions))):
                _fit(vectorizer, texts)
        encoder = SparseEncoder([(word, WORD_WEIGHT), (char, CHAR_WEIGHT)] if corpus else [])
        zs_encoder = SparseEncoder([(zero_shot, 1.0)] if corpus else [])
        fit_encoder = SparseEncoder([(word, 1.0)] if corpus else [])
        examples = encoder.matrix(data.texts)
        texts, labels = list(data.descriptions), list(range(n))
        if AUGMENT:  # synonym-swapped copies teach the SVM that synonyms are interchangeable
            for text, label in zip(data.texts + data.descriptions, [*data.labels, *range(n)], strict=True):
                variant = lexicon.synonym_variant(text)
                if variant is not None:
                    texts.append(variant)
                    labels.append(int(label))
        weights = np.concatenate([np.ones(len(data.texts) + n), np.full(len(texts) - n, AUGMENT_WEIGHT)])
        model = (
            _linear_model(
                sp.vstack([examples, encoder.matrix(texts)]).tocsr(),
                np.concatenate([data.labels, np.array(labels, dtype=np.int64)]),
                weights,
            )
            if data.texts or ZERO_SHOT_SVM
            else None
        )
        coef, intercept, classes, temperature = model or (None, np.zeros(0), np.zeros(0, dtype=np.int64), 1.0)
        fitted = FittedStatistical(
            data=data,
            encoder=encoder,
            features_by_example=examples.T.tocsr(),
            coef=coef,
            intercept=intercept,
            model_classes=classes,
            temperature=temperature,
            zero_shot=zs_encoder,
            descriptions_by_feature=zs_encoder.matrix(data.descriptions).T.tocsr(),
            weights=blend_weights(data.examples_per_class()),
            agent_terms=_agent_terms(data, lexicon),
            lexicon=lexicon,
            fit_encoder=fit_encoder,
            fit_by_text=sp.csr_matrix((fit_encoder.n_features, 0)),
        )
        if corpus:
            fitted.fit_weights = generic_words_out(fit_encoder, lexicon)
        fitted.fit_by_text = fitted.fit_matrix(corpus).T.tocsr()
        fitted.threshold = (
            table.min_score if table.min_score is not None else no_match_threshold("statistical", fitted.loo_fits())
        )
        return fitted
