"""A2A Agent Cards (v0.3 and v1.0) to and from the model.

Reading (`card_to_agent`), both versions:

* name: derived from the card `name` (`description.agent_name`); `version`, when a valid label value,
  becomes the `version` label; `description` as is.
* each skill is a capability: `name` and `id` = the skill `id` (the machine name a Channel requires),
  version = defaulted (skills have none: the card version when strict SemVer, else 0.0.0, marked with
  the defaulted-versions annotation); `description`, `examples`; the skill's `name` (when it differs
  from its id) as extras `title`, non-empty `tags` and every other skill key as extras.
* transports are endpoints with protocol `a2a`: v1.0 `supportedInterfaces[] {url, protocolBinding, …}`
  (other keys such as `protocolVersion`, `tenant` in extras); v0.3 `url` + `preferredTransport`
  (default JSONRPC) first, then `additionalInterfaces[] {url, transport}`.
* v1.0 interface `tenant`s become the supported tenants.
* the security schemes named by `security` (v0.3) / `securityRequirements` (v1.0) (all defined ones
  when there are no requirements) are `SecurityScheme`s with TD-style names (apikey, bearer, basic,
  oauth2, openIdConnect, mtls; another HTTP authentication scheme, such as Negotiate, is `http` with its name
  in extras `httpScheme`, where a bearer, basic or digest scheme written otherwise than in lower case, such as
  "Bearer", keeps its spelling too); the body in extras (v1.0 `location` read as `in`), required scopes
  as extras `scopes`. Each requirement entry is an alternative (any one suffices; `alternative` = its
  index), every scheme of it required; written back one entry per alternative. An empty entry (`{}`: no
  authentication is also accepted) is an alternative of one `nosec` scheme (`nosec_sc`, as a TD names it),
  written back as `{}`; a card's only entry empty is no security. Keys of a v1.0 card Studio does not know beside
  the `<kind>SecurityScheme` wrapper, beside `schemes` in a requirement and beside its `list` are kept in the
  scheme's extras (`wrapperExtras`, `requirementExtras`, `listExtras`) and written back in their places (a v0.3
  card, which has none of these places, keeps them under those names in the scheme's definition).
* the Studio extension (`capabilities.extensions[]` with uri `urn:lmos:studio:a2a:v1`), which
  `agent_to_card` writes, restores what a card cannot say: name, namespace, id, labels, annotations,
  tenants, channels, capability names/ids/versions, non-A2A endpoints and an Agent resource's unknown keys
  (metadataExtras, specExtras, resourceExtras); and, for an agent that came from
  a description of another format (a TD, a capabilities.json …), that description whole (`original`: format
  and document), which becomes the agent's original again, so TD → card → TD gives the TD back.
* v0.3 has no place for the main interface's extras (a v1.0 `tenant` …): it is repeated in
  `additionalInterfaces` with them (as v0.3 advises), and read back as one endpoint.

Writing (`agent_to_card(agent, version)`): an unchanged agent read from a card of the same version gives
that card back verbatim; otherwise a new card, keeping the original's other top-level keys but its `signatures`,
which no longer match the content (`signatures_warning` says so: sign it again). The interfaces
of a v0.3 card speak its `protocolVersion`: a v1.0 card written from one gives each interface that version
(not "1.0"), and a v0.3 card says it once at the top, not again on each interface. What the versions name
differently moves to the written version's place: v0.3 `supportsAuthenticatedExtendedCard` (top level) ↔ v1.0
`capabilities.extendedAgentCard`, a skill's v0.3 `security` ↔ v1.0 `securityRequirements` (reshaped).
Security schemes the card defines but does not require at the top (a skill's own …) are kept, reshaped.
A TD's OAuth2 scheme (`flow`, `token` …) gets the `flows` a card requires, beside them; read back, flows that say
no more than those are dropped again.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

from pydantic import ValidationError

from lmos_studio.formats import checked
from lmos_studio.formats import description as d
from lmos_studio.formats import td as td_format
from lmos_studio.formats.yamlio import text_of
from lmos_studio.model import (
    DEFAULT_NAMESPACE,
    NOSEC,
    Agent,
    Capability,
    Endpoint,
    SecurityScheme,
    security_alternatives,
)

CardVersion = Literal["1.0", "0.3"]
CARD_VERSIONS: tuple[CardVersion, ...] = ("1.0", "0.3")
A2A_PROTOCOL = "a2a"
DEFAULT_TRANSPORT = "JSONRPC"  # A2A's default `preferredTransport`
STUDIO_EXTENSION = d.A2A_STUDIO_EXTENSION
DEFAULT_MODES = ["text/plain"]
V03_PROTOCOL, V1_PROTOCOL = "0.3.0", "1.0"  # `protocolVersion` of a v0.3 card (its default) and of v1.0 interfaces
KIND = "A2A Agent Card"
V03_EXTENDED_CARD, V1_EXTENDED_CARD = (
    "supportsAuthenticatedExtendedCard",
    "extendedAgentCard",
)  # v0.3 top, v1.0 capabilities
_V03_SECURITY_TYPES = {"apiKey": "apikey", "oauth2": "oauth2", "openIdConnect": "openIdConnect", "mutualTLS": "mtls"}
_V1_WRAPPERS = {
    "apiKeySecurityScheme": "apikey",
    "oauth2SecurityScheme": "oauth2",
    "openIdConnectSecurityScheme": "openIdConnect",
    "mtlsSecurityScheme": "mtls",
}
_HTTP_SCHEMES = ("bearer", "basic", "digest")  # HTTP authentication schemes a TD names as its own schemes
_TD_FLOWS = {"code": "authorizationCode", "client": "clientCredentials", "device": "deviceCode"}  # TD 1.1 → A2A
HTTP_SCHEME, HTTP_AUTH_KEY = "http", "httpScheme"  # any other HTTP authentication scheme, and where its name is kept
# a v1.0 card's keys Studio does not know beside the `<kind>SecurityScheme` wrapper, beside `schemes` in a
# requirement and beside a scheme's `list` there: kept in the scheme's extras under these names
WRAPPER_EXTRAS, REQUIREMENT_EXTRAS, LIST_EXTRAS = "wrapperExtras", "requirementExtras", "listExtras"
_PLACED = ("scopes", REQUIREMENT_EXTRAS, LIST_EXTRAS)  # extras a v1.0 card says in its requirements
_VERSION_SPECIFIC = (
    "protocolVersion",
    "url",
    "preferredTransport",
    "additionalInterfaces",
    "security",
    "supportedInterfaces",
    "securityRequirements",
)
SIGNATURES = "signatures"  # JWS signatures over the card's content: kept only on a card written back unchanged
SIGNATURES_DROPPED = "signatures dropped: the card changed; sign it again"
_BUILT = (
    "name",
    "description",
    "version",
    "skills",
    "securitySchemes",
    "capabilities",
    "defaultInputModes",
    "defaultOutputModes",
    *_VERSION_SPECIFIC,
)


def is_card(doc: Any) -> bool:
    """Whether a parsed document looks like an A2A Agent Card (a `name` and a `skills` list)."""
    return isinstance(doc, dict) and isinstance(doc.get("skills"), list) and "name" in doc


def card_version(card: dict[str, Any]) -> CardVersion:
    """ "1.0" when the card has `supportedInterfaces`, "0.3" when it has v0.3 names, else "1.0"."""
    if "supportedInterfaces" in card or "securityRequirements" in card:
        return "1.0"
    if any(key in card for key in ("url", "preferredTransport", "additionalInterfaces", "security")):
        return "0.3"
    return "0.3" if text_of(card.get("protocolVersion", "")).startswith("0.") else "1.0"


def card_to_agent(card: dict[str, Any], *, source: str = "") -> Agent:
    """An A2A Agent Card (either version) as an `Agent`; `DesignFileError` names source, line and field."""
    doc = d.Doc(card, path=source or "<agent card>", kind=KIND)
    if not isinstance(card, dict):
        doc.fail("must be a JSON object")
    title = doc.text(card, "name", "name", required=True, strict=True)  # the agent name: `7` is a mistake
    card_ver = doc.text(card, "version", "version")
    ext, at = _extension(doc, card)
    endpoints = _endpoints(doc, card) + _other_endpoints(doc, ext, at)
    caps, defaulted = _capabilities(doc, card, ext, at, d.default_version(card_ver))
    if "labels" in ext:
        labels = _edited_version(doc.string_map(ext, "labels", f"{at}.labels"), card_ver)
    else:
        labels = {"version": card_ver} if card_ver and d.is_label_value(card_ver) else {}
    if "supportedTenants" in ext:
        tenants = doc.texts(ext, "supportedTenants", f"{at}.supportedTenants")
    else:
        tenants = tuple(dict.fromkeys(text_of(e.extras["tenant"]) for e in endpoints if e.extras.get("tenant")))
    return Agent(
        name=d.check_name(doc, ext, "name", f"{at}.name") or d.agent_name(title),
        namespace=d.check_name(doc, ext, "namespace", f"{at}.namespace") or DEFAULT_NAMESPACE,
        labels=labels,
        annotations=d.mark_defaulted(doc.string_map(ext, "annotations", f"{at}.annotations"), defaulted),
        id=doc.text(ext, "id", f"{at}.id"),
        description=doc.text(card, "description", "description"),
        supported_tenants=tenants,
        supported_channels=doc.texts(ext, "supportedChannels", f"{at}.supportedChannels"),
        capabilities=tuple(caps),
        endpoints=endpoints,
        security=_security(doc, card),
        source=source,
        **_origin(doc, card, ext, at),
        **d.resource_extras_in(doc, ext, at),
    )


def _edited_version(labels: dict[str, str], card_version: str) -> dict[str, str]:
    """The Studio extension's labels with the card's own `version` when it differs from the one written with them
    (`version` label, else 0.0.0): a card edited by hand after Studio wrote it says its version itself."""
    written = labels.get("version") or d.FALLBACK_VERSION
    if card_version and card_version != written and d.is_label_value(card_version):
        return {**labels, "version": card_version}
    return labels


def _origin(doc: d.Doc, card: dict[str, Any], ext: dict[str, Any], at: str) -> dict[str, Any]:
    """original_format and original: the description of another format the extension carries (`original`,
    written when the agent came from a TD, a capabilities.json …), else the card itself."""
    embedded = doc.mapping(ext, "original", f"{at}.original")
    if not embedded:
        return {"original_format": "a2a", "original": d.plain(card)}
    fmt = doc.text(embedded, "format", f"{at}.original.format", required=True)
    document = doc.mapping(embedded, "document", f"{at}.original.document", required=True)
    return {"original_format": fmt, "original": d.plain(document)}


def _extension(doc: d.Doc, card: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The Studio extension's params (or {}) and their field path."""
    capabilities = doc.mapping(card, "capabilities", "capabilities")
    for i, ext in enumerate(doc.seq(capabilities, "extensions", "capabilities.extensions")):
        if isinstance(ext, dict) and ext.get("uri") == STUDIO_EXTENSION:
            at = f"capabilities.extensions[{i}].params"
            return doc.mapping(ext, "params", at), at
    return {}, ""


def _other_endpoints(doc: d.Doc, ext: dict[str, Any], at: str) -> tuple[Endpoint, ...]:
    out = []
    for i, node in enumerate(doc.seq(ext, "otherEndpoints", f"{at}.otherEndpoints")):
        try:
            out.append(Endpoint.model_validate(d.plain(node)))
        except ValidationError as exc:
            where, message = checked.problem(exc.errors()[0])
            doc.fail(message, field=f"{at}.otherEndpoints[{i}]" + (f".{where}" if where else ""))
    return tuple(out)


_SKILL_KEYS = ("id", "name", "description", "examples", "tags")


def _capabilities(
    doc: d.Doc, card: dict[str, Any], ext: dict[str, Any], at: str, fallback: str
) -> tuple[list[Capability], list[str]]:
    known = doc.mapping(ext, "capabilities", f"{at}.capabilities")
    caps, defaulted = [], []
    for i, skill in enumerate(doc.seq(card, "skills", "skills", required=True)):
        field = f"skills[{i}]"
        if not isinstance(skill, dict):
            doc.fail("must be a mapping with id and name", field=field)
        skill_id = doc.text(skill, "id", f"{field}.id", required=True)
        skill_name = doc.text(skill, "name", f"{field}.name", required=True)
        meta = doc.mapping(known, skill_id, f"{at}.capabilities.{skill_id}")
        name = doc.text(meta, "name", f"{at}.capabilities.{skill_id}.name", default=skill_id)
        extras: dict[str, Any] = {}
        if skill_name != name:
            extras["title"] = skill_name
        tags = doc.texts(skill, "tags", f"{field}.tags")
        if tags:
            extras["tags"] = list(tags)
        extras.update(d.plain(d.rest(skill, _SKILL_KEYS)))
        version = doc.text(meta, "version", f"{at}.capabilities.{skill_id}.version")
        if not version:
            defaulted.append(name)
        caps.append(
            Capability(
                id=doc.text(meta, "id", f"{at}.capabilities.{skill_id}.id", default=skill_id),
                name=name,
                version=version or fallback,
                description=doc.text(skill, "description", f"{field}.description"),
                examples=doc.texts(skill, "examples", f"{field}.examples"),
                extras=extras,
            )
        )
    return caps, defaulted


def _endpoints(doc: d.Doc, card: dict[str, Any]) -> tuple[Endpoint, ...]:
    out = []
    if card_version(card) == "1.0":
        for i, node in enumerate(doc.seq(card, "supportedInterfaces", "supportedInterfaces")):
            out.append(_interface(doc, node, f"supportedInterfaces[{i}]", "protocolBinding"))
        return tuple(out)
    url = doc.text(card, "url", "url")
    if url:
        transport = doc.text(card, "preferredTransport", "preferredTransport") or DEFAULT_TRANSPORT
        out.append(Endpoint(protocol=A2A_PROTOCOL, uri=url, transport=transport))
    for i, node in enumerate(doc.seq(card, "additionalInterfaces", "additionalInterfaces")):
        endpoint = _interface(doc, node, f"additionalInterfaces[{i}]", "transport")
        same = next((j for j, e in enumerate(out) if (e.uri, e.transport) == (endpoint.uri, endpoint.transport)), -1)
        if same < 0:
            out.append(endpoint)
        elif not out[same].extras:  # v0.3 advises repeating the main url here: one endpoint, with what it adds
            out[same] = endpoint
        elif endpoint != out[same]:
            out.append(endpoint)
    return tuple(out)


def _interface(doc: d.Doc, node: Any, field: str, transport_key: str) -> Endpoint:
    if not isinstance(node, dict):
        doc.fail("must be a mapping with url", field=field)
    if transport_key not in node and "transport" in node:  # early v1.0 drafts kept v0.3's name
        transport_key = "transport"
    return Endpoint(
        protocol=A2A_PROTOCOL,
        uri=doc.text(node, "url", f"{field}.url", required=True),
        transport=doc.text(node, transport_key, f"{field}.{transport_key}"),
        extras=d.plain(d.rest(node, ("url", transport_key))),
    )


_Requirement = tuple[dict[str, list[str]], dict[str, Any], dict[str, dict[str, Any]]]


def _requirements(doc: d.Doc, card: dict[str, Any]) -> list[_Requirement] | None:
    """The alternatives of either version's requirements (any one suffices), each scheme name → required
    scopes, with the v1.0 entry's other keys (beside `schemes`) and each scheme's beside `list`; None when the
    card states none."""
    out: list[_Requirement] = []
    if "securityRequirements" in card:
        for i, req in enumerate(doc.seq(card, "securityRequirements", "securityRequirements")):
            schemes = doc.mapping(req, "schemes", f"securityRequirements[{i}].schemes")
            alternative: dict[str, list[str]] = {}
            beside: dict[str, dict[str, Any]] = {}
            for name, scopes in schemes.items():
                field = f"securityRequirements[{i}].schemes.{name}.list"
                values = doc.seq(scopes, "list", field) if isinstance(scopes, dict) else []
                alternative.setdefault(str(name), []).extend(text_of(v) for v in values)
                if isinstance(scopes, dict) and d.rest(scopes, ("list",)):
                    beside[str(name)] = d.plain(d.rest(scopes, ("list",)))
            out.append((alternative, d.plain(d.rest(req, ("schemes",))) if isinstance(req, dict) else {}, beside))
        return out
    if "security" in card:
        for i, req in enumerate(doc.seq(card, "security", "security")):
            if not isinstance(req, dict):
                doc.fail("must be a mapping of scheme name to scopes", field=f"security[{i}]")
            scopes = {str(n): [text_of(v) for v in (s if isinstance(s, list) else [])] for n, s in req.items()}
            out.append((scopes, {}, {}))
        return out
    return None


def _security(doc: d.Doc, card: dict[str, Any]) -> tuple[SecurityScheme, ...]:
    definitions = doc.mapping(card, "securitySchemes", "securitySchemes")
    required = _requirements(doc, card)
    if required is None:
        required = [({str(n): [] for n in definitions}, {}, {})]
    out = []
    for alternative, (requirement, entry_extras, list_extras) in enumerate(required):
        placed = {REQUIREMENT_EXTRAS: entry_extras} if entry_extras else {}
        if not requirement and len(required) > 1:  # `{}`: no authentication is also accepted
            out.append(SecurityScheme(name=td_format.NOSEC_NAME, scheme=NOSEC, extras=placed, alternative=alternative))
        for name, scopes in requirement.items():
            body = definitions.get(name)
            if not isinstance(body, dict):
                doc.fail(
                    f"names {name!r}, which securitySchemes does not define; add it there",
                    field="securityRequirements" if "securityRequirements" in card else "security",
                )
            scheme, extras = _scheme(body)
            if "flows" in extras and _td_flows(scheme, extras, scopes) == extras["flows"]:
                del extras["flows"]  # the flows written for a TD's OAuth2 scheme: said by its flow, token … again
            if scopes:
                extras["scopes"] = scopes
            extras.update(placed | ({LIST_EXTRAS: list_extras[name]} if name in list_extras else {}))
            out.append(SecurityScheme(name=name, scheme=scheme, extras=extras, alternative=alternative))
    return tuple(out)


def _scheme(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(TD-style scheme name, body) of one security scheme definition of either version."""
    wrapper = next((k for k in body if str(k).endswith("SecurityScheme")), None)
    if wrapper is not None and isinstance(body[wrapper], dict):  # v1.0: {"<kind>SecurityScheme": {...}}
        inner = d.plain(body[wrapper])
        if "location" in inner:
            inner = {("in" if k == "location" else k): v for k, v in inner.items()}
        beside = d.plain(d.rest(body, (wrapper,)))
        scheme, inner = (
            _http_scheme(inner)
            if wrapper == "httpAuthSecurityScheme"
            else (_V1_WRAPPERS.get(wrapper, wrapper.removesuffix("SecurityScheme")), inner)
        )
        return scheme, ({**inner, WRAPPER_EXTRAS: beside} if beside else inner)
    plain = d.plain(body)
    kind = str(plain.pop("type", ""))
    if kind == "http":
        return _http_scheme(plain)
    return _V03_SECURITY_TYPES.get(kind, kind), plain


def _http_scheme(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(scheme, body) of an HTTP authentication scheme: bearer, basic, digest by name (a TD's names); any other
    (Negotiate, AWS4-HMAC-SHA256 …) is scheme `http` with its name kept in the body (HTTP_AUTH_KEY)."""
    name = text_of(body.pop("scheme", "bearer"))
    if name.lower() in _HTTP_SCHEMES:  # "Bearer" (the case HTTP does not care about) kept as written
        return name.lower(), ({HTTP_AUTH_KEY: name, **body} if name != name.lower() else body)
    return HTTP_SCHEME, {HTTP_AUTH_KEY: name, **body}


def agent_to_card(agent: Agent, version: CardVersion = "1.0") -> dict[str, Any]:
    """The agent as an A2A Agent Card of `version` ("1.0" or "0.3")."""
    if version not in CARD_VERSIONS:
        raise ValueError(f"A2A card version {version!r}; use one of {CARD_VERSIONS}")
    original = agent.original if agent.original_format == "a2a" else {}
    base = card_to_agent(original, source=agent.source) if original else None
    if base is not None and card_version(original) == version and _unchanged(agent, base):
        return copy.deepcopy(original)
    card: dict[str, Any] = {}
    protocol = _protocol_version(original)
    if version == "0.3":
        card["protocolVersion"] = protocol if protocol.startswith("0.") else V03_PROTOCOL
    card["name"] = d.agent_title(agent)
    card["description"] = agent.description
    card["version"] = d.agent_version(agent) or d.FALLBACK_VERSION
    endpoints = [e for e in agent.endpoints if e.protocol == A2A_PROTOCOL]
    if version == "1.0":
        card.update(_interfaces_v1(endpoints, protocol))
    else:
        card.update(_interfaces_v03(endpoints, card["protocolVersion"], repeat_main=_repeats_main(original)))
    carried = {k: copy.deepcopy(v) for k, v in original.items() if k not in _BUILT and k != SIGNATURES}
    card["capabilities"] = _card_capabilities(agent, original)
    card["defaultInputModes"] = copy.deepcopy(original.get("defaultInputModes", DEFAULT_MODES))
    card["defaultOutputModes"] = copy.deepcopy(original.get("defaultOutputModes", DEFAULT_MODES))
    card.update(carried)
    card.update(_security_out(agent.security, version))
    unapplied = _unapplied_schemes(original, base, version)
    if unapplied:  # defined but not required at the top (a skill's own, …): not in the model, kept as given
        card["securitySchemes"] = {**card.get("securitySchemes", {}), **unapplied}
    card["skills"] = [_skill_in(skill, version) for skill in _skills(agent.capabilities)]
    _extended_card_in(card, version)
    return card


def signatures_warning(agent: Agent, card: Any) -> str | None:
    """What to tell the user when the card the agent was read from was signed (`signatures`) and `card`, written
    from the agent, is not (it changed: another version, an edited agent, so the signatures no longer hold)."""
    original = agent.original if agent.original_format == "a2a" else {}
    if not original.get(SIGNATURES) or (isinstance(card, dict) and SIGNATURES in card):
        return None
    return f"{agent.source or '<input>'}: agent {agent.name}: {SIGNATURES_DROPPED}"


def _unchanged(agent: Agent, base: Agent) -> bool:
    fields = (
        "name",
        "namespace",
        "labels",
        "annotations",
        "id",
        "description",
        "supported_tenants",
        "supported_channels",
        "capabilities",
        "endpoints",
        "security",
        "metadata_extras",
        "spec_extras",
        "extras",
    )
    return all(getattr(agent, f) == getattr(base, f) for f in fields)


def _protocol_version(original: dict[str, Any]) -> str:
    """The A2A protocol version the agent's interfaces speak when they do not say: a v0.3 card's own
    `protocolVersion` (its interfaces share it; "0.3.0" when it is left out), else "1.0"."""
    if original and card_version(original) == "0.3":
        return text_of(original.get("protocolVersion", "")) or V03_PROTOCOL
    return V1_PROTOCOL


def _interfaces_v1(endpoints: list[Endpoint], protocol: str) -> dict[str, Any]:
    return {
        "supportedInterfaces": [
            {
                "url": e.uri,
                "protocolBinding": e.transport or DEFAULT_TRANSPORT,
                **({"protocolVersion": protocol} if "protocolVersion" not in e.extras else {}),
                **d.plain(e.extras),
            }
            for e in endpoints
        ]
    }


def _repeats_main(original: dict[str, Any]) -> bool:
    """Whether a v0.3 card repeated its main interface (`url`) in `additionalInterfaces`, as v0.3 advises."""
    extra = original.get("additionalInterfaces") if original and card_version(original) == "0.3" else None
    return isinstance(extra, list) and any(isinstance(i, dict) and i.get("url") == original.get("url") for i in extra)


def _interfaces_v03(endpoints: list[Endpoint], protocol: str, *, repeat_main: bool = False) -> dict[str, Any]:
    """v0.3 `url` + `preferredTransport` + `additionalInterfaces`; an interface's `protocolVersion` equal to
    the card's (`protocol`) is the card's own, said once at the top. The main interface is repeated in
    `additionalInterfaces` when it has extras, or when `repeat_main` (the card read did so)."""
    if not endpoints:
        return {}
    endpoints = [
        e.model_copy(update={"extras": {k: v for k, v in e.extras.items() if k != "protocolVersion"}})
        if e.extras.get("protocolVersion") == protocol
        else e
        for e in endpoints
    ]
    first, rest = endpoints[0], endpoints[1:]
    out: dict[str, Any] = {"url": first.uri, "preferredTransport": first.transport or DEFAULT_TRANSPORT}
    if first.extras or repeat_main:  # `url` has no place for extras (a v1.0 interface's `tenant` …): the main
        rest = [first, *rest]  # interface repeated in additionalInterfaces, as v0.3 advises, with them
    if rest:
        out["additionalInterfaces"] = [
            {"url": e.uri, "transport": e.transport or DEFAULT_TRANSPORT, **d.plain(e.extras)} for e in rest
        ]
    return out


def _skill_ids(caps: tuple[Capability, ...]) -> list[str]:
    ids: list[str] = []
    for cap in caps:
        ids.append(cap.name if cap.name not in ids else f"{cap.name}@{cap.version}")
    return ids


def _card_capabilities(agent: Agent, original: dict[str, Any]) -> dict[str, Any]:
    given = original.get("capabilities")
    caps: dict[str, Any] = copy.deepcopy(given) if isinstance(given, dict) else {}
    extensions = [
        e for e in caps.get("extensions", []) if not (isinstance(e, dict) and e.get("uri") == STUDIO_EXTENSION)
    ]
    params: dict[str, Any] = {
        "name": agent.name,
        "namespace": agent.namespace,
        "id": agent.id,
        "labels": dict(agent.labels),
        "annotations": dict(agent.annotations),
        "supportedTenants": list(agent.supported_tenants),
        "supportedChannels": list(agent.supported_channels),
        "capabilities": {
            sid: {"id": c.id, "name": c.name, "version": c.version}
            for sid, c in zip(_skill_ids(agent.capabilities), agent.capabilities, strict=True)
        },
    }
    params.update(d.resource_extras_out(agent))  # what an Agent resource holds beyond the model
    others = [e.model_dump(by_alias=True, exclude_defaults=True) for e in agent.endpoints if e.protocol != A2A_PROTOCOL]
    if others:
        params["otherEndpoints"] = others
    if agent.original_format not in ("", "a2a") and agent.original:  # what a card cannot say of a TD …: kept
        params["original"] = {"format": agent.original_format, "document": d.plain(agent.original)}
    extensions.append(
        {
            "uri": STUDIO_EXTENSION,
            "required": False,
            "params": params,
            "description": "LMOS Studio: the LMOS Agent this card describes",
        }
    )
    caps["extensions"] = extensions
    return caps


def _skills(caps: tuple[Capability, ...]) -> list[dict[str, Any]]:
    out = []
    for skill_id, cap in zip(_skill_ids(caps), caps, strict=True):
        extras = d.plain(cap.extras)
        skill: dict[str, Any] = {
            "id": skill_id,
            "name": extras.pop("title", cap.name),
            "description": cap.description,
            "tags": extras.pop("tags", []),
        }
        if cap.examples:
            skill["examples"] = list(cap.examples)
        skill.update(extras)
        out.append(skill)
    return out


def _skill_in(skill: dict[str, Any], version: CardVersion) -> dict[str, Any]:
    """A skill with its own requirements named and shaped as `version` says: v0.3 `security: [{name: [scopes]}]`,
    v1.0 `securityRequirements: [{schemes: {name: {list: [scopes]}}}]` (a skill read from the other version)."""
    if version == "1.0" and _is_v03_requirements(skill.get("security")) and "securityRequirements" not in skill:
        v1: list[Any] = [{"schemes": {n: {"list": _scopes(v)} for n, v in req.items()}} for req in skill["security"]]
        return _renamed(skill, "security", "securityRequirements", v1)
    if version == "0.3" and _is_v1_requirements(skill.get("securityRequirements")) and "security" not in skill:
        v03: list[Any] = [
            {n: _scopes(v.get("list") if isinstance(v, dict) else None) for n, v in (req.get("schemes") or {}).items()}
            for req in skill["securityRequirements"]
        ]
        return _renamed(skill, "securityRequirements", "security", v03)
    return skill


def _renamed(node: dict[str, Any], old: str, new: str, value: Any) -> dict[str, Any]:
    """`node` with key `old` replaced by `new` (holding `value`) in its place."""
    return {(new if k == old else k): (value if k == old else v) for k, v in node.items()}


def _is_v03_requirements(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(r, dict) and "schemes" not in r for r in value)


def _is_v1_requirements(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(r, dict) and isinstance(r.get("schemes", {}), dict) for r in value
    )


def _extended_card_in(card: dict[str, Any], version: CardVersion) -> None:
    """Whether an extended card is served, where `version` says it: v0.3 `supportsAuthenticatedExtendedCard` (top
    level), v1.0 `capabilities.extendedAgentCard`."""
    caps = card.get("capabilities")
    if not isinstance(caps, dict):
        return
    if version == "1.0" and V03_EXTENDED_CARD in card and V1_EXTENDED_CARD not in caps:
        caps[V1_EXTENDED_CARD] = card.pop(V03_EXTENDED_CARD)
    elif version == "0.3" and V1_EXTENDED_CARD in caps and V03_EXTENDED_CARD not in card:
        card[V03_EXTENDED_CARD] = caps.pop(V1_EXTENDED_CARD)


def _unapplied_schemes(original: dict[str, Any], base: Agent | None, version: CardVersion) -> dict[str, Any]:
    """The original card's security schemes its top-level requirements do not name (so the model has none of
    them: a scheme only a skill requires, one defined for later …), in `version`'s shape."""
    given = original.get("securitySchemes")
    if base is None or not isinstance(given, dict):
        return {}
    applied = {s.name for s in base.security}
    same = card_version(original) == version
    out: dict[str, Any] = {}
    for name, body in given.items():
        if name in applied or not isinstance(body, dict):
            continue
        if same:
            out[name] = copy.deepcopy(body)
        else:
            scheme, extras = _scheme(body)
            out[name] = _scheme_v1(scheme, extras) if version == "1.0" else _scheme_v03(scheme, extras)
    return out


def _td_flows(scheme: str, body: dict[str, Any], scopes: list[str]) -> dict[str, Any] | None:
    """The A2A `flows` (required in a card) of an OAuth2 scheme as a TD describes it (TD 1.1 `flow` code, client or
    device, with `authorization`, `token`, `refresh`), the required scopes its scopes; None for any other."""
    kind = _TD_FLOWS.get(text_of(body.get("flow", ""))) if scheme == "oauth2" else None
    if kind is None:
        return None
    flow: dict[str, Any] = {}
    if "authorization" in body:
        flow["deviceAuthorizationUrl" if kind == "deviceCode" else "authorizationUrl"] = body["authorization"]
    for td_key, a2a_key in (("token", "tokenUrl"), ("refresh", "refreshUrl")):
        if td_key in body:
            flow[a2a_key] = body[td_key]
    flow["scopes"] = {scope: "" for scope in scopes}
    return {kind: flow}


def _security_out(schemes: tuple[SecurityScheme, ...], version: CardVersion) -> dict[str, Any]:
    """securitySchemes and the requirements: one entry per alternative (any one suffices), each naming every
    scheme of that alternative (all required) with its scopes."""
    if not schemes:
        return {}
    definitions: dict[str, Any] = {}
    for s in schemes:
        if s.scheme == NOSEC:  # an alternative requiring nothing: `{}`, no definition
            continue
        body = {k: v for k, v in d.plain(s.extras).items() if k not in (_PLACED if version == "1.0" else ("scopes",))}
        flows = _td_flows(s.scheme, body, _scopes(s.extras.get("scopes")))
        if flows is not None and "flows" not in body:  # a TD's OAuth2 scheme: the flows a card must have, beside
            body["flows"] = flows
        definitions.setdefault(s.name, _scheme_v1(s.scheme, body) if version == "1.0" else _scheme_v03(s.scheme, body))
    alternatives = [
        {s.name: _scopes(s.extras.get("scopes")) for s in group if s.scheme != NOSEC}
        for group in security_alternatives(schemes)
    ]
    if version == "1.0":
        return {"securitySchemes": definitions, "securityRequirements": _requirements_v1(schemes)}
    return {"securitySchemes": definitions, "security": alternatives}


def _requirements_v1(schemes: tuple[SecurityScheme, ...]) -> list[dict[str, Any]]:
    """v1.0 `securityRequirements`: per alternative `{schemes: {name: {list: scopes, …}}, …}`, with the keys the
    card read had beside `list` and beside `schemes` (extras LIST_EXTRAS, REQUIREMENT_EXTRAS) in their places."""
    out = []
    for group in security_alternatives(schemes):
        entry: dict[str, Any] = {
            "schemes": {
                s.name: {"list": _scopes(s.extras.get("scopes")), **d.plain(s.extras.get(LIST_EXTRAS) or {})}
                for s in group
                if s.scheme != NOSEC
            }
        }
        given = [s.extras[REQUIREMENT_EXTRAS] for s in group if isinstance(s.extras.get(REQUIREMENT_EXTRAS), dict)]
        beside: dict[str, Any] = given[0] if given else {}
        out.append({**entry, **{k: v for k, v in d.plain(beside).items() if k != "schemes"}})
    return out


def _scopes(value: Any) -> list[str]:
    """Required scopes as a list: a TD may give one scope as a string (TD 1.1 `scopes`: string or array)."""
    if value is None:
        return []
    return [text_of(v) for v in value] if isinstance(value, list) else [text_of(value)]


def _http_name(scheme: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(the HTTP authentication scheme's name as the card wrote it, the rest of the body)."""
    rest = {k: v for k, v in body.items() if k != HTTP_AUTH_KEY}
    return text_of(body.get(HTTP_AUTH_KEY, "bearer" if scheme == HTTP_SCHEME else scheme)), rest


def _scheme_v03(scheme: str, body: dict[str, Any]) -> dict[str, Any]:
    if scheme in _HTTP_SCHEMES or scheme == HTTP_SCHEME:
        name, rest = _http_name(scheme, body)
        return {"type": "http", "scheme": name, **rest}
    kind = next((k for k, v in _V03_SECURITY_TYPES.items() if v == scheme), scheme)
    return {"type": kind, **body}


def _scheme_v1(scheme: str, body: dict[str, Any]) -> dict[str, Any]:
    """A v1.0 definition `{<kind>SecurityScheme: {…}}`, with the keys the card read had beside the wrapper
    (extras WRAPPER_EXTRAS) there again."""
    given = body.get(WRAPPER_EXTRAS)
    beside = (
        {k: v for k, v in given.items() if not str(k).endswith("SecurityScheme")} if isinstance(given, dict) else {}
    )
    body = {k: v for k, v in body.items() if k != WRAPPER_EXTRAS}
    if scheme in _HTTP_SCHEMES or scheme == HTTP_SCHEME:
        name, rest = _http_name(scheme, body)
        return {"httpAuthSecurityScheme": {"scheme": name, **rest}, **beside}
    if "in" in body:
        body = {("location" if k == "in" else k): v for k, v in body.items()}
    wrapper = next((k for k, v in _V1_WRAPPERS.items() if v == scheme), f"{scheme}SecurityScheme")
    return {wrapper: body, **beside}
