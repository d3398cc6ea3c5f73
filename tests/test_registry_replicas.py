"""Several `registry serve` replicas on one PostgreSQL database: writes visible at once, every change on every
replica's /events (LISTEN/NOTIFY, Last-Event-ID replayed from the table), TTL expiry once, kill -9 safe."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lmos_studio.registry.store import Query
from lmos_studio.registry.stores import open_store
from tests.registry_helpers import (
    make_td,
    need_postgres,
    pg_schema,
    pg_unavailable,
    registry_process,
    registry_server,
)

TD = "application/td+json"


@pytest.fixture
def db() -> Iterator[str]:
    missing = pg_unavailable()
    if missing:  # a failure, never a skip, as for every PostgreSQL test
        need_postgres(missing)
    with pg_schema() as url:
        yield url


@pytest.fixture
def replicas(tmp_path: Path, db: str) -> Iterator[list[str]]:
    with registry_server(tmp_path, db=db) as first, registry_server(tmp_path, db=db) as second:
        yield [first, second]


def put(url: str, thing_id: str, body: Any) -> httpx.Response:
    return httpx.put(f"{url}/things/{thing_id}", content=json.dumps(body), headers={"Content-Type": TD}, timeout=10)


def test_a_write_on_one_replica_is_visible_on_the_other_at_once(replicas: list[str]) -> None:
    a, b = replicas
    assert put(a, "urn:r:1", make_td("replicated", caps=("cross-replica",))).status_code == 201
    assert httpx.get(f"{b}/things/urn:r:1").json()["title"] == "replicated"
    assert httpx.get(f"{b}/search", params={"capability": "cross-replica"}).json()["total"] == 1
    assert httpx.delete(f"{b}/things/urn:r:1").status_code == 204
    assert httpx.get(f"{a}/things/urn:r:1").status_code == 404


def _wait_until(condition: Any, timeout: float = 120.0) -> None:
    """Wait for a condition (no wall-clock assertion: a loaded machine only makes this slower)."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def _listen(url: str, out: list[tuple[str, str, str]], want: int, ready: threading.Event, **headers: str) -> None:
    with httpx.stream("GET", f"{url}/events", timeout=30, headers=headers) as stream:
        ready.set()
        event = seq = ""
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("id:"):
                seq = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event:
                out.append((seq, event, json.loads(line[5:])["id"]))
                if len(out) >= want:
                    return


def test_every_replica_streams_every_change_and_replays_from_the_table(replicas: list[str]) -> None:
    streams: list[list[tuple[str, str, str]]] = [[], []]
    threads = []
    for url, out in zip(replicas, streams, strict=True):
        ready = threading.Event()
        thread = threading.Thread(target=_listen, args=(url, out, 4, ready), daemon=True)
        thread.start()
        threads.append(thread)
        assert ready.wait(10)
    a, b = replicas
    put(a, "urn:r:ev1", make_td("ev1"))
    put(b, "urn:r:ev2", make_td("ev2"))
    put(a, "urn:r:ev2", make_td("ev2", description="changed on the other replica"))
    httpx.delete(f"{b}/things/urn:r:ev1")
    for thread in threads:
        thread.join(30)
    expected = [
        ("thing_created", "urn:r:ev1"),
        ("thing_created", "urn:r:ev2"),
        ("thing_updated", "urn:r:ev2"),
        ("thing_deleted", "urn:r:ev1"),
    ]
    assert [e[1:] for e in streams[0]] == expected
    assert streams[0] == streams[1]  # same ids (sequence numbers) on both replicas
    replay: list[tuple[str, str, str]] = []
    _listen(b, replay, 3, threading.Event(), **{"Last-Event-ID": streams[0][0][0]})
    assert replay == streams[0][1:]  # replayed from the table by a replica that did not see the first write


def test_ttl_expiry_happens_once_whichever_replica_purges(db: str) -> None:
    clock = [1_000_000.0]
    stores = [open_store(db, now=lambda: clock[0], seed=False) for _ in range(4)]
    for i in range(20):
        stores[i % 4].put(f"urn:r:ttl:{i}", make_td(f"ttl-{i}"), ttl=10 + i % 3)
    clock[0] += 100
    purged: list[int] = []
    threads = [threading.Thread(target=lambda s=s: purged.append(s.purge())) for s in stores for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(purged) == 20
    deleted = [e.thing_id for e in stores[0].events_since(0, limit=1000) if e.type == "thing_deleted"]
    assert sorted(deleted) == sorted(f"urn:r:ttl:{i}" for i in range(20))  # one event per expiry
    assert stores[1].search(Query()).total == 0
    for store in stores:
        store.close()


def test_kill_9_of_one_replica_under_8_writers_loses_no_acknowledged_write(tmp_path: Path, db: str) -> None:
    with registry_process(tmp_path, db=db) as (a, proc_a), registry_process(tmp_path, db=db) as (b, _):
        acknowledged: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def writer(n: int) -> None:
            urls = [a, b] if n % 2 else [b, a]
            i = 0
            with httpx.Client(timeout=5) as client:
                while not stop.is_set():
                    thing_id = f"urn:kill:{n}:{i}"
                    i += 1
                    for url in urls:
                        try:
                            response = client.put(
                                f"{url}/things/{thing_id}",
                                content=json.dumps(make_td(f"k{n}-{i}")),
                                headers={"Content-Type": TD},
                            )
                        except httpx.HTTPError:
                            continue  # this replica is gone: not acknowledged, try the other
                        if response.status_code == 201:
                            with lock:
                                acknowledged.append(thing_id)
                        break

        workers = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(8)]
        for worker in workers:
            worker.start()
        _wait_until(lambda: len(acknowledged) >= 16)  # load is under way on both replicas
        os.kill(proc_a.pid, signal.SIGKILL)  # mid-write: 8 writers are busy
        killed_at = len(acknowledged)
        _wait_until(lambda: len(acknowledged) >= killed_at + 16)  # the other replica goes on
        stop.set()
        for worker in workers:
            worker.join(30)
        assert proc_a.wait(10) == -signal.SIGKILL
        assert killed_at > 0 and len(acknowledged) > killed_at  # the other replica went on serving
        listed: set[str] = set()
        offset = 0
        while True:
            page = httpx.get(f"{b}/things", params={"offset": offset, "limit": 1000}, timeout=30).json()
            listed |= {t["id"] for t in page}
            if len(page) < 1000:
                break
            offset += 1000
        assert set(acknowledged) <= listed, sorted(set(acknowledged) - listed)[:5]
