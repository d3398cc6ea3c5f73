"""Benchmark: CPU cost of reading a generated design, per agent (issue 15 item 2, issue 11 item 1).

Generates a design of N agents (channels = N/20) with `lmos_studio.synthetic`, writes it as YAML, then measures
CPU time (process time, best of R rounds) of: the bare C parser (`yaml.load(..., Loader=CSafeLoader)`, the floor),
Studio's strict reader (`yamlio.load_documents`), and the whole `read_design` (parse + model validation).
Results are stored under a label (`--label before` / `--label after`) in benchmarks/results/design_read.json,
so a change can be measured side by side with what it replaced.
Usage: python benchmarks/design_read.py [--agents 2000] [--rounds 3] [--label after]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from lmos_studio.formats import yamlio  # noqa: E402
from lmos_studio.formats.design_file import read_design, write_design  # noqa: E402
from lmos_studio.synthetic import synthetic_design  # noqa: E402


def cpu_s(fn: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    design = synthetic_design(args.agents, max(1, args.agents // 20), 50, 3 * args.agents, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.yaml"
        write_design(design, path)
        text = path.read_text()
        floor = cpu_s(lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)), args.rounds)
        strict = cpu_s(lambda: yamlio.load_documents(text, path=str(path)), args.rounds)
        whole = cpu_s(lambda: read_design(path), args.rounds)
    figures = {
        "agents": args.agents,
        "file_bytes": len(text.encode()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpu_s_csafeloader": round(floor, 3),
        "cpu_s_yamlio_load_documents": round(strict, 3),
        "cpu_s_read_design": round(whole, 3),
        "ms_per_agent_yamlio": round(1000 * strict / args.agents, 4),
        "ms_per_agent_read_design": round(1000 * whole / args.agents, 4),
        "yamlio_over_csafeloader": round(strict / floor, 2),
    }
    out = ROOT / "benchmarks" / "results" / "design_read.json"
    stored = json.loads(out.read_text()) if out.exists() else {}
    stored[args.label] = figures
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stored, indent=2) + "\n")
    print(json.dumps({args.label: figures}, indent=2))


if __name__ == "__main__":
    main()
