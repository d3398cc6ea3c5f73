"""Benchmark: resolve a 1 000-agent, 50-channel synthetic design (issue target: < 0.5 s on 2 cores).

Usage: python benchmarks/resolve.py [--agents 1000] [--channels 50] [--repeat 5]
Prints the figures and writes benchmarks/results/resolve.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.resolve import channel_routing, resolve_design
from lmos_studio.synthetic import synthetic_design

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    design = synthetic_design(args.agents, args.channels)
    text = design_to_yaml(design)
    timings = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        resolutions = resolve_design(design)
        for resolution in resolutions:
            channel_routing(resolution)
        timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    design_from_text(text)
    load_s = time.perf_counter() - start
    figures = {
        "agents": args.agents,
        "channels": args.channels,
        "resolved": sum(r.resolved for r in resolutions),
        "resolve_s_median": round(statistics.median(timings), 4),
        "resolve_s_min": round(min(timings), 4),
        "first_run_s": round(timings[0], 4),
        "read_design_file_s": round(load_s, 4),
        "design_file_bytes": len(text.encode()),
        "target_s": 0.5,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "resolve.json").write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
