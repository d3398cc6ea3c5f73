"""Text normalisation for the offline routers: tokens, a light stemmer and a small synonym lexicon.

Deliberately general English (customer-service vocabulary), not tuned to any benchmark's templates.
No I/O, no models: plain functions over strings.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

_WORD = re.compile(r"[a-z0-9]+")
_DIGITS = re.compile(r"\d+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PLACEHOLDER = re.compile(r"\{\{[^}]*\}\}")  # template slots such as {{Order Number}}

# Words that carry no routing signal in capability/agent descriptions and queries. Hand-written (not
# scikit-learn's list, which drops useful words such as "bill", "call", "show", "find").
_STOP_TEXT = """
a an the this that these those it its it's i me my mine we our us you your yours he she they them their
is are was were be been being am do does did doing have has had having will would shall should can could
may might must to of in on at by for with from into onto about as and or but if then than so such
there here what which who whom whose how why when where please pls plz hi hello hey thanks thank
just some any all also too very really need want wanna like would im i'm id ive get got help assist
assistance know tell let give make way able trying try
capability capabilities agent agents responsible responsibility related queries query handles handle
handling questions question regarding service services user users customer customers
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())

# Groups of interchangeable words (general customer-service English). Every member maps to a concept
# token; a query and a description that share a concept are related even without a shared word.
_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("create", "creation", "open", "opening", "new", "register", "registration", "signup", "sign", "setup",
     "enrol", "enroll", "join"),
    ("delete", "deletion", "remove", "removal", "erase", "close", "closing", "terminate", "termination",
     "deactivate"),
    ("cancel", "cancellation", "canceling", "cancelling", "abort", "revoke", "withdraw", "withdrawal",
     "terminate", "termination", "undo", "stop", "quit"),
    ("edit", "update", "change", "modify", "modification", "alter", "amend", "correct", "fix", "adjust",
     "replace", "switch"),
    ("recover", "recovery", "reset", "restore", "retrieve", "forgot", "forgotten", "lost", "unlock"),
    ("password", "pin", "passcode", "passphrase", "key", "credential", "credentials", "login", "log"),
    ("account", "profile", "membership", "username"),
    ("switch", "swap", "move", "upgrade", "downgrade", "migrate", "transfer", "convert"),
    ("problem", "issue", "error", "trouble", "fail", "failure", "failed", "bug", "wrong", "broken",
     "glitch", "cant", "unable", "doesnt", "not"),
    ("refund", "reimburse", "reimbursement", "repay", "repayment", "rebate", "compensation", "compensate",
     "chargeback", "money"),
    ("invoice", "bill", "billing", "receipt", "statement"),
    ("pay", "payment", "paying", "paid", "charge", "card", "credit", "debit", "paypal", "transfer",
     "installment", "instalment"),
    ("deliver", "delivery", "shipping", "ship", "shipment", "dispatch", "arrive", "arrival", "courier",
     "parcel", "package", "shipped", "delivered"),
    ("order", "purchase", "buy", "bought", "item", "article", "product", "checkout", "cart", "basket"),
    ("contact", "speak", "talk", "call", "phone", "chat", "human", "person", "representative", "operator",
     "agent", "assistant", "somebody", "someone", "reach", "email"),
    ("complaint", "complain", "claim", "reclamation", "dissatisfied", "unhappy", "grievance", "dispute"),
    ("review", "feedback", "opinion", "rate", "rating", "comment", "testimonial", "suggestion"),
    ("subscription", "subscribe", "unsubscribe", "newsletter", "plan", "mailing"),
    ("fee", "fees", "cost", "price", "charge", "penalty", "fine", "expense"),
    ("when", "time", "period", "date", "long", "eta", "soon", "days", "estimated", "expected"),
    ("track", "tracking", "status", "progress", "where", "locate", "trace", "processed"),
    ("address", "location", "street", "destination", "postcode", "zip"),
    ("view", "see", "show", "look", "display", "check", "read", "find", "review"),
    ("download", "pdf", "copy", "file", "export", "save", "print", "send", "mail", "email"),
    ("option", "options", "method", "methods", "way", "ways", "available", "choices", "accept", "accepted"),
    ("weather", "rain", "forecast", "temperature", "sunny", "snow", "umbrella", "warm", "cold", "wind"),
    ("news", "headline", "headlines", "latest", "article", "happening"),
    ("contract", "agreement", "tariff", "term", "terms", "notice"),
    ("report", "summary", "summarise", "summarize", "comparison", "compare", "overview"),
    ("search", "find", "catalogue", "catalog", "browse", "look", "sell"),
    ("spec", "specs", "specification", "specifications", "technical", "ram", "battery", "processor",
     "screen", "feature", "features"),
)


def name_words(name: str) -> str:
    """`check_cancellation_fee`, `view-bill`, `BillingAgent` → words ("check cancellation fee")."""
    return " ".join(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split())


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


def words(text: str) -> list[str]:
    """Stemmed content words of a text (stop words dropped, numbers masked)."""
    return [stem(w) for w in _WORD.findall(normalize(text).replace("'", "").replace("’", "")) if w not in STOP_WORDS]


def _concept_map() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for group in _SYNONYM_GROUPS:
        token = "~" + group[0]
        for word in group:
            found.setdefault(stem(word), []).append(token)
    return {w: tuple(dict.fromkeys(t)) for w, t in found.items()}


_CONCEPTS = _concept_map()  # stemmed word → concept tokens (a constant built once at import)


def concepts(tokens: list[str]) -> list[str]:
    """The concept tokens (~cancel, ~invoice, …) of stemmed words, for description matching."""
    found: list[str] = []
    for token in tokens:
        found.extend(_CONCEPTS.get(token, ()))
    return found


def word_features(text: str) -> list[str]:
    """Stemmed words, word bigrams and concept tokens: the word-level analyzer of the routers."""
    tokens = words(text)
    bigrams = [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    return tokens + bigrams + concepts(tokens)


def surface_forms(text: str) -> dict[str, str]:
    """Each word-level term of a text (stems, concept tokens) → the word the text actually used."""
    forms: dict[str, str] = {}
    for word in _WORD.findall(normalize(text).replace("'", "").replace("’", "")):
        if word in STOP_WORDS:
            continue
        token = stem(word)
        forms.setdefault(token, word)
        for concept in _CONCEPTS.get(token, ()):
            forms.setdefault(concept, word)
    return forms
