"""Benchmark: what a team gains by listing out-of-scope messages in its design (`spec.routing.outOfScope`).

Issue #10's out-of-scope target is not met by the offline routers alone (README, "No agent fits"): same-domain
near-misses mostly pass. A team can list what its channels must not answer, from the Playground ("Not for this
channel"), the Evaluate page (the missed out-of-scope rows) or `lmos-studio edit add-out-of-scope`. This
measures what that buys on messages it did *not* list: for each network, its out-of-scope rows are shuffled
and split in two; k of the first half are listed in the design, and the second half (never listed) is routed
with every in-scope row, by the default router (embedding, lexicon `auto`) with the default threshold.
Reported per k (0 = the design as written): out-of-scope recall on the unlisted half, in-scope accuracy and
false rejects, averaged over --rounds random splits, and the recall of the listed messages themselves (a
message listed is answered "no agent" when it comes again: the figure says whether that holds).

No constant is chosen here: the rule is routing/threshold.py's, unchanged. It runs on the dev networks
(benchmarks/data/dev/) by default; `--frozen` runs it on the nine frozen networks too, as a measurement only.

Usage: python benchmarks/listed_out_of_scope.py [--rounds N] [--ks 0 5 10 20] [--frozen] [--out NAME]
Prints a table and writes benchmarks/results/listed_out_of_scope.json (or --out).
"""

from __future__ import annotations

import argparse
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

from generalisation import DEV_NETWORKS, NETWORKS, NETWORKS_2, NETWORKS_3, NETWORKS_4  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.model import Design, OutOfScopeExample  # noqa: E402
from lmos_studio.routing.embedding import EmbeddingRouter  # noqa: E402
from lmos_studio.routing.evaluate import evaluate  # noqa: E402
from lmos_studio.routing.labelled import LabelledQuery, read_labelled_csv  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def rows_of(folder: Path, extra: tuple[str, ...]) -> list[LabelledQuery]:
    return [q for name in ("queries.csv", *extra) for q in read_labelled_csv(folder / name)]


def listing(design: Design, texts: list[str]) -> Design:
    """The design with these messages listed as out of scope (for every channel: each network has one)."""
    examples = tuple(OutOfScopeExample(text=t) for t in texts)
    return design.replace(routing=design.routing.model_copy(update={"out_of_scope": examples}))


def network(folder: Path, extra: tuple[str, ...], ks: list[int], rounds: int) -> dict[str, Any]:
    design = read_design(folder / "design.yaml")
    rows = rows_of(folder, extra)
    inside = [q for q in rows if q.agent]
    outside = [q for q in rows if not q.agent]
    router = EmbeddingRouter()
    per_k: dict[int, list[dict[str, float]]] = {k: [] for k in ks}
    for round_ in range(rounds):
        shuffled = outside[:]
        random.Random(round_).shuffle(shuffled)
        half = len(shuffled) // 2
        pool, held = shuffled[:half], shuffled[half:]
        for k in ks:
            listed = pool[:k]
            run = evaluate(listing(design, [q.text for q in listed]), [*inside, *held, *listed], router=router)
            by_text = {p.text: p for p in run.predictions}
            m = run.metrics
            held_recall = sum(not by_text[q.text].agent for q in held) / len(held)
            listed_recall = sum(not by_text[q.text].agent for q in listed) / len(listed) if listed else None
            per_k[k].append(
                {
                    "held_out_of_scope_recall": held_recall,
                    "listed_recall": listed_recall,
                    "in_scope_accuracy": m.in_scope_accuracy or 0.0,
                    "false_rejects": float(m.false_rejects),
                    "listed": float(len(listed)),
                }
            )
    return {
        "n_in_scope": len(inside),
        "n_out_of_scope": len(outside),
        "by_k": {
            str(k): {
                key: round(statistics.mean(r[key] for r in runs if r[key] is not None), 4)
                if any(r[key] is not None for r in runs)
                else None
                for key in runs[0]
            }
            for k, runs in per_k.items()
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ks", type=int, nargs="+", default=[0, 3, 6, 10, 20])
    parser.add_argument("--frozen", action="store_true", help="the nine frozen networks too (measurement only)")
    parser.add_argument("--out", default="listed_out_of_scope.json")
    args = parser.parse_args()
    groups = {"dev": DEV_NETWORKS}
    if args.frozen:
        groups["frozen"] = {**NETWORKS, **NETWORKS_2, **NETWORKS_3, **NETWORKS_4}
    load_before, cpu = os.getloadavg(), time.process_time()
    report: dict[str, Any] = {"rounds": args.rounds, "ks": args.ks, "router": "embedding, lexicon auto", "groups": {}}
    for group, networks in groups.items():
        found = report["groups"][group] = {}
        for name, (folder, extra) in networks.items():
            found[name] = network(folder, extra, args.ks, args.rounds)
            row = found[name]["by_k"]
            print(
                f"{group:6} {name:15} "
                + "  ".join(
                    f"k={k}: {row[str(k)]['held_out_of_scope_recall']:.2f}/{row[str(k)]['false_rejects']:.1f}"
                    for k in args.ks
                ),
                flush=True,
            )
        found["mean"] = {
            str(k): {
                key: round(statistics.mean(found[n]["by_k"][str(k)][key] for n in networks), 4)
                for key in ("held_out_of_scope_recall", "in_scope_accuracy", "false_rejects", "listed")
            }
            for k in args.ks
        }
        print(
            f"{group:6} {'mean':15} "
            + "  ".join(
                f"k={k}: {v['held_out_of_scope_recall']:.3f} recall, {v['in_scope_accuracy']:.3f} in scope, "
                f"{v['false_rejects']:.1f} false rejects"
                for k, v in found["mean"].items()
            )
        )
    report["cpu_s"] = round(time.process_time() - cpu, 1)
    report["load_before_after"] = [round(load_before[0], 2), round(os.getloadavg()[0], 2)]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / args.out}")


if __name__ == "__main__":
    main()
