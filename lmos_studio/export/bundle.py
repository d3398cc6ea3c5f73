"""An export bundle: every document of a design with its file path, validated, plus the reports.

`export_design(design, options)` is pure (no I/O) and all-or-nothing: it raises `ExportError` naming the
resource and field, or returns a `Bundle` whose documents all validate. Folder layout (stable names):

    kustomization.yaml                   lists what `kubectl apply -k` applies (everything below but
                                         preview/ and studio/)
    crds/<plural>.lmos.eclipse.yaml      the four LMOS CRDs
    namespaces/<ns>.yaml                 Namespaces other than `default`
    agents|channels|rollouts/<ns>/<name>.yaml
    deployments|services|serviceaccounts/<ns>/<agent>.yaml       --with-workloads
    policies/network/<ns>/<name>.yaml    default deny + one allow policy per agent (with workloads)
    policies/istio/<ns>/<name>.yaml      Istio AuthorizationPolicy per agent (--with-istio)
    deployments|services/<lmos ns>/lmos-studio-registry.yaml, policies/network/<lmos ns>/lmos-studio-registry-allow.yaml
                                         the registry on PostgreSQL (--with-registry; Secret by reference)
    other/<ns>/<kind>-<name>.yaml        documents of kinds Studio does not model, kept as they were (not a
                                         Secret: its values never enter an export; a note says so)
    preview/<ns>/<channel>.yaml          the ChannelRouting the operator would generate (NOT applied)
    studio/design.yaml                   Studio-only data (groups, trust, tests, workloads; NOT applied), and
                                         under spec.resourceFields what the LMOS resources may not carry
                                         (fields their CRDs do not declare, status, server fields)

A file name past 255 bytes is cut, keeping a digest of the whole name (`file_name`).

Derived documents (CRDs, Namespaces, workloads, policies) carry the annotation
`studio.lmos.eclipse/generated: "true"` (and the label `app.kubernetes.io/managed-by: lmos-studio`), previews
`studio.lmos.eclipse/preview: "true"`; the importer drops them and the next export derives them again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmos_studio.errors import ExportError, ExportOptionError
from lmos_studio.export import crds, manifests, policy
from lmos_studio.export import registry as registry_export
from lmos_studio.export.istio import (
    is_subset_split,
    moved_virtual_service,
    operator_host_notes,
    synced_virtual_service,
    unsplit_rollout_notes,
)
from lmos_studio.export.validate import KUBERNETES_VERSION, ValidationReport, Validator, declared_only, ref
from lmos_studio.formats.design_file import GENERATED_ANNOTATION, PREVIEW_ANNOTATION, MaskedDesign, masked_design
from lmos_studio.formats.resource_fields import RESOURCE_FIELDS_KEY, fields_left_out
from lmos_studio.formats.yamlio import gc_paused
from lmos_studio.model import DEFAULT_NAMESPACE, Agent, Channel, ChannelRollout, Design
from lmos_studio.names import dns1123_label_problem
from lmos_studio.redact import redact_data
from lmos_studio.renames import move_namespace
from lmos_studio.resolve import invalid_versions, resolve_design
from lmos_studio.visible import SHOWN_CHARS, cut

STUDIO_PATH = "studio/design.yaml"
NOT_APPLIED = ("preview/", "studio/")  # folders kept out of kustomization.yaml
MAX_NOTED_FIELDS = 4  # field pointers named in one note before "…"
_FOLDERS = {
    "Agent": "agents",
    "Channel": "channels",
    "ChannelRollout": "rollouts",
    "Deployment": "deployments",
    "Service": "services",
    "ServiceAccount": "serviceaccounts",
    "NetworkPolicy": "policies/network",
    "AuthorizationPolicy": "policies/istio",
}


@dataclass(frozen=True)
class FieldNames:
    """The labels of a form's fields that hold export options, for the messages about a value typed there (they
    name the field and say to fix the value typed there). An option without a label here is named by its CLI flag."""

    namespace: str | None = None
    lmos_namespace: str | None = None
    registry_image: str | None = None


@dataclass(frozen=True)
class ExportOptions:
    """What to export. `namespace` moves a single-namespace design into that namespace. `fields`: how a form
    names the options typed in it (None: the options are the CLI's flags, and its messages name them)."""

    with_workloads: bool = False
    with_istio: bool = False  # implies workloads: principals are the workloads' service accounts
    with_registry: bool = False  # the registry (2 replicas on PostgreSQL) in lmos_namespace
    registry_image: str = registry_export.DEFAULT_IMAGE
    namespace: str | None = None
    lmos_namespace: str = DEFAULT_NAMESPACE  # where lmos-runtime and lmos-operator run
    kubernetes_version: str = KUBERNETES_VERSION
    fields: FieldNames | None = None


@dataclass(frozen=True)
class Manifest:
    """One exported document and its path in the folder; `applied` = listed in kustomization.yaml."""

    path: str
    document: dict[str, Any]
    generated: bool = True

    @property
    def applied(self) -> bool:
        return not self.path.startswith(NOT_APPLIED)

    @property
    def ref(self) -> str:
        return ref(self.document)


@dataclass
class Bundle:
    """Everything an export writes, validated, with the reports the Export page shows."""

    design: Design
    options: ExportOptions
    manifests: list[Manifest]
    policy: policy.PolicyReport
    validation: ValidationReport
    notes: list[str] = field(default_factory=list)

    @property
    def applied_paths(self) -> list[str]:
        return sorted(m.path for m in self.manifests if m.applied)

    def validation_summary(self) -> str:
        """One sentence: how many documents are valid against what, and how many had no offline schema."""
        skipped = len(self.validation.not_validated)
        valid = len(self.validation.rows) - skipped
        text = (
            f"All {valid} documents are valid (Kubernetes {self.options.kubernetes_version} OpenAPI, "
            "the LMOS CRDs, RFC 1123 names, RFC 1035 for Services and Agents, and label values)"
        )
        return text + (f"; {skipped} of kinds without an offline schema were not validated" if skipped else "")

    def policy_counts(self) -> dict[str, int]:
        """How many trust edges each policy status has (enforced, partial, not-enforced)."""
        rows = self.policy.rows
        return {status: sum(r.status == status for r in rows) for status in ("enforced", "partial", "not-enforced")}


def file_tree(paths: Sequence[str]) -> str:
    """Files as an indented tree (each folder once, its files under it), like `tree`."""
    lines: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for path in paths:
        parts = path.split("/")
        for depth in range(len(parts) - 1):
            folder = tuple(parts[: depth + 1])
            if folder not in seen:
                seen.add(folder)
                lines.append("  " * depth + parts[depth] + "/")
        lines.append("  " * (len(parts) - 1) + parts[-1])
    return "\n".join(lines)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


MAX_FILE_NAME_BYTES = 255  # a file name (Linux NAME_MAX): an RFC 1123 subdomain name may be 253 characters
NAME_DIGEST_CHARS = 12  # hex characters of the SHA-256 that keep a shortened file name unique


def file_name(stem: str) -> str:
    """`<stem>.yaml` for a `_safe` stem (ASCII), shortened where a file system could not hold it: the start of the
    stem and a digest of the whole, so that two long names still get two files (a Channel named with 253
    characters, or a kept ConfigMap's `configmap-<name>`, failed the export with 'File name too long')."""
    name = f"{stem}.yaml"
    if len(name) <= MAX_FILE_NAME_BYTES:
        return name
    digest = hashlib.sha256(stem.encode("utf-8")).hexdigest()[:NAME_DIGEST_CHARS]
    keep = MAX_FILE_NAME_BYTES - len(".yaml") - 1 - NAME_DIGEST_CHARS
    return f"{stem[:keep]}-{digest}.yaml"


def path_of(doc: dict[str, Any]) -> str:
    """The stable file path of a document in the export folder."""
    kind, meta = str(doc["kind"]), doc["metadata"]
    name, ns = _safe(str(meta["name"])), meta.get("namespace")
    if kind == "CustomResourceDefinition":
        return f"crds/{file_name(name)}"
    if kind == "Namespace":
        return f"namespaces/{file_name(name)}"
    if kind == "ChannelRouting" and (meta.get("annotations") or {}).get(PREVIEW_ANNOTATION) == "true":
        return f"preview/{ns}/{file_name(name)}"
    folder = _FOLDERS.get(kind)
    if folder is not None and (
        kind in ("Agent", "Channel", "ChannelRollout")
        or (meta.get("annotations") or {}).get(GENERATED_ANNOTATION) == "true"
    ):
        return f"{folder}/{ns}/{file_name(name)}"
    return f"other/{_safe(str(ns)) if ns else '_cluster'}/{file_name(f'{_safe(kind.lower())}-{name}')}"


def retarget(design: Design, namespace: str, *, field: str | None = None) -> Design:
    """The design moved into one namespace (`renames.move_namespace`: what names its objects by key and each agent's
    endpoints at its own Service follow, and `_moved_resources`: the subset-split VirtualService); refused when it
    spans several (resolution would change) or keeps other resources in its namespace. `field`: the label of the
    form's field the namespace was typed in (None: the CLI's --namespace)."""
    spaces = design.namespaces
    if field is None:
        said, fix = f"--namespace {namespace}", ". Export without --namespace"
    else:
        said, fix = f"The field '{field}' ({namespace!r})", "; clear the value typed there"
    if len(spaces) > 1:
        raise ExportOptionError(
            f"{said}: the design spans namespaces {', '.join(spaces)}; moving them into one would change what "
            f"each Channel resolves{fix}",
            resource=f"Design {design.name}",
            field=field or "--namespace",
        )
    moved = move_namespace(design, namespace)  # what names them by key (trust, groups, tests, endpoints) follows
    if not spaces or spaces[0] == namespace:
        return moved
    stay = [
        f"{raw.get('kind')} {spaces[0]}/{(raw.get('metadata') or {}).get('name')}"
        for raw in design.other_resources
        if _namespace_of(raw) == spaces[0] and raw.get("kind") != "Kustomization" and not is_subset_split(raw)
    ]
    if stay:  # their contents may name the namespace too (hosts, subjects, …): moving them is not ours to do
        raise ExportOptionError(
            f"{said}: the design keeps {', '.join(stay)} in namespace {spaces[0]}, which the export does not "
            f"know how to move; set their metadata.namespace (and what in them names {spaces[0]}) in the design "
            f"first{fix}",
            resource=f"Design {design.name}",
            field=field or "--namespace",
        )
    others = tuple(
        moved_virtual_service(raw, spaces[0], namespace) if is_subset_split(raw) else raw  # wherever it is written
        for raw in design.other_resources
    )
    return moved.replace(other_resources=others)


def _namespace_of(raw: dict[str, Any]) -> object:
    meta = raw.get("metadata")
    return meta.get("namespace") if isinstance(meta, dict) else None


def canonical(design: Design) -> Design:
    """Agents, Channels and rollouts in file order (namespace, file name), the order import reads them in."""

    def key(obj: Agent | Channel | ChannelRollout) -> tuple[str, str]:
        return (obj.namespace, file_name(_safe(obj.name)))  # Path sorting compares the file names with suffix

    return design.replace(
        agents=tuple(sorted(design.agents, key=key)),
        channels=tuple(sorted(design.channels, key=key)),
        rollouts=tuple(sorted(design.rollouts, key=key)),
    )


def strict_resource(full: dict[str, Any], clean: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """An LMOS resource (`clean`, default `full`) with only the fields its CRD declares, and the fields of
    `full` that it therefore lacks (JSON Pointer → value)."""
    kept: dict[str, Any] = declared_only(clean if clean is not None else full, crds.strict_schema(str(full["kind"])))
    return kept, fields_left_out(full, kept)


def _strict(full: dict[str, Any], clean: dict[str, Any], left_out: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`clean` with only the fields its CRD declares; what `full` had beyond that is noted in `left_out`."""
    kept, fields = strict_resource(full, clean)
    if fields:
        left_out[ref(kept)] = fields
    return kept


def _lmos_documents(design: Design, left_out: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], MaskedDesign]:
    """The LMOS documents of the export and the design's documents as a design file writes them (masked once:
    the export's Agents, Channels and rollouts, its Studio document and the warnings on what was masked)."""
    for exc in invalid_versions(design):  # the operator would fail every reconcile that meets it (§1.6)
        agent = next(a for a in design.agents if a.name == exc.agent)
        index = next(i for i, c in enumerate(agent.capabilities) if c.version == exc.value)
        raise ExportError(
            f"Agent {agent.key}: spec.providedCapabilities[{index}].version: '{exc.value}' is not strict "
            "SemVer (MAJOR.MINOR.PATCH); fix it before exporting",
            resource=f"Agent {agent.key}",
            field=f"spec.providedCapabilities[{index}].version",
        )
    resolutions = resolve_design(design)
    docs = crds.crds(labels=manifests.MANAGED_BY)
    docs += [manifests.namespace_resource(ns, istio=False) for ns in design.namespaces if ns != DEFAULT_NAMESPACE]
    written = masked_design(design, explicit_namespace=True)
    docs += [_strict(doc, _agent_manifest(a), left_out) for a, doc in zip(design.agents, written.agents, strict=True)]
    docs += [
        _strict(doc, _masked(manifests.channel_resource(c)), left_out)
        for c, doc in zip(design.channels, written.channels, strict=True)
    ]
    docs += [
        _strict(doc, _masked(manifests.rollout_resource(r)), left_out)
        for r, doc in zip(design.rollouts, written.rollouts, strict=True)
    ]
    # a preview repeats the agents' descriptions; derived and never read back, so whatever looks like a credential goes
    docs += [redact_data(manifests.routing_preview(r))[0] for r in resolutions]
    return docs, written


def _agent_manifest(agent: Agent) -> dict[str, Any]:
    """The Agent manifest, masked as the design file masks it (`agent_document`)."""
    return _masked(manifests.agent_resource(agent))


def _masked(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its credentials masked as a design file masks them (`masked_credentials` names them)."""
    return redact_data(doc)[0]  # type: ignore[no-any-return]


def _studio_document(written: MaskedDesign, left_out: dict[str, dict[str, Any]]) -> dict[str, Any]:
    studio = written.studio
    if left_out:
        studio["spec"][RESOURCE_FIELDS_KEY] = left_out
    return studio


def export_design(
    design: Design,
    options: ExportOptions | None = None,
    *,
    validate: bool = True,
    locations: Mapping[str, str] | None = None,
) -> Bundle:
    """Every document of the export, validated; raises `ExportError` (resource, field) and writes nothing.
    `validate=False` skips the schema validation (half the CPU; an empty report): for a caller that only compares
    the documents, such as import's check for hand edits, never for one that writes them. `locations`
    (`LoadResult.locations`: "Agent ns/name" → "file:line"): an error about a resource read from a file names it.

    The cyclic collector is paused meanwhile: an export builds a few documents per agent and no cycles, so a
    collection would only re-walk the growing bundle (a third of the CPU at 10 000 agents)."""
    options = options or ExportOptions()
    try:
        with gc_paused():
            return _export_design(design, options, validate=validate)
    except ExportError as exc:
        where = _location(exc.resource, design, options, locations or {})
        if where is None:
            raise
        raise type(exc)(f"{where}: {exc}", resource=exc.resource, field=exc.field) from exc


def _location(resource: str | None, design: Design, options: ExportOptions, locations: Mapping[str, str]) -> str | None:
    """Where the resource an export error names was read ("file:line"), also after `retarget` moved it."""
    if resource is None:
        return None
    kind, _, key = resource.partition(" ")
    spaces = design.namespaces
    if options.namespace and len(spaces) == 1 and key.startswith(f"{options.namespace}/"):  # moved by retarget
        return locations.get(resource) or locations.get(f"{kind} {spaces[0]}/{key.split('/', 1)[1]}")
    return locations.get(resource)


def _check_options(options: ExportOptions) -> None:
    """The options a user typed, refused before any document is built (messages name the CLI option, or the
    form's field it was typed in: `options.fields`)."""
    fields = options.fields or FieldNames()
    namespaces = [("--lmos-namespace", fields.lmos_namespace, options.lmos_namespace)]
    if options.namespace:
        namespaces.append(("--namespace", fields.namespace, options.namespace))
    for flag, label, namespace in namespaces:
        problem = dns1123_label_problem(namespace)
        if problem:  # a policy would admit a namespace that cannot exist, i.e. nobody
            raise _option_error(flag, label, f"{cut(namespace, SHOWN_CHARS)!r} {problem} (a namespace name)")
    image = options.registry_image
    if options.with_registry and (not image or image != image.strip()):  # the API server refuses both
        raise _option_error(
            "--registry-image",
            fields.registry_image,
            f"{cut(image, SHOWN_CHARS)!r} is empty or has spaces around it; give an image such as "
            f"{registry_export.DEFAULT_IMAGE!r}",
        )


def _option_error(flag: str, field: str | None, problem: str) -> ExportOptionError:
    """The error about an option's value: named by its flag, or by the form's field it was typed in."""
    if field is None:
        return ExportOptionError(f"{flag}: {problem}", resource="export", field=flag)
    return ExportOptionError(
        f"The field '{field}': {problem}; fix the value typed there", resource="export", field=field
    )


def _export_design(design: Design, options: ExportOptions, *, validate: bool) -> Bundle:
    _check_options(options)
    if options.namespace:
        design = retarget(design, options.namespace, field=options.fields.namespace if options.fields else None)
    design = canonical(design)
    istio = options.with_istio
    workloads = options.with_workloads or istio
    left_out: dict[str, dict[str, Any]] = {}
    docs, written = _lmos_documents(design, left_out)
    # the LMOS namespace is taken to exist, never written: `kubectl delete -k` of the export would delete it, and
    # lmos-runtime and lmos-operator with it (and --with-istio would relabel it for injection)
    docs = [d for d in docs if not (d["kind"] == "Namespace" and d["metadata"]["name"] == options.lmos_namespace)]
    if istio:
        docs = [
            manifests.namespace_resource(d["metadata"]["name"], istio=True) if d["kind"] == "Namespace" else d
            for d in docs
        ]
    notes: list[str] = []
    if workloads:
        manifests.check_service_accounts(design.agents, istio=istio)
        for agent in design.agents:
            generated = manifests.workload_resources(agent, istio=istio)
            if not generated:
                notes.append(f"Agent {agent.key} has no workload: no Deployment, Service or ServiceAccount")
            notes += manifests.key_like_env_notes(agent)
            docs += generated
    if options.with_registry:
        _refuse_registry_lookalike(design, options, workloads=workloads)
        docs += registry_export.registry_resources(
            options.lmos_namespace, sorted(design.namespaces), image=options.registry_image
        )
        notes.append(registry_export.secret_note(options.lmos_namespace))
    kept = [
        _masked(manifests.kept_resource(raw, i))
        for i, raw in enumerate(design.other_resources)
        if str(raw.get("kind")) != "Kustomization" and not _is_secret(raw)
    ]  # a Kustomization is a build file, not a resource: never re-listed; a Secret's values never leave
    kept = [_synced(doc, design, notes) if is_subset_split(doc) else doc for doc in kept]
    notes += unsplit_rollout_notes(design, kept) + operator_host_notes(kept, options.lmos_namespace)
    notes += [_secret_note(raw) for raw in design.other_resources if _is_secret(raw)]
    notes += [
        "a Kustomization document of the design is not exported (regenerated as kustomization.yaml)"
        for raw in design.other_resources
        if str(raw.get("kind")) == "Kustomization"
    ]
    kept_refs = {(d["apiVersion"], ref(d)) for d in kept}
    generated_docs = [d for d in docs if (d["apiVersion"], ref(d)) not in kept_refs]
    notes += [
        f"{ref(d)} is kept from the design; the generated one is left out"
        for d in docs
        if (d["apiVersion"], ref(d)) in kept_refs
    ]
    generated_docs = [
        d if d["kind"] in ("Agent", "Channel", "ChannelRollout", "ChannelRouting") else manifests.mark_generated(d)
        for d in generated_docs
    ]
    result = [Manifest(path_of(d), d) for d in generated_docs]
    report = policy.PolicyReport()
    if workloads:
        opts = policy.PolicyOptions(lmos_namespace=options.lmos_namespace, istio=istio)
        planned = policy.design_policies(design, opts, path_for=path_of)
        pol_docs, report = planned.network + planned.istio, planned.report
        result += [Manifest(path_of(d), d) for d in pol_docs if (d["apiVersion"], ref(d)) not in kept_refs]
        kept_paths = {(d["apiVersion"], ref(d)): path_of(d) for d in kept}
        replaced = {
            path_of(d): (ref(d), kept_paths[d["apiVersion"], ref(d)])
            for d in pol_docs
            if (d["apiVersion"], ref(d)) in kept_refs
        }
        notes += [f"{name} is kept from the design; the generated one is left out" for name, _ in replaced.values()]
        report.rows = [_kept_policy_row(row, replaced) for row in report.rows]
    result += [Manifest(path_of(d), d, generated=False) for d in kept]
    result.append(Manifest(STUDIO_PATH, _studio_document(written, left_out), generated=False))
    notes += _left_out_notes(left_out)
    notes += [f"{STUDIO_PATH}: {warning}" for warning in written.warnings]  # masked_credentials(design)
    return Bundle(
        design=design,
        options=options,
        manifests=_checked(result),
        policy=report,
        validation=_validate(result, options) if validate else ValidationReport(),
        notes=notes,
    )


def _kept_policy_row(row: policy.EdgeRow, replaced: Mapping[str, tuple[str, str]]) -> policy.EdgeRow:
    """The report's row of a trust edge whose policy the design keeps its own of (the generated one is left out):
    it named the generated file and rule, which are not written, and said "enforced" without knowing what the kept
    policy admits."""
    rules, notes = [], [row.note] if row.note else []
    for rule in row.rules.split("; "):
        generated = rule.split(" ", 1)[0]
        if generated in replaced:
            name, kept = replaced[generated]
            rules.append(f"{kept} (kept from the design)")
            notes.append(
                f"the design keeps its own {name} in place of the generated one: not checked to admit the edge"
            )
        else:
            rules.append(rule)
    if len(notes) == len([row.note] if row.note else []):
        return row
    status = "partial" if row.status == "enforced" else row.status
    return dataclasses.replace(row, rules="; ".join(rules), status=status, note="; ".join(notes))


def _refuse_registry_lookalike(design: Design, options: ExportOptions, *, workloads: bool) -> None:
    """Refuse an agent whose Deployment and Service would be the registry's (`--with-registry`): the export said
    "Deployment <ns>/lmos-studio-registry appears twice in the design; remove one", though the design has it once."""
    name = registry_export.NAME
    for agent in design.agents:
        if workloads and agent.workload and agent.namespace == options.lmos_namespace and agent.name == name:
            raise ExportError(
                f"Agent {agent.key}: metadata.name: '{name}' is the name of the registry's Deployment and Service in "
                f"--lmos-namespace {options.lmos_namespace} (--with-registry); rename the agent, or export without "
                "--with-registry",
                resource=f"Agent {agent.key}",
                field="metadata.name",
            )


def _synced(doc: dict[str, Any], design: Design, notes: list[str]) -> dict[str, Any]:
    """The subset-split VirtualService with the weights of the design's rollouts (`synced_virtual_service`)."""
    synced, changed = synced_virtual_service(doc, design)
    notes += changed
    return synced


def _is_secret(raw: dict[str, Any]) -> bool:
    return raw.get("kind") == "Secret" and raw.get("apiVersion") == "v1"


def _secret_note(raw: dict[str, Any]) -> str:
    """Why a Secret of the design is left out, and how to make it in the cluster instead."""
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name, namespace = str(meta.get("name") or "<name>"), str(meta.get("namespace") or DEFAULT_NAMESPACE)
    return (
        f"Secret {namespace}/{name} is not exported: a Secret's values would be in plain text in every file and "
        f"the zip; create it in the cluster (kubectl create secret generic {name} -n {namespace} --from-literal=…)"
    )


def _left_out_notes(left_out: dict[str, dict[str, Any]]) -> list[str]:
    notes = []
    for resource, fields in left_out.items():
        shown = ", ".join(list(fields)[:MAX_NOTED_FIELDS]) + (" …" if len(fields) > MAX_NOTED_FIELDS else "")
        notes.append(
            f"{resource}: {shown} left out of the resource (its CRD does not declare them, or the server writes "
            f"them); kept in {STUDIO_PATH} under spec.{RESOURCE_FIELDS_KEY} and read back from there"
        )
    return notes


def _checked(result: list[Manifest]) -> list[Manifest]:
    seen: dict[str, Manifest] = {}
    for manifest in result:
        if manifest.path in seen:
            raise ExportError(
                f"{manifest.ref} appears twice in the design (both would be written to {manifest.path}); remove one",
                resource=manifest.ref,
                field="metadata.name",
            )
        seen[manifest.path] = manifest
    return sorted(result, key=lambda m: m.path)


def _validate(result: list[Manifest], options: ExportOptions) -> ValidationReport:
    validator = Validator(options.kubernetes_version)
    report = ValidationReport()
    for manifest in result:
        if manifest.path == STUDIO_PATH:
            report.rows.append(
                {
                    "file": manifest.path,
                    "resource": f"StudioDesign {manifest.document['metadata']['name']}",
                    "schema": "Studio design file",
                    "status": "valid",
                }
            )
            continue
        report.rows.append(validator.validate(manifest.document, path=manifest.path, strict=True))
    return report
