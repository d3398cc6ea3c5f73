"""`auto`: the best router available offline on this install (local embeddings, else statistical)."""

from __future__ import annotations

from collections.abc import Sequence

from lmos_studio.errors import RoutingError
from lmos_studio.routing.base import FittedRouter, Router, RoutingTable
from lmos_studio.routing.statistical import StatisticalRouter


def best_offline_router() -> Router:
    """The embedding router on the local MiniLM model when the `[embeddings]` extra loads, else statistical."""
    try:
        from lmos_studio.routing.embedding import EmbeddingRouter, local_embedder

        return EmbeddingRouter(embedder=local_embedder())
    except (ImportError, RoutingError):
        return StatisticalRouter()


class AutoRouter:
    """Fits the best offline router; the fitted router's `name` says which one answered."""

    name = "auto"

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        return best_offline_router().fit(table, seed=seed)
