"""The four `lmos.eclipse/v1` CustomResourceDefinitions, OpenAPI v3 schemas written from LMOS.md §1.1–1.5.

No LMOS repository publishes CRDs (the operator generates them from Kotlin at start-up), so the export ships
its own: a cluster without the operator can then validate and store the resources. `required` lists the
generator's `@Required` fields plus Kotlin non-null fields without a default (the operator cannot read an
object without them). Unknown fields are allowed by the validator here but pruned by the API server, as with
the operator's own structural schemas. `lmos_schema(kind)` is the schema a resource of that kind validates
against (jsonschema; `x-kubernetes-*` keys are ignored by it).
"""

from __future__ import annotations

import copy
from typing import Any

GROUP = "lmos.eclipse"
VERSION = "v1"

_STRING: dict[str, Any] = {"type": "string"}
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}

_PROVIDED = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "version": _STRING,
        "description": _STRING,
        "examples": _STRINGS,
    },
}
_REQUIRED = {
    "type": "object",
    "required": ["name", "version"],
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "version": _STRING,
        "strategy": {"type": "string", "enum": ["HIGHEST", "MOST_SIMILAR"]},
    },
}
_AGENT_SPEC = {
    "type": "object",
    "properties": {
        "id": _STRING,
        "description": _STRING,
        "supportedTenants": _STRINGS,
        "supportedChannels": _STRINGS,
        "providedCapabilities": {"type": "array", "items": _PROVIDED},
    },
}
_CHANNEL_SPEC = {
    "type": "object",
    "required": ["requiredCapabilities"],
    "properties": {"requiredCapabilities": {"type": "array", "items": _REQUIRED}},
}
_CHANNEL_STATUS = {
    "type": "object",
    "properties": {
        "resolveStatus": {"type": "string", "enum": ["RESOLVED", "UNRESOLVED"]},
        "unresolvedRequiredCapabilities": {"type": "array", "items": _REQUIRED},
    },
}
_ROUTED = {
    "type": "object",
    "required": ["name", "requiredVersion", "providedVersion", "host"],
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "requiredVersion": _STRING,
        "providedVersion": _STRING,
        "description": _STRING,
        "host": _STRING,
    },
}
_ROUTING_SPEC = {
    "type": "object",
    "properties": {
        "capabilityGroups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "capabilities"],
                "properties": {
                    "id": _STRING,
                    "name": _STRING,
                    "description": _STRING,
                    "capabilities": {"type": "array", "items": _ROUTED},
                },
            },
        }
    },
}
_ROLLOUT_SIDE = {
    "type": "object",
    "required": ["name"],
    "properties": {"name": _STRING, "weight": {"type": "integer", "default": 0}},
}
_ROLLOUT_SPEC = {
    "type": "object",
    "required": ["strategy"],
    "properties": {
        "strategy": {
            "type": "object",
            "required": ["canary"],
            "properties": {
                "canary": {
                    "type": "object",
                    "required": ["canaryChannel", "stableChannel"],
                    "properties": {"canaryChannel": _ROLLOUT_SIDE, "stableChannel": _ROLLOUT_SIDE},
                }
            },
        }
    },
}

# kind → (plural, singular, short name, spec schema, status schema or None, spec required)
_KINDS: dict[str, tuple[str, str, str, dict[str, Any], dict[str, Any] | None, bool]] = {
    "Agent": ("agents", "agent", "ag", _AGENT_SPEC, None, False),
    "Channel": ("channels", "channel", "ch", _CHANNEL_SPEC, _CHANNEL_STATUS, True),
    "ChannelRouting": ("channelroutings", "channelrouting", "cr", _ROUTING_SPEC, None, False),
    "ChannelRollout": ("channelrollouts", "channelrollout", "crl", _ROLLOUT_SPEC, None, True),
}
LMOS_CRD_KINDS = tuple(_KINDS)


def lmos_schema(kind: str) -> dict[str, Any]:
    """The OpenAPI v3 schema of one LMOS kind (the CRD's `openAPIV3Schema`)."""
    _, _, _, spec, status, spec_required = _KINDS[kind]
    properties: dict[str, Any] = {
        "apiVersion": _STRING,
        "kind": _STRING,
        "metadata": {"type": "object"},
        "spec": copy.deepcopy(spec),
    }
    if status is not None:
        properties["status"] = copy.deepcopy(status)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if spec_required:
        schema["required"] = ["spec"]
    return schema


def crd(kind: str, *, labels: dict[str, str]) -> dict[str, Any]:
    """The CustomResourceDefinition of one LMOS kind."""
    plural, singular, short, _, status, _ = _KINDS[kind]
    version: dict[str, Any] = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": lmos_schema(kind)},
    }
    if status is not None:
        version["subresources"] = {"status": {}}
    if kind == "Channel":
        version["additionalPrinterColumns"] = [
            {"name": "RESOLVE_STATUS", "type": "string", "jsonPath": ".status.resolveStatus"}
        ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}", "labels": dict(labels)},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": singular,
                "shortNames": [short],
            },
            "versions": [version],
        },
    }


def crds(*, labels: dict[str, str]) -> list[dict[str, Any]]:
    """All four CRDs, in LMOS.md's order."""
    return [crd(kind, labels=labels) for kind in LMOS_CRD_KINDS]
