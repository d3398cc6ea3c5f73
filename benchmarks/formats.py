"""Benchmark: reading and writing agent descriptions (what every registry registration pays).

Per format: JSON bytes → detected → Agent (`read_descriptions`), and Agent → description
(`write_description`), over the reference descriptions; plus the 1 000-agent synthetic design written
as one AgentRoutingSpec list and read back. Writes benchmarks/results/formats.json.
Usage: python benchmarks/formats.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lmos_studio.formats import detect  # noqa: E402
from lmos_studio.synthetic import synthetic_design  # noqa: E402

REFERENCE = ROOT / "tests" / "fixtures" / "reference" / "descriptions"  # the tests' reference descriptions


def per_call_ms(fn: object, rounds: int) -> dict[str, float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 3), "p95_ms": round(times[int(0.95 * len(times)) - 1], 3)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    results: dict[str, object] = {}
    for path in sorted(REFERENCE.glob("*.json")):
        data = path.read_bytes()
        [agent] = detect.read_descriptions(data, source=path.name)
        fmt = agent.original_format
        results[path.name] = {
            "read": per_call_ms(lambda d=data, n=path.name: detect.read_descriptions(d, source=n), args.rounds),
            "write_td": per_call_ms(lambda a=agent: detect.write_description(a, "td"), args.rounds),
            "write_own": per_call_ms(lambda a=agent, f=fmt: detect.write_description(a, f), args.rounds),
        }
    agents = list(synthetic_design(n_agents=1000, n_channels=10, n_groups=10, n_edges=10, seed=0).agents)
    start = time.perf_counter()
    text = json.dumps(detect.write_descriptions(agents, "routing-spec"))
    write_s = time.perf_counter() - start
    start = time.perf_counter()
    back = detect.read_descriptions(text, source="specs.json")
    read_s = time.perf_counter() - start
    results["routing_spec_1000_agents"] = {
        "bytes": len(text),
        "write_s": round(write_s, 3),
        "read_s": round(read_s, 3),
        "agents": len(back),
    }
    for name, figures in results.items():
        print(f"{name:32} {figures}")
    out = ROOT / "benchmarks" / "results" / "formats.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
