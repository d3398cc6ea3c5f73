"""Benchmark: the batch path. 5 000 queries routed as one list, against plain baselines, side by side.

* statistical: our router's fit on train.csv + `route_batch` of 5 000 queries, against a plain
  scikit-learn TF-IDF + LinearSVC fit + predict on the same data (target: within 5× its CPU time);
* embedding: `route_batch` of the 5 000 queries (the encoder's text cache emptied first) against encoding
  the same queries with the same model in one batch (target: within 1.5×).
CPU time (process_time) is the figure; wall time and the load average are recorded too.

Usage: python benchmarks/batch.py [--data DIR] [--queries N]
Prints the figures and writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
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
    args = parser.parse_args()
    table, rows = load_benchmark(args.data)
    rng = random.Random(0)
    queries = [rng.choice(rows).text + ("" if i < len(rows) else f" {i}") for i in range(args.queries)]
    seed = [(r.text, r.agent, r.intent) for r in rows]
    load_before = os.getloadavg()
    figures: dict[str, Any] = {"queries": len(queries), "training_rows": len(rows)}

    def plain() -> Any:
        vectorizer = TfidfVectorizer(sublinear_tf=True)
        model = LinearSVC().fit(vectorizer.fit_transform([r.text for r in rows]), [r.agent for r in rows])
        return model.predict(vectorizer.transform(queries))

    base_cpu, base_wall, _ = timed(plain)
    fit_cpu, fit_wall, fitted = timed(lambda: StatisticalRouter().fit(table, seed=seed))
    route_cpu, route_wall, _ = timed(lambda: route_fitted(fitted, queries))
    one_cpu, _, _ = timed(lambda: [fitted.route(q, top_k=1) for q in queries[:500]])
    figures["statistical"] = {
        "plain_tfidf_linearsvc_fit_predict_cpu_s": round(base_cpu, 3),
        "fit_cpu_s": round(fit_cpu, 3),
        "route_batch_cpu_s": round(route_cpu, 3),
        "fit_plus_route_batch_cpu_s": round(fit_cpu + route_cpu, 3),
        "ratio_route_batch_to_plain": round(route_cpu / base_cpu, 2),
        "ratio_fit_plus_route_to_plain": round((fit_cpu + route_cpu) / base_cpu, 2),
        "one_by_one_cpu_s_per_1000": round(one_cpu * 2, 3),
        "wall_s": {"plain": round(base_wall, 3), "fit": round(fit_wall, 3), "route_batch": round(route_wall, 3)},
    }
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
    figures["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "batch.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
