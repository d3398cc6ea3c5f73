"""LMOS WoT Thing Descriptions: the reference TDs import with their real values, write back verbatim,
keep unknown fields through edits, and Agent → TD → Agent is the identity (Hypothesis)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import REFERENCE
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import a2a, detect, td
from lmos_studio.formats import description as d
from lmos_studio.model import Agent, Capability, Endpoint, SecurityScheme

DESCRIPTIONS = REFERENCE / "descriptions"
PROPERTY = settings(database=None, max_examples=100, deadline=None)  # no .hypothesis folder in the tree
RFC1123_LABEL = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((DESCRIPTIONS / name).read_text()))


def test_billing_agent_td_imports_with_every_modelled_field() -> None:
    [agent] = detect.read_description_file(DESCRIPTIONS / "lmos-td-billing-agent.json")
    assert agent.name == "billing-agent"
    assert agent.namespace == "default"
    assert agent.id == "urn:uuid:2b7c9e51-4a0d-4c39-9d0f-8e1f6a2c7b10"
    assert agent.description.startswith("Answers questions about bills")
    assert agent.labels == {"version": "1.3.0"}
    assert [(c.id, c.name, c.version) for c in agent.capabilities] == [
        ("urn:northwind:capability:billing:view-bill", "view-bill", "1.3.0"),
        ("urn:northwind:capability:billing:payment-plan", "payment-plan", "1.0.0"),
    ]
    assert agent.capabilities[1].examples == ("can I pay my bill in parts", "I need more time to pay")
    assert agent.endpoints == (
        Endpoint(
            protocol="https",
            uri="https://billing.northwind.example/actions/chat",
            extras={"op": "invokeaction", "contentType": "application/json", "htv:methodName": "POST"},
        ),
        Endpoint(
            protocol="wss",
            uri="wss://billing.northwind.example/ws",
            subprotocol="lmosprotocol",
            extras={"op": "invokeaction"},
        ),
        Endpoint(
            protocol="wss",
            uri="wss://billing.northwind.example/ws",
            subprotocol="lmosprotocol",
            extras={"affordance": "events/agentEvent", "op": "subscribeevent"},
        ),
    )
    assert agent.protocols == ("https", "wss")
    assert agent.security == (
        SecurityScheme(name="bearer_sc", scheme="bearer", extras={"in": "header", "format": "jwt"}),
    )
    assert agent.original_format == "td"
    assert agent.original == load("lmos-td-billing-agent.json")
    assert agent.source.endswith("lmos-td-billing-agent.json")
    assert [w.split(": ", 1)[1].split(",")[0] for w in d.warnings_of(agent)] == [
        "agent billing-agent: no supported channels",  # the TD names no lmos:supportedChannels
        "agent billing-agent: no supported tenants",
    ]
    assert (
        d.warnings_of(agent.model_copy(update={"supported_channels": ("web",), "supported_tenants": ("acme",)})) == []
    )


def test_minimal_agent_and_tool() -> None:
    minimal = td.td_to_agent(load("lmos-td-minimal-agent.json"), source="m.json")
    assert (minimal.name, minimal.capabilities, minimal.endpoints, minimal.security) == (
        "store-locator-agent",
        (),
        (),
        (),
    )
    assert minimal.id == "urn:uuid:0c1d2e3f-1111-4222-8333-944455556666"
    tool = td.td_to_agent(load("lmos-td-tool.json"))
    assert tool.name == "tariff-catalogue"
    assert tool.annotations == {td.THING_TYPE_ANNOTATION: td.TOOL_TYPE}
    assert tool.endpoints == (
        Endpoint(
            protocol="http",
            uri="http://tariffs.northwind.example/find",
            extras={"affordance": "actions/findTariffs", "op": "invokeaction", "contentType": "application/json"},
        ),
    )
    assert tool.security == ()  # nosec is "no security"


@pytest.mark.parametrize("name", ["lmos-td-billing-agent.json", "lmos-td-minimal-agent.json", "lmos-td-tool.json"])
def test_unchanged_agent_writes_the_original_td_back(name: str) -> None:
    original = load(name)
    assert td.agent_to_td(td.td_to_agent(original)) == original


def test_edits_rewrite_only_what_changed_and_keep_unknown_fields() -> None:
    original = load("lmos-td-billing-agent.json")
    agent = td.td_to_agent(original)
    extra = Capability(name="refund", version="2.0.0", description="Refunds a payment.")
    edited = agent.model_copy(
        update={
            "capabilities": (*agent.capabilities, extra),
            "supported_channels": ("web",),
            "description": "New text.",
        }
    )
    out = td.agent_to_td(edited)
    assert out["lmos:metadata"] == original["lmos:metadata"]
    assert out["actions"] == original["actions"] and out["events"] == original["events"]
    assert out["links"] == original["links"]
    assert out["lmos:capabilities"][2] == {"name": "refund", "version": "2.0.0", "description": "Refunds a payment."}
    assert out["lmos:supportedChannels"] == ["web"]
    again = td.td_to_agent(out)
    assert (again.capabilities, again.supported_channels, again.description) == (
        edited.capabilities,
        ("web",),
        "New text.",
    )


def test_endpoint_and_security_edits_keep_affordance_schemas() -> None:
    original = load("lmos-td-billing-agent.json")
    agent = td.td_to_agent(original)
    edited = agent.model_copy(
        update={
            "endpoints": (agent.endpoints[0], Endpoint(protocol="mqtt", uri="mqtt://broker.example/billing")),
            "security": (SecurityScheme(name="basic_sc", scheme="basic"),),
        }
    )
    out = td.agent_to_td(edited)
    assert out["actions"]["chat"]["input"] == original["actions"]["chat"]["input"]
    assert [f["href"] for f in out["actions"]["chat"]["forms"]] == [
        "https://billing.northwind.example/actions/chat",
        "mqtt://broker.example/billing",
    ]
    assert "events" not in out  # its only form was removed: an affordance without forms is dropped
    assert out["security"] == ["basic_sc"] and "bearer_sc" not in out["securityDefinitions"]
    back = td.td_to_agent(out)
    assert (back.endpoints, back.security) == (edited.endpoints, edited.security)


def test_relative_hrefs_resolve_against_base() -> None:
    doc = {
        "@context": td.TD_CONTEXT,
        "title": "x",
        "base": "https://a.example/api/",
        "actions": {"chat": {"forms": [{"href": "chat"}]}},
    }
    assert td.td_to_agent(doc).endpoints[0].uri == "https://a.example/api/chat"


def test_missing_capability_version_is_defaulted_visibly() -> None:
    doc = {
        "@context": td.TD_CONTEXT,
        "@type": "lmos:Agent",
        "title": "Faq Bot",
        "version": {"instance": "2.3.4"},
        "lmos:capabilities": [{"name": "faq"}, {"name": "greet", "version": "1.0.0"}],
    }
    agent = td.td_to_agent(doc)
    assert agent.name == "faq-bot"
    assert agent.capability("faq").version == "2.3.4"  # type: ignore[union-attr]
    assert agent.annotations[d.DEFAULTED_VERSIONS_ANNOTATION] == "faq"
    assert any("'faq' has no version; defaulted to '2.3.4'" in w for w in d.warnings_of(agent))
    doc["version"] = {"instance": "2.3"}  # not strict SemVer: the fallback is 0.0.0
    assert td.td_to_agent(doc).capability("faq").version == "0.0.0"  # type: ignore[union-attr]
    assert td.agent_to_td(agent) == doc | {"version": {"instance": "2.3.4"}}  # written back without a guess


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"@context": td.TD_CONTEXT}, "title"),
        ({"@context": td.TD_CONTEXT, "title": "a", "lmos:capabilities": {"name": "x"}}, "lmos:capabilities"),
        (
            {"@context": td.TD_CONTEXT, "title": "a", "lmos:capabilities": [{"version": "1.0.0"}]},
            "lmos:capabilities[0].name",
        ),
        ({"@context": td.TD_CONTEXT, "title": "a", "security": "sc"}, "security"),
        (
            {"@context": td.TD_CONTEXT, "title": "a", "actions": {"chat": {"forms": [{"op": "x"}]}}},
            "actions.chat.forms[0].href",
        ),
        ({"@context": td.TD_CONTEXT, "title": "a", "lmos:supportedTenants": "acme"}, "lmos:supportedTenants"),
    ],
)
def test_bad_shapes_name_the_field(doc: dict[str, Any], field: str) -> None:
    with pytest.raises(DesignFileError) as info:
        td.td_to_agent(doc, source="bad.td.json")
    assert info.value.field == field
    assert str(info.value).startswith("bad.td.json")


def test_errors_from_text_carry_the_line() -> None:
    text = (
        '{\n  "@context": "https://www.w3.org/2022/wot/td/v1.1",\n  "title": "a",\n'
        '  "lmos:capabilities": [\n    {"version": "1.0.0"}\n  ]\n}\n'
    )
    with pytest.raises(DesignFileError) as info:
        detect.read_descriptions(text, source="t.json")
    assert (info.value.line, info.value.field) == (5, "lmos:capabilities[0].name")


@given(st.text(max_size=120))
@PROPERTY
def test_agent_names_are_valid_kubernetes_names(text: str) -> None:
    name = d.agent_name(text)
    assert RFC1123_LABEL.match(name), name
    assert name == d.agent_name(text)  # deterministic


def test_agent_name_examples() -> None:
    assert d.agent_name("Contract Assistant") == "contract-assistant"
    assert d.agent_name("Café Öl_Agent!") == "cafe-ol-agent"
    assert d.agent_name("urn:uuid:2b7c9e51-4a0d") == "agent-2b7c9e51-4a0d"
    assert d.agent_name("", "urn:northwind:agent:billing") == "billing"
    long = d.agent_name("x" * 100)
    assert len(long) == 63 and long != d.agent_name("x" * 101)


# --- Agent → TD → Agent is the identity on the modelled fields ----------------------------------------

_names = st.from_regex(r"[a-z]([-a-z0-9]{0,15}[a-z0-9])?", fullmatch=True)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
_versions = st.from_regex(r"v?[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]{1,3})?(-[a-z0-9.]{1,6})?", fullmatch=True)


def _extras(reserved: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in reserved), _json, max_size=2)


_capabilities = st.builds(
    Capability,
    name=st.text(min_size=1, max_size=20).filter(str.strip),
    version=_versions,
    id=st.text(max_size=20),
    description=st.text(max_size=40),
    examples=st.lists(st.text(max_size=20), max_size=3).map(tuple),
    extras=_extras(("id", "name", "version", "description", "examples")),
)
_affordances = st.sampled_from(["actions/chat", "actions/lookup", "events/agentEvent", "properties/status", "thing"])


@st.composite
def _endpoints(draw: st.DrawFn) -> Endpoint:
    scheme = draw(st.sampled_from(["http", "https", "ws", "wss", "mqtt"]))
    protocol = draw(st.sampled_from([scheme, "a2a", "grpc"]))
    affordance = draw(_affordances)
    extras = draw(_extras(("href", "subprotocol", "lmos:protocol", "lmos:transport", "affordance")))
    if affordance != "actions/chat":
        extras = {"affordance": affordance, **extras}
    return Endpoint(
        protocol=protocol,
        uri=f"{scheme}://{draw(_names)}.example/{draw(_names)}",
        subprotocol=draw(st.sampled_from(["", "lmosprotocol"])),
        transport=draw(st.sampled_from(["", "JSONRPC", "GRPC"])),
        extras=extras,
    )


_security = st.lists(
    st.builds(
        SecurityScheme,
        name=_names,
        scheme=st.sampled_from(["bearer", "basic", "apikey", "oauth2", "psk"]),
        extras=_extras(("scheme",)),
    ),
    max_size=3,
    unique_by=lambda s: s.name,
).map(tuple)
_agents = st.builds(
    Agent,
    name=_names,
    namespace=_names,
    labels=st.dictionaries(_names, st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,8}[a-z0-9])?", fullmatch=True), max_size=3),
    annotations=st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=2),
    id=st.one_of(st.text(max_size=20), st.just("urn:x:agent:1"), st.just("")),
    description=st.text(max_size=40),
    supported_tenants=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    supported_channels=st.lists(st.text(max_size=8), max_size=3).map(tuple),
    capabilities=st.lists(_capabilities, max_size=4).map(tuple),
    endpoints=st.lists(_endpoints(), max_size=4).map(tuple),
    security=_security,
)

MODELLED = (
    "name",
    "namespace",
    "labels",
    "annotations",
    "id",
    "description",
    "supported_tenants",
    "supported_channels",
    "capabilities",
    "security",
)


def _same(agent: Agent, back: Agent) -> None:
    for field in MODELLED:
        assert getattr(back, field) == getattr(agent, field), field
    # forms are grouped per affordance, so the order of endpoints is the TD's, not the input's
    assert sorted(back.endpoints, key=repr) == sorted(agent.endpoints, key=repr)


@given(_agents)
@PROPERTY
def test_agent_to_td_to_agent_is_identity(agent: Agent) -> None:
    _same(agent, td.td_to_agent(td.agent_to_td(agent)))


@given(_agents)
@PROPERTY
def test_identity_holds_through_json_text_and_detection(agent: Agent) -> None:
    text = json.dumps(td.agent_to_td(agent))
    [back] = detect.read_descriptions(text, source="generated.json")
    _same(agent, back)
    assert td.agent_to_td(back) == json.loads(text)  # and the TD it came from is written back as read


def test_hostile_parsed_input_and_bad_names() -> None:
    deep: dict[str, Any] = {"@context": td.TD_CONTEXT, "title": "a"}
    node = deep
    for _ in range(2000):  # far beyond Python's recursion limit if anything recursed naively
        node["x"] = {}
        node = node["x"]
    with pytest.raises(DesignFileError, match="nesting"):
        td.td_to_agent(deep, source="body")
    doc = {"@context": td.TD_CONTEXT, "title": "a", "lmos:kubernetes": {"name": "Not A Name"}}
    with pytest.raises(DesignFileError) as info:
        td.td_to_agent(doc)
    assert info.value.field == "lmos:kubernetes.name"


def test_embedded_original_survives_a_td_store() -> None:
    from lmos_studio.formats import a2a

    card = json.loads((DESCRIPTIONS / "a2a-card-v1.json").read_text())
    agent = a2a.card_to_agent(card, source="card.json")
    stored = json.loads(json.dumps(td.agent_to_td(agent, embed_original=True)))
    assert stored["lmos:original"] == {"format": "a2a", "document": card}
    back = td.td_to_agent(stored, source="card.json")
    assert back == agent
    assert a2a.agent_to_card(back) == card
    assert "lmos:original" not in td.agent_to_td(agent)


@pytest.mark.parametrize("key", ["title", "id"])
@pytest.mark.parametrize("value", [7, 1.5, True])
def test_a_title_or_id_that_is_not_text_is_refused(key: str, value: object) -> None:
    """`"title": 7` used to become agent `agent-7` without a word; the TD schema says string, so it is a mistake:
    refused naming the field, saying how to write it."""
    doc = {"@context": td.TD_CONTEXT, "title": "a", "id": "urn:a", key: value}
    with pytest.raises(DesignFileError, match=r"must be text, not .*; put it in quotes") as info:
        td.td_to_agent(doc, source="t.json")
    assert info.value.field == key


def test_a_combo_of_alternatives_reads_and_writes_as_alternatives() -> None:
    """A TD `combo` was one scheme named `combo` (session 21): its `oneOf` members are alternatives (any one
    suffices), an `allOf` member all its schemes; an agent with alternatives writes a combo again."""
    thing = {
        "@context": [td.TD_CONTEXT, {"lmos": td.LMOS_NAMESPACE}],
        "@type": td.AGENT_TYPE,
        "id": "urn:x:sec",
        "title": "sec-agent",
        "securityDefinitions": {
            "bearer_sc": {"scheme": "bearer"},
            "basic_sc": {"scheme": "basic"},
            "key_sc": {"scheme": "apikey", "in": "header"},
            "both_sc": {"scheme": "combo", "allOf": ["basic_sc", "key_sc"]},
            "either_sc": {"scheme": "combo", "oneOf": ["bearer_sc", "both_sc"]},
        },
        "security": ["either_sc"],
        "actions": {"chat": {"forms": [{"href": "https://sec.example/chat"}]}},
    }
    agent = td.td_to_agent(thing)
    assert [(s.name, s.scheme, s.alternative) for s in agent.security] == [
        ("bearer_sc", "bearer", 0),
        ("basic_sc", "basic", 1),
        ("key_sc", "apikey", 1),
    ]
    assert td.agent_to_td(agent) == thing  # unchanged: the original
    built = td.agent_to_td(agent.model_copy(update={"original": {}, "original_format": ""}))
    assert built["securityDefinitions"][td.COMBO_NAME] == {"scheme": "combo", "oneOf": ["bearer_sc", "combo_sc_1"]}
    assert built["securityDefinitions"]["combo_sc_1"] == {"scheme": "combo", "allOf": ["basic_sc", "key_sc"]}
    assert td.td_to_agent(built).security == agent.security


def test_the_chat_form_s_own_security_and_scopes_are_the_agent_s() -> None:
    """A TD open at the Thing level (`security: nosec_sc`) whose `chat` form says `security: [oauth_sc]`,
    `scopes: [chat]` (TD 1.1: a form's security replaces the Thing's there) was read as needing nothing, so its
    card required no authentication. The form the agent is called through gives its security and, for OAuth2,
    the scopes it requires; a form elsewhere (a property's) does not."""
    thing = {
        "@context": [td.TD_CONTEXT, {"lmos": td.LMOS_NAMESPACE}],
        "@type": td.AGENT_TYPE,
        "id": "urn:x:form-sec",
        "title": "form-sec",
        "securityDefinitions": {
            "nosec_sc": {"scheme": "nosec"},
            "oauth_sc": {
                "scheme": "oauth2",
                "flow": "client",
                "token": "https://a.example/t",
                "scopes": ["chat", "admin"],
            },
            "basic_sc": {"scheme": "basic"},
        },
        "security": "nosec_sc",
        "properties": {"status": {"forms": [{"href": "https://x.example/status", "security": "basic_sc"}]}},
        "actions": {
            "chat": {"forms": [{"href": "https://x.example/chat", "security": ["oauth_sc"], "scopes": ["chat"]}]}
        },
    }
    agent = td.td_to_agent(thing)
    assert [(s.name, s.scheme, s.extras["scopes"]) for s in agent.security] == [("oauth_sc", "oauth2", ["chat"])]
    assert a2a.agent_to_card(agent, "0.3")["security"] == [{"oauth_sc": ["chat"]}]
    assert td.agent_to_td(agent) == thing
    missing = json.loads(json.dumps(thing))
    missing["actions"]["chat"]["forms"][0]["security"] = "gone_sc"
    with pytest.raises(DesignFileError, match="gone_sc") as info:
        td.td_to_agent(missing)
    assert info.value.field == "actions.chat.forms[0].security"
