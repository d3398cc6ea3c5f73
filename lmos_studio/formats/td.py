"""LMOS agent and tool descriptions as W3C WoT Thing Descriptions 1.1 with the `lmos:` vocabulary
(LMOS.md §3.1), to and from the model.

Reading (`td_to_agent`):

* `@type` `lmos:Agent` or `lmos:Tool` (a Tool gets the annotation `studio.lmos.eclipse/thing-type:
  lmos:Tool`); a TD without an LMOS type is read as an agent.
* name: `lmos:kubernetes.name` when given, else derived from `title` (else `id`) by
  `description.agent_name`; namespace, labels, annotations from `lmos:kubernetes` (default namespace
  "default"); `version.instance`, when a valid label value, becomes the `version` label.
* `id` (the TD's URI) becomes `Agent.id`, unless `lmos:agentId` says otherwise.
* `lmos:capabilities[] {id, name, version, description, examples, …}`; a missing version is defaulted
  (see `description.py`). `lmos:supportedTenants` / `lmos:supportedChannels` (string arrays; Studio's
  choice of terms, the names the operator's capabilities document uses).
* every form of every property/action/event (and Thing-level `forms`) is one `Endpoint`: `protocol` =
  the form's `lmos:protocol` or the scheme of `href` (resolved against `base`), `subprotocol`,
  `transport` = `lmos:transport`; other form keys, plus `affordance` (e.g. `events/agentEvent`; omitted
  for the default `actions/chat`, `thing` for Thing-level forms), go to `Endpoint.extras`.
* each security definition named in `security` is a `SecurityScheme` (`scheme` plus the other keys
  as extras); `nosec` is "no security" and is left out of the model, except as an alternative of its own
  beside others ("no authentication is also accepted", an A2A card's `{}`). A `combo` is read through: its
  `oneOf` members are alternatives (any one suffices: `SecurityScheme.alternative`), its `allOf` members
  all required; written back as one `combo_sc` `oneOf` when an agent has more than one alternative. The form
  the agent is called through (its `chat` action's first) may say its own `security` (TD 1.1: it replaces the
  Thing's there) and `scopes`: then those are the agent's, the scopes an OAuth2 scheme requires.
  Required scopes are per alternative (an A2A card's `security: [{oauth: [read]}, {oauth: [read, write]}]`),
  but a TD says them on a definition (`scopes`): a scheme with other scopes in another alternative is written
  as a definition of its own (`<name>_<alternative>`) with `lmos:scheme: <name>`, read back as that scheme.
  An OAuth2 scheme from an A2A card (`flows`) is written with its first flow in TD terms too (`flow`,
  `authorization`, `token`, `refresh`); read back, those terms are dropped again when they say no more.

Writing (`agent_to_td`): an agent read from a TD is written from its `original`, with only the fields
that changed since rewritten, so unknown TD fields survive. Any other agent becomes a new TD with
`id` = `Agent.id` when that is a URI, else `urn:lmos:agent:<namespace>:<name>`; title = the name the
description it came from gave (`description.agent_title`), else the agent name;
`lmos:kubernetes` {name, namespace, labels?, annotations?, and an Agent resource's unknown keys:
metadataExtras?, specExtras?, resourceExtras?}; `lmos:agentId` when `Agent.id` differs
from the TD `id`; endpoints grouped into affordances (default action `chat`); no security → `nosec_sc`.

A TD store that must keep another format's document (an A2A card registered in a TD directory) writes
`agent_to_td(agent, embed_original=True)`: the TD gets `lmos:original: {format, document}`, and
`td_to_agent` gives back an agent whose `original_format`/`original` are that document's again.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urljoin, urlsplit

from lmos_studio.formats import description as d
from lmos_studio.formats.yamlio import text_of
from lmos_studio.model import DEFAULT_NAMESPACE, NOSEC, Agent, Endpoint, SecurityScheme, security_alternatives

TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"
TD_CONTEXTS = (TD_CONTEXT, "https://www.w3.org/2019/wot/td/v1")
LMOS_NAMESPACE = "https://eclipse.dev/lmos/protocol/v1"
AGENT_TYPE, TOOL_TYPE = "lmos:Agent", "lmos:Tool"
THING_TYPE_ANNOTATION = "studio.lmos.eclipse/thing-type"
DEFAULT_AFFORDANCE = "actions/chat"  # the one action of an LMOS conversational agent (Kotlin SDK)
THING_AFFORDANCE = "thing"  # Thing-level `forms`
AFFORDANCE_KINDS = ("properties", "actions", "events")
NOSEC_NAME = "nosec_sc"
COMBO_SCHEME = "combo"
COMBO_NAME = "combo_sc"  # the combo written for security alternatives (its allOf branches: combo_sc_<i>)
_CARD_FLOWS = {"authorizationCode": "code", "clientCredentials": "client", "deviceCode": "device"}  # A2A → TD 1.1
_FLOW_KEYS = ("flow", "authorization", "token", "refresh")  # what a TD says of an OAuth2 flow
ORIGINAL_KEY = "lmos:original"  # a description of another format, embedded whole: {format, document}
SCHEME_NAME_KEY = "lmos:scheme"  # on a definition of a scheme written again for other scopes: the scheme's name
_FORM_MODELLED = ("href", "subprotocol", "lmos:protocol", "lmos:transport")
KIND = "Thing Description"


def is_td(doc: Any) -> bool:
    """Whether a parsed document looks like a WoT Thing Description (TD context or an LMOS @type)."""
    if not isinstance(doc, dict):
        return False
    context = doc.get("@context")
    contexts = context if isinstance(context, list) else [context]
    if any(isinstance(c, str) and c in TD_CONTEXTS for c in contexts):
        return True
    return bool({AGENT_TYPE, TOOL_TYPE} & set(_types(doc)))


def _types(td: dict[str, Any]) -> list[str]:
    value = td.get("@type")
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def td_to_agent(td: dict[str, Any], *, source: str = "") -> Agent:
    """An LMOS Thing Description as an `Agent`; `DesignFileError` names source, line and field."""
    doc = d.Doc(td, path=source or "<thing description>", kind=KIND)
    if not isinstance(td, dict):
        doc.fail("must be a JSON object")
    title = doc.text(td, "title", "title", strict=True)  # the agent name comes from it: `7` is a mistake
    td_id = doc.text(td, "id", "id", strict=True)
    if not title.strip() and not td_id.strip():
        doc.fail("missing; add a `title` (the agent name is derived from it)", node=td, field="title")
    kube = doc.mapping(td, "lmos:kubernetes", "lmos:kubernetes")
    version_node = td.get("version")
    instance = ""
    if isinstance(version_node, dict):
        instance = doc.text(version_node, "instance", "version.instance")
    labels = doc.string_map(kube, "labels", "lmos:kubernetes.labels")
    if instance and "version" not in labels and d.is_label_value(instance):
        labels["version"] = instance
    fallback = d.default_version(instance)
    caps, defaulted = [], []
    for i, node in enumerate(doc.seq(td, "lmos:capabilities", "lmos:capabilities")):
        cap, was_defaulted = d.read_capability(doc, node, f"lmos:capabilities[{i}]", fallback_version=fallback)
        caps.append(cap)
        if was_defaulted:
            defaulted.append(cap.name)
    annotations = doc.string_map(kube, "annotations", "lmos:kubernetes.annotations")
    if TOOL_TYPE in _types(td):
        annotations.setdefault(THING_TYPE_ANNOTATION, TOOL_TYPE)
    agent_id = doc.text(td, "lmos:agentId", "lmos:agentId") if "lmos:agentId" in td else td_id
    return Agent(
        name=d.check_name(doc, kube, "name", "lmos:kubernetes.name") or d.agent_name(title, td_id),
        namespace=d.check_name(doc, kube, "namespace", "lmos:kubernetes.namespace") or DEFAULT_NAMESPACE,
        labels=labels,
        annotations=d.mark_defaulted(annotations, defaulted),
        id=agent_id,
        description=doc.text(td, "description", "description"),
        supported_tenants=doc.texts(td, "lmos:supportedTenants", "lmos:supportedTenants"),
        supported_channels=doc.texts(td, "lmos:supportedChannels", "lmos:supportedChannels"),
        capabilities=tuple(caps),
        endpoints=_endpoints(doc, td),
        security=_security(doc, td),
        source=source,
        **_origin(doc, td),
        **d.resource_extras_in(doc, kube, "lmos:kubernetes"),
    )


def _origin(doc: d.Doc, td: dict[str, Any]) -> dict[str, Any]:
    """original_format and original: the embedded `lmos:original` document when there is one."""
    embedded = doc.mapping(td, ORIGINAL_KEY, ORIGINAL_KEY)
    if not embedded:
        return {"original_format": "td", "original": d.plain(td)}
    fmt = doc.text(embedded, "format", "lmos:original.format", required=True)
    document = doc.mapping(embedded, "document", "lmos:original.document", required=True)
    return {"original_format": fmt, "original": d.plain(document)}


def _endpoints(doc: d.Doc, td: dict[str, Any]) -> tuple[Endpoint, ...]:
    base = doc.text(td, "base", "base")
    out = [
        _endpoint(doc, form, f"forms[{i}]", THING_AFFORDANCE, base)
        for i, form in enumerate(doc.seq(td, "forms", "forms"))
    ]
    for kind in AFFORDANCE_KINDS:
        for name, affordance in doc.mapping(td, kind, kind).items():
            field = f"{kind}.{name}"
            if not isinstance(affordance, dict):
                doc.fail("must be a mapping", node=td.get(kind), key=name, field=field)
            for i, form in enumerate(doc.seq(affordance, "forms", f"{field}.forms")):
                out.append(_endpoint(doc, form, f"{field}.forms[{i}]", f"{kind}/{name}", base))
    return tuple(out)


def by_address(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    """The endpoints with the agent's address first: an agent is called through its `chat` action (LMOS.md
    §3.1), so the forms of that action (and endpoints of formats without affordances) come first, then those of
    other actions, then the rest (Thing-level forms, properties, events); each group in its own order."""

    def rank(endpoint: Endpoint) -> int:
        affordance = str(endpoint.extras.get("affordance", DEFAULT_AFFORDANCE))
        return 0 if affordance == DEFAULT_AFFORDANCE else 1 if affordance.startswith("actions/") else 2

    return tuple(sorted(endpoints, key=rank))


def _endpoint(doc: d.Doc, form: Any, field: str, affordance: str, base: str) -> Endpoint:
    if not isinstance(form, dict):
        doc.fail("must be a mapping with href", field=field)
    href = doc.text(form, "href", f"{field}.href", required=True)
    uri = urljoin(base, href) if base else href
    protocol = doc.text(form, "lmos:protocol", f"{field}.lmos:protocol") or urlsplit(uri).scheme.lower()
    extras = d.plain(d.rest(form, _FORM_MODELLED))
    if affordance != DEFAULT_AFFORDANCE:
        extras = {"affordance": affordance, **extras}
    return Endpoint(
        protocol=protocol,
        uri=uri,
        subprotocol=doc.text(form, "subprotocol", f"{field}.subprotocol"),
        transport=doc.text(form, "lmos:transport", f"{field}.lmos:transport"),
        extras=extras,
    )


def _applied(doc: d.Doc, node: dict[str, Any], field: str) -> list[str]:
    """The security definition names `node` (the TD or a form) applies with its `security` (a name or a list)."""
    value = node.get("security")
    if value is None:
        return []
    names = value if isinstance(value, list) else [value]
    for i, name in enumerate(names):
        if isinstance(name, dict | list):
            doc.fail("must name security definitions", node=node, key="security", field=f"{field}[{i}]")
    return [text_of(n) for n in names]


def _address_form(doc: d.Doc, td: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
    """The form the agent is called through (its `chat` action's first, as `by_address` orders endpoints) and its
    field path, or None for a TD without forms."""
    forms: list[tuple[int, dict[str, Any], str]] = []
    for i, form in enumerate(doc.seq(td, "forms", "forms")):
        forms.append((2, form, f"forms[{i}]"))
    for kind in AFFORDANCE_KINDS:
        for name, affordance in doc.mapping(td, kind, kind).items():
            for i, form in enumerate(doc.seq(affordance, "forms", f"{kind}.{name}.forms")):
                at = f"{kind}/{name}"
                forms.append(
                    (0 if at == DEFAULT_AFFORDANCE else 1 if kind == "actions" else 2, form, f"{at}.forms[{i}]")
                )
    found = sorted(((r, f, at) for r, f, at in forms if isinstance(f, dict)), key=lambda item: item[0])
    return (found[0][1], found[0][2].replace("/", ".")) if found else None


def _security(doc: d.Doc, td: dict[str, Any]) -> tuple[SecurityScheme, ...]:
    """The schemes `security` applies; a form the agent is called through that says its own `security` (TD 1.1:
    it replaces the Thing's there) applies those, and its `scopes` are the ones an OAuth2 scheme requires."""
    definitions = doc.mapping(td, "securityDefinitions", "securityDefinitions")
    applied, field, scopes = _applied(doc, td, "security"), "security", None
    address = _address_form(doc, td)
    if address is not None and "security" in address[0]:
        field = f"{address[1]}.security"
        applied = _applied(doc, address[0], field)
    if address is not None and "scopes" in address[0]:
        scopes = d.plain(address[0]["scopes"])
    alternatives: list[list[str]] = [[]]
    for name in applied:  # every name applied is required: the alternatives multiply
        alternatives = [a + b for a in alternatives for b in _expand(doc, definitions, name, field, ())]
    out = []
    for alternative, names in enumerate(alternatives):
        schemes = []
        for name in dict.fromkeys(names):
            definition = definitions[name]
            scheme = doc.text(definition, "scheme", f"securityDefinitions.{name}.scheme", required=True)
            extras = d.plain(d.rest(definition, ("scheme", SCHEME_NAME_KEY)))
            derived = _card_flow({"scheme": scheme, **{k: v for k, v in extras.items() if k not in _FLOW_KEYS}})
            if derived and all(extras.get(k) == v for k, v in derived.items()):
                extras = {k: v for k, v in extras.items() if k not in derived}  # written for a card's flows: again
            if scopes is not None and scheme == "oauth2":
                extras["scopes"] = scopes
            own = doc.text(definition, SCHEME_NAME_KEY, f"securityDefinitions.{name}.{SCHEME_NAME_KEY}") or name
            schemes.append(SecurityScheme(name=own, scheme=scheme, extras=extras, alternative=alternative))
        required = [s for s in schemes if s.scheme != NOSEC]
        # an alternative of nosec alone, beside others, is "no authentication is also accepted": kept
        out += required or (schemes[:1] if len(alternatives) > 1 else [])
    return tuple(out)


def _expand(doc: d.Doc, definitions: dict[str, Any], name: str, field: str, seen: tuple[str, ...]) -> list[list[str]]:
    """The alternatives (each a list of the scheme names all required) a security definition stands for: a
    `combo` with `oneOf` is any one of its members, with `allOf` all of them; any other scheme is itself."""
    definition = definitions.get(name)
    if not isinstance(definition, dict):
        applied = field == "security"  # named by the TD's `security` (its line), else by a combo
        doc.fail(
            f"names {name!r}, which securityDefinitions does not define; add it there",
            node=doc.raw if applied else None,
            key="security" if applied else None,
            field=field,
        )
    if name in seen:
        doc.fail(f"combo {name!r} contains itself; remove the loop", field=f"securityDefinitions.{name}")
    if definition.get("scheme") != COMBO_SCHEME:
        return [[name]]
    key = "oneOf" if "oneOf" in definition else "allOf"
    members = doc.texts(definition, key, f"securityDefinitions.{name}.{key}")
    expanded = [_expand(doc, definitions, m, f"securityDefinitions.{name}.{key}", (*seen, name)) for m in members]
    if key == "oneOf":
        return [alternative for member in expanded for alternative in member]
    out: list[list[str]] = [[]]
    for member in expanded:
        out = [a + b for a in out for b in member]
    return out


def td_id_of(agent: Agent) -> str:
    """The TD `id` written for an agent: its id when that is a URI, else `urn:lmos:agent:<ns>:<name>`."""
    return agent.id if d.is_uri(agent.id) else f"urn:lmos:agent:{agent.namespace}:{agent.name}"


def agent_to_td(agent: Agent, *, embed_original: bool = False) -> dict[str, Any]:
    """The agent as an LMOS Thing Description (from its original TD when it came from one).

    `embed_original` adds `lmos:original: {format, document}` when the agent came from another format.
    """
    if agent.original_format == "td" and agent.original:
        return _overlay(agent)
    td = _build(agent)
    if embed_original and agent.original_format and agent.original:
        td[ORIGINAL_KEY] = {"format": agent.original_format, "document": d.plain(agent.original)}
    return td


def _kubernetes(agent: Agent) -> dict[str, Any]:
    kube: dict[str, Any] = {"name": agent.name, "namespace": agent.namespace}
    if agent.labels:
        kube["labels"] = dict(agent.labels)
    if agent.annotations:
        kube["annotations"] = dict(agent.annotations)
    kube.update(d.resource_extras_out(agent))  # what an Agent resource holds beyond the model
    return kube


def _build(agent: Agent) -> dict[str, Any]:
    td_id = td_id_of(agent)
    is_tool = agent.annotations.get(THING_TYPE_ANNOTATION) == TOOL_TYPE
    td: dict[str, Any] = {
        "@context": [TD_CONTEXT, {"lmos": LMOS_NAMESPACE}],
        "@type": TOOL_TYPE if is_tool else AGENT_TYPE,
        "id": td_id,
        "title": d.agent_title(agent),
    }
    if agent.id != td_id:
        td["lmos:agentId"] = agent.id
    if agent.description:
        td["description"] = agent.description
    if d.agent_version(agent):
        td["version"] = {"instance": d.agent_version(agent)}
    td["lmos:kubernetes"] = _kubernetes(agent)
    _set_list(td, "lmos:supportedTenants", agent.supported_tenants)
    _set_list(td, "lmos:supportedChannels", agent.supported_channels)
    td["lmos:capabilities"] = [d.capability_out(c) for c in agent.capabilities]
    _set_security(td, agent.security, keep={})
    _place_forms(td, agent.endpoints)
    return td


def _set_list(td: dict[str, Any], key: str, values: tuple[str, ...]) -> None:
    if values:
        td[key] = list(values)
    else:
        td.pop(key, None)


def _set_security(td: dict[str, Any], schemes: tuple[SecurityScheme, ...], *, keep: dict[str, Any]) -> None:
    """securityDefinitions and security: the names applied (all required) for one alternative; for more, a
    `combo` (`COMBO_NAME`) whose `oneOf` are the alternatives, each a scheme or a combo (`allOf`) of its schemes."""
    definitions = dict(keep)
    named: dict[str, str] = {}  # a definition's body (JSON) → its name
    groups: list[list[str]] = []
    for alternative in security_alternatives(schemes):
        applied = []
        for scheme in alternative:
            body = {"scheme": scheme.scheme, **d.plain(scheme.extras)}
            body.update({k: v for k, v in _card_flow(body).items() if k not in body})  # a card's OAuth2 flows
            name = scheme.name
            if name in definitions and definitions[name] != body:
                # the scheme asks other scopes in this alternative: TD scopes belong to a definition, so one of its own
                body[SCHEME_NAME_KEY] = scheme.name
                name = named.get(json.dumps(body, sort_keys=True)) or _free_name(
                    f"{name}_{scheme.alternative}", definitions
                )
            named.setdefault(json.dumps(body, sort_keys=True), name)
            definitions.setdefault(name, body)
            applied.append(name)
        groups.append(list(dict.fromkeys(applied)))
    if not groups:
        definitions.setdefault(NOSEC_NAME, {"scheme": "nosec"})
        names = [NOSEC_NAME]
    elif len(groups) == 1:
        names = groups[0]
    else:
        branches = []
        for i, group in enumerate(groups):
            if len(group) == 1:
                branches.append(group[0])
            else:
                branches.append(f"{COMBO_NAME}_{i}")
                definitions[branches[-1]] = {"scheme": COMBO_SCHEME, "allOf": group}
        definitions[COMBO_NAME] = {"scheme": COMBO_SCHEME, "oneOf": branches}
        names = [COMBO_NAME]
    td["securityDefinitions"] = definitions
    td["security"] = names


def _card_flow(body: dict[str, Any]) -> dict[str, Any]:
    """What a TD says of an OAuth2 scheme an A2A card gave (`flows`): the first flow TD 1.1 knows as `flow` (code,
    client, device) with its `authorization`, `token` and `refresh` URLs; {} for any other scheme."""
    flows = body.get("flows")
    if body.get("scheme") != "oauth2" or not isinstance(flows, dict):
        return {}
    kind = next((k for k in flows if k in _CARD_FLOWS and isinstance(flows[k], dict)), None)
    if kind is None:
        return {}
    flow = flows[kind]
    out: dict[str, Any] = {"flow": _CARD_FLOWS[kind]}
    for td_key, card_key in (
        ("authorization", "authorizationUrl"),
        ("authorization", "deviceAuthorizationUrl"),
        ("token", "tokenUrl"),
        ("refresh", "refreshUrl"),
    ):
        if card_key in flow:
            out[td_key] = flow[card_key]
    return out


def _free_name(name: str, taken: dict[str, Any]) -> str:
    """`name`, or it with the first `_<n>` that `taken` does not hold."""
    n = 1
    free = name
    while free in taken:
        n += 1
        free = f"{name}_{n}"
    return free


def _reachable(td: dict[str, Any]) -> set[str]:
    """The security definition names `security` applies, through combos."""
    given = td.get("securityDefinitions")
    definitions: dict[str, Any] = given if isinstance(given, dict) else {}
    value = td.get("security")
    todo = [str(n) for n in (value if isinstance(value, list) else [value]) if isinstance(n, str)]
    out: set[str] = set()
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out.add(name)
        definition = definitions.get(name)
        if isinstance(definition, dict) and definition.get("scheme") == COMBO_SCHEME:
            for key in ("oneOf", "allOf"):
                members = definition.get(key)
                todo += [str(m) for m in members if isinstance(m, str)] if isinstance(members, list) else []
    return out


def _form(endpoint: Endpoint) -> dict[str, Any]:
    form: dict[str, Any] = {"href": endpoint.uri}
    if endpoint.subprotocol:
        form["subprotocol"] = endpoint.subprotocol
    if endpoint.protocol != urlsplit(endpoint.uri).scheme.lower():
        form["lmos:protocol"] = endpoint.protocol
    if endpoint.transport:
        form["lmos:transport"] = endpoint.transport
    form.update({k: v for k, v in d.plain(endpoint.extras).items() if k != "affordance"})
    return form


def _place_forms(td: dict[str, Any], endpoints: tuple[Endpoint, ...]) -> None:
    """Put one form per endpoint into its affordance, creating affordances as needed."""
    for endpoint in endpoints:
        affordance = str(endpoint.extras.get("affordance", DEFAULT_AFFORDANCE))
        if affordance == THING_AFFORDANCE:
            td.setdefault("forms", []).append(_form(endpoint))
            continue
        kind, _, name = affordance.partition("/")
        if kind not in AFFORDANCE_KINDS or not name:
            kind, name = "actions", affordance or "chat"
        td.setdefault(kind, {}).setdefault(name, {}).setdefault("forms", []).append(_form(endpoint))


def _overlay(agent: Agent) -> dict[str, Any]:
    """The original TD with only the fields that differ from what it reads as rewritten."""
    td = copy.deepcopy(agent.original)
    base = td_to_agent(agent.original, source=agent.source)
    kube_fields = ("name", "namespace", "labels", "annotations", "metadata_extras", "spec_extras", "extras")
    if any(getattr(agent, f) != getattr(base, f) for f in kube_fields):
        td["lmos:kubernetes"] = _kubernetes(agent)
    if d.agent_version(agent) != d.agent_version(base):  # the version label changed: the TD's version with it
        given = td.get("version")
        version = {k: v for k, v in given.items() if k != "instance"} if isinstance(given, dict) else {}
        td["version"] = {"instance": d.agent_version(agent), **version} if d.agent_version(agent) else version
        if not td["version"]:
            del td["version"]
    if agent.id != base.id:
        if d.is_uri(agent.id):
            td["id"] = agent.id
            td.pop("lmos:agentId", None)
        else:
            td["lmos:agentId"] = agent.id
    if agent.description != base.description:
        if agent.description:
            td["description"] = agent.description
        else:
            td.pop("description", None)
    if agent.supported_tenants != base.supported_tenants:
        _set_list(td, "lmos:supportedTenants", agent.supported_tenants)
    if agent.supported_channels != base.supported_channels:
        _set_list(td, "lmos:supportedChannels", agent.supported_channels)
    if agent.capabilities != base.capabilities:
        td["lmos:capabilities"] = [d.capability_out(c) for c in agent.capabilities]
    if agent.security != base.security:
        applied = {s.name for s in base.security} | _reachable(td)
        keep = {k: v for k, v in (td.get("securityDefinitions") or {}).items() if k not in applied}
        _set_security(td, agent.security, keep=keep)
    if agent.endpoints != base.endpoints:
        _replace_forms(td, agent.endpoints)
    return td


def _replace_forms(td: dict[str, Any], endpoints: tuple[Endpoint, ...]) -> None:
    td.pop("base", None)  # endpoint URIs are absolute
    td.pop("forms", None)
    for kind in AFFORDANCE_KINDS:
        affordances = td.get(kind)
        if isinstance(affordances, dict):
            for affordance in affordances.values():
                if isinstance(affordance, dict):
                    affordance.pop("forms", None)
    _place_forms(td, endpoints)
    for kind in AFFORDANCE_KINDS:  # an affordance without forms is not a valid TD: drop it
        affordances = td.get(kind)
        if isinstance(affordances, dict):
            for name in [n for n, a in affordances.items() if not (isinstance(a, dict) and a.get("forms"))]:
                del affordances[name]
            if not affordances:
                del td[kind]
