"""Agents, Channels, agent entries and trust edges read directly (`modeldocs.py`) are what the usual readers make.

Each text is read twice, with and without `modeldocs`: the designs must be equal model by model (values, types,
the fields counted as set), with the same locations, warnings and errors, word for word (file and line). Texts:
every YAML file of the repo, generated designs in both writers' layouts, and generated designs altered line by
line (numbers, booleans, comments, quotes, spaces, duplicate and missing keys, indentation).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import design_file, modeldocs
from lmos_studio.formats.design_file import design_from_text, design_to_yaml
from lmos_studio.model import Agent, Channel, Design, TrustEdge
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ROOT, large_design_generator


def read(text: str, *, direct: bool) -> Any:
    """What reading the text gives: (design, locations, warnings), or the error's message."""
    saved = modeldocs.read_documents
    if not direct:
        modeldocs.read_documents = lambda text: None  # type: ignore[assignment]
    try:
        result = design_from_text(text, path="design.yaml")
    except DesignFileError as exc:
        return ("error", str(exc))
    finally:
        modeldocs.read_documents = saved  # type: ignore[assignment]
    return result.design, result.locations, result.warnings


def same_models(a: Any, b: Any, where: str = "design") -> None:
    """Equal, and the same fields counted as set, model by model."""
    assert type(a) is type(b), where
    if isinstance(a, BaseModel):
        assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__, where
        assert list(a.__dict__) == list(b.__dict__), where
        for name in type(a).model_fields:
            same_models(getattr(a, name), getattr(b, name), f"{where}.{name}")
    elif isinstance(a, tuple):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_models(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def check(text: str) -> Any:
    """Both ways give the same; the direct result."""
    direct, usual = read(text, direct=True), read(text, direct=False)
    if isinstance(usual, tuple) and usual[0] == "error":
        assert direct == usual
        return direct
    assert not (isinstance(direct, tuple) and direct[0] == "error"), direct
    same_models(direct[0], usual[0])
    assert direct[0] == usual[0]
    assert direct[0].model_dump_json() == usual[0].model_dump_json()
    assert direct[1:] == usual[1:]
    return direct


def taken(text: str) -> tuple[int, int, int]:
    """How many Agents, agent entries and trust edges of the Studio document `modeldocs` read itself."""
    docs = modeldocs.read_documents(text)
    assert docs is not None
    agents = sum(isinstance(doc, modeldocs.AgentDocument) for doc in docs)
    entries = edges = 0
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "StudioDesign":
            entries = sum(type(entry) is dict for entry in doc["spec"].get("agents") or ())  # not LineDicts
            edges = sum(isinstance(edge, TrustEdge) for edge in doc["spec"].get("trustEdges") or ())
    return agents, entries, edges


def taken_channels(text: str) -> int:
    """How many Channels `modeldocs` read itself."""
    docs = modeldocs.read_documents(text)
    assert docs is not None
    return sum(isinstance(doc, modeldocs.ChannelDocument) for doc in docs)


def generated(agents: int = 60, *, studio_writer: bool = False, seed: int = 3) -> str:
    design = synthetic_design(agents, max(1, agents // 10), max(1, agents // 10), 3 * agents, seed=seed)
    if studio_writer:
        return design_to_yaml(design)
    text: str = large_design_generator().design_yaml(design)
    return text


@pytest.mark.parametrize("studio_writer", [False, True])
def test_generated_designs_are_read_directly_and_the_same(studio_writer: bool) -> None:
    text = generated(200, studio_writer=studio_writer)
    design = check(text)[0]
    assert isinstance(design, Design) and len(design.agents) == 200
    assert any(agent.labels for agent in design.agents)  # labelled agents are read directly too
    entries = sum(bool(agent.endpoints or agent.workload) for agent in design.agents)
    assert entries > 100
    assert taken(text) == (200, entries, len(design.trust_edges))
    assert taken_channels(text) == len(design.channels) == 20


def test_every_yaml_file_of_the_repo_reads_the_same() -> None:
    files = [p for folder in ("sample_networks", "tests") for p in sorted((ROOT / folder).rglob("*.y*ml"))]
    assert len(files) > 30
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        check(text)


EDITS = [
    lambda line: line + "  # note",
    lambda line: line + " ",
    lambda line: line.replace(": ", ":  ", 1),
    lambda line: line.replace('"', "'"),
    lambda line: line.replace('"', ""),
    lambda line: line + '"',
    lambda line: line.split(": ")[0] + ": 1.10" if ": " in line else line + " 1.10",
    lambda line: line.split(": ")[0] + ": true" if ": " in line else line[: line.find("-") + 1] + " yes",
    lambda line: line.split(": ")[0] + ": null" if ": " in line else line,
    lambda line: line.split(": ")[0] + ":" if ": " in line else line.rstrip(),
    lambda line: line.split(": ")[0] + ": a: b" if ": " in line else line + ": x",
    lambda line: line.split(": ")[0] + ": [x, 2]" if ": " in line else line,
    lambda line: line.split(": ")[0] + ': ""' if ": " in line else line,
    lambda line: line.split(": ")[0] + ": '#x'" if ": " in line else line,
    lambda line: line.split(": ")[0] + ": x #y" if ": " in line else line,
    lambda line: line.split(": ")[0] + ": 'it''s'" if ": " in line else line,
    lambda line: line.split(": ")[0] + ": *alias" if ": " in line else line,
    lambda line: line.split(": ")[0] + ": - x" if ": " in line else line,
    lambda line: "  " + line,
    lambda line: line[2:] if line.startswith("  ") else line,
    lambda line: line + "\n" + line,  # a duplicate key or a second item
    lambda line: "",  # a line less
    lambda line: line + "\n",  # a blank line
    lambda line: line + "\n  extra: x",
    lambda line: line + "\n      extra: x",
    lambda line: line + "\n  annotations:\n    a: b",
    lambda line: line + "\n---",
    lambda line: line + "\n--- ",
    lambda line: line.replace("name", "Name"),
    lambda line: line.replace("agent-", "true" if "name:" in line else "agent-"),
    lambda line: line.replace('"uri"', '"protocol"').replace('"protocol"', '"extra"', 1),
    lambda line: line.replace("}]", "}, 1]").replace("uri: ", "url: "),
    lambda line: line.replace('"}', '", "port": 8}').replace("protocol: ", "protocol:  "),
    lambda line: line + "\n      security: []\n      source: x",
]


@pytest.mark.parametrize("studio_writer", [False, True])
def test_altered_designs_read_the_same(studio_writer: bool) -> None:
    """Every kind of edit, on random lines of Agent documents and trust edges: the same design or error."""
    lines = generated(8, studio_writer=studio_writer, seed=5).split("\n")
    rng = random.Random(11)
    for _ in range(400):
        at = rng.randrange(len(lines) - 1)
        edit = rng.choice(EDITS)
        changed = [*lines[:at], edit(lines[at]), *lines[at + 1 :]]
        check("\n".join(changed))


def test_an_endpoint_indented_under_the_one_before_is_read_the_usual_way() -> None:
    """`- protocol: ws` two spaces deeper than its list is no second endpoint (the YAML readers refuse it)."""
    lines = generated(12, studio_writer=True, seed=1).split("\n")
    at = lines.index("    - protocol: ws")
    lines[at] = "  " + lines[at]
    found = check("\n".join(lines))
    assert found[0] == "error" and "design.yaml:" in found[1]


def test_a_channel_without_required_capabilities_is_read_directly() -> None:
    lines = generated(20).split("\n")
    at = lines.index("  requiredCapabilities:")
    end = next(i for i in range(at + 1, len(lines)) if not lines[i].startswith("    "))
    text = "\n".join([*lines[:at], "  requiredCapabilities: []", *lines[end:]])
    design = check(text)[0]
    assert any(not channel.required_capabilities for channel in design.channels)
    assert taken_channels(text) == len(design.channels)


@pytest.mark.parametrize("studio_writer", [False, True])
def test_altered_channels_read_the_same(studio_writer: bool) -> None:
    """Every kind of edit, on random lines of Channel documents: the same design or error."""
    lines = generated(20, studio_writer=studio_writer, seed=7).split("\n")
    starts = [i for i, line in enumerate(lines) if line == "kind: Channel"]
    ends = [lines.index("---", start) for start in starts]
    channel_lines = [i for start, end in zip(starts, ends, strict=True) for i in range(start - 1, end)]
    rng = random.Random(13)
    for _ in range(300):
        at = rng.choice(channel_lines)
        edit = rng.choice([*EDITS, lambda line: line.replace("HIGHEST", "LOWEST"), lambda line: line + "\n  - x"])
        changed = [*lines[:at], edit(lines[at]), *lines[at + 1 :]]
        check("\n".join(changed))


def test_an_error_in_an_agent_names_its_file_line_and_field() -> None:
    lines = generated(6).split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("version:") and i > 80)
    lines[at] = lines[at].split(":")[0] + ": [1]"
    found = check("\n".join(lines))
    assert found[0] == "error"
    assert f"design.yaml:{at + 1}" in found[1] and "version" in found[1]


def test_an_agent_given_twice_is_warned_about_with_its_line() -> None:
    text = generated(4)
    first = text.split("---\n")[1]
    doubled = f"---\n{first}{text}"
    design, locations, warnings = check(doubled)
    assert len(design.agents) == 4
    location = locations[f"Agent {design.agents[0].key}"]  # the later one, which replaces the first
    assert location != "design.yaml:2"
    assert any(warning.startswith(location) and "appears again" in warning for warning in warnings)


def test_the_line_of_each_agent_is_its_first_line() -> None:
    text = generated(5)
    design, locations, _ = check(text)
    lines = text.split("\n")
    for agent in design.agents:
        line = int(locations[f"Agent {agent.key}"].rsplit(":", 1)[1])
        assert lines[line - 1] == "apiVersion: lmos.eclipse/v1"
        assert f"name: {agent.name}" in lines[line + 2]


def test_the_models_are_those_validation_makes() -> None:
    """The direct readers skip validation: their models equal validated ones, field by field."""
    text = generated(30)
    design = check(text)[0]
    docs = modeldocs.read_documents(text)
    assert docs is not None
    agents = [doc.agent for doc in docs if isinstance(doc, modeldocs.AgentDocument)]
    assert len(agents) == 30
    for agent in agents:
        same_models(agent, Agent.model_validate(agent.model_dump(exclude_unset=True)))
    channels = [doc.channel for doc in docs if isinstance(doc, modeldocs.ChannelDocument)]
    assert len(channels) == 3
    for channel in channels:
        same_models(channel, Channel.model_validate(channel.model_dump(exclude_unset=True)))
    for edge in design.trust_edges[:50]:
        given = {name: getattr(edge, name) for name in edge.__pydantic_fields_set__}
        same_models(edge, TrustEdge.model_validate(given))


def test_the_agent_patterns_groups_are_taken_in_their_order() -> None:
    """`_agent` unpacks `match.groups()`: the document patterns hold these groups, in this order, and no other."""
    for document, _ in modeldocs._PATTERNS:
        assert tuple(document.groupindex) == modeldocs._GROUPS and document.groups == len(modeldocs._GROUPS)


def test_texts_that_do_not_split_as_the_line_reader_splits_are_read_the_usual_way() -> None:
    text = generated(3)
    for changed in ("%YAML 1.1\n" + text, text + "...\n", text.rstrip("\n")):
        assert modeldocs.read_documents(changed) is None
        check(changed)


@pytest.mark.parametrize("marker", ["--- ", "---  ", "----", "--- x", "--- # note", "...", "%TAG ! x", "---"])
def test_document_markers_anywhere_read_the_same(marker: str) -> None:
    """A marker line (another form of `---`, `...`, a directive) before, inside or after any document: what the
    direct readers take, if anything, is what the line reader takes."""
    lines = generated(4).split("\n")
    for at in range(0, len(lines), 3):
        check("\n".join([*lines[:at], marker, *lines[at:]]))
        check("\n".join([*lines[:at], marker, *lines[at + 1 :]]))  # in place of a line (a `---` one too)


def test_a_big_design_file_from_disk_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(generated(300), encoding="utf-8")
    direct = design_file.load_design([path])
    saved = modeldocs.read_documents
    modeldocs.read_documents = lambda text: None  # type: ignore[assignment]
    try:
        usual = design_file.load_design([path])
    finally:
        modeldocs.read_documents = saved  # type: ignore[assignment]
    same_models(direct.design, usual.design)
    assert direct.locations == usual.locations and direct.warnings == usual.warnings


@pytest.mark.parametrize(("key", "value"), [("caller", "[1]"), ("name", "{a: 1}"), ("protocol", "[x]")])
def test_an_error_in_the_studio_document_names_its_file_and_line(key: str, value: str) -> None:
    """A trust edge or an agent entry the direct readers do not take is read (and refused) the usual way."""
    text = generated(6)
    lines = text.split("\n")
    studio = lines.index("  agents:")
    at = next(i for i, line in enumerate(lines) if i > studio and line.lstrip(" -").startswith(f"{key}:"))
    lines[at] = lines[at].split(":")[0] + ": " + value
    found = check("\n".join(lines))
    assert found[0] == "error"
    assert f"design.yaml:{at + 1}" in found[1], found[1]
