"""Benchmark: registry latency under 8 writers + 100 open event streams (issue 11's "before and after").

Starts `lmos-studio registry serve` in a subprocess, opens N server-sent-event streams on `/events` (one
process holding them all, reading every event), then runs the mixed workload of `registry_load.py` (PUT, POST,
search, GET) from W writer processes and reports p50/p99 latency. Results are stored under a label
(`--label before` / `--label after`) in benchmarks/results/registry_streams.json with the machine's load.
Usage: python benchmarks/registry_streams.py [--writers 8] [--streams 100] [--requests 2400] [--label after]
       [--code DIR]   (run the server from another source tree, e.g. `git archive BASE | tar -x -C DIR`, to
                       measure before and after side by side under the same machine load)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from registry_load import free_port, worker

ROOT = Path(__file__).resolve().parent.parent


def hold_streams(url: str, count: int, stop: Any, counts: Any) -> None:
    """Open `count` SSE streams and read them until `stop` is set; `counts[0]` = events received."""

    async def one(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", "/events") as response:
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    with counts.get_lock():
                        counts.value += 1

    async def main() -> None:
        limits = httpx.Limits(max_connections=count + 10)
        async with httpx.AsyncClient(base_url=url, timeout=None, limits=limits) as client:
            tasks = [asyncio.create_task(one(client)) for _ in range(count)]
            while not stop.is_set():
                await asyncio.sleep(0.2)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(main())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--requests", type=int, default=2400)
    parser.add_argument("--label", default="after")
    parser.add_argument(
        "--code", default=str(ROOT), help="source tree the server runs from (e.g. an unpacked older commit)"
    )
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ctx = multiprocessing.get_context("spawn")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": args.code, "LMOS_STUDIO_DATA_DIR": tmp}
        cmd = [sys.executable, "-m", "lmos_studio", "registry", "serve", "--port", str(port)]
        server = subprocess.Popen([*cmd, "--db", str(Path(tmp) / "load.sqlite3")], env=env)
        stop, counts = ctx.Event(), ctx.Value("i", 0)
        streams = ctx.Process(target=hold_streams, args=(url, args.streams, stop, counts))
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{url}/.well-known/wot", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            streams.start()
            time.sleep(2.0)  # let the streams connect
            start = time.perf_counter()
            with ctx.Pool(args.writers) as pool:
                per = args.requests // args.writers
                results = pool.map(worker, [(url, c, per) for c in range(args.writers)])
            elapsed = time.perf_counter() - start
            time.sleep(1.0)
        finally:
            stop.set()
            streams.join(timeout=10)
            if streams.is_alive():
                streams.terminate()
            server.terminate()
            server.wait(timeout=15)
    latencies = [ms for r in results for ms in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    figures = {
        "writers": args.writers,
        "streams": args.streams,
        "requests": len(latencies),
        "seconds": round(elapsed, 2),
        "errors": len(errors),
        "first_errors": errors[:3],
        "events_received_by_streams": counts.value,
        "latency_p50_ms": round(statistics.median(latencies), 2),
        "latency_p99_ms": round(percentile(latencies, 0.99), 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    out = ROOT / "benchmarks" / "results" / "registry_streams.json"
    stored = json.loads(out.read_text()) if out.exists() else {}
    stored[args.label] = figures
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stored, indent=2) + "\n")
    print(json.dumps({args.label: figures}, indent=2))


if __name__ == "__main__":
    main()
