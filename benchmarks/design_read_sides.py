"""Reading a generated 10 000-agent design file, checkouts side by side (issue #15: the cold Overview's read).

The design is made as `scale.py` makes it (`sample_networks/generate_large.py`, channels = groups = agents/20,
edges = 3 × agents). Each measurement is a fresh process in one checkout (on `PYTHONPATH` first) that imports
the reader, then reads the file as the app and the CLI do (`load_design` with the collector paused) and prints
the CPU seconds of the read (`time.process_time`): several times in the process, the first of them the cold
read the Overview pays (the regular expressions and the resolver are compiled by then: imports), the best of
them the cost without the machine's noise. Processes alternate between the checkouts so that load changes hit
both alike; compare the medians of many rounds.

    python benchmarks/design_read_sides.py --checkouts . ../base --rounds 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sides  # benchmarks/sides.py

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def child(design: Path, reads: int) -> None:
    """The reads in this process: the checkout is the one on `PYTHONPATH`."""
    from lmos_studio.formats.design_file import load_design
    from lmos_studio.formats.yamlio import gc_paused

    text = design.read_text(encoding="utf-8")  # the file in the page cache: the read measures parsing only
    times = []
    for _ in range(reads):
        with gc_paused():
            start = time.process_time()
            result = load_design([design])
            times.append(time.process_time() - start)
        agents = len(result.design.agents)
        del result
    print(json.dumps({"read_s": times, "agents": agents, "bytes": len(text), "load": os.getloadavg()[0]}))


def run(checkout: Path, design: Path, reads: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(design), "--reads", str(reads)]
    return sides.child_figures(cmd, checkout, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=Path, nargs="+", default=[ROOT])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--reads", type=int, default=3, help="reads per process (the first is the cold one)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "design_read_sides.json")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.reads)
        return
    with tempfile.TemporaryDirectory(prefix="design-read-") as folder:
        design = sides.generate_design(Path(folder), args.agents)
        runs = sides.alternate(args.checkouts, args.rounds, lambda checkout: run(checkout, design, args.reads))
    summary = {}
    for name, found in runs.items():
        firsts = [r["read_s"][0] for r in found if "read_s" in r]
        bests = [min(r["read_s"]) for r in found if "read_s" in r]
        summary[name] = {
            "first_read_median_s": round(statistics.median(firsts), 3) if firsts else None,
            "best_read_median_s": round(statistics.median(bests), 3) if bests else None,
            "ms_per_agent_first_read": round(1000 * statistics.median(firsts) / args.agents, 4) if firsts else None,
            "load_median": round(statistics.median(r["load"] for r in found if "load" in r), 2) if found else None,
        }
    sides.write_result("design_read_sides.py", args.checkouts, args.agents, summary, runs, args.output)


if __name__ == "__main__":
    main()
