"""lmos-router inputs and the operator's capabilities document: real files import with their values,
the invalid spec is rejected naming file and field, strictness as in router-core, round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REFERENCE, ROUTER_BENCHMARK

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import capabilities_doc, detect, routing_spec
from lmos_studio.formats import description as d
from lmos_studio.model import Capability, Endpoint

EXAMPLES = REFERENCE / "lmos-router-examples"
SPEC = {
    "name": "order-agent",
    "description": "Orders.",
    "version": "1.0.0",
    "capabilities": [{"name": "cancel_order", "description": "Cancels.", "version": "1.0.0"}],
    "addresses": [{"uri": "localhost:8080"}],
}


def test_capabilities_document_imports_and_round_trips() -> None:
    path = REFERENCE / "descriptions" / "capabilities-document.json"
    [agent] = detect.read_description_file(path)
    assert (agent.name, agent.id) == ("roaming-agent", "roaming-agent")
    assert agent.supported_tenants == ("northwind",) and agent.supported_channels == ("web", "app")
    assert agent.capabilities[0] == Capability(
        id="roaming-activate-id",
        name="roaming-activate",
        version="2.0.1",
        description="Turns roaming on or off for a line.",
        examples=("switch on roaming for my trip", "disable data roaming"),
    )
    original = json.loads(path.read_text())
    assert capabilities_doc.agent_to_document(agent) == original
    edited = agent.model_copy(update={"supported_channels": ("web",)})
    out = capabilities_doc.agent_to_document(edited)
    assert out["supportedChannels"] == ["web"] and out["capabilities"] == original["capabilities"]


@pytest.mark.parametrize("missing", capabilities_doc.REQUIRED_KEYS)
def test_capabilities_document_needs_every_field(missing: str) -> None:
    doc = json.loads((REFERENCE / "descriptions" / "capabilities-document.json").read_text())
    del doc[missing]
    with pytest.raises(DesignFileError) as info:
        capabilities_doc.document_to_agent(doc, source="caps.json")
    assert info.value.field == missing


def test_capability_of_document_needs_examples() -> None:
    doc = json.loads((REFERENCE / "descriptions" / "capabilities-document.json").read_text())
    del doc["capabilities"][1]["examples"]
    with pytest.raises(DesignFileError, match=r"capabilities\[1\]\.examples"):
        capabilities_doc.document_to_agent(doc)


def test_routing_specs_import() -> None:
    agents = detect.read_description_file(EXAMPLES / "agentRoutingSpecs-core-test.json")
    assert [(a.name, a.id, a.labels["version"]) for a in agents] == [
        ("agent1", "agent1", "1.0.0"),
        ("agent2", "agent2", "1.0.1"),
    ]
    assert [c.name for c in agents[0].capabilities] == ["capability1", "capability2"]
    assert agents[0].endpoints == (Endpoint(protocol="http", uri="http://localhost:8080"),)
    assert all(a.original_format == "routing-spec" for a in agents)
    original = json.loads((EXAMPLES / "agentRoutingSpecs-core-test.json").read_text())
    assert routing_spec.agents_to_specs(agents) == original


def test_benchmark_routing_specs_import() -> None:
    agents = detect.read_description_file(ROUTER_BENCHMARK / "agentRoutingSpecs.json")
    assert len(agents) == 11
    assert sum(len(a.capabilities) for a in agents) == 27
    assert {c.version for a in agents for c in a.capabilities} == {"1.0.0"}


def test_invalid_routing_spec_file_is_rejected_naming_file_and_field() -> None:
    path = EXAMPLES / "invalid-agentRoutingSpecs-core-test.json"
    with pytest.raises(DesignFileError) as info:
        detect.read_description_file(path)
    message = str(info.value)
    assert info.value.path == str(path) and info.value.field == "[0].capabilities"
    assert message.startswith(f"{path}:2: [0].capabilities: ")
    assert "agent1" in message and "capabilities" in message


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"extra": 1}, "extra", "unknown key"),
        ({"name": "  "}, "name", "blank"),
        ({"version": ""}, "version", "blank"),
        ({"name": 7}, "name", "must be text, not a number"),  # router-core reads a quoted string only
        ({"version": 1.0}, "version", "must be text, not a number"),
        ({"addresses": []}, "addresses", "at least one address"),
        ({"addresses": [{"uri": "x", "port": 1}]}, "addresses[0].port", "unknown key"),
        ({"capabilities": [{"name": "x", "version": "1.0.0"}]}, "capabilities[0].description", "missing"),
        (
            {"capabilities": [{"name": "x", "version": "1.0.0", "description": "", "examples": []}]},
            "capabilities[0].examples",
            "unknown key",
        ),
    ],
)
def test_routing_spec_is_strict(change: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(DesignFileError, match=words) as info:
        routing_spec.spec_to_agent({**SPEC, **change}, source="specs.json")
    assert info.value.field == field


def test_routing_spec_address_protocol_defaults_to_http_and_round_trips() -> None:
    agent = routing_spec.spec_to_agent(SPEC)
    assert agent.endpoints == (Endpoint(protocol="http", uri="localhost:8080"),)
    assert routing_spec.agent_to_spec(agent) == SPEC  # the original, without the defaulted protocol
    edited = agent.model_copy(update={"description": "Orders and returns."})
    assert routing_spec.agent_to_spec(edited)["addresses"] == [{"protocol": "http", "uri": "localhost:8080"}]
    bare = agent.model_copy(update={"endpoints": (), "original": {}, "original_format": ""})
    assert routing_spec.agent_to_spec(bare)["addresses"] == [
        {"protocol": "http", "uri": "http://order-agent.default.svc.cluster.local:8080"}
    ]


def test_seed_rows() -> None:
    rows = routing_spec.read_seed(json.loads((EXAMPLES / "seed.json").read_text()))
    assert len(rows) == 7
    assert rows[0] == routing_spec.SeedRow(text="I want to buy a car", agent_name="offer-agent")
    with pytest.raises(DesignFileError, match="seed file") as err:
        detect.read_description_file(EXAMPLES / "seed.json")
    # what to do with it, in the CLI's and the pages' words (it said "read it with routing_spec.read_seed")
    assert "eval DESIGN QUERIES --seed FILE" in str(err.value) and "read_seed" not in str(err.value)
    with pytest.raises(DesignFileError) as info:
        routing_spec.read_seed([{"text": "x"}], source="seed.json")
    assert info.value.field == "[0].agentName"


def test_classifier_document_imports() -> None:
    path = EXAMPLES / "sample-agent-capabilities.json"
    agents = detect.read_description_file(path)
    assert [a.name for a in agents] == ["billing-agent", "sales-agent", "ordering-agent", "faq-agent"]
    billing = agents[0]
    assert billing.id == "urn:my-company:agent:billing"
    assert billing.endpoints == (Endpoint(protocol="https", uri="https://api.my-company.com/billing"),)
    assert (billing.supported_tenants, billing.supported_channels, billing.subset) == (("de",), ("web",), "stable")
    assert billing.capabilities[0].name == "View Bills" and billing.capabilities[0].version == "1.0"
    assert len(billing.capabilities[0].examples) == 10
    assert any("'1.0' is not strict SemVer" in w for w in d.warnings_of(billing))  # kept as written, reported
    assert routing_spec.agents_to_classifier(agents) == json.loads(path.read_text())


def test_classifier_capability_without_version_is_defaulted() -> None:
    doc = {"id": "x", "capabilityGroups": [{"id": "g", "name": "g-agent", "capabilities": [{"name": "c"}]}]}
    [agent] = routing_spec.classifier_to_agents(doc)
    assert agent.capabilities[0].version == d.FALLBACK_VERSION
    assert agent.annotations[d.DEFAULTED_VERSIONS_ANNOTATION] == "c"


def test_a_huge_name_is_cut_in_messages() -> None:
    """Bug (session 17 fuzzing): a 3 000-character spec name was printed whole in the error naming it."""
    spec = [{"name": "x" * 3000, "description": "d", "version": "1.0.0", "addresses": []}]
    with pytest.raises(DesignFileError) as err:
        routing_spec.specs_to_agents(spec, source="s.json")
    assert "`capabilities` is missing" in str(err.value) and len(str(err.value)) < 400
    assert "x" * 50 + "…" in str(err.value)


@pytest.mark.parametrize(
    ("address", "protocol"),
    [("localhost:8080", "http"), ("10.0.0.7:9000/agent", "http"), ("wss://a.example/ws", "wss"), ("a.example", "http")],
)
def test_a_classifier_host_port_address_is_not_a_scheme(address: str, protocol: str) -> None:
    """Bug (session 21): specs → classifier → routing-spec gave `{"protocol": "localhost", "uri": "localhost:8080"}`:
    the host of a bare `host:port` was taken for the URI scheme. It is `http` (router-core's default) now."""
    doc = {"id": "x", "capabilityGroups": [{"id": "g", "name": "g-agent", "address": address, "capabilities": []}]}
    [agent] = routing_spec.classifier_to_agents(doc)
    assert agent.endpoints == (Endpoint(protocol=protocol, uri=address),)
    specs = json.loads((ROUTER_BENCHMARK / "agentRoutingSpecs.json").read_text())
    agents = routing_spec.specs_to_agents(specs)
    back = routing_spec.classifier_to_agents(json.loads(json.dumps(routing_spec.agents_to_classifier(agents))))
    assert [a.endpoints for a in back] == [a.endpoints for a in agents]


def test_a_td_agent_is_addressed_through_its_chat_action() -> None:
    """Bug (session 21): a TD with forms on `properties.status` before `actions.chat` gave the classifier the
    property's address and listed it first in the routing spec; the chat action is the agent's address."""
    from lmos_studio.formats import td

    thing = {
        "@context": [td.TD_CONTEXT, {"lmos": td.LMOS_NAMESPACE}],
        "@type": td.AGENT_TYPE,
        "id": "urn:x:probe",
        "title": "probe-agent",
        "base": "https://p.example/api/",
        "lmos:capabilities": [{"name": "probe", "version": "1.0.0"}],
        "properties": {"status": {"type": "string", "forms": [{"href": "status"}]}},
        "actions": {"reset": {"forms": [{"href": "reset"}]}, "chat": {"forms": [{"href": "chat"}]}},
    }
    agent = td.td_to_agent(thing)
    [group] = routing_spec.agents_to_classifier([agent])["capabilityGroups"]
    assert group["address"] == "https://p.example/api/chat"
    assert [a["uri"] for a in routing_spec.agent_to_spec(agent)["addresses"]] == [
        "https://p.example/api/chat",
        "https://p.example/api/reset",
        "https://p.example/api/status",
    ]
