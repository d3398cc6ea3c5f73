"""The offline statistical router: TF-IDF (stemmed words + char n-grams), a linear model, kNN and
description matching, blended by how many examples the table has. No model download, scikit-learn only.

Three signals, each a probability over (agent, capability) classes:
* a logistic regression over examples and descriptions (generalises from the words a class uses),
* a top-k nearest-example vote, as lmos-router's vector router does (exact on near-duplicates),
* zero-shot description matching (capability and agent names and descriptions, with a synonym lexicon),
  which carries the answer when a class has few or no examples.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize as l2_normalize

from lmos_studio.routing.base import RouteResult, RoutingTable
from lmos_studio.routing.text import normalize, word_features
from lmos_studio.routing.training import TrainingSet, rank_agents, training_set

KNN_K = 5  # neighbours that vote, as lmos-router's vector router (top 5, grouped by agent)
WORD_WEIGHT = 0.6  # share of stemmed-word features against char n-grams in the joint vector
LR_C = 20.0  # weak regularisation: the classes are small and the features sparse
ZERO_SHOT_TEMPERATURE = 12.0  # softmax sharpness over description cosine similarities
EVIDENCE_EXAMPLES = 2  # nearest examples quoted per agent
EVIDENCE_TERMS = 4  # shared terms quoted per agent


def _softmax(values: npt.NDArray[np.float64], temperature: float) -> npt.NDArray[np.float64]:
    z = (values - values.max()) * temperature
    e = np.exp(z)
    return np.asarray(e / e.sum(), dtype=np.float64)


def blend_weights(examples_per_class: float) -> tuple[float, float, float]:
    """(linear model, kNN, description) weights: descriptions fade as examples per class grow."""
    if examples_per_class <= 0:
        return 0.0, 0.0, 1.0
    description = 1.0 / (1.0 + examples_per_class / 3.0)  # 5 per class → 0.375, 100 → 0.03
    knn = 0.35 * (1.0 - description)
    return 1.0 - description - knn, knn, description


@dataclass
class FittedStatistical:
    """The statistical router fitted on one routing table."""

    data: TrainingSet
    word: TfidfVectorizer
    char: TfidfVectorizer
    examples: sp.csr_matrix  # joint vectors of the example texts (rows L2-normalised)
    model: LogisticRegression | None
    model_classes: npt.NDArray[np.int64]  # class index of each column of model.predict_proba
    zero_shot: TfidfVectorizer
    descriptions: sp.csr_matrix  # zero-shot vectors of the class descriptions
    weights: tuple[float, float, float]
    agent_terms: dict[str, tuple[str, ...]]  # per agent, its words (and concepts), most distinctive first
    name: str = "statistical"

    def _vector(self, texts: Sequence[str]) -> sp.csr_matrix:
        joint = sp.hstack([self.word.transform(texts) * WORD_WEIGHT,
                           self.char.transform(texts) * (1.0 - WORD_WEIGHT)]).tocsr()
        return l2_normalize(joint)

    def class_scores(self, query: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(blended class probabilities, example similarities) of one query."""
        n = len(self.data.classes)
        w_lr, w_knn, w_zs = self.weights
        scores = np.zeros(n)
        sims = np.zeros(0)
        if w_lr or w_knn:
            vec = self._vector([query])
            if self.model is not None:
                scores[self.model_classes] += w_lr * self.model.predict_proba(vec)[0]
            else:
                w_knn += w_lr
            sims = (self.examples @ vec.T).toarray().ravel()
            top = np.argsort(-sims)[:KNN_K]
            votes = np.zeros(n)
            np.add.at(votes, self.data.labels[top], np.maximum(sims[top], 1e-6))
            scores += w_knn * votes / votes.sum()
        if w_zs:
            zs = (self.descriptions @ self.zero_shot.transform([query]).T).toarray().ravel()
            scores += w_zs * _softmax(zs, ZERO_SHOT_TEMPERATURE)
        return scores, sims

    def _evidence(self, query: str, sims: npt.NDArray[np.float64]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for i in np.argsort(-sims)[: 4 * KNN_K]:
            agent = self.data.classes[self.data.labels[i]][0]
            quoted = found.setdefault(agent, [])
            if len(quoted) < EVIDENCE_EXAMPLES and sims[i] > 0:
                quoted.append(f'similar example: "{self.data.texts[i]}" ({sims[i]:.2f})')
        query_terms = set(word_features(query))
        for agent, terms in self.agent_terms.items():
            shared = [t.lstrip("~") for t in terms if t in query_terms][:EVIDENCE_TERMS]
            if shared:
                found.setdefault(agent, []).append("shared terms: " + ", ".join(shared))
        return {a: tuple(v) for a, v in found.items()}

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        start = time.perf_counter()
        if not query.strip() or not self.data.classes:
            return RouteResult(router=self.name, matches=(), latency_ms=0.0)
        scores, sims = self.class_scores(query)
        matches = rank_agents(self.data, scores, top_k=top_k, evidence=self._evidence(query, sims))
        return RouteResult(router=self.name, matches=matches,
                           latency_ms=(time.perf_counter() - start) * 1000)


def _agent_terms(data: TrainingSet) -> dict[str, tuple[str, ...]]:
    """Each agent's terms ordered by how much of a term's use is this agent's (then by frequency)."""
    counts: dict[str, dict[str, int]] = {}
    texts = [(data.classes[c][0], data.descriptions[c]) for c in range(len(data.classes))]
    texts += [(data.classes[label][0], text) for text, label in zip(data.texts, data.labels, strict=True)]
    for agent, text in texts:
        mine = counts.setdefault(agent, {})
        for term in set(word_features(text)):
            if " " not in term:
                mine[term] = mine.get(term, 0) + 1
    total: dict[str, int] = {}
    for mine in counts.values():
        for term, n in mine.items():
            total[term] = total.get(term, 0) + n
    return {agent: tuple(sorted(mine, key=lambda t: (-mine[t] / total[t], -mine[t], t)))
            for agent, mine in counts.items()}


class StatisticalRouter:
    """Offline router: fit on a table's examples and descriptions (and seed rows); see the module doc."""

    name = "statistical"

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedStatistical:
        data = training_set(table, seed)
        corpus = list(data.texts) + list(data.descriptions)
        word = TfidfVectorizer(analyzer=word_features, sublinear_tf=True)
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                               preprocessor=normalize, dtype=np.float64)
        zero_shot = TfidfVectorizer(analyzer=word_features, sublinear_tf=True)
        descriptions = zero_shot.fit_transform(data.descriptions) if data.classes else sp.csr_matrix((0, 0))
        if corpus:
            word.fit(corpus)
            char.fit(corpus)
        fitted = FittedStatistical(
            data=data, word=word, char=char, examples=sp.csr_matrix((0, 0)), model=None,
            model_classes=np.zeros(0, dtype=np.int64), zero_shot=zero_shot, descriptions=descriptions,
            weights=blend_weights(data.examples_per_class()), agent_terms=_agent_terms(data))
        if len(data.texts):
            fitted.examples = fitted._vector(data.texts)
            labels = np.concatenate([data.labels, np.arange(len(data.classes))])
            if len(set(labels.tolist())) >= 2:
                model = LogisticRegression(C=LR_C, max_iter=300)
                model.fit(sp.vstack([fitted.examples, fitted._vector(data.descriptions)]), labels)
                fitted.model = model
                fitted.model_classes = model.classes_.astype(np.int64)
        return fitted
