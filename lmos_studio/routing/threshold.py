"""The default "no agent fits" threshold of the offline routers, chosen from a design's own examples and a
domain-agnostic background of general off-topic messages (`off_topic.txt`, written by us).

Two distributions are compared per channel, in the router's own `fit` (what the number means is documented
on each router: `FittedStatistical.fit_of`, `FittedEmbedding.score_batch`):
* in scope — leave-one-out over examples: every example is scored as if it were a query, against the
  channel's other examples and descriptions (at most `LOO_MAX` examples, spread evenly, so the cost is
  bounded per channel);
* out of scope — the off-topic messages scored against the channel, each one left out of the background
  it is compared with. A message that comes as close to the channel as its own examples come to each other
  (above the `KEEP_BELOW` quantile of their leave-one-out fits) is in the channel's domain (a weather
  service, a recipe bot) and dropped from its background.
The threshold sits between them: the lower of a high quantile of the off-topic fits and a share of a low
quantile of the examples' fits, kept within a range where the router's `fit` means something. A channel
without examples (zero-shot) gets the router's fixed, lenient default.

A second signal catches same-domain near-misses ("book a meeting room" at an IT desk), which come as close
to a channel as its own informal queries do: **nearer elsewhere**. `other_services.txt` (written by us) holds
requests to about 40 other kinds of service desk; a channel keeps those that are clearly not its own (each
farther from the channel's nearest text than the `SERVICE_KEEP_BELOW` quantile of its examples' leave-one-out
cosines, and farther from it by more than `SERVICE_GAP` than from the nearest other service message: a message
about as near to the channel as to its own kind, "I was charged twice for my order" at a desk that handles
double charges, is not clearly elsewhere), plus the design's own out-of-scope examples
(`spec.routing.outOfScope`, always kept). A query's `elsewhere` is its cosine to the nearest kept service
message minus its cosine to the channel's nearest text; the channel's limit is the `ELSEWHERE_QUANTILE`
quantile of the same number for its examples (left out) plus `ELSEWHERE_MARGIN`, at least `ELSEWHERE_FLOOR`.
Above it, no agent answers. With this signal on, the embedding router's fit threshold above is taken at
`FIT_SHARE_WITH_ELSEWHERE` of its value (the near-misses it caught at the cost of false rejects are now
caught by the second signal).

The statistical router has the same signal in its own vector space (`FittedStatistical.keep_services`):
cosines of the model's TF-IDF vectors (stemmed words, bigrams, lexicon concepts and char n-grams, as its kNN
vote sees them; a word the channel never uses is not in that space, only its char n-grams are). Word vectors
share few words even within one capability (its examples' leave-one-out cosines are low), so a service
message is kept whenever it is nearer to another service message than to the channel
(`STATISTICAL_SERVICE_KEEP_BELOW` is None: no quantile condition). Its limit is the `ELSEWHERE_QUANTILE`
quantile of its examples' own `elsewhere` (at most `STATISTICAL_ELSEWHERE_LOO` of them, left out) plus
`STATISTICAL_ELSEWHERE_MARGIN`, at least `STATISTICAL_ELSEWHERE_FLOOR` (in most channels, the floor). Its fit
threshold is unchanged when the signal is on (its false rejects were queries that share no word with the
channel, which a lower threshold would not keep). Since session 11 its `fit` is soft where the static word
vectors are on (a table with examples, at most 27 per class): the larger of the TF-IDF fit and a static fit,
STATIC_FIT_SCALE × (s − STATIC_FIT_FROM) with s the query's cosine to the channel's nearest class centroid of
MiniLM's input token vectors (`StaticCentroids`, routing/capability.py: each class's full description text and
its examples); "my vehicle died on the highway" fits a breakdown service it shares no word with. Its threshold
is then the "statistical-static" rule over the examples' leave-one-out fits taken the same way (each example's
own class centroid without it): the 0.20 quantile, whole, in the same range.

A design's `minScore` replaces the fit threshold and turns "nearer elsewhere" off; the messages the design
lists as out of scope are still answered "no agent". A per-call `--min-score` holds queries to the fit rule
only, at that number (`RouteResult.with_threshold`: the listing set aside too). Every
constant here was chosen on dev data only (benchmarks/data/dev/, informal-dev.csv, out-of-scope-dev.csv, where
benchmarks/elsewhere_dev.py compares the embedding rule with its variants; for the statistical signal also the
sample designs' labelled queries: benchmarks/statistical_dev.py), never on the
frozen sets (benchmarks/data/networks/, networks-2/, networks-3/, networks-4/, heldout/). No I/O besides reading the two
packaged lists once.

What was tried and measured here, session by session, adopted or not: docs/routing-research.md
(`routing/threshold.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

LOO_MAX = 2000  # examples routed leave-one-out (spread evenly over a large table)
OFF_TOPIC_FILE = Path(__file__).parent / "off_topic.txt"
KEEP_BELOW = 0.25  # off-topic messages at least as near as this quantile of the examples' fits are on topic
GENERIC_SHARE = 0.05  # statistical fit: words in this share of the off-topic messages are generic ("what")
OTHER_SERVICES_FILE = Path(__file__).parent / "other_services.txt"
SERVICE_KEEP_BELOW = 0.05  # service messages at least as near as this quantile of the examples' LOO are kept out
SERVICE_GAP = 0.05  # … and those not nearer, by at least this cosine, to another service message than to the channel
ELSEWHERE_QUANTILE = 0.90  # the limit: this quantile of the examples' own (leave-one-out) `elsewhere` …
ELSEWHERE_MARGIN = 0.15  # … plus this, …
ELSEWHERE_FLOOR = 0.0  # … and never below this: a query nearer to the channel than to any other service stays
FIT_SHARE_WITH_ELSEWHERE = 0.85  # embedding: the fit threshold is taken at this share of it when the signal is on
# The statistical router's signal (TF-IDF space), chosen on dev data only (the six dev networks, informal-dev,
# the sample designs' labelled queries): with the lexicon `auto`, out-of-scope recall .635 → .698 on the dev
# networks at no in-scope loss (customer-service lexicon: .548 → .603 for one in-scope query of 171, 0.6
# points), informal-dev and the sample designs' labelled queries unchanged.
STATISTICAL_SERVICE_KEEP_BELOW: float | None = None  # no quantile condition: nearer another service is enough
STATISTICAL_ELSEWHERE_MARGIN = 0.20  # the limit: the ELSEWHERE_QUANTILE quantile of the examples' + this …
STATISTICAL_ELSEWHERE_FLOOR = 0.50  # … and never below this. Word vectors tell a near-miss from an informal
# in-scope query less well than sentence embeddings: the dev networks' own limits (0.41–0.59) caught 4 points
# more there but rejected in-scope queries elsewhere ("my card got declined at checkout" at a shop, nearer the
# bank's "my card was declined" by 0.49; "where's my parcel" nearer a courier's by 0.47), and on a table of
# many near-duplicate examples (lmos-router's 3 000) the limit came out at 0.0, rejecting 8 of 53 informal-dev
# queries (at most 0.32 nearer elsewhere). So most channels' limit is this floor.
STATISTICAL_ELSEWHERE_LOO = 500  # examples scored leave-one-out for the limit (spread evenly; the rest: cost)
# The statistical router's static fit (session 11, `StaticCentroids.soft_fit`): a query's cosine to the channel's
# nearest class centroid of static word vectors (MiniLM's input token table: full description text and examples),
# s, gives a fit of STATIC_FIT_SCALE × (s − STATIC_FIT_FROM), and the router's `fit` is the larger of it and the
# TF-IDF fit; the threshold then follows the rule "statistical-static" (RULES) over the examples' leave-one-out
# fits taken the same way (each example's own class centroid without it). On where the static opinions are (a
# table with examples, at most 27 per class: `StaticCentroids`), off in the embedding router's lexical part.
STATIC_FIT_SCALE = 3.0
STATIC_FIT_FROM = 0.35


@dataclass(frozen=True)
class Rule:
    """How one router places its threshold (see the module doc); `low`..`high` is the range it is kept in."""

    low: float
    high: float
    default: float  # without examples (zero-shot): descriptions are short and formal, so be lenient
    off_topic_quantile: float | None  # the threshold is at most this quantile of the off-topic fits …
    loo_quantile: float  # … and at most `loo_share` × this quantile of the examples' leave-one-out fits
    loo_share: float


# statistical: TF-IDF cosine of words and lexicon concepts (generic words left out), in [0, 1];
# embedding: MiniLM cosine + a quarter of the lexical cosine − a quarter of the cosine to the nearest
# off-topic message, clipped to [0, 1] (unrelated English sentences have MiniLM cosines of about 0.0–0.3).
RULES: dict[str, Rule] = {
    "statistical": Rule(0.05, 0.25, 0.05, off_topic_quantile=None, loo_quantile=0.10, loo_share=0.5),
    # the statistical router with its static fit (STATIC_FIT_SCALE): the examples' leave-one-out fits are no
    # longer near 0 for examples that share no word with the others, so a higher quantile, taken whole
    "statistical-static": Rule(0.05, 0.25, 0.05, off_topic_quantile=None, loo_quantile=0.20, loo_share=1.0),
    "embedding": Rule(0.20, 0.50, 0.10, off_topic_quantile=0.90, loo_quantile=0.05, loo_share=1.0),
}
LEXICAL_SHARE = 0.25  # embedding fit: weight of the statistical (lexical) fit …
OFF_TOPIC_SHARE = 0.25  # … and of the cosine to the nearest off-topic message (subtracted)


@lru_cache(maxsize=1)
def off_topic_messages() -> tuple[str, ...]:
    """The packaged general off-topic messages (one per line; `#` comments)."""
    lines = OFF_TOPIC_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


@lru_cache(maxsize=1)
def other_services() -> tuple[str, ...]:
    """The packaged requests to other services (one per line; `#` comments)."""
    lines = OTHER_SERVICES_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


def services_kept(
    to_channel: npt.NDArray[np.float64],
    loo_cosines: npt.NDArray[np.float64],
    nearest_other: npt.NDArray[np.float64],
    *,
    keep_below: float | None = SERVICE_KEEP_BELOW,
    gap: float = 0.0,
) -> npt.NDArray[np.bool_]:
    """Which service messages stay in a channel's "elsewhere" background: those farther from the channel's
    nearest text than the `keep_below` quantile of its examples' leave-one-out cosines (no such condition
    when None), and farther from it by more than `gap` than from the nearest other service message (a
    message nearer to the channel than to its own kind is of the channel's kind, however densely the
    channel's examples sit; the embedding router asks for `SERVICE_GAP` more: one about as near to the
    channel as to its own kind borders on the channel's work). None without examples (signal off)."""
    if not len(loo_cosines):
        return np.zeros(len(to_channel), dtype=bool)
    nearer_other = to_channel + gap < nearest_other
    if keep_below is None:
        return np.asarray(nearer_other, dtype=bool)
    below = to_channel < float(np.quantile(loo_cosines, keep_below))
    return np.asarray(below & nearer_other, dtype=bool)


def elsewhere_limit(
    loo_elsewhere: npt.NDArray[np.float64], *, margin: float = ELSEWHERE_MARGIN, floor: float = ELSEWHERE_FLOOR
) -> float | None:
    """The limit of the "nearer elsewhere" signal: the `ELSEWHERE_QUANTILE` quantile of the examples' own
    leave-one-out `elsewhere` plus `margin`, never below `floor` (examples with near-duplicates sit far
    nearer to the channel than a new query does); None (off) without examples."""
    if not len(loo_elsewhere):
        return None
    return round(max(float(np.quantile(loo_elsewhere, ELSEWHERE_QUANTILE)) + margin, floor), 4)


def loo_picks(n_examples: int, most: int = LOO_MAX) -> npt.NDArray[np.int64]:
    """Which examples are scored leave-one-out: all, or `most` spread evenly over a large table."""
    return spread_evenly(n_examples, most)


def spread_evenly(n: int, most: int) -> npt.NDArray[np.int64]:
    """Indices 0 … n − 1: all, or `most` spread evenly (ascending, each once): `np.unique` of `np.linspace(0,
    n − 1, min(n, most))` cut to integers, taken by its ascending order (numpy 2's `unique` hashes: ~0.1 ms for
    2 000 values, 5-15 ms on its first call in a process, against a few µs)."""
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    picks = np.linspace(0, n - 1, min(n, most)).astype(np.int64)
    return picks[np.concatenate(([True], picks[1:] != picks[:-1]))]


def on_topic(off_topic_to_channel: npt.NDArray[np.float64], loo_fits: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which off-topic messages are in fact on the channel's topic: as near to it (cosine to its nearest
    text) as the `KEEP_BELOW` quantile of its examples' leave-one-out cosines. None without examples."""
    if not len(loo_fits):
        return np.zeros(len(off_topic_to_channel), dtype=bool)
    return np.asarray(off_topic_to_channel >= float(np.quantile(loo_fits, KEEP_BELOW)), dtype=bool)


def no_match_threshold(
    router: str,
    loo_fits: npt.NDArray[np.float64],
    off_topic_fits: npt.NDArray[np.float64] | None = None,
    *,
    with_elsewhere: bool = False,
) -> float:
    """The threshold for `router` ("statistical", "statistical-static" or "embedding") from the leave-one-out
    fits of the examples and the fits of the (kept) off-topic messages; both in the router's `fit`.
    `with_elsewhere`: the "nearer elsewhere" signal is on too, so the value is taken at
    `FIT_SHARE_WITH_ELSEWHERE` of it."""
    rule = RULES[router]
    if not len(loo_fits):
        return rule.default
    value = rule.loo_share * float(np.quantile(loo_fits, rule.loo_quantile))
    if rule.off_topic_quantile is not None and off_topic_fits is not None and len(off_topic_fits):
        value = min(value, float(np.quantile(off_topic_fits, rule.off_topic_quantile)))
    value = min(max(value, rule.low), rule.high)
    return round(value * FIT_SHARE_WITH_ELSEWHERE if with_elsewhere else value, 4)
