"""Benchmark (dev data only): the statistical router's "no agent fits" per half of the dev networks, for comparing
two versions side by side (session 11: its static fit, routing/threshold.py STATIC_FIT_SCALE).

Per half (a: hr-desk, insurance, hotel, where settings are chosen; b: student-office, hospital-b, energy; c: gym,
parcels, checks only) and lexicon (auto, customer-service, none): the queries of queries.csv, the network's extra
files (generalisation.DEV_NETWORKS) and fresh-n.csv, routed over all its agents with the default rule: in-scope
queries, those routed to the right agent, those of them rejected ("no agent fits", either signal), out-of-scope
queries and those rejected. Never reads the frozen sets (benchmarks/data/networks*/, heldout/).

Usage: python benchmarks/static_fit_dev.py OUT.json — run it in each checkout and compare the files.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DATA, DEV_HALVES, DEV_NETWORKS  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import StatisticalRouter  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402

NETWORKS = {**DEV_NETWORKS, "gym": (DATA / "dev" / "gym", ()), "parcels": (DATA / "dev" / "parcels", ())}
HALVES = {"a": DEV_HALVES[0], "b": DEV_HALVES[1], "c": ("gym", "parcels")}
LEXICONS = ("auto", "customer-service", "none")


def half(names: tuple[str, ...], lexicon: str) -> dict[str, int]:
    found = dict(in_scope=0, right=0, right_rejected=0, in_scope_rejected=0, out_of_scope=0, rejected=0)
    for name in names:
        folder, extra = NETWORKS[name]
        assert folder.parent.name == "dev", folder  # dev data only
        files = ["queries.csv", *extra] + (["fresh-n.csv"] if (folder / "fresh-n.csv").exists() else [])
        queries = [q for f in files for q in read_labelled_csv(folder / f)]
        fitted = StatisticalRouter(lexicon=lexicon).fit(routing_table(read_design(folder / "design.yaml"), None))
        for query, result in zip(queries, route_fitted(fitted, [q.text for q in queries]), strict=True):
            if query.agent:
                right = bool(result.matches) and result.matches[0].agent == query.agent
                found["in_scope"] += 1
                found["right"] += right
                found["right_rejected"] += right and result.no_match
                found["in_scope_rejected"] += result.no_match
            else:
                found["out_of_scope"] += 1
                found["rejected"] += result.no_match
    return found


def main() -> None:
    out = Path(sys.argv[1])
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    report: dict[str, Any] = {
        f"{lexicon}, half {name}": half(names, lexicon) for lexicon in LEXICONS for name, names in HALVES.items()
    }
    for key, r in report.items():
        print(
            f"{key:<30} right rejected {r['right_rejected']:>3} of {r['right']:<4}"
            f"out of scope rejected {r['rejected']:>3} of {r['out_of_scope']}"
        )
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
