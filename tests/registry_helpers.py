"""Helpers for the registry tests: a real `lmos-studio registry serve` subprocess and TD builders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ROOT, free_port

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
) -> Iterator[str]:
    """`lmos-studio registry serve` on a free 127.0.0.1 port; yields its base URL."""
    port = free_port()
    db = tmp_path / f"registry-{port}.sqlite3"
    if not seed:  # an empty, already-initialised database: no sample agents
        from lmos_studio.registry.store import Store

        Store(db, seed=False)
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('seeded', 'test')")
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
            str(db),
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
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
