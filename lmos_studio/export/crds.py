"""The four `lmos.eclipse/v1` CustomResourceDefinitions, OpenAPI v3 schemas written from LMOS.md §1.1–1.5.

No LMOS repository publishes CRDs (the operator generates them from Kotlin at start-up), so the export ships
its own: a cluster without the operator can then validate and store the resources. `required` lists the
generator's `@Required` fields plus Kotlin non-null fields without a default (the operator cannot read an
object without them). `lmos_schema(kind)` is the CRD's schema. A structural CRD schema cannot say
`additionalProperties: false` next to `properties`, but the API server's strict field validation (the default
of `kubectl apply` since Kubernetes 1.27, `--validate=strict`) refuses a field the schema does not declare
instead of pruning it; `strict_schema(kind)` is that rule as a jsonschema, which export validates against.
"""

from __future__ import annotations

import copy
from functools import lru_cache
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


# ObjectMeta's fields (Kubernetes 1.30 OpenAPI, io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta): strict field
# validation refuses any other key under metadata
OBJECT_META_FIELDS = (
    "annotations",
    "creationTimestamp",
    "deletionGracePeriodSeconds",
    "deletionTimestamp",
    "finalizers",
    "generateName",
    "generation",
    "labels",
    "managedFields",
    "name",
    "namespace",
    "ownerReferences",
    "resourceVersion",
    "selfLink",
    "uid",
)


def _closed(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) if k in ("items",) else v for k, v in schema.items()}
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
        out["additionalProperties"] = False
    return out


@lru_cache(maxsize=len(_KINDS))  # four small constant schemas; built once, not per exported resource
def strict_schema(kind: str) -> dict[str, Any]:
    """`lmos_schema(kind)` with every declared object closed (`additionalProperties: false`), metadata
    limited to ObjectMeta's fields: what `kubectl apply --validate=strict` accepts. Shared: do not modify."""
    schema = _closed(lmos_schema(kind))
    schema["properties"]["metadata"] = {
        "type": "object",
        "properties": {name: {} for name in OBJECT_META_FIELDS},
        "additionalProperties": False,
    }
    return schema  # type: ignore[no-any-return]


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
