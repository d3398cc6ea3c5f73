"""`auto`: the best router available offline on this install (the local MiniLM embeddings, else statistical).

The MiniLM model (int8 ONNX) is a default dependency; if it cannot load (a broken install, a model file
whose sha256 is not the pinned one), `auto` falls back to the statistical router and says why in `note`.
"""

from __future__ import annotations

from collections.abc import Sequence

from lmos_studio.errors import RoutingError
from lmos_studio.routing.base import FittedRouter, Router, RoutingTable
from lmos_studio.routing.statistical import StatisticalRouter


def offline_router() -> tuple[Router, str]:
    """(the embedding router on the local MiniLM model, "") when it loads, else (statistical, why not)."""
    try:
        from lmos_studio.routing.embedding import EmbeddingRouter, local_embedder

        return EmbeddingRouter(embedder=local_embedder()), ""
    except (ImportError, RoutingError) as exc:
        return (
            StatisticalRouter(),
            f"the local embedding model did not load ({exc}); falling back to the statistical router",
        )


def best_offline_router() -> Router:
    """The embedding router on the local MiniLM model when it loads, else statistical."""
    return offline_router()[0]


class AutoRouter:
    """Fits the best offline router; the fitted router's `name` says which one answered, `note` why it fell
    back (empty when the embedding router answered)."""

    name = "auto"

    def __init__(self) -> None:
        self.note = ""

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        router, self.note = offline_router()
        return router.fit(table, seed=seed)
