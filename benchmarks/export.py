"""Benchmark: export the 1 000-agent synthetic design with workloads and policies (≈ 4 000 documents),
validation included (issue target: < 5 s), then render, zip, and import the zip back.

Usage: python benchmarks/export.py [--agents 1000] [--repeat 3] [--istio]
Prints the figures and writes benchmarks/results/export.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from lmos_studio.export import importer, kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.synthetic import synthetic_design

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--istio", action="store_true", help="also Istio AuthorizationPolicies")
    args = parser.parse_args()
    design = synthetic_design(args.agents)
    options = ExportOptions(with_workloads=True, with_istio=args.istio)
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        bundle = export_design(design, options)  # builds and validates every document
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    files = kustomize.render(bundle)
    render_s = time.perf_counter() - start
    start = time.perf_counter()
    archive = kustomize.zip_bytes(bundle, files)
    zip_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.zip"
        path.write_bytes(archive)
        start = time.perf_counter()
        importer.import_manifests(path)
        import_s = time.perf_counter() - start
    kinds = Counter(m.document["kind"] for m in bundle.manifests)
    figures = {
        "agents": args.agents,
        "istio": args.istio,
        "documents": len(bundle.manifests),
        "applied_documents": len(bundle.applied_paths),
        "kinds": dict(sorted(kinds.items())),
        "trust_pairs": len(bundle.policy.rows),
        "export_and_validate_s_median": round(statistics.median(timings), 3),
        "export_and_validate_s_min": round(min(timings), 3),
        "render_yaml_s": round(render_s, 3),
        "zip_s": round(zip_s, 3),
        "zip_bytes": len(archive),
        "import_zip_s": round(import_s, 3),
        "target_s": 5.0,
    }
    RESULTS.mkdir(exist_ok=True)
    name = "export-istio.json" if args.istio else "export.json"
    (RESULTS / name).write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
