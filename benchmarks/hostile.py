"""Benchmark: the hostile corpus (tests/hostile/) against every entry point, with the figures issue 11 asks for.

1. Every input × every CLI command that reads its kind and the app's upload functions, in one memory-limited
   subprocess: clean errors, tracebacks, printed secrets, files written outside --out.
2. Every hostile registry request against a live server: 2xx / 4xx / 5xx.
3. Peak memory of each input of 64 KiB or more (a fresh process per input, warmed up on a valid design first),
   as a multiple of its file size; the worst one is the figure (target ≤ 50×).
4. The before/after figures of benchmarks/registry_streams.py and benchmarks/design_read.py, when present.
Writes benchmarks/results/hostile.json. Usage: python benchmarks/hostile.py [--skip-memory]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ROOT / "tests" / "hostile"
sys.path[:0] = [str(ROOT), str(HOSTILE)]

from hostile_corpus import corpus  # noqa: E402
from registry_cases import run_registry_cases  # noqa: E402

from tests.registry_helpers import registry_server  # noqa: E402

MEMORY_MIN_BYTES = 64 * 2**10  # below this a multiple of the file size says nothing (imports dominate)


def run_corpus(out: Path, *extra: str) -> list[dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, str(HOSTILE / "run_corpus.py"), str(out), *extra], env=env, check=True, cwd=out.parent
    )
    return [json.loads(line) for line in out.read_text().splitlines()]


def corpus_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    cases = [r for r in records if "meta" not in r]
    clean = [r for r in cases if r["exit"] == 2 and r["message"] and not r["traceback"]]
    accepted = [r for r in cases if r["exit"] in (0, 1) and not r["must_fail"]]
    wrong = [r for r in cases if r["must_fail"] and r["exit"] != 2]
    return {
        "inputs": len({r["input"] for r in cases}),
        "classes": sorted({r["class"] for r in cases}),
        "entry_points": sorted({r["entry"] for r in cases}),
        "cases": len(cases),
        "clean_errors_exit_2": len(clean),
        "legal_odd_inputs_accepted_exit_0_or_1": len(accepted),
        "must_fail_but_did_not": [f"{r['entry']} {r['input']} → {r['exit']}" for r in wrong][:20],
        "tracebacks": sum(1 for r in cases if r["traceback"]),
        "secrets_printed": sum(1 for r in cases if r["leaked_secret"]),
        "writes_outside_out": sum(1 for r in cases if r["written_outside_out"]),
        "slowest_case_cpu_s": max((r["cpu_s"], f"{r['entry']} {r['input']}") for r in cases),
    }


def registry_figures(tmp: Path) -> dict[str, Any]:
    with registry_server(tmp) as url:
        records = run_registry_cases(url)
    statuses = collections.Counter((r["status"] or 0) // 100 for r in records)
    return {
        "requests": len(records),
        "2xx": statuses.get(2, 0),
        "4xx": statuses.get(4, 0),
        "5xx": statuses.get(5, 0),
        "no_answer": statuses.get(0, 0),
        "4xx_without_problem_detail": sum(1 for r in records if (r["status"] or 0) // 100 == 4 and not r["problem"]),
    }


def memory_figures(tmp: Path) -> dict[str, Any]:
    rows = []
    for item in corpus():
        if len(item.data) < MEMORY_MIN_BYTES:
            continue
        records = run_corpus(tmp / f"{item.name}.jsonl", "--input", item.name)
        cases = [r for r in records if "meta" not in r]
        worst = max(cases, key=lambda r: r["peak_rss_over_baseline_bytes"])
        growth = worst["peak_rss_over_baseline_bytes"]
        rows.append(
            {
                "input": item.name,
                "bytes": len(item.data),
                "worst_entry": worst["entry"],
                "peak_rss_over_warm_baseline_bytes": growth,
                "multiple_of_file_size": round(growth / len(item.data), 2),
            }
        )
        print(rows[-1], flush=True)
    rows.sort(key=lambda r: -r["multiple_of_file_size"])
    return {"inputs_measured": len(rows), "worst": rows[0] if rows else None, "per_input": rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        figures: dict[str, Any] = {"cli_and_uploads": corpus_figures(run_corpus(tmp / "all.jsonl"))}
        print(json.dumps(figures, indent=2), flush=True)
        figures["registry"] = registry_figures(tmp)
        if not args.skip_memory:
            figures["memory"] = memory_figures(tmp)
    results = ROOT / "benchmarks" / "results"
    for name in ("registry_streams", "design_read"):
        path = results / f"{name}.json"
        if path.exists():
            figures[name] = json.loads(path.read_text())
    figures["seconds"] = round(time.perf_counter() - start, 1)
    figures["load_average_before"] = [round(x, 2) for x in load_before]
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    (results / "hostile.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
