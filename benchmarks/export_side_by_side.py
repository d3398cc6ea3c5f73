"""Benchmark: the export at 10 000 agents, this checkout beside another one (issue #15, cold Export page).

Side by side in one run, rounds alternating between the two checkouts, CPU seconds (user + system) of fresh
processes, so a busy machine slows both sides alike:

- Export page first render and no-change rerun (AppTest, `scale.py --pages-child` of each checkout: every page
  visited in order on an empty data dir, as `scale.py` measures them; target ≤ 3 s and ≤ 0.05 s);
- in process: `export_design` (the plan the page shows: documents, coverage of fields, validation) and
  `kustomize.render` (the YAML of every file), the design read first (not counted), collector frozen as the CLI;
- whole process: `lmos-studio export DESIGN --out DIR` (read, export, render, write).

Usage: python benchmarks/export_side_by_side.py --base ../other-checkout [--agents 10000] [--rounds 2]
Writes benchmarks/results/export_side_by_side.json (checkouts named by their commit, not their path).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
IN_PROCESS = """
import gc, json, resource, sys
from pathlib import Path
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import export_design
from lmos_studio.formats.design_file import load_design

def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

design = load_design([Path(sys.argv[1])]).design
gc.freeze()
start = cpu()
bundle = export_design(design)
middle = cpu()
files = kustomize.render(bundle)
print(json.dumps({"export_design_s": round(middle - start, 3), "render_s": round(cpu() - middle, 3),
                  "files": len(files), "bytes": sum(map(len, files.values()))}))
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], root: Path, env: dict[str, str]) -> tuple[float, str]:
    """CPU seconds of the child process and its last line of output."""
    before = children_cpu()
    proc = subprocess.run(cmd, cwd=root, env={**os.environ, **env, "PYTHONPATH": str(root)}, capture_output=True)
    spent = round(children_cpu() - before, 3)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed in {root.name}: {proc.stderr.decode()[-800:]}")
    lines = proc.stdout.decode().strip().splitlines()
    return spent, lines[-1] if lines else ""


def measure(root: Path, design: Path, scratch: Path) -> dict[str, Any]:
    python = sys.executable
    data = scratch / "data"
    shutil.rmtree(data, ignore_errors=True)
    page_env = {"LMOS_STUDIO_DESIGN": str(design), "LMOS_STUDIO_DATA_DIR": str(data)}
    _, pages_line = run([python, "benchmarks/scale.py", "--pages-child", str(design)], root, page_env)
    pages = json.loads(pages_line)
    _, in_process_line = run([python, "-c", IN_PROCESS, str(design)], root, {"LMOS_STUDIO_DATA_DIR": str(data)})
    out = scratch / "export"
    shutil.rmtree(data, ignore_errors=True)
    cli = [python, "-m", "lmos_studio", "export", str(design), "--out", str(out)]
    cli_s, _ = run(cli, root, {"LMOS_STUDIO_DATA_DIR": str(data)})
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(data, ignore_errors=True)
    return {
        "export_page_first_render_s": pages["export"]["first_render_s"],
        "export_page_rerun_s": pages["export"]["rerun_s"],
        "page_exceptions": pages["export"]["exceptions"],
        "other_pages_first_render_s": {k: v["first_render_s"] for k, v in pages.items() if isinstance(v, dict)},
        **json.loads(in_process_line),
        "cli_export_s": cli_s,
    }


def commit(root: Path) -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout.strip()
    return proc.stdout.strip() + ("+changes" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="The other checkout (e.g. a worktree of main).")
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--output", type=Path, default=RESULTS / "export_side_by_side.json")
    args = parser.parse_args()
    roots = {"base": args.base.resolve(), "this": ROOT}
    scratch = Path(tempfile.mkdtemp(prefix="export-sbs-"))
    try:
        design = scratch / f"scale-{args.agents}.yaml"
        size = str(max(1, args.agents // 20))
        generate = [sys.executable, "sample_networks/generate_large.py", str(design), "--agents", str(args.agents)]
        run([*generate, "--channels", size, "--groups", size, "--edges", str(3 * args.agents)], ROOT, {})
        load_before = os.getloadavg()
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
        for round_no in range(args.rounds):
            for name, root in roots.items():
                figures = measure(root, design, scratch)
                figures["load_1min"] = round(os.getloadavg()[0], 2)
                runs[name].append(figures)
                print(f"round {round_no + 1} {name}: {json.dumps(figures)}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    keys = ("export_page_first_render_s", "export_page_rerun_s", "export_design_s", "render_s", "cli_export_s")
    medians = {name: {k: round(statistics.median(r[k] for r in runs[name]), 3) for k in keys} for name in roots}
    ratios = {k: round(medians["this"][k] / medians["base"][k], 3) for k in keys if medians["base"][k]}
    result = {
        "agents": args.agents,
        "checkouts": {name: commit(root) for name, root in roots.items()},
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "runs": runs,
        "medians": medians,
        "ratio_this_vs_base": ratios,
        "targets": {"page_first_render_cpu_s_max": 3.0, "page_rerun_cpu_s_max": 0.05},
    }
    print(json.dumps({"medians": medians, "ratio_this_vs_base": ratios}, indent=1))
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
