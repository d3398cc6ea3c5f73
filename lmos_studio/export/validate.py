"""Validate exported documents offline before anything is written: core kinds against the Kubernetes OpenAPI
schemas shipped by `kubernetes-validate`, LMOS kinds against our CRDs and Istio AuthorizationPolicy against a
schema of every field of its security/v1 API (both with their metadata as Kubernetes' ObjectMeta), names per RFC 1123
(Services and Agents, whose names are their Services', per RFC 1035) and label values per Kubernetes label syntax.

Kubernetes schema version: `KUBERNETES_VERSION` (1.30; kubernetes-validate 1.37 ships 1.25–1.37). Documents
are checked against the *strict* schemas (LMOS kinds: `crds.strict_schema`), as `kubectl apply
--validate=strict` would: an unknown field is an error, not something the server prunes. That holds for kept
documents written by hand or other tools too (kubectl would refuse them on apply); kinds without an offline
schema are listed as not validated.
Validators are built once per (kind, strictness) and cached on the `Validator` instance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from referencing import Registry, Resource

from lmos_studio.errors import ExportError
from lmos_studio.export.crds import LMOS_CRD_KINDS, lmos_schema, strict_schema
from lmos_studio.names import dns1035_label_problem, suggest_name
from lmos_studio.redact import MASK
from lmos_studio.visible import cut

KUBERNETES_VERSION = "1.30"  # a version every kubernetes-validate >= 1.29 ships; kubernetes.io/metadata.name exists
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")  # RFC 1123 label, ≤ 63
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")  # ≤ 253
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")  # ≤ 63
LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")  # ≤ 63, after an optional prefix/
OBJECT_META_REF = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# A kind as the API server takes it (a CRD's kind: mixed case, else an RFC 1035 label, ≤ 63) and an apiVersion
# (`version` or `group/version`: an RFC 1123 subdomain, ≤ 253, and an RFC 1035 label, ≤ 63)
KIND = re.compile(r"^[A-Za-z]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$")
API_VERSION = re.compile(
    r"^(?:(?=[^/]{1,253}/)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z]([-a-z0-9]{0,61}[a-z0-9])?$"
)
LABEL_NAMES = ("Namespace", "Service", "ServiceAccount")  # kinds whose names must be DNS labels (≤ 63)
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


def _closed_object(properties: dict[str, Any], *, required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _strings_of(*names: str) -> dict[str, Any]:
    return {name: _STRINGS for name in names}


# Istio security/v1 AuthorizationPolicy, every field of its API (istio.io/api security/v1beta1
# authorization_policy.proto; v1 is the same message), closed as strict field validation closes them: what the
# export writes, and what a hand-written one keeps (`when`, `notPaths`, `provider`, `targetRefs`, …)
_TARGET_REF = _closed_object({name: {"type": "string"} for name in ("group", "kind", "name", "namespace")})
_ISTIO_SOURCE = _closed_object(
    _strings_of(
        "principals",
        "notPrincipals",
        "requestPrincipals",
        "notRequestPrincipals",
        "namespaces",
        "notNamespaces",
        "serviceAccounts",
        "notServiceAccounts",
        "ipBlocks",
        "notIpBlocks",
        "remoteIpBlocks",
        "notRemoteIpBlocks",
    )
)
_ISTIO_OPERATION = _closed_object(
    _strings_of("hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths")
)
_ISTIO_RULE = _closed_object(
    {
        "from": {"type": "array", "items": _closed_object({"source": _ISTIO_SOURCE})},
        "to": {"type": "array", "items": _closed_object({"operation": _ISTIO_OPERATION})},
        "when": {
            "type": "array",
            "items": _closed_object(
                {"key": {"type": "string"}, **_strings_of("values", "notValues")}, required=("key",)
            ),
        },
    }
)
_ISTIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "spec": _closed_object(
            {
                "selector": _closed_object(
                    {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}
                ),
                "targetRef": _TARGET_REF,
                "targetRefs": {"type": "array", "items": _TARGET_REF},
                "action": {"enum": ["ALLOW", "DENY", "AUDIT", "CUSTOM"]},
                "provider": _closed_object({"name": {"type": "string"}}),
                "rules": {"type": "array", "items": _ISTIO_RULE},
            }
        )
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
    return f"{cut(doc.get('kind'))} {ns + '/' if ns else ''}{meta.get('name')}"


def _fail(doc: dict[str, Any], field_path: str, message: str) -> ExportError:
    return ExportError(f"{ref(doc)}: {field_path}: {message}", resource=ref(doc), field=field_path)


def check_names(doc: dict[str, Any]) -> None:
    """metadata.name/namespace per RFC 1123 (a Service name per RFC 1035, and an Agent's too: it is its
    Service's name, whether or not the export writes that Service) and every label key and value per
    Kubernetes label syntax."""
    kind, api = str(doc.get("kind", "")), str(doc.get("apiVersion", ""))
    if not KIND.match(kind):  # the schema lookup made a file name of it: OSError "File name too long"
        raise _fail(
            doc,
            "kind",
            f"'{cut(kind)}' is not a Kubernetes kind (a letter, then letters and digits, at most 63); fix it or "
            "remove the document",
        )
    if not API_VERSION.match(api):
        raise _fail(
            doc,
            "apiVersion",
            f"'{cut(api)}' is not a Kubernetes apiVersion (`v1` or `group/version`, e.g. apps/v1 or "
            "lmos.eclipse/v1); fix it or remove the document",
        )
    meta = doc.get("metadata") or {}
    name = str(meta.get("name", ""))
    if doc.get("kind") in LABEL_NAMES:
        if len(name) > 63 or not DNS_LABEL.match(name):
            raise _fail(
                doc,
                "metadata.name",
                f"'{name}' is not an RFC 1123 label (lower-case letters, digits "
                "and '-', at most 63, starting and ending alphanumeric); rename the "
                + ("namespace" if doc.get("kind") == "Namespace" else "agent"),
            )
        if doc.get("kind") == "Service" and not name[0].isalpha():  # RFC 1035: the API server refuses '1billing'
            raise _fail(
                doc,
                "metadata.name",
                f"'{name}' is not an RFC 1035 label (a Service name must start with a letter); rename the agent",
            )
    elif len(name) > 253 or not DNS_SUBDOMAIN.match(name):
        raise _fail(
            doc,
            "metadata.name",
            f"'{name}' is not an RFC 1123 subdomain (lower-case letters, digits, '-' and '.', at most 253); rename it",
        )
    elif _is_agent(doc) and (problem := dns1035_label_problem(name)):
        raise _fail(
            doc,
            "metadata.name",
            f"'{name}' is not an RFC 1035 label: it {problem}. An agent's name is its Service's host name (the "
            "runtime calls <agent>.<namespace>.svc.cluster.local) and the API server refuses a Service so named "
            f"(lint: invalid-name); rename the agent, e.g. {suggest_name(name, letter_prefix='agent-')!r}",
        )
    namespace = meta.get("namespace")
    if namespace is not None and (len(str(namespace)) > 63 or not DNS_LABEL.match(str(namespace))):
        raise _fail(doc, "metadata.namespace", f"'{namespace}' is not an RFC 1123 label; rename the namespace")
    for key, value in (meta.get("labels") or {}).items():
        _check_label(doc, str(key), value)
    for field_path, labels in _selector_labels(doc.get("spec"), "spec", doc.get("kind") == "Service"):
        for key, value in labels.items():
            _check_label(doc, str(key), value, field_path=f"{field_path}.{key}", fix=_POD_LABEL_FIX)


def _is_agent(doc: dict[str, Any]) -> bool:
    return doc.get("kind") == "Agent" and doc.get("apiVersion") == "lmos.eclipse/v1"


_POD_LABEL_FIX = "; pods are selected by it (the agent's name, app.kubernetes.io/name): rename the agent"


def _selector_labels(spec: Any, path: str, service: bool) -> Iterator[tuple[str, dict[str, Any]]]:
    """The label maps a resource selects or labels pods with, as (field path, labels): every `matchLabels`, a
    Service's `spec.selector`, a pod template's `metadata.labels`. The API server checks them as label syntax
    (a value over 63 characters is refused) where metadata.labels alone are checked above."""
    if not isinstance(spec, dict):
        if isinstance(spec, list):
            for index, item in enumerate(spec):
                yield from _selector_labels(item, f"{path}[{index}]", False)
        return
    if service and isinstance(spec.get("selector"), dict):
        yield f"{path}.selector", spec["selector"]
    for key, value in spec.items():
        if key == "matchLabels" and isinstance(value, dict):
            yield f"{path}.matchLabels", value
        elif key == "template" and isinstance(value, dict) and isinstance(value.get("metadata"), dict):
            labels = value["metadata"].get("labels")
            if isinstance(labels, dict):
                yield f"{path}.template.metadata.labels", labels
            yield from _selector_labels(value.get("spec"), f"{path}.template.spec", False)
        elif isinstance(value, dict | list):
            yield from _selector_labels(value, f"{path}.{key}", False)


def _check_label(doc: dict[str, Any], key: str, value: Any, *, field_path: str = "", fix: str = "") -> None:
    field_path = field_path or f"metadata.labels.{key}"
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
    if value == MASK:  # the label's value looked like a credential (redact.py): labels are public, no secret fits
        raise _fail(
            doc,
            field_path,
            "looks like a credential (masked as ***); labels are readable by anyone who can list the resource: "
            "move the secret to a Secret and the label to a harmless value",
        )
    if len(value) > 63 or not LABEL_VALUE.match(value):
        raise _fail(
            doc,
            field_path,
            f"'{value}' is not a valid label value (at most 63 alphanumerics, '-', "
            "'_', '.', starting and ending alphanumeric)" + fix,
        )


# Schema keywords whose outcome depends only on keys, types, array shapes and enum values: with only these in
# a schema, two documents of equal `_shape` validate alike (formats are not asserted by jsonschema).
_SHAPE_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "enum",
    "items",
    "$ref",
    "format",
    "oneOf",
    "anyOf",
    "allOf",
    "description",
    "default",
    "$schema",
    "$id",
    "$defs",
    "definitions",
}
_NAME_MAPS = ("properties", "$defs", "definitions")  # keywords whose keys are names, not keywords
_PLACEHOLDER = "\u0000"  # stands for every string that is no enum value of the schema
_ONLY_STR = {str}
_CONTAINERS = (dict, list)  # a tuple: `dict | list` would build a union at every check


def _schema_facts(schema: Any, keywords: set[str], enums: set[str]) -> None:
    """Collect the keywords a schema uses and every string enum value in it."""
    if isinstance(schema, list):
        for item in schema:
            _schema_facts(item, keywords, enums)
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        keywords.add(key)
        if key in _NAME_MAPS and isinstance(value, dict):
            for sub in value.values():
                _schema_facts(sub, keywords, enums)
        elif key == "enum" and isinstance(value, list):
            enums.update(v for v in value if isinstance(v, str))
            if any(isinstance(v, _CONTAINERS) for v in value):
                keywords.add("enum of objects or arrays")  # not a shape keyword: `_shape` merges array items
        elif key in ("items", "additionalProperties", "oneOf", "anyOf", "allOf", "not"):
            if key == "items" and isinstance(value, list):
                keywords.add("items as a list")  # positional (older drafts): not a shape keyword
            _schema_facts(value, keywords, enums)


class _Unhashable(Exception):
    """A document holds a value that cannot be part of a shape key (it is then validated, not memoised)."""


_EMPTY_LIST: tuple[type, frozenset[Any]] = (list, frozenset())


def _shape(value: Any, enums: set[str]) -> Any:
    """A hashable key of what a shape-only schema can see of `value`: object keys, types, the values of enum
    strings (every other string is one placeholder), non-string scalars as (type, value), and of an array only
    whether it is empty and the set of its items' shapes: with `_SHAPE_KEYWORDS` only (no minItems,
    uniqueItems, prefixItems, contains, no array-valued enum), an array is valid iff each distinct item
    shape is, so 1 000 Agents whose capability lists differ only in length and wording share one key."""
    kind = type(value)
    if kind is str:
        return value if value in enums else _PLACEHOLDER
    if kind is dict:
        return frozenset(
            (k if type(k) is str else (type(k), k), v if v in enums else _PLACEHOLDER)
            if type(v) is str
            else (k if type(k) is str else (type(k), k), _shape(v, enums))
            for k, v in value.items()
        )
    if kind is list:
        if not value:
            return _EMPTY_LIST
        if set(map(type, value)) == _ONLY_STR:  # a list of strings (examples, tenants): set algebra in C
            words = set(value)
            known = words & enums
            return (list, frozenset(known | {_PLACEHOLDER}) if len(known) < len(words) else frozenset(known))
        return (list, frozenset(_shape(v, enums) for v in value))
    if isinstance(value, str):  # subclasses: jsonschema sees a string, a object, an array as above
        return _shape(str(value), enums)
    if isinstance(value, dict):
        return _shape(dict(value), enums)
    if isinstance(value, list):
        return _shape(list(value), enums)
    try:
        hash(value)
    except TypeError as exc:
        raise _Unhashable from exc
    return (kind, value)


@dataclass
class _Schema:
    label: str
    validator: jsonschema.protocols.Validator | None
    enums: set[str] = field(default_factory=set)
    shape_only: bool = False  # documents of equal `_shape` validate alike (see _SHAPE_KEYWORDS)
    valid_shapes: set[Any] = field(default_factory=set)  # `_shape` keys of documents found valid


class Validator:
    """Validates documents; holds the compiled schemas of the kinds it has seen and, for schemas that only
    constrain shapes and enum values, the document shapes already found valid (so 1 000 Deployments
    that differ only in names cost a handful of schema validations)."""

    def __init__(self, kubernetes_version: str = KUBERNETES_VERSION) -> None:
        self.kubernetes_version = kubernetes_version
        self._schemas: dict[tuple[str, str, bool], _Schema] = {}
        self._definitions: dict[bool, tuple[Resource[Any], set[str], set[str]]] = {}

    def _schema_dir(self, strict: bool) -> str:
        return f"kubernetes-json-schema/v{self.kubernetes_version}.0-local" + ("-strict" if strict else "")

    def _kubernetes(self, api_version: str, kind: str, strict: bool) -> _Schema:
        from kubernetes_validate import utils  # loads importlib_resources; only needed when validating

        label = f"Kubernetes {self.kubernetes_version} OpenAPI" + (" (strict)" if strict else "")
        group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)  # apps/v1 → apps-v1 (their file names)
        try:
            schema = utils.schema_contents(
                f"{self._schema_dir(strict)}/{kind.lower()}-{group}.json", self.kubernetes_version
            )
        except FileNotFoundError:
            return _Schema(label, None)
        except utils.VersionNotSupportedError as exc:
            raise ExportError(
                f"kubernetes-validate has no schemas for Kubernetes {self.kubernetes_version}; "
                "pip install -U kubernetes-validate"
            ) from exc
        definitions, keywords, enums = self._definitions_of(strict)
        keywords, enums = set(keywords), set(enums)
        _schema_facts(schema, keywords, enums)
        registry: Registry[Any] = definitions @ (Resource.from_contents(schema) @ Registry())
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        return _Schema(label, validator, enums, _shape_only(keywords))

    def _definitions_of(self, strict: bool) -> tuple[Resource[Any], set[str], set[str]]:
        """The Kubernetes OpenAPI definitions (ObjectMeta, …) as a schema resource, its keywords and enum values."""
        from kubernetes_validate import utils

        if strict not in self._definitions:
            try:
                contents = utils.schema_contents(
                    f"{self._schema_dir(strict)}/_definitions.json", self.kubernetes_version
                )
            except utils.VersionNotSupportedError as exc:
                raise ExportError(
                    f"kubernetes-validate has no schemas for Kubernetes {self.kubernetes_version}; "
                    "pip install -U kubernetes-validate"
                ) from exc
            keywords: set[str] = set()
            enums: set[str] = set()
            _schema_facts(contents, keywords, enums)
            self._definitions[strict] = (Resource.from_contents(contents), keywords, enums)
        return self._definitions[strict]

    def _with_object_meta(self, label: str, schema: dict[str, Any], strict: bool) -> _Schema:
        """A custom resource's schema whose `metadata` is Kubernetes' ObjectMeta, as the API server reads every
        object's metadata (a CRD cannot declare it: `finalizers: x` or an ownerReference without uid is refused)."""
        definitions, keywords, enums = self._definitions_of(strict)
        schema = {**schema, "properties": {**schema["properties"], "metadata": {"$ref": OBJECT_META_REF}}}
        keywords, enums = set(keywords), set(enums)
        _schema_facts(schema, keywords, enums)
        registry: Registry[Any] = definitions @ Registry()
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        label = f"{label}, metadata as Kubernetes {self.kubernetes_version} ObjectMeta"
        return _Schema(label, validator, enums, _shape_only(keywords))

    def _schema(self, doc: dict[str, Any], strict: bool) -> _Schema:
        api, kind = str(doc.get("apiVersion", "")), str(doc.get("kind", ""))
        key = (api, kind, strict)
        if key not in self._schemas:
            if api == "lmos.eclipse/v1" and kind in LMOS_CRD_KINDS:
                label = f"CRD {kind.lower()}s.lmos.eclipse" + (" (strict)" if strict else "")
                crd = strict_schema(kind) if strict else lmos_schema(kind)
                self._schemas[key] = self._with_object_meta(label, crd, strict)
            elif api.startswith("security.istio.io/") and kind == "AuthorizationPolicy":
                label = "AuthorizationPolicy (Istio security/v1)"
                self._schemas[key] = self._with_object_meta(label, _ISTIO_SCHEMA, strict)
            else:
                self._schemas[key] = self._kubernetes(api, kind, strict)
        return self._schemas[key]

    def validate(self, doc: dict[str, Any], *, path: str, strict: bool = True) -> dict[str, str]:
        """Raise `ExportError` (resource, field) if the document is invalid; else its report row."""
        check_names(doc)
        schema = self._schema(doc, strict)
        row = {"file": path, "resource": ref(doc), "schema": schema.label, "status": "valid"}
        if schema.validator is None:
            return {**row, "schema": "—", "status": "not validated (no offline schema)"}
        shape = _shape_key(doc, schema)
        if shape is not None and shape in schema.valid_shapes:
            return row
        error = jsonschema.exceptions.best_match(schema.validator.iter_errors(doc))
        if error is not None:
            field_path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            field_path = field_path.lstrip(".") or "(document)"
            hint = ""
            if error.validator == "additionalProperties":
                hint = "; `kubectl apply` (strict field validation, its default) would refuse it: remove the field"
                unexpected = _unexpected(error)
                if len(unexpected) == 1:  # name the field itself, not its parent
                    field_path = f"{field_path}.{unexpected[0]}" if field_path != "(document)" else unexpected[0]
            raise _fail(doc, field_path, f"{error.message} ({schema.label}; file {path}){hint}")
        if shape is not None:
            schema.valid_shapes.add(shape)
        return row


def _shape_key(doc: dict[str, Any], schema: _Schema) -> Any:
    """The document's `_shape` for a shape-only schema, else None (validate it in full)."""
    if not schema.shape_only:
        return None
    try:
        return _shape(doc, schema.enums)
    except _Unhashable:
        return None


def _unexpected(error: jsonschema.exceptions.ValidationError) -> list[str]:
    declared = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
    return [str(k) for k in error.instance if k not in declared] if isinstance(error.instance, dict) else []


def declared_only(doc: Any, schema: dict[str, Any]) -> Any:
    """A copy of `doc` without the fields a closed schema (`additionalProperties: false`) does not declare.

    Only objects and arrays are walked (a scalar is itself under any schema), and an array whose item schema
    declares neither properties nor items is copied as it is."""
    props = schema.get("properties")
    if isinstance(doc, dict) and isinstance(props, dict):
        closed = schema.get("additionalProperties") is False
        return {
            k: declared_only(v, props[k]) if k in props and isinstance(v, _CONTAINERS) else v
            for k, v in doc.items()
            if not closed or k in props
        }
    items = schema.get("items")
    if isinstance(doc, list) and isinstance(items, dict):
        if not (isinstance(items.get("properties"), dict) or isinstance(items.get("items"), dict)):
            return list(doc)
        return [declared_only(item, items) if isinstance(item, _CONTAINERS) else item for item in doc]
    return doc


def _shape_only(keywords: set[str]) -> bool:
    return all(k in _SHAPE_KEYWORDS or k.startswith("x-") for k in keywords)


def _local(label: str, schema: dict[str, Any]) -> _Schema:
    keywords: set[str] = set()
    enums: set[str] = set()
    _schema_facts(schema, keywords, enums)
    return _Schema(label, jsonschema.Draft202012Validator(schema), enums, _shape_only(keywords))
