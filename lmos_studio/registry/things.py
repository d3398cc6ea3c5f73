"""Registry documents ↔ agents: what the registry stores (a TD) and what the app shows (an `Agent`).

Conversion is delegated to `lmos_studio.formats` (TD, A2A card, capabilities.json, routing spec) when
that package provides it; the small readers here cover LMOS TDs and LMOS Agent resources until then.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.model import DEFAULT_NAMESPACE, Agent, Capability, Endpoint, SecurityScheme

TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
DISCOVERY_CONTEXT = "https://www.w3.org/2022/wot/discovery"
LMOS_NS = "https://eclipse.dev/lmos/protocol/v1"
NAME_RE = re.compile(r"[^a-z0-9-]+")


def is_thing_description(data: Any) -> bool:
    """Whether a JSON document is a W3C WoT Thing Description (it has a TD `@context`)."""
    if not isinstance(data, dict):
        return False
    context = data.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and c.startswith("https://www.w3.org/20") and "/td/" in c for c in contexts)


def new_thing_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def agent_name(title: str) -> str:
    """A Kubernetes-style name from a free-text title (`Contract Assistant` → `contract-assistant`)."""
    return NAME_RE.sub("-", title.lower()).strip("-")[:63] or "agent"


def thing_to_agent(td: dict[str, Any], *, source: str = "") -> Agent:
    """The agent a TD describes (LMOS vocabulary: `lmos:capabilities`, tenants, channels, forms)."""
    try:
        from lmos_studio.formats.td import td_to_agent  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return _td_to_agent(td, source=source)
    agent: Agent = td_to_agent(td, source=source)
    return agent


def agent_to_thing(agent: Agent) -> dict[str, Any]:
    """The TD of an agent (LMOS vocabulary), with an id."""
    try:
        from lmos_studio.formats.td import agent_to_td  # type: ignore[import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return _agent_to_td(agent)
    td: dict[str, Any] = agent_to_td(agent)
    td.setdefault("id", thing_id_of(agent))
    return td


def thing_id_of(agent: Agent) -> str:
    """A stable TD id for an agent: its spec.id when that is a URI, else one made of namespace and name."""
    if ":" in agent.id and " " not in agent.id:
        return agent.id
    return f"urn:lmos:agent:{agent.namespace}:{agent.name}"


def descriptions_of(data: Any, *, source: str) -> list[Agent]:
    """Agents described by a JSON document of any supported format (TD, A2A card, capabilities.json, …)."""
    try:
        from lmos_studio.formats.detect import (  # type: ignore[import-not-found,unused-ignore]
            read_descriptions,
        )
    except ModuleNotFoundError:
        if is_thing_description(data):
            return [_td_to_agent(data, source=source)]
        if isinstance(data, dict) and data.get("kind") == "Agent":
            from lmos_studio.formats.lmos import agent_from_resource

            return [agent_from_resource(data, path=source, source=source)]
        raise DesignFileError("not a WoT Thing Description (no TD @context); other formats need "
                              "lmos_studio.formats.detect", path=source) from None
    agents: list[Agent] = read_descriptions(data, source=source)
    return agents


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value if isinstance(v, str | int | float))
    return ()


def _td_to_agent(td: dict[str, Any], *, source: str) -> Agent:
    caps = []
    for raw in td.get("lmos:capabilities") or []:
        if isinstance(raw, dict) and raw.get("name"):
            caps.append(Capability(name=str(raw["name"]), version=str(raw.get("version") or "0.0.0"),
                                   id=str(raw.get("id") or ""), description=str(raw.get("description") or ""),
                                   examples=_texts(raw.get("examples"))))
    endpoints = []
    for affordances in (td.get("actions"), td.get("properties"), td.get("events")):
        for aff in (affordances or {}).values() if isinstance(affordances, dict) else ():
            for form in aff.get("forms") or [] if isinstance(aff, dict) else ():
                href = str(form.get("href", "")) if isinstance(form, dict) else ""
                if "://" in href:
                    endpoints.append(Endpoint(protocol=href.split("://", 1)[0], uri=href,
                                              subprotocol=str(form.get("subprotocol") or "")))
    defs = td.get("securityDefinitions") if isinstance(td.get("securityDefinitions"), dict) else {}
    security = [SecurityScheme(name=str(k), scheme=str(v.get("scheme", "")))
                for k, v in (defs or {}).items() if isinstance(v, dict)]
    labels = td.get("lmos:labels") if isinstance(td.get("lmos:labels"), dict) else {}
    title = str(td.get("title") or td.get("id") or "agent")
    return Agent(name=str(td.get("lmos:name") or agent_name(title)),
                 namespace=str(td.get("lmos:namespace") or DEFAULT_NAMESPACE),
                 labels={str(k): str(v) for k, v in (labels or {}).items()},
                 id=str(td.get("id") or ""), description=str(td.get("description") or ""),
                 supported_tenants=_texts(td.get("lmos:supportedTenants")),
                 supported_channels=_texts(td.get("lmos:supportedChannels")),
                 capabilities=tuple(caps), endpoints=tuple({e.uri: e for e in endpoints}.values()),
                 security=tuple(security), source=source, original_format="td")


def _agent_to_td(agent: Agent) -> dict[str, Any]:
    td: dict[str, Any] = {
        "@context": [TD_CONTEXT, {"lmos": LMOS_NS}], "@type": "lmos:Agent", "id": thing_id_of(agent),
        "title": agent.name, "description": agent.description, "lmos:name": agent.name,
        "lmos:namespace": agent.namespace, "lmos:labels": dict(agent.labels),
        "lmos:supportedTenants": list(agent.supported_tenants),
        "lmos:supportedChannels": list(agent.supported_channels),
        "lmos:capabilities": [{"id": c.id, "name": c.name, "version": c.version, "description": c.description,
                               "examples": list(c.examples)} for c in agent.capabilities],
        "securityDefinitions": {s.name: {"scheme": s.scheme} for s in agent.security} or
        {"nosec_sc": {"scheme": "nosec"}},
    }
    td["security"] = list(td["securityDefinitions"])
    if agent.endpoints:
        td["actions"] = {"chat": {"forms": [{"href": e.uri, **({"subprotocol": e.subprotocol}
                                                               if e.subprotocol else {})}
                                            for e in agent.endpoints if e.uri]}}
    return td
