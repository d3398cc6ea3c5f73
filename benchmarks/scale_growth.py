"""Benchmark: issue #15's growth exponents (resolve, lint, graph, export; 1 000 → 50 000 agents) of this checkout
side by side with another one, in alternating runs of `benchmarks/scale.py` (no pages, registry or CLI figures).

One run of each side is not enough on a shared machine: the exponent of a step whose 1 000-agent time is 0.03 s
moves by ±0.05 between runs. So the sides alternate (base, this, this, base, …) and the summary gives every
run's figures, the load beside them, and each side's spread (min–max of the exponents).

Both sides are measured by this checkout's `benchmarks/scale.py` (the other checkout's library, generator and
app, through LMOS_SCALE_CHECKOUT), so they are timed the same way; `--own-scripts` runs each checkout's own
script instead. Exponents are given as scale.py's `<step>_s` (the median of repeated runs at the small sizes)
and, as `exponent_first`, from each step's first run alone.

Usage: python benchmarks/scale_growth.py --base PATH [--runs 2] [--sizes 1000 10000 50000] [--own-scripts]
       python benchmarks/scale_growth.py --summarise LABEL=scale.json … (figures of runs already made)
Writes benchmarks/results/scale-growth.json (checkouts named by commit, not by path).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from sides import no_machine_path  # benchmarks/sides.py

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
STEPS = ("resolve", "lint", "graph", "export")
TARGET = 1.15  # issue #15: each step's CPU-time exponent from 1 000 to 50 000 agents


def commit(checkout: Path) -> str:
    found = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return found.stdout.strip() or "unknown"


def run_scale(checkout: Path, sizes: list[int], output: Path, *, own_script: bool = False) -> dict[str, Any]:
    script = checkout / "benchmarks" / "scale.py" if own_script else ROOT / "benchmarks" / "scale.py"
    cmd = [sys.executable, str(script), "--sizes", *map(str, sizes), "--skip", "pages", "registry", "cli"]
    env = {**os.environ, "PYTHONPATH": str(checkout), "LMOS_SCALE_CHECKOUT": str(checkout)}
    subprocess.run([*cmd, "--output", str(output)], cwd=checkout, env=env, check=True, capture_output=True)
    return dict(json.loads(output.read_text(encoding="utf-8")))


def summary_of(label: str, figures: dict[str, Any]) -> dict[str, Any]:
    sizes = sorted(figures["in_process"], key=int)
    span = f"{sizes[0]}->{sizes[-1]}"
    return {
        "side": label,
        "load_before_after": [
            figures["machine_before"]["loadavg_1_5_15"][0],
            figures["machine_after"]["loadavg_1_5_15"][0],
        ],
        "cpu_s": {step: {n: figures["in_process"][n][f"{step}_s"] for n in sizes} for step in STEPS},
        "exponent": {step: figures["growth_exponents"][step].get(span) for step in STEPS},
        "exponent_first": {  # each step's first run alone (scale.py before it repeated small steps)
            step: figures["growth_exponents"].get(f"{step}_first", {}).get(span) for step in STEPS
        },
        "calls_exponent": {k: figures["growth_exponents"][f"{k}_calls"].get(span) for k in ("resolve", "lint")},
    }


def spread(runs: list[dict[str, Any]], figure: str = "exponent") -> dict[str, Any]:
    sides: dict[str, dict[str, Any]] = {}
    for run in runs:
        side = sides.setdefault(run["side"], {step: [] for step in STEPS})
        for step in STEPS:
            if run.get(figure, {}).get(step) is not None:
                side[step].append(run[figure][step])
    return {
        label: {
            step: {"min": min(values), "max": max(values), "ok_every_run": all(v <= TARGET for v in values)}
            for step, values in side.items()
            if values
        }
        for label, side in sides.items()
    }


def write(runs: list[dict[str, Any]], command: str) -> None:
    result = {
        "command": command,
        "target_exponent_max": TARGET,
        "runs": runs,
        "spread": spread(runs),
        "spread_first_run": spread(runs, "exponent_first"),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale-growth.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    for run in runs:
        exps = "  ".join(f"{s} {run['exponent'][s]} (first {run.get('exponent_first', {}).get(s)})" for s in STEPS)
        print(f"{run['side']:>20}  load {run['load_before_after']}  {exps}")
    print(json.dumps({"spread": result["spread"], "spread_first_run": result["spread_first_run"]}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, help="The other checkout (e.g. a detached worktree of main).")
    parser.add_argument("--runs", type=int, default=2, help="Runs of each side, alternating.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 50_000])
    parser.add_argument("--summarise", nargs="+", metavar="LABEL=FILE", help="Summarise scale.py outputs.")
    parser.add_argument("--own-scripts", action="store_true", help="Run each checkout's own scale.py.")
    args = parser.parse_args()
    command = " ".join(["python benchmarks/scale_growth.py", *map(no_machine_path, sys.argv[1:])])
    if args.summarise:
        pairs = [item.split("=", 1) for item in args.summarise]
        runs = [summary_of(label, json.loads(Path(file).read_text(encoding="utf-8"))) for label, file in pairs]
        write(runs, "python benchmarks/scale_growth.py --summarise LABEL=FILE …")
        return
    if args.base is None:
        parser.error("--base or --summarise")
    sides = {f"base@{commit(args.base)}": args.base.resolve(), f"this@{commit(ROOT)}": ROOT}
    order = [label for i in range(args.runs) for label in (list(sides) if i % 2 == 0 else list(sides)[::-1])]
    runs = []
    with tempfile.TemporaryDirectory(prefix="scale-growth-") as folder:
        for i, label in enumerate(order):
            figures = run_scale(sides[label], args.sizes, Path(folder) / f"run-{i}.json", own_script=args.own_scripts)
            runs.append(summary_of(label, figures))
            print(f"run {i + 1}/{len(order)} {label}: {runs[-1]['exponent']}", flush=True)
    write(runs, command)


if __name__ == "__main__":
    main()
