"""Text normalisation of the offline routers: names, stems, synonyms and phrases."""

from __future__ import annotations

import pytest

from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.text import concepts, name_words, normalize, stem, surface_forms, words
from lmos_studio.routing.training import training_set


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("check_cancellation_fee", "check cancellation fee"),
        ("view-bill", "view bill"),
        ("BillingAgent", "Billing Agent"),
        ("get-weather_forecast", "get weather forecast"),
    ],
)
def test_name_words(name: str, expected: str) -> None:
    assert name_words(name) == expected


@pytest.mark.parametrize(
    "family",
    [
        ("cancel", "cancelling", "cancelled", "cancellation", "cancels"),
        ("change", "changed", "changes", "changing"),
        ("ship", "shipping", "shipped"),
        ("delivery", "deliveries"),
        ("address", "addresses"),
        ("call", "called", "calling"),
        ("refund", "refunds", "refundable"),
    ],
)
def test_stem_joins_inflected_forms(family: tuple[str, ...]) -> None:
    assert len({stem(w) for w in family}) == 1


def test_normalize_masks_numbers_and_template_slots() -> None:
    assert normalize("Order  #12345 for {{Person Name}}") == "order #0 for slot"


def test_words_drop_stop_words_and_apostrophes() -> None:
    assert words("I can't find MY invoices, please!") == ["cant", "find", "invoic"]


def test_concepts_cover_synonyms_and_two_word_phrases() -> None:
    assert "~refund" in concepts("I want my money back")
    assert "~cancel" in concepts("call off the purchase")
    assert "~cancel" in concepts("please terminate it") and "~delete" in concepts("please terminate it")
    assert concepts("the the the") == []


def test_surface_forms_map_terms_to_the_words_used() -> None:
    forms = surface_forms("Cancelling my purchases")
    assert forms["cancel"] == "cancelling" and forms["~order"] == "purchases"


def test_training_set_keeps_seed_only_classes_apart() -> None:
    table = RoutingTable("", (Candidate("a", "x", "does x", ("x please",)),))
    data = training_set(table, [("y please", "a", "y"), ("z", "b", "z"), ("  ", "a", "x")])
    assert data.classes == (("a", "x"), ("a", "y"))
    assert data.in_table == (True, False)
    assert list(data.labels) == [0, 1] and data.texts == ("x please", "y please")


@pytest.mark.parametrize("groups", ["built-in", "none", "phrases"])
def test_word_features_are_word_terms_then_concepts(groups: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    from lmos_studio.routing import text
    from lmos_studio.routing.text import Lexicon, word_terms

    monkeypatch.setattr(text, "WORD_CACHE", 7)  # words forgotten and read again
    lexicon = Lexicon(
        {
            "built-in": text._SYNONYM_GROUPS,
            "none": (),
            "phrases": (("big apple", "new york", "nyc"), ("log in", "login", "sign in"), ("the end", "stop")),
        }[groups]
    )
    members = [m for group in text._SYNONYM_GROUPS for m in group] + ["the", "end", "York", "Big", "apple"]
    vocabulary = [*members, "I'm", "can't", "{{Order Number}}", "42", "shipping", "cancelled", "please", "", "x"]
    rng = random.Random(len(groups))
    texts = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 9))) for _ in range(3000)]
    texts += ["sign up now", "log in to my account", "i want my money back", "get rid of it", "the end"]
    for query in texts:
        expected = (*word_terms(query), *(c for c, _ in lexicon.concept_hits(query)))
        assert lexicon._word_features(query) == expected, query
        assert lexicon.word_features(query) == expected, query
