"""Validate exported documents offline before anything is written: core kinds against the Kubernetes OpenAPI
schemas shipped by `kubernetes-validate`, LMOS kinds against our CRDs, Istio AuthorizationPolicy against a
small schema of its fields we use, names and label values per RFC 1123 / Kubernetes label syntax.

Kubernetes schema version: `KUBERNETES_VERSION` (1.30; kubernetes-validate 1.37 ships 1.25–1.37). Documents
we generate are checked against the *strict* schemas (no unknown fields); kept documents written by hand or
other tools against the normal ones, and kinds without an offline schema are listed as not validated.
Validators are built once per (kind, strictness) and cached on the `Validator` instance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from referencing import Registry, Resource

from lmos_studio.errors import ExportError
from lmos_studio.export.crds import LMOS_CRD_KINDS, lmos_schema

KUBERNETES_VERSION = (
    "1.30"  # a version every kubernetes-validate >= 1.29 ships; kubernetes.io/metadata.name exists
)
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # RFC 1123 label, ≤ 63
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")  # ≤ 253
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # ≤ 63
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")  # ≤ 63, after an optional prefix/
LABEL_NAMES = ("Namespace", "Service", "ServiceAccount")  # kinds whose names must be DNS labels (≤ 63)
_ISTIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "properties": {
                        "matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}
                    },
                },
                "action": {"enum": ["ALLOW", "DENY", "AUDIT", "CUSTOM"]},
                "rules": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "from": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "source": {
                                            "type": "object",
                                            "properties": {
                                                "principals": {"type": "array", "items": {"type": "string"}}
                                            },
                                        }
                                    },
                                },
                            },
                            "to": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "operation": {
                                            "type": "object",
                                            "properties": {
                                                "paths": {"type": "array", "items": {"type": "string"}},
                                                "methods": {"type": "array", "items": {"type": "string"}},
                                            },
                                        }
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


@dataclass
class ValidationReport:
    """Which schema validated each document (or why none could)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    @property
    def not_validated(self) -> list[dict[str, str]]:
        return [r for r in self.rows if r["status"] != "valid"]


def ref(doc: dict[str, Any]) -> str:
    """'Kind ns/name' (or 'Kind name' when cluster-scoped) for messages and reports."""
    meta = doc.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{doc.get('kind')} {ns + '/' if ns else ''}{meta.get('name')}"


def _fail(doc: dict[str, Any], field_path: str, message: str) -> ExportError:
    return ExportError(f"{ref(doc)}: {field_path}: {message}", resource=ref(doc), field=field_path)


def check_names(doc: dict[str, Any]) -> None:
    """metadata.name/namespace per RFC 1123 and every label key and value per Kubernetes label syntax."""
    meta = doc.get("metadata") or {}
    name = str(meta.get("name", ""))
    if doc.get("kind") in LABEL_NAMES:
        if len(name) > 63 or not DNS_LABEL.match(name):
            raise _fail(
                doc,
                "metadata.name",
                f"'{name}' is not an RFC 1123 label (lower-case letters, digits "
                "and '-', at most 63, starting and ending alphanumeric); rename the agent",
            )
    elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise _fail(
            doc,
            "metadata.name",
            f"'{name}' is not an RFC 1123 subdomain (lower-case letters, digits, "
            "'-' and '.', at most 253); rename it",
        )
    namespace = meta.get("namespace")
    if namespace is not None and (len(str(namespace)) > 63 or not DNS_LABEL.match(str(namespace))):
        raise _fail(
            doc, "metadata.namespace", f"'{namespace}' is not an RFC 1123 label; rename the namespace"
        )
    for key, value in (meta.get("labels") or {}).items():
        _check_label(doc, str(key), value)


def _check_label(doc: dict[str, Any], key: str, value: Any) -> None:
    field_path = f"metadata.labels.{key}"
    prefix, _, name = key.rpartition("/")
    if (
        (prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)))
        or len(name) > 63
        or not LABEL_NAME.match(name)
    ):
        raise _fail(
            doc,
            field_path,
            "is not a valid label key ([prefix/]name, name ≤ 63 alphanumerics, '-', '_', '.')",
        )
    if not isinstance(value, str):
        raise _fail(doc, field_path, f"must be a string (quote it in YAML), not {type(value).__name__}")
    if len(value) > 63 or not LABEL_VALUE.match(value):
        raise _fail(
            doc,
            field_path,
            f"'{value}' is not a valid label value (at most 63 alphanumerics, '-', "
            "'_', '.', starting and ending alphanumeric)",
        )


class Validator:
    """Validates documents; holds the compiled schemas of the kinds it has seen."""

    def __init__(self, kubernetes_version: str = KUBERNETES_VERSION) -> None:
        self.kubernetes_version = kubernetes_version
        self._validators: dict[tuple[str, str, bool], jsonschema.protocols.Validator | None] = {}
        self._definitions: dict[bool, Resource[Any]] = {}

    def _schema_dir(self, strict: bool) -> str:
        return f"kubernetes-json-schema/v{self.kubernetes_version}.0-local" + ("-strict" if strict else "")

    def _kubernetes(self, api_version: str, kind: str, strict: bool) -> jsonschema.protocols.Validator | None:
        from kubernetes_validate import utils  # loads importlib_resources; only needed when validating

        group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # apps/v1 → apps-v1 (their file names)
        try:
            schema = utils.schema_contents(
                f"{self._schema_dir(strict)}/{kind.lower()}-{group}.json", self.kubernetes_version
            )
        except FileNotFoundError:
            return None
        except utils.VersionNotSupportedError as exc:
            raise ExportError(
                f"kubernetes-validate has no schemas for Kubernetes {self.kubernetes_version}; "
                "pip install -U kubernetes-validate"
            ) from exc
        if strict not in self._definitions:
            self._definitions[strict] = Resource.from_contents(
                utils.schema_contents(
                    f"{self._schema_dir(strict)}/_definitions.json", self.kubernetes_version
                )
            )
        registry: Registry[Any] = self._definitions[strict] @ (Resource.from_contents(schema) @ Registry())
        return jsonschema.Draft202012Validator(schema, registry=registry)

    def _validator(
        self, doc: dict[str, Any], strict: bool
    ) -> tuple[str, jsonschema.protocols.Validator | None]:
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        key = (api, kind, strict)
        if api == "lmos.eclipse/v1" and kind in LMOS_CRD_KINDS:
            label = f"CRD {kind.lower()}s.lmos.eclipse"
            if key not in self._validators:
                self._validators[key] = jsonschema.Draft202012Validator(lmos_schema(kind))
        elif api.startswith("security.istio.io/") and kind == "AuthorizationPolicy":
            label = "AuthorizationPolicy (fields used by the export)"
            if key not in self._validators:
                self._validators[key] = jsonschema.Draft202012Validator(_ISTIO_SCHEMA)
        else:
            label = f"Kubernetes {self.kubernetes_version} OpenAPI" + (" (strict)" if strict else "")
            if key not in self._validators:
                self._validators[key] = self._kubernetes(api, kind, strict)
        return label, self._validators[key]

    def validate(self, doc: dict[str, Any], *, path: str, strict: bool = True) -> dict[str, str]:
        """Raise `ExportError` (resource, field) if the document is invalid; else its report row."""
        check_names(doc)
        label, validator = self._validator(doc, strict)
        if validator is None:
            return {
                "file": path,
                "resource": ref(doc),
                "schema": "—",
                "status": "not validated (no offline schema)",
            }
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is not None:
            field_path = ".".join(str(p) for p in error.absolute_path) or "(document)"
            raise _fail(doc, field_path, f"{error.message} ({label}; file {path})")
        return {"file": path, "resource": ref(doc), "schema": label, "status": "valid"}
