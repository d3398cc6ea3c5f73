"""Benchmark (dev data only): the lexicon `auto` check's held-out scores at two SVM tolerances, side by side.

The check (routing/lexicon.py) fits the statistical router with and without the lexicon on few examples and
keeps the lexicon unless it scores lower. Its SVMs stop at `CHECK_TOL`; this script scores every table we may
tune on at the router's own tolerance (1e-4) and at another (default: CHECK_TOL), and lists the tables whose
scores or verdicts differ, plus the near-ties (|with − without| < 0.05) where a verdict could turn:
* the lmos-router split (train.csv seeded, 5 per intent and zero-shot: each of the 5 folds' training rows, and
  all of them), as benchmarks/routing.py draws them;
* the dev networks (benchmarks/data/dev/*), whole and per channel;
* the sample designs sample_networks/acme and router-benchmark.yaml, whole and per channel.
Never reads the frozen sets (networks*/, heldout/). Also prints the check's CPU time at both tolerances.

Usage: python benchmarks/lexicon_check_dev.py [--tol 0.01] [OUT.json]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from routing import DEFAULT_DATA, folds, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing import statistical  # noqa: E402
from lmos_studio.routing.base import RoutingTable  # noqa: E402
from lmos_studio.routing.lexicon import CHECK_TOL, LexiconChoice, choose_lexicon  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.training import training_set  # noqa: E402

DEV = REPO / "benchmarks" / "data" / "dev"
SAMPLES = (REPO / "sample_networks" / "acme", REPO / "sample_networks" / "router-benchmark.yaml")
Case = tuple[str, RoutingTable, list[tuple[str, str, str]]]


def cases() -> list[Case]:
    """(name, table, seed rows) of every dev and sample table the check is compared on."""
    table, rows = load_benchmark(DEFAULT_DATA)
    found: list[Case] = []
    for setting in ("seeded", "5-per-intent", "zero-shot"):
        for k, (train, _) in enumerate(folds(rows)):
            found.append(
                (
                    f"lmos-router {setting} fold {k}",
                    table,
                    seed_rows(setting, [rows[i] for i in train], random.Random(k)),
                )
            )
        found.append((f"lmos-router {setting} all", table, seed_rows(setting, rows, random.Random(0))))
    designs = [folder / "design.yaml" for folder in sorted(DEV.iterdir()) if (folder / "design.yaml").exists()]
    for path in [*designs, *SAMPLES]:
        assert "dev" in path.parts or "sample_networks" in path.parts, path  # dev data only
        design = read_design(path)
        name = path.parent.name if path.name == "design.yaml" else path.name
        found.append((name, routing_table(design, None), []))
        found += [(f"{name} {channel.key}", routing_table(design, channel.key), []) for channel in design.channels]
    return found


def choice_at(case: Case, tol: float | None) -> tuple[LexiconChoice, float]:
    """The check's verdict on one table with its SVMs at `tol` (None: the router's own), and its CPU time."""
    saved = statistical.CHECK_TOL
    statistical.CHECK_TOL = tol  # type: ignore[assignment]  # held_out_correct reads it at call time
    try:
        began = time.process_time()
        _, choice = choose_lexicon(training_set(case[1], case[2]), "auto", statistical.held_out_correct)
        return choice, time.process_time() - began
    finally:
        statistical.CHECK_TOL = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tol", type=float, default=CHECK_TOL)
    parser.add_argument("out", nargs="?", type=Path)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    cpu = {"reference": 0.0, "tol": 0.0}
    for case in cases():
        before, spent_before = choice_at(case, None)
        after, spent_after = choice_at(case, args.tol)
        cpu["reference"] += spent_before
        cpu["tol"] += spent_after
        row = {
            "table": case[0],
            "reference": [before.used, before.with_lexicon, before.without_lexicon],
            "tol": [after.used, after.with_lexicon, after.without_lexicon],
        }
        near = before.with_lexicon is not None and abs(before.with_lexicon - (before.without_lexicon or 0.0)) < 0.05
        if row["reference"] != row["tol"] or near:
            print(row["table"], row["reference"], "->", row["tol"], "" if row["reference"] == row["tol"] else "*")
        rows.append(row)
    out = {
        "tol": args.tol,
        "tables": len(rows),
        "scores_differ": sum(r["reference"] != r["tol"] for r in rows),
        "verdicts_differ": sum(r["reference"][0] != r["tol"][0] for r in rows),
        "check_cpu_s": {"tol 1e-4": round(cpu["reference"], 2), f"tol {args.tol}": round(cpu["tol"], 2)},
        "rows": rows,
    }
    print({k: v for k, v in out.items() if k != "rows"})
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
