"""Benchmark: the CPU cost of Save over a commented design file (session 14, lane E).

A design of N agents (`lmos_studio.synthetic`, channels = N/20) is written once with the plain rendering, then
commented the way a user would (`commented`: a header, one comment above each Agent document and at the end of
its name line, section comments in the Studio document). CPU time (`time.process_time`, median of the repeats, the
cases taking turns in each round, the commented file put back before each one, not counted) of:

  a. plain: `design_to_yaml` + `write_atomic` (what Save cost before comments were kept);
  b. `save_design` of the unchanged design over the commented file;
  c. `save_design` with one agent's capability version changed;
  d. `save_design` with one agent added;
  e. `save_design` with one agent removed (`trust.remove_agent`: its group memberships and trust edges go too);

side by side in one run, each as a ratio to (a). The sha256 of each text written is recorded too: an optimisation
must not change a byte of it. `--profile CASE` prints cProfile's top functions for one case of the largest size.

Usage: python benchmarks/save.py [--agents 100 1000] [--repeat 5] [--profile c]
Prints the figures and writes benchmarks/results/save.json (or --output).
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lmos_studio.formats.design_file import design_to_yaml, save_design  # noqa: E402
from lmos_studio.formats.yamlio import write_atomic  # noqa: E402
from lmos_studio.model import Agent, Capability, Design, Endpoint, Workload  # noqa: E402
from lmos_studio.synthetic import synthetic_design  # noqa: E402
from lmos_studio.trust import remove_agent  # noqa: E402

CASES = ("a_plain", "b_unchanged", "c_one_version", "d_one_added", "e_one_removed")


def commented(text: str) -> str:
    """The plain rendering as a team keeps it in Git: a header, a comment above each Agent document and at the
    end of its name line, a comment above each list of the Studio document."""
    out = ["# Synthetic network, kept in Git.\n# Owners: team-platform\n\n"]
    agents = 0
    in_agent = False
    for line in text.splitlines(keepends=True):
        if line == "kind: Agent\n":
            in_agent = True
        elif line.startswith("kind: "):
            in_agent = False
        if line == "apiVersion: lmos.eclipse/v1\n":
            out.append(f"# owned by team-{agents % 7}\n")
            agents += 1
        if in_agent and line.startswith("  name: "):
            line = line.rstrip("\n") + "  # do not rename: the channels pin it\n"
        if line in ("  groups:\n", "  trustEdges:\n", "  routingTests:\n"):
            out.append(f"  # {line.strip().rstrip(':')}: reviewed by the platform team\n")
        out.append(line)
    return "".join(out)


def cases(design: Design) -> dict[str, Design]:
    """The design each Save is given: unchanged, one version changed, one agent added, one removed."""
    first = design.agents[0]
    caps = (first.capabilities[0].model_copy(update={"version": "9.9.9"}), *first.capabilities[1:])
    name = "agent-added"
    added = Agent(
        name=name,
        namespace=first.namespace,
        description="An agent added in the Designer",
        supported_channels=("web",),
        capabilities=(Capability(name="refund", version="1.0.0", description="Refund a payment"),),
        endpoints=(Endpoint(protocol="http", uri=f"http://{name}.default.svc.cluster.local:8080"),),
        workload=Workload(image=f"registry.example.com/agents/{name}:1.0.0"),
    )
    middle = design.agents[len(design.agents) // 2]
    return {
        "b_unchanged": design,
        "c_one_version": design.with_agent(first.model_copy(update={"capabilities": caps})),
        "d_one_added": design.with_agent(added),
        "e_one_removed": remove_agent(design, middle.key),
    }


def cpu_s(runs: dict[str, Callable[[], Any]], before: Callable[[], Any], repeat: int) -> dict[str, list[float]]:
    """CPU seconds of each run, `repeat` rounds of all of them in turn (a busy machine slows every case alike)."""
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, fn in runs.items():
            before()
            start = time.process_time()
            fn()
            times[label].append(time.process_time() - start)
    return times


def measure(agents: int, repeat: int, scratch: Path) -> dict[str, Any]:
    design = synthetic_design(agents, max(1, agents // 20), max(1, agents // 20), 3 * agents, seed=0)
    path = scratch / f"design-{agents}.yaml"
    text = commented(design_to_yaml(design))

    def put_back() -> None:
        path.write_text(text, encoding="utf-8")

    def plain() -> None:
        write_atomic(path, design_to_yaml(design))

    figures: dict[str, Any] = {"agents": agents, "file_bytes": len(text.encode()), "cases": {}}
    runs: dict[str, Callable[[], Any]] = {"a_plain": plain}
    for label, edited in cases(design).items():
        runs[label] = lambda edited=edited: save_design(edited, path)
    all_times = cpu_s(runs, put_back, repeat)
    for label, fn in runs.items():
        times = all_times[label]
        put_back()
        saved = fn()
        written = path.read_bytes()
        figures["cases"][label] = {
            "cpu_s_median": round(statistics.median(times), 4),
            "cpu_s_all": [round(t, 4) for t in times],
            "written_sha256": hashlib.sha256(written).hexdigest(),
            "written_bytes": len(written),
            "warnings": len(saved.warnings) if saved is not None else 0,
        }
    base = figures["cases"]["a_plain"]["cpu_s_median"]
    for entry in figures["cases"].values():
        entry["ratio_to_plain"] = round(entry["cpu_s_median"] / base, 2) if base else None
    return figures


def profile(agents: int, case: str, scratch: Path) -> None:
    design = synthetic_design(agents, max(1, agents // 20), max(1, agents // 20), 3 * agents, seed=0)
    path = scratch / "profiled.yaml"
    path.write_text(commented(design_to_yaml(design)), encoding="utf-8")
    edited = cases(design)[case]
    profiler = cProfile.Profile()
    profiler.runcall(save_design, edited, path)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", choices=[c.split("_", 1)[0] for c in CASES[1:]])
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "save.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.profile:
            case = next(c for c in CASES if c.startswith(args.profile + "_"))
            profile(max(args.agents), case, Path(tmp))
            return
        load_before = os.getloadavg()
        cpu_before = time.process_time()
        sizes = [measure(n, args.repeat, Path(tmp)) for n in args.agents]
    figures = {
        "repeat": args.repeat,
        "sizes": sizes,
        "targets_on_1000": {"b_unchanged_ratio": 2.0, "c_one_version_ratio": 3.0},
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s_total": round(time.process_time() - cpu_before, 2),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    for size in sizes:
        print(f"{size['agents']} agents, {size['file_bytes'] / 2**20:.2f} MiB:")
        for label, entry in size["cases"].items():
            print(
                f"  {label:15} {entry['cpu_s_median']:8.3f} s  ×{entry['ratio_to_plain']:<6}"
                f" warnings={entry['warnings']}  {entry['written_sha256'][:12]}"
            )
    print(f"load average before {figures['load_average_before']} after {figures['load_average_after']}")


if __name__ == "__main__":
    main()
