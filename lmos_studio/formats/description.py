"""Rules every agent-description format shares: reading untrusted JSON/YAML text safely, deriving a
Kubernetes name for an agent, and the visible default for a capability that has no version.

No format knowledge lives here (see `td.py`, `a2a.py`, `capabilities_doc.py`, `routing_spec.py`);
`detect.py` picks the format.

Defaulted versions: a capability without a version gets the description's own version when that is
strict SemVer, else "0.0.0"; the agent then carries the annotation
`studio.lmos.eclipse/defaulted-versions: "<cap>,<cap>"` and `warnings_of(agent)` says so.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, NoReturn

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import jsonio, yamlio
from lmos_studio.formats.lmos import Doc as LmosDoc
from lmos_studio.formats.lmos import capability_out as lmos_capability_out
from lmos_studio.formats.yamlio import YamlFloat, YamlInt
from lmos_studio.model import Agent, Capability
from lmos_studio.names import dns1035_label_problem, dns1123_label_problem, suggest_name
from lmos_studio.sizes import size_and_limit
from lmos_studio.versions import is_strict_semver

DEFAULTED_VERSIONS_ANNOTATION = "studio.lmos.eclipse/defaulted-versions"
A2A_STUDIO_EXTENSION = "urn:lmos:studio:a2a:v1"  # the card extension that carries what a card cannot say (a2a.py)
FALLBACK_VERSION = "0.0.0"  # when neither the capability nor its description has a strict SemVer version
MAX_DESCRIPTION_BYTES = 8 * 2**20  # one description is a few KiB; a routing-spec list of 1 000 agents ~1 MiB
MAX_DEPTH = yamlio.MAX_DEPTH  # nesting deeper than any description needs
NAME_MAX = 63  # an agent name is a DNS label: it becomes <name>.<namespace>.svc.cluster.local
_HASH_CHARS = 8  # hex digits of SHA-256 appended when a long name is cut
_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")  # RFC 3986 scheme ":" rest, no blanks
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE_RE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


class Doc(LmosDoc):
    """A description being read: refuses hostile nesting up front; `fail` always raises."""

    def __init__(self, raw: Any, *, path: str, kind: str) -> None:
        check_depth(raw, source=path)
        super().__init__(raw, path=path, kind=kind)

    def fail(self, message: str, *, node: Any = None, key: Any = None, field: str | None = None) -> NoReturn:
        super().fail(message, node=node, key=key, field=field)
        raise AssertionError("unreachable")  # Doc.fail raises DesignFileError


def agent_name(*candidates: str) -> str:
    """A valid Kubernetes name (RFC 1123 label, also RFC 1035: starts with a letter) from the first
    candidate that has letters or digits, deterministically.

    Lower-case; accents folded to ASCII; every run of other characters becomes one `-`; a URN/URL
    candidate contributes its last `:`/`/` segment; a leading digit gets the prefix `agent-`; names
    over 63 characters are cut to 54 and get `-` plus 8 hex digits of the SHA-256 of the candidate.
    No usable candidate gives `agent-<hash>`.
    """
    for candidate in candidates:
        text = candidate.strip()
        if _URI_RE.match(text) and " " not in text:
            text = re.split(r"[:/#]", text.rstrip(":/#"))[-1]
        name = _slug(text)
        if not name:
            continue
        if name[0].isdigit():
            name = f"agent-{name}"
        if len(name) > NAME_MAX:
            name = name[: NAME_MAX - _HASH_CHARS - 1].rstrip("-") + "-" + _digest(candidate)
        return name
    return "agent-" + _digest("\x00".join(candidates))


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_CHARS]


def is_uri(text: str) -> bool:
    """Whether `text` has the shape of an absolute URI (`urn:…`, `https://…`, `did:…`)."""
    return bool(_URI_RE.match(text))


def check_name(doc: Doc, node: dict[str, Any], key: str, field: str) -> str:
    """A given Kubernetes name (RFC 1123 label) or "" when absent; anything else is an error."""
    value = doc.text(node, key, field)
    if value and not _NAME_RE.match(value):
        doc.fail(
            f"{value!r} is not a valid Kubernetes name (lower-case letters, digits and '-', at most "
            f"{NAME_MAX}, starting with a letter)",
            node=node,
            key=key,
            field=field,
        )
    return value


def is_label_value(text: str) -> bool:
    """Whether `text` is a valid Kubernetes label value."""
    return bool(_LABEL_VALUE_RE.match(text))


def agent_version(agent: Agent) -> str:
    """The agent's own version: its `version` label, else the one the description it came from states (a card's or
    spec's `version`, a TD's `version.instance`) when no label can hold it (`1.0.0+build.7`: `+` is not allowed in
    a label value), else ""."""
    if agent.labels.get("version"):
        return agent.labels["version"]
    given = agent.original.get("version") if agent.original_format in ("a2a", "td", "routing-spec") else None
    if agent.original_format == "td":
        given = given.get("instance") if isinstance(given, dict) else None
    return given if isinstance(given, str) and not is_label_value(given) else ""


# What an LMOS Agent resource holds beyond the model (unknown metadata, spec and top-level keys: Agent.metadata_extras,
# spec_extras, extras), carried under these keys by formats that cannot say it (a TD's lmos:kubernetes, a card's
# Studio extension), so resource → TD or card → resource keeps them.
RESOURCE_EXTRAS = (("metadataExtras", "metadata_extras"), ("specExtras", "spec_extras"), ("resourceExtras", "extras"))


def resource_extras_out(agent: Agent) -> dict[str, Any]:
    """The agent's resource extras under their carrying keys (only those it has)."""
    return {key: plain(getattr(agent, attr)) for key, attr in RESOURCE_EXTRAS if getattr(agent, attr)}


def resource_extras_in(doc: Doc, node: dict[str, Any], at: str) -> dict[str, Any]:
    """Agent fields for the resource extras `node` carries (see RESOURCE_EXTRAS)."""
    return {attr: plain(doc.mapping(node, key, f"{at}.{key}")) for key, attr in RESOURCE_EXTRAS if key in node}


def agent_title(agent: Agent) -> str:
    """The agent's human name, for a card's `name` or a TD's `title`: the one the description it came from gives
    (a card's `name`, a TD's `title`: "Device Orders") while the agent still has the name read from it, else the
    agent name."""
    doc = agent.original
    if agent.original_format == "a2a":
        given, explicit = doc.get("name"), _card_extension_name(doc)
    elif agent.original_format == "td":
        kube = doc.get("lmos:kubernetes")
        given, explicit = doc.get("title"), kube.get("name") if isinstance(kube, dict) else None
    else:
        return agent.name
    if not isinstance(given, str) or not given.strip():
        return agent.name
    read_as = explicit if isinstance(explicit, str) and explicit else agent_name(given)
    return given if read_as == agent.name else agent.name


def _card_extension_name(card: dict[str, Any]) -> Any:
    """The agent name the Studio extension of a card carries (None without one)."""
    caps = card.get("capabilities")
    extensions = caps.get("extensions") if isinstance(caps, dict) else None
    for ext in extensions if isinstance(extensions, list) else []:
        if isinstance(ext, dict) and ext.get("uri") == A2A_STUDIO_EXTENSION and isinstance(ext.get("params"), dict):
            return ext["params"].get("name")
    return None


def default_version(own_version: str) -> str:
    """The version a capability without one gets: the description's version if strict SemVer, else 0.0.0."""
    return own_version.strip() if own_version and is_strict_semver(own_version) else FALLBACK_VERSION


def mark_defaulted(annotations: dict[str, str], defaulted: Iterable[str]) -> dict[str, str]:
    """Annotations plus the defaulted-versions marker (capability names, comma-separated)."""
    names = list(dict.fromkeys(defaulted))
    if not names:
        return annotations
    return {**annotations, DEFAULTED_VERSIONS_ANNOTATION: ",".join(names)}


def defaulted_capabilities(agent: Agent) -> tuple[str, ...]:
    """Names of the capabilities whose version was defaulted on import."""
    marker = agent.annotations.get(DEFAULTED_VERSIONS_ANNOTATION, "")
    return tuple(name for name in marker.split(",") if name)


# Where each format says what LMOS needs (original_format → capabilities, channels, tenants); None: it cannot
_WHERE: dict[str, tuple[str, str | None, str | None]] = {
    "": ("spec.providedCapabilities", "spec.supportedChannels", "spec.supportedTenants"),
    "td": (
        '"lmos:capabilities": [{name, version, description, examples}]',
        '"lmos:supportedChannels"',
        '"lmos:supportedTenants"',
    ),
    "a2a": ("skills: [{id, name, description, examples}]", None, None),
    "capabilities": (
        "capabilities: [{id, name, version, description, examples}]",
        "supportedChannels",
        "supportedTenants",
    ),
    "routing-spec": ("capabilities: [{name, description, version}]", None, None),
    "classifier": ("capabilities: [{id, name, description, examples}]", None, None),
}
CHANNEL_OPTION = "--channel"  # `lmos-studio import` options that fill in what a description cannot say
TENANT_OPTION = "--tenant"


def _how(where: str | None, option: str, *, is_lmos: bool) -> str:
    if where is None:
        return f"the format cannot say it: pass {option} NAME to `lmos-studio import` or set it in the Designer"
    fix = f"add {where} to the description"
    return fix if is_lmos else f"{fix}, or pass {option} NAME to `lmos-studio import`"


def unmapped_warnings(agent: Agent) -> list[str]:
    """What an imported description did not give that an LMOS Agent needs, each with how to add it: no
    capabilities (never a provider), no channels (the operator wires it into no Channel) and, for formats
    other than LMOS Agent resources, no tenants (it would be offered to every tenant)."""
    where = f"{agent.source}: " if agent.source else ""
    caps, channels, tenants = _WHERE.get(agent.original_format, _WHERE[""])
    is_lmos = not agent.original_format
    out = []
    if not agent.capabilities:
        out.append(
            f"{where}agent {agent.name}: no capabilities, so it can never serve a Channel requirement; "
            f"add {caps} to the description"
        )
    if not agent.supported_channels:
        out.append(
            f"{where}agent {agent.name}: no supported channels, so the operator wires it into no Channel; "
            + _how(channels, CHANNEL_OPTION, is_lmos=is_lmos)
        )
    if not agent.supported_tenants and not is_lmos:
        out.append(
            f"{where}agent {agent.name}: no supported tenants, so the operator offers it to every tenant; "
            + _how(tenants, TENANT_OPTION, is_lmos=is_lmos)
        )
    return out


def warnings_of(agent: Agent) -> list[str]:
    """What an importer should tell the user about this agent: what could not be mapped (see
    `unmapped_warnings`), defaulted and non-SemVer versions."""
    where = f"{agent.source}: " if agent.source else ""
    out = unmapped_warnings(agent) + _name_warnings(agent, where)
    for name in defaulted_capabilities(agent):
        cap = agent.capability(name)
        version = cap.version if cap else "?"
        out.append(
            f"{where}agent {agent.name}: capability {name!r} has no version; defaulted to "
            f"{version!r} (annotation {DEFAULTED_VERSIONS_ANNOTATION}); set the real version"
        )
    for cap in agent.capabilities:
        if not is_strict_semver(cap.version):
            out.append(
                f"{where}agent {agent.name}: capability {cap.name!r} version {cap.version!r} is not "
                "strict SemVer (MAJOR.MINOR.PATCH); channels requiring it will not resolve"
            )
    return out


def duplicate_warnings(agents: Iterable[Agent]) -> list[str]:
    """One warning per agent whose namespace/name an earlier one already had, worded as reading a design says
    it: both documents would be applied, so the later one replaces the earlier."""
    seen: set[str] = set()
    out = []
    for agent in agents:
        if agent.key in seen:
            where = f"{agent.source}: " if agent.source else ""
            out.append(
                f"{where}agent {agent.key} appears again; the later one replaces the earlier "
                "(as a second kubectl apply would): rename one of them"
            )
        seen.add(agent.key)
    return out


def _name_warnings(agent: Agent, where: str) -> list[str]:
    """An agent name or namespace the API server refuses or the runtime cannot reach, by lint's `invalid-name`
    rules: the name is its Service's host name (an RFC 1035 label: `1billing` used to import without a word),
    the namespace an RFC 1123 label. An LMOS resource keeps its name as written, so `A_B` did too."""
    service = "Kubernetes name (a Service host name, RFC 1035 label)"
    checks = (
        ("name", agent.name, service, dns1035_label_problem(agent.name), "agent-"),  # lint's fix: a letter first
        ("namespace", agent.namespace, "Kubernetes namespace", dns1123_label_problem(agent.namespace), ""),
    )
    return [
        f"{where}agent {agent.name}: {what} {value!r} is not a valid {noun}: it {problem}; "
        f"rename it, e.g. {suggest_name(value, letter_prefix=prefix)!r}"
        for what, value, noun, problem, prefix in checks
        if problem
    ]


_CAP_KEYS = ("id", "name", "version", "description", "examples")


def read_capability(doc: Doc, node: Any, field: str, *, fallback_version: str | None) -> tuple[Capability, bool]:
    """One `{id, name, version, description, examples}` capability; `fallback_version` None means the
    version is required. Returns the capability and whether its version was defaulted."""
    if not isinstance(node, dict):
        doc.fail("must be a mapping with name and version", field=field)
    name = doc.text(node, "name", f"{field}.name", required=True)
    if not name.strip():
        doc.fail("is empty; give the capability a name", node=node, key="name", field=f"{field}.name")
    version = doc.text(node, "version", f"{field}.version", required=fallback_version is None)
    defaulted = not version
    return Capability(
        id=doc.text(node, "id", f"{field}.id"),
        name=name,
        version=version or str(fallback_version),
        description=doc.text(node, "description", f"{field}.description"),
        examples=doc.texts(node, "examples", f"{field}.examples"),
        extras=plain(rest(node, _CAP_KEYS)),
    ), defaulted


def capability_out(cap: Capability) -> dict[str, Any]:
    """A capability as `{id?, name, version, description?, examples?, …extras}`, as plain JSON types."""
    return plain(lmos_capability_out(cap))  # type: ignore[no-any-return]


def rest(node: dict[str, Any], known: Iterable[str]) -> dict[str, Any]:
    """The keys of `node` not in `known`, in order."""
    skip = set(known)
    return {str(k): v for k, v in node.items() if k not in skip}


def plain(value: Any) -> Any:
    """A JSON-compatible deep copy: line-tracking dicts and text-keeping numbers become plain types."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, YamlInt):
        return int(value)
    if isinstance(value, YamlFloat):
        return float(value)
    return value


def check_depth(value: Any, *, source: str) -> None:
    """Refuse structures nested deeper than MAX_DEPTH (iteratively: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise DesignFileError(f"nesting deeper than {MAX_DEPTH} levels; this is not a description", path=source)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list | tuple):
            stack.extend((v, depth + 1) for v in node)


def decode(data: bytes | str, *, source: str, max_bytes: int = MAX_DESCRIPTION_BYTES) -> str:
    """Bytes or text as text, refusing huge or non-UTF-8 input."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        shown, limit = size_and_limit(size, max_bytes)
        raise DesignFileError(
            f"{shown} is more than the {limit} limit for a description; is this the right file?",
            path=source,
        )
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DesignFileError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8", path=source
        ) from exc


def is_json(text: str) -> bool:
    """Whether a text is meant as JSON (starts with `{` or `[`)."""
    return text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[")


def parse_documents(text: str, *, source: str, lines: bool = True) -> list[Any]:
    """The documents of a JSON or YAML text (YAML may hold several), with line numbers where possible.

    JSON is checked with the json module first (its messages name line and column); with `lines`, the
    YAML reader then re-reads it to learn the line of every key (three times slower: readers parse
    without and re-parse only to place an error). Numbers keep their text (`1.10` stays "1.10").
    """
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise DesignFileError("is empty; expected a JSON or YAML agent description", path=source)
    if stripped[0] in "{[":
        data = jsonio.loads(stripped, source=source, keep_float_text=True, unique_keys=True)
        check_depth(data, source=source)
        if not lines:
            return [data]
        try:
            docs = yamlio.load_documents(text, path=source)
        except DesignFileError:
            return [data]  # valid JSON that YAML 1.1 reads differently: keep the JSON reading
        return docs if len(docs) == 1 and docs[0] == data else [data]
    docs = yamlio.load_documents(text, path=source)
    if not docs:
        raise DesignFileError("has no documents; expected an agent description", path=source)
    return docs


def line_of(node: Any) -> int | None:
    """The line a parsed mapping or sequence started on, when known."""
    line = getattr(node, "line", None)
    return line if isinstance(line, int) and line > 0 else None
