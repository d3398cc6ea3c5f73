"""Hand edits to an export's generated documents, which import would otherwise drop without a word.

Import drops what an export generated (CRDs, Namespaces, workloads, policies, previews: the annotation
`studio.lmos.eclipse/generated` or `studio.lmos.eclipse/preview`) and the next export derives them again from
the design. Here the imported design is exported again, with the options the documents show it was exported
with (workloads, Istio, registry, the LMOS namespace), and each generated document read is compared with the one
the design generates now: one that differs was edited by hand, and that edit would be lost. One the design does not
generate any more (its agent was removed, or it is a copy) is named too: it is dropped. So is an export folder's
kustomization.yaml that differs from the one export writes (added `images:`, `patches:`, a `resources` entry that
is not a file of the folder, or a file the export writes left out of `resources`), as `FoundKustomization` holds
it: import does not read it and export writes it anew. Pure: no I/O.
"""

from __future__ import annotations

import json
import posixpath
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lmos_studio.errors import ExportError
from lmos_studio.export import registry as registry_export
from lmos_studio.export.bundle import Bundle, ExportOptions, export_design
from lmos_studio.export.kustomize import kustomization_document
from lmos_studio.export.manifests import SECRET_NAME
from lmos_studio.export.policy import lmos_namespace_of
from lmos_studio.formats.design_file import GENERATED_ANNOTATION, PREVIEW_ANNOTATION
from lmos_studio.formats.yamltypes import LineDict
from lmos_studio.model import DEFAULT_NAMESPACE, Design
from lmos_studio.redact import redact_text

MAX_WARNED = 20  # edited documents named one by one; the rest are counted
MAX_VALUE_CHARS = 60  # a value shown in a warning is cut here
WORKLOAD_KINDS = ("Deployment", "Service", "ServiceAccount", "NetworkPolicy", "AuthorizationPolicy")
Derived = tuple[str, dict[str, Any]]  # ("file:line", document) as `LoadResult.derived` holds them


def _key(doc: dict[str, Any]) -> tuple[str, str, str, str]:
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return (str(doc.get("apiVersion")), str(doc.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")))


def _labels(doc: dict[str, Any]) -> dict[str, Any]:
    meta = doc.get("metadata")
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return labels if isinstance(labels, dict) else {}


def _is_registry(doc: dict[str, Any]) -> bool:
    component = "app.kubernetes.io/component"
    return _labels(doc).get(component) == registry_export.LABELS[component]


def _registry_image(doc: dict[str, Any]) -> str | None:
    try:
        image = doc["spec"]["template"]["spec"]["containers"][0]["image"]
    except (KeyError, IndexError, TypeError):
        return None
    return image if isinstance(image, str) else None


def export_options_of(docs: Iterable[dict[str, Any]]) -> ExportOptions:
    """The options an export with these generated documents was made with, as far as they show: Istio when an
    AuthorizationPolicy or an injection-labelled Namespace is there, workloads when agents' workloads or policies
    are, the registry (its namespace and image) when its Deployment is, and the LMOS namespace the allow policies
    admit lmos-runtime from (the most common one, so one edited policy does not decide it)."""
    istio = workloads = False
    registry_namespace: str | None = None
    image = registry_export.DEFAULT_IMAGE
    namespaces: Counter[str] = Counter()
    for doc in docs:
        kind = doc.get("kind")
        if kind == "AuthorizationPolicy" or (kind == "Namespace" and _labels(doc).get("istio-injection") == "enabled"):
            istio = True
        if _is_registry(doc):
            if kind == "Deployment":
                registry_namespace = _key(doc)[2] or DEFAULT_NAMESPACE
                image = _registry_image(doc) or image
            continue
        if kind in WORKLOAD_KINDS:
            workloads = True
        found = lmos_namespace_of(doc)
        if found:
            namespaces[found] += 1
    lmos_namespace = registry_namespace or (namespaces.most_common(1)[0][0] if namespaces else DEFAULT_NAMESPACE)
    return ExportOptions(
        with_workloads=workloads,
        with_istio=istio,
        with_registry=registry_namespace is not None,
        registry_image=image,
        lmos_namespace=lmos_namespace,
    )


def first_difference(found: Any, made: Any, path: str = "") -> tuple[str, Any, Any] | None:
    """The first field (a dotted path, [i] for list items, ["a.b/c"] for keys with dots) where `found` and `made`
    differ, with both values (`_ABSENT` for a missing key or item); None when they are equal."""
    if found == made:
        return None
    if isinstance(found, dict) and isinstance(made, dict):
        for key in [*made, *sorted(k for k in found if k not in made)]:
            here = f'{path}["{key}"]' if "." in str(key) else f"{path}.{key}" if path else str(key)  # label keys
            difference = first_difference(found.get(key, _ABSENT), made.get(key, _ABSENT), here)
            if difference is not None:
                return difference
    if isinstance(found, list) and isinstance(made, list):
        for i in range(max(len(found), len(made))):
            mine = found[i] if i < len(found) else _ABSENT
            theirs = made[i] if i < len(made) else _ABSENT
            difference = first_difference(mine, theirs, f"{path}[{i}]")
            if difference is not None:
                return difference
    return path or "(document)", found, made


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


_ABSENT = _Absent()


def _text(value: Any) -> str:
    return repr(value) if value is _ABSENT else json.dumps(value, ensure_ascii=False, default=str)


def _shown(text: str) -> str:
    text = redact_text(text)  # no user-info or secret query values of a URL
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _values(field: str, found: Any, made: Any) -> str:
    """Both values for the warning, or neither when they may hold a secret (an env var, a secret-looking name)."""
    texts = (_text(found), _text(made))
    if ".env[" in field or field.endswith(".env") or any(SECRET_NAME.search(t) for t in (field, *texts)):
        return f"{field}: values not shown, they may hold a secret"
    return f"{field}: {_shown(texts[0])} in the file, {_shown(texts[1])} from the design"


def _marker(doc: dict[str, Any]) -> str:
    annotations = (doc.get("metadata") or {}).get("annotations") or {}
    return GENERATED_ANNOTATION if annotations.get(GENERATED_ANNOTATION) == "true" else PREVIEW_ANNOTATION


def _named(location: str, doc: dict[str, Any]) -> str:
    _, kind, namespace, name = _key(doc)
    return f"{location}: {kind} {namespace + '/' if namespace else ''}{name}"


def _warning(location: str, doc: dict[str, Any], difference: tuple[str, Any, Any]) -> str:
    field, found, made = difference
    return (
        f"{_named(location, doc)} is a generated document that differs "
        f"from what the design generates ({_values(field, found, made)}); "
        "import (and export from an export) drops generated documents and export writes them anew, so this edit "
        "would be lost: "
        f"move the change into the design, or keep the file as written by removing its annotation {_marker(doc)} "
        "(a hand-written document replaces the generated one)"
    )


def _orphan_warning(location: str, doc: dict[str, Any]) -> str:
    return (
        f"{_named(location, doc)} is a generated document that is not generated from this design any more; "
        "dropped (its agent or channel was removed or renamed, or the file is a copy): if it should stay, add what "
        f"it belongs to back to the design, or keep the file as written by removing its annotation {_marker(doc)}; "
        "otherwise delete the file"
    )


@dataclass(frozen=True)
class FoundKustomization:
    """An export folder's kustomization.yaml as read: its path (as shown), its document (None when it could not
    be read: `problem` says why), and the files of that folder import reads ('/'-separated, relative to it),
    which a `resources` entry may name without being lost (import keeps their documents; export lists them)."""

    path: str
    document: Any = None
    files: frozenset[str] = frozenset()
    problem: str = ""


def _line_of(doc: Any, field: str) -> int:
    """The line of `field`'s top-level key in `doc` (of the document when unknown)."""
    if not isinstance(doc, LineDict):
        return 0
    return doc.line_of(field.split(".", 1)[0].split("[", 1)[0])


def _resources_difference(found: FoundKustomization, made: list[str]) -> tuple[str, str] | None:
    """The first `resources` entry that the next export drops (not written by it, not a file import reads) or
    adds back (a file of the folder the export writes and applies, left out here), as (field, both values)."""
    listed = found.document.get("resources")
    for entry in listed:
        if entry not in made and posixpath.normpath(entry) not in found.files:
            return "resources", f"resources: {_shown(_text(entry))} in the file, (absent) from the design"
    kept = {posixpath.normpath(entry) for entry in listed}
    for entry in made:
        if entry not in kept and entry in found.files:
            return "resources", f"resources: (absent) in the file, {_shown(_text(entry))} from the design"
    return None


def _kustomization_difference(found: FoundKustomization, made: dict[str, Any]) -> tuple[str, str] | None:
    """The first difference between a kustomization.yaml read and the one export writes that the next export
    loses, as (field, both values); `resources` entries count as `_resources_difference` says."""
    doc = found.document
    listed = doc.get("resources") if isinstance(doc, dict) else None
    if isinstance(listed, list) and all(isinstance(entry, str) for entry in listed):
        if (difference := _resources_difference(found, made["resources"])) is not None:
            return difference
        doc = {k: v for k, v in doc.items() if k != "resources"}
        made = {k: v for k, v in made.items() if k != "resources"}
    field_difference = first_difference(doc, made)
    return None if field_difference is None else (field_difference[0], _values(*field_difference))


def _kustomization_warning(found: FoundKustomization, made: dict[str, Any]) -> str | None:
    if found.problem:
        return f"{found.problem}; kustomization.yaml not checked for hand edits (export writes it anew)"
    difference = _kustomization_difference(found, made)
    if difference is None:
        return None
    field, values = difference
    line = _line_of(found.document, field)
    return (
        f"{found.path}{f':{line}' if line else ''}: the Kustomization differs from what export writes ({values}); "
        "import and export do not read it and export writes it anew, so this edit would be lost: make the change "
        "in an overlay (a kustomization.yaml of your own in another folder, with resources: [<path of this "
        "export>]), or in the design"
    )


def hand_edit_warnings(
    design: Design, derived: Sequence[Derived], *, kustomizations: Sequence[FoundKustomization] = ()
) -> list[str]:
    """One warning per generated document (of `derived`, as read) that differs from what `design` generates or
    that `design` does not generate at all; empty when there are none to compare. An imported design that
    cannot be exported is one warning."""
    if not derived and not kustomizations:
        return []
    options = export_options_of(doc for _, doc in derived)
    try:
        bundle = export_design(design, options, validate=False)  # compared, not written
    except ExportError as exc:
        return [f"generated documents not checked for hand edits: the imported design does not export ({exc})"]
    warnings = _document_warnings(bundle, derived)
    made_kustomization = kustomization_document(bundle)
    for found in kustomizations:
        if (warning := _kustomization_warning(found, made_kustomization)) is not None:
            warnings.append(warning)
    return warnings


def _document_warnings(bundle: Bundle, derived: Sequence[Derived]) -> list[str]:
    made = {_key(m.document): m.document for m in bundle.manifests if m.generated}
    replaced = {_key(m.document) for m in bundle.manifests if not m.generated}  # a hand-written one wins
    warnings = []
    edited = 0
    for location, doc in derived:
        regenerated = made.get(_key(doc))
        if regenerated is None and _key(doc) in replaced:
            continue  # as documented: the hand-written document replaces it
        if regenerated is None:
            warning = _orphan_warning(location, doc)
        elif (difference := first_difference(doc, regenerated)) is not None:
            warning = _warning(location, doc, difference)
        else:
            continue
        edited += 1
        if edited <= MAX_WARNED:
            warnings.append(warning)
    if edited > MAX_WARNED:
        warnings.append(
            f"and {edited - MAX_WARNED} more generated documents differ from what the design generates "
            "or are not generated from it any more"
        )
    return warnings
