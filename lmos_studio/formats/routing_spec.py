"""lmos-router inputs to and from the model: AgentRoutingSpec JSON (LMOS.md §4.1), the vector router's
seed file and the embedding classifier's capability document (§4.3).

AgentRoutingSpec is read as strictly as router-core reads it: unknown keys are an error, every key is
required except `addresses[].protocol` (default `http`), blank `name`/`version` and empty `addresses`
are rejected. Each spec becomes an Agent: name derived from `name` (`description.agent_name`), `id` =
`name` as written (what routers answer with), `version` as the `version` label (when a valid label
value), addresses as endpoints.

The classifier document `{id, capabilityGroups[{id, name, address, capabilities[…]}]}` gives one Agent
per group (name derived from the group `name`, `id` = group `id`, `address` as an endpoint: protocol its
scheme, `http` for a bare `host:port`). Its `id`,
when shaped `<tenant>-<channel>-<MAJOR.MINOR.PATCH>-<subset>` (the classifier's collection naming),
sets the supported tenant and channel and the `subset` label. A capability without a version gets the
visible default (see `description.py`).

Writing, the agent's address comes first: a TD agent's `chat` action before its other actions, properties and
events (`td.by_address`), as the group's one `address` and at the head of a spec's `addresses`.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lmos_studio.formats import description as d
from lmos_studio.formats import td
from lmos_studio.model import Agent, Endpoint

SPEC_KEYS = ("name", "description", "version", "capabilities", "addresses")
SPEC_CAPABILITY_KEYS = ("name", "description", "version")
ADDRESS_KEYS = ("protocol", "uri")
DEFAULT_PROTOCOL = "http"
RUNTIME_PORT = 8080  # the LMOS runtime calls <agent>.<namespace>.svc.cluster.local:8080
KIND = "AgentRoutingSpec"
CLASSIFIER_KIND = "classifier capability document"
_HOST_PORT_RE = re.compile(r"^[^:/?#]+:\d+(?:[/?#]|$)")  # localhost:8080, 10.0.0.1:80/x: no scheme, a port
_COLLECTION_RE = re.compile(  # <tenant>-<channel>-<version>-<subset>, e.g. de-web-1.0.0-stable
    r"^(?P<tenant>[^-]+)-(?P<channel>[^-]+)-(?P<version>\d+\.\d+\.\d+)-(?P<subset>.+)$"
)


@dataclass(frozen=True)
class SeedRow:
    """One vector-router seed example: an utterance and the agent it belongs to."""

    text: str
    agent_name: str


def looks_like_specs(data: Any) -> bool:
    """Whether a parsed list looks like AgentRoutingSpecs (plain objects, none of another format)."""
    others = ("apiVersion", "@context", "skills", "capabilityGroups", "supportedTenants", "agentName")
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(x, dict) and "name" in x and not set(others) & set(x) for x in data)
    )


def is_seed(data: Any) -> bool:
    """Whether a parsed list is a vector-router seed file `[{text, agentName}]`."""
    return (
        isinstance(data, list)
        and bool(data)
        and all(isinstance(x, dict) and "agentName" in x and "text" in x for x in data)
    )


def is_classifier_document(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("capabilityGroups"), list)


def _strict_keys(doc: d.Doc, node: dict[str, Any], allowed: tuple[str, ...], field: str) -> None:
    for key in node:
        if key not in allowed:
            doc.fail(
                f"unknown key {key!r} (router-core rejects unknown keys); allowed: {', '.join(allowed)}",
                node=node,
                key=key,
                field=f"{field}.{key}" if field else str(key),
            )


def _nonblank(doc: d.Doc, node: dict[str, Any], key: str, field: str) -> str:
    value = doc.text(node, key, field, required=True, strict=True)  # router-core: a string, quoted
    if not value.strip():
        doc.fail("is blank; router-core requires a value", node=node, key=key, field=field)
    return value


def spec_to_agent(spec: Any, *, source: str = "", index: int | None = None) -> Agent:
    """One AgentRoutingSpec object as an `Agent` (strict)."""
    prefix = f"[{index}]" if index is not None else ""
    named = isinstance(spec, dict) and isinstance(spec.get("name"), str) and spec["name"].strip()
    kind = f"{KIND} {spec['name']!r}" if named else KIND
    doc = d.Doc(spec, path=source or "<agent routing spec>", kind=kind)
    if not isinstance(spec, dict):
        doc.fail("must be an object {name, description, version, capabilities, addresses}", field=prefix or None)
    _strict_keys(doc, spec, SPEC_KEYS, prefix)
    for key in SPEC_KEYS:
        if key not in spec:
            doc.fail(
                f"`{key}` is missing; router-core requires {', '.join(SPEC_KEYS)} in every spec",
                node=spec,
                field=f"{prefix}.{key}" if prefix else key,
            )
    name = _nonblank(doc, spec, "name", f"{prefix}.name" if prefix else "name")
    version = _nonblank(doc, spec, "version", f"{prefix}.version" if prefix else "version")

    def field_of(key: str) -> str:
        return f"{prefix}.{key}" if prefix else key

    caps = []
    for i, node in enumerate(doc.seq(spec, "capabilities", field_of("capabilities"))):
        field = field_of(f"capabilities[{i}]")
        if not isinstance(node, dict):
            doc.fail("must be an object {name, description, version}", field=field)
        _strict_keys(doc, node, SPEC_CAPABILITY_KEYS, field)
        for key in SPEC_CAPABILITY_KEYS:
            if key not in node:
                doc.fail(
                    "missing; router-core requires name, description and version", node=node, field=f"{field}.{key}"
                )
        cap, _ = d.read_capability(doc, node, field, fallback_version=None)
        caps.append(cap)
    addresses = doc.seq(spec, "addresses", field_of("addresses"))
    if not addresses:
        doc.fail(
            "is empty; router-core requires at least one address",
            node=spec,
            key="addresses",
            field=field_of("addresses"),
        )
    endpoints = []
    for i, node in enumerate(addresses):
        field = field_of(f"addresses[{i}]")
        if not isinstance(node, dict):
            doc.fail("must be an object {protocol?, uri}", field=field)
        _strict_keys(doc, node, ADDRESS_KEYS, field)
        protocol = doc.text(node, "protocol", f"{field}.protocol") or DEFAULT_PROTOCOL
        uri = doc.text(node, "uri", f"{field}.uri", required=True)
        endpoints.append(Endpoint(protocol=protocol, uri=uri))
    return Agent(
        name=d.agent_name(name),
        id=name,
        labels={"version": version} if d.is_label_value(version) else {},
        description=doc.text(spec, "description", field_of("description"), required=True),
        capabilities=tuple(caps),
        endpoints=tuple(endpoints),
        source=source,
        original_format="routing-spec",
        original=d.plain(spec),
    )


def specs_to_agents(specs: Any, *, source: str = "") -> list[Agent]:
    """An AgentRoutingSpec list (the router's JSON file) as Agents; the first problem is an error."""
    doc = d.Doc(specs, path=source or "<agent routing specs>", kind=KIND)
    if not isinstance(specs, list):
        doc.fail("must be a JSON array of AgentRoutingSpec objects")
    return [spec_to_agent(spec, source=source, index=i) for i, spec in enumerate(specs)]


def _spec_version(agent: Agent) -> str:
    return d.agent_version(agent) or d.FALLBACK_VERSION


def agent_to_spec(agent: Agent) -> dict[str, Any]:
    """The agent as an AgentRoutingSpec (the original object when the modelled fields did not change).

    Without endpoints the address is the runtime's `http://<name>.<namespace>.svc.cluster.local:8080`.
    """
    if agent.original_format == "routing-spec" and agent.original:
        base = spec_to_agent(agent.original, source=agent.source)
        fields = ("name", "id", "labels", "description", "capabilities", "endpoints")
        if all(getattr(agent, f) == getattr(base, f) for f in fields):
            return copy.deepcopy(agent.original)
    addresses = [{"protocol": e.protocol, "uri": e.uri} for e in td.by_address(agent.endpoints)] or [
        {"protocol": DEFAULT_PROTOCOL, "uri": f"http://{agent.host}:{RUNTIME_PORT}"}
    ]
    return {
        "name": agent.id if agent.original_format == "routing-spec" and agent.id else agent.name,
        "description": agent.description,
        "version": _spec_version(agent),
        "capabilities": [
            {"name": c.name, "description": c.description, "version": c.version} for c in agent.capabilities
        ],
        "addresses": addresses,
    }


def agents_to_specs(agents: list[Agent]) -> list[dict[str, Any]]:
    """Agents as the router's AgentRoutingSpec list."""
    return [agent_to_spec(a) for a in agents]


def read_seed(data: Any, *, source: str = "") -> list[SeedRow]:
    """A vector-router seed file `[{text, agentName}]` as rows."""
    doc = d.Doc(data, path=source or "<seed>", kind="seed file")
    if not isinstance(data, list):
        doc.fail("must be a JSON array of {text, agentName}")
    rows = []
    for i, node in enumerate(data):
        if not isinstance(node, dict):
            doc.fail("must be an object {text, agentName}", field=f"[{i}]")
        rows.append(
            SeedRow(
                text=doc.text(node, "text", f"[{i}].text", required=True),
                agent_name=doc.text(node, "agentName", f"[{i}].agentName", required=True),
            )
        )
    return rows


def address_protocol(address: str) -> str:
    """The protocol of a classifier `address`: its URI scheme, or `http` for a bare `host:port` (whose host
    `urlsplit` would take for the scheme) or a bare host."""
    if _HOST_PORT_RE.match(address):
        return DEFAULT_PROTOCOL
    return urlsplit(address).scheme.lower() or DEFAULT_PROTOCOL


def classifier_to_agents(data: Any, *, source: str = "") -> list[Agent]:
    """The classifier's capability document as one Agent per capability group."""
    doc = d.Doc(data, path=source or "<classifier capability document>", kind=CLASSIFIER_KIND)
    if not isinstance(data, dict):
        doc.fail("must be an object {id, capabilityGroups}")
    doc_id = doc.text(data, "id", "id")
    match = _COLLECTION_RE.match(doc_id)
    agents = []
    for i, group in enumerate(doc.seq(data, "capabilityGroups", "capabilityGroups", required=True)):
        field = f"capabilityGroups[{i}]"
        if not isinstance(group, dict):
            doc.fail("must be an object {id, name, address, capabilities}", field=field)
        group_name = doc.text(group, "name", f"{field}.name", required=True)
        group_id = doc.text(group, "id", f"{field}.id")
        caps, defaulted = [], []
        for j, node in enumerate(doc.seq(group, "capabilities", f"{field}.capabilities")):
            cap, was_defaulted = d.read_capability(
                doc, node, f"{field}.capabilities[{j}]", fallback_version=d.FALLBACK_VERSION
            )
            caps.append(cap)
            if was_defaulted:
                defaulted.append(cap.name)
        address = doc.text(group, "address", f"{field}.address")
        agents.append(
            Agent(
                name=d.agent_name(group_name, group_id),
                id=group_id,
                labels={"subset": match["subset"]} if match else {},
                annotations=d.mark_defaulted({}, defaulted),
                supported_tenants=(match["tenant"],) if match else (),
                supported_channels=(match["channel"],) if match else (),
                capabilities=tuple(caps),
                endpoints=(Endpoint(protocol=address_protocol(address), uri=address),) if address else (),
                source=source,
                original_format="classifier",
                original={
                    **{k: d.plain(v) for k, v in data.items() if k != "capabilityGroups"},
                    "capabilityGroups": [d.plain(group)],
                },
            )
        )
    return agents


def _group(agent: Agent) -> dict[str, Any]:
    if agent.original_format == "classifier" and agent.original:
        groups = agent.original.get("capabilityGroups") or [{}]
        base = classifier_to_agents(agent.original, source=agent.source)[0]
        fields = ("name", "id", "capabilities", "endpoints")
        if all(getattr(agent, f) == getattr(base, f) for f in fields):
            return copy.deepcopy(dict(groups[0]))
    out: dict[str, Any] = {"id": agent.id or agent.name, "name": agent.name}
    if agent.endpoints:
        out["address"] = td.by_address(agent.endpoints)[0].uri
    out["capabilities"] = [d.capability_out(c) for c in agent.capabilities]
    return out


def agents_to_classifier(agents: list[Agent], *, doc_id: str = "") -> dict[str, Any]:
    """Agents as a classifier capability document; `doc_id` defaults to the first agent's original id."""
    if not doc_id:
        doc_id = next((str(a.original.get("id", "")) for a in agents if a.original_format == "classifier"), "")
    return {"id": doc_id, "capabilityGroups": [_group(a) for a in agents]}
