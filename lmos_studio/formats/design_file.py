"""The design file: LMOS resources kept native plus one `StudioDesign` document of Studio-only data.

Reading takes a YAML/JSON file (one or many documents) or a folder of `*.yaml|*.yml` (recursive, in
path order). Documents of other kinds (Deployments, ChannelRoutings, Kustomizations, …) are kept verbatim,
except what an export derives from the design (annotated `studio.lmos.eclipse/generated` or `…/preview`, and
an export folder's `kustomization.yaml` and `preview/`): the next export derives them again. The Studio
document's `spec.resourceFields` (written by export, see `resource_fields.py`) is put back into the resources.
Writing is deterministic (the same design gives the same bytes) and atomic; saving over a hand-written design
file keeps its comments, key order and quoting wherever the design did not change (`roundtrip.py`); saving into a
design folder writes each resource back into the file holding it (`design_folder.py`). Credentials
anywhere in the design (`redact.redact_data`: an agent's original description, endpoints, security schemes,
workload env values, labels, annotations and the JSON inside them, unknown fields, channels, kept resources,
groups, trust edges, routing tests) are written as `***` (`masked_credentials` says where, for the writer to
warn): a saved design or an export's `studio/design.yaml` never holds them.
A `List` (`AgentList`…), as `kubectl get -o yaml` writes, is read item by item, each item where it stands.

```yaml
apiVersion: lmos.eclipse/v1          # Agent, Channel, ChannelRollout documents, as the operator reads them
kind: Agent
...
---
apiVersion: studio.lmos.eclipse/v1alpha1
kind: StudioDesign
metadata: {name: acme}
spec: {description, agents: [{name, namespace?, endpoints, security, workload, source}],
       groups, trustEdges, routingTests, routing: {minScore, vocabulary, lexicon, outOfScope}, layout}
```
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from lmos_studio.errors import DesignFileError, LmosStudioError
from lmos_studio.formats import budgets, checked, lmos, modeldocs, roundtrip
from lmos_studio.formats.resource_fields import put_back
from lmos_studio.formats.yamlio import (
    YAML_SUFFIXES,
    LineDict,
    dump_blocks,
    dump_documents,
    gc_paused,
    iter_yaml_files,
    load_documents,
    read_text,
    write_atomic,
)
from lmos_studio.formats.yamltypes import kind_of
from lmos_studio.model import (
    DEFAULT_NAMESPACE,
    Agent,
    Channel,
    ChannelRollout,
    Design,
    Endpoint,
    Group,
    RoutingSettings,
    RoutingTest,
    SecurityScheme,
    TrustEdge,
    Workload,
    updated_model,
)
from lmos_studio.redact import MASK, named_fields, redact_data
from lmos_studio.sizes import size_and_limit

STUDIO_API_VERSION = "studio.lmos.eclipse/v1alpha1"
STUDIO_KIND = "StudioDesign"
GENERATED_ANNOTATION = "studio.lmos.eclipse/generated"  # on what export derives (CRDs, workloads, policies)
PREVIEW_ANNOTATION = "studio.lmos.eclipse/preview"  # on ChannelRouting previews: the operator writes its own
EXPORT_STUDIO_PATH = Path("studio", "design.yaml")  # a folder holding this is an export (see export/bundle.py)
EXPORT_SKIPPED = ("kustomization.yaml", "preview")  # an export folder's build file and previews


def is_derived(doc: dict[str, Any]) -> bool:
    """Whether an export derived this document from the design (annotated generated or preview)."""
    meta = doc.get("metadata")
    annotations = meta.get("annotations") if isinstance(meta, dict) else None
    if not isinstance(annotations, dict):
        return False
    return annotations.get(GENERATED_ANNOTATION) == "true" or annotations.get(PREVIEW_ANNOTATION) == "true"


class _StudioAgent(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)
    name: str
    namespace: str = DEFAULT_NAMESPACE
    endpoints: tuple[Endpoint, ...] = ()
    security: tuple[SecurityScheme, ...] = ()
    workload: Workload | None = None
    source: str = ""
    original_format: str = ""
    original: dict[str, Any] = Field(default_factory=dict)


class _StudioSpec(BaseModel):
    model_config = ConfigDict(extra="allow", alias_generator=to_camel, populate_by_name=True)
    description: str = ""
    agents: tuple[_StudioAgent, ...] = ()
    groups: tuple[Group, ...] = ()
    trust_edges: tuple[TrustEdge, ...] = ()
    routing_tests: tuple[RoutingTest, ...] = ()
    routing: RoutingSettings = RoutingSettings()
    layout: dict[str, Any] = Field(default_factory=dict)
    resource_fields: dict[str, dict[str, Any]] = Field(default_factory=dict)  # written by export only

    @field_validator("groups")
    @classmethod
    def _one_group_per_name(cls, groups: tuple[Group, ...]) -> tuple[Group, ...]:
        """`group:NAME` in a trust edge and the Designer find a group by name: two of one name are a mistake."""
        seen: set[str] = set()
        for group in groups:
            if group.name in seen:
                raise ValueError(f"group {group.name!r} appears twice; merge their members into one group")
            seen.add(group.name)
        return groups


@dataclass
class LoadResult:
    """A design and what is worth telling the user about how it was read."""

    design: Design
    files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)  # "Agent ns/name" → "file:line"
    derived: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # dropped derived docs, with "file:line"


@dataclass
class _Reader:
    agents: dict[str, Agent] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    rollouts: dict[str, ChannelRollout] = field(default_factory=dict)
    others: list[dict[str, Any]] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)
    studio: tuple[str, dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)
    derived: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def add(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict):
            line = getattr(raw, "line", None)
            raise DesignFileError(
                f"a document must be a mapping (a Kubernetes resource), not {kind_of(raw)}",
                path=path,
                line=line,
            )
        kind, api = raw.get("kind"), raw.get("apiVersion")
        for key, value, example in (("apiVersion", api, lmos.API_VERSION), ("kind", kind, "Agent")):
            if value is not None and not isinstance(value, str):  # kept as written, it broke export and import
                raise DesignFileError(
                    f"must be text such as {example}, not {kind_of(value)}",
                    path=path,
                    line=getattr(value, "line", None) or _line(raw),
                    field=key,
                )
        items = raw.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            for item in items:  # `kubectl get … -o yaml`: a List (or AgentList…) of resources, each with its line
                self.add(item, path)
            return
        if is_derived(raw):
            self.derived.append((f"{path}:{_line(raw)}", raw))  # kept aside: import compares it with a re-export
            return  # regenerated by the next export
        if isinstance(api, str) and api.split("/", 1)[0] == LMOS_GROUP and kind not in LMOS_GROUP_KINDS:
            raise DesignFileError(_unknown_kind(kind), path=path, line=_line(raw), field="kind")
        if api == lmos.API_VERSION and kind in lmos.LMOS_KINDS:
            self._add_lmos(raw, path, str(kind))
        elif kind == STUDIO_KIND:
            if self.studio is not None:
                raise DesignFileError(
                    f"a second {STUDIO_KIND} document (the first is in {self.studio[0]}); keep one per design",
                    path=path,
                    line=_line(raw),
                )
            self.studio = (path, raw)
        else:
            if api is None and kind in lmos.LMOS_KINDS:  # another group's kind of that name has its apiVersion
                self.warnings.append(
                    f"{path}:{_line(raw)}: kind {kind} without apiVersion is not read as an LMOS {kind} (kept as "
                    f"written among the other resources); add apiVersion: {lmos.API_VERSION}"
                )
            self.others.append(raw)

    def _add_lmos(self, raw: dict[str, Any], path: str, kind: str, *, again: bool = False) -> None:
        if kind == "Agent":
            agent = lmos.agent_from_resource(raw, path=path)
            budgets.check_agent(agent, source=path, line=_line(raw) or None)
            self._put(self.agents, agent.key, agent, _line(raw), path, kind, again=again)
        elif kind == "Channel":
            channel = lmos.channel_from_resource(raw, path=path)
            budgets.check_channel(channel, source=path, line=_line(raw) or None)
            self._put(self.channels, channel.key, channel, _line(raw), path, kind, again=again)
        else:
            rollout = lmos.rollout_from_resource(raw, path=path)
            self._put(self.rollouts, rollout.key, rollout, _line(raw), path, kind, again=again)

    def add_agent(self, agent: Agent, line: int, path: str) -> None:
        """An Agent document read straight into its model (`modeldocs`): what `add` does with its resource."""
        budgets.check_agent(agent, source=path, line=line or None)
        self._put(self.agents, agent.key, agent, line, path, "Agent", again=False)

    def add_channel(self, channel: Channel, line: int, path: str) -> None:
        """A Channel document read straight into its model (`modeldocs`): what `add` does with its resource."""
        budgets.check_channel(channel, source=path, line=line or None)
        self._put(self.channels, channel.key, channel, line, path, "Channel", again=False)

    def _put(self, target: dict[str, Any], key: str, obj: Any, line: int, path: str, kind: str, *, again: bool) -> None:
        if again:  # the same resource with its left-out fields put back: same place, same location
            target[key] = obj
            return
        if key in target:
            self.warnings.append(
                f"{path}:{line}: {kind} {key} appears again; the later one "
                "replaces the earlier (as a second kubectl apply would)"
            )
        target[key] = obj
        self.locations[f"{kind} {key}"] = f"{path}:{line}"

    def read(self, text: str, path: str) -> None:
        """Every document of a file's text; Agents and Channels of the common shape straight into models
        (`modeldocs`, the same models and messages), anything else through `load_documents`."""
        docs = modeldocs.read_documents(text)
        if docs is None:
            for raw in load_documents(text, path=path):
                self.add(raw, path)
            return
        for doc in docs:
            kind = doc.__class__
            if kind is modeldocs.AgentDocument:
                self.add_agent(doc.agent, doc.line, path)
            elif kind is modeldocs.ChannelDocument:
                self.add_channel(doc.channel, doc.line, path)
            else:
                self.add(doc, path)


LMOS_GROUP = lmos.API_VERSION.split("/", 1)[0]
LMOS_GROUP_KINDS = (*lmos.LMOS_KINDS, "ChannelRouting")  # ChannelRouting: the operator's output, kept verbatim


def _unknown_kind(kind: object) -> str:
    """Why a document of the lmos.eclipse group is refused: the kind, the nearest known one, the known ones."""
    known = ", ".join(LMOS_GROUP_KINDS)
    if not isinstance(kind, str) or not kind:
        return f"a {LMOS_GROUP} document needs a kind (one of {known})"
    near = difflib.get_close_matches(kind, LMOS_GROUP_KINDS, n=1, cutoff=0.5) or difflib.get_close_matches(
        kind.lower(), [k.lower() for k in LMOS_GROUP_KINDS], n=1, cutoff=0.5
    )
    hint = ""
    if near:
        suggestion = next(k for k in LMOS_GROUP_KINDS if k.lower() == near[0].lower())
        hint = f"; did you mean {suggestion!r}?"
    return f"unknown kind {kind!r} in the {LMOS_GROUP} group{hint} (known kinds: {known})"


def _line(raw: Any) -> int:
    return raw.line if isinstance(raw, LineDict) else 0


def _studio_spec(path: str, raw: dict[str, Any]) -> tuple[str, _StudioSpec]:
    meta = raw.get("metadata") or {}
    name = str(meta.get("name", "design")) if isinstance(meta, dict) else "design"
    spec = raw.get("spec") or {}
    try:
        studio = _StudioSpec.model_validate(spec)
    except ValidationError as exc:
        err = exc.errors()[0]
        where, message = checked.problem(err)
        line = _find_line(spec, err["loc"])
        raise DesignFileError(
            f"{STUDIO_KIND}: {message}", path=path, line=line or _line(raw), field=f"spec.{where}"
        ) from exc
    _one_edge_each(path, raw, spec, studio.trust_edges)
    _members_once(path, raw, spec, studio.groups)
    return name, studio


def _members_once(path: str, raw: dict[str, Any], spec: Any, groups: tuple[Group, ...]) -> None:
    """Refuse a group that names one agent twice (`Group.repeated_member`: e.g. `billing` and `default/billing`):
    the agent's trust pairs came twice and removing one member left the agent in the group."""
    for i, group in enumerate(groups):
        repeated = group.repeated_member()
        if repeated is None:
            continue
        first, again = repeated
        raise DesignFileError(
            f"{STUDIO_KIND}: group {group.name!r} {group.repeated_text(first, again)}; keep one of them (the "
            f"first is spec.groups[{i}].members[{first}])",
            path=path,
            line=_find_line(spec, ["groups", i, "members", again]) or _line(raw),
            field=f"spec.groups[{i}].members[{again}]",
        )


def _one_edge_each(path: str, raw: dict[str, Any], spec: Any, edges: tuple[TrustEdge, ...]) -> None:
    """Refuse a trust edge written twice (same caller, callee, capabilities and protocol): edits find an edge
    by its key, so removing one removed both and editing changed only the first."""
    seen: dict[tuple[str, str, tuple[str, ...], str], int] = {}
    for i, edge in enumerate(edges):
        first = seen.setdefault((edge.caller, edge.callee, edge.capabilities, edge.protocol), i)
        if first != i:
            key = "trustEdges" if isinstance(spec, dict) and "trustEdges" in spec else "trust_edges"
            over = f" over {edge.protocol}" if edge.protocol else ""
            raise DesignFileError(
                f"{STUDIO_KIND}: trust edge {edge.key}{over} appears twice (also spec.{key}[{first}]); "
                "remove one of them",
                path=path,
                line=_find_line(spec, [key, i]) or _line(raw),
                field=f"spec.{key}[{i}]",
            )


def _find_line(node: Any, loc: Sequence[Any]) -> int | None:
    line = None
    for part in loc:
        if isinstance(node, LineDict):
            line = node.line_of(part) if part in node else node.line
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
            line = getattr(node, "line", line)
        else:
            break
    return line


def _apply_studio(agents: dict[str, Agent], spec: _StudioSpec, path: str) -> dict[str, Agent]:
    for entry in spec.agents:
        key = f"{entry.namespace}/{entry.name}"
        if key not in agents:
            raise DesignFileError(
                f"{STUDIO_KIND}: spec.agents names {key}, which has no Agent resource; "
                "add the Agent or remove the entry",
                path=path,
            )
        agents[key] = updated_model(
            agents[key],
            {
                "endpoints": entry.endpoints or agents[key].endpoints,
                "security": entry.security or agents[key].security,
                "workload": entry.workload,
                "source": entry.source or agents[key].source,
                # an entry without them keeps what the resource's original annotation gave (formats/original.py)
                "original_format": entry.original_format or agents[key].original_format,
                "original": entry.original or agents[key].original,
            },
        )
    return agents


def _put_back_fields(reader: _Reader, fields: dict[str, dict[str, Any]], path: str) -> None:
    """Apply the Studio document's `spec.resourceFields` to the resources they were taken from."""
    targets: dict[str, dict[str, Any]] = {"Agent": reader.agents, "Channel": reader.channels}
    targets["ChannelRollout"] = reader.rollouts
    for resource, pointers in fields.items():
        kind, _, key = resource.partition(" ")
        found = targets.get(kind, {}).get(key)
        if found is None:
            reader.warnings.append(
                f"{path}: spec.resourceFields names {resource}, which the design does not have; its fields are dropped"
            )
            continue
        if isinstance(found, Agent):
            raw = lmos.agent_to_resource(found, explicit_namespace=True)
        elif isinstance(found, Channel):
            raw = lmos.channel_to_resource(found, explicit_namespace=True)
        else:
            raw = lmos.rollout_to_resource(found, explicit_namespace=True)
        lost = put_back(raw, pointers)
        if lost:
            reader.warnings.append(
                f"{path}: spec.resourceFields of {resource}: {', '.join(lost)} no longer fit the resource; dropped"
            )
        reader._add_lmos(raw, reader.locations.get(resource, path).rsplit(":", 1)[0], kind, again=True)


def _design_files(folder: Path) -> list[Path]:
    found = list(iter_yaml_files(folder))
    if (folder / EXPORT_STUDIO_PATH).is_file():  # an export: its build file is not design (`export_kustomizations`
        # reads it); its previews are read as derived documents, as in a zip, so an edited one is named too
        found = [f for f in found if f.relative_to(folder).parts[0] != "kustomization.yaml"]
    return found


def load_design(paths: Iterable[str | Path], *, name: str | None = None) -> LoadResult:
    """Read files and folders into one design; the later resource of the same key wins (with a warning)."""
    with gc_paused():  # millions of new objects, none of them garbage: collecting meanwhile only costs
        return _load_design(paths, name)


def _load_design(paths: Iterable[str | Path], name: str | None) -> LoadResult:
    reader = _Reader()
    files: list[str] = []
    for given in paths:
        for file in _found(Path(given)):
            files.append(str(file))
            reader.read(read_text(file), str(file))
    return _finish(reader, files, name)


def _found(path: Path) -> list[Path]:
    if path.is_dir():
        found = _design_files(path)
        if not found:
            raise DesignFileError("folder has no *.yaml or *.yml files", path=str(path))
        return found
    if path.suffix.lower() == ".zip" and path.is_file():  # read as text, it said only "not UTF-8 text"
        raise DesignFileError(
            "is a zip; a design is YAML files and folders: read an exported zip with "
            f"`lmos-studio import-manifests {path} --out DESIGN.yaml` (or unzip it) and use that",
            path=str(path),
        )
    if path.exists():
        return [path]
    raise DesignFileError("no such file or folder", path=str(path))


def design_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files `load_design(paths)` reads, in its order (folders expanded)."""
    return [file for given in paths for file in _found(Path(given))]


def design_from_texts(texts: Sequence[tuple[str, str]], *, name: str | None = None) -> LoadResult:
    """What `load_design` makes of files whose (path, text) were read already (the design cache reads each
    file's bytes once, for its key and for this)."""
    with gc_paused():
        reader = _Reader()
        for path, text in texts:
            reader.read(text, path)
        return _finish(reader, [path for path, _ in texts], name)


def _finish(reader: _Reader, files: list[str], name: str | None) -> LoadResult:
    spec = _StudioSpec()
    design_name = name or (Path(files[0]).stem if files else "design")
    agents = dict(reader.agents)
    if reader.studio is not None:
        studio_name, spec = _studio_spec(*reader.studio)
        design_name = name or studio_name
        if spec.resource_fields:
            _put_back_fields(reader, spec.resource_fields, reader.studio[0])
            agents = dict(reader.agents)
        agents = _apply_studio(agents, spec, reader.studio[0])
    design = Design(
        name=design_name,
        description=spec.description,
        agents=tuple(agents.values()),
        channels=tuple(reader.channels.values()),
        rollouts=tuple(reader.rollouts.values()),
        groups=spec.groups,
        trust_edges=spec.trust_edges,
        routing_tests=spec.routing_tests,
        routing=spec.routing,
        layout=spec.layout,
        other_resources=tuple(reader.others),
        studio_extras=dict(spec.model_extra or {}),
    )
    return LoadResult(
        design=design, files=files, warnings=reader.warnings, locations=reader.locations, derived=reader.derived
    )


def read_design(*paths: str | Path) -> Design:
    """Read a design from files and folders (see `load_design`)."""
    return load_design(paths).design


def design_from_text(text: str, *, path: str = "<upload>", name: str | None = None) -> LoadResult:
    """Read a design from YAML text (an upload), naming `path` in messages."""
    with gc_paused():
        reader = _Reader()
        reader.read(text, path)
        return _finish(reader, [path], name or Path(path).stem)


def design_from_upload(name: str, data: bytes, *, max_bytes: int) -> LoadResult:
    """Read an uploaded design, refusing files over `max_bytes` or not UTF-8, naming the file."""
    if len(data) > max_bytes:
        size, limit = size_and_limit(len(data), max_bytes)
        raise DesignFileError(
            f"is {size}; designs over {limit} are refused (set LMOS_STUDIO_MAX_UPLOAD_MB to raise the limit)",
            path=name,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DesignFileError(f"not UTF-8 text (byte {exc.start}); upload a YAML or JSON file", path=name) from exc
    return design_from_text(text, path=name)


def _dump_model(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_defaults=True, mode="python")


def _studio_agent(agent: Agent) -> tuple[dict[str, Any], list[str]]:
    """The agent's entry in the Studio document ({} when it has nothing beyond name and namespace) with its
    credentials masked (`redact.redact_data`: those of the description it came from, a workload's env values),
    and the JSON Pointers (into the entry) of what was masked."""
    entry = _StudioAgent(
        name=agent.name,
        namespace=agent.namespace,
        endpoints=agent.endpoints,
        security=agent.security,
        workload=agent.workload,
        source=agent.source,
        original_format=agent.original_format,
        original=agent.original,
    )
    dumped = _dump_model(entry)
    dumped["name"] = agent.name
    if not set(dumped) - {"name", "namespace"}:
        return {}, []
    return redact_data(dumped)


def agent_document(agent: Agent, *, explicit_namespace: bool = False) -> tuple[dict[str, Any], list[str]]:
    """The agent's LMOS `Agent` resource as a design file (and export) writes it, and the JSON Pointers of what
    was masked: credentials are masked wherever they stand (a link in its description, a token-like label or
    annotation value, JSON inside an annotation, an unknown field), in a hand-written resource too."""
    return redact_data(lmos.agent_to_resource(agent, explicit_namespace=explicit_namespace))


@dataclass
class MaskedDesign:
    """A design's documents as a design file writes them, credentials masked (each document once), and the
    warnings naming what was masked (`masked_credentials`)."""

    agents: list[dict[str, Any]]
    channels: list[dict[str, Any]]
    rollouts: list[dict[str, Any]]
    others: list[dict[str, Any]]
    studio: dict[str, Any]
    warnings: list[str]

    @property
    def documents(self) -> list[dict[str, Any]]:
        """Agents and Channels (name order), rollouts, others, then the Studio document (`design_documents`)."""
        return [*self.agents, *self.channels, *self.rollouts, *self.others, self.studio]


def masked_design(design: Design, *, explicit_namespace: bool = False) -> MaskedDesign:
    """The design's documents and the warnings on what was masked in them, in one pass (saving or exporting
    a large design masks each document once, not once more for the warnings). `explicit_namespace`: the LMOS
    resources name their namespace also when it is `default`, as an export writes them; the warnings are the
    same (`default` is no credential)."""
    found: list[tuple[str, list[str]]] = []
    agents, entries = [], []
    for agent in design.agents:
        doc, in_resource = _masked_resource(agent, lmos.agent_to_resource, explicit_namespace)
        entry, in_entry = _studio_agent(agent)
        agents.append(doc)
        if entry:
            entries.append(entry)
        found.append((f"Agent {agent.key}", [f"resource {p}" for p in in_resource] + in_entry))
    channels = []
    for channel in design.channels:
        doc, masked = _masked_resource(channel, lmos.channel_to_resource, explicit_namespace)
        channels.append(doc)
        found.append((f"Channel {channel.key}", masked))
    rollouts = []
    for rollout in design.rollouts:
        doc, masked = _masked_resource(rollout, lmos.rollout_to_resource, explicit_namespace)
        rollouts.append(doc)
        found.append((f"ChannelRollout {rollout.key}", masked))
    others = []
    for i, raw in enumerate(design.other_resources):
        doc, masked = redact_data(raw)
        doc, in_secret = _masked_secret_values(doc)
        masked += in_secret
        others.append(doc)
        found.append((_kept_name(raw, i), masked))
    studio, masked = _studio_document(design, entries)
    found.append((f"{STUDIO_KIND} {design.name}", masked))
    warnings = [
        f"{what}: what looks like a credential is written as *** ({named_fields(masked)}); "
        "keep credentials out of descriptions"
        for what, masked in found
        if masked
    ]
    return MaskedDesign(agents, channels, rollouts, others, studio, warnings)


def _masked_resource(obj: Any, to_resource: Any, explicit_namespace: bool) -> tuple[dict[str, Any], list[str]]:
    """The LMOS resource of an Agent, Channel or ChannelRollout, masked, and the JSON Pointers of what was masked
    in it as a design file writes it (the same unless a namespace among its unknown metadata fields moves with
    `explicit_namespace`: then those of that resource, in their order)."""
    doc, masked = redact_data(to_resource(obj, explicit_namespace=explicit_namespace))
    if explicit_namespace and "namespace" in obj.metadata_extras:
        masked = redact_data(to_resource(obj))[1]
    return doc, masked


def masked_credentials(design: Design) -> list[str]:
    """One warning per agent, channel, rollout or kept resource whose saved document (or Studio entry) has
    credentials masked (`design_documents`), and one for the rest of the Studio document, naming the fields,
    never the values; [] for a design without any (every sample). Saving gives them too (`Saved.masked`)."""
    return masked_design(design).warnings


SECRET_VALUE_FIELDS = ("data", "stringData")  # a v1 Secret's maps whose every value is a secret


def _masked_secret_values(doc: Any) -> tuple[Any, list[str]]:
    """A kept v1 Secret with every value of its `data` and `stringData` written as `***` (under innocent keys,
    `conn: aHVudGVy…`, they were written as read into every saved design), and the JSON Pointers of those masked;
    its keys, name and type are kept. Any other document as it is."""
    if not (isinstance(doc, dict) and doc.get("kind") == "Secret" and doc.get("apiVersion") == "v1"):
        return doc, []
    out, masked = dict(doc), []
    for name in SECRET_VALUE_FIELDS:
        values = doc.get(name)
        if not isinstance(values, dict):
            continue
        out[name] = {key: MASK if _is_value(value) else value for key, value in values.items()}
        masked += [f"/{name}/{_pointer_part(key)}" for key, value in values.items() if _is_value(value)]
    return out, masked


def _is_value(value: Any) -> bool:
    return value not in ("", None, MASK)


def _pointer_part(key: Any) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _kept_name(doc: dict[str, Any], index: int) -> str:
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{doc.get('kind') or 'document'} {name or f'#{index + 1}'}"


def studio_document(design: Design) -> dict[str, Any]:
    """The design's Studio document (the last of `design_documents`): what LMOS resources do not hold, with
    credentials masked (`masked_credentials` says where)."""
    return _studio_document(design, [entry for entry, _ in map(_studio_agent, design.agents) if entry])[0]


def _studio_document(design: Design, agents: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The Studio document with the agents' entries given (`_studio_agent`: masked, and their masked fields
    reported per agent) and the JSON Pointers of what was masked in the rest of it."""
    spec: dict[str, Any] = {}
    if design.description:
        spec["description"] = design.description
    if agents:
        spec["agents"] = agents
    for key, items in (
        ("groups", design.groups),
        ("trustEdges", design.trust_edges),
        ("routingTests", design.routing_tests),
    ):
        if items:
            spec[key] = [_dump_model(item) for item in items]
    routing = _dump_model(design.routing)
    if routing:
        spec["routing"] = routing
    if design.layout:
        spec["layout"] = design.layout
    spec.update(design.studio_extras)
    masked: list[str] = []
    for key in [k for k in spec if k != "agents"]:
        spec[key], found = redact_data(spec[key], f"/spec/{key}")
        masked += found
    doc = {"apiVersion": STUDIO_API_VERSION, "kind": STUDIO_KIND, "metadata": {"name": design.name}, "spec": spec}
    return doc, masked


def design_documents(design: Design) -> list[dict[str, Any]]:
    """The design as documents: Agents and Channels (name order), rollouts, others, then the Studio doc."""
    return masked_design(design).documents


def design_to_yaml(design: Design) -> str:
    """The design file's text: deterministic, so it diffs cleanly in Git."""
    return dump_documents(design_documents(design))


@dataclass
class Saved:
    """Where a design was saved and what is worth telling about how (its old layout could not be kept), and
    what was masked in it (`masked_credentials`, made while writing). Saved into a folder (`design_folder`):
    the files written (those that changed), notes on where new resources went, and each design file's sha256."""

    path: Path
    warnings: list[str] = field(default_factory=list)
    masked: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)


def folder_holding(target: str | Path, sources: Iterable[str | Path]) -> Path | None:
    """The folder among `sources` (what a design was read from) that `target` lies inside, or None. A design
    written there leaves the folder holding each resource twice (its files', and `target`'s); writing over a
    design read from one file, or over a folder itself (an earlier export), is not inside one."""
    where = Path(target).resolve()
    return next((Path(s) for s in sources if Path(s).is_dir() and Path(s).resolve() in where.parents), None)


def check_new_design_file(target: str | Path, *, saved_in_place: Iterable[str | Path] = ()) -> None:
    """Refuse writing a design to a file named `target` unless its name ends in .yaml or .yml: a folder reading it
    would skip it, and a `design.txt` or `design` is not seen as a design by anyone. A design folder (written into)
    and a file of `saved_in_place` (the file the design was read from, saved over: it keeps its name) may be
    named anything."""
    path = Path(target)
    if path.is_dir() or path.suffix.lower() in YAML_SUFFIXES:
        return
    if any(path.resolve() == Path(p).resolve() for p in saved_in_place):
        return
    raise DesignFileError(
        f"a new design file's name must end in .yaml or .yml; use {path.with_suffix('.yaml').name}", path=str(path)
    )


def save_design(design: Design, path: str | Path, *, layout_from: str | Path | None = None) -> Saved:
    """Save the design atomically (temp file + rename). Over an existing design file, the file's comments, key
    order and quoting are kept (`roundtrip.merged_text`) as long as the result reads back as exactly the design
    `design_to_yaml` writes; otherwise that deterministic text is written, with a warning when a design file's
    layout was lost. A new file takes the layout of `layout_from` (the file the design was read from: Save as
    keeps a hand-written design's comments in the copy), or, without one, that deterministic text. A design
    folder is saved into by `design_folder.save_design_folder` (`design_folder.save_design_at` takes either)."""
    target = Path(path)
    if target.is_dir():
        raise DesignFileError("is a folder; save to a .yaml file", path=str(target))
    written = masked_design(design)
    old = _old_design_text(target)
    if old is None and layout_from is not None and not target.exists():
        old = _old_design_text(Path(layout_from))
    documents = _like_old(old, written.documents, design.name == target.stem)
    text, pieces = dump_blocks(documents)  # `design_to_yaml`, with each document's text
    warnings: list[str] = []
    if old is not None and old != text:
        text, warnings = _in_old_layout(old, text, pieces, target)
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise DesignFileError(f"cannot write: {exc.strerror}", path=str(target)) from exc
    return Saved(target, warnings, written.warnings)


def _like_old(old: str | None, documents: list[dict[str, Any]], named_by_file: bool) -> list[dict[str, Any]]:
    """The documents to save over the design file whose text is `old`: a resource's namespace written where the
    file writes it (`namespace: default`, which the design does not keep), and no Studio document with nothing in
    it when the file has none and its name gives the design's (saving an unchanged Agent file added one)."""
    if old is None:
        return documents
    try:
        olds = load_documents(old)
    except LmosStudioError:  # no design to keep the layout of: `_in_old_layout` says so
        return documents
    documents = roundtrip.namespaced_like(olds, documents)
    if named_by_file and not any(isinstance(d, dict) and d.get("kind") == STUDIO_KIND for d in olds):
        documents = [d for d in documents if d.get("kind") != STUDIO_KIND or d.get("spec")]
    return documents


def write_design(design: Design, path: str | Path) -> Path:
    """`save_design`, returning the path written."""
    return save_design(design, path).path


def _old_design_text(target: Path) -> str | None:
    """The text of the file about to be saved over; None when there is none (missing, unreadable: Save as over
    such a file replaces it as it always did; `roundtrip` also leaves a file alone that holds no design)."""
    if not target.is_file():
        return None
    try:
        return read_text(target)
    except DesignFileError:
        return None


def _in_old_layout(old: str, new: str, pieces: tuple[str, ...] | None, target: Path) -> tuple[str, list[str]]:
    """`new` written into `old`'s layout when that reads back as the same design (`roundtrip.Merged.checked`: read
    back document by document already); else `new`. The warnings say what of the old layout was not kept."""
    merged = roundtrip.merged_text(old, new, pieces)
    notes = list(merged.notes)
    if merged.text is None and not notes:
        return new, []  # no design there: nothing of one to keep
    if merged.text is not None:
        if merged.checked:  # each document read back already: no need to read it whole
            same = True
        else:
            try:  # read as `load_design` reads the file (named by its Studio document)
                rendered = design_from_texts([(str(target), new)]).design
                same = design_from_texts([(str(target), merged.text)]).design == rendered
            except LmosStudioError:  # any refusal of the merged text (a version, a budget): it is not the design
                same = False
        if same:
            return merged.text, [f"{target}: {note}" for note in notes]
        notes = ["keeping them would have changed the design"]
    return new, [f"{target}: saved in Studio's own layout; the file's comments and key order were not kept: {notes[0]}"]
