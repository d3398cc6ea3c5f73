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
* embedding: `route_batch` of the 5 000 queries (the encoder's text cache emptied first) against encoding
  the same queries with the same model in one batch (target: within 1.5×).
CPU time (process_time) is the figure; wall time and the load average are recorded too.

Usage: python benchmarks/batch.py [--data DIR] [--queries N] [--repeat N] [--skip-embedding]
Prints the figures and writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

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
    parser.add_argument("--fit-child", action="store_true", help=argparse.SUPPRESS)  # see fit_child
    args = parser.parse_args()
    if args.fit_child:
        fit_child(args.data)
        return
    table, rows = load_benchmark(args.data)
    rng = random.Random(0)
    queries = [rng.choice(rows).text + ("" if i < len(rows) else f" {i}") for i in range(args.queries)]
    words = sorted({w for r in rows for w in r.text.lower().split() if w.isalpha()})
    distinct_queries = [f"{rng.choice(rows).text} {rng.choice(words)} {rng.choice(words)}" for _ in queries]
    seed = [(r.text, r.agent, r.intent) for r in rows]
    load_before = os.getloadavg()
    figures: dict[str, Any] = {"queries": len(queries), "training_rows": len(rows)}

    def plain() -> Any:
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        model = LinearSVC().fit(vectorizer.fit_transform([r.text for r in rows]), [r.agent for r in rows])
        return model.predict(vectorizer.transform(queries))

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
    fit_cpu, _, _ = timed(lambda: StatisticalRouter().fit(table, seed=seed))
    parts = {**spent, "rest": fit_cpu - sum(spent.values())}
    print(json.dumps({"fit_cpu_s": round(fit_cpu, 3), "parts": {k: round(v, 3) for k, v in parts.items()}}))


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
