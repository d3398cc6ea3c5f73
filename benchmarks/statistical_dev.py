"""Benchmark (dev data only): the statistical router's "no agent fits" signals and capability choice.

What the statistical router's "nearer elsewhere" signal (routing/threshold.py) was tuned on, in one run:
* the six dev networks (benchmarks/data/dev/, with their near-miss files), summed: agent and capability
  accuracy without a threshold, out-of-scope recall and in-scope false rejects with the default rule, which
  signal rejected, and the same with the signal off (`StatisticalRouter(elsewhere=False)`), side by side;
* informal-dev.csv and out-of-scope-dev.csv with the router fitted on lmos-router's train.csv (seeded, as
  benchmarks/generalisation.py): false rejects and out-of-scope recall, signal on and off;
* the sample designs' labelled queries (sample_networks/*-queries.csv): false rejects, signal on and off;
* CPU cost on train.csv: the signal's part of `fit` (`keep_services`) and `route_batch` of 5 000 queries
  with and without it (medians of --repeat, interleaved; the load average is recorded).
Never reads the frozen sets (benchmarks/data/networks*/, heldout/): tune on these figures freely.

Usage: python benchmarks/statistical_dev.py [--repeat N]
Prints the figures and writes benchmarks/results/statistical_dev.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DATA, DEV_NETWORKS  # noqa: E402
from routing import DEFAULT_DATA, Row, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.evaluate import evaluate  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import StatisticalRouter  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SAMPLES = REPO / "sample_networks"
SAMPLE_SETS = {
    "acme": ("acme", "acme-queries.csv"),
    "router-benchmark": ("router-benchmark.yaml", "router-benchmark-queries.csv"),
}
LEXICONS = ("auto", "customer-service")


def dev_networks(lexicon: str, elsewhere: bool) -> dict[str, Any]:
    """The six dev networks summed (each routed over all its agents, as benchmarks/generalisation.py)."""
    found = {"n_in_scope": 0, "agent": 0, "capability": 0, "answered_right": 0, "false_rejects": 0}
    found |= {"n_out_of_scope": 0, "rejected": 0, "by_fit": 0, "by_elsewhere": 0}
    for folder, extra in DEV_NETWORKS.values():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        queries = [q for name in ("queries.csv", *extra) for q in read_labelled_csv(folder / name)]
        fitted = StatisticalRouter(lexicon=lexicon, elsewhere=elsewhere).fit(table)
        for query, result in zip(queries, route_fitted(fitted, [q.text for q in queries]), strict=True):
            top = result.matches[0] if result.matches else None
            if query.agent:
                right = top is not None and top.agent == query.agent
                found["n_in_scope"] += 1
                found["agent"] += right
                found["capability"] += right and top is not None and top.capability == query.capability
                found["answered_right"] += right and not result.no_match
                found["false_rejects"] += result.no_match
            else:
                found["n_out_of_scope"] += 1
                found["rejected"] += result.no_match
                found["by_fit"] += result.rejected_by == "fit"
                found["by_elsewhere"] += result.rejected_by == "elsewhere"
    n_in, n_out = found["n_in_scope"], found["n_out_of_scope"]
    found["agent_accuracy"] = round(found["agent"] / n_in, 4)
    found["capability_accuracy"] = round(found["capability"] / n_in, 4)
    found["in_scope_drop_points"] = round(100 * (found["agent"] - found["answered_right"]) / n_in, 1)
    found["out_of_scope_recall"] = round(found["rejected"] / n_out, 4)
    return found


def informal_dev(lexicon: str, elsewhere: bool, table: Any, rows: list[Row]) -> dict[str, Any]:
    fitted = StatisticalRouter(lexicon=lexicon, elsewhere=elsewhere).fit(
        table, seed=seed_rows("seeded", rows, random.Random(0))
    )
    with (DATA / "informal-dev.csv").open(newline="") as f:
        informal = [r["instruction"] for r in csv.DictReader(f)]
    with (DATA / "out-of-scope-dev.csv").open(newline="") as f:
        out = [r["instruction"] for r in csv.DictReader(f)]
    return {
        "informal_dev_n": len(informal),
        "informal_dev_false_rejects": sum(r.no_match for r in route_fitted(fitted, informal)),
        "out_of_scope_dev_n": len(out),
        "out_of_scope_dev_recall": round(sum(r.no_match for r in route_fitted(fitted, out)) / len(out), 4),
        "elsewhere_limit": fitted.elsewhere_limit,
    }


def samples(lexicon: str, elsewhere: bool) -> dict[str, int | None]:
    found: dict[str, int | None] = {}
    for name, (design, queries) in SAMPLE_SETS.items():
        run = evaluate(
            read_design(SAMPLES / design),
            read_labelled_csv(SAMPLES / queries),
            router=StatisticalRouter(lexicon=lexicon, elsewhere=elsewhere),
        )
        found[f"{name}_false_rejects"] = run.metrics.false_rejects
    return found


def cost(table: Any, rows: list[Row], repeat: int) -> dict[str, Any]:
    """The signal's CPU on train.csv: `keep_services` within fit, and route_batch with / without it."""
    fitted = StatisticalRouter(lexicon="customer-service").fit(table, seed=[(r.text, r.agent, r.intent) for r in rows])
    rng = random.Random(0)
    queries = [f"{rows[rng.randrange(len(rows))].text} {i}" for i in range(5000)]
    examples = fitted.encoder.matrix(list(fitted.data.texts))
    on = (fitted.services_knn, fitted.descriptions_knn, fitted.elsewhere_limit, fitted.service_texts)
    with_signal, without, keep = [], [], []
    for _ in range(repeat):
        fitted.services_knn, fitted.descriptions_knn, fitted.elsewhere_limit, fitted.service_texts = on
        start = time.process_time()
        fitted.route_batch(queries, top_k=1)
        with_signal.append(time.process_time() - start)
        fitted.services_knn = fitted.descriptions_knn = fitted.elsewhere_limit = None
        start = time.process_time()
        fitted.route_batch(queries, top_k=1)
        without.append(time.process_time() - start)
        start = time.process_time()
        fitted.keep_services(examples, ())
        keep.append(time.process_time() - start)
    return {
        "examples": len(fitted.data.texts),
        "queries": len(queries),
        "route_batch_with_signal_cpu_s": round(statistics.median(with_signal), 4),
        "route_batch_without_signal_cpu_s": round(statistics.median(without), 4),
        "keep_services_cpu_s": round(statistics.median(keep), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    table, rows = load_benchmark(DEFAULT_DATA)
    report: dict[str, Any] = {"routers": {}}
    for lexicon in LEXICONS:
        for elsewhere in (False, True):
            report["routers"][f"{lexicon}{'' if elsewhere else ', signal off'}"] = {
                "dev_networks": dev_networks(lexicon, elsewhere),
                **informal_dev(lexicon, elsewhere, table, rows),
                **samples(lexicon, elsewhere),
            }
    report["cost"] = cost(table, rows, args.repeat)
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "statistical_dev.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{'statistical, lexicon':<34}{'agent':>7}{'cap':>7}{'recall':>8}{'drop':>6}{'fit':>5}{'else':>5}"
        f"{'inf-FR':>8}{'oos-dev':>8}{'samples FR':>12}"
    )
    for name, r in report["routers"].items():
        d = r["dev_networks"]
        print(
            f"{name:<34}{d['agent_accuracy']:>7.3f}{d['capability_accuracy']:>7.3f}{d['out_of_scope_recall']:>8.3f}"
            f"{d['in_scope_drop_points']:>6.1f}{d['by_fit']:>5}{d['by_elsewhere']:>5}"
            f"{r['informal_dev_false_rejects']:>8}{r['out_of_scope_dev_recall']:>8.2f}"
            f"{[r[f'{s}_false_rejects'] for s in SAMPLE_SETS]!s:>12}"
        )
    print(f"cost: {report['cost']}")
    print(f"machine: {report['machine']}")


if __name__ == "__main__":
    main()
