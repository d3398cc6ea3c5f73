"""Benchmark: the registry server under load — `lmos-studio registry serve` in a subprocess, 4 client
processes, 5 000 mixed requests (registrations with PUT/POST, searches, reads). Counts errors and lost
registrations (every acknowledged registration must be readable afterwards) and reports requests/s.
Writes benchmarks/results/registry_load.json.
Usage: python benchmarks/registry_load.py [--clients 4] [--requests 5000]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
CAPS = [f"cap-{i}" for i in range(40)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def thing(client: int, i: int) -> dict[str, Any]:
    return {
        "@context": [TD_CONTEXT, {"lmos": "https://eclipse.dev/lmos/protocol/v1"}],
        "@type": "lmos:Agent",
        "title": f"load-{client}-{i}",
        "description": f"load test agent {i} of client {client}",
        "lmos:supportedTenants": [f"tenant-{i % 5}"],
        "lmos:supportedChannels": ["web"],
        "lmos:capabilities": [{"name": CAPS[(client * 7 + i) % len(CAPS)], "version": "1.0.0"}],
        "actions": {"chat": {"forms": [{"href": f"https://load-{client}-{i}.example/chat"}]}},
    }


def worker(args: tuple[str, int, int]) -> dict[str, Any]:
    url, client, count = args
    registered: list[str] = []
    errors: list[str] = []
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {"put": [], "post": [], "search": [], "get": []}
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(count):
            kind = i % 10  # 4 PUT, 1 POST, 3 searches, 2 reads
            start = time.perf_counter()
            try:
                if kind < 4:
                    thing_id = f"urn:load:{client}:{i}"
                    r = http.put(
                        f"/things/{thing_id}",
                        content=json.dumps(thing(client, i)),
                        headers={"Content-Type": "application/td+json"},
                    )
                    ok = r.status_code in (201, 204)
                    if ok:
                        registered.append(thing_id)
                elif kind == 4:
                    r = http.post(
                        "/things", content=json.dumps(thing(client, i)), headers={"Content-Type": "application/td+json"}
                    )
                    ok = r.status_code == 201
                    if ok:
                        registered.append(r.headers["location"].removeprefix("/things/"))
                elif kind < 8:
                    params = [
                        {"capability": CAPS[i % len(CAPS)]},
                        {"q": "load agent"},
                        {"tenant": f"tenant-{i % 5}", "channel": "web"},
                    ][kind - 5]
                    r = http.get("/search", params={**params, "limit": 20})
                    ok = r.status_code == 200 and "items" in r.json()
                else:
                    target = registered[-1] if registered else "urn:none"
                    r = http.get(f"/things/{target}")
                    ok = r.status_code == 200 or (not registered and r.status_code == 404)
                if not ok:
                    errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:120]}")
            except httpx.HTTPError as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
            latencies.append((time.perf_counter() - start) * 1000)
            by_kind["put" if kind < 4 else "post" if kind == 4 else "search" if kind < 8 else "get"].append(
                latencies[-1]
            )
    return {"registered": registered, "errors": errors, "latencies": latencies, "by_kind": by_kind}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": tmp}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "lmos_studio",
                "registry",
                "serve",
                "--port",
                str(port),
                "--db",
                str(Path(tmp) / "load.sqlite3"),
            ],
            env=env,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/.well-known/wot", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            per_client = args.requests // args.clients
            start = time.perf_counter()
            with multiprocessing.get_context("spawn").Pool(args.clients) as pool:
                results = pool.map(worker, [(url, c, per_client) for c in range(args.clients)])
            elapsed = time.perf_counter() - start
            registered = [t for r in results for t in r["registered"]]
            lost = [t for t in registered if httpx.get(f"{url}/things/{t}", timeout=30).status_code != 200]
            total = httpx.get(f"{url}/search", params={"q": "load", "limit": 1}, timeout=30).json()["total"]
        finally:
            server.terminate()
            server.wait(timeout=15)
    latencies = [ms for r in results for ms in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    figures = {
        "clients": args.clients,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "errors": len(errors),
        "first_errors": errors[:5],
        "registrations_acknowledged": len(registered),
        "registrations_lost": len(lost),
        "registered_total_in_search": total,
        "latency_p50_ms": round(statistics.median(latencies), 2),
        "latency_p95_ms": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 2),
        "latency_p50_ms_by_kind": {
            k: round(statistics.median([ms for r in results for ms in r["by_kind"][k]]), 2)
            for k in ("put", "post", "search", "get")
        },
    }
    out = ROOT / "benchmarks" / "results" / "registry_load.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
