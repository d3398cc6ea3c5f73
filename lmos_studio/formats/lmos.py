"""LMOS custom resources (`lmos.eclipse/v1` Agent, Channel, ChannelRollout) to and from the model.

Shapes follow the operator's Kotlin classes (LMOS.md §1.2–1.5). Every key we do not model is kept in an
`extras` map and written back in place; fields carried in the `studio.lmos.eclipse/resource-fields`
annotation (what `lmos-studio import` prints, see resource_fields.py) are put back first, and the description
an agent came from, carried in `studio.lmos.eclipse/original` (original.py), becomes its `original` again.
Versions are read as text, never as numbers. This module checks shapes (a field that must be a list is a list);
whether a provided version is strict SemVer is a question for `resolve` and `lint`, so that a design with a bad
version still opens.
"""

from __future__ import annotations

from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import budgets
from lmos_studio.formats.original import ORIGINAL_ANNOTATION, original_values
from lmos_studio.formats.resource_fields import RESOURCE_FIELDS_ANNOTATION, from_annotation
from lmos_studio.formats.yamlio import LineDict, text_of
from lmos_studio.formats.yamltypes import kind_of
from lmos_studio.model import (
    DEFAULT_NAMESPACE,
    Agent,
    Capability,
    Channel,
    ChannelRollout,
    RequiredCapability,
    checked_model,
)
from lmos_studio.visible import cut

API_VERSION = "lmos.eclipse/v1"
LMOS_KINDS = ("Agent", "Channel", "ChannelRollout")
STRATEGIES = ("HIGHEST", "MOST_SIMILAR")


# A YAML boolean where text belongs: unquoted no, yes, on, off, true and false are booleans in YAML 1.1, as kubectl
# reads them too (`supportedTenants: [de, no]` reaches the API server as [de, false] and is refused), so the text
# the user meant is lost; taking it as "false" would make tenant `no` a tenant nobody has.
BOOL_AS_TEXT = (
    "is true/false, not text: unquoted no, yes, on, off, true and false are booleans in YAML (kubectl reads them "
    "so too); put the value in quotes, e.g. 'no'"
)


class Doc:
    """A document being read: its path, for messages that point at the line and field."""

    def __init__(self, raw: Any, *, path: str, kind: str) -> None:
        self.raw = raw
        self.path = path
        self.kind = cut(kind, 100)

    def fail(self, message: str, *, node: Any = None, key: Any = None, field: str | None = None) -> None:
        line = None
        if isinstance(node, LineDict):
            line = node.line_of(key) if key is not None else node.line
        name = ""
        if isinstance(self.raw, dict):
            meta = self.raw.get("metadata")
            if isinstance(meta, dict) and isinstance(meta.get("name"), str) and meta["name"]:
                name = f" {cut(meta['name'])}"  # a list or a mapping there is its own error, not a name
        raise DesignFileError(f"{self.kind}{name}: {message}", path=self.path, line=line, field=field)

    def mapping(self, node: Any, key: str, field: str, *, required: bool = False) -> dict[str, Any]:
        value = node.get(key) if isinstance(node, dict) else None
        if value is None:
            if required:
                self.fail(
                    f"missing or empty; add `{key}:` with its fields",
                    node=node,
                    key=key if isinstance(node, dict) and key in node else None,
                    field=field,
                )
            return {}
        if not isinstance(value, dict):
            self.fail(f"must be a mapping, not {kind_of(value)}", node=node, key=key, field=field)
        return dict(value) if type(value) is not LineDict else value

    def seq(self, node: dict[str, Any], key: str, field: str, *, required: bool = False) -> list[Any]:
        value = node.get(key)
        if value is None:
            if required:
                self.fail(f"missing; add `{key}: []`", node=node, key=key if key in node else None, field=field)
            return []
        if not isinstance(value, list):
            self.fail(f"must be a list, not {kind_of(value)}", node=node, key=key, field=field)
        return list(value)

    def text(
        self,
        node: dict[str, Any],
        key: str,
        field: str,
        *,
        required: bool = False,
        default: str = "",
        strict: bool = False,
    ) -> str:
        """The text at `key`; a number or boolean is taken as written (`1.10` → "1.10"), unless `strict` (a JSON
        description's identity fields, such as a TD's `title`, whose schema says string: `"title": 7` is a mistake,
        not agent "7")."""
        value = node.get(key)
        if value.__class__ is str:  # the common case, first
            return value.strip() if key == "version" else value
        if value is None:
            if required:
                self.fail(f"missing; add `{key}:`", node=node, field=field)
            return default
        if isinstance(value, dict | list):
            self.fail("must be a single value, not a mapping or list", node=node, key=key, field=field)
        if strict:
            self.fail(
                f'must be text, not {kind_of(value)}; put it in quotes: "{text_of(value)}"',
                node=node,
                key=key,
                field=field,
            )
        if isinstance(value, bool):
            self.fail(BOOL_AS_TEXT, node=node, key=key, field=field)
        return text_of(value).strip() if key == "version" else text_of(value)

    def texts(self, node: dict[str, Any], key: str, field: str) -> tuple[str, ...]:
        values = self.seq(node, key, field)
        if all(value.__class__ is str for value in values):  # the common case: no conversion, no check
            return tuple(values)
        for i, value in enumerate(values):
            if isinstance(value, dict | list):
                self.fail("must be a list of strings", node=node, key=key, field=f"{field}[{i}]")
            if isinstance(value, bool):
                self.fail(BOOL_AS_TEXT, node=node, key=key, field=f"{field}[{i}]")
        return tuple(text_of(v) for v in values)

    def string_map(self, node: dict[str, Any], key: str, field: str) -> dict[str, str]:
        value = self.mapping(node, key, field)
        for name, item in value.items():
            if isinstance(item, bool):
                self.fail(BOOL_AS_TEXT, node=value, key=name, field=f"{field}.{text_of(name)}")
        return {text_of(k): text_of(v) for k, v in value.items()}  # a key `on:` is a YAML 1.1 bool: "true", as kubectl


def _rest(node: dict[str, Any], known: tuple[str, ...]) -> dict[str, Any]:
    if node.keys() <= _KNOWN_SETS.setdefault(known, frozenset(known)):  # the common case: nothing unknown
        return {}
    return {str(k): v for k, v in node.items() if k not in known}


_KNOWN_SETS: dict[tuple[str, ...], frozenset[str]] = {}  # each module constant's keys as a set, made once


_META_KEYS = ("name", "namespace", "labels", "annotations")


def _metadata(doc: Doc) -> tuple[str, str, dict[str, str], dict[str, str], dict[str, Any]]:
    meta = doc.mapping(doc.raw, "metadata", "metadata", required=True)
    name = doc.text(meta, "name", "metadata.name", required=True)
    if not name:
        doc.fail("is empty; give the resource a name", node=meta, key="name", field="metadata.name")
    namespace = doc.text(meta, "namespace", "metadata.namespace") or DEFAULT_NAMESPACE
    labels = doc.string_map(meta, "labels", "metadata.labels")
    annotations = doc.string_map(meta, "annotations", "metadata.annotations")
    return name, namespace, labels, annotations, _rest(meta, _META_KEYS)


_CAP_KEYS = ("id", "name", "version", "description", "examples")


def _capability(doc: Doc, node: Any, field: str) -> Capability:
    if not isinstance(node, dict):
        doc.fail("must be a mapping with name and version", field=field)
    plain = _plain_capability(node)
    if plain is not None:
        return plain
    return Capability(
        id=doc.text(node, "id", f"{field}.id"),
        name=doc.text(node, "name", f"{field}.name", required=True),
        version=doc.text(node, "version", f"{field}.version", required=True),
        description=doc.text(node, "description", f"{field}.description"),
        examples=doc.texts(node, "examples", f"{field}.examples"),
        extras=_rest(node, _CAP_KEYS),
    )


_CAP_KEY_SET = frozenset(_CAP_KEYS)


def _plain_capability(node: dict[str, Any]) -> Capability | None:
    """A capability of the common shape (known keys only, text values, a list of text examples) read without
    a helper call per field: what the checked path makes of it. None for any other shape (that path then
    converts it or names the field in error)."""
    if not node.keys() <= _CAP_KEY_SET:
        return None
    get = node.get
    name, version, examples = get("name"), get("version"), get("examples")
    cap_id, description = get("id", ""), get("description", "")
    if not (name.__class__ is version.__class__ is cap_id.__class__ is description.__class__ is str):
        return None
    if examples is None:
        examples = ()
    elif isinstance(examples, list) and all(example.__class__ is str for example in examples):
        examples = tuple(examples)
    else:
        return None
    return plain_capability(name, version, cap_id, description, examples)


def plain_capability(name: str, version: str, cap_id: str, description: str, examples: tuple[str, ...]) -> Capability:
    """The capability `_capability` makes of these values (each a `str`, examples a tuple of `str`), unvalidated:
    the readers of the common shape checked them exact already (validation would copy them)."""
    values: dict[str, Any] = {"name": name, "version": version.strip(), "id": cap_id, "description": description}
    values.update(examples=examples, extras={})
    return checked_model(Capability, values)


_AGENT_SPEC_KEYS = ("id", "description", "supportedTenants", "supportedChannels", "providedCapabilities")


def _fields_put_back(raw: Any, path: str, kind: str) -> Any:
    """The resource with the fields of its resource-fields annotation (see resource_fields.py) put back."""
    if not isinstance(raw, dict):
        return raw
    out, problem = from_annotation(raw)
    if problem:
        field = f"metadata.annotations.{RESOURCE_FIELDS_ANNOTATION}"
        Doc(raw, path=path, kind=kind).fail(problem, node=raw.get("metadata"), key="annotations", field=field)
    return out


def agent_from_resource(raw: dict[str, Any], *, path: str, source: str = "") -> Agent:
    """An `Agent` resource as the model; raises `DesignFileError` naming file, line and field."""
    if source.__class__ is str:
        plain = _plain_agent(raw, source)
        if plain is not None:
            return plain
    raw = _fields_put_back(raw, path, "Agent")
    doc = Doc(raw, path=path, kind="Agent")
    name, namespace, labels, annotations, meta_rest = _metadata(doc)
    carried = _original_taken(doc, annotations)
    spec = doc.mapping(raw, "spec", "spec")
    caps = doc.seq(spec, "providedCapabilities", "spec.providedCapabilities")
    budgets.check_capability_count(name, len(caps), source=path, line=getattr(raw, "line", None) or None)
    capabilities = tuple(_capability(doc, c, f"spec.providedCapabilities[{i}]") for i, c in enumerate(caps))
    values = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "annotations": annotations,
        "id": doc.text(spec, "id", "spec.id"),
        "description": doc.text(spec, "description", "spec.description"),
        "supported_tenants": doc.texts(spec, "supportedTenants", "spec.supportedTenants"),
        "supported_channels": doc.texts(spec, "supportedChannels", "spec.supportedChannels"),
        "capabilities": capabilities,
        "endpoints": (),
        "security": (),
        "workload": None,
        "source": source,
        "original_format": "",
        "original": {},
        "metadata_extras": meta_rest,
        "spec_extras": _rest(spec, _AGENT_SPEC_KEYS),
        "extras": _rest(raw, ("apiVersion", "kind", "metadata", "spec")),
    }
    values.update(carried)
    unset = _AGENT_DEFAULTS - carried.keys() if carried else _AGENT_DEFAULTS
    # What validation would make: texts are str (doc.text, doc.texts, string_map and _rest give new plain
    # dicts of str keys, capabilities are models, `carried` validated models and JSON data); only `source`
    # comes from the caller: checked, else validated.
    if source.__class__ is str:
        return checked_model(Agent, values, unset)
    return Agent(**{k: v for k, v in values.items() if k not in unset})


def _original_taken(doc: Doc, annotations: dict[str, str]) -> dict[str, Any]:
    """The agent fields the original annotation gives back (original.py), taken out of `annotations`; a
    malformed one is bad input naming the annotation."""
    text = annotations.pop(ORIGINAL_ANNOTATION, None)
    if text is None:
        return {}
    values, problem = original_values(text)
    if problem:
        meta = doc.raw.get("metadata") if isinstance(doc.raw, dict) else None
        node = meta.get("annotations") if isinstance(meta, dict) else None
        doc.fail(problem, node=node, key=ORIGINAL_ANNOTATION, field=f"metadata.annotations.{ORIGINAL_ANNOTATION}")
    return values


_AGENT_DEFAULTS = frozenset(("endpoints", "security", "workload", "original_format", "original"))  # not read here
_RAW_KEY_SET = frozenset(("apiVersion", "kind", "metadata", "spec"))
_META_KEY_SET = frozenset(_META_KEYS)
_AGENT_SPEC_KEY_SET = frozenset(_AGENT_SPEC_KEYS)


def _plain_agent(raw: Any, source: str) -> Agent | None:
    """An Agent resource of the common shape (known keys only, text values, lists of text, capabilities of the
    common shape, no resource-fields or original annotation) read without a helper call per field: the very model the
    checked path makes of it (a 10 000-agent design is read twice as fast). None for any other shape: that
    path then converts it or names the file, line and field in error."""
    if not isinstance(raw, dict) or not raw.keys() <= _RAW_KEY_SET:
        return None
    meta = raw.get("metadata")
    if not isinstance(meta, dict) or not meta.keys() <= _META_KEY_SET:
        return None
    name, namespace = meta.get("name"), meta.get("namespace")
    if name.__class__ is not str or not name:
        return None
    if namespace is None:
        namespace = DEFAULT_NAMESPACE
    elif namespace.__class__ is str:
        namespace = namespace or DEFAULT_NAMESPACE
    else:
        return None
    labels, annotations = _plain_texts(meta.get("labels")), _plain_texts(meta.get("annotations"))
    if labels is None or annotations is None:
        return None
    if RESOURCE_FIELDS_ANNOTATION in annotations or ORIGINAL_ANNOTATION in annotations:
        return None
    spec = raw.get("spec")
    if spec is None:
        spec = {}
    elif not isinstance(spec, dict) or not spec.keys() <= _AGENT_SPEC_KEY_SET:
        return None
    get = spec.get
    agent_id, description = get("id", ""), get("description", "")
    tenants, channels, caps = get("supportedTenants"), get("supportedChannels"), get("providedCapabilities")
    if not (agent_id.__class__ is description.__class__ is str):
        return None
    tenants, channels = _plain_list(tenants), _plain_list(channels)
    if tenants is None or channels is None:
        return None
    if caps is None:
        capabilities: tuple[Capability, ...] = ()
    elif isinstance(caps, list) and len(caps) <= budgets.MAX_CAPABILITIES:
        found = [_plain_capability(c) if isinstance(c, dict) else None for c in caps]
        if None in found:
            return None
        capabilities = tuple(found)  # type: ignore[arg-type]  # None is not among them
    else:
        return None
    return plain_agent(
        name, namespace, labels, annotations, agent_id, description, tenants, channels, capabilities, source
    )


def plain_agent(
    name: str,
    namespace: str,
    labels: dict[str, str],
    annotations: dict[str, str],
    agent_id: str,
    description: str,
    tenants: tuple[str, ...],
    channels: tuple[str, ...],
    capabilities: tuple[Capability, ...],
    source: str = "",
) -> Agent:
    """The agent `agent_from_resource` makes of these values (each of the exact type validation gives: `str`,
    new plain dicts of `str`, tuples of `str`, capability models), unvalidated; no unknown keys."""
    values = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "annotations": annotations,
        "id": agent_id,
        "description": description,
        "supported_tenants": tenants,
        "supported_channels": channels,
        "capabilities": capabilities,
        "endpoints": (),
        "security": (),
        "workload": None,
        "source": source,
        "original_format": "",
        "original": {},
        "metadata_extras": {},
        "spec_extras": {},
        "extras": {},
    }
    return checked_model(Agent, values, _AGENT_DEFAULTS)


def _plain_texts(value: Any) -> dict[str, str] | None:
    """A mapping of text to text as `Doc.string_map` makes it (a new plain dict; absent: empty), or None."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return None
    for key, text in value.items():
        if not (key.__class__ is text.__class__ is str):
            return None
    return dict(value)


def _plain_list(value: Any) -> tuple[str, ...] | None:
    """A list of text as `Doc.texts` makes it (absent: empty), or None."""
    if value is None:
        return ()
    if not isinstance(value, list):
        return None
    for text in value:
        if text.__class__ is not str:
            return None
    return tuple(value)


_REQ_KEYS = ("id", "name", "version", "strategy")


def _required(doc: Doc, node: Any, field: str) -> RequiredCapability:
    if not isinstance(node, dict):
        doc.fail("must be a mapping with name and version", field=field)
    strategy = doc.text(node, "strategy", f"{field}.strategy")
    if strategy and strategy not in STRATEGIES:
        doc.fail(
            f"'{strategy}' is not a strategy; use HIGHEST or MOST_SIMILAR",
            node=node,
            key="strategy",
            field=f"{field}.strategy",
        )
    cap_id = doc.text(node, "id", f"{field}.id")  # read in the order validation's errors name them
    values: dict[str, Any] = {"name": doc.text(node, "name", f"{field}.name", required=True)}
    values["version"] = doc.text(node, "version", f"{field}.version", required=True)
    values["id"] = cap_id
    values["strategy"] = "MOST_SIMILAR" if strategy == "MOST_SIMILAR" else "HIGHEST"
    values["strategy_given"] = bool(strategy)
    values["extras"] = _rest(node, _REQ_KEYS)
    return checked_model(RequiredCapability, values)  # texts (doc.text), a literal, a bool, a new dict


def channel_from_resource(raw: dict[str, Any], *, path: str) -> Channel:
    """A `Channel` resource as the model (status, if any, is kept in `extras`)."""
    raw = _fields_put_back(raw, path, "Channel")
    doc = Doc(raw, path=path, kind="Channel")
    name, namespace, labels, annotations, meta_rest = _metadata(doc)
    spec = doc.mapping(raw, "spec", "spec", required=True)
    reqs = doc.seq(spec, "requiredCapabilities", "spec.requiredCapabilities", required=True)
    budgets.check_requirement_count(name, len(reqs), source=path, line=getattr(raw, "line", None) or None)
    values = {
        "name": name,
        "namespace": namespace,
        "labels": labels,
        "annotations": annotations,
        "required_capabilities": tuple(
            _required(doc, r, f"spec.requiredCapabilities[{i}]") for i, r in enumerate(reqs)
        ),
        "metadata_extras": meta_rest,
        "spec_extras": _rest(spec, ("requiredCapabilities",)),
        "extras": _rest(raw, ("apiVersion", "kind", "metadata", "spec")),
    }
    return checked_model(Channel, values)  # as `agent_from_resource`: every value already what validation makes


def rollout_from_resource(raw: dict[str, Any], *, path: str) -> ChannelRollout:
    """A `ChannelRollout` resource as the model."""
    raw = _fields_put_back(raw, path, "ChannelRollout")
    doc = Doc(raw, path=path, kind="ChannelRollout")
    name, namespace, labels, annotations, meta_rest = _metadata(doc)
    spec = doc.mapping(raw, "spec", "spec", required=True)
    strategy = doc.mapping(spec, "strategy", "spec.strategy", required=True)
    canary = doc.mapping(strategy, "canary", "spec.strategy.canary", required=True)
    sides = {}
    for side in ("canaryChannel", "stableChannel"):
        node = doc.mapping(canary, side, f"spec.strategy.canary.{side}", required=True)
        weight = node.get("weight", 0)
        if isinstance(weight, bool) or not isinstance(weight, int):
            doc.fail("must be a whole number", node=node, key="weight", field=f"spec.strategy.canary.{side}.weight")
        sides[side] = (doc.text(node, "name", f"spec.strategy.canary.{side}.name", required=True), int(weight))
    if set(canary) - {"canaryChannel", "stableChannel"} or set(strategy) - {"canary"} or set(spec) - {"strategy"}:
        spec_extras = {"__raw_spec__": spec}  # unusual shape: keep the whole spec verbatim
    else:
        spec_extras = {}
    return ChannelRollout(
        name=name,
        namespace=namespace,
        labels=labels,
        annotations=annotations,
        canary_channel=sides["canaryChannel"][0],
        canary_weight=sides["canaryChannel"][1],
        stable_channel=sides["stableChannel"][0],
        stable_weight=sides["stableChannel"][1],
        metadata_extras=meta_rest,
        spec_extras=spec_extras,
        extras=_rest(raw, ("apiVersion", "kind", "metadata", "spec")),
    )


def _metadata_out(obj: Agent | Channel | ChannelRollout, *, explicit_namespace: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": obj.name}
    if explicit_namespace or obj.namespace != DEFAULT_NAMESPACE:
        meta["namespace"] = obj.namespace
    if obj.labels:
        meta["labels"] = dict(obj.labels)
    if obj.annotations:
        meta["annotations"] = dict(obj.annotations)
    meta.update(obj.metadata_extras)
    return meta


def capability_out(cap: Capability) -> dict[str, Any]:
    """A capability as the operator writes it: `{id?, name, version, description?, examples?, …extras}`."""
    out: dict[str, Any] = {}
    if cap.id:
        out["id"] = cap.id
    out["name"] = cap.name
    out["version"] = cap.version
    if cap.description:
        out["description"] = cap.description
    if cap.examples:
        out["examples"] = list(cap.examples)
    out.update(cap.extras)
    return out


def agent_to_resource(agent: Agent, *, explicit_namespace: bool = False) -> dict[str, Any]:
    """The `Agent` resource for the model, keys in the operator's order, unknown keys written back."""
    spec: dict[str, Any] = {}
    if agent.id:
        spec["id"] = agent.id
    if agent.description:
        spec["description"] = agent.description
    if agent.supported_tenants:
        spec["supportedTenants"] = list(agent.supported_tenants)
    if agent.supported_channels:
        spec["supportedChannels"] = list(agent.supported_channels)
    spec["providedCapabilities"] = [capability_out(c) for c in agent.capabilities]
    spec.update(agent.spec_extras)
    out = {
        "apiVersion": API_VERSION,
        "kind": "Agent",
        "metadata": _metadata_out(agent, explicit_namespace=explicit_namespace),
        "spec": spec,
    }
    out.update(agent.extras)
    return out


def _required_out(req: RequiredCapability) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if req.id:
        out["id"] = req.id
    out["name"] = req.name
    out["version"] = req.version
    if req.strategy_given or req.strategy != "HIGHEST":
        out["strategy"] = req.strategy
    out.update(req.extras)
    return out


def channel_to_resource(
    channel: Channel, *, explicit_namespace: bool = False, with_status: bool = True
) -> dict[str, Any]:
    """The `Channel` resource for the model."""
    spec: dict[str, Any] = {"requiredCapabilities": [_required_out(r) for r in channel.required_capabilities]}
    spec.update(channel.spec_extras)
    out = {
        "apiVersion": API_VERSION,
        "kind": "Channel",
        "metadata": _metadata_out(channel, explicit_namespace=explicit_namespace),
        "spec": spec,
    }
    out.update({k: v for k, v in channel.extras.items() if with_status or k != "status"})
    return out


def rollout_to_resource(rollout: ChannelRollout, *, explicit_namespace: bool = False) -> dict[str, Any]:
    """The `ChannelRollout` resource for the model."""
    raw_spec = rollout.spec_extras.get("__raw_spec__")
    spec = (
        raw_spec
        if isinstance(raw_spec, dict)
        else {
            "strategy": {
                "canary": {
                    "canaryChannel": {"name": rollout.canary_channel, "weight": rollout.canary_weight},
                    "stableChannel": {"name": rollout.stable_channel, "weight": rollout.stable_weight},
                }
            }
        }
    )
    out = {
        "apiVersion": API_VERSION,
        "kind": "ChannelRollout",
        "metadata": _metadata_out(rollout, explicit_namespace=explicit_namespace),
        "spec": spec,
    }
    out.update(rollout.extras)
    return out
