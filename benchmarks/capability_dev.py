"""Benchmark (dev data only): agent and capability accuracy of every offline router on the dev networks.

Issue #10's capability target: on networks of other domains the right capability is found about as often as
the right agent. This reports, per dev network (benchmarks/data/dev/, fitted on each design's own examples,
no threshold) and per router: in-scope agent accuracy, capability accuracy (right agent and right capability)
and capability given the right agent, plus out-of-scope recall with the default threshold; then the same
summed over two halves of the networks (tune on one, check on the other), over a third half "c" (gym, parcels:
written in session 7 as a check only, nothing chosen on it; not in "all") and the capability errors (query,
expected capability, shown capability). `--zero-shot` fits on the designs without their examples (names and
descriptions only); `--embedder` gives the statistical routers the local MiniLM for the capability choice
(`StatisticalRouter(embedder=…)`, routing/capability.py). Never reads the frozen sets (benchmarks/data/networks*/,
heldout/).

Usage: python benchmarks/capability_dev.py [--routers NAME ...] [--errors] [--zero-shot] [--embedder]
       [--files queries.csv ...]
Prints the figures and writes benchmarks/results/capability_dev.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DEV_HALVES, ROUTERS  # noqa: E402  # the same six routers, "-auto-lexicon" the design default
from routing import folds, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import FittedRouter, route_fitted  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import StatisticalRouter  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402

DEV = Path(__file__).parent / "data" / "dev"
RESULTS = Path(__file__).parent / "results"
LMOS_DATA = REPO / "sample_networks" / "lmos-router-benchmark"
HALVES = {
    "a": DEV_HALVES[0],
    "b": DEV_HALVES[1],
    "c": ("gym", "parcels"),  # the check half: nothing is chosen on it, and "all" leaves it out
}
NETWORKS = HALVES["a"] + HALVES["b"] + HALVES["c"]
FILES = ("queries.csv", "near-misses.csv", "more-g.csv", "more-c.csv")  # those a network has


def network(name: str, router: Any, files: tuple[str, ...], zero_shot: bool = False) -> dict[str, Any]:
    folder = DEV / name
    table = routing_table(read_design(folder / "design.yaml"), None)
    if zero_shot:  # names and descriptions only
        table = replace(table, candidates=tuple(replace(c, examples=()) for c in table.candidates))
    queries = [q for f in files if (folder / f).exists() for q in read_labelled_csv(folder / f)]
    fitted: FittedRouter = router.fit(table)
    found: dict[str, Any] = {"n_in_scope": 0, "agent": 0, "capability": 0, "n_out_of_scope": 0, "rejected": 0}
    errors: list[list[str]] = []
    for query, result in zip(queries, route_fitted(fitted, [q.text for q in queries]), strict=True):
        top = result.matches[0] if result.matches else None
        if not query.agent:
            found["n_out_of_scope"] += 1
            found["rejected"] += result.no_match
            continue
        right = top is not None and top.agent == query.agent
        found["n_in_scope"] += 1
        found["agent"] += right
        found["capability"] += right and top is not None and top.capability == query.capability
        if right and top is not None and top.capability != query.capability:
            errors.append([query.text, f"{query.agent}/{query.capability}", top.capability])
    found["errors"] = errors
    return found


def lmos_router(name: str, embedder: bool = False) -> dict[str, Any]:
    """The lmos-router split of benchmarks/routing.py (5 folds, grouped): 5 examples per intent and zero-shot,
    agent and capability accuracy (closed set: top-1 whatever the threshold)."""
    table, rows = load_benchmark(LMOS_DATA)
    capabilities = {c.capability for c in table.candidates}
    found: dict[str, Any] = {}
    for setting in ("5-per-intent", "zero-shot"):
        n = agent = cap_n = cap = 0
        for k, (train_idx, test_idx) in enumerate(folds(rows)):
            seed = seed_rows(setting, [rows[i] for i in train_idx], random.Random(k))
            router = ROUTERS[name]()
            if embedder and isinstance(router, StatisticalRouter):
                from lmos_studio.routing.encoder import local_embedder

                router.embedder = local_embedder()
            fitted = router.fit(table, seed=seed)
            test = [rows[i] for i in test_idx]
            for r, result in zip(test, route_fitted(fitted, [r.text for r in test]), strict=True):
                top = result.matches[0] if result.matches else None
                n += 1
                agent += top is not None and top.agent == r.agent
                if r.intent in capabilities:
                    cap_n += 1
                    cap += top is not None and top.capability == r.intent
        found[setting] = {"n": n, "agent_accuracy": round(agent / n, 4), "capability_accuracy": round(cap / cap_n, 4)}
    return found


def summary(parts: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("n_in_scope", "agent", "capability", "n_out_of_scope", "rejected")
    total = {k: sum(p[k] for p in parts) for k in keys}
    n = max(total["n_in_scope"], 1)
    return {
        **total,
        "agent_accuracy": round(total["agent"] / n, 4),
        "capability_accuracy": round(total["capability"] / n, 4),
        "capability_given_agent": round(total["capability"] / max(total["agent"], 1), 4),
        "out_of_scope_recall": round(total["rejected"] / max(total["n_out_of_scope"], 1), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", nargs="+", choices=sorted(ROUTERS), default=list(ROUTERS))
    parser.add_argument("--files", nargs="+", default=list(FILES), help="which query files of each network")
    parser.add_argument("--lmos-router", action="store_true", help="also the lmos-router split (slow)")
    parser.add_argument("--errors", action="store_true", help="print the capability errors")
    parser.add_argument("--zero-shot", action="store_true", help="fit on the designs without their examples")
    parser.add_argument("--embedder", action="store_true", help="statistical routers: MiniLM picks the capability")
    parser.add_argument("--out", type=Path, help="write the JSON here (default: results/capability_dev.json)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    report: dict[str, Any] = {"files": args.files, "zero_shot": args.zero_shot, "embedder": args.embedder}
    report["routers"] = {}
    for name in args.routers:
        router = ROUTERS[name]()
        if args.embedder and isinstance(router, StatisticalRouter):
            from lmos_studio.routing.encoder import local_embedder

            router.embedder = local_embedder()
        per = {net: network(net, router, tuple(args.files), args.zero_shot) for net in NETWORKS}
        report["routers"][name] = {
            "networks": {net: summary([r]) | {"errors": r["errors"]} for net, r in per.items()},
            "all": summary([per[n] for n in HALVES["a"] + HALVES["b"]]),
            **{f"half_{h}": summary([per[n] for n in nets]) for h, nets in HALVES.items()},
        }
        if args.lmos_router:
            report["routers"][name]["lmos_router"] = lmos_router(name, args.embedder)
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    out = args.out or RESULTS / "capability_dev.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'router':<28}{'part':<16}{'n':>5}{'agent':>8}{'cap':>8}{'cap|agent':>10}{'oos':>7}")
    for name, entry in report["routers"].items():
        rows = [("all", entry["all"])] + [(f"half {h}", entry[f"half_{h}"]) for h in HALVES]
        rows += list(entry["networks"].items())
        for part, s in rows:
            print(
                f"{name:<28}{part:<16}{s['n_in_scope']:>5}{s['agent_accuracy']:>8.3f}{s['capability_accuracy']:>8.3f}"
                f"{s['capability_given_agent']:>10.3f}{s['out_of_scope_recall']:>7.3f}"
            )
        for setting, s in entry.get("lmos_router", {}).items():
            print(
                f"{name:<28}{'lmos ' + setting:<16}{s['n']:>5}{s['agent_accuracy']:>8.3f}"
                f"{s['capability_accuracy']:>8.3f}"
            )
        if args.errors:
            for net, s in entry["networks"].items():
                for text, expected, shown in s["errors"]:
                    print(f"  {net}: {text!r}: {expected} -> {shown}")
    print(f"machine: {report['machine']}")


if __name__ == "__main__":
    main()
