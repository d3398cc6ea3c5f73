"""The Overview's cold first render at 10 000 agents, checkouts side by side (issue #15: ≤ 3 s CPU).

Each run is a fresh process with an empty data dir (no disk cache), measured as `scale.py --pages-child` measures
its first page: AppTest of app.py, Streamlit's component discovery done before the timed run (a server does it
once at start), then the CPU seconds (user + system) of the first run, of the work the app leaves for after the
render (`after_render_s`: writing the design's disk cache entry; 0 for a checkout that does it during the render)
and of a rerun with no change. Runs
alternate between the checkouts so that load changes hit both alike; the machine is shared, so compare
medians of many rounds, not single runs.

    python benchmarks/overview_cold.py --checkouts . ../main-copy --rounds 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import sides  # benchmarks/sides.py

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def child(design: Path) -> None:
    """One measurement in this process: the checkout is the current directory (on sys.path first)."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import scale  # type: ignore[import-not-found]  # the checkout's own benchmarks/scale.py
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path.cwd() / "app.py"), default_timeout=600)
    scale.server_start(at)
    first, _ = scale.timed(at.run)
    later = after_render(scale.cpu)
    rerun, _ = scale.timed(at.run)
    errors = [str(e.value)[:200] for e in at.exception]
    figures = {"first_render_s": first, "after_render_s": later, "first_render_and_after_s": round(first + later, 3)}
    print(json.dumps({**figures, "rerun_s": rerun, "exceptions": errors, "load": os.getloadavg()[0]}))


def after_render(cpu: Any) -> float:
    """CPU seconds of the work the checkout's app left for after the render (`resources.after_this_run`), waited
    for here; 0.0 for a checkout without it (everything happened in the render)."""
    try:
        from lmos_studio.ui.resources import wait_for_later_work
    except ImportError:
        return 0.0
    start = cpu()  # no collection first: the work may have started when the run ended
    wait_for_later_work()
    return round(cpu() - start, 3)


def run(checkout: Path, design: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "LMOS_STUDIO_DESIGN": str(design)}
    with tempfile.TemporaryDirectory(prefix="overview-cold-") as data:
        env["LMOS_STUDIO_DATA_DIR"] = data
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(design)]
        return sides.child_figures(cmd, checkout, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkouts", type=Path, nargs="+", default=[ROOT])
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=RESULTS / "overview_cold.json")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory(prefix="overview-design-") as folder:
        design = sides.generate_design(Path(folder), args.agents)
        runs = sides.alternate(args.checkouts, args.rounds, lambda checkout: run(checkout, design))
    summary = {}
    for name, found in runs.items():
        firsts = [r["first_render_s"] for r in found if "first_render_s" in r]
        totals = [r.get("first_render_and_after_s", r["first_render_s"]) for r in found if "first_render_s" in r]
        reruns = [r["rerun_s"] for r in found if "rerun_s" in r]
        summary[name] = {
            "first_render_median_s": statistics.median(firsts) if firsts else None,
            "first_render_min_s": min(firsts, default=None),
            "first_render_max_s": max(firsts, default=None),
            "first_render_and_after_median_s": statistics.median(totals) if totals else None,
            "rerun_max_s": max(reruns, default=None),
        }
    sides.write_result("overview_cold.py", args.checkouts, args.agents, summary, runs, args.output)


if __name__ == "__main__":
    main()
