"""The operator's `/.well-known/capabilities.json` document (LMOS.md §1.8) to and from the model.

The operator needs every field non-null: `{id, description, supportedTenants[], supportedChannels[],
capabilities[{id, name, version, description, examples[]}]}`; a missing one is a `DesignFileError` here
too. Unknown keys are kept (in `original`, and capability keys in `Capability.extras`). The agent
name is derived from `id` (the operator itself names the Agent after the workload; we have no workload).
"""

from __future__ import annotations

import copy
from typing import Any

from lmos_studio.formats import description as d
from lmos_studio.model import Agent, Capability

REQUIRED_KEYS = ("id", "description", "supportedTenants", "supportedChannels", "capabilities")
CAPABILITY_KEYS = ("id", "name", "version", "description", "examples")
KIND = "capabilities document"


def is_capabilities_document(doc: Any) -> bool:
    """Whether a parsed document looks like a capabilities document (capabilities + tenants/channels)."""
    return (
        isinstance(doc, dict)
        and "@context" not in doc
        and isinstance(doc.get("capabilities"), list)
        and ("supportedTenants" in doc or "supportedChannels" in doc)
    )


def document_to_agent(doc_raw: dict[str, Any], *, source: str = "") -> Agent:
    """A capabilities document as an `Agent`; every field the operator needs must be present."""
    doc = d.Doc(doc_raw, path=source or "<capabilities document>", kind=KIND)
    if not isinstance(doc_raw, dict):
        doc.fail("must be a JSON object")
    for key in REQUIRED_KEYS:
        if doc_raw.get(key) is None:
            doc.fail(f"missing; the operator needs every one of {', '.join(REQUIRED_KEYS)}", node=doc_raw, field=key)
    agent_id = doc.text(doc_raw, "id", "id")
    caps = []
    for i, node in enumerate(doc.seq(doc_raw, "capabilities", "capabilities")):
        field = f"capabilities[{i}]"
        for key in CAPABILITY_KEYS:
            if isinstance(node, dict) and node.get(key) is None:
                doc.fail(
                    f"missing; the operator needs every one of {', '.join(CAPABILITY_KEYS)}",
                    node=node,
                    field=f"{field}.{key}",
                )
        cap, _ = d.read_capability(doc, node, field, fallback_version=None)
        caps.append(cap)
    return Agent(
        name=d.agent_name(agent_id),
        id=agent_id,
        description=doc.text(doc_raw, "description", "description"),
        supported_tenants=doc.texts(doc_raw, "supportedTenants", "supportedTenants"),
        supported_channels=doc.texts(doc_raw, "supportedChannels", "supportedChannels"),
        capabilities=tuple(caps),
        source=source,
        original_format="capabilities",
        original=d.plain(doc_raw),
    )


def _capability(cap: Capability) -> dict[str, Any]:
    return {
        "id": cap.id,
        "name": cap.name,
        "version": cap.version,
        "description": cap.description,
        "examples": list(cap.examples),
        **d.plain(cap.extras),
    }


def agent_to_document(agent: Agent) -> dict[str, Any]:
    """The capabilities document the agent would serve (every field written; `id` = Agent.id or name)."""
    original = agent.original if agent.original_format == "capabilities" else {}
    if original:
        base = document_to_agent(original, source=agent.source)
        fields = ("id", "description", "supported_tenants", "supported_channels", "capabilities")
        if all(getattr(agent, f) == getattr(base, f) for f in fields):
            return copy.deepcopy(original)
    out: dict[str, Any] = {
        "id": agent.id or agent.name,
        "description": agent.description,
        "supportedTenants": list(agent.supported_tenants),
        "supportedChannels": list(agent.supported_channels),
        "capabilities": [_capability(c) for c in agent.capabilities],
    }
    out.update({k: copy.deepcopy(v) for k, v in original.items() if k not in REQUIRED_KEYS})
    return out
