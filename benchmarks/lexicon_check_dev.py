"""Benchmark (dev data only): the lexicon `auto` check's held-out scores against a reference, side by side.

The check (routing/lexicon.py) fits the statistical router with and without the lexicon on few examples and
keeps the lexicon unless it scores lower. This script scores every table we may tune on with the reference
check (the router's fits with their SVMs at the router's own tolerance, 1e-4: the session-7 rule) and with the
check as configured (CHECK_MODELS: no SVMs; with --models, the SVM check at --tol, default CHECK_TOL: the
session-8 rule), and lists the tables whose scores or verdicts differ, plus the near-ties
(|with − without| < 0.05) where a verdict could turn:
* the lmos-router split (train.csv seeded, 5 per intent and zero-shot: each of the 5 folds' training rows, and
  all of them), as benchmarks/routing.py draws them;
* the dev networks (benchmarks/data/dev/*), whole and per channel;
* the sample designs sample_networks/acme and router-benchmark.yaml, whole and per channel.
Never reads the frozen sets (networks*/, heldout/). Also prints the check's CPU time both ways.

Usage: python benchmarks/lexicon_check_dev.py [--models] [--tol 0.01] [OUT.json]
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
from lmos_studio.routing.lexicon import CHECK_MODELS, CHECK_TOL, LexiconChoice, choose_lexicon  # noqa: E402
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


def choice_at(case: Case, tol: float | None, models: bool) -> tuple[LexiconChoice, float]:
    """The check's verdict on one table with its SVMs at `tol` (None: the router's own) or without SVMs
    (`models` False), and its CPU time."""
    saved = statistical.CHECK_TOL, statistical.CHECK_MODELS
    statistical.CHECK_TOL = tol  # type: ignore[assignment]  # held_out_correct reads them at call time
    statistical.CHECK_MODELS = models
    try:
        began = time.process_time()
        _, choice = choose_lexicon(training_set(case[1], case[2]), "auto", statistical.held_out_scores)
        return choice, time.process_time() - began
    finally:
        statistical.CHECK_TOL, statistical.CHECK_MODELS = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", action="store_true", help="compare the SVM check at --tol (CHECK_MODELS on)")
    parser.add_argument("--tol", type=float, default=CHECK_TOL)
    parser.add_argument("out", nargs="?", type=Path)
    args = parser.parse_args()
    models = args.models or CHECK_MODELS
    label = f"svm tol {args.tol}" if models else "no svm"
    rows: list[dict[str, Any]] = []
    cpu = {"reference": 0.0, "check": 0.0}
    for case in cases():
        before, spent_before = choice_at(case, None, True)
        after, spent_after = choice_at(case, args.tol, models)
        cpu["reference"] += spent_before
        cpu["check"] += spent_after
        row = {
            "table": case[0],
            "reference": [before.used, before.with_lexicon, before.without_lexicon],
            "check": [after.used, after.with_lexicon, after.without_lexicon],
        }
        near = before.with_lexicon is not None and abs(before.with_lexicon - (before.without_lexicon or 0.0)) < 0.05
        if row["reference"] != row["check"] or near:
            print(row["table"], row["reference"], "->", row["check"], "" if row["reference"] == row["check"] else "*")
        rows.append(row)
    out = {
        "check": label,
        "tables": len(rows),
        "scores_differ": sum(r["reference"] != r["check"] for r in rows),
        "verdicts_differ": sum(r["reference"][0] != r["check"][0] for r in rows),
        "check_cpu_s": {"svm tol 1e-4": round(cpu["reference"], 2), label: round(cpu["check"], 2)},
        "rows": rows,
    }
    print({k: v for k, v in out.items() if k != "rows"})
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
