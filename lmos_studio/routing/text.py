"""Text normalisation for the offline routers: tokens, a light stemmer and synonym lexicons.

`CUSTOMER_SERVICE` is a customer-service domain resource, not general English: see `_SYNONYM_GROUPS` for
its provenance and why its figures on the lmos-router data are optimistic. A design adds its own words
with a `vocabulary` of synonym groups (`Lexicon.extended`); `Lexicon(())` is the router without a lexicon.
No I/O, no models: plain functions over strings.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from lmos_studio.stop_words import STOP_WORDS

_WORD = re.compile(r"[a-z0-9]+")
FEATURE_CACHE = 16384  # analysed texts a lexicon remembers
WORD_CACHE = 65536  # raw words a lexicon remembers (`Lexicon._word`)
_DIGITS = re.compile(r"\d+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")  # template slots such as {{Order Number}}


# The customer-service lexicon: groups of interchangeable words and two-word phrases. Every member maps to a
# concept token (~create, ~cancel, …): a query and a description or example that share a concept are related
# even without a shared word.
# Provenance (be honest about it): written by the LMOS Studio team for the lmos-router benchmark's domain (an
# online shop's customer service). Its groups follow that data's 27 intents one for one, and it was extended
# in the same commit that added the informal paraphrases now in benchmarks/data/informal-dev.csv (32 of
# those 65 entries occur word for word there). It is therefore a DOMAIN resource, tuned with that data in
# view: figures on the lmos-router data and on informal-dev.csv overstate how it generalises. Held-out
# figures (benchmarks/data/heldout/) and networks of other domains (benchmarks/data/networks/) are
# reported with and without it by benchmarks/generalisation.py. Whether a channel uses it is the design's
# `spec.routing.lexicon` (auto by default: only in its own domain, see routing/lexicon.py). Other domains: add a
# design `vocabulary`.
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "create",
        "creation",
        "open",
        "opening",
        "new",
        "register",
        "registration",
        "signup",
        "sign up",
        "setup",
        "set up",
        "enrol",
        "enroll",
        "join",
        "make",
    ),
    (
        "delete",
        "deletion",
        "remove",
        "removal",
        "erase",
        "wipe",
        "close",
        "closing",
        "terminate",
        "termination",
        "deactivate",
        "get rid",
    ),
    (
        "cancel",
        "cancellation",
        "abort",
        "revoke",
        "withdraw",
        "withdrawal",
        "terminate",
        "termination",
        "undo",
        "stop",
        "quit",
        "call off",
        "back out",
        "opt out",
        "pull out",
    ),
    (
        "edit",
        "update",
        "change",
        "modify",
        "modification",
        "alter",
        "amend",
        "correct",
        "fix",
        "adjust",
        "replace",
        "swap",
    ),
    (
        "recover",
        "recovery",
        "reset",
        "restore",
        "retrieve",
        "forgot",
        "forgotten",
        "lost",
        "unlock",
        "locked out",
        "remember",
    ),
    ("password", "pw", "pwd", "pin", "passcode", "passphrase", "key", "credential", "credentials"),
    ("account", "profile", "membership", "username", "login", "log in", "user"),
    ("switch", "swap", "move", "upgrade", "downgrade", "migrate", "transfer", "convert"),
    (
        "problem",
        "issue",
        "error",
        "trouble",
        "fail",
        "failure",
        "failed",
        "bug",
        "wrong",
        "broken",
        "glitch",
        "unable",
        "declined",
        "rejected",
        "twice",
        "double",
        "not working",
        "went wrong",
    ),
    (
        "refund",
        "reimburse",
        "reimbursement",
        "repay",
        "repayment",
        "rebate",
        "compensation",
        "compensate",
        "chargeback",
        "money back",
        "return",
        "returns",
    ),
    ("invoice", "bill", "billing", "receipt", "statement"),
    (
        "pay",
        "payment",
        "paying",
        "paid",
        "card",
        "credit",
        "debit",
        "paypal",
        "apple pay",
        "google pay",
        "bitcoin",
        "cash",
        "installment",
        "instalment",
        "wire",
        "charged",
    ),
    (
        "deliver",
        "delivery",
        "shipping",
        "ship",
        "shipment",
        "dispatch",
        "arrive",
        "arrival",
        "courier",
        "parcel",
        "package",
        "shipped",
        "delivered",
        "overnight",
        "express",
        "next day",
        "show up",
        "get here",
    ),
    ("order", "purchase", "buy", "bought", "item", "article", "product", "checkout", "cart", "basket", "ordered"),
    (
        "contact",
        "speak",
        "talk",
        "call",
        "phone",
        "chat",
        "human",
        "person",
        "representative",
        "operator",
        "agent",
        "assistant",
        "somebody",
        "someone",
        "reach",
        "real person",
        "support",
        "helpline",
        "hotline",
    ),
    (
        "complaint",
        "complain",
        "claim",
        "reclamation",
        "dissatisfied",
        "unhappy",
        "grievance",
        "dispute",
        "awful",
        "terrible",
        "horrible",
        "rude",
        "unacceptable",
        "disappointed",
        "angry",
        "worst",
        "poor",
    ),
    ("review", "feedback", "opinion", "rate", "rating", "stars", "comment", "testimonial", "suggestion", "thought"),
    ("subscription", "subscribe", "unsubscribe", "newsletter", "mailing", "promo", "promotional", "marketing", "spam"),
    ("fee", "fees", "cost", "price", "penalty", "fine", "expense", "charge", "how much"),
    ("when", "time", "period", "date", "long", "eta", "soon", "days", "estimated", "expected", "till", "until"),
    ("track", "tracking", "status", "progress", "where", "locate", "trace", "processed", "go through", "went through"),
    (
        "address",
        "location",
        "street",
        "destination",
        "postcode",
        "zip",
        "moved",
        "relocate",
        "new place",
        "home",
        "office",
    ),
    ("view", "see", "show", "look", "display", "check", "read", "find"),
    ("download", "pdf", "copy", "file", "export", "save", "print", "send", "mail"),
    ("option", "options", "method", "methods", "way", "ways", "available", "choices", "accept", "accepted"),
    ("weather", "rain", "forecast", "temperature", "sunny", "snow", "umbrella", "warm", "cold", "wind"),
    ("news", "headline", "headlines", "latest", "article", "happening"),
    ("contract", "agreement", "tariff", "term", "terms", "notice"),
    ("report", "summary", "summarise", "summarize", "comparison", "compare", "overview"),
    ("search", "find", "catalogue", "catalog", "browse", "look", "sell"),
    (
        "spec",
        "specs",
        "specification",
        "specifications",
        "technical",
        "ram",
        "battery",
        "processor",
        "screen",
        "feature",
        "features",
    ),
)


def name_words(name: str) -> str:
    """`check_cancellation_fee`, `view-bill`, `BillingAgent` → words ("check cancellation fee")."""
    return " ".join(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split())


@lru_cache(maxsize=65536)  # a pure function of the text: a fit reads each text several times (words, char n-grams)
def normalize(text: str) -> str:
    """Lower-case, template slots and numbers masked, whitespace collapsed (for char n-grams)."""
    text = _PLACEHOLDER.sub(" slot ", text)
    text = _DIGITS.sub("0", text.lower())
    return " ".join(text.split())


@lru_cache(maxsize=65536)  # a pure function over a small vocabulary: memoising it is safe
def stem(word: str) -> str:
    """A light suffix stripper: cancelling/cancelled/cancellation → cancel; changed/changes → chang.

    Cheaper and more predictable than a full Porter stemmer; it only has to join inflected forms.
    """
    if len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("llation"):
        return word[:-6]  # cancellation → cancel
    for suffix in ("able", "ible"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return stem(word[: -len(suffix)])  # refundable → refund, downloadable → download
    for suffix in ("ations", "ation"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return _strip_e(word[: -len(suffix)] + "ate")  # creation → creat(e)
    for suffix in ("ings", "ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if base[-1] == base[-2] and (base[-1] not in "sl" or (base[-1] == "l" and len(base) > 5)):
                base = base[:-1]  # shipping → ship, cancelled → cancel (but pressed → press)
            return _strip_e(base)
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return _strip_e(word)


def _strip_e(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("e") and not word.endswith("ee") else word


def _raw_words(text: str) -> list[str]:
    return _WORD.findall(normalize(text).replace("'", "").replace("’", ""))


def words(text: str) -> list[str]:
    """Stemmed content words of a text (stop words dropped, numbers masked)."""
    return [stem(w) for w in _raw_words(text) if w not in STOP_WORDS]


def word_terms(text: str) -> list[str]:
    """Stemmed words and word bigrams."""
    tokens = words(text)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class Lexicon:
    """Synonym groups compiled for matching: concept tokens, synonym swaps and the word-level analyzer."""

    def __init__(self, groups: Sequence[Sequence[str]]) -> None:
        self.groups: tuple[tuple[str, ...], ...] = tuple(tuple(g) for g in groups)
        found: dict[str, list[str]] = {}
        for group in self.groups:
            token = "~" + "_".join(group[0].split())
            for entry in group:
                found.setdefault(" ".join(stem(w) for w in _WORD.findall(entry.lower())), []).append(token)
        self.concept_map = {w: tuple(dict.fromkeys(t)) for w, t in found.items() if w}
        self._phrase_heads = frozenset(w.split()[0] for w in self.concept_map if " " in w)  # first stems
        groups_of: dict[str, list[tuple[str, ...]]] = {}
        for group in self.groups:
            for entry in group:
                if " " not in entry:
                    groups_of.setdefault(entry.lower(), []).append(group)
        self.synonyms = {w: tuple(e for e in gs[0] if e != w) for w, gs in groups_of.items() if len(gs) == 1}
        # A router analyses each text several times (model, zero-shot and fit encoders): remember the last ones.
        self._features = lru_cache(maxsize=FEATURE_CACHE)(self._word_features)
        self._words: dict[str, _Word] = {}  # what `_word_features` needs of each raw word, read once

    def extended(self, groups: Sequence[Sequence[str]]) -> Lexicon:
        """This lexicon plus more groups (a design's vocabulary)."""
        return _lexicon((*self.groups, *(tuple(g) for g in groups))) if groups else self

    def synonym_variant(self, text: str) -> str | None:
        """The text with each unambiguous lexicon word swapped for another member of its group (chosen by
        a hash of the text, so deterministic), or None when it has no such word. Synonym replacement as in
        "Easy Data Augmentation" (Wei & Zou, 2019): it teaches a model that synonyms are interchangeable."""
        raw = normalize(text).split()
        changed = False
        for i, token in enumerate(raw):
            word = token.strip(".,!?;:\"'()")
            options = self.synonyms.get(word)
            if options and word not in STOP_WORDS:
                pick = int(hashlib.blake2b(f"{text}|{i}".encode(), digest_size=4).hexdigest(), 16) % len(options)
                raw[i] = options[pick]
                changed = True
        return " ".join(raw) if changed else None

    def concept_hits(self, text: str) -> list[tuple[str, str]]:
        """(concept token, the words of the text that evoked it), for single words and two-word phrases."""
        if not self.concept_map:
            return []
        raw = _raw_words(text)
        return self._hits(raw, [stem(w) for w in raw])

    def _hits(self, raw: list[str], stems: list[str]) -> list[tuple[str, str]]:
        """`concept_hits` of a text's raw words and their stems."""
        hits: list[tuple[str, str]] = []
        get, heads = self.concept_map.get, self._phrase_heads
        last = len(stems) - 1
        for i, token in enumerate(stems):
            found = get(token) if raw[i] not in STOP_WORDS else None
            if found:
                hits += [(c, raw[i]) for c in found]
            if token in heads and i < last:
                found = get(f"{token} {stems[i + 1]}")
                if found:
                    hits += [(c, f"{raw[i]} {raw[i + 1]}") for c in found]
        return hits

    def concepts(self, text: str) -> list[str]:
        """The concept tokens (~cancel, ~invoice, …) a text evokes, for matching beyond shared words."""
        return [c for c, _ in self.concept_hits(text)]

    def word_features(self, text: str) -> tuple[str, ...]:
        """Stemmed words, word bigrams and concept tokens: the word-level analyzer of the routers."""
        return self._features(text)

    def _word_features(self, text: str) -> tuple[str, ...]:
        """`word_terms(text)` then `concepts(text)`, reading the text once for both and each distinct word
        once per lexicon (`_word`): the same features, in the same order, as `_hits` gives the concepts."""
        known = self._words
        found = [known.get(w) or self._word(w) for w in _raw_words(text)]
        tokens = [w.stem for w in found if w.token]
        features = [*tokens, *(f"{a} {b}" for a, b in itertools.pairwise(tokens))]
        if not self.concept_map:
            return tuple(features)
        get, last = self.concept_map.get, len(found) - 1
        for i, word in enumerate(found):
            features += word.concepts
            if word.head and i < last:
                features += get(f"{word.stem} {found[i + 1].stem}", ())
        return tuple(features)

    def _word(self, raw: str) -> _Word:
        """What `_word_features` needs of a raw word: its stem, whether it is a token (not a stop word), the
        concepts it evokes alone and whether a two-word phrase can start with it."""
        if len(self._words) >= WORD_CACHE:
            self._words = {}
        s = stem(raw)
        stop = raw in STOP_WORDS
        concepts = () if stop else self.concept_map.get(s, ())
        word = self._words[raw] = _Word(s, not stop, concepts, s in self._phrase_heads)
        return word

    def canonical(self, text: str) -> list[str]:
        """The text as the lexicon sees it: each word that belongs to a group replaced by its concept tokens
        (so "where is my parcel" and "where is my package" read the same), other words stemmed."""
        hits = self.concept_hits(text)
        covered = {w for _, used in hits for w in used.split()}
        return [c for c, _ in hits] + [stem(w) for w in _raw_words(text) if w not in STOP_WORDS and w not in covered]

    def surface_forms(self, text: str) -> dict[str, str]:
        """Each word-level term of a text (stems, concept tokens) → the words the text actually used."""
        forms: dict[str, str] = {}
        for word in _raw_words(text):
            if word not in STOP_WORDS:
                forms.setdefault(stem(word), word)
        for concept, used in self.concept_hits(text):
            forms.setdefault(concept, used)
        return forms


class _Word(NamedTuple):
    """One raw word as `Lexicon._word_features` reads it."""

    stem: str
    token: bool  # not a stop word: a feature, and in bigrams
    concepts: tuple[str, ...]  # concept tokens it evokes alone (none for a stop word)
    head: bool  # a two-word phrase of the lexicon may start with its stem


@lru_cache(maxsize=64)  # a design's lexicon is compiled once per distinct vocabulary
def _lexicon(groups: tuple[tuple[str, ...], ...]) -> Lexicon:
    return Lexicon(groups)


CUSTOMER_SERVICE = _lexicon(_SYNONYM_GROUPS)  # the built-in domain lexicon (see _SYNONYM_GROUPS)
NO_LEXICON = _lexicon(())


def lexicon_for(vocabulary: Sequence[Sequence[str]] = (), *, builtin: bool = True) -> Lexicon:
    """The lexicon a router uses: the built-in customer-service groups (unless `builtin` is False) plus a
    design's `vocabulary`."""
    base = CUSTOMER_SERVICE if builtin else NO_LEXICON
    return base.extended(vocabulary)


def synonym_variant(text: str) -> str | None:
    """`CUSTOMER_SERVICE.synonym_variant`."""
    return CUSTOMER_SERVICE.synonym_variant(text)


def concepts(text: str) -> list[str]:
    """`CUSTOMER_SERVICE.concepts`."""
    return CUSTOMER_SERVICE.concepts(text)


def word_features(text: str) -> tuple[str, ...]:
    """`CUSTOMER_SERVICE.word_features`."""
    return CUSTOMER_SERVICE.word_features(text)


def surface_forms(text: str) -> dict[str, str]:
    """`CUSTOMER_SERVICE.surface_forms`."""
    return CUSTOMER_SERVICE.surface_forms(text)
