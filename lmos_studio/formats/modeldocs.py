"""Documents of the common shape read straight into what the readers make of them, one compiled pattern each.

A large design is mostly `Agent` documents laid out alike (Studio's writer, `generate_large.py`, `kubectl`):

```yaml
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: billing            # then namespace, labels (text to text), in this order, if at all
spec:
  id: billing-id           # then description, supportedTenants, supportedChannels, providedCapabilities
  providedCapabilities:
  - id: pay-bill           # each: id, name, version, description, examples (a list of text)
    name: pay-bill
    version: 1.2.0
```

with two-space indentation and lists at their key's indentation or two spaces in (one way per document). Such a
document is matched whole by one regular expression (in C), its capabilities item by item, which one `findall`
then captures; its model is built from the captured text: none of the line reader's mappings, line tables and
second walk (`lmos._plain_agent`). `Channel` documents likewise (name, namespace, labels; required capabilities
of id, name, version, strategy: `lmos.channel_from_resource`'s model). The Studio document's long lists
likewise: `spec.trustEdges` straight into `TrustEdge` models, `spec.agents` (endpoints, workload image, source)
into the plain data its validation takes (text only, known keys: it cannot fail on them); their lines are
blanked for the line reader (numbers kept), which reads the key as null, and the items are put back there.
Every scalar is taken only when the line reader would read it as that very text (quoted without escapes, or plain
and resolved as a string by PyYAML's resolver); a document or list of any other shape, or with any doubt, is
read by the line reader, its lines numbered as in the file, so that results and messages stay the readers' own.
Documents are split at exact `---` lines; a document read here holds no other marker line (each of its lines
starts with a key or spaces), so any other `---`, `...` or directive is in a part the line reader reads, which
splits there as it would the whole text, or refuses it. If the line reader refuses any part, `None` tells the
caller to read the whole text the usual way (`yamlio.load_documents`).
tests/test_model_documents.py compares both ways on generated designs, the repo's YAML and altered documents.
"""

from __future__ import annotations

import json
import re
from sys import intern
from typing import Any, NamedTuple

import yaml

from lmos_studio.formats import budgets, lmos, yamllines
from lmos_studio.formats.yamltypes import _STR, LineDict, LineList, _BaseLoader
from lmos_studio.model import (
    DEFAULT_NAMESPACE,
    Agent,
    Capability,
    Channel,
    RequiredCapability,
    TrustEdge,
    checked_model,
)

# One line's scalar, without the spaces around it (checked by `_Scalars.text`): the rest of the line taken at
# once (possessive) and its last character not a space (a look back), rather than backtracking to that character.
_VALUE = r"[^ \n](?:[^\n]*+(?<! ))?"
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./-]*"  # a label key (checked by `_Scalars.text`: it must read as text)
_START = "apiVersion: lmos.eclipse/v1\nkind: Agent\n"


def _pattern(item: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The document and capability patterns for lists indented by `item` ("" or two spaces) below their key."""
    cap_keys = f"    {item}"  # the keys of a capability, after its `- ` line
    capability = (
        rf"  {item}- (?:id: (?P<id>{_VALUE})\n{cap_keys})?name: (?P<name>{_VALUE})\n"
        rf"{cap_keys}version: (?P<version>{_VALUE})\n"
        rf"(?:{cap_keys}description: (?P<description>{_VALUE})\n)?"
        rf"(?:{cap_keys}examples:\n(?P<examples>(?:{cap_keys}{item}- {_VALUE}\n)++))?"
    )
    # Lists are taken possessively (`++`): an item's pattern never matches what may follow the list.
    document = (
        rf"{re.escape(_START)}metadata:\n  name: (?P<name>{_VALUE})\n"
        rf"(?:  namespace: (?P<namespace>{_VALUE})\n)?"
        rf"(?:  labels:\n(?P<labels>(?:    {_KEY}: {_VALUE}\n)++))?"
        rf"spec:\n(?:  id: (?P<id>{_VALUE})\n)?"
        rf"(?:  description: (?P<description>{_VALUE})\n)?"
        rf"(?:  supportedTenants:\n(?P<tenants>(?:  {item}- {_VALUE}\n)++))?"
        rf"(?:  supportedChannels:\n(?P<channels>(?:  {item}- {_VALUE}\n)++))?"
        rf"(?:  providedCapabilities:(?: \[\]\n|\n(?P<capabilities>(?:{_ungrouped(capability)})++)))?"
    )
    return re.compile(document), re.compile(capability)


def _ungrouped(pattern: str) -> str:
    """The pattern with its named groups made plain (a list of items matched whole, each read by `findall`)."""
    return re.sub(r"\(\?P<\w+>", "(?:", pattern)


_PATTERNS = (_pattern(""), _pattern("  "))  # Studio's writer (lists at their key's indentation), then indented
_GROUPS = ("name", "namespace", "labels", "id", "description", "tenants", "channels", "capabilities")  # in order
_CHANNEL_START = "apiVersion: lmos.eclipse/v1\nkind: Channel\n"


def _channel_pattern(item: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The Channel document and required-capability patterns for lists indented by `item` below their key."""
    keys = f"    {item}"  # the keys of a required capability, after its `- ` line
    required = (
        rf"  {item}- (?:id: (?P<id>{_VALUE})\n{keys})?name: (?P<name>{_VALUE})\n"
        rf"{keys}version: (?P<version>{_VALUE})\n(?:{keys}strategy: (?P<strategy>{_VALUE})\n)?"
    )
    document = (
        rf"{re.escape(_CHANNEL_START)}metadata:\n  name: (?P<name>{_VALUE})\n"
        rf"(?:  namespace: (?P<namespace>{_VALUE})\n)?"
        rf"(?:  labels:\n(?P<labels>(?:    {_KEY}: {_VALUE}\n)++))?"
        rf"spec:\n  requiredCapabilities:(?: \[\]\n|\n(?P<required>(?:{_ungrouped(required)})++))"
    )
    return re.compile(document), re.compile(required)


_CHANNEL_PATTERNS = (_channel_pattern(""), _channel_pattern("  "))


_QUOTED_ITEM = re.compile(r'^ *- "([^"\n]*)"$', re.MULTILINE)  # `- "text"`: the line reader's quoted text
INTERN = yamllines.INTERN_MAX_CHARS  # quoted texts up to this long are interned, as the line reader does


_KNOWN_MAX = 200_000  # scalars remembered by `_Scalars.text` (a 10 000-agent design has ~60 000 distinct ones)


class _Doubt(Exception):
    """A value the line reader may read otherwise: the document goes to it."""


class AgentDocument(NamedTuple):
    """An `Agent` document read here: the model `lmos.agent_from_resource` makes of it, and its first line."""

    agent: Agent
    line: int


class ChannelDocument(NamedTuple):
    """A `Channel` document read here: the model `lmos.channel_from_resource` makes of it, and its first line."""

    channel: Channel
    line: int


class _Scalars:
    """Scalars as the line reader reads them on a `key: value` or `- value` line, text only (else `_Doubt`)."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {}  # a scalar as written (quotes included) → its (interned) text
        self.lists: dict[str, tuple[str, ...]] = {}  # `- value` lines or a `["a"]` flow → its texts (lists repeat)
        self.versions: dict[str, str] = {}  # a capability's version as written → as the model holds it
        loader = _BaseLoader("")
        self.resolve = loader.resolve
        # PyYAML's resolver tries the implicit resolvers of a plain scalar's first character (and wildcard ones,
        # and path resolvers: none here): a scalar starting with any other character is text without asking it
        resolvers = loader.yaml_implicit_resolvers
        shortcut = None not in resolvers and not loader.yaml_path_resolvers
        self.maybe_typed = frozenset(resolvers) if shortcut else None
        self.patterns = _PATTERNS[0]  # the layout of the last Agent read here
        self.channel_patterns = _CHANNEL_PATTERNS[0]  # and of the last Channel
        self.endpoints = json.JSONDecoder(object_pairs_hook=_endpoint_pairs).decode  # one for every entry

    def text(self, value: str) -> str:
        found = self.known.get(value)  # names, versions and descriptions repeat: most are known
        if found is not None:
            return found
        first = value[0]
        if first == '"':
            inner = value[1:-1]
            if len(value) < 2 or value[-1] != '"' or '"' in inner:
                raise _Doubt
            found = yamllines.interned(inner)
        elif first == "'":
            inner = value[1:-1]
            if len(value) < 2 or value[-1] != "'" or "'" in inner.replace("''", ""):
                raise _Doubt
            found = yamllines.interned(inner.replace("''", "'"))
        elif (
            first in yamllines._NOT_PLAIN_START
            or "#" in value
            or ": " in value
            or value[-1] == ":"
            or (first in "-?:" and (len(value) == 1 or value[1] == " "))
            or (
                (self.maybe_typed is None or first in self.maybe_typed)
                and self.resolve(yaml.ScalarNode, value, (True, False)) != _STR
            )
        ):
            raise _Doubt  # not plain, or plain but not text (a number, a bool, null, a mapping's key)
        else:
            found = yamllines.interned(value)
        if len(self.known) < _KNOWN_MAX:
            self.known[value] = found
        return found

    def items(self, block: str) -> tuple[str, ...]:
        """The `- value` lines of a block (each ends in a newline); all double-quoted (a generator's JSON
        strings) found in one scan."""
        found = self.lists.get(block)
        if found is not None:
            return found
        quoted = _QUOTED_ITEM.findall(block)
        if len(quoted) == block.count("\n"):
            found = tuple([intern(inner) if len(inner) <= INTERN else inner for inner in quoted])
        else:
            text = self.text
            found = tuple([text(line.lstrip(" ")[2:]) for line in block[:-1].split("\n")])
        if len(self.lists) < _KNOWN_MAX:
            self.lists[block] = found
        return found

    def flow_texts(self, flow: str) -> tuple[str, ...]:
        """`["a", "b"]` as the line reader reads it (`_flow_texts`), kept (trust edges repeat them)."""
        found = _flow_texts(flow)
        if len(self.lists) < _KNOWN_MAX:
            self.lists[flow] = found
        return found

    def version(self, value: str) -> str:
        """A capability's version as `lmos.plain_capability` takes it (its text, stripped)."""
        found = self.text(value).strip()
        if len(self.versions) < _KNOWN_MAX:
            self.versions[value] = found
        return found


def read_agent(text: str, start: int, end: int, scalars: _Scalars) -> Agent | None:
    """The model of the Agent document `text[start:end]` (ending in a newline), or None if it is not of the
    common shape here (the line reader then reads it)."""
    document, capability = scalars.patterns
    match = document.fullmatch(text, start, end)
    if match is None:  # the other layout (a design is mostly of one: tried first next time)
        scalars.patterns = _PATTERNS[1] if scalars.patterns is _PATTERNS[0] else _PATTERNS[0]
        document, capability = scalars.patterns
        match = document.fullmatch(text, start, end)
        if match is None:
            return None
    try:
        return _agent(match, capability, scalars)
    except _Doubt:
        return None


def _agent(match: re.Match[str], capability: re.Pattern[str], scalars: _Scalars) -> Agent | None:
    text, known = scalars.text, scalars.known.get
    name, namespace, labels_block, agent_id, description, tenants, channels, caps = match.groups()  # (`_GROUPS`)
    name = text(name)
    if not name:
        return None  # the checked path names the error
    namespace = (text(namespace) if namespace is not None else "") or DEFAULT_NAMESPACE
    labels = _labels(labels_block, scalars) if labels_block is not None else {}
    if labels is None:
        return None
    capabilities: tuple[Capability, ...] = ()
    if caps is not None:
        found = capability.findall(caps)  # the document's pattern matched the block as capabilities, one by one
        if len(found) > budgets.MAX_CAPABILITIES:
            return None  # the checked path refuses it, naming the count
        items, versions = scalars.items, scalars.versions
        capabilities = tuple(
            [  # what `lmos.plain_capability` makes, built here (a third of a large design's models)
                checked_model(
                    Capability,
                    {
                        "name": known(cap_name) or text(cap_name),
                        "version": versions.get(version) or scalars.version(version),
                        "id": (known(cap_id) or text(cap_id)) if cap_id else "",
                        "description": (known(cap_description) or text(cap_description)) if cap_description else "",
                        "examples": items(examples) if examples else (),
                        "extras": {},
                    },
                )
                for cap_id, cap_name, version, cap_description, examples in found
            ]
        )
    return lmos.plain_agent(
        name,
        namespace,
        labels,
        {},
        "" if agent_id is None else text(agent_id),
        "" if description is None else text(description),
        () if tenants is None else scalars.items(tenants),
        () if channels is None else scalars.items(channels),
        capabilities,
    )


def read_channel(text: str, start: int, end: int, scalars: _Scalars) -> Channel | None:
    """The model of the Channel document `text[start:end]` (ending in a newline), or None if it is not of the
    common shape here (the line reader then reads it)."""
    document, required = scalars.channel_patterns
    match = document.fullmatch(text, start, end)
    if match is None:  # the other layout (a design is mostly of one: tried first next time)
        other = _CHANNEL_PATTERNS[1] if scalars.channel_patterns is _CHANNEL_PATTERNS[0] else _CHANNEL_PATTERNS[0]
        scalars.channel_patterns = other
        document, required = other
        match = document.fullmatch(text, start, end)
        if match is None:
            return None
    try:
        return _channel(match, required, scalars)
    except _Doubt:
        return None


def _channel(match: re.Match[str], required: re.Pattern[str], scalars: _Scalars) -> Channel | None:
    """What `lmos.channel_from_resource` makes of a Channel of the common shape (`_required` for each item)."""
    text, known = scalars.text, scalars.known.get
    name, namespace, labels, requirements = match.group("name", "namespace", "labels", "required")
    name = text(name)
    if not name:
        return None  # the checked path names the error
    found = required.findall(requirements) if requirements else []  # the document's pattern matched it item by item
    if len(found) > budgets.MAX_REQUIREMENTS:
        return None  # the checked path refuses it, naming the count
    values = []
    for cap_id, cap_name, version, strategy in found:
        strategy = text(strategy) if strategy else ""
        if strategy and strategy not in lmos.STRATEGIES:
            return None  # the checked path names the error
        values.append(
            checked_model(
                RequiredCapability,
                {
                    "name": known(cap_name) or text(cap_name),
                    "version": scalars.versions.get(version) or scalars.version(version),
                    "id": (known(cap_id) or text(cap_id)) if cap_id else "",
                    "strategy": "MOST_SIMILAR" if strategy == "MOST_SIMILAR" else "HIGHEST",
                    "strategy_given": bool(strategy),
                    "extras": {},
                },
            )
        )
    label_map = _labels(labels, scalars) if labels is not None else {}
    if label_map is None:
        return None
    channel = {
        "name": name,
        "namespace": (text(namespace) if namespace is not None else "") or DEFAULT_NAMESPACE,
        "labels": label_map,
        "annotations": {},
        "required_capabilities": tuple(values),
        "metadata_extras": {},
        "spec_extras": {},
        "extras": {},
    }
    return checked_model(Channel, channel)


def _labels(block: str, scalars: _Scalars) -> dict[str, str] | None:
    """The `key: value` lines of a labels block as `Doc.string_map` makes them (a new dict of text), or None
    for what the line reader leaves to the other readers or refuses (a very long or duplicate key)."""
    text = scalars.text
    labels: dict[str, str] = {}
    for line in block[:-1].split("\n"):
        key, _, value = line[4:].partition(": ")
        if len(key) > yamllines._MAX_KEY_CHARS:
            return None
        key = text(key)
        if key in labels:
            return None
        labels[key] = text(value)
    return labels


def read_documents(text: str) -> list[Any] | None:
    """The documents of a text, Agents of the common shape as `AgentDocument`s and the others as the line reader
    reads them (their lines numbered as in the text); None when the text does not split into documents as the
    line reader splits it, or the line reader refuses part of it: then read it the usual way."""
    if _START not in text or not text.endswith("\n") or not yamllines.regular_characters(text):
        return None
    # Every document starts after a "\n---\n" (the first may start at once). Another document marker, a
    # directive or a `---` line with more on it cannot be in an Agent read here (each of its lines starts with
    # a key or spaces): it is in a span the line reader reads, which refuses it (None) or splits there as the
    # line reader reading the whole text would.
    lined = "\n" + text
    docs: list[Any] = []
    scalars = _Scalars()
    rest = 0  # where the text not read yet starts (in `lined`), and its line number (`lined` starts with a
    rest_line = 0  # newline of its own: line 0)
    position, line = 1, 1  # the current document's start (after its `---` line) and its line number
    if lined.startswith("\n---\n"):
        position, line = 5, 2
    size = len(lined)
    while position < size:
        end = lined.find("\n---\n", position - 1)
        end = size if end < 0 else end + 1  # the document's text ends with its last line's newline
        lines = lined.count("\n", position, end)
        found: AgentDocument | ChannelDocument | None = None
        if lined.startswith(_START, position):
            agent = read_agent(lined, position, end, scalars)
            found = None if agent is None else AgentDocument(agent, line)
        elif lined.startswith(_CHANNEL_START, position):
            channel = read_channel(lined, position, end, scalars)
            found = None if channel is None else ChannelDocument(channel, line)
        if found is not None:
            if position - rest > 4 and not _read_span(lined, rest, position, rest_line, docs, scalars):
                return None  # (4: only the `---` line between this document and the last one read here)
            docs.append(found)
            rest, rest_line = end, line + lines
        line += lines + 1  # and the next `---` line
        position = end + 4
    return docs if _read_span(lined, rest, size, rest_line, docs, scalars) else None


def _read_span(lined: str, start: int, end: int, first_line: int, docs: list[Any], scalars: _Scalars) -> bool:
    """Read `lined[start:end]` (whole documents, their `---` lines included) with the line reader; a Studio
    document's agent entries and trust edges straight into what it would make of them (`_CUTS`)."""
    span = lined[start:end]
    if not span.replace("---\n", "").strip("\n"):
        return True  # only document markers (between two Agents read here): no document
    cuts = []
    for name, cutter in _CUTS:
        key = span.find(f"\n  {name}:\n")
        if key >= 0:
            cut = cutter(span, key + len(name) + 5, scalars)
            if cut is not None:
                span, items = cut
                cuts.append((name, items, first_line + span.count("\n", 0, key + 1)))
    found = yamllines.read_lines(span, first_line=first_line, checked=True)
    if found is None:
        return False
    for name, items, line in cuts:
        if not _put_back(found, name, items, line):
            return False
    docs.extend(found)
    return True


def _put_back(docs: list[Any], name: str, items: list[Any], line: int) -> bool:
    """Put the items a cutter read where the line reader read their blanked key (as null): a Studio document's
    `spec.<name>` on that line; False when the key was anything else (then the text is read the usual way)."""
    for doc in docs:
        if not isinstance(doc, LineDict) or doc.get("kind") != "StudioDesign":
            continue
        spec = doc.get("spec")
        if isinstance(spec, LineDict) and name in spec and spec.lines.get(name) == line:
            if spec[name] is not None:
                return False
            listed = LineList(items)
            listed.line = line + 1
            spec[name] = listed
            return True
    return False


def _blanked(span: str, start: int, end: int) -> str:
    """The span with the lines from `start` to `end` left empty (the line reader skips them; numbers kept)."""
    return span[:start] + "\n" * span.count("\n", start, end) + span[end:]


# --- a Studio document's agent entries (endpoints and workloads of a design's agents) --------------------------

_ENDPOINT_KEYS = frozenset(("protocol", "uri", "subprotocol", "transport"))


def _entry_pattern(item: str) -> re.Pattern[str]:
    """An agent entry of the common shape (name, endpoints as a JSON line or a block of text-only mappings, a
    workload of an image) in a list indented by `item` below its key. An endpoint's lines after its first are
    its keys (a `-` there is a deeper list: the line reader's to read, or refuse)."""
    keys = f"    {item}"
    return re.compile(
        rf"  {item}- name: (?P<name>{_VALUE})\n(?:{keys}namespace: (?P<namespace>{_VALUE})\n)?"
        rf"(?:{keys}endpoints:(?: (?P<flow>\[\{{[^\n]*\}}\])\n"
        rf"|\n(?P<block>(?:{keys}{item}- protocol: [^\n]*\n(?:{keys}{item}  [^ \n-][^\n]*\n)*)+)))?"
        rf"(?:{keys}workload:\n{keys}  image: (?P<image>{_VALUE})\n)?"
        rf"(?:{keys}source: (?P<source>{_VALUE})\n)?"
    )


_ITEMS = ("", "  ")  # how far a list is indented below its key: not at all (Studio's writer), two spaces
_ENTRY_PATTERNS = tuple(_entry_pattern(item) for item in _ITEMS)


def _cut_entries(span: str, start: int, scalars: _Scalars) -> tuple[str, list[dict[str, Any]]] | None:
    """The agent entries listed from `span[start:]` as the plain data the Studio document's validation takes
    (text only, each endpoint with a protocol and known keys: validation cannot fail on them), and the span
    with their lines blanked; None if the first is not of the common shape."""
    entries: list[dict[str, Any]] = []
    text = scalars.text
    for item, pattern in zip(_ITEMS, _ENTRY_PATTERNS, strict=True):
        position, match = start, pattern.match
        found = match(span, position)
        while found is not None:
            name, namespace, flow, block, image, source = found.group(
                "name", "namespace", "flow", "block", "image", "source"
            )
            try:
                entry: dict[str, Any] = {"name": text(name)}
                if namespace is not None:
                    entry["namespace"] = text(namespace)
                if flow is not None:
                    entry["endpoints"] = _flow_endpoints(flow, scalars)
                elif block is not None:
                    entry["endpoints"] = _block_endpoints(block, scalars)
                if image is not None:
                    entry["workload"] = {"image": text(image)}
                if source is not None:
                    entry["source"] = text(source)
            except _Doubt:
                return None
            entries.append(entry)
            position = found.end()
            found = match(span, position)
        if entries:
            return _whole(span, start, position, item, entries)
    return None


def _whole(span: str, start: int, end: int, item: str, found: list[Any]) -> tuple[str, list[Any]] | None:
    """The cut of a list read from `start` to `end` whose items are indented by `item`: None when the list goes
    on past `end` (an item of another shape: the line reader reads the whole list, not only the rest)."""
    if span.startswith((f"  {item}- ", f"    {item}"), end) or (not item and span.startswith("  -\n", end)):
        return None
    return _blanked(span, start, end), found


def _endpoint_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object of an endpoints line: text only, known keys, no key twice (else `_Doubt`)."""
    found = {}
    for key, value in pairs:
        if key not in _ENDPOINT_KEYS or key in found or value.__class__ is not str:
            raise _Doubt
        found[key] = yamllines.interned(value)
    return found


def _flow_endpoints(flow: str, scalars: _Scalars) -> list[dict[str, Any]]:
    """`[{"protocol": "http", "uri": "…"}]` as the line reader reads it (JSON of strings only), or `_Doubt`."""
    if yamllines._JSON_FLOW.fullmatch(flow) is None:
        raise _Doubt
    try:
        endpoints = scalars.endpoints(flow)
    except ValueError:
        raise _Doubt from None
    if not all(endpoint.__class__ is dict and "protocol" in endpoint for endpoint in endpoints):
        raise _Doubt
    return list(endpoints)


def _block_endpoints(block: str, scalars: _Scalars) -> list[dict[str, Any]]:
    """Endpoints as block mappings (`- protocol: http` then `  uri: …` lines), or `_Doubt`."""
    endpoints: list[dict[str, Any]] = []
    for line in block[:-1].split("\n"):
        content = line.lstrip(" ")
        if content.startswith("- "):
            endpoints.append({})
            content = content[2:]
        key, colon, value = content.partition(": ")
        if not colon or key not in _ENDPOINT_KEYS or key in endpoints[-1] or not value:
            raise _Doubt
        if value[0] == " " or value[-1] == " ":
            raise _Doubt
        endpoints[-1][key] = scalars.text(value)
    return endpoints


# --- a Studio document's trust edges (a 10 000-agent design has 30 000: a sixth of its lines) ------------------

_FLOW_TEXTS = r'\["[^"\n]*"(?:, "[^"\n]*")*\]'  # `["a", "b"]`: the line reader splits it, no parser


def _edge_pattern(item: str) -> re.Pattern[str]:
    """A trust edge of the common shape (keys in the model's order) in a list indented by `item` below its key."""
    keys = f"    {item}"
    return re.compile(
        rf"  {item}- caller: (?P<caller>{_VALUE})\n{keys}callee: (?P<callee>{_VALUE})\n"
        rf"(?:{keys}capabilities:(?: (?P<flow>{_FLOW_TEXTS})\n|\n(?P<block>(?:{keys}{item}- {_VALUE}\n)+)))?"
        rf"(?:{keys}protocol: (?P<protocol>{_VALUE})\n)?"
        rf"(?:{keys}description: (?P<description>{_VALUE})\n)?"
    )


_EDGE_PATTERNS = tuple(_edge_pattern(item) for item in _ITEMS)


def _cut_edges(span: str, start: int, scalars: _Scalars) -> tuple[str, list[TrustEdge]] | None:
    """The trust edges listed from `span[start:]` as models, and the span with their lines blanked (numbers
    kept: the line reader reads `trustEdges:` as null and the rest as before); None if the first is not of
    the common shape."""
    edges: list[TrustEdge] = []
    text, known, lists = scalars.text, scalars.known.get, scalars.lists.get
    for item, pattern in zip(_ITEMS, _EDGE_PATTERNS, strict=True):
        position, match = start, pattern.match
        found = match(span, position)
        while found is not None:
            caller, callee, flow, block, protocol, description = found.group(
                "caller", "callee", "flow", "block", "protocol", "description"
            )
            try:
                if flow:
                    capabilities = lists(flow) or scalars.flow_texts(flow)
                elif block:
                    capabilities = scalars.items(block)
                else:
                    capabilities = ()
                values = {
                    "caller": known(caller) or text(caller),
                    "callee": known(callee) or text(callee),
                    "capabilities": capabilities,
                    "protocol": (known(protocol) or text(protocol)) if protocol else "",
                    "description": text(description) if description else "",
                }
            except _Doubt:
                return None
            unset = _EDGE_UNSET[flow is None and block is None, not protocol, not description]
            edges.append(checked_model(TrustEdge, values, unset))
            position = found.end()
            found = match(span, position)
        if edges:
            return _whole(span, start, position, item, edges)
    return None


def _flow_texts(flow: str) -> tuple[str, ...]:
    """`["a", "b"]` as the line reader reads it (`_Lines.flow`: split, short items interned)."""
    return tuple([intern(item) if len(item) <= INTERN else item for item in flow[2:-2].split('", "')])


_EDGE_UNSET = {  # the fields validation does not count as set, by which of the optional keys were absent
    (no_caps, no_protocol, no_description): frozenset(
        name
        for name, absent in (("capabilities", no_caps), ("protocol", no_protocol), ("description", no_description))
        if absent
    )
    for no_caps in (False, True)
    for no_protocol in (False, True)
    for no_description in (False, True)
}


_CUTS = (("agents", _cut_entries), ("trustEdges", _cut_edges))  # a Studio document's spec keys read directly
