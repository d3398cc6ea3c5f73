"""Benchmark: search over 10 000 agents in the embedded registry (targets: p50 < 20 ms, p95 < 50 ms).

Registers a synthetic network's agents in a fresh SQLite store, then times a mix of searches (free text,
capability, tenant, channel, protocol, combined; each with facet counts, as the Registry page asks).
Writes benchmarks/results/registry_search.json.
Usage: python benchmarks/registry_search.py [--agents 10000] [--queries 600]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lmos_studio.registry.store import Query, Store  # noqa: E402
from lmos_studio.synthetic import synthetic_design  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=600)
    args = parser.parse_args()
    agents = list(synthetic_design(n_agents=args.agents, n_channels=50, n_groups=10, n_edges=10).agents)
    rng = random.Random(0)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.sqlite3", seed=False)
        start = time.perf_counter()
        for i in range(0, len(agents), 1000):
            store.put_agents(agents[i : i + 1000])
        load_s = time.perf_counter() - start
        caps = sorted({c.name for a in agents for c in a.capabilities})
        tenants = sorted({t for a in agents for t in a.supported_tenants})
        words = sorted({w for a in agents[:500] for w in a.description.split() if len(w) > 4})
        makers = [
            lambda: Query(text=rng.choice(words)),
            lambda: Query(capability=rng.choice(caps)),
            lambda: Query(tenant=rng.choice(tenants)),
            lambda: Query(channel=rng.choice(["web", "ivr", "app"])),
            lambda: Query(protocol="https"),
            lambda: Query(),
            lambda: Query(text=rng.choice(words), tenant=rng.choice(tenants), channel="web"),
        ]
        kinds = ["text", "capability", "tenant", "channel", "protocol", "all", "combined"]
        timings: dict[str, list[float]] = {k: [] for k in kinds}
        for i in range(args.queries):
            kind = i % len(kinds)
            query = makers[kind]()
            t0 = time.perf_counter()
            result = store.search(query)
            timings[kinds[kind]].append((time.perf_counter() - t0) * 1000)
            assert all(e.agent.name for e in result.entries)  # what the page does with a result
        total = store.search(Query(limit=1)).total
    every = [t for ts in timings.values() for t in ts]
    figures = {
        "agents": total,
        "queries": len(every),
        "load_s": round(load_s, 2),
        "p50_ms": round(statistics.median(every), 2),
        "p95_ms": round(percentile(every, 0.95), 2),
        "max_ms": round(max(every), 2),
        "by_kind_p50_ms": {k: round(statistics.median(v), 2) for k, v in timings.items()},
        "by_kind_p95_ms": {k: round(percentile(v, 0.95), 2) for k, v in timings.items()},
        "targets": {"p50_ms": 20, "p95_ms": 50},
    }
    figures["meets_targets"] = figures["p50_ms"] < 20 and figures["p95_ms"] < 50
    out = ROOT / "benchmarks" / "results" / "registry_search.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
