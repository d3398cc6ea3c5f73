"""The description an agent came from, carried by the lone `Agent` resource `lmos-studio import` prints.

An agent read from a TD, an A2A card, a capabilities.json or an AgentRoutingSpec keeps that document whole
(`Agent.original_format`, `Agent.original`) and what it says beyond LMOS (`endpoints`, `security`). A design
file keeps them in its Studio document; a lone resource has none, so they ride in the annotation
`studio.lmos.eclipse/original`: JSON of `{format, document, endpoints, security}` (each only when there is
one). `lmos.agent_from_resource` reads it back and removes it, so X → agent → Y writes what X → Y writes.
Credentials in the document (`redact.redact_data`) are masked before it is printed. Export never writes this
annotation: a design's manifests carry none of these fields (export/manifests.py).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from lmos_studio.formats import checked
from lmos_studio.formats.resource_fields import json_depth
from lmos_studio.formats.yamltypes import MAX_DEPTH
from lmos_studio.model import Agent, Endpoint, SecurityScheme
from lmos_studio.redact import redact_data

ORIGINAL_ANNOTATION = "studio.lmos.eclipse/original"
MAX_ANNOTATIONS_BYTES = 256 * 2**10  # the API server refuses an object whose annotations (keys + values) exceed this
_KEYS = ("format", "document", "endpoints", "security")


def original_payload(agent: Agent) -> tuple[dict[str, Any], list[str]]:
    """What the annotation holds for this agent ({} when it came from no other description) with credentials
    masked, and the JSON Pointers (into the payload) of what was masked."""
    payload: dict[str, Any] = {}
    if agent.original_format and agent.original:
        payload["format"] = agent.original_format
        payload["document"] = agent.original
    for key, items in (("endpoints", agent.endpoints), ("security", agent.security)):
        if items:
            payload[key] = [item.model_dump(mode="json", by_alias=True, exclude_defaults=True) for item in items]
    if not payload:
        return {}, []
    clean, masked = redact_data(payload)
    return clean, masked


def with_original(doc: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """`doc` (an Agent resource) carrying `payload` in its original annotation; `doc` itself when it is empty."""
    if not payload:
        return doc
    meta = doc.setdefault("metadata", {})
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    meta["annotations"] = {**(meta.get("annotations") or {}), ORIGINAL_ANNOTATION: text}
    return doc


def annotations_bytes(doc: dict[str, Any]) -> int:
    """The size the API server counts for a resource's annotations: every key and value, in UTF-8 bytes."""
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return 0
    return sum(len(str(k).encode("utf-8")) + len(str(v).encode("utf-8")) for k, v in annotations.items())


def original_values(text: str) -> tuple[dict[str, Any], str]:
    """The agent fields the annotation's text gives back (`original_format`, `original`, `endpoints`,
    `security`; those it does not hold are absent), and a problem ("" when none)."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = exc if isinstance(exc, ValueError) else "nested too deeply"
        return {}, f"is not JSON ({reason}); remove the annotation or restore it"
    if not isinstance(payload, dict) or not payload.keys() <= set(_KEYS):
        return {}, f"must be a JSON object of {', '.join(_KEYS)}; remove the annotation or restore it"
    if json_depth(payload) > MAX_DEPTH:
        return {}, f"nests deeper than {MAX_DEPTH} levels; remove the annotation"
    fmt, document = payload.get("format"), payload.get("document")
    if ("format" in payload or "document" in payload) and not (
        isinstance(fmt, str) and fmt and isinstance(document, dict)
    ):
        return {}, "needs `format` (a text) and `document` (an object) together; remove the annotation or restore it"
    values: dict[str, Any] = {"original_format": fmt, "original": document} if document is not None else {}
    for key, cls in (("endpoints", Endpoint), ("security", SecurityScheme)):
        if key not in payload:
            continue
        items = payload[key]
        if not isinstance(items, list):
            return {}, f"`{key}` must be a list; remove the annotation or restore it"
        found: list[Any] = []
        for i, item in enumerate(items):
            try:
                found.append(cls.model_validate(item))
            except ValidationError as exc:
                where, message = checked.problem(exc.errors()[0])
                where = f".{where}" if where and not where.startswith("[") else where
                return {}, f"`{key}[{i}]{where}`: {message}; remove the annotation or restore it"
        values[key] = tuple(found)
    return values, ""
