"""Registry documents ↔ agents: what the registry stores (a TD) and what the app shows (an `Agent`).

A thin layer over `lmos_studio.formats` (TD, A2A card, capabilities.json, routing spec, Agent CR), so
the store, server and clients share one notion of "a description".
"""

from __future__ import annotations

import uuid
from typing import Any

from lmos_studio.formats import budgets
from lmos_studio.formats import td as td_format
from lmos_studio.formats.detect import read_descriptions
from lmos_studio.model import Agent

TD_CONTEXT = td_format.TD_CONTEXT
DISCOVERY_CONTEXT = "https://www.w3.org/2022/wot/discovery"
LMOS_NS = td_format.LMOS_NAMESPACE


def is_thing_description(data: Any) -> bool:
    """Whether a JSON document is a W3C WoT Thing Description."""
    return td_format.is_td(data)


def new_thing_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def thing_to_agent(td: dict[str, Any], *, source: str = "") -> Agent:
    """The agent a TD describes (LMOS vocabulary: `lmos:capabilities`, tenants, channels, forms)."""
    return td_format.td_to_agent(td, source=source)


def checked_thing(td: dict[str, Any], *, source: str) -> Agent:
    """The agent a TD describes, after the per-field budgets (`DesignFileError` naming the field)."""
    agent = thing_to_agent(td, source=source)
    budgets.check_agent(agent, source=source)
    return agent


def agent_to_thing(agent: Agent) -> dict[str, Any]:
    """The TD of an agent (LMOS vocabulary), always with an id; an agent described in another format (an A2A
    card …) carries that document whole (`lmos:original`), so a reader of the TD gets it back."""
    td = td_format.agent_to_td(agent, embed_original=True)
    td.setdefault("id", thing_id_of(agent))
    return td


def thing_id_of(agent: Agent) -> str:
    """A stable TD id for an agent: its id when that is a URI, else one made of namespace and name."""
    return td_format.td_id_of(agent)


def descriptions_of(data: Any, *, source: str) -> list[Agent]:
    """Agents described by a parsed document of any supported format (TD, A2A card, capabilities.json,
    routing spec, LMOS Agent resource); `DesignFileError` naming the source and field otherwise."""
    return read_descriptions(data, source=source)


# -- OpenAPI: the request bodies the server accepts, so a schema fuzzer (and a reader) reaches them -----------

_TTL = {"type": "number", "exclusiveMinimum": 0, "maximum": 10 * 365 * 86400, "description": "seconds"}
_THING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A W3C WoT Thing Description (LMOS vocabulary under `lmos:`); also accepted: an A2A agent card, "
    "a capabilities.json document or an AgentRoutingSpec",
    "required": ["@context", "title"],
    "properties": {
        "@context": {"anyOf": [{"type": "string"}, {"type": "array", "items": {}}]},
        "@type": {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        "id": {"type": "string"},
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string", "maxLength": budgets.MAX_DESCRIPTION_CHARS},
        "lmos:capabilities": {"type": "array", "maxItems": budgets.MAX_CAPABILITIES, "items": {"type": "object"}},
        "lmos:supportedTenants": {"type": "array", "items": {"type": "string"}},
        "lmos:supportedChannels": {"type": "array", "items": {"type": "string"}},
        "registration": {"type": "object", "properties": {"ttl": _TTL}},
    },
}
_PATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 7396 JSON merge patch of the stored TD; `{}` renews the registration",
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "description": {"type": "string"},
        "registration": {"type": "object", "properties": {"ttl": _TTL}},
    },
}
_PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": "string"},
    },
}


def request_body(kind: str) -> dict[str, Any]:
    """The OpenAPI `requestBody` of a write: "td" (PUT/POST) or "patch" (PATCH)."""
    if kind == "patch":
        content = {"application/merge-patch+json": {"schema": _PATCH_SCHEMA}}
    else:
        content = {media: {"schema": _THING_SCHEMA} for media in ("application/td+json", "application/json")}
    return {"required": True, "content": content}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for problem details (RFC 9457) of the given statuses."""
    return {
        status: {"description": "problem details", "content": {"application/problem+json": {"schema": _PROBLEM_SCHEMA}}}
        for status in statuses
    }


def document_response(media_type: str, json_type: str) -> dict[str, Any]:
    """An OpenAPI success response of one media type whose body is a JSON `json_type`."""
    return {"description": "OK", "content": {media_type: {"schema": {"type": json_type}}}}
