"""Which registry store a `--db` / LMOS_STUDIO_REGISTRY_DB value names, opened.

`postgresql://…` → `store_pg.PostgresStore` (imported only then: psycopg stays out of SQLite-only processes);
anything else → the SQLite `store.Store`. Both provide `store.RegistryStore`.
"""

from __future__ import annotations

import time
from pathlib import Path

from lmos_studio.registry.store import Clock, RegistryStore, Store


def is_database_url(target: str | Path | None) -> bool:
    """Whether a `--db` / LMOS_STUDIO_REGISTRY_DB value names a PostgreSQL server rather than a SQLite file."""
    return isinstance(target, str) and target.split(":", 1)[0].lower() in ("postgresql", "postgres")


def open_store(target: str | Path, *, now: Clock = time.time, seed: bool = True) -> RegistryStore:
    """The store a `--db` value names: `postgresql://…` → PostgreSQL, anything else → a SQLite file."""
    if is_database_url(target):
        from lmos_studio.registry.store_pg import PostgresStore

        return PostgresStore(str(target), now=now, seed=seed)
    return Store(target, now=now, seed=seed)
