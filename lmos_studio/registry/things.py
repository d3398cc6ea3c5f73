"""Registry documents ↔ agents: what the registry stores (a TD) and what the app shows (an `Agent`).

A thin layer over `lmos_studio.formats` (TD, A2A card, capabilities.json, routing spec, Agent CR), so
the store, server and clients share one notion of "a description".
"""

from __future__ import annotations

import uuid
from typing import Any

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


def agent_to_thing(agent: Agent) -> dict[str, Any]:
    """The TD of an agent (LMOS vocabulary), always with an id."""
    td = td_format.agent_to_td(agent)
    td.setdefault("id", thing_id_of(agent))
    return td


def thing_id_of(agent: Agent) -> str:
    """A stable TD id for an agent: its id when that is a URI, else one made of namespace and name."""
    return td_format.td_id_of(agent)


def descriptions_of(data: Any, *, source: str) -> list[Agent]:
    """Agents described by a parsed document of any supported format (TD, A2A card, capabilities.json,
    routing spec, LMOS Agent resource); `DesignFileError` naming the source and field otherwise."""
    return read_descriptions(data, source=source)
