"""The benchmark networks (benchmarks/data) parse, and every label names an agent and a capability of its design.

Reads data only: no router is fitted or run here (the frozen sets are evaluated once, by the lead, with
benchmarks/generalisation.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmos_studio.formats.design_file import read_design
from lmos_studio.routing.labelled import read_labelled_csv

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
FOLDERS = sorted(p.parent for p in DATA.glob("*/*/design.yaml"))


def test_the_fresh_frozen_networks_are_found() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in FOLDERS}
    assert {"networks-2/city-hall", "networks-2/car-workshop"} <= names
    assert {"networks-3/library", "networks-3/vet-clinic"} <= names
    assert {"networks-4/leisure-centre", "networks-4/airline"} <= names


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_labels_name_the_design(folder: Path) -> None:
    design = read_design(folder / "design.yaml")
    capabilities = {(agent.id, capability.id) for agent in design.agents for capability in agent.capabilities}
    for file in sorted(folder.glob("*.csv")):
        rows = read_labelled_csv(file)
        assert rows, file.name
        wrong = [q.text for q in rows if q.agent and (q.agent, q.capability) not in capabilities]
        assert not wrong, (file.name, wrong)
        texts = [q.text.lower() for q in rows]
        assert len(texts) == len(set(texts)), file.name


@pytest.mark.parametrize("name", ["city-hall", "car-workshop"])
def test_fresh_frozen_network_shape(name: str) -> None:
    """The shape the brief asked for: 4-5 agents, about 10 capabilities of 3 examples, 30-40 in-scope queries
    and about 30 out of scope."""
    folder = DATA / "networks-2" / name
    design = read_design(folder / "design.yaml")
    capabilities = [c for agent in design.agents for c in agent.capabilities]
    assert 4 <= len(design.agents) <= 5
    assert 10 <= len(capabilities) <= 11
    assert all(len(c.examples) == 3 for c in capabilities)
    rows = read_labelled_csv(folder / "queries.csv")
    assert 30 <= sum(1 for q in rows if q.agent) <= 40
    assert sum(1 for q in rows if not q.agent) == 30
    examples = {e.lower() for c in capabilities for e in c.examples}
    assert not [q.text for q in rows if q.text.lower() in examples]


@pytest.mark.parametrize(
    ("group", "name", "most_agents"),
    [
        ("networks-3", "library", 6),  # session 6's brief: 4-6 agents
        ("networks-3", "vet-clinic", 6),
        ("networks-4", "leisure-centre", 5),  # session 7's brief: 4-5 agents
        ("networks-4", "airline", 5),
    ],
)
def test_blind_frozen_network_shape(group: str, name: str, most_agents: int) -> None:
    """The briefs of sessions 6 and 7: 4 agents or more, 10-12 capabilities of 3 examples, 3-4 in-scope queries
    per capability, and 30 out of scope."""
    folder = DATA / group / name
    design = read_design(folder / "design.yaml")
    capabilities = [(agent.id, c) for agent in design.agents for c in agent.capabilities]
    assert 4 <= len(design.agents) <= most_agents
    assert 10 <= len(capabilities) <= 12
    assert all(len(c.examples) == 3 for _, c in capabilities)
    rows = read_labelled_csv(folder / "queries.csv")
    per_capability = {(agent, c.id): 0 for agent, c in capabilities}
    for q in rows:
        if q.agent:
            per_capability[(q.agent, q.capability)] += 1
    assert all(3 <= n <= 4 for n in per_capability.values()), per_capability
    assert sum(1 for q in rows if not q.agent) == 30
    examples = {e.lower() for _, c in capabilities for e in c.examples}
    assert not [q.text for q in rows if q.text.lower() in examples]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_query_counts_twice_across_a_networks_files(folder: Path) -> None:
    seen: dict[str, str] = {}
    for file in sorted(folder.glob("*.csv")):
        for q in read_labelled_csv(file):
            key = " ".join(q.text.lower().split())
            assert key not in seen, (q.text, seen.get(key), file.name)
            seen[key] = file.name
