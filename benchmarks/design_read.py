"""Benchmark: CPU cost of reading a generated design, per agent (issue 15 item 2, issue 11 item 1).

Generates a design of N agents (channels = N/20) with `lmos_studio.synthetic`, writes it as YAML, then measures
CPU time (process time, best of R rounds) of: the bare C parser (`yaml.load(..., Loader=CSafeLoader)`, the floor),
Studio's strict reader (`yamlio.load_documents`), and the whole `read_design` (parse + model validation).
Results are stored under a label (`--label before` / `--label after`) in benchmarks/results/design_read.json
(or `--output`), so a change can be measured side by side with what it replaced; `--checkout` names the checkout
whose `lmos_studio` is measured (default: this one), e.g. a copy of main for the "before" figures.
Usage: python benchmarks/design_read.py [--agents 2000] [--rounds 3] [--label after] [--checkout DIR] [--output F]
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
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the checkout whose lmos_studio is measured")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "design_read.json")
    args = parser.parse_args()
    sys.path.insert(0, str(args.checkout.resolve()))
    import yaml

    from lmos_studio.formats import yamlio
    from lmos_studio.formats.design_file import read_design, write_design
    from lmos_studio.synthetic import synthetic_design

    design = synthetic_design(args.agents, max(1, args.agents // 20), 50, 3 * args.agents, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.yaml"
        write_design(design, path)
        text = path.read_text()
        floor = cpu_s(lambda: list(yaml.load_all(text, Loader=yaml.CSafeLoader)), args.rounds)
        strict = cpu_s(lambda: yamlio.load_documents(text, path=str(path)), args.rounds)
        whole = cpu_s(lambda: read_design(path), args.rounds)
    figures = {
        "checkout": args.checkout.resolve().name,  # a name only: no machine paths in results
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
    out = args.output
    stored = json.loads(out.read_text()) if out.exists() else {}
    stored[args.label] = figures
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(stored, indent=2) + "\n")
    print(json.dumps({args.label: figures}, indent=2))


if __name__ == "__main__":
    main()
