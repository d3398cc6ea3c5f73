"""Pick a router by name and keep fitted routers per table content (`RouterCache`, owned by the caller).

`auto` is the best router available offline on this install: the local MiniLM embedding model (a default
dependency) when it loads, else the statistical router (routing/auto.py).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from lmos_studio.errors import RoutingError
from lmos_studio.routing.base import FittedRouter, Router, RoutingTable
from lmos_studio.routing.statistical import FittedStatistical, StatisticalRouter
from lmos_studio.visible import SHOWN_CHARS, cut

if TYPE_CHECKING:
    from lmos_studio.formats.design_cache import DiskCache
    from lmos_studio.model import Design

DEFAULT_ROUTER = "auto"
CACHE_ENTRIES = 32  # fitted routers kept per cache (one per channel × router is typical)


def _statistical() -> Router:
    return StatisticalRouter()


def _auto() -> Router:
    from lmos_studio.routing.auto import AutoRouter

    return AutoRouter()


def _embedding() -> Router:
    from lmos_studio.routing.embedding import EmbeddingRouter

    return EmbeddingRouter()


def _llm() -> Router:
    from lmos_studio.routing.llm import LlmRouter

    return LlmRouter()


def _hybrid() -> Router:
    from lmos_studio.routing.hybrid import HybridRouter

    return HybridRouter()


_FACTORIES: dict[str, Callable[[], Router]] = {
    "auto": _auto,
    "statistical": _statistical,
    "embedding": _embedding,
    "llm": _llm,
    "hybrid": _hybrid,
}


def router_names() -> list[str]:
    """Every router name `get_router` accepts, the default first."""
    return list(_FACTORIES)


def get_router(name: str) -> Router:
    """A router by name (see `router_names`); an unknown name is a `RoutingError` listing the known ones."""
    factory = _FACTORIES.get(name.strip().lower())
    if factory is None:
        raise RoutingError(f"unknown router '{name}'; use one of: {', '.join(_FACTORIES)}", router=name)
    try:
        return factory()
    except ImportError as exc:  # a router module not shipped in this build
        raise RoutingError(f"router '{cut(name, SHOWN_CHARS)}' is not available: {exc}", router=name) from exc


def table_digest(table: RoutingTable, seed: Sequence[tuple[str, str, str]] = ()) -> str:
    """A content hash of a routing table and seed rows: equal content, equal digest."""
    payload = json.dumps(
        [
            table.channel,
            [
                [c.agent, c.capability, c.description, list(c.examples), c.agent_description, c.version]
                for c in table.candidates
            ],
            [list(row) for row in seed],
            table.min_score,
            [list(group) for group in table.vocabulary],
            table.lexicon,
            *([list(table.out_of_scope)] if table.out_of_scope else []),  # (digests of tables without stay as before)
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


class RouterCache:
    """Fitted routers keyed by (router name, table content, seed): an explicit LRU, safe across threads.

    The UI keeps one in `st.cache_resource`; the CLI makes one per run. Given a `disk` cache (a
    `design_cache.derived_cache`, whose keys include Studio's code version), the statistical router's fits are
    also kept there as plain data (routing/stored.py), so another process fitting the same table and seed rows
    loads them instead (a 3 000-example table: about 0.03 s of CPU against 0.5 s). The caller decides what may
    be written: pass a disk cache only for designs whose derived results may be (see `may_hold_secret`).
    """

    def __init__(self, max_entries: int = CACHE_ENTRIES, *, disk: DiskCache | None = None) -> None:
        self.max_entries = max_entries
        self.disk = disk
        self._fitted: OrderedDict[tuple[str, str], FittedRouter] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._fitted)

    def fitted(self, router: str, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        """The router `router` fitted on `table` (+ seed), fitted once per distinct content."""
        key = (router, table_digest(table, seed))
        with self._lock:
            if key in self._fitted:
                self._fitted.move_to_end(key)
                return self._fitted[key]
        fitted = self._from_disk(router, key[1], table, seed)
        if fitted is None:
            fitted = get_router(router).fit(table, seed=seed)
            self._to_disk(router, key[1], fitted)
        with self._lock:
            self._fitted[key] = fitted
            self._fitted.move_to_end(key)
            while len(self._fitted) > self.max_entries:
                self._fitted.popitem(last=False)
        return fitted

    def _disk_key(self, router: str, digest: str) -> str | None:
        """The disk cache's key of a fit of `router` on the table of `digest`; None when not kept on disk."""
        if self.disk is None or router.strip().lower() != "statistical":
            return None
        from lmos_studio.formats.design_cache import derived_key  # only with a disk cache (the CLI's start)
        from lmos_studio.routing import stored

        return derived_key(digest, "statistical-fit", str(stored.FORMAT), f"scipy={stored.scipy_version()}")

    def _from_disk(
        self, router: str, digest: str, table: RoutingTable, seed: Sequence[tuple[str, str, str]]
    ) -> FittedRouter | None:
        key = self._disk_key(router, digest)
        if key is None or self.disk is None:
            return None
        from lmos_studio.routing import stored

        state = self.disk.get(key)
        return None if state is None else stored.fitted_from_state(table, seed, state)

    def _to_disk(self, router: str, digest: str, fitted: FittedRouter) -> None:
        key = self._disk_key(router, digest)
        if key is None or self.disk is None or not isinstance(fitted, FittedStatistical):
            return
        from lmos_studio.routing import stored

        state = stored.fitted_state(fitted)
        if state is not None:
            self.disk.put(key, state)

    def clear(self) -> None:
        with self._lock:
            self._fitted.clear()


class KeptFits:
    """The statistical router, its fits going through a `RouterCache` that keeps them on disk: what `kept_fits`
    gives the CLI's routing commands."""

    def __init__(self, router: StatisticalRouter, cache: RouterCache) -> None:
        self.name = router.name
        self.note = str(getattr(router, "note", ""))
        self.cache = cache

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedRouter:
        return self.cache.fitted("statistical", table, seed=seed)


def kept_fits(name: str, design: Design) -> Router:
    """The router `name` names (`get_router`), its fits kept on disk when it is the statistical router and the
    disk cache may hold what is derived from `design` (caching on, `LMOS_STUDIO_DESIGN_CACHE_MB` > 0, and no
    secret in the design: formats/design_cache.py), so a later command on an unchanged channel loads the fit."""
    from lmos_studio.formats import design_cache

    router = get_router(name)
    if name.strip().lower() != "statistical" or not isinstance(router, StatisticalRouter) or router.embedder:
        return router
    if design_cache.cache_bytes() <= 0 or design_cache.design_may_hold_secret(design):
        return router
    return KeptFits(router, RouterCache(disk=design_cache.derived_cache("statistical-fit")))
