"""What `lmos-studio import` / `convert` print and the Registry page previews: agents written as LMOS `Agent`
resources or another description format, with the credentials of the descriptions they came from masked.

`agent_resources` gives the strictly valid resources `import` prints (the Registry page's "As LMOS Agent
resources" shows the very same); `described` gives `convert --to <format>`'s documents. Both mask with
`redact.redact_data` and say where (JSON Pointers, never a value) in one warning per agent; a configured
secret's value is refused as export refuses it. Nothing here prints: the CLI echoes, the page shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import a2a, detect, lmos
from lmos_studio.formats.original import (
    MAX_ANNOTATIONS_BYTES,
    ORIGINAL_ANNOTATION,
    annotations_bytes,
    original_payload,
    with_original,
)
from lmos_studio.formats.resource_fields import with_annotation
from lmos_studio.model import Agent
from lmos_studio.redact import named_fields, redact_data

MASKED_WARNING = "what looks like a credential is printed as ***"  # the start of every warning about a mask


@dataclass
class Printed:
    """Documents to print and the warnings about them (credentials masked)."""

    documents: list[Any]
    warnings: list[str] = field(default_factory=list)


def _where(agent: Agent) -> str:
    return f"{agent.source or '<input>'}: agent {agent.name}"


def _masked_warning(where: str, masked: list[str]) -> str:
    return f"{where}: {MASKED_WARNING} ({named_fields(masked)}); keep credentials out of descriptions"


def _refuse_configured_secrets(where: str, document: Any) -> None:
    from lmos_studio.export.kustomize import refuse_secrets  # as export: no configured secret's value printed

    refuse_secrets({where: json.dumps(document, ensure_ascii=False).encode("utf-8")})


def agent_resource(agent: Agent) -> tuple[dict[str, Any], list[str]]:
    """The agent's LMOS `Agent` resource with only the fields its CRD declares (the API server's strict field
    validation refuses any other) and none the API server writes (uid, resourceVersion, managedFields …: as
    export), the rest (an A2A skill's title and tags, those server fields, …) in the resource-fields
    annotation, the description it came from in the original annotation; and where credentials were masked.
    A resource whose annotations the API server would refuse (over 256 KiB) is a `DesignFileError`."""
    from lmos_studio.export.bundle import strict_resource  # jsonschema & co. only when printing resources
    from lmos_studio.export.manifests import without_server_fields

    full, masked = redact_data(lmos.agent_to_resource(agent, explicit_namespace=True))
    payload, masked_original = original_payload(agent)
    # as export: no server-written uid, resourceVersion, managedFields …; they ride in the annotation
    doc = with_original(with_annotation(*strict_resource(full, without_server_fields(full))), payload)
    size = annotations_bytes(doc)
    if size > MAX_ANNOTATIONS_BYTES:
        raise DesignFileError(
            f"agent {agent.name}: metadata.annotations: {size} bytes with the description it came from "
            f"({ORIGINAL_ANNOTATION}); the API server refuses more than {MAX_ANNOTATIONS_BYTES}: shorten the "
            "description, or add the agent to a design (Registry page), whose file keeps the description whole",
            path=agent.source or "<input>",
        )
    named = [f"resource {p}" for p in masked]
    named += [
        f"description {p.removeprefix('/document')}" if p.startswith("/document/") else f"{ORIGINAL_ANNOTATION} {p}"
        for p in masked_original
    ]
    return doc, named


def agent_resources(agents: list[Agent]) -> Printed:
    """What `lmos-studio import` prints for these agents (see `agent_resource`), with one warning per agent
    whose credentials were masked; a configured secret's value is an `ExportError`."""
    printed = Printed([])
    for agent in agents:
        doc, masked = agent_resource(agent)
        _refuse_configured_secrets(_where(agent), doc)
        printed.documents.append(doc)
        if masked:
            printed.warnings.append(_masked_warning(_where(agent), masked))
    return printed


def described(agents: list[Agent], fmt: str) -> Printed:
    """What `convert --to fmt` prints: one document per agent (one for all of them in `routing-spec` and
    `classifier`), credentials masked with a warning (per agent, or per file for the shared document)."""
    if fmt == "agent":
        return agent_resources(agents)
    if fmt in ("routing-spec", "classifier"):
        sources = sorted({a.source or "<input>" for a in agents})
        clean, masked = redact_data(detect.write_descriptions(agents, fmt))
        _refuse_configured_secrets(", ".join(sources), clean)
        return Printed([clean], [_masked_warning(", ".join(sources), masked)] if masked else [])
    printed = Printed([])
    for agent in agents:
        written = detect.write_description(agent, fmt)
        clean, masked = redact_data(written)
        _refuse_configured_secrets(_where(agent), clean)
        printed.documents.append(clean)
        if masked:
            printed.warnings.append(_masked_warning(_where(agent), masked))
        dropped = a2a.signatures_warning(agent, written) if fmt.startswith("a2a") else None
        if dropped:
            printed.warnings.append(dropped)
    return printed
