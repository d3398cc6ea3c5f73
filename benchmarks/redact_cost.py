"""Benchmark: what masking credentials costs (save, export, `masked_credentials`, the registry's GET /things),
this checkout beside another one (e.g. the commit before credentials were masked everywhere).

Side by side in one run, rounds alternating between the two checkouts, each round a fresh process per checkout;
CPU seconds (`time.process_time`) of each operation, medians over rounds and repeats, so a busy machine slows
both sides alike. On synthetic designs (`lmos_studio.synthetic`, no secrets: the common case) of 1 000 and
10 000 agents (channels and groups one per 20 agents, 3 trust edges per agent), the design built first and the
collector frozen (as the CLI does after reading a design):

- save: `save_design` to a new file plus the warnings on what was masked (what the app's Save shows:
  `masked_credentials`, or `Saved.masked` where the save makes them); write_design: `save_design` alone;
- export: `export_design` with the CLI's default options, `kustomize.write_folder` into a new folder;
- masked_credentials alone;
- GET /things?limit=1000 on the registry server (starlette's TestClient) over 1 000 registered agents' TDs.

Usage: python benchmarks/redact_cost.py --base ../other-checkout [--agents 1000 10000] [--rounds 3] [--repeat 2]
Writes benchmarks/results/redact_cost.json (checkouts named by their commit, not their path).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
CHILD = """
import gc, json, sys, tempfile, time
from pathlib import Path
from starlette.testclient import TestClient
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.formats.design_file import masked_credentials, save_design
from lmos_studio.registry.server import create_app
from lmos_studio.registry.store import Store
from lmos_studio.synthetic import synthetic_design

sizes, repeat = [int(n) for n in sys.argv[1].split(",")], int(sys.argv[2])
out = {}
with tempfile.TemporaryDirectory() as tmp:
    for n in sizes:
        design = synthetic_design(n, n_channels=max(1, n // 20), n_groups=max(1, n // 20), n_edges=3 * n)
        gc.collect()
        gc.freeze()
        figures = {"save_s": [], "write_design_s": [], "export_s": [], "masked_credentials_s": []}
        for i in range(repeat):
            start = time.process_time()
            saved = save_design(design, Path(tmp, f"design-{n}-{i}.yaml"))
            written = time.process_time()
            warnings = saved.masked if hasattr(saved, "masked") else masked_credentials(design)
            figures["save_s"].append(time.process_time() - start)
            figures["write_design_s"].append(written - start)
            start = time.process_time()
            bundle = export_design(design, ExportOptions())
            kustomize.write_folder(bundle, Path(tmp, f"export-{n}-{i}"))
            figures["export_s"].append(time.process_time() - start)
            start = time.process_time()
            masked_credentials(design)
            figures["masked_credentials_s"].append(time.process_time() - start)
        out[str(n)] = figures
        del design, bundle
        gc.unfreeze()
        gc.collect()
    store = Store(Path(tmp, "registry.sqlite3"), seed=False)
    store.put_agents(list(synthetic_design(1000, n_channels=50, n_groups=10, n_edges=10).agents))
    times, sizes_sent = [], set()
    with TestClient(create_app(store)) as client:
        client.get("/things?limit=1000")  # warm: routes, pydantic, the store's first read
        for _ in range(repeat * 3):
            start = time.process_time()
            response = client.get("/things?limit=1000")
            times.append(time.process_time() - start)
            assert response.status_code == 200 and len(response.json()) == 1000, response.status_code
            sizes_sent.add(len(response.content))
    out["registry_get_things_1000_s"] = times
    out["registry_bytes"] = sorted(sizes_sent)
print(json.dumps(out))
"""


def run_child(root: Path, sizes: list[int], repeat: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    with tempfile.TemporaryDirectory() as data:
        env["LMOS_STUDIO_DATA_DIR"] = data
        arguments = [sys.executable, "-c", CHILD, ",".join(map(str, sizes)), str(repeat)]
        proc = subprocess.run(arguments, cwd=root, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"the benchmark failed in {root.name}: {proc.stderr[-1500:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def commit(root: Path) -> str:
    proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True).stdout.strip()
    return proc.stdout.strip() + ("+changes" if dirty else "")


def medians(runs: list[dict[str, Any]], sizes: list[int]) -> dict[str, float]:
    """Median CPU seconds per operation (every repeat of every round)."""
    out = {}
    for n in sizes:
        for key in ("save_s", "write_design_s", "export_s", "masked_credentials_s"):
            times = [t for r in runs for t in r[str(n)][key]]
            out[f"{key.removesuffix('_s')}_{n}_s"] = round(statistics.median(times), 3)
    out["registry_get_things_1000_s"] = round(
        statistics.median(t for r in runs for t in r["registry_get_things_1000_s"]), 4
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, required=True, help="The other checkout (e.g. a worktree of a commit).")
    parser.add_argument("--agents", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="Each operation's repeats in one process.")
    parser.add_argument("--output", type=Path, default=RESULTS / "redact_cost.json")
    args = parser.parse_args()
    roots = {"base": args.base.resolve(), "this": ROOT}
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in roots}
    loads: dict[str, list[float]] = {name: [] for name in roots}
    for round_no in range(args.rounds):
        for name, root in roots.items():
            figures = run_child(root, args.agents, args.repeat)
            runs[name].append(figures)
            loads[name].append(round(os.getloadavg()[0], 2))
            print(f"round {round_no + 1} {name}: {json.dumps(medians([figures], args.agents))}", flush=True)
    result_medians = {name: medians(runs[name], args.agents) for name in roots}
    ratios = {
        key: round(result_medians["this"][key] / value, 3) for key, value in result_medians["base"].items() if value
    }
    bytes_sent = {name: runs[name][0]["registry_bytes"] for name in roots}
    result = {
        "agents": args.agents,
        "rounds": args.rounds,
        "repeat": args.repeat,
        "clock": "time.process_time (CPU seconds of the measuring process)",
        "checkouts": {name: commit(root) for name, root in roots.items()},
        "load_before": [round(x, 2) for x in load_before],
        "load_1min_after_each_run": loads,
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "medians": result_medians,
        "ratio_this_vs_base": ratios,
        "registry_bytes_sent": bytes_sent,
        "runs": runs,
        "target_ratio_save_export_10000": 1.2,
    }
    print(json.dumps({"medians": result_medians, "ratio_this_vs_base": ratios}, indent=1))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
