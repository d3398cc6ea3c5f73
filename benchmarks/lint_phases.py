"""Benchmark: CPU time of each phase of lint and resolve per agent at several sizes (issue #15's growth exponents).

`benchmarks/scale.py` gives each step's total; this script splits lint (`lint._lint`) and resolve
(`resolve.resolve_design` + `channel_routing`) into their phases, times each phase as the median of `--repeats`
runs (CPU time, collector run first and paused during the phase, the design frozen as the CLI does), and prints
µs per agent and each phase's growth exponent log(t_large / t_small) / log(ratio). A phase whose time per agent
grows with the size is one whose memory traffic grows with the working set (the work itself is linear).

Designs come from `sample_networks/generate_large.py` (channels = groups = agents/20, trust edges = 3 × agents,
as scale.py makes them). LMOS_SCALE_CHECKOUT=PATH measures that checkout's library with this script, so two
checkouts are timed the same way.

Usage: python benchmarks/lint_phases.py [--sizes 1000 10000 50000] [--repeats 3] [--keep DIR] [--output FILE]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("LMOS_SCALE_CHECKOUT") or HERE).resolve()
sys.path.insert(0, str(ROOT))


def timed(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """Median CPU seconds of `repeats` runs of `fn()` (collector run first, paused during the run) and the last
    run's value."""
    runs = []
    value = None
    for _ in range(repeats):
        del value
        gc.collect()
        gc.disable()
        start = time.process_time()
        value = fn()
        runs.append(time.process_time() - start)
        gc.enable()
    return statistics.median(runs), value


def generate(n: int, folder: Path) -> Path:
    path = folder / f"scale-{n}.yaml"
    if not path.exists():
        size = str(max(1, n // 20))
        cmd = [sys.executable, "sample_networks/generate_large.py", str(path), "--agents", str(n)]
        cmd += ["--channels", size, "--groups", size, "--edges", str(3 * n)]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return path


def phases(path: Path, repeats: int) -> dict[str, float]:
    """CPU seconds of each phase on one design."""
    from lmos_studio import lint
    from lmos_studio.formats.design_file import design_from_text
    from lmos_studio.index import AgentIndex
    from lmos_studio.resolve import channel_routing, resolve_channel, resolve_design
    from lmos_studio.trust import RefIndex, without_invalid_versions

    design = design_from_text(path.read_text(encoding="utf-8"), path=str(path)).design
    gc.collect()
    gc.freeze()
    seconds: dict[str, float] = {}

    def phase(name: str, fn: Callable[[], Any]) -> Any:
        seconds[name], value = timed(fn, repeats)
        return value

    # resolve, as scale.py times it: resolve_design (an index, then each channel) and the ChannelRoutings
    index = phase("resolve.index", lambda: AgentIndex(design.agents))
    resolutions = phase(
        "resolve.channels", lambda: [resolve_channel(c, design.agents, index=index) for c in design.channels]
    )
    phase("resolve.routings", lambda: [channel_routing(r) for r in resolutions])
    # lint, phase by phase as lint._lint runs them (safe_resolutions = without_invalid_versions + resolve_design)
    safe = phase("lint.without_invalid", lambda: without_invalid_versions(design))
    phase("lint.resolve", lambda: resolve_design(safe))
    refs = phase("lint.ref_index", lambda: RefIndex(design, resolutions))
    # as the checkout's lint._lint calls them: since s8b the trust pass's pair findings go to the order as runs
    # (`_trust_parts`), not through its sort
    parts = getattr(lint, "_trust_parts", None)
    if parts is not None:
        trusted = parts(design, refs, by_key=True)
        runs = {"cross-tenant-trust": trusted[1], "protocol-mismatch": trusted[2]}
    steps: dict[str, Callable[[], Any]] = {
        "lint.unresolved": lambda: list(lint._unresolved(design, resolutions)),
        "lint.invalid_versions": lambda: list(lint._invalid_versions(design)),
        "lint.orphans": lambda: list(lint._orphans(design, resolutions)),
        "lint.trust": lambda: lint._trust(design, refs, by_key=True),
        "lint.missing_examples": lambda: list(lint._missing_examples(resolutions)),
        "lint.canary": lambda: list(lint._canary(design, resolutions)),
        "lint.names": lambda: list(lint._names_findings(design)),
        "lint.caret_zero": lambda: list(lint._caret_zero(design)),
    }
    findings: list[Any] = []
    if parts is not None:
        steps["lint.trust"] = lambda: parts(design, refs, by_key=True)
    for name, fn in steps.items():
        if name == "lint.trust" and parts is not None:
            findings += phase(name, fn)[0]  # the unknown targets; the pair findings are `runs`
        else:
            findings += phase(name, fn)
    if parts is not None:
        phase("lint.order", lambda: lint._in_order(findings, runs=runs))
    else:
        phase("lint.order", lambda: lint._in_order(findings))
    phase("lint.total", lambda: lint.lint_design(design))
    gc.unfreeze()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder for the generated designs (kept between runs)")
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="lint-phases-"))
    folder.mkdir(parents=True, exist_ok=True)
    per_size = {n: phases(generate(n, folder), args.repeats) for n in args.sizes}
    small, large = min(args.sizes), max(args.sizes)
    rows = {}
    for name in per_size[small]:
        a, b = per_size[small][name], per_size[large][name]
        rows[name] = {
            "us_per_agent": {n: round(1e6 * per_size[n][name] / n, 2) for n in args.sizes},
            "exponent": round(math.log(b / a) / math.log(large / small), 3) if a > 0 and b > 0 else None,
        }
        print(
            f"{name:24} " + " ".join(f"{v:8.2f}" for v in rows[name]["us_per_agent"].values()), rows[name]["exponent"]
        )
    if args.output:
        figures = {"checkout": str(ROOT.name), "loadavg": os.getloadavg(), "repeats": args.repeats, "phases": rows}
        args.output.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
