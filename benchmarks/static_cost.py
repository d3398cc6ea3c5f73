"""Benchmark: what the statistical router's static word vector opinions (`StaticCentroids`, routing/capability.py)
cost on a very large table without examples, side by side with another checkout (e.g. the commit before a change).

The table: the synthetic design of 10 000 agents (`synthetic_design`, what sample_networks/generate_large.py
writes; about 3.5 capabilities an agent, 34 831 classes) routed over all agents, its examples taken out, so the
opinions are on at their full share and `StaticCentroids.fit` reads every class's `capability_texts` and full
description. Per round, one fresh process per checkout (the order alternating between rounds, so both see the same
machine load), each importing its own checkout's `lmos_studio` and measuring, in CPU time (process_time, all
threads: the tokenizer's batch calls run on several):
* the static table's read (`token_vectors`, once per process), apart;
* the router's fit and its first route (which fits the static opinions), then a later route (median of 5);
* `StaticCentroids.fit` on its own (median of --fits);
* the process's peak RSS, and a digest of the fitted static vectors and of the routes' answers, which must be the
  same on both sides when a change is meant to keep every answer.
Medians per side are printed and written to benchmarks/results/static-cost.json with the load average.

Usage: python benchmarks/static_cost.py --other DIR [--rounds N] [--fits N] [--agents N]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).parent))

import sides  # noqa: E402  # benchmarks/sides.py

RESULTS = Path(__file__).parent / "results"
QUERIES = ("I want to check my roaming", "my refund never came, cancel it", "the engine stopped on the motorway")


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    began = time.process_time()
    out = work()
    return time.process_time() - began, out


def child(code: Path, fits: int, agents: int) -> dict[str, Any]:
    """One side's figures (run in a fresh process with `code`'s lmos_studio first on the path)."""
    sys.path.insert(0, str(code))
    from lmos_studio.routing.capability import StaticCentroids, token_vectors
    from lmos_studio.routing.statistical import StatisticalRouter
    from lmos_studio.routing.table import routing_table
    from lmos_studio.routing.training import training_set
    from lmos_studio.synthetic import synthetic_design

    assert Path(sys.modules["lmos_studio"].__file__ or "").parent.parent == code, "imported another checkout"
    design = synthetic_design(agents, 50, 50, 3000)
    table = routing_table(design, None)
    table = dataclasses.replace(table, candidates=tuple(dataclasses.replace(c, examples=()) for c in table.candidates))
    found: dict[str, Any] = {"classes": len(table.candidates)}
    found["token_table_read_cpu_s"] = cpu(token_vectors)[0]
    found["fit_and_first_route_cpu_s"], (fitted, first) = cpu(
        lambda: (lambda f: (f, f.route(QUERIES[0])))(StatisticalRouter().fit(table))
    )
    later = [cpu(lambda q=q: fitted.route(q)) for q in QUERIES * 2][1:]
    found["later_route_cpu_s"] = statistics.median(t for t, _ in later)
    data = training_set(table)
    found["static_fit_cpu_s"] = statistics.median(cpu(lambda: StaticCentroids.fit(data))[0] for _ in range(fits))
    found["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    static = fitted.static
    assert static is not None, "the static opinions are off on this table"
    digest = hashlib.sha256(static.vectors.tobytes() + static.agent_vectors.tobytes())
    found["static_vectors_sha256"] = digest.hexdigest()[:16]
    answers = [dataclasses.replace(r, latency_ms=0.0) for r in [first] + [result for _, result in later]]
    found["answers_sha256"] = hashlib.sha256(repr(answers).encode()).hexdigest()[:16]  # the latency left out
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, help="the other checkout (e.g. the base commit's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fits", type=int, default=3, help="StaticCentroids fits timed (median)")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a side: its checkout
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.fits, args.agents)))
        return
    assert args.other is not None, "--other DIR"
    report = sides.children_side_by_side(
        __file__,
        args.other,
        args.rounds,
        ["--fits", str(args.fits), "--agents", str(args.agents)],
        {"rounds": args.rounds, "fits": args.fits, "agents": args.agents},
    )
    report["same_answers"] = all(
        report["this"][key] == report["other"][key] for key in ("static_vectors_sha256", "answers_sha256")
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "static-cost.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
