"""Benchmark: instructions of one cold fit of the statistical router, counted by valgrind's callgrind (load-free).

CPU time on a shared machine moves by ±5 % from run to run (benchmarks/batch.py --compare takes medians of
fresh processes); callgrind counts the instructions a fit executes, the same on every run, so a change of 1 %
shows. It does not count the kernel's time (page faults) nor cache misses: a complement to the CPU figures,
not a replacement. One fresh process per checkout: the lmos-router train.csv table and seed rows are loaded,
then instrumentation is switched on (`callgrind_control -i on`) for `StatisticalRouter().fit` alone.

Usage: python benchmarks/fit_instructions.py [--compare DIR] [--out NAME]
Needs valgrind (callgrind_control on PATH). Writes benchmarks/results/NAME (default fit_instructions.json).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"

CHILD = """
import os, subprocess, sys
sys.path.insert(0, {code!r}); sys.path.insert(0, {bench!r})
import lmos_studio  # first, from the checkout measured: routing.py puts its own checkout first on sys.path
from routing import DEFAULT_DATA, load_benchmark
from lmos_studio.routing.statistical import StatisticalRouter
table, rows = load_benchmark(DEFAULT_DATA)
seed = [(r.text, r.agent, r.intent) for r in rows]
subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True, capture_output=True)
StatisticalRouter().fit(table, seed=seed)
subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True, capture_output=True)
assert lmos_studio.__file__.startswith({code!r}), lmos_studio.__file__
"""


def instructions(code: Path) -> int:
    """Instructions of one cold fit with `code`'s lmos_studio, in a fresh process under callgrind."""
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "fit.py"
        script.write_text(CHILD.format(code=str(code), bench=str(Path(__file__).parent)))
        callgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={folder}/cg.out"]
        done = subprocess.run(
            [*callgrind, sys.executable, str(script)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(code)},
        )
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"no instruction count in callgrind's output:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="another checkout (e.g. of main): its fit counted too")
    parser.add_argument("--out", default="fit_instructions.json", help="file name under results/")
    args = parser.parse_args()
    figures: dict[str, object] = {"table": "lmos-router train.csv seeded", "this": instructions(REPO)}
    if args.compare is not None:
        other = instructions(args.compare.resolve())
        figures |= {"other": other, "other_checkout": args.compare.resolve().name}  # no machine path
        figures["change"] = round(int(figures["this"]) / other - 1.0, 4)  # type: ignore[call-overload]
    print(json.dumps(figures))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
