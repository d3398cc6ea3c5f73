"""Whether a channel's offline routers use the built-in customer-service lexicon: `spec.routing.lexicon`.

The lexicon (`text.CUSTOMER_SERVICE`) was written for the lmos-router data's online-shop customer service.
There it helps a lot (zero-shot agent accuracy 0.70 → 0.89 on train.csv); in other domains its groups join
words that mean different things there ("claim" with "complaint", "statement" with "invoice", "transfer"
with "upgrade") and it costs accuracy. So a design says, per design and per call (`--lexicon`):

* `customer-service` — always use it; `none` — never (a design `vocabulary` is used either way);
* `auto` (the default) — decide per channel from the channel's own texts, in two steps:
  1. Domain: the share of the channel's content words (capability names and descriptions, agent
     descriptions, examples; stemmed, stop words out) that are words of the lexicon. Below COVERAGE_MIN
     (50 %) the channel speaks another domain's language and the lexicon is off.
  2. In its domain, a held-out check: the statistical router is fitted with and without the lexicon on
     TEACH examples per capability and routes another example of each (FOLDS folds); for a channel without
     examples (zero-shot), each capability's description is routed among the capability names alone and
     each name among the descriptions alone. Score: right agents + right capabilities. The lexicon stays on
     unless it scores lower than without it. The check's fits have no SVMs (CHECK_MODELS): the router's kNN
     vote and description matching alone, where a synonym either matches or does not.

Why this rule: it needs no labelled queries, only what the design already holds, and it is cheap (counting
words; in the domain, 2 × FOLDS fits of the statistical router without its SVMs on at most MAX_CLASSES
classes and TEACH examples each). Since session 12 the router's check counts the words from the word features
its own word part reads (`coverage_of(read=…)`: read once for both) and a fold's two fits share their char
n-gram part (`held_out_scores` in statistical.py); the verdicts and scores are the same.
The held-out check alone did not work: on dev data it could not tell other
domains apart (on benchmarks/data/dev/insurance and hospital-b the lexicon moved query accuracy by a few queries
either way while the check saw ties or small gains on the design's own tidy examples), whereas on every customer-service
channel we have (lmos-router train.csv with 0, 5 or all examples per intent: 58–84 % lexicon words; the
acme sample: 69–78 %) the lexicon helps and the other-domain dev networks sit far below (insurance 34 %,
hospital 14 %). COVERAGE_MIN was set between those dev figures; it was chosen on dev data only (the
lmos-router train split, benchmarks/data/informal-dev.csv, benchmarks/data/dev/insurance and hospital-b), never on the
frozen networks (benchmarks/data/networks/) or held-out sets — with one caveat: whoever chose it had seen the
word shares of the frozen bank and it-helpdesk *design files* (bank 48 %, just under the line; it-helpdesk
lower), though none of their queries. On the frozen hospital network (never looked at) auto turns the lexicon
off and the statistical router loses 7.5 points of agent accuracy against always-on (0.675 vs 0.75;
benchmarks/results/generalisation.json); the embedding router keeps its agent accuracy (capability 0.875 vs
0.90). A channel close to 50 % can fall either way: set `lexicon: customer-service` or `none` (or teach a
`vocabulary`) when you know better.

Every routing entry point follows the policy: route, eval, test, whatif, `diff --queries` (each routed
channel's table carries the design's setting, `--lexicon` overrides it on both designs), lint's
`ambiguous-capabilities` (`lint_choice`: lint runs no router fit, so `auto` there is step 1 alone — in its
domain the lexicon is read on, as the router keeps it unless the held-out check says otherwise) and the
hybrid router, whose LLM part is told only the offline router's shortlist: the shortlist follows the policy,
the prompt (agent and capability names, descriptions, examples) is the same either way. The LLM router alone
has no lexicon (its choice is null). No I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import chain
from typing import Any

from lmos_studio.errors import RoutingError
from lmos_studio.routing.base import RoutingTable
from lmos_studio.routing.text import CUSTOMER_SERVICE, Lexicon, lexicon_for, name_words, words
from lmos_studio.routing.threshold import spread_evenly
from lmos_studio.routing.training import TrainingSet

LEXICON_SETTINGS = ("auto", "customer-service", "none")
Held = tuple[str, str, str]  # (text, agent, capability)
Check = tuple[RoutingTable, list[Held], list[Held]]  # (table, seed, held-out queries)
Scorer = Callable[[RoutingTable, list[Held], list[Held], tuple[str, ...]], Sequence[int]]  # per setting: right answers
COVERAGE_MIN = 0.5  # auto: below this share of lexicon words the channel is another domain (lexicon off)
COVERAGE_TEXTS = 5000  # texts whose words are counted (spread evenly over a large channel)
MAX_CLASSES = 60  # classes the auto check looks at (spread evenly over a large channel: bounds its cost)
FOLDS = 3  # folds of the auto check over examples (FOLDS examples of a class take turns as the query)
TEACH = 2  # examples per class that teach in each fold (few: the lexicon is about generalising from few)
MIN_HELD_OUT = 3  # fewer held-out texts than this: no evidence either way, the domain decides (on)
# The check's SVMs stop at this tolerance (the router's own small fits: 1e-4, LinearSVC's default): a quarter
# less CPU for the check (lmos-router train.csv: 152 → 116 ms warm; 2.77 → 2.12 s over the 34 tables below).
# Checked in session 8 with benchmarks/lexicon_check_dev.py on the 34 dev and sample tables we have (lmos-router
# train.csv seeded, 5 per intent and zero-shot, each fold and all of it; the dev networks and the samples acme
# and router-benchmark.yaml, whole and per channel): the same held-out scores, to the 4th decimal, on every
# one. 0.03 turned the lexicon off on lmos-router zero-shot (a tie at 1e-4, 0.9722 both ways) and 0.1 on the
# acme sample's web and IVR channels (ties at 1e-4 too): ties decide there, so no looser.
CHECK_TOL = 0.01
# The check's fits leave the SVMs out (the class model, the per-agent capability models and the synonym copies
# only they learn from): the kNN vote over the TEACH examples and the description matching score the held-out
# texts alone, as `StatisticalRouter._fit(models=False)`. Checked in session 10 with
# benchmarks/lexicon_check_dev.py on the same 34 dev and sample tables (dev data only): the same verdict on every
# one, at about a third of the check's CPU (0.84 s over the 34, against 2.7–2.9 s for the SVM check at CHECK_TOL
# and 3.6 s at 1e-4; lmos-router train.csv: cold fit −0.12 s). The held-out scores move (train.csv seeded
# .8642 / .8272 → .8210 / .7716 with / without) and the margins widen: the ties of the SVM check (lmos-router
# zero-shot .9722 both ways, the acme sample's web and IVR channels .8889) are .9259 / .8889 and .9444 / .8889
# here; the smallest margin of the 34 is .037. CHECK_TOL applies only with CHECK_MODELS on (the reference).
CHECK_MODELS = False


@dataclass(frozen=True)
class LexiconChoice:
    """Whether a fitted router uses the built-in lexicon, and why (`describe` is the one-line summary)."""

    setting: str  # auto, customer-service or none
    used: bool
    coverage: float | None = None  # auto: share of the channel's words that are the lexicon's
    with_lexicon: float | None = None  # auto, in its domain: held-out accuracy with the lexicon …
    without_lexicon: float | None = None  # … and without it
    n: int = 0  # held-out texts
    words_only: bool = False  # auto judged by step 1 alone (lint: no held-out check)

    def describe(self) -> str:
        """e.g. "lexicon: off (auto: 14% of the channel's words are the lexicon's, below 50%: another domain)"."""
        state = "on" if self.used else "off"
        if self.setting != "auto":
            return f"lexicon: {state} (spec.routing.lexicon: {self.setting})"
        if self.coverage is None:
            return f"lexicon: {state} (auto: the channel has no words to judge by)"
        share = f"{self.coverage:.0%} of the channel's words are the lexicon's"
        if self.coverage < COVERAGE_MIN:
            return f"lexicon: {state} (auto: {share}, below {COVERAGE_MIN:.0%}: not its customer-service domain)"
        if self.words_only:
            return f"lexicon: {state} (auto: {share}; judged by the words alone, no held-out check)"
        if self.with_lexicon is None or self.without_lexicon is None:
            return f"lexicon: {state} (auto: {share}; too few texts to hold out)"
        verdict = "it hurt held-out accuracy" if not self.used else "held-out accuracy"
        return (
            f"lexicon: {state} (auto: {share}; {verdict} {self.without_lexicon:.2f} without → "
            f"{self.with_lexicon:.2f} with, {self.n} texts)"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "used": self.used,
            "coverage": self.coverage,
            "held_out_accuracy_with": self.with_lexicon,
            "held_out_accuracy_without": self.without_lexicon,
            "held_out_n": self.n,
            "summary": self.describe(),
        }


def lexicon_choice_of(fitted: object) -> LexiconChoice | None:
    """The lexicon choice of a fitted router (a hybrid's fast router's), None for routers without one (LLM)."""
    for candidate in (fitted, getattr(fitted, "fast", None)):
        choice = getattr(candidate, "lexicon_choice", None)
        if isinstance(choice, LexiconChoice):
            return choice
    return None


def check_lexicon(value: object, *, what: str = "--lexicon") -> str:
    """A lexicon setting must be one of LEXICON_SETTINGS; else a RoutingError naming `what`."""
    if isinstance(value, str) and value.strip().lower() in LEXICON_SETTINGS:
        return value.strip().lower()
    raise RoutingError(f"{what} is {value!r}; use one of: {', '.join(LEXICON_SETTINGS)}")


def setting_of(value: bool | str | None, table_setting: str) -> str:
    """A router's `lexicon` argument → a setting: None follows the table (the design), True/False force it."""
    if value is None:
        return check_lexicon(table_setting, what="spec.routing.lexicon")
    if isinstance(value, bool):
        return "customer-service" if value else "none"
    return check_lexicon(value)


def choose_lexicon(data: TrainingSet, setting: str, score: Scorer) -> tuple[Lexicon, LexiconChoice]:
    """The lexicon a router fitted on `data` uses under `setting` (with the design's vocabulary), and why.

    `score(table, seed, held, settings)` is the held-out check's fit-and-route: per setting, right agents plus
    right capabilities on `held` of the statistical router fitted with it (statistical.py's `held_out_scores`,
    whose fits of one fold share their char n-gram part: it reads no lexicon)."""
    with_it = lexicon_for(data.table.vocabulary, builtin=True)
    without = lexicon_for(data.table.vocabulary, builtin=False)
    if setting != "auto":
        used = setting == "customer-service"
        return (with_it if used else without), LexiconChoice(setting=setting, used=used)
    coverage = lexicon_coverage(data, read=with_it.word_features)
    if coverage is None or coverage < COVERAGE_MIN:
        return without, LexiconChoice("auto", False, coverage)
    checks = held_out_checks(data)
    n = sum(len(held) for _, _, held in checks)
    if n < MIN_HELD_OUT:
        return with_it, LexiconChoice("auto", True, coverage, n=n)
    scores = [score(*check, ("customer-service", "none")) for check in checks]
    acc_with = sum(right[0] for right in scores) / (2 * n)
    acc_without = sum(right[1] for right in scores) / (2 * n)
    used = acc_with >= acc_without
    choice = LexiconChoice("auto", used, coverage, round(acc_with, 4), round(acc_without, 4), n)
    return (with_it if used else without), choice


def lint_choice(table: RoutingTable) -> LexiconChoice:
    """Whether lint's ambiguity check reads `table`'s channel with the built-in lexicon: an explicit setting
    as it is; `auto` by the domain step alone (on at or above COVERAGE_MIN), since the held-out check fits
    the statistical router six times per channel, too costly for lint at scale. Where the router's check
    would turn the lexicon off in its domain, lint still reads the channel with it (its synonyms read alike)."""
    setting = check_lexicon(table.lexicon, what="spec.routing.lexicon")
    if setting != "auto":
        return LexiconChoice(setting=setting, used=setting == "customer-service")
    coverage = coverage_of(table, [e for c in table.candidates for e in c.examples if e.strip()])
    return LexiconChoice("auto", coverage is not None and coverage >= COVERAGE_MIN, coverage, words_only=True)


def lexicon_coverage(data: TrainingSet, *, read: Callable[[str], Sequence[str]] | None = None) -> float | None:
    """The share of the channel's content words (stemmed, stop words out; in capability names, descriptions,
    agent descriptions and examples, at most COVERAGE_TEXTS texts spread evenly) that are words of the
    built-in lexicon; None when the channel has no words. `read`: a lexicon's `word_features` to count them
    from (see `coverage_of`)."""
    return coverage_of(data.table, data.texts, read=read)


def coverage_of(
    table: RoutingTable, examples: Sequence[str], *, read: Callable[[str], Sequence[str]] | None = None
) -> float | None:
    """`lexicon_coverage` of a table's names and descriptions plus `examples` (with seed rows, if any).

    `read` (a lexicon's `word_features`, the router's: `choose_lexicon` passes the lexicon the router's word
    part reads with when the lexicon stays on): the content words are counted from its features (their tokens,
    the features without a space or a leading "~": a text's stemmed words, stop words out, as `text.words`
    gives them), all texts' in one count; the texts it reads are then analysed once for the coverage and the
    router's vocabulary (the lexicon remembers them, FEATURE_CACHE), not twice. Without it (lint, no router
    fit): `text.words` per text, remembered per text (a design's texts repeat across its channels)."""
    texts = [name_words(c.capability) for c in table.candidates] + [c.description for c in table.candidates]
    texts += list(dict.fromkeys(c.agent_description for c in table.candidates)) + list(examples)
    texts = [texts[i] for i in spread_evenly(len(texts), COVERAGE_TEXTS)]
    if read is not None:
        known = found = 0
        for term, n in Counter(chain.from_iterable(map(read, texts))).items():
            if " " not in term and not term.startswith("~"):  # a token: a stemmed content word
                found += n
                known += n * (term in CUSTOMER_SERVICE.concept_map)
    else:
        counts = [_lexicon_words(text) for text in texts]
        found = sum(total for _, total in counts)
        known = sum(known for known, _ in counts)
    if not found:
        return None
    return round(known / found, 4)


@lru_cache(maxsize=65536)  # a pure function of the text: a design's texts repeat across its channels
def _lexicon_words(text: str) -> tuple[int, int]:
    """(content words of `text` that are the built-in lexicon's, content words)."""
    found = words(text)
    return sum(w in CUSTOMER_SERVICE.concept_map for w in found), len(found)


def held_out_checks(data: TrainingSet) -> list[Check]:
    """The fits and held-out queries of the auto check (classes spread evenly down to MAX_CLASSES).

    With examples (two or more in some class): FOLDS folds over up to FOLDS + TEACH examples of a class
    spread evenly over its list; fold j holds out the j-th of them and the TEACH following ones teach
    (classes with one example teach with it). Teaching with few examples whatever the channel has asks
    what the lexicon is for: do new phrasings find their capability from few examples. Without (zero-shot):
    the names must find the descriptions and the descriptions the names — each capability's description
    routed among the capability names alone, and each capability's name routed among the descriptions alone.
    """
    picked = spread_evenly(len(data.classes), MAX_CLASSES)
    chosen = {data.classes[i] for i in picked} if len(data.classes) else set()
    by_class: dict[tuple[str, str], list[str]] = {}
    for text, label in zip(data.texts, data.labels, strict=True):
        if data.classes[label] in chosen:
            by_class.setdefault(data.classes[label], []).append(text)
    bare = replace(
        data.table,
        candidates=tuple(replace(c, examples=()) for c in data.table.candidates if (c.agent, c.capability) in chosen),
        lexicon="none",
    )
    checks: list[Check] = []
    for fold in range(FOLDS):
        seed: list[Held] = []
        held: list[Held] = []
        for (agent, capability), texts in by_class.items():
            if len(texts) < 2:
                seed += [(text, agent, capability) for text in texts]
                continue
            spread = [texts[i] for i in spread_evenly(len(texts), FOLDS + TEACH)]
            if fold >= len(spread):
                continue
            held.append((spread[fold], agent, capability))
            teach = [spread[(fold + 1 + i) % len(spread)] for i in range(min(TEACH, len(spread) - 1))]
            seed += [(text, agent, capability) for text in teach]
        if held:
            checks.append((bare, seed, held))
    if sum(len(h) for _, _, h in checks) >= MIN_HELD_OUT:
        return checks
    described = [c for c in bare.candidates if c.description.strip()]
    names_only = replace(bare, candidates=tuple(replace(c, description="") for c in bare.candidates))
    opaque = {(c.agent, c.capability): f"c{i}" for i, c in enumerate(bare.candidates)}
    descriptions_only = replace(
        bare, candidates=tuple(replace(c, capability=opaque[(c.agent, c.capability)]) for c in described)
    )
    by_name = [(name_words(c.capability), c.agent, opaque[c.agent, c.capability]) for c in described]
    by_description = [(c.description, c.agent, c.capability) for c in described]
    return [(names_only, [], by_description), (descriptions_only, [], by_name)]
