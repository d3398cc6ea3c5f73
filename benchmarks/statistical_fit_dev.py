"""Benchmark (dev data only): the statistical router's accuracy, for comparing two versions of its fit side by side.

What a change to the statistical router's model (issue #10's fit cost) is checked against, in one run:
* the lmos-router split (5 folds of train.csv grouped by near-duplicate text, as benchmarks/routing.py):
  agent and capability accuracy seeded, with 5 examples per intent and zero-shot, lexicon `auto` and `none`;
* benchmarks/data/informal-dev.csv with the router fitted on all of train.csv (the same three settings);
* the six dev networks (benchmarks/data/dev/, as benchmarks/statistical_dev.py): agent and capability
  accuracy, out-of-scope recall and false rejects, lexicon `auto`, `customer-service` and `none`;
* informal-dev false rejects and out-of-scope-dev recall (lexicon `auto`).
Routes with `route_fitted` (top 1, no threshold for accuracy). Never reads the frozen sets (networks*/, heldout/).

Usage: python benchmarks/statistical_fit_dev.py OUT.json — run it in each worktree and compare the files.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from routing import DEFAULT_DATA, INFORMAL, Row, folds, load_benchmark, seed_rows  # noqa: E402
from statistical_dev import dev_networks, informal_dev  # noqa: E402

from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.statistical import FittedStatistical, StatisticalRouter  # noqa: E402

SETTINGS = ("seeded", "5-per-intent", "zero-shot")


def accuracy(fitted: FittedStatistical, queries: list[Row], capabilities: set[str]) -> tuple[int, int, int]:
    """(right agents, right capabilities, queries whose intent is a capability of the table)."""
    agents = right = known = 0
    for query, result in zip(queries, route_fitted(fitted, [q.text for q in queries]), strict=True):
        top = result.matches[0] if result.matches else None
        agents += top is not None and top.agent == query.agent
        if query.intent in capabilities:
            known += 1
            right += top is not None and top.capability == query.intent
    return agents, right, known


def main() -> None:
    began = time.process_time()
    table, rows = load_benchmark(DEFAULT_DATA)
    capabilities = {c.capability for c in table.candidates}
    with INFORMAL.open(newline="") as f:
        informal = [Row(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
    out: dict[str, Any] = {}
    for lexicon in ("auto", "none"):
        for setting in SETTINGS:
            agents = right = n = known = 0
            for k, (train, test) in enumerate(folds(rows)):
                seed = seed_rows(setting, [rows[i] for i in train], random.Random(k))
                fitted = StatisticalRouter(lexicon=lexicon).fit(table, seed=seed)
                a, c, m = accuracy(fitted, [rows[i] for i in test], capabilities)
                agents, right, n, known = agents + a, right + c, n + len(test), known + m
            out[f"lmos-router {setting}, lexicon {lexicon}: agent, capability"] = [
                round(agents / n, 4),
                round(right / known, 4),
            ]
        for setting in SETTINGS:
            fitted = StatisticalRouter(lexicon=lexicon).fit(table, seed=seed_rows(setting, rows, random.Random(0)))
            a, c, m = accuracy(fitted, informal, capabilities)
            out[f"informal-dev {setting}, lexicon {lexicon}: agent, capability"] = [
                round(a / len(informal), 4),
                round(c / m, 4),
            ]
    for lexicon in ("auto", "customer-service", "none"):
        found = dev_networks(lexicon, True)
        keys = ("agent_accuracy", "capability_accuracy", "out_of_scope_recall", "false_rejects")
        out[f"dev networks, lexicon {lexicon}"] = {k: found[k] for k in keys}
    found = informal_dev("auto", True, table, rows)
    keys = ("informal_dev_false_rejects", "out_of_scope_dev_recall")
    out["informal-dev / out-of-scope-dev, lexicon auto"] = {k: found[k] for k in keys}
    out["cpu_s"] = round(time.process_time() - began, 1)
    text = json.dumps(out, indent=1)
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
