"""Benchmark: the hybrid router on a list of queries, one by one (`route` per query, what eval did before the
hybrid router had a batch path) against `route_batch` (its fast router routes the list in one batch, the LLM
is asked for the queries below the threshold), side by side in one run.

The design is sample_networks/router-benchmark.yaml (its customer-service channel), the queries the first
--queries instructions of the lmos-router benchmark's train.csv (zero-shot: no seed examples); the fast
router is the statistical one and the LLM a local stub (tests/openai_stub.py: a real HTTP server on
127.0.0.1 that picks the listed capability sharing most words with the query), so no network is needed. Both
ways must give the same answers and ask the LLM the same number of times. CPU time (process_time, this
process: the stub server's thread included) is the figure; the two ways are interleaved --repeat times and
the medians compared (the machine is shared).

Usage: python benchmarks/hybrid_batch.py [--queries N] [--repeat N] [--threshold X]
Prints the figures and writes benchmarks/results/hybrid_batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.hybrid import HybridRouter  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.llm import LlmRouter  # noqa: E402
from lmos_studio.routing.statistical import StatisticalRouter  # noqa: E402
from lmos_studio.routing.table import channel_key, routing_table  # noqa: E402
from tests.openai_stub import StubServer, keyword_chat  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "hybrid_batch.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.8, help="the hybrid threshold (the default setting)")
    args = parser.parse_args()
    design = read_design(REPO / "sample_networks" / "router-benchmark.yaml")
    rows = read_labelled_csv(REPO / "sample_networks" / "lmos-router-benchmark" / "train.csv")
    key = channel_key(design, "customer-service")
    queries = [r.text for r in rows][: args.queries]
    table = routing_table(design, key)
    stub = StubServer(keyword_chat(table)).start()
    try:
        llm = LlmRouter(base_url=stub.base_url, model="gpt-4o-mini", api_key="benchmark")
        fitted = HybridRouter(fast=StatisticalRouter(), llm=llm, threshold=args.threshold).fit(table)
        fitted.route_batch(queries[:20])  # warm caches (analysers, the HTTP client)
        one_cpu, batch_cpu, asked = [], [], []
        for _ in range(args.repeat):
            before = len(stub.requests)
            start = time.process_time()
            one = [fitted.route(q, top_k=1) for q in queries]
            one_cpu.append(time.process_time() - start)
            middle = len(stub.requests)
            start = time.process_time()
            batch = fitted.route_batch(queries, top_k=1)
            batch_cpu.append(time.process_time() - start)
            asked.append((middle - before, len(stub.requests) - middle))
            same = [(r.best.agent, r.best.capability) if r.best else None for r in one] == [
                (r.best.agent, r.best.capability) if r.best else None for r in batch
            ]
            if not same:
                raise SystemExit("route and route_batch gave different answers")
    finally:
        stub.stop()
    result = {
        "queries": len(queries),
        "distinct_queries": len(set(queries)),
        "channel": key,
        "threshold": args.threshold,
        "llm_requests_one_by_one_vs_batch": asked[0],
        "share_answered_by_llm": round(asked[0][1] / len(queries), 4),
        "one_by_one_cpu_s_median": round(statistics.median(one_cpu), 3),
        "route_batch_cpu_s_median": round(statistics.median(batch_cpu), 3),
        "speed_up": round(statistics.median(one_cpu) / statistics.median(batch_cpu), 2),
        "repeat": args.repeat,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
