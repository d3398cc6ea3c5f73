"""Build sample_networks/router-benchmark.yaml from the lmos-router benchmark's training side.

Source data (Apache-2.0, eclipse-lmos/lmos-router `benchmarks/src/main/resources/`, copied into
sample_networks/lmos-router-benchmark/, README there): the 11 agents of agentRoutingSpecs.json become LMOS Agents on the
`web` channel, each capability gets the first 5 training utterances of its intent as examples, and one
Channel requires all 27 capabilities. Usage: python sample_networks/build_router_benchmark.py [DATA_DIR]
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

from lmos_studio.formats.design_file import write_design
from lmos_studio.model import Agent, Capability, Channel, Design, Endpoint, RequiredCapability

EXAMPLES_PER_CAPABILITY = 5  # few-shot: the benchmark's seeded setting uses the whole train.csv instead
HERE = Path(__file__).resolve().parent


def build(data: Path) -> Design:
    specs = json.loads((data / "agentRoutingSpecs.json").read_text())
    examples: dict[str, list[str]] = defaultdict(list)
    with (data / "train.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            if len(examples[row["intent"]]) < EXAMPLES_PER_CAPABILITY:
                examples[row["intent"]].append(row["instruction"])
    agents = tuple(
        Agent(
            name=spec["name"],
            id=spec["name"],
            description=spec["description"],
            supported_channels=("web",),
            labels={"version": spec["version"]},
            capabilities=tuple(
                Capability(
                    id=c["name"],
                    name=c["name"],
                    version=c["version"],
                    description=c["description"],
                    examples=tuple(examples.get(c["name"], ())),
                )
                for c in spec["capabilities"]
            ),
            endpoints=tuple(Endpoint(protocol=a.get("protocol", "http"), uri=a["uri"]) for a in spec["addresses"]),
            source="lmos-router benchmarks/src/main/resources/agentRoutingSpecs.json",
        )
        for spec in specs
    )
    channel = Channel(
        name="customer-service",
        labels={"tenant": "bench", "channel": "web", "version": "1.0.0", "subset": "stable"},
        required_capabilities=tuple(
            RequiredCapability(name=c.name, version=">=1.0.0") for a in agents for c in a.capabilities
        ),
    )
    return Design(
        name="router-benchmark",
        agents=agents,
        channels=(channel,),
        description=(
            "The lmos-router benchmark's 11 agents and 27 capabilities (eclipse-lmos/lmos-router, Apache-2.0) "
            f"with {EXAMPLES_PER_CAPABILITY} training utterances per capability as examples."
        ),
    )


if __name__ == "__main__":
    default = HERE / "lmos-router-benchmark"
    design = build(Path(sys.argv[1]) if len(sys.argv) > 1 else default)
    write_design(design, HERE / "router-benchmark.yaml")
    print(f"wrote {HERE / 'router-benchmark.yaml'}: {len(design.agents)} agents")
