"""Benchmark: the batch path. 5 000 queries routed as one list, against plain baselines, side by side.

* statistical: our router's fit on train.csv + `route_batch` of 5 000 queries, against a plain
  scikit-learn TF-IDF + LinearSVC fit + predict on the same data (target, issue #10: fit + route_batch within
  5× its CPU time; the ratio is reported for fit + route_batch and for route_batch alone). Plain and
  route_batch are timed --repeat times, interleaved, and the medians compared (the machine is shared). The
  fit is timed cold: --repeat fresh processes (`--fit-child`), each fitting once with empty caches, interleaved
  with the plain runs, median reported, with its parts (the lexicon `auto` check, the SVMs, the rest). The
  5 000 queries repeat texts of
  train.csv (with numbers appended), so route_batch scores only the distinct analyses (`distinct_queries`);
  a second set of 5 000 queries that all analyse differently is timed too (`route_batch_all_distinct_*`),
  and reading every result's evidence afterwards (what a full CSV export does) is timed apart;
* statistical_warm: the fit kept on disk by `RouterCache(disk=…)` (routing/stored.py): one fresh process fits
  and stores it, --repeat fresh processes load it and route the queries (not the target, which is cold; what a
  later eval / test / whatif run on an unchanged table pays);
* embedding: `route_batch` of the 5 000 queries (the encoder's text cache emptied first) against encoding
  the same queries with the same model in one batch (target: within 1.5×).
CPU time (process_time) is the figure; wall time and the load average are recorded too.

`--compare DIR` measures the statistical router of this checkout and of another (DIR, e.g. a checkout of main)
side by side instead: --repeat rounds, each running one fresh process per checkout (`--side-child`: a cold fit
with its parts, route_batch of the 5 000 queries, the plain fit + predict), the order alternating between
rounds so both see the same machine load; medians per side, written to --out (default batch_compare.json).

Usage: python benchmarks/batch.py [--data DIR] [--queries N] [--repeat N] [--skip-embedding]
       python benchmarks/batch.py --compare DIR [--repeat N] [--out NAME]
Prints the figures and writes benchmarks/results/batch.json (or --out).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
# `--code DIR` (set by `--compare` for its children): import lmos_studio from that checkout instead of this one.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]) if "--code" in sys.argv[:-1] else REPO
sys.path.insert(0, str(CODE))
import lmos_studio  # noqa: E402, F401 - first, from CODE: benchmarks/routing.py puts this checkout first on sys.path

sys.path.insert(0, str(Path(__file__).parent))

import sides  # noqa: E402  # benchmarks/sides.py
from routing import DEFAULT_DATA, load_benchmark  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from lmos_studio.routing import capability, statistical  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.embedding import EmbeddingRouter, local_embedder  # noqa: E402
from lmos_studio.routing.statistical import StatisticalRouter  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    cpu, wall = time.process_time(), time.perf_counter()
    out = work()
    return time.process_time() - cpu, time.perf_counter() - wall, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="timings of plain and route_batch (median)")
    parser.add_argument("--skip-embedding", action="store_true", help="the statistical router only")
    parser.add_argument("--compare", type=Path, help="another checkout: its statistical router side by side")
    parser.add_argument("--out", default="batch_compare.json", help="--compare: file name under results/")
    parser.add_argument("--fit-child", action="store_true", help=argparse.SUPPRESS)  # see fit_child
    parser.add_argument("--side-child", action="store_true", help=argparse.SUPPRESS)  # see side_child
    parser.add_argument("--code", type=Path, help=argparse.SUPPRESS)  # see CODE
    parser.add_argument("--warm-child", type=Path, help=argparse.SUPPRESS)  # see warm_child
    args = parser.parse_args()
    if args.fit_child:
        fit_child(args.data)
        return
    if args.warm_child is not None:
        warm_child(args.data, args.queries, args.warm_child)
        return
    if args.side_child:
        side_child(args.data, args.queries)
        return
    if args.compare is not None:
        compare(args.compare.resolve(), data=args.data, queries=args.queries, repeat=max(args.repeat, 1), out=args.out)
        return
    table, rows = load_benchmark(args.data)
    rng = random.Random(0)
    queries = batch_queries(rows, args.queries, rng)
    words = sorted({w for r in rows for w in r.text.lower().split() if w.isalpha()})
    distinct_queries = [f"{rng.choice(rows).text} {rng.choice(words)} {rng.choice(words)}" for _ in queries]
    seed = [(r.text, r.agent, r.intent) for r in rows]
    load_before = os.getloadavg()
    figures: dict[str, Any] = {"queries": len(queries), "training_rows": len(rows)}

    def plain() -> Any:
        return plain_fit_predict(rows, queries)

    first_fit_cpu, fit_wall, fitted = timed(lambda: StatisticalRouter().fit(table, seed=seed))
    plain_runs, route_runs, fit_runs = [], [], []
    for _ in range(max(args.repeat, 1)):  # interleaved: all see the same machine load
        plain_runs.append(timed(plain)[:2])
        route_runs.append(timed(lambda: route_fitted(fitted, queries))[:2])
        fit_runs.append(cold_fit(args.data))
    fit_cpu = statistics.median(run["fit_cpu_s"] for run in fit_runs)
    fit_parts = {
        part: round(statistics.median(run["parts"][part] for run in fit_runs), 3) for part in fit_runs[0]["parts"]
    }
    base_cpu, base_wall = statistics.median(c for c, _ in plain_runs), statistics.median(w for _, w in plain_runs)
    route_cpu, route_wall = statistics.median(c for c, _ in route_runs), statistics.median(w for _, w in route_runs)
    distinct_cpu, _, _ = timed(lambda: route_fitted(fitted, distinct_queries))
    routed = route_fitted(fitted, queries)
    evidence_cpu, _, _ = timed(lambda: [m.evidence for r in routed for m in r.matches])
    one_cpu, _, _ = timed(lambda: [fitted.route(q, top_k=1) for q in queries[:500]])
    figures["statistical"] = {
        "plain_tfidf_linearsvc_fit_predict_cpu_s": round(base_cpu, 3),
        "fit_cpu_s": round(fit_cpu, 3),
        "fit_parts_cpu_s": fit_parts,
        "fit_first_in_this_process_cpu_s": round(first_fit_cpu, 3),
        "route_batch_cpu_s": round(route_cpu, 3),
        "fit_plus_route_batch_cpu_s": round(fit_cpu + route_cpu, 3),
        "ratio_route_batch_to_plain": round(route_cpu / base_cpu, 2),
        "ratio_fit_plus_route_to_plain": round((fit_cpu + route_cpu) / base_cpu, 2),
        "target_ratio_fit_plus_route_to_plain": 5.0,
        "distinct_queries": len({fitted.key(q) for q in queries}),
        "route_batch_all_distinct_cpu_s": round(distinct_cpu, 3),
        "ratio_route_batch_all_distinct_to_plain": round(distinct_cpu / base_cpu, 2),
        "read_all_evidence_after_cpu_s": round(evidence_cpu, 3),
        "one_by_one_cpu_s_per_1000": round(one_cpu * 2, 3),
        "repeat": max(args.repeat, 1),
        "cpu_s_runs": {
            "plain": [round(c, 3) for c, _ in plain_runs],
            "route_batch": [round(c, 3) for c, _ in route_runs],
            "fit_cold": [run["fit_cpu_s"] for run in fit_runs],
        },
        "wall_s": {"plain": round(base_wall, 3), "fit": round(fit_wall, 3), "route_batch": round(route_wall, 3)},
    }
    print(summary(figures["statistical"]))
    figures["statistical_warm"] = warm_figures(args.data, args.queries, max(args.repeat, 1), base_cpu)
    print(json.dumps(figures["statistical_warm"]))
    if args.skip_embedding:
        finish(figures, load_before)
        return
    embedder = local_embedder()
    embedding = EmbeddingRouter(embedder=embedder).fit(table, seed=seed)
    embedder.clear_cache()
    enc_cpu, enc_wall, _ = timed(lambda: embedder._embed_new(list(queries)))
    embedder.clear_cache()
    emb_cpu, emb_wall, _ = timed(lambda: route_fitted(embedding, queries))
    figures["embedding"] = {
        "encode_one_batch_cpu_s": round(enc_cpu, 3),
        "route_batch_cpu_s": round(emb_cpu, 3),
        "ratio_route_batch_to_encode": round(emb_cpu / enc_cpu, 2),
        "wall_s": {"encode": round(enc_wall, 3), "route_batch": round(emb_wall, 3)},
        "model": embedder.name,
    }
    finish(figures, load_before)


def batch_queries(rows: list[Any], n: int, rng: random.Random) -> list[str]:
    """The benchmark's queries: texts of train.csv drawn at random, with a number appended past the first
    len(rows) (so some are new texts that analyse as an old one)."""
    return [rng.choice(rows).text + ("" if i < len(rows) else f" {i}") for i in range(n)]


def plain_fit_predict(rows: list[Any], queries: list[str]) -> Any:
    """The baseline of issue #10: scikit-learn's TF-IDF + LinearSVC fitted on train.csv, predicting agents."""
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    model = LinearSVC().fit(vectorizer.fit_transform([r.text for r in rows]), [r.agent for r in rows])
    return model.predict(vectorizer.transform(queries))


def compare(other: Path, *, data: Path, queries: int, repeat: int, out: str) -> None:
    """`--compare`: this checkout's statistical router and `other`'s, one fresh process each per round
    (`side_child`), alternating which goes first; medians per side, written to results/`out`."""
    load_before = os.getloadavg()

    def side(code: Path) -> dict[str, Any]:  # a fresh process importing `code`'s lmos_studio
        command = [sys.executable, __file__, "--side-child", "--code", str(code)]
        return sides.child_figures([*command, "--data", str(data), "--queries", str(queries)], REPO, dict(os.environ))

    runs = sides.this_and_other(REPO, other, repeat, side)
    figures: dict[str, Any] = {"queries": queries, "repeat": repeat, "other_checkout": other.name}  # no machine path
    for name, found in runs.items():
        med = {
            key: round(statistics.median(run[key] for run in found), 3)
            for key in found[0]
            if key not in ("parts", "code")
        }
        med["fit_parts_cpu_s"] = {
            part: round(statistics.median(run["parts"][part] for run in found), 3) for part in found[0]["parts"]
        }
        med["ratio_fit_plus_route_to_plain"] = round(
            (med["fit_cpu_s"] + med["route_batch_cpu_s"]) / med["plain_cpu_s"], 2
        )
        med["ratio_route_batch_to_plain"] = round(med["route_batch_cpu_s"] / med["plain_cpu_s"], 2)
        med["runs"] = found
        figures[name] = med
    figures["machine"] = {**sides.load_figures(load_before), "cpus": os.cpu_count()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / out).write_text(json.dumps(figures, indent=2) + "\n")
    for name in ("this", "other"):
        side = figures[name]
        print(
            f"{name:5}  fit {side['fit_cpu_s']:.3f} {side['fit_parts_cpu_s']}"
            f"  route_batch {side['route_batch_cpu_s']:.3f}"
            f"  plain {side['plain_cpu_s']:.3f}  (fit + route) / plain {side['ratio_fit_plus_route_to_plain']:.1f}×"
        )


def side_child(data: Path, n: int) -> None:
    """`--side-child`: in this fresh process, a cold fit (as `fit_child`), route_batch of the queries and the
    plain fit + predict; prints their CPU times as JSON."""
    fitted, found = fit_measured(data)
    _, rows = load_benchmark(data)
    queries = batch_queries(rows, n, random.Random(0))
    route_cpu, _, _ = timed(lambda: route_fitted(fitted, queries))
    plain_cpu, _, _ = timed(lambda: plain_fit_predict(rows, queries))
    cpu = {"route_batch_cpu_s": round(route_cpu, 3), "plain_cpu_s": round(plain_cpu, 3)}
    print(json.dumps({**found, **cpu, "code": Path(statistical.__file__).parents[2].name}))


def warm_figures(data: Path, n: int, repeat: int, plain_cpu: float) -> dict[str, Any]:
    """The fit kept on disk (`RouterCache(disk=…)`, routing/stored.py): one fresh process fits and stores it,
    then `repeat` fresh processes load it instead of fitting and route the queries. Not issue #10's target
    (that is the cold fit): what a second eval / test / whatif run on an unchanged table pays."""
    with tempfile.TemporaryDirectory() as folder:
        runs = [_warm_run(data, n, Path(folder)) for _ in range(repeat + 1)]
    cold, warm = runs[0], runs[1:]
    fit = statistics.median(run["fit_cpu_s"] for run in warm)
    route = statistics.median(run["route_batch_cpu_s"] for run in warm)
    return {
        "note": "fit loaded from the disk cache of an earlier process: not the cold target",
        "fit_and_store_first_process_cpu_s": cold["fit_cpu_s"],
        "fit_warm_cpu_s": round(fit, 3),
        "route_batch_cpu_s": round(route, 3),
        "fit_warm_plus_route_batch_cpu_s": round(fit + route, 3),
        "ratio_fit_warm_plus_route_to_plain": round((fit + route) / plain_cpu, 2),
        "stored_bytes": cold["stored_bytes"],
        "cpu_s_runs": {"fit_warm": [run["fit_cpu_s"] for run in warm]},
    }


def _warm_run(data: Path, n: int, folder: Path) -> dict[str, Any]:
    child = subprocess.run(
        [sys.executable, __file__, "--data", str(data), "--queries", str(n), "--warm-child", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(child.stdout.splitlines()[-1]))


def warm_child(data: Path, n: int, folder: Path) -> None:
    """`--warm-child DIR`: the statistical router through a `RouterCache` keeping fits in DIR (fitted and stored
    when DIR has none), then route_batch of the queries; prints their CPU times and the stored size as JSON."""
    from lmos_studio.formats.design_cache import DiskCache
    from lmos_studio.routing.select import RouterCache

    table, rows = load_benchmark(data)
    seed = [(r.text, r.agent, r.intent) for r in rows]
    queries = batch_queries(rows, n, random.Random(0))
    cache = RouterCache(disk=DiskCache(folder, 2**31))
    fit_cpu, _, fitted = timed(lambda: cache.fitted("statistical", table, seed=seed))
    route_cpu, _, _ = timed(lambda: route_fitted(fitted, queries))
    size = sum(path.stat().st_size for path in folder.iterdir())
    print(json.dumps({"fit_cpu_s": round(fit_cpu, 3), "route_batch_cpu_s": round(route_cpu, 3), "stored_bytes": size}))


def cold_fit(data: Path) -> dict[str, Any]:
    """One fit of the statistical router in a fresh process (empty caches): its CPU time and parts."""
    child = subprocess.run(
        [sys.executable, __file__, "--data", str(data), "--fit-child"], check=True, capture_output=True, text=True
    )
    return dict(json.loads(child.stdout.splitlines()[-1]))


def fit_child(data: Path) -> None:
    """`--fit-child`: fit once, print {"fit_cpu_s", "parts"} as JSON. The parts are CPU time spent in the
    lexicon `auto` check (choose_lexicon, with the SVMs of its folds), in the SVMs outside it (class model and
    per-agent capability models: liblinear) and the rest (vocabularies, encoding, kNN and threshold data)."""
    print(json.dumps(fit_measured(data)[1]))


def fit_measured(data: Path) -> tuple[Any, dict[str, Any]]:
    """One fit of the statistical router on `data` in this process, its parts timed (see `fit_child`):
    (the fitted router, {"fit_cpu_s", "parts"})."""
    table, rows = load_benchmark(data)
    seed = [(r.text, r.agent, r.intent) for r in rows]
    spent = {"lexicon_check": 0.0, "svm": 0.0}
    inside = [False]

    def measured(module: Any, name: str, part: str | None) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            was, began = inside[0], time.process_time()
            inside[0] = inside[0] or part == "lexicon_check"
            try:
                return original(*args, **kwargs)
            finally:
                inside[0] = was
                if part == "lexicon_check" or (part == "svm" and not was):
                    spent[part] += time.process_time() - began

        setattr(module, name, wrapper)

    measured(statistical, "choose_lexicon", "lexicon_check")
    measured(statistical, "svm_fit", "svm")
    measured(capability, "svm_fit", "svm")
    fit_cpu, _, fitted = timed(lambda: StatisticalRouter().fit(table, seed=seed))
    parts = {**spent, "rest": fit_cpu - sum(spent.values())}
    return fitted, {"fit_cpu_s": round(fit_cpu, 3), "parts": {k: round(v, 3) for k, v in parts.items()}}


def summary(stat: dict[str, Any]) -> str:
    """The figures of issue #10's batch target in a few lines."""
    parts = ", ".join(f"{k} {v:.2f}" for k, v in stat["fit_parts_cpu_s"].items())
    return (
        f"statistical router, {stat['repeat']} runs (CPU s, medians):\n"
        f"  plain TF-IDF + LinearSVC fit + predict  {stat['plain_tfidf_linearsvc_fit_predict_cpu_s']:.3f}\n"
        f"  fit (cold) + route_batch                {stat['fit_plus_route_batch_cpu_s']:.3f}"
        f"  = {stat['ratio_fit_plus_route_to_plain']:.1f}× plain (target ≤ 5×)\n"
        f"    fit (cold)                            {stat['fit_cpu_s']:.3f}  ({parts})\n"
        f"    route_batch                           {stat['route_batch_cpu_s']:.3f}"
        f"  = {stat['ratio_route_batch_to_plain']:.1f}× plain"
    )


def finish(figures: dict[str, Any], load_before: tuple[float, float, float]) -> None:
    """Add the machine's load, print, and write results/batch.json (the embedding figures of an earlier run
    are kept when this run skipped them)."""
    figures["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "batch.json"
    if "embedding" not in figures and out.exists():
        earlier = json.loads(out.read_text()).get("embedding")
        if earlier is not None:
            figures["embedding"] = {**earlier, "note": "from an earlier run (this one was --skip-embedding)"}
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
