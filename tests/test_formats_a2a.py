"""A2A Agent Cards v0.3 and v1.0: the reference cards import with their real values, write back verbatim,
convert between versions, and an agent from another format survives a trip through a card."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import REFERENCE
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import a2a, td
from lmos_studio.formats import description as d
from lmos_studio.model import Agent, Capability, Endpoint, SecurityScheme

DESCRIPTIONS = REFERENCE / "descriptions"


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((DESCRIPTIONS / name).read_text()))


def test_v1_card_imports() -> None:
    card = load("a2a-card-v1.json")
    assert a2a.card_version(card) == "1.0"
    agent = a2a.card_to_agent(card, source="v1.json")
    assert agent.name == "contract-assistant"
    assert agent.description == "Reads, renews and cancels customer contracts."
    assert agent.labels == {"version": "2.1.0"}
    assert agent.supported_tenants == ("northwind",)  # from the interface's tenant
    assert agent.capabilities[0] == Capability(
        id="view-contract",
        name="view-contract",
        version="2.1.0",
        description="Shows contract terms, end date and notice period.",
        examples=("when does my contract end", "what is my notice period"),
        extras={"title": "View contract", "tags": ["contract", "terms"]},
    )
    assert agent.annotations[d.DEFAULTED_VERSIONS_ANNOTATION] == "view-contract,cancel-contract"
    assert agent.endpoints == (
        Endpoint(
            protocol="a2a",
            uri="https://contract.northwind.example/a2a/v1",
            transport="JSONRPC",
            extras={"protocolVersion": "1.0", "tenant": "northwind"},
        ),
        Endpoint(
            protocol="a2a",
            uri="https://contract.northwind.example/a2a/rest",
            transport="HTTP+JSON",
            extras={"protocolVersion": "1.0"},
        ),
    )
    assert agent.security == (
        SecurityScheme(
            name="oauth",
            scheme="oauth2",
            extras={
                "flows": {
                    "clientCredentials": {
                        "tokenUrl": "https://auth.northwind.example/token",
                        "scopes": {"contracts:read": "read contracts"},
                    }
                },
                "scopes": ["contracts:read"],
            },
        ),
    )
    assert (agent.original_format, agent.original, agent.source) == ("a2a", card, "v1.json")


def test_v03_card_imports() -> None:
    card = load("a2a-card-v0.3.json")
    assert a2a.card_version(card) == "0.3"
    agent = a2a.card_to_agent(card)
    assert agent.name == "device-orders"
    assert [(c.name, c.version) for c in agent.capabilities] == [("order-device", "0.9.2"), ("track-order", "0.9.2")]
    assert agent.capabilities[1].extras == {"title": "Track order", "tags": ["order", "delivery"]}
    assert agent.endpoints == (
        Endpoint(protocol="a2a", uri="https://orders.northwind.example/a2a", transport="JSONRPC"),
        Endpoint(protocol="a2a", uri="https://orders.northwind.example/a2a/grpc", transport="GRPC"),
    )
    assert agent.security == (
        SecurityScheme(name="apikey", scheme="apikey", extras={"in": "header", "name": "X-API-Key"}),
    )
    assert len(d.warnings_of(agent)) == 4  # no channels, no tenants (a card cannot say), two defaulted versions


@pytest.mark.parametrize(("name", "version"), [("a2a-card-v1.json", "1.0"), ("a2a-card-v0.3.json", "0.3")])
def test_unchanged_card_is_written_back_verbatim(name: str, version: a2a.CardVersion) -> None:
    card = load(name)
    assert a2a.agent_to_card(a2a.card_to_agent(card), version) == card


@pytest.mark.parametrize(("name", "target"), [("a2a-card-v1.json", "0.3"), ("a2a-card-v0.3.json", "1.0")])
def test_cards_convert_between_versions(name: str, target: a2a.CardVersion) -> None:
    agent = a2a.card_to_agent(load(name))
    card = a2a.agent_to_card(agent, target)
    assert a2a.card_version(card) == target
    assert (
        card["provider" if "provider" in agent.original else "defaultInputModes"]
        == agent.original["provider" if "provider" in agent.original else "defaultInputModes"]
    )
    back = a2a.card_to_agent(card)
    for field in ("name", "labels", "annotations", "description", "supported_tenants", "capabilities", "security"):
        assert getattr(back, field) == getattr(agent, field), field
    assert [(e.uri, e.transport) for e in back.endpoints] == [(e.uri, e.transport) for e in agent.endpoints]


def test_edited_skill_keeps_card_fields() -> None:
    card = load("a2a-card-v1.json")
    agent = a2a.card_to_agent(card)
    caps = (agent.capabilities[0].model_copy(update={"version": "2.2.0"}), *agent.capabilities[1:])
    out = a2a.agent_to_card(agent.model_copy(update={"capabilities": caps}))
    assert out["skills"][0] == card["skills"][0]
    assert out["provider"] == card["provider"] and out["documentationUrl"] == card["documentationUrl"]
    assert out["securitySchemes"] == card["securitySchemes"]
    assert out["securityRequirements"] == card["securityRequirements"]
    assert a2a.card_to_agent(out).capabilities == caps


def test_td_agent_survives_a_card_trip() -> None:
    agent = td.td_to_agent(load("lmos-td-billing-agent.json"))
    for version in a2a.CARD_VERSIONS:
        back = a2a.card_to_agent(a2a.agent_to_card(agent, version))
        for field in (
            "name",
            "namespace",
            "labels",
            "annotations",
            "id",
            "description",
            "supported_tenants",
            "supported_channels",
            "capabilities",
            "endpoints",
        ):
            assert getattr(back, field) == getattr(agent, field), (version, field)
        assert [(s.name, s.scheme) for s in back.security] == [("bearer_sc", "bearer")]


@pytest.mark.parametrize(
    ("card", "field"),
    [
        ({"skills": [], "version": "1"}, "name"),
        ({"name": "a", "skills": [{"name": "x"}]}, "skills[0].id"),
        ({"name": "a", "skills": ["x"]}, "skills[0]"),
        (
            {"name": "a", "skills": [], "supportedInterfaces": [{"protocolBinding": "GRPC"}]},
            "supportedInterfaces[0].url",
        ),
        ({"name": "a", "skills": [], "securitySchemes": {}, "security": [{"k": []}]}, "security"),
    ],
)
def test_bad_cards_name_the_field(card: dict[str, Any], field: str) -> None:
    with pytest.raises(DesignFileError) as info:
        a2a.card_to_agent(card, source="card.json")
    assert info.value.field == field and info.value.path == "card.json"


# --- Agent → A2A card v1.0 → Agent is the identity on the modelled fields (Hypothesis) -----------------

_names = st.from_regex(r"[a-z]([-a-z0-9]{0,12}[a-z0-9])?", fullmatch=True)
_scalars = st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=8)


def _extras(reserved: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.text(min_size=1, max_size=8).filter(lambda k: k not in reserved), _scalars, max_size=2)


_capabilities = st.lists(
    st.builds(
        Capability,
        name=_names,
        version=st.from_regex(r"[0-9]\.[0-9]\.[0-9]", fullmatch=True),
        id=st.text(max_size=10),
        description=st.text(max_size=20),
        examples=st.lists(st.text(max_size=10), max_size=2).map(tuple),
        extras=_extras(("id", "name", "version", "description", "examples", "tags", "title")),
    ),
    max_size=4,
    unique_by=lambda c: c.name,
).map(tuple)
_a2a_endpoints = st.builds(
    Endpoint,
    protocol=st.just("a2a"),
    uri=_names.map(lambda n: f"https://{n}.example/a2a"),
    transport=st.sampled_from(["JSONRPC", "GRPC", "HTTP+JSON"]),
    extras=st.fixed_dictionaries({"protocolVersion": st.sampled_from(["1.0", "0.3"])}, optional={"tenant": _names}),
)
_other_endpoints = st.builds(
    Endpoint,
    protocol=st.sampled_from(["http", "wss", "mqtt"]),
    uri=_names.map(lambda n: f"https://{n}.example"),
    subprotocol=st.sampled_from(["", "lmosprotocol"]),
)
_schemes = st.lists(
    st.builds(
        SecurityScheme,
        name=_names,
        scheme=st.sampled_from(["bearer", "basic", "apikey", "oauth2", "openIdConnect", "mtls", "psk"]),
        extras=_extras(("scopes", "type", "scheme", "in", "location")),
    ),
    max_size=3,
    unique_by=lambda s: s.name,
).map(tuple)
_agents = st.builds(
    Agent,
    name=_names,
    namespace=_names,
    labels=st.dictionaries(_names, _names, max_size=2),
    annotations=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=2),
    id=st.text(max_size=12),
    description=st.text(max_size=20),
    supported_tenants=st.lists(_names, max_size=2).map(tuple),
    supported_channels=st.lists(_names, max_size=2).map(tuple),
    capabilities=_capabilities,
    endpoints=st.tuples(st.lists(_a2a_endpoints, max_size=3), st.lists(_other_endpoints, max_size=2)).map(
        lambda pair: (*pair[0], *pair[1])
    ),
    security=_schemes,
)


@given(_agents)
@settings(database=None, max_examples=100, deadline=None)
def test_agent_to_card_to_agent_is_identity(agent: Agent) -> None:
    card = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    back = a2a.card_to_agent(card)
    for field in (
        "name",
        "namespace",
        "labels",
        "annotations",
        "id",
        "description",
        "supported_tenants",
        "supported_channels",
        "capabilities",
        "endpoints",
        "security",
    ):
        assert getattr(back, field) == getattr(agent, field), field
    assert a2a.agent_to_card(back, "1.0") == card


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"annotations": ["x"]}, "capabilities.extensions[0].params.annotations"),
        ({"supportedChannels": "web"}, "capabilities.extensions[0].params.supportedChannels"),
        ({"name": "Not Valid"}, "capabilities.extensions[0].params.name"),
        ({"otherEndpoints": [{"uri": "x"}]}, "capabilities.extensions[0].params.otherEndpoints[0].protocol"),
        ({"capabilities": {"s": "x"}}, "capabilities.extensions[0].params.capabilities.s"),
    ],
)
def test_hostile_studio_extension_is_a_clear_error(params: dict[str, Any], field: str) -> None:
    card = {
        "name": "a",
        "skills": [{"id": "s", "name": "S"}],
        "capabilities": {"extensions": [{"uri": a2a.STUDIO_EXTENSION, "params": params}]},
    }
    with pytest.raises(DesignFileError) as info:
        a2a.card_to_agent(card, source="card.json")
    assert info.value.field == field


def test_v03_main_url_repeated_in_additional_interfaces_is_one_endpoint() -> None:
    card = load("a2a-card-v0.3.json")
    card["additionalInterfaces"].insert(0, {"url": card["url"], "transport": "JSONRPC"})
    agent = a2a.card_to_agent(card)
    assert [e.uri for e in agent.endpoints] == [
        "https://orders.northwind.example/a2a",
        "https://orders.northwind.example/a2a/grpc",
    ]
    assert a2a.agent_to_card(agent, "0.3") == card  # unchanged: the original, repetition included


@pytest.mark.parametrize("version", a2a.CARD_VERSIONS)
@pytest.mark.parametrize("name", ["lmos-td-billing-agent.json", "capabilities-document.json"])
def test_another_format_rides_in_the_card_and_comes_back_whole(name: str, version: a2a.CardVersion) -> None:
    """A card cannot say a TD's vendor, model, links or action schemas: the Studio extension carries the TD
    (or capabilities.json) whole, and reading the card gives the agent that description back."""
    from lmos_studio.formats import detect

    source = json.loads((DESCRIPTIONS / name).read_text(encoding="utf-8"))
    [agent] = detect.read_descriptions(json.dumps(source).encode(), source=name)
    card = json.loads(json.dumps(a2a.agent_to_card(agent, version)))
    back = a2a.card_to_agent(card, source="card.json")
    assert (back.original_format, back.original) == (agent.original_format, agent.original)
    target = "td" if name.startswith("lmos-td") else "capabilities"
    assert detect.write_description(back, target) == source


def test_the_first_interface_keeps_its_extras_in_a_v03_card() -> None:
    """A v1.0 interface's `tenant` (any key beside url and binding) survives v1.0 → v0.3 → v1.0."""
    source = json.loads((DESCRIPTIONS / "a2a-card-v1.json").read_text(encoding="utf-8"))
    agent = a2a.card_to_agent(source, source="v1.json")
    v03 = a2a.agent_to_card(agent, "0.3")
    assert v03["additionalInterfaces"][0]["url"] == v03["url"]  # repeated with its extras, as v0.3 advises
    back = a2a.card_to_agent(json.loads(json.dumps(v03)), source="v03.json")
    assert back.endpoints == agent.endpoints
    assert a2a.agent_to_card(back, "1.0")["supportedInterfaces"] == source["supportedInterfaces"]


def test_a_converted_card_comes_back_from_a_td() -> None:
    """card → TD → card: the TD carries the card (`lmos:original`), so the card comes back verbatim."""
    from lmos_studio.formats import detect

    source = json.loads((DESCRIPTIONS / "a2a-card-v1.json").read_text(encoding="utf-8"))
    agent = a2a.card_to_agent(source, source="v1.json")
    thing = json.loads(json.dumps(detect.write_description(agent, "td")))
    [back] = detect.read_descriptions(json.dumps(thing).encode(), source="td.json")
    assert detect.write_description(back, "a2a") == source


@pytest.mark.parametrize("value", [7, 2.0, False])
def test_a_card_name_that_is_not_text_is_refused(value: object) -> None:
    """`"name": 7` used to become agent `agent-7` without a word: refused, naming the field."""
    card = load("a2a-card-v1.json") | {"name": value}
    with pytest.raises(DesignFileError, match=r"must be text, not .*; put it in quotes") as info:
        a2a.card_to_agent(card, source="card.json")
    assert info.value.field == "name"


def test_a_v03_card_keeps_its_protocol_version_through_v1() -> None:
    """v0.3 → v1.0 stamped `protocolVersion: "1.0"` on every interface, and back in v0.3 the main url was
    repeated in additionalInterfaces with that "1.0": the interfaces keep the card's own version now."""
    source = load("a2a-card-v0.3.json")
    v1 = json.loads(json.dumps(a2a.agent_to_card(a2a.card_to_agent(source, source="v03.json"), "1.0")))
    assert [i["protocolVersion"] for i in v1["supportedInterfaces"]] == ["0.3.0", "0.3.0"]
    v03 = a2a.agent_to_card(a2a.card_to_agent(v1, source="v1.json"), "0.3")
    for key in ("protocolVersion", "url", "preferredTransport", "additionalInterfaces"):
        assert v03[key] == source[key], key


SEC_CARD = {
    "protocolVersion": "0.3.0",
    "name": "Sec Agent",
    "description": "d",
    "url": "https://s.example/a2a",
    "version": "1.0.0",
    "capabilities": {},
    "defaultInputModes": ["text/plain"],
    "defaultOutputModes": ["text/plain"],
    "securitySchemes": {
        "apikey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        "oauth": {
            "type": "oauth2",
            "flows": {"clientCredentials": {"tokenUrl": "https://auth.example/token", "scopes": {"read": "r"}}},
        },
    },
    "security": [{"apikey": []}, {"oauth": ["read"]}],
    "skills": [{"id": "s", "name": "S", "description": "d"}],
}


def test_security_alternatives_stay_alternatives() -> None:
    """Bug (session 21): `security: [{apikey}, {oauth}]` (either one) became one requirement needing both: v1.0
    `securityRequirements: [{schemes: {apikey, oauth}}]`, v0.3 `[{apikey, oauth}]`, TD `security: [apikey, oauth]`.
    Each entry is an alternative now, in every format (a TD says it with a `combo` scheme's `oneOf`)."""
    agent = a2a.card_to_agent(SEC_CARD, source="sec.json")
    assert [(s.name, s.alternative) for s in agent.security] == [("apikey", 0), ("oauth", 1)]
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securityRequirements"] == [
        {"schemes": {"apikey": {"list": []}}},
        {"schemes": {"oauth": {"list": ["read"]}}},
    ]
    from_v1 = a2a.card_to_agent(v1, source="v1.json")
    assert from_v1.security == agent.security
    assert a2a.agent_to_card(from_v1, "0.3")["security"] == SEC_CARD["security"]
    thing = json.loads(json.dumps(td.agent_to_td(agent)))
    assert thing["security"] == [td.COMBO_NAME]
    assert thing["securityDefinitions"][td.COMBO_NAME] == {"scheme": "combo", "oneOf": ["apikey", "oauth"]}
    assert td.td_to_agent(thing).security == agent.security


def test_an_empty_security_alternative_is_kept() -> None:
    """`security: [{apikey: []}, {}]` (an API key, or no authentication at all) lost its `{}`: every
    conversion then required the key. It is an alternative of one `nosec` scheme now, in either card
    version (v1.0 `{schemes: {}}`) and in a TD (a `combo` `oneOf` member `nosec`)."""
    card = SEC_CARD | {"security": [{"apikey": []}, {}]}
    agent = a2a.card_to_agent(card, source="open.json")
    assert [(s.scheme, s.alternative) for s in agent.security] == [("apikey", 0), ("nosec", 1)]
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securityRequirements"] == [{"schemes": {"apikey": {"list": []}}}, {"schemes": {}}]
    from_v1 = a2a.card_to_agent(v1, source="v1.json")
    assert from_v1.security == agent.security
    assert a2a.agent_to_card(from_v1, "0.3")["security"] == card["security"]
    built = agent.model_copy(update={"original": {}, "original_format": ""})
    thing = json.loads(json.dumps(td.agent_to_td(built)))
    assert thing["securityDefinitions"][td.COMBO_NAME] == {"scheme": "combo", "oneOf": ["apikey", td.NOSEC_NAME]}
    from_td = td.td_to_agent(thing)
    assert from_td.security == agent.security
    assert a2a.agent_to_card(from_td, "0.3")["security"] == card["security"]


def test_a_scheme_s_scopes_stay_per_alternative_in_a_td() -> None:
    """`security: [{oauth: [read]}, {oauth: [read, write], apikey: []}]` became, through a TD, `oauth: [read]` in
    both: the TD had one `oauth` definition, its `scopes` the first alternative's. A TD says scopes on a
    definition, so the second alternative gets its own (`oauth_1`, `lmos:scheme: oauth`), read back as `oauth`."""
    card = SEC_CARD | {"security": [{"oauth": ["read"]}, {"oauth": ["read", "write"], "apikey": []}]}
    agent = a2a.card_to_agent(card, source="scopes.json")
    thing = json.loads(json.dumps(td.agent_to_td(agent.model_copy(update={"original": {}, "original_format": ""}))))
    defs = thing["securityDefinitions"]
    assert (defs["oauth"]["scopes"], defs["oauth_1"]["scopes"]) == (["read"], ["read", "write"])
    assert defs[td.COMBO_NAME] == {"scheme": "combo", "oneOf": ["oauth", "combo_sc_1"]}
    assert defs["combo_sc_1"] == {"scheme": "combo", "allOf": ["oauth_1", "apikey"]}
    from_td = td.td_to_agent(thing)
    assert from_td.security == agent.security
    assert a2a.agent_to_card(from_td, "0.3")["security"] == card["security"]
    same = SEC_CARD | {"security": [{"oauth": ["read"]}, {"oauth": ["read"], "apikey": []}]}
    one = td.agent_to_td(a2a.card_to_agent(same).model_copy(update={"original": {}, "original_format": ""}))
    assert "oauth_1" not in one["securityDefinitions"]  # the same scopes: one definition


def test_a_td_scope_given_as_a_string_is_one_scope() -> None:
    """A TD's `scopes: "read"` (TD 1.1 allows a string) became `security: [{o: [r, e, a, d]}]` in a card."""
    thing = {
        "@context": td.TD_CONTEXT,
        "title": "one-scope",
        "id": "urn:x:one-scope",
        "securityDefinitions": {
            "o": {"scheme": "oauth2", "flow": "client", "token": "https://a.example/t", "scopes": "read"}
        },
        "security": "o",
        "actions": {"chat": {"forms": [{"href": "https://x.example/chat"}]}},
    }
    agent = td.td_to_agent(thing)
    assert a2a.agent_to_card(agent, "0.3")["security"] == [{"o": ["read"]}]
    assert a2a.agent_to_card(agent, "1.0")["securityRequirements"] == [{"schemes": {"o": {"list": ["read"]}}}]


def test_version_specific_card_fields_move_to_the_other_version_s_place() -> None:
    """v0.3 → v1.0 kept a skill's `security: [{apikey: []}]` and the top-level `supportsAuthenticatedExtendedCard`
    as they were, names a v1.0 reader does not know (its skill says `securityRequirements`, its card
    `capabilities.extendedAgentCard`), so the skill looked open and the extended card unserved; and back."""
    card = load("a2a-card-v0.3.json")
    card["supportsAuthenticatedExtendedCard"] = True
    card["skills"][0]["security"] = [{"apikey": []}, {}]
    v1 = json.loads(json.dumps(a2a.agent_to_card(a2a.card_to_agent(card, source="v03.json"), "1.0")))
    assert "supportsAuthenticatedExtendedCard" not in v1 and v1["capabilities"]["extendedAgentCard"] is True
    skill = v1["skills"][0]
    assert "security" not in skill
    assert skill["securityRequirements"] == [{"schemes": {"apikey": {"list": []}}}, {"schemes": {}}]
    v03 = a2a.agent_to_card(a2a.card_to_agent(v1, source="v1.json"), "0.3")
    assert v03["supportsAuthenticatedExtendedCard"] is True and "extendedAgentCard" not in v03["capabilities"]
    assert v03["skills"][0] == card["skills"][0]


def test_security_schemes_the_card_does_not_require_at_the_top_are_kept() -> None:
    """A scheme only a skill requires (or one `security: [{}]` leaves unused) was dropped from `securitySchemes`
    whenever the card was written anew (another version, an edited agent): the skill then named a scheme the
    card no longer defined."""
    card = load("a2a-card-v0.3.json")
    oauth = {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": "https://a.example/t", "scopes": {}}}}
    card["securitySchemes"]["oauth"] = oauth
    card["skills"][0]["security"] = [{"oauth": []}]
    agent = a2a.card_to_agent(card, source="v03.json")
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securitySchemes"]["oauth"] == {"oauth2SecurityScheme": {"flows": oauth["flows"]}}
    edited = a2a.agent_to_card(agent.model_copy(update={"description": "edited"}), "0.3")
    assert edited["securitySchemes"] == card["securitySchemes"]
    assert a2a.agent_to_card(a2a.card_to_agent(v1), "0.3")["securitySchemes"] == card["securitySchemes"]
    unused = card | {"security": [{}]}
    assert a2a.agent_to_card(a2a.card_to_agent(unused), "1.0")["securitySchemes"].keys() == {"apikey", "oauth"}


def test_another_http_authentication_scheme_stays_http() -> None:
    """An HTTP scheme other than bearer, basic or digest (`{type: http, scheme: Negotiate}`) became v1.0
    `negotiateSecurityScheme` and v0.3 `{type: negotiate}`, kinds neither version has. It stays an HTTP
    authentication scheme of that name in both."""
    negotiate = {"type": "http", "scheme": "Negotiate", "description": "Kerberos"}
    card = SEC_CARD | {"securitySchemes": {"neg": negotiate}, "security": [{"neg": []}]}
    agent = a2a.card_to_agent(card, source="neg.json")
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securitySchemes"] == {
        "neg": {"httpAuthSecurityScheme": {"scheme": "Negotiate", "description": "Kerberos"}}
    }
    from_v1 = a2a.card_to_agent(v1, source="v1.json")
    assert from_v1.security == agent.security
    assert a2a.agent_to_card(from_v1, "0.3")["securitySchemes"] == {"neg": negotiate}


def test_an_http_scheme_keeps_its_spelling() -> None:
    """`{type: http, scheme: Bearer}` (as A2A's own examples write it) became `bearer` in every card written
    anew. The name keeps its spelling; the model and a TD still know it as the bearer scheme."""
    bearer = {"type": "http", "scheme": "Bearer", "bearerFormat": "JWT"}
    card = SEC_CARD | {"securitySchemes": {"jwt": bearer}, "security": [{"jwt": []}]}
    agent = a2a.card_to_agent(card, source="jwt.json")
    assert agent.security[0].scheme == "bearer"
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securitySchemes"] == {"jwt": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}}}
    assert a2a.agent_to_card(a2a.card_to_agent(v1), "0.3")["securitySchemes"] == {"jwt": bearer}
    thing = td.agent_to_td(agent.model_copy(update={"original": {}, "original_format": ""}))
    assert thing["securityDefinitions"]["jwt"]["scheme"] == "bearer"


def test_a_card_s_version_edited_by_hand_wins_over_the_studio_extension() -> None:
    """A card Studio wrote (from a TD), its `version` then edited by hand from 1.3.0 to 1.4.0, read back as 1.3.0:
    the extension's labels won, and the TD written from it said 1.3.0 (the TD's version.instance never followed a
    changed version label either). The card's own version wins now, and the TD says it."""
    thing = load("lmos-td-billing-agent.json")
    card = json.loads(json.dumps(a2a.agent_to_card(td.td_to_agent(thing, source="td.json"), "1.0")))
    assert a2a.card_to_agent(card).labels["version"] == "1.3.0"  # unedited: as written
    card["version"] = "1.4.0"
    agent = a2a.card_to_agent(card, source="card.json")
    assert agent.labels["version"] == "1.4.0"
    written = td.agent_to_td(agent)
    assert written["version"] == {"instance": "1.4.0"}
    assert td.td_to_agent(written).labels["version"] == "1.4.0"
    assert a2a.agent_to_card(agent, "0.3")["version"] == "1.4.0"


def test_a_v03_card_s_repeated_main_interface_stays_repeated() -> None:
    """A v0.3 card listing its main url again in additionalInterfaces (as v0.3 advises) lost that entry whenever
    the card was written anew (an edited agent): it is one endpoint in the model."""
    card = load("a2a-card-v0.3.json")
    main = {"url": card["url"], "transport": "JSONRPC"}
    card["additionalInterfaces"] = [main, *card["additionalInterfaces"]]
    agent = a2a.card_to_agent(card, source="v03.json")
    edited = a2a.agent_to_card(agent.model_copy(update={"description": "edited"}), "0.3")
    assert edited["additionalInterfaces"] == card["additionalInterfaces"]
    assert edited["url"] == card["url"] and edited["preferredTransport"] == "JSONRPC"
    alone = card | {"additionalInterfaces": [main]}
    again = a2a.agent_to_card(a2a.card_to_agent(alone).model_copy(update={"description": "edited"}), "0.3")
    assert again["additionalInterfaces"] == [main]


def test_a_td_s_oauth2_scheme_gets_the_flows_a_card_needs() -> None:
    """A TD's OAuth2 scheme (`flow: client`, `token`) became a card scheme without `flows`, which both card
    versions require (an A2A client cannot read such a card). The card gets the flows the TD's flow, token and
    scopes say, beside them; read back, they are the TD's scheme again."""
    oauth = {"scheme": "oauth2", "flow": "client", "token": "https://a.example/t", "scopes": ["chat"]}
    thing = {
        "@context": [td.TD_CONTEXT, {"lmos": td.LMOS_NAMESPACE}],
        "@type": td.AGENT_TYPE,
        "id": "urn:x:oauth",
        "title": "oauth-agent",
        "securityDefinitions": {"oauth_sc": oauth},
        "security": "oauth_sc",
        "actions": {"chat": {"forms": [{"href": "https://x.example/chat"}]}},
    }
    agent = td.td_to_agent(thing)
    flows = {"clientCredentials": {"tokenUrl": "https://a.example/t", "scopes": {"chat": ""}}}
    v1 = json.loads(json.dumps(a2a.agent_to_card(agent, "1.0")))
    assert v1["securitySchemes"]["oauth_sc"]["oauth2SecurityScheme"]["flows"] == flows
    v03 = json.loads(json.dumps(a2a.agent_to_card(agent, "0.3")))
    assert v03["securitySchemes"]["oauth_sc"]["flows"] == flows
    for card in (v1, v03):
        back = a2a.card_to_agent(card)
        assert back.security == agent.security
        assert td.agent_to_td(back) == thing
        built = back.model_copy(update={"original": {}, "original_format": ""})
        assert td.agent_to_td(built)["securityDefinitions"]["oauth_sc"] == oauth


def test_a_card_s_oauth2_flows_are_said_in_a_td_s_terms_too() -> None:
    """A card's OAuth2 scheme became a TD definition with only the card's `flows`, no TD 1.1 `flow` or `token`, so
    a TD client could not use it. The TD definition says the first flow in TD terms too; read back, those terms
    are dropped again, so card → TD → card is unchanged."""
    card = load("a2a-card-v1.json")
    agent = a2a.card_to_agent(card, source="v1.json")
    built = td.agent_to_td(agent.model_copy(update={"original": {}, "original_format": ""}))
    oauth = built["securityDefinitions"]["oauth"]
    assert (oauth["flow"], oauth["token"]) == ("client", "https://auth.northwind.example/token")
    assert oauth["flows"] == card["securitySchemes"]["oauth"]["oauth2SecurityScheme"]["flows"]
    assert td.td_to_agent(built).security == agent.security
    code = {"authorizationCode": {"authorizationUrl": "https://a/auth", "tokenUrl": "https://a/t", "scopes": {}}}
    other = SEC_CARD | {"securitySchemes": {"oauth": {"type": "oauth2", "flows": code}}, "security": [{"oauth": []}]}
    thing = td.agent_to_td(a2a.card_to_agent(other).model_copy(update={"original": {}, "original_format": ""}))
    assert {k: thing["securityDefinitions"]["oauth"][k] for k in ("flow", "authorization", "token")} == {
        "flow": "code",
        "authorization": "https://a/auth",
        "token": "https://a/t",
    }
    assert a2a.agent_to_card(td.td_to_agent(thing), "0.3")["securitySchemes"] == other["securitySchemes"]


def test_an_only_empty_alternative_is_no_security() -> None:
    """`security: [{}]` and a TD's lone `nosec_sc` require nothing: no scheme in the model, as before."""
    assert a2a.card_to_agent(SEC_CARD | {"security": [{}]}).security == ()
    thing = td.agent_to_td(a2a.card_to_agent(SEC_CARD | {"security": [{}]}).model_copy(update={"original": {}}))
    assert thing["security"] == [td.NOSEC_NAME] and td.td_to_agent(thing).security == ()


def test_schemes_of_one_requirement_are_all_required() -> None:
    """One requirement naming two schemes (AND) stays one, in a card and in a TD (no combo)."""
    card = SEC_CARD | {"security": [{"apikey": [], "oauth": ["read"]}]}
    agent = a2a.card_to_agent(card)
    assert [s.alternative for s in agent.security] == [0, 0]
    assert a2a.agent_to_card(agent, "1.0")["securityRequirements"] == [
        {"schemes": {"apikey": {"list": []}, "oauth": {"list": ["read"]}}}
    ]
    assert td.agent_to_td(agent)["security"] == ["apikey", "oauth"]


def test_a_v1_card_s_keys_beside_wrapper_schemes_and_list_are_kept() -> None:
    """Keys a v1.0 card has beside the `<kind>SecurityScheme` wrapper, beside `schemes` in a requirement and beside
    `list` were dropped whenever the card was written anew (the agent edited, the other version): never lose a
    field Studio does not know."""
    card = load("a2a-card-v1.json")
    card["securitySchemes"]["oauth"]["x-outer"] = 1
    card["securityRequirements"][0]["x-req"] = 2
    card["securityRequirements"][0]["schemes"]["oauth"]["x-list"] = 3
    agent = a2a.card_to_agent(card, source="v1.json")
    edited = json.loads(json.dumps(a2a.agent_to_card(agent.model_copy(update={"description": "edited"}), "1.0")))
    assert edited["securitySchemes"] == card["securitySchemes"]
    assert edited["securityRequirements"] == card["securityRequirements"]
    v03 = json.loads(json.dumps(a2a.agent_to_card(agent, "0.3")))
    back = json.loads(json.dumps(a2a.agent_to_card(a2a.card_to_agent(v03, source="v03.json"), "1.0")))
    assert back["securitySchemes"] == card["securitySchemes"]
    assert back["securityRequirements"] == card["securityRequirements"]
    thing = td.agent_to_td(agent.model_copy(update={"original": {}, "original_format": ""}))
    from_td = json.loads(json.dumps(a2a.agent_to_card(td.td_to_agent(thing), "1.0")))
    assert from_td["securitySchemes"] == card["securitySchemes"]
    assert from_td["securityRequirements"] == card["securityRequirements"]
