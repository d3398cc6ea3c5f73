"""Benchmark: what the embedding router's discriminative part (routing/discriminative.py) costs, side by side
with another checkout (e.g. the commit before it): fit and `route_batch` CPU time of the embedding router.

Per round, one fresh process per checkout (the order alternating between rounds, so both see the same machine
load), each importing its own checkout's `lmos_studio` and measuring, in CPU time (process_time):
* fit on the lmos-router table (sample_networks/lmos-router-benchmark/) seeded with all of train.csv, and with
  5 examples per intent (benchmarks/routing.py's fold 0), embeddings cached (one fit first fills the caches),
  the median of --fits fits; where the checkout has it, the discriminative part's own fit on the seeded table;
* `route_batch` of 5 000 queries (benchmarks/batch.py's) on the seeded fit, the encoder's text cache warm (the
  scoring alone, median of 3), and cold (cache emptied: encoding included), against encoding the same queries
  with the same model in one batch (issue #10's target: within 1.5×).
Medians per side are printed and written to benchmarks/results/separator-cost.json with the load average.

Usage: python benchmarks/separator_cost.py --other DIR [--rounds N] [--fits N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
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


def cpu(work: Callable[[], Any]) -> tuple[float, Any]:
    began = time.process_time()
    out = work()
    return time.process_time() - began, out


def child(code: Path, fits: int) -> dict[str, float]:
    """One side's figures (run in a fresh process with `code`'s lmos_studio first on the path)."""
    sys.path.insert(0, str(code))
    sys.path.insert(0, str(code / "benchmarks"))  # its batch.py and routing.py: they put `code` first too
    from batch import batch_queries
    from routing import DEFAULT_DATA, folds, load_benchmark, seed_rows

    from lmos_studio.routing.base import route_fitted
    from lmos_studio.routing.embedding import EmbeddingRouter, local_embedder

    assert Path(sys.modules["lmos_studio"].__file__ or "").parent.parent == code, "imported another checkout"
    table, rows = load_benchmark(DEFAULT_DATA)
    embedder = local_embedder()
    seeded = seed_rows("seeded", rows, random.Random(0))
    train = [rows[i] for i in folds(rows)[0][0]]
    few = seed_rows("5-per-intent", train, random.Random(0))
    found: dict[str, float] = {}
    for name, seed in (("fit_seeded_cpu_s", seeded), ("fit_5_per_intent_cpu_s", few)):
        EmbeddingRouter(embedder=embedder).fit(table, seed=seed)  # fills the disk and text caches
        found[name] = statistics.median(
            cpu(lambda s=seed: EmbeddingRouter(embedder=embedder).fit(table, seed=s))[0] for _ in range(fits)
        )
    fitted = EmbeddingRouter(embedder=embedder).fit(table, seed=seeded)
    if importlib.util.find_spec("lmos_studio.routing.discriminative"):  # the part itself, where it exists
        from lmos_studio.routing.discriminative import Separator

        found["separator_fit_seeded_cpu_s"] = statistics.median(
            cpu(lambda: Separator.fit(fitted.data, fitted.examples, fitted.descriptions))[0] for _ in range(fits)
        )
    queries = batch_queries(rows, 5000, random.Random(0))
    route_fitted(fitted, queries)  # fills the text cache
    found["route_batch_warm_cpu_s"] = statistics.median(cpu(lambda: route_fitted(fitted, queries))[0] for _ in range(3))
    embedder.clear_cache()
    found["encode_one_batch_cpu_s"] = cpu(lambda: embedder._embed_new(list(queries)))[0]
    embedder.clear_cache()
    found["route_batch_cold_cpu_s"] = cpu(lambda: route_fitted(fitted, queries))[0]
    found["ratio_route_batch_cold_to_encode"] = found["route_batch_cold_cpu_s"] / found["encode_one_batch_cpu_s"]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other", type=Path, help="the other checkout (e.g. the base commit's)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--fits", type=int, default=3, help="fits timed per table (median)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)  # a side: its checkout
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.fits)))
        return
    assert args.other is not None, "--other DIR"
    report = sides.children_side_by_side(
        __file__,
        args.other,
        args.rounds,
        ["--fits", str(args.fits)],
        {"rounds": args.rounds, "fits": args.fits, "other_checkout": args.other.name},
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "separator-cost.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
