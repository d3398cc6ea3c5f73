"""Benchmark: diff two 1 000-agent designs (target < 1 s) and derive a canary in the large design.

The second design is the first with ~5 % of agents changed (versions raised or lowered, capabilities added
or removed, descriptions edited, an agent dropped from a channel) and ~5 % of trust edges removed.
Run: `python benchmarks/lifecycle.py [--agents 1000] [--repeat 5]`; writes benchmarks/results/lifecycle.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from lmos_studio.canary import make_canary
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import Agent, Capability, Design
from lmos_studio.resolve import resolve_design
from lmos_studio.routing.labelled import LabelledQuery
from lmos_studio.routing.select import get_router
from lmos_studio.synthetic import synthetic_design

RESULTS = Path(__file__).resolve().parent / "results" / "lifecycle.json"
CHANGED_SHARE = 0.05  # share of agents (and of trust edges) the second design changes


def _changed_agent(agent: Agent, rng: random.Random) -> Agent:
    caps = list(agent.capabilities)
    action = rng.choice(("raise", "lower", "add", "remove", "describe", "channels"))
    if action == "raise":
        cap = caps[0]
        major, minor, patch = (int(p) for p in cap.version.split("."))
        caps[0] = cap.model_copy(update={"version": f"{major}.{minor + 1}.{patch}"})
    elif action == "lower":
        caps[0] = caps[0].model_copy(update={"version": "0.1.0"})
    elif action == "add":
        caps.append(Capability(name=f"new-capability-{agent.name}", version="1.0.0", description="added"))
    elif action == "remove" and len(caps) > 1:
        caps.pop()
    elif action == "describe":
        caps[0] = caps[0].model_copy(update={"description": caps[0].description + " (reworded)"})
    else:
        return agent.model_copy(update={"supported_channels": agent.supported_channels[:1]})
    return agent.model_copy(update={"capabilities": tuple(caps)})


def changed_design(design: Design, *, seed: int = 1) -> Design:
    rng = random.Random(seed)
    agents = list(design.agents)
    for index in rng.sample(range(len(agents)), int(len(agents) * CHANGED_SHARE)):
        agents[index] = _changed_agent(agents[index], rng)
    edges = list(design.trust_edges)
    for index in sorted(rng.sample(range(len(edges)), int(len(edges) * CHANGED_SHARE)), reverse=True):
        edges.pop(index)
    return design.replace(agents=tuple(agents), trust_edges=tuple(edges))


def labelled_queries(design: Design, count: int, *, seed: int = 2) -> list[LabelledQuery]:
    """Queries from capability examples of agents the channels wire, labelled with their channel."""
    rng = random.Random(seed)
    wired = [(r.channel.key, w) for r in resolve_design(design) for w in r.wires]
    picked = rng.sample(wired, min(count, len(wired)))
    return [
        LabelledQuery(text=w.provided.examples[0], agent=w.agent.name, channel=key, capability=w.provided.name)
        for key, w in picked
        if w.provided.examples
    ]


def _timed(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--router", default="statistical", help="router for the separately timed impact")
    parser.add_argument("--queries", type=int, default=200, help="labelled queries for the routing impact")
    args = parser.parse_args()
    old = synthetic_design(n_agents=args.agents)
    new = changed_design(old)
    result = diff_designs(old, new)
    diff_s = _timed(lambda: diff_designs(old, new), args.repeat)
    resolve_s = _timed(lambda: (resolve_design(old), resolve_design(new)), args.repeat)
    wired = next(a.name for r in resolve_design(old) if r.channel.subset == "stable" for a in r.agents)
    canary_s = _timed(lambda: make_canary(old, agents=[wired]), args.repeat)
    queries = labelled_queries(old, args.queries)
    start = time.perf_counter()
    # routing tests of the synthetic design route over all agents (one 3 500-candidate table): left out here
    routed = diff_designs(
        old.replace(routing_tests=()), new.replace(routing_tests=()), queries=queries, router=get_router(args.router)
    )
    routed_s = time.perf_counter() - start
    figures = {
        "agents": len(old.agents),
        "channels": len(old.channels),
        "trust_edges": len(old.trust_edges),
        "changed_agents": sum(1 for a, b in zip(old.agents, new.agents, strict=True) if a != b),
        "changes": result.summary,
        "diff_median_s": round(statistics.median(diff_s), 4),
        "diff_max_s": round(max(diff_s), 4),
        "of_which_resolving_both_designs_median_s": round(statistics.median(resolve_s), 4),
        "routing_impact_in_diff": f"{result.routing_method}, {len(old.routing_tests)} routing tests",
        "diff_with_router_s": round(routed_s, 3),
        "diff_with_router": f"{routed.routing_method}, {len(queries)} channel queries, "
        f"{len(routed.routing_impact)} answers change (fit + route, one run)",
        "make_canary_median_s": round(statistics.median(canary_s), 4),
        "target_diff_s": 1.0,
        "repeat": args.repeat,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    for key, value in figures.items():
        print(f"{key:42} {value}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
