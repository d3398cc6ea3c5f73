"""Helpers for the registry tests: both stores behind one fixture, a real `lmos-studio registry serve`
subprocess, and TD builders.

`backend` is parametrised over the SQLite and the PostgreSQL store; a test module that uses it imports it
(`from tests.registry_helpers import backend`). PostgreSQL tests get a fresh schema in the database named by
LMOS_STUDIO_TEST_PG (default: the machine's 127.0.0.1:5432, database `test`), dropped afterwards.
When nothing answers there they FAIL, saying why (scripts/test.sh installs and starts PostgreSQL first); they
are never skipped.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import ROOT, free_port

PG_URL = os.environ.get("LMOS_STUDIO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
STORES = ("sqlite", "postgresql")


@functools.cache
def pg_unavailable() -> str:
    """Why PostgreSQL tests cannot run here ('' when they can)."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return ""
    except Exception as exc:  # any reason at all: the tests skip and say it
        return f"no PostgreSQL at {PG_URL} ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"


def schema_url(schema: str, base: str = PG_URL) -> str:
    joiner = "&" if "?" in base else "?"
    return f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def pg_schema(base: str = PG_URL) -> Iterator[str]:
    """A URL whose connections live in a new, empty schema; the schema is dropped afterwards."""
    import psycopg

    schema = f"lmos_t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema_url(schema, base)
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def need_postgres(reason: str) -> NoReturn:
    """PostgreSQL is missing: a failure, never a skip, since the test command installs and starts it."""
    pytest.fail(f"{reason}; `bash scripts/test.sh` installs and starts PostgreSQL on 127.0.0.1:5432")


@contextmanager
def store_target(kind: str, tmp_path: Path, name: str = "r") -> Iterator[str]:
    """What `--db` takes for a fresh store of this kind: a SQLite file path or a PostgreSQL URL."""
    if kind == "sqlite":
        yield str(tmp_path / f"{name}-{uuid.uuid4().hex[:8]}.sqlite3")
        return
    reason = pg_unavailable()
    if reason:
        need_postgres(reason)
    with pg_schema() as url:
        yield url


@pytest.fixture(params=STORES)
def backend(request: pytest.FixtureRequest) -> str:
    """Which store a test runs against: every behavioural registry test runs on both."""
    return str(request.param)


LMOS_NS = "https://eclipse.dev/lmos/protocol/v1"
TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"


def make_td(
    name: str,
    *,
    caps: tuple[str, ...] = ("view-bill",),
    tenants: tuple[str, ...] = ("acme",),
    channels: tuple[str, ...] = ("web",),
    description: str = "",
    thing_id: str | None = None,
    ttl: float | None = None,
) -> dict[str, Any]:
    td: dict[str, Any] = {
        "@context": [TD_CONTEXT, {"lmos": LMOS_NS}],
        "@type": "lmos:Agent",
        "title": name,
        "description": description or f"{name} agent",
        "lmos:supportedTenants": list(tenants),
        "lmos:supportedChannels": list(channels),
        "lmos:capabilities": [
            {"name": c, "version": "1.0.0", "description": f"does {c}", "examples": [f"please {c}"]} for c in caps
        ],
        "securityDefinitions": {"nosec_sc": {"scheme": "nosec"}},
        "security": ["nosec_sc"],
        "actions": {"chat": {"forms": [{"href": f"https://{name}.example/chat"}]}},
    }
    if thing_id:
        td["id"] = thing_id
    if ttl is not None:
        td["registration"] = {"ttl": ttl}
    return td


@contextmanager
def registry_server(
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    seed: bool = False,
    announce: bool = False,
    args: tuple[str, ...] = (),
    db: str | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """`lmos-studio registry serve` on a free 127.0.0.1 port over `db` (default: a new SQLite file);
    yields its base URL."""
    with registry_process(tmp_path, env=env, seed=seed, announce=announce, args=args, db=db, port=port) as (url, _):
        yield url


@contextmanager
def registry_process(
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    seed: bool = False,
    announce: bool = False,
    args: tuple[str, ...] = (),
    db: str | None = None,
    port: int | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """As `registry_server`, yielding the process too (to kill it)."""
    port = port or free_port()
    db = db or str(tmp_path / f"registry-{port}.sqlite3")
    if not seed:  # an empty, already-initialised database: no sample agents
        from lmos_studio.registry.stores import open_store

        store = open_store(db, seed=False)
        store.mark_seeded()
        store.close()
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": str(tmp_path / "data"), **(env or {})}
    log = (tmp_path / f"server-{port}.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lmos_studio",
            "registry",
            "serve",
            "--port",
            str(port),
            "--db",
            db,
            *(["--announce"] if announce else []),
            *args,
        ],
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/.well-known/wot", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / f"server-{port}.log").read_text()[-2000:])
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
