"""What the side-by-side benchmarks share (`design_read_sides.py`, `overview_cold.py`, `static_cost.py`,
`separator_cost.py`): one generated design, a fresh child process per checkout and round, the checkouts
alternating so that load changes hit them alike, medians per side with the load average, and the result file,
which names checkouts only (no machine paths in results)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def generate_design(folder: Path, agents: int) -> Path:
    """A design made as `scale.py` makes it: channels = groups = agents/20, trust edges = 3 × agents."""
    design = folder / f"scale-{agents}.yaml"
    size = str(max(1, agents // 20))
    generator = [sys.executable, str(ROOT / "sample_networks" / "generate_large.py"), str(design)]
    sizes = ["--agents", str(agents), "--channels", size, "--groups", size, "--edges", str(3 * agents)]
    subprocess.run([*generator, *sizes], check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    return design


def child_figures(cmd: Sequence[str], checkout: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one child in `checkout`; its figures are the JSON of its last line of output (its error otherwise)."""
    proc = subprocess.run(list(cmd), cwd=checkout, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": proc.stderr[-800:]}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def alternate(checkouts: Sequence[Path], rounds: int, measure: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    """`measure` each checkout once per round, in turn; the figures per checkout ("checkout 0", …), printed as
    they come."""
    runs: dict[str, list[dict[str, Any]]] = {f"checkout {i}": [] for i in range(len(checkouts))}
    for _ in range(rounds):
        for i, checkout in enumerate(checkouts):
            figures = measure(checkout.resolve())
            runs[f"checkout {i}"].append(figures)
            print(f"checkout {i}: {figures}", flush=True)
    return runs


def no_machine_path(argument: str) -> str:
    """A command-line argument as a result may record it: an absolute path by its last part only."""
    return f"<{Path(argument).name}>" if Path(argument).is_absolute() else argument


def write_result(
    script: str, checkouts: Sequence[Path], agents: int, summary: dict[str, Any], runs: dict[str, Any], output: Path
) -> None:
    """Print the summary and write the result: the command, the checkouts' names, the summary and every run."""
    result = {
        "command": " ".join([f"python benchmarks/{script}", *map(no_machine_path, sys.argv[1:])]),
        "checkouts": [c.name or "." for c in checkouts],  # names only: no machine paths in results
        "agents": agents,
        "summary": summary,
        "runs": runs,
    }
    print(json.dumps(summary, indent=2))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def this_and_other(
    this: Path, other: Path, rounds: int, measure: Callable[[Path], dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    """`measure` this checkout and the other once per round, the order swapped every round (this first in even
        rounds), so a load change between the two runs of a round favours neither; the figures per side. A side
    that fails stops the benchmark with its error."""
    runs: dict[str, list[dict[str, Any]]] = {"this": [], "other": []}
    sides = {"this": this.resolve(), "other": other.resolve()}
    for round_ in range(rounds):
        for name in ("this", "other") if round_ % 2 == 0 else ("other", "this"):
            figures = measure(sides[name])
            if "error" in figures:  # a side that fails has no figures to compare: stop with its error
                raise SystemExit(f"{name} ({sides[name].name}): {figures['error']}")
            runs[name].append(figures)
            shown = {k: round(v, 3) if isinstance(v, float) else v for k, v in runs[name][-1].items()}
            print(name, shown, flush=True)
    return runs


def medians(found: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over runs (floats, rounded) or the sorted distinct values (digests, names)."""
    return {
        key: round(statistics.median(run[key] for run in found), 4)
        if isinstance(found[0][key], float)
        else sorted({run[key] for run in found})
        for key in found[0]
    }


def commit_of(checkout: Path) -> str:
    """The short commit a checkout is at."""
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return done.stdout.strip()


def load_figures(before: tuple[float, float, float]) -> dict[str, list[float]]:
    """The load average before the runs (`os.getloadavg()` then) and now."""
    return {
        "load_average_before": [round(x, 2) for x in before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def children_side_by_side(
    script: str, other: Path, rounds: int, args: Sequence[str], report: dict[str, Any]
) -> dict[str, Any]:
    """`script --child CHECKOUT` (with `args`) run in a fresh process for this checkout and `other`, alternating
    (`this_and_other`); `report` completed with both commits, the medians per side and the load, and returned."""
    load_before = os.getloadavg()
    command = [sys.executable, script, *args]

    def side(code: Path) -> dict[str, Any]:  # a fresh process importing `code`'s lmos_studio
        return child_figures([*command, "--child", str(code)], ROOT, dict(os.environ))

    runs = this_and_other(ROOT, other, rounds, side)
    report["this_commit"], report["other_commit"] = commit_of(ROOT), commit_of(other)
    for name, found in runs.items():
        report[name] = medians(found)
    report["machine"] = load_figures(load_before)
    return report
