"""Format detection over every reference description, LMOS Agent resources, malformed and hostile input,
and the `lmos-studio import` / `convert` commands (exit codes, stdout, stderr)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REFERENCE, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import description as d
from lmos_studio.formats import detect, yamlio

DESCRIPTIONS = REFERENCE / "descriptions"
EXAMPLES = REFERENCE / "lmos-router-examples"

EXPECTED = {  # file → (format, agent names)
    "lmos-td-billing-agent.json": ("td", ["billing-agent"]),
    "lmos-td-minimal-agent.json": ("td", ["store-locator-agent"]),
    "lmos-td-tool.json": ("td", ["tariff-catalogue"]),
    "a2a-card-v1.json": ("a2a", ["contract-assistant"]),
    "a2a-card-v0.3.json": ("a2a", ["device-orders"]),
    "capabilities-document.json": ("capabilities", ["roaming-agent"]),
}


def test_every_reference_description_is_covered() -> None:
    assert sorted(p.name for p in DESCRIPTIONS.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reference_descriptions_are_detected(name: str) -> None:
    fmt, names = EXPECTED[name]
    raw = json.loads((DESCRIPTIONS / name).read_text())
    assert detect.detect_format(raw) == fmt
    agents = detect.read_description_file(DESCRIPTIONS / name)
    assert [a.name for a in agents] == names
    assert all(a.original_format == fmt and a.original == raw and a.source == str(DESCRIPTIONS / name) for a in agents)
    for agent in agents:  # written in its own format, the unchanged agent is the document it came from
        assert detect.write_description(agent, fmt) == raw
    from_dict = [a.model_copy(update={"source": "dict"}) for a in agents]
    assert detect.read_descriptions(raw, source="dict") == from_dict


@pytest.mark.parametrize("fmt", [f for f in detect.FORMATS])
def test_every_agent_writes_in_every_format_and_reads_back(fmt: str) -> None:
    for name in EXPECTED:
        for agent in detect.read_description_file(DESCRIPTIONS / name):
            data = detect.write_description(agent, fmt)
            back = detect.read_descriptions(json.dumps(data), source=f"{name}.{fmt}")
            assert [c.name for a in back for c in a.capabilities] == [c.name for c in agent.capabilities]


def test_operator_agent_resources_and_multi_document_yaml(tmp_path: Path) -> None:
    files = sorted((REFERENCE / "lmos-operator").glob("acme-*-agent-v1.yaml"))
    channel = REFERENCE / "lmos-operator" / "acme-web-channel-v1.yaml"
    combined = tmp_path / "agents.yaml"
    studio = "apiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: x}\n"
    combined.write_text("\n---\n".join([*(f.read_text() for f in [*files, channel]), studio]))
    agents = detect.read_description_file(combined)
    assert [a.name for a in agents] == ["billing-agent-stable", "contract-agent"]  # other kinds are skipped
    billing = agents[0]
    assert billing.id == "billing-agent-stable-id"
    assert [(c.name, c.version) for c in billing.capabilities] == [("view-bill", "1.0.0"), ("download-bill", "1.1.0")]
    assert billing.original_format == "" and billing.source == str(combined)


def test_kubernetes_list_and_json_array_of_documents() -> None:
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "a"},
        "spec": {"providedCapabilities": [{"name": "x", "version": "1.0.0"}]},
    }
    card = json.loads((DESCRIPTIONS / "a2a-card-v1.json").read_text())
    listed = detect.read_descriptions({"kind": "List", "items": [resource]}, source="l")
    assert [a.name for a in listed] == ["a"]
    mixed = detect.read_descriptions(json.dumps([resource, card]), source="mixed.json")
    assert [(a.name, a.original_format) for a in mixed] == [("a", ""), ("contract-assistant", "a2a")]


def test_explicit_format_skips_detection() -> None:
    raw = json.loads((DESCRIPTIONS / "capabilities-document.json").read_text())
    with pytest.raises(DesignFileError, match="name"):
        detect.read_descriptions(raw, source="c.json", fmt="a2a")
    with pytest.raises(DesignFileError, match="unknown format"):
        detect.read_descriptions(raw, source="c.json", fmt="openapi")


@pytest.mark.parametrize(
    ("data", "line", "words"),
    [
        (b'{"title": "a",\n  "x": [1, 2,,]}', 2, "malformed JSON"),
        (b"name: a\n  bad: [\n", None, "malformed YAML"),
        (b"\xff\xfe\x00garbage", None, "not UTF-8"),
        (b"", None, "is empty"),
        (b"   \n", None, "is empty"),
        (b"42", None, "not a known agent description"),
        (b'{"hello": "world"}', 1, "not a known agent description"),
        (b"[1, 2]", None, "not a known agent description"),
        (b"[" * 5000 + b"]" * 5000, None, "nesting"),
        (b"a: &a [x]\n" + b"".join(b"b%d: [*a, *a, *a]\n" % i for i in range(60)), None, "alias"),
    ],
)
def test_malformed_and_hostile_input(data: bytes, line: int | None, words: str) -> None:
    with pytest.raises(DesignFileError, match=words) as info:
        detect.read_descriptions(data, source="in.json")
    assert info.value.path == "in.json"
    if line is not None:
        assert info.value.line == line


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"[1, 2]", "found: a number"),  # was "found: YamlInt", the reader's internal type
        (b"42", "found: a number"),
        (b'"text"', "found: a string"),
        (b"[true]", "found: true/false"),
        (b"[null]", "found: empty (null)"),
        (b"{}", "found: an empty object"),  # was "found: " and nothing after it
        (b'{"hello": "world"}', "found: keys hello"),
    ],
)
def test_an_unknown_document_is_described_in_words(data: bytes, found: str) -> None:
    """The message says what the document is, never a Python class name or nothing at all."""
    with pytest.raises(DesignFileError) as info:
        detect.read_descriptions(data, source="in.json")
    assert f"({found});" in str(info.value)


def test_deep_parsed_structures_and_huge_input_are_refused(tmp_path: Path) -> None:
    deep: list[object] = []
    node = deep
    for _ in range(d.MAX_DEPTH + 5):
        node.append([])
        node = node[0]  # type: ignore[assignment]
    with pytest.raises(DesignFileError, match="nesting"):
        detect.read_descriptions(deep, source="body")
    with pytest.raises(DesignFileError, match="limit for a description"):
        detect.read_descriptions(b" " * (d.MAX_DESCRIPTION_BYTES + 1), source="big.json")
    big = tmp_path / "big.json"
    with big.open("wb") as handle:  # sparse: the size check comes before reading
        handle.truncate(d.MAX_DESCRIPTION_BYTES + 1)
    with pytest.raises(DesignFileError, match="limit for a description"):
        detect.read_description_file(big)
    with pytest.raises(DesignFileError, match="cannot read"):
        detect.read_description_file(tmp_path / "missing.json")


def test_numbers_keep_their_text() -> None:
    text = (
        '{"@context": "https://www.w3.org/2022/wot/td/v1.1", "title": "a",\n'
        ' "lmos:capabilities": [{"name": "x", "version": 1.10}]}'
    )
    [agent] = detect.read_descriptions(text, source="n.json")
    assert agent.capabilities[0].version == "1.10"
    [agent] = detect.read_descriptions(text.replace("https", "https").encode(), source="n.json")
    assert agent.capabilities[0].version == "1.10"


def test_yaml_description() -> None:
    card = json.loads((DESCRIPTIONS / "a2a-card-v0.3.json").read_text())
    [agent] = detect.read_descriptions(yamlio.dump(card), source="card.yaml")
    assert agent.name == "device-orders" and agent.original == card


# --- CLI ----------------------------------------------------------------------------------------------


def test_cli_import_prints_agent_resources() -> None:
    result = run_cli(
        "import", str(DESCRIPTIONS / "lmos-td-billing-agent.json"), str(DESCRIPTIONS / "a2a-card-v0.3.json")
    )
    assert result.returncode == 0, result.stderr
    docs = yamlio.load_documents(result.stdout)
    assert [(doc["kind"], doc["metadata"]["name"], doc["metadata"]["namespace"]) for doc in docs] == [
        ("Agent", "billing-agent", "default"),
        ("Agent", "device-orders", "default"),
    ]
    assert docs[1]["metadata"]["annotations"][d.DEFAULTED_VERSIONS_ANNOTATION] == "order-device,track-order"
    assert "warning:" in result.stderr and "'order-device' has no version" in result.stderr


def test_cli_import_json_and_namespace() -> None:
    result = run_cli(
        "import", str(EXAMPLES / "agentRoutingSpecs-core-test.json"), "--output", "json", "--namespace", "router"
    )
    assert result.returncode == 0, result.stderr
    docs = json.loads(result.stdout)
    assert [(x["metadata"]["name"], x["metadata"]["namespace"]) for x in docs] == [
        ("agent1", "router"),
        ("agent2", "router"),
    ]
    assert docs[0]["spec"]["providedCapabilities"][1] == {
        "name": "capability2",
        "version": "1.0.0",
        "description": "capability2 description",
    }


def test_cli_import_rejects_the_invalid_spec_with_exit_2() -> None:
    path = EXAMPLES / "invalid-agentRoutingSpecs-core-test.json"
    result = run_cli("import", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"error: {path}:2: [0].capabilities:" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_import_bad_input_exit_codes(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x",\n "skills": [}')
    result = run_cli("import", str(bad))
    assert result.returncode == 2 and f"{bad}:2:" in result.stderr and "malformed JSON" in result.stderr
    assert run_cli("import", str(tmp_path / "nope.json")).returncode == 2
    wrong = run_cli("import", str(DESCRIPTIONS / "a2a-card-v1.json"), "--format", "capabilities")
    assert wrong.returncode == 2 and "supportedTenants" in wrong.stderr


def test_cli_convert() -> None:
    result = run_cli("convert", str(DESCRIPTIONS / "capabilities-document.json"), "--to", "td")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["@type"] == "lmos:Agent" and doc["lmos:supportedChannels"] == ["web", "app"]
    specs = run_cli("convert", str(EXAMPLES / "sample-agent-capabilities.json"), "--to", "routing-spec")
    assert specs.returncode == 0, specs.stderr
    assert [s["name"] for s in json.loads(specs.stdout)] == [
        "billing-agent",
        "sales-agent",
        "ordering-agent",
        "faq-agent",
    ]
    assert "not strict SemVer" in specs.stderr
    bad = run_cli("convert", str(DESCRIPTIONS / "a2a-card-v1.json"), "--to", "openapi")
    assert bad.returncode == 2 and "not a format" in bad.stderr


def test_a_signed_card_loses_its_signatures_only_when_it_changes(tmp_path: Path) -> None:
    """A card's `signatures` were copied into cards converted or edited from it, where they no longer match the
    content (an invalid card). Written back unchanged they are kept; changed, dropped with a warning."""
    card = json.loads((DESCRIPTIONS / "a2a-card-v0.3.json").read_text())
    card["signatures"] = [{"protected": "e30", "signature": "x"}]
    signed = tmp_path / "signed.json"
    signed.write_text(json.dumps(card))
    same = run_cli("convert", str(signed), "--to", "a2a")
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout) == card and "signatures dropped" not in same.stderr
    converted = run_cli("convert", str(signed), "--to", "a2a-1.0")
    assert converted.returncode == 0, converted.stderr
    assert "signatures" not in json.loads(converted.stdout)
    assert "signatures dropped: the card changed; sign it again" in converted.stderr
    agent = detect.read_description_file(signed)[0]
    edited = detect.write_description(agent.model_copy(update={"description": "edited"}), "a2a")
    assert isinstance(edited, dict) and "signatures" not in edited


# --- fuzz: any JSON, and reference documents with one value replaced, read or fail cleanly ------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
_REFERENCE_DOCS = [json.loads(p.read_text()) for p in sorted(DESCRIPTIONS.glob("*.json"))] + [
    json.loads((EXAMPLES / "agentRoutingSpecs-core-test.json").read_text()),
    json.loads((EXAMPLES / "sample-agent-capabilities.json").read_text()),
]


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


def _replaced(doc: object, path: tuple[object, ...], value: object) -> object:
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return copy


def _reads_or_fails_cleanly(data: object) -> None:
    for text in (json.dumps(data), yamlio.dump(data)):
        try:
            agents = detect.read_descriptions(text, source="fuzz")
        except DesignFileError as exc:
            assert str(exc).startswith("fuzz")
            continue
        for agent in agents:  # what was read can be written in every format
            for fmt in detect.FORMATS:
                detect.write_description(agent, fmt)


@given(_json)
@settings(database=None, max_examples=200, deadline=None)
def test_any_json_reads_or_fails_cleanly(data: object) -> None:
    _reads_or_fails_cleanly(data)


@given(
    st.sampled_from(_REFERENCE_DOCS).flatmap(lambda doc: st.tuples(st.just(doc), st.sampled_from(_paths(doc)), _json))
)
@settings(database=None, max_examples=300, deadline=None)
def test_mutated_reference_documents_read_or_fail_cleanly(case: tuple[object, tuple[object, ...], object]) -> None:
    doc, path, value = case
    _reads_or_fails_cleanly(_replaced(doc, path, value))


def test_imported_agents_survive_the_design_file() -> None:
    from lmos_studio.formats.design_file import design_from_text, design_to_yaml
    from lmos_studio.model import Agent, Design

    agents: dict[str, Agent] = {}
    for path in [
        *sorted(DESCRIPTIONS.glob("*.json")),
        EXAMPLES / "agentRoutingSpecs-core-test.json",
        EXAMPLES / "sample-agent-capabilities.json",
    ]:
        for agent in detect.read_description_file(path):
            agents.setdefault(agent.key, agent)  # two files describe a billing-agent
    design = Design(agents=tuple(agents.values()))
    back = design_from_text(design_to_yaml(design), path="design.yaml").design
    assert {a.key: a for a in back.agents} == agents


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("a2a-card-v1.json", ("version",)),
        ("a2a-card-v0.3.json", ("version",)),
        ("lmos-td-billing-agent.json", ("version", "instance")),
    ],
)
def test_a_version_no_label_can_hold_is_written_to_every_format(name: str, where: tuple[str, ...]) -> None:
    """A description's version with build metadata (`2.1.0+build.7`: `+` is not allowed in a label value, so the
    agent has no version label) became 0.0.0 in every card, TD and routing spec written anew from it (the other
    card version, another format, an edited agent). The version the description states is written now."""
    doc = json.loads((DESCRIPTIONS / name).read_text())
    node = doc
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = "2.1.0+build.7"
    agent = detect.read_descriptions(doc, source=name)[0]
    assert "version" not in agent.labels
    edited = agent.model_copy(update={"description": "edited"})
    for written in (agent, edited):
        for fmt in ("a2a-1.0", "a2a-0.3", "routing-spec"):
            out = detect.write_description(written, fmt)
            assert (out[0] if isinstance(out, list) else out)["version"] == "2.1.0+build.7", fmt
        thing = detect.write_description(written, "td")
        assert isinstance(thing, dict) and thing["version"] == {"instance": "2.1.0+build.7"}


def test_a_card_s_name_and_a_td_s_title_are_kept_across_formats() -> None:
    """A card's `name` "Device Orders" became the TD title "device-orders" (the agent name derived from it), and a
    TD's title "Billing Agent ✓" the card name "billing-agent"; each now keeps the human name it was given,
    while the agent keeps its name. A renamed agent is written with its new name."""
    card = json.loads((DESCRIPTIONS / "a2a-card-v0.3.json").read_text())
    agent = detect.read_descriptions(card, source="card.json")[0]
    thing = detect.write_description(agent, "td")
    assert isinstance(thing, dict) and thing["title"] == "Device Orders"
    assert detect.read_descriptions(thing, source="td.json")[0].name == agent.name == "device-orders"
    td_doc = json.loads((DESCRIPTIONS / "lmos-td-billing-agent.json").read_text()) | {"title": "Billing Agent ✓"}
    from_td = detect.read_descriptions(td_doc, source="td.json")[0]
    for fmt in ("a2a-1.0", "a2a-0.3"):
        written = detect.write_description(from_td, fmt)
        assert isinstance(written, dict) and written["name"] == "Billing Agent ✓"
        assert detect.read_descriptions(written, source="card.json")[0].name == from_td.name == "billing-agent"
    renamed = detect.write_description(from_td.model_copy(update={"name": "invoices"}), "a2a-1.0")
    assert isinstance(renamed, dict) and renamed["name"] == "invoices"


def test_an_agent_resource_s_unknown_keys_survive_a_td_and_a_card() -> None:
    """An Agent resource's unknown keys under metadata and spec and at the top (a field of a newer operator, a
    status) were lost converted to a TD or a card and back: neither wrote them. They ride in the TD's
    lmos:kubernetes and the card's Studio extension now, and are read back."""
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "odd-agent", "labels": {"version": "1.0.0"}, "finalizers": ["lmos/ünï"]},
        "spec": {
            "id": "odd",
            "description": "d",
            "supportedTenants": ["acme"],
            "supportedChannels": ["web"],
            "providedCapabilities": [{"name": "c", "version": "1.0.0", "description": "c", "x-cap": 1}],
            "priority": {"weight": 3},
        },
        "status": {"phase": "Ready"},
    }
    agent = detect.read_descriptions(resource, source="agent.yaml")[0]
    assert (agent.metadata_extras, agent.spec_extras, agent.extras) == (
        {"finalizers": ["lmos/ünï"]},
        {"priority": {"weight": 3}},
        {"status": {"phase": "Ready"}},
    )
    for fmt in ("td", "a2a-1.0", "a2a-0.3"):
        written = json.loads(json.dumps(detect.write_description(agent, fmt)))
        back = detect.read_descriptions(written, source=f"{fmt}.json")[0]
        assert (back.metadata_extras, back.spec_extras, back.extras) == (
            agent.metadata_extras,
            agent.spec_extras,
            agent.extras,
        ), fmt
        assert back.capabilities == agent.capabilities, fmt
