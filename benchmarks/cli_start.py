"""Benchmark: CPU time of short `lmos-studio` commands against `python -c pass`, cold and warm.

Each command runs as a user runs it (`python -m lmos_studio …`, a fresh process) on the acme sample:
version, validate, resolve, lint, and route with the statistical router. The figure is the child's CPU time
(user + system, from wait4), which a busy machine inflates far less than wall time; wall time is kept too.
- cold: every run gets an empty bytecode cache (PYTHONPYCACHEPREFIX): each imported module, the
  dependencies' too, is compiled from source, as in the first run of a fresh checkout;
- warm: the bytecode cache is filled once, then reused (the everyday case).
Runs are interleaved (command by command, round after round) so that a change of machine load hits all
commands alike. Min and median per command, and both as a multiple of `python -c pass` measured alongside.
`--compare DIR` measures another checkout (e.g. the main branch before a change) in the same rounds.

Usage: python benchmarks/cli_start.py [--warm 9] [--cold 3] [--compare DIR]
Prints a table and writes benchmarks/results/cli_start.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
ACME = ROOT / "sample_networks" / "acme"
COMMANDS: dict[str, list[str]] = {
    "python -c pass": [],
    "version": ["version"],
    "validate": ["validate", str(ACME)],
    "resolve": ["resolve", str(ACME)],
    "lint": ["lint", str(ACME)],
    "route --router statistical": [
        "route",
        str(ACME),
        "--channel",
        "default/acme-ivr-stable",
        "--router",
        "statistical",
        "I want to see my last bill",
    ],
}
HEAVY = ("sklearn", "fastapi", "torch", "pandas", "networkx", "numpy", "scipy", "jsonschema", "streamlit", "httpx")


def argv(name: str) -> list[str]:
    args = COMMANDS[name]
    return [sys.executable, "-c", "pass"] if not args else [sys.executable, "-m", "lmos_studio", *args]


def run_once(name: str, checkout: Path, pycache: Path) -> dict[str, float]:
    """One fresh process; its CPU seconds (user + system) and wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "PYTHONPYCACHEPREFIX": str(pycache)}
    env["LMOS_STUDIO_DATA_DIR"] = str(pycache / "data")
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv(name), env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # lint exits 1 when it finds errors: still a run
            err.seek(0)
            raise SystemExit(f"{name} failed ({code}) in {checkout}: {err.read().decode()[-1000:]}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall}


def heavy_imports(name: str, checkout: Path) -> list[str]:
    """The heavy top-level packages a command imports (from `python -X importtime`)."""
    if not COMMANDS[name]:
        return []
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv(name)[1:]], env=env, cwd=checkout, capture_output=True, text=True
    )
    loaded = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    return [h for h in HEAVY if h in loaded]


def summary(values: list[float], base: list[float]) -> dict[str, float]:
    return {
        "min_s": round(min(values), 4),
        "median_s": round(statistics.median(values), 4),
        "min_x_python": round(min(values) / min(base), 1),
        "median_x_python": round(statistics.median(values) / statistics.median(base), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=9, help="warm runs per command")
    parser.add_argument("--cold", type=int, default=3, help="cold runs per command")
    parser.add_argument("--compare", type=Path, help="another checkout to measure in the same rounds")
    args = parser.parse_args()
    checkouts = {"this": ROOT} | ({"compare": args.compare.resolve()} if args.compare else {})
    load_before = os.getloadavg()
    samples: dict[str, dict[str, dict[str, list[float]]]] = {
        label: {mode: {name: [] for name in COMMANDS} for mode in ("cold", "warm")} for label in checkouts
    }
    walls: dict[str, dict[str, list[float]]] = {label: {name: [] for name in COMMANDS} for label in checkouts}
    with tempfile.TemporaryDirectory(prefix="cli-start-") as tmp:
        warm_caches = {label: Path(tmp) / f"warm-{label}" for label in checkouts}
        for label, checkout in checkouts.items():  # fill the warm caches (not measured)
            for name in COMMANDS:
                run_once(name, checkout, warm_caches[label])
        for round_ in range(max(args.warm, args.cold)):
            for name in COMMANDS:
                for label, checkout in checkouts.items():
                    if round_ < args.cold:
                        cold = Path(tempfile.mkdtemp(dir=tmp, prefix="cold-"))
                        samples[label]["cold"][name].append(run_once(name, checkout, cold)["cpu"])
                    if round_ < args.warm:
                        measured = run_once(name, checkout, warm_caches[label])
                        samples[label]["warm"][name].append(measured["cpu"])
                        walls[label][name].append(measured["wall"])
    load_after = os.getloadavg()

    results: dict[str, Any] = {}
    for label, checkout in checkouts.items():
        per: dict[str, Any] = {}
        for name in COMMANDS:
            base = samples[label]
            per[name] = {
                "cold_cpu": summary(base["cold"][name], base["cold"]["python -c pass"]),
                "warm_cpu": summary(base["warm"][name], base["warm"]["python -c pass"]),
                "warm_wall_median_s": round(statistics.median(walls[label][name]), 4),
                "heavy_imports": heavy_imports(name, checkout),
            }
        where = "." if label == "this" else "the --compare checkout"  # no machine paths in results
        results[label] = {"checkout": where, "commands": per}

    print(f"CPU seconds per run (user+system), min / median, and × python -c pass (median); load {load_before[0]:.1f}")
    for label, data in results.items():
        print(f"\n[{label}] {data['checkout']}")
        print(
            f"{'command':<28} {'cold min':>9} {'cold med':>9} {'×':>6} {'warm min':>9} {'warm med':>9} {'×':>6}  heavy"
        )
        for name, row in data["commands"].items():
            c, w = row["cold_cpu"], row["warm_cpu"]
            print(
                f"{name:<28} {c['min_s']:>9.3f} {c['median_s']:>9.3f} {c['median_x_python']:>6.1f} "
                f"{w['min_s']:>9.3f} {w['median_s']:>9.3f} {w['median_x_python']:>6.1f}  "
                + ",".join(row["heavy_imports"])
            )
    out = {
        "what": "CPU time (user+system) of one `python -m lmos_studio` process per command on sample_networks/acme",
        "runs": {"warm": args.warm, "cold": args.cold},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_1m_before": round(load_before[0], 2),
            "loadavg_1m_after": round(load_after[0], 2),
            "note": "shared machine: other processes were running; CPU time and ratios are the figures to compare",
        },
        "results": results,
    }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / "cli_start.json"
    tmp_file = target.with_suffix(".json.tmp")
    tmp_file.write_text(json.dumps(out, indent=2) + "\n")
    os.replace(tmp_file, target)
    print(f"\nwrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
