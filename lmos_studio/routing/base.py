"""The Router protocol and the routing table a channel's resolution gives it.

A `RoutingTable` lists what a router may answer with: the (agent, capability) pairs the operator wired
into a channel (or, for a design without Channels, every agent's capabilities). Routers are fitted on a
table and then answer queries with ranked `Match`es that carry a score and the evidence for it.

"No agent fits" is an answer: a `RouteResult` carries `fit`, how close the query is to anything the channel
handles (each router documents what it is: a cosine similarity for the offline routers, the model's
confidence for the LLM), and the `threshold` it is held to. Below it, `best` is None and `matches` are
still the ranked candidates, shown greyed. A threshold comes, in order, from the call (`--min-score`), the
design (`StudioDesign` `spec.routing.minScore`, carried by the table) or the router's default, chosen from
the design's own examples (see `no_match_threshold`).

The offline routers' default rule has a second signal, "nearer elsewhere" (routing/threshold.py): a
query whose `elsewhere` (how much nearer it is to a request for another service than to anything the
channel handles) is above `elsewhere_limit` gets no agent either, whatever its fit. An explicit threshold
(`--min-score`, `minScore`) holds the query to the fit rule only: `with_threshold` drops the second signal.
`rejected_by` says which signal answered "no agent", `reason` says it in words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Protocol, overload

from lmos_studio.errors import RoutingError
from lmos_studio.model import message_key


@dataclass(frozen=True)
class Candidate:
    """One (agent, capability) a router may pick, with the text it can learn from."""

    agent: str
    capability: str
    description: str = ""
    examples: tuple[str, ...] = ()
    agent_description: str = ""
    version: str = ""


@dataclass(frozen=True)
class RoutingTable:
    """What a channel can route to. `channel` is the Channel's key (namespace/name) or "" for all agents."""

    channel: str
    candidates: tuple[Candidate, ...]
    min_score: float | None = None  # the design's no-match threshold (None: the router's default)
    vocabulary: tuple[tuple[str, ...], ...] = ()  # the design's synonym groups (offline routers)
    lexicon: str = "auto"  # the built-in lexicon: auto, customer-service or none (see routing/lexicon.py)
    out_of_scope: tuple[str, ...] = ()  # the design's examples no agent of the channel should answer

    @cached_property  # read on every route (ranking, the static opinions): a table of 10 000 agents took ~40 ms
    def agents(self) -> tuple[str, ...]:
        """The agents of the candidates, in first-seen order (computed once per table: it is frozen)."""
        return tuple(dict.fromkeys(c.agent for c in self.candidates))


Evidence = tuple[str, ...]
EvidenceSource = Evidence | Callable[[], Evidence]  # the evidence, or a function that computes it when read


class LazyEvidence:
    """A dataclass field holding evidence given as a tuple or as a function computed on first read.

    Batch routing (eval, whatif, diff, routing tests) reads evidence only for the rows it shows, so a router
    may hand over a function instead of computing every query's evidence up front; reading the field always
    gives the tuple (computed once, then kept). Equality, repr and pickling see the tuple.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Evidence: ...
    @overload
    def __get__(self, obj: object, owner: type | None = None) -> Evidence: ...
    def __get__(self, obj: object | None, owner: type | None = None) -> Evidence:
        if obj is None:  # read on the class: the field's default (dataclasses read it so)
            return ()
        value = obj.__dict__[self.slot]
        if callable(value):
            value = tuple(value())
            obj.__dict__[self.slot] = value
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: object, value: EvidenceSource) -> None:
        obj.__dict__[self.slot] = value if callable(value) else tuple(value)


def reduce_with_evidence(obj: Any) -> tuple[Any, ...]:
    """Pickle a dataclass with lazy evidence as its plain fields (the evidence computed first)."""
    from dataclasses import fields

    return (type(obj), tuple(getattr(obj, f.name) for f in fields(obj)))


@dataclass(frozen=True)
class Match:
    """One ranked answer: agent, capability, a score in [0, 1] (higher is better) and why.

    `evidence` may be given as a function: it is computed when first read (see `LazyEvidence`).
    """

    agent: str
    capability: str
    score: float
    evidence: LazyEvidence = LazyEvidence()

    __reduce__ = reduce_with_evidence


@dataclass(frozen=True)
class RouteResult:
    """A router's answer to one query; `matches` best first (may be empty: no agent)."""

    router: str
    matches: tuple[Match, ...]
    latency_ms: float = 0.0
    usage: dict[str, Any] = field(default_factory=dict)  # tokens / cost for LLM routers
    fit: float | None = None  # how close the query is to the channel (None: the router does not say)
    threshold: float | None = None  # below it no agent answers (None: always answer)
    elsewhere: float | None = None  # cosine to the nearest other service − cosine to the channel (None: not used)
    elsewhere_limit: float | None = None  # above it no agent answers (None: the signal is off)
    elsewhere_text: str = ""  # the nearest request for another service (evidence)
    elsewhere_listed: bool = False  # … and it is one the design lists as out of scope (spec.routing.outOfScope)
    listed: bool = False  # the design lists this very message as out of scope for the channel: no agent answers
    declined: bool = False  # the router (an LLM) answered that no agent of the channel fits

    @property
    def rejected_by(self) -> str | None:
        """Why no agent answers: "listed" (the design lists the message as out of scope for the channel),
        "declined" (the LLM answered that no agent fits), "no-candidates", "fit" (below the threshold),
        "elsewhere" (nearer to another service than to this channel); None when an agent answers."""
        if self.listed:
            return "listed"
        if self.declined:
            return "declined"
        if not self.matches:
            return "no-candidates"
        if self.threshold is not None and self.fit is not None and self.fit < self.threshold:
            return "fit"
        if self.elsewhere_limit is not None and self.elsewhere is not None and self.elsewhere > self.elsewhere_limit:
            return "elsewhere"
        return None

    @property
    def no_match(self) -> bool:
        """True when no agent of the channel would answer (no candidates, `fit` below `threshold`, or
        `elsewhere` above `elsewhere_limit`)."""
        return self.rejected_by is not None

    @property
    def reason(self) -> str:
        """Why no agent answers, in words ("" when one does)."""
        signal = self.rejected_by
        if signal == "no-candidates":
            return "the channel has no candidates"
        if signal == "listed":
            return "the design lists this message as out of scope for this channel (spec.routing.outOfScope)"
        if signal == "declined":
            return "the LLM answered that no agent of this channel fits"
        if signal == "fit":
            return f"fit {self.fit:.2f}, below the channel's threshold {self.threshold:.2f}"
        if signal == "elsewhere":
            return (
                f'nearer to {self.elsewhere_kind} ("{self.elsewhere_text}") than to anything this channel handles: '
                f"by {self.elsewhere:.2f}, more than the {self.elsewhere_limit:.2f} it allows"
            )
        return ""

    @property
    def elsewhere_kind(self) -> str:
        """What `elsewhere_text` is, in words: one of the design's listed out-of-scope messages, or a request
        for another service (Studio's packaged list)."""
        if self.elsewhere_listed:
            return "a message the design lists as out of scope"
        return "a request for another service"

    @property
    def best(self) -> Match | None:
        """The answering match, or None when no agent fits (`matches` may still list candidates)."""
        return None if self.no_match else self.matches[0]

    def with_threshold(self, threshold: float | None) -> RouteResult:
        """This answer held to another threshold (a per-call `--min-score`), by the fit rule only (the
        "nearer elsewhere" signal and the design's listing are dropped, but for a listed message the router did
        not rank: the LLM router is not asked about one); an LLM's "no agent fits" stays; None keeps the
        router's rule."""
        if threshold is None:
            return self
        return replace(self, threshold=threshold, elsewhere_limit=None, listed=self.listed and not self.matches)


def listed_texts(texts: Sequence[str]) -> frozenset[str]:
    """A table's out-of-scope messages (`RoutingTable.out_of_scope`) as `model.message_key` compares them."""
    return frozenset(message_key(t) for t in texts)


def check_threshold(value: float, *, what: str = "--min-score") -> float:
    """A no-match threshold must be a number in [0, 1]; else a RoutingError saying so."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 1.0:
        raise RoutingError(f"{what} is {value!r}; it must be a number from 0 to 1 (a similarity)")
    return float(value)


class FittedRouter(Protocol):
    """A router fitted on one routing table."""

    name: str

    def route(self, query: str, *, top_k: int = 5) -> RouteResult: ...


class Router(Protocol):
    """A routing method; `fit` learns a table (and optional labelled seed examples)."""

    name: str

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        """`seed` rows are (text, agent, capability-or-empty)."""
        ...


def route_fitted(fitted: FittedRouter, queries: Sequence[str], *, top_k: int = 1) -> list[RouteResult]:
    """Every query's answer from a fitted router, in order: its vectorised `route_batch` when it has one
    (offline routers: one encoder call and matrix products per chunk; hybrid: its fast router's batch, then
    the LLM for each query below its threshold), else query by query (the LLM router)."""
    batch = getattr(fitted, "route_batch", None)
    if batch is not None:
        results: list[RouteResult] = batch(list(queries), top_k=top_k)
        return results
    return [fitted.route(query, top_k=top_k) for query in queries]


def route_batch(router: Router, queries: Sequence[str], table: RoutingTable, *, top_k: int = 1) -> list[RouteResult]:
    """Every query's answer in one table, in order: the one path for routing a list of queries.

    Fits `router` on `table` once; an empty table answers every query with no match.
    """
    if not table.candidates:
        return [RouteResult(router=router.name, matches=()) for _ in queries]
    return route_fitted(router.fit(table), queries, top_k=top_k)
