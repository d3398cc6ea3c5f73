"""Which capabilities of one channel a router would confuse, found by leave-one-out over their own texts.

Every example of a capability (its description when it has none) is set against the channel's other texts, itself
left out: when its nearest text belongs to another capability — or comes as close as its own capability's nearest,
within a margin — it crosses over. A pair is reported when enough of its texts cross (`MIN_CROSSINGS`,
`CROSS_SHARE`), with the crossing texts as evidence. Texts are compared as the offline routers see them, in two
ways, and a crossing in either counts: as the lexicon reads them (each word of a synonym group replaced by its
concept, so "where is my parcel" and "where is my package" read the same; the design's `vocabulary` included; under
the design's lexicon policy, `spec.routing.lexicon`, see `lexicon.lint_choice` — without the built-in lexicon they
are read as words and the vocabulary, "words" in a finding), and as MiniLM sentence embeddings (when the local
model loads), which catch paraphrases no lexicon lists. No TF-IDF pre-filter: a channel's texts are compared in one
matrix product. At scale (`confusions_of`, what lint uses) what costs is per distinct text, not per pair: each text
of the design is read by the lexicon once and embedded once (one encoder call, a disk cache sharded by text so an
edit re-encodes little), and only channels with two capabilities or more are compared (a design without Channels:
all its agents as one table, as it is routed). Pure computation over routing tables; the only I/O is the embedding
model's disk cache.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

from lmos_studio.errors import RoutingError
from lmos_studio.graph import agent_node, channel_node
from lmos_studio.lint import WARNING, Finding, lint_design
from lmos_studio.model import Agent, Design
from lmos_studio.resolve import Resolution
from lmos_studio.routing.base import RoutingTable
from lmos_studio.routing.lexicon import LexiconChoice, lint_choice
from lmos_studio.routing.regression import routing_test_findings
from lmos_studio.routing.table import ALL_AGENTS, all_agents_table, table_for_resolution
from lmos_studio.routing.text import lexicon_for, name_words
from lmos_studio.trust import safe_resolutions

# Per representation: (margin, floor). Another capability's text within `margin` of a text's own nearest
# counts as a crossing (embeddings: only when strictly nearer), if its cosine is at least `floor`.
RULES = {"lexicon": (0.02, 0.8), "words": (0.02, 0.8), "embedding": (0.0, 0.6)}  # words: lexicon off
MIN_CROSSINGS = 3  # a pair is reported when at least this many of its texts cross over …
CROSS_SHARE = 0.25  # … and at least this share of the smaller capability's texts (one stray example is noise)


@dataclass(frozen=True)
class Crossing:
    """A text of one capability that is as near to another capability's text as to its own."""

    text: str
    nearest: str  # the other capability's text it is nearest to
    similarity: float  # cosine to `nearest`
    own: float  # cosine to its own capability's nearest other text (0 when it has none)


@dataclass(frozen=True)
class Confusion:
    """Two capabilities of one channel the router would confuse, with the texts that cross over."""

    first: tuple[str, str]  # (agent, capability)
    second: tuple[str, str]
    crossings: tuple[Crossing, ...]
    method: str  # "lexicon" (or "words"), "embedding" or both ("lexicon+embedding"): what saw the crossing


def _embed(texts: list[str]) -> npt.NDArray[np.float64] | None:
    try:
        from lmos_studio.routing.encoder import cached_embed_many, local_embedder

        return np.asarray(cached_embed_many(local_embedder(), texts), dtype=np.float64)
    except (ImportError, RoutingError):
        return None


def _tfidf(docs: Sequence[Sequence[str]]) -> npt.NDArray[np.float64]:
    """Rows of scikit-learn's `TfidfVectorizer(sublinear_tf=True)` over pre-analysed documents (smooth idf,
    1 + log tf, L2 rows; the columns in first-seen order), without its per-call overhead."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    columns: list[int] = []
    for i, doc in enumerate(docs):
        for token in doc:
            rows.append(i)
            columns.append(vocabulary.setdefault(token, len(vocabulary)))
    if not vocabulary:  # nothing but stop words
        return np.zeros((len(docs), 1))
    counts = np.zeros((len(docs), len(vocabulary)))
    np.add.at(counts, (rows, columns), 1.0)
    present = counts > 0
    tf = np.where(present, 1.0 + np.log(np.where(present, counts, 1.0)), 0.0)
    idf = np.log((1.0 + len(docs)) / (1.0 + present.sum(axis=0))) + 1.0
    weights = tf * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return np.asarray(weights / np.where(norms == 0, 1.0, norms), dtype=np.float64)


@dataclass(frozen=True)
class _Channel:
    """One table's texts as confusion compares them."""

    classes: list[tuple[str, str]]  # (agent, capability)
    texts: list[str]
    labels: npt.NDArray[np.int64]  # class of each text
    vocabulary: tuple[tuple[str, ...], ...]
    lexicon: LexiconChoice  # whether its texts are read with the built-in lexicon


def _channel(table: RoutingTable) -> _Channel | None:
    classes = list(dict.fromkeys((c.agent, c.capability) for c in table.candidates))
    if len(classes) < 2:
        return None
    index = {key: i for i, key in enumerate(classes)}
    texts: list[str] = []
    label_list: list[int] = []
    for cand in table.candidates:  # examples; the description (own words only) when there are none
        own = [e for e in cand.examples if e.strip()]
        if not own:
            own = [" . ".join(t for t in (name_words(cand.capability), cand.description) if t)]
        texts += own
        label_list += [index[(cand.agent, cand.capability)]] * len(own)
    vocabulary = tuple(tuple(group) for group in table.vocabulary)
    choice = lint_choice(table)
    return _Channel(classes, texts, np.array(label_list, dtype=np.int64), vocabulary, choice)


def confusions(table: RoutingTable, *, method: str = "auto") -> list[Confusion]:
    """Pairs of the table's capabilities whose texts cross over (see the module doc), strongest first.

    `method`: "lexicon" (the lexicon only), or "auto" / "embedding" (also MiniLM, when it loads).
    """
    return confusions_of([table], method=method)[0]


def confusions_of(tables: Sequence[RoutingTable], *, method: str = "auto") -> list[list[Confusion]]:
    """`confusions` of each table (a design's channels), with each distinct text analysed by the lexicon once
    and embedded once: one encoder call (and one sharded disk cache) for all the tables together."""
    return _channels_confusions([_channel(table) for table in tables], method)


def _channels_confusions(channels: Sequence[_Channel | None], method: str) -> list[list[Confusion]]:
    unique = list(dict.fromkeys(text for ch in channels if ch for text in ch.texts))
    canonical: dict[tuple[bool, tuple[tuple[str, ...], ...], str], list[str]] = {}
    rows: dict[str, int] = {}
    embedded = None
    if unique and method in ("auto", "embedding"):
        embedded = _embed(unique)
        rows = {text: i for i, text in enumerate(unique)}
    with threadpool_limits(limits=1, user_api="blas"):  # small products: BLAS threads only spin (3-60x the CPU)
        return [_channel_confusions(ch, canonical, embedded, rows) if ch else [] for ch in channels]


def _channel_confusions(
    ch: _Channel,
    canonical: dict[tuple[bool, tuple[tuple[str, ...], ...], str], list[str]],
    embedded: npt.NDArray[np.float64] | None,
    rows: dict[str, int],
) -> list[Confusion]:
    lexicon = lexicon_for(ch.vocabulary, builtin=ch.lexicon.used)
    docs = []
    for text in ch.texts:
        key = (ch.lexicon.used, ch.vocabulary, text)
        if key not in canonical:
            canonical[key] = lexicon.canonical(text)
        docs.append(canonical[key])
    representations = [("lexicon" if ch.lexicon.used else "words", _tfidf(docs))]
    if embedded is not None:
        representations.append(("embedding", embedded[[rows[text] for text in ch.texts]]))
    return _confusions(ch, representations)


def _confusions(ch: _Channel, representations: list[tuple[str, npt.NDArray[np.float64]]]) -> list[Confusion]:
    classes, labels = ch.classes, ch.labels
    found: dict[tuple[int, int], dict[tuple[int, str], Crossing]] = {}
    seen_by: dict[tuple[int, int], set[str]] = {}
    for name, vectors in representations:
        for pair, source, crossing in _crossings(vectors, labels, ch.texts, classes, *RULES[name]):
            found.setdefault(pair, {}).setdefault((source, crossing.text), crossing)
            seen_by.setdefault(pair, set()).add(name)
    sizes = np.bincount(labels, minlength=len(classes))
    found = {
        pair: crossings
        for pair, crossings in found.items()
        if len(crossings) >= max(MIN_CROSSINGS, CROSS_SHARE * min(sizes[pair[0]], sizes[pair[1]]))
    }
    result = [
        Confusion(
            classes[a],
            classes[b],
            tuple(sorted(crossings.values(), key=lambda x: -x.similarity)),
            "+".join(n for n in ("lexicon", "words", "embedding") if n in seen_by[(a, b)]),
        )
        for (a, b), crossings in found.items()
    ]
    return sorted(result, key=lambda c: (-len(c.crossings), -c.crossings[0].similarity, c.first, c.second))


def _crossings(
    vectors: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    texts: list[str],
    classes: list[tuple[str, str]],
    margin: float,
    floor: float,
) -> list[tuple[tuple[int, int], int, Crossing]]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.where(norms == 0, 1.0, norms)
    sims = unit @ unit.T
    np.fill_diagonal(sims, -1.0)  # leave each text out
    n = len(texts)
    nearest = np.full((n, len(classes)), -1.0)
    which = np.zeros((n, len(classes)), dtype=np.int64)
    for c in range(len(classes)):
        members = np.flatnonzero(labels == c)
        block = sims[:, members]
        which[:, c] = members[block.argmax(axis=1)]
        nearest[:, c] = block.max(axis=1)
    own_best = np.maximum(nearest[np.arange(n), labels], 0.0)[:, None]
    crosses = (nearest >= floor) & (nearest >= own_best - margin)
    if margin == 0:
        crosses &= nearest > own_best
    capability = {name: i for i, name in enumerate(dict.fromkeys(cap for _, cap in classes))}
    capability_of = np.array([capability[cap] for _, cap in classes], dtype=np.int64)
    # the same capability from two agents (its own class included) is a version question, not ambiguity
    crosses &= capability_of[None, :] != capability_of[labels][:, None]
    found = []
    for i, c in zip(*np.nonzero(crosses), strict=True):  # row-major: each text's crossings in class order
        own = int(labels[i])
        crossing = Crossing(
            texts[i], texts[int(which[i, c])], round(float(nearest[i, c]), 4), round(float(own_best[i, 0]), 4)
        )
        found.append(((min(own, int(c)), max(own, int(c))), own, crossing))
    return found


AMBIGUITY_EVIDENCE = 3  # crossing examples quoted in an ambiguous-capabilities finding
MAX_ALL_AGENTS_TEXTS = 2000  # a design without Channels is compared as one table up to this many texts (n² cosines)
ALL_AGENTS_WHERE = "All agents (the design has no Channels)"


@dataclass(frozen=True)
class _Scope:
    """What one ambiguity comparison covers: a Channel's table, or all agents of a design without Channels."""

    key: str  # the channel key ("" = all agents)
    where: str  # how a finding names it
    nodes: tuple[str, ...]  # graph nodes a finding names besides its capabilities and agents
    agents: dict[str, Agent]  # by name
    table: RoutingTable

    @classmethod
    def of_channel(cls, resolution: Resolution, design: Design) -> _Scope:
        agents = {w.agent.name: w.agent for w in resolution.wires}
        table = table_for_resolution(resolution, design.routing)
        key = resolution.channel.key
        return cls(key, f"Channel {key}", (channel_node(resolution.channel),), agents, table)


@dataclass(frozen=True)
class LintReport:
    """Findings (lint's, or its `ambiguous-capabilities` alone) and, per channel compared for ambiguity,
    how its texts were read (the built-in lexicon on or off)."""

    findings: list[Finding]
    lexicon: dict[str, LexiconChoice]  # channel key → the built-in lexicon on or off, and why

    def lexicon_summaries(self) -> dict[str, str]:
        """Channel key → one line (`LexiconChoice.describe`), as `eval` reports it."""
        return {key: self.lexicon[key].describe() for key in sorted(self.lexicon)}


def ambiguity_findings(
    design: Design, resolutions: Sequence[Resolution] | None = None, *, method: str = "auto"
) -> list[Finding]:
    """lint's `ambiguous-capabilities`: per channel, the capability pairs `confusions` finds, with evidence."""
    return ambiguity_check(design, resolutions, method=method).findings


def ambiguity_check(
    design: Design, resolutions: Sequence[Resolution] | None = None, *, method: str = "auto"
) -> LintReport:
    """`ambiguity_findings` with the lexicon choice of every channel compared. A design without Channels is
    compared as one table of all its agents, as `route`, `eval` and `test` route it (up to
    `MAX_ALL_AGENTS_TEXTS` texts: its texts are compared pairwise)."""
    findings = []
    chosen = [
        r
        for r in (safe_resolutions(design) if resolutions is None else resolutions)
        if len({w.provided.name for w in r.wires}) >= 2  # one capability cannot be confused with another
    ]
    scopes = [_Scope.of_channel(r, design) for r in chosen]
    if not design.channels:
        everyone = all_agents_table(design)
        if sum(max(1, len(c.examples)) for c in everyone.candidates) <= MAX_ALL_AGENTS_TEXTS:
            scopes.append(_Scope(ALL_AGENTS, ALL_AGENTS_WHERE, (), {a.name: a for a in design.agents}, everyone))
    channels = [_channel(scope.table) for scope in scopes]
    lexicon = {s.key: ch.lexicon for s, ch in zip(scopes, channels, strict=True) if ch is not None}
    for scope, confused in zip(scopes, _channels_confusions(channels, method), strict=True):
        agents = scope.agents
        for found in confused:
            (agent_a, cap_a), (agent_b, cap_b) = found.first, found.second
            objects = (
                *scope.nodes,
                f"capability:{cap_a}",
                f"capability:{cap_b}",
                agent_node(agents[agent_a]),
                agent_node(agents[agent_b]),
            )
            quoted = "; ".join(
                f'"{c.text}" ~ "{c.nearest}" ({c.similarity:.2f})' for c in found.crossings[:AMBIGUITY_EVIDENCE]
            )
            findings.append(
                Finding(
                    "ambiguous-capabilities",
                    WARNING,
                    tuple(dict.fromkeys(objects)),
                    f"{scope.where}: {cap_a} ({agent_a}) and {cap_b} ({agent_b}) are confused by "
                    f"routing: {len(found.crossings)} of their examples are as near to the other's as to their own "
                    f"(leave-one-out, {found.method}): {quoted}",
                    "make the examples say what differs (or give the design a vocabulary), or merge the capabilities",
                )
            )
    return LintReport(findings, lexicon)


def lint_with_routing(
    design: Design, *, resolutions: Sequence[Resolution] | None = None, method: str = "auto"
) -> list[Finding]:
    """`lint_design` plus `ambiguous-capabilities` by confusion and the routing tests' findings
    (`regression.routing_test_findings`): what `lmos-studio lint` and the Designer show."""
    return lint_report(design, resolutions=resolutions, method=method).findings


def lint_report(design: Design, *, resolutions: Sequence[Resolution] | None = None, method: str = "auto") -> LintReport:
    """`lint_with_routing` with each compared channel's lexicon choice (what `lmos-studio lint -o json` shows)."""
    resolutions = list(resolutions) if resolutions is not None else safe_resolutions(design)
    ambiguity = ambiguity_check(design, resolutions, method=method)
    extra = [*ambiguity.findings, *routing_test_findings(design, resolutions)]
    return LintReport(lint_design(design, resolutions=resolutions, extra=extra), ambiguity.lexicon)
