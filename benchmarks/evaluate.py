"""Benchmark: the evaluation pipeline end to end (CSV parsing, per-channel fitting, routing, metrics, what-if).

On the router-benchmark sample design (11 agents, one channel, 5 examples per capability) with the
lmos-router train.csv (3 000 rows) cycled to 5 000 labelled queries: how long `evaluate` takes for the
whole set (the issue's target: < 10 s offline on 2 cores), and how long a what-if that removes one agent
takes over 3 000 labelled queries. Accuracy here is "5 examples per capability" on seen templates — the
router figures proper are in benchmarks/routing.py.

Usage: python benchmarks/evaluate.py [--router statistical] [--rows 5000]
Prints the figures and writes benchmarks/results/evaluate.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from itertools import cycle, islice
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script from anywhere: import the worktree's lmos_studio

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.evaluate import evaluate, get_router  # noqa: E402
from lmos_studio.routing.labelled import BENCHMARK_TRAIN, read_labelled_csv  # noqa: E402
from lmos_studio.whatif import Edit, what_if  # noqa: E402

RESULTS = Path(__file__).parent / "results"
DESIGN = REPO / "sample_networks" / "router-benchmark.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", default="statistical")
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    if not BENCHMARK_TRAIN.is_file():
        sys.exit(f"missing {BENCHMARK_TRAIN}: restore sample_networks/lmos-router-benchmark/ from git")
    design = read_design(DESIGN)

    start = time.perf_counter()
    train = read_labelled_csv(BENCHMARK_TRAIN)
    parse_s = time.perf_counter() - start
    queries = list(islice(cycle(train), args.rows))

    start = time.perf_counter()
    result = evaluate(design, queries, router=get_router(args.router))
    eval_s = time.perf_counter() - start

    start = time.perf_counter()
    change = what_if(design, [Edit("remove-agent", "delivery-agent")], router=get_router(args.router), queries=train)
    whatif_s = time.perf_counter() - start

    m = result.metrics
    figures = {
        "design": DESIGN.name,
        "router": args.router,
        "rows": len(queries),
        "parse_train_csv_s": round(parse_s, 3),
        "evaluate_s": round(eval_s, 3),
        "evaluate_queries_per_s": round(len(queries) / eval_s, 1),
        "accuracy": round(m.accuracy, 5),
        "capability_accuracy": round(m.capability_accuracy or 0.0, 5),
        "macro_f1": None if m.macro_f1 is None else round(m.macro_f1, 5),
        "route_ms_p50": round(m.latency_p50_ms, 3),
        "route_ms_p95": round(m.latency_p95_ms, 3),
        "whatif_remove_agent_queries": len(train),
        "whatif_s": round(whatif_s, 3),
        "whatif_changed_routes": len(change.routes),
    }
    for key, value in figures.items():
        print(f"{key:32} {value}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "evaluate.json").write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
