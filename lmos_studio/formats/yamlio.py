"""YAML in and out for LMOS resources: line numbers for messages, scalars that keep their text, and
deterministic, alias-free output.

`yaml.safe_load` turns `version: 1.10` into the float 1.1 and timestamps into datetimes; here numbers keep
their original text (`text_of`) and timestamps stay strings. Hostile input (alias bombs counted by the
size they expand to, deep nesting, non-finite or huge numbers, huge files) becomes a `DesignFileError`, never
a hang or a crash. libyaml's C parser composes the nodes; one tight pass builds the objects (no per-node
constructor dispatch), keeping each key's line for messages.
"""

from __future__ import annotations

import contextlib
import gc
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import yamllines
from lmos_studio.formats.yamltypes import _FLOAT, _MAP, _MERGE, _SCALARS, _SEQ, _STR, _BaseLoader, _convert, _Irregular

# the reader's types and limits, imported from here by the rest of Studio (explicit re-exports)
from lmos_studio.formats.yamltypes import MAX_DEPTH as MAX_DEPTH
from lmos_studio.formats.yamltypes import MAX_INT_CHARS as MAX_INT_CHARS
from lmos_studio.formats.yamltypes import LineDict as LineDict
from lmos_studio.formats.yamltypes import LineList as LineList
from lmos_studio.formats.yamltypes import YamlFloat as YamlFloat
from lmos_studio.formats.yamltypes import YamlInt as YamlInt
from lmos_studio.formats.yamltypes import text_of as text_of
from lmos_studio.sizes import size_and_limit

MAX_FILE_BYTES = 20 * 2**20  # larger files are refused: a design of 1 000 agents is ~1 MiB
MAX_ALIAS_REUSES = 100  # YAML anchors reused more often than this look like an alias bomb
MAX_ALIAS_NODES = 100_000  # nodes aliases may add to a document: anchors share small blocks, not megabytes

_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Builder:
    """Python objects from a composed YAML node tree, in one pass without per-node dispatch.

    Counts the nodes the document expands to (every alias adds the size of what it points to) so an
    alias bomb is refused before it is copied, refuses recursive aliases, and keeps numbers' text.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.sizes: dict[int, int] = {}  # id(collection node) → expanded size; -1 while being built
        self.built: dict[int, Any] = {}
        self.count = 0  # nodes built so far, aliases expanded
        self.alias_nodes = 0  # nodes added by alias references
        self.alias_reuses = 0

    def document(self, node: yaml.Node) -> Any:
        """One document's objects; node ids are only unique while that document's tree is alive."""
        self.sizes.clear()
        self.built.clear()
        try:
            return self.build(node)
        finally:
            self.sizes.clear()
            self.built.clear()

    def fail(self, node: yaml.Node, message: str) -> DesignFileError:
        return DesignFileError(message, path=self.path, line=node.start_mark.line + 1)

    def build(self, node: yaml.Node) -> Any:
        if node.__class__ is yaml.ScalarNode:
            self.count += 1
            return node.value if node.tag == _STR else self.scalar(node)
        key = id(node)
        size = self.sizes.get(key)
        if size is not None:
            return self.alias(node, size)
        self.sizes[key] = -1
        start = self.count
        result = self.mapping(node) if isinstance(node, yaml.MappingNode) else self.sequence(node)  # type: ignore[arg-type]
        self.count += 1
        self.sizes[key] = self.count - start
        self.built[key] = result
        return result

    def alias(self, node: yaml.Node, size: int) -> Any:
        if size < 0:
            raise self.fail(node, "an alias refers to the collection that contains it; YAML designs cannot recurse")
        self.alias_reuses += 1
        self.alias_nodes += size
        self.count += size
        if self.alias_reuses > MAX_ALIAS_REUSES:
            raise self.fail(node, f"more than {MAX_ALIAS_REUSES} alias references (alias bomb?); write the values out")
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self.fail(
                node,
                f"aliases expand the document by more than {MAX_ALIAS_NODES} nodes (alias bomb?); write the values out",
            )
        return self.built[id(node)]

    def mapping(self, node: yaml.MappingNode) -> LineDict:
        if node.tag != _MAP:
            raise self.fail(node, f"unsupported tag {node.tag!r}; write a plain mapping")
        result = LineDict()
        result.line = node.start_mark.line + 1
        lines: dict[Any, int] = {}
        result.lines = lines
        pairs = node.value
        if any(key_node.tag == _MERGE for key_node, _ in pairs):
            _flatten_merges(node)
            pairs = node.value
        for key_node, value_node in pairs:
            key = self.build(key_node)
            if key.__class__ is not str:
                try:
                    hash(key)
                except TypeError:
                    raise self.fail(key_node, "a mapping key must be a plain value") from None
            if key in result:
                raise self.fail(key_node, f"duplicate key {key!r}; keep one of them")
            result[key] = self.build(value_node)
            lines[key] = key_node.start_mark.line + 1
        return result

    def sequence(self, node: yaml.SequenceNode) -> LineList:
        if node.tag != _SEQ:
            raise self.fail(node, f"unsupported tag {node.tag!r}; write a plain list")
        result = LineList([self.build(child) for child in node.value])
        result.line = node.start_mark.line + 1
        return result

    def scalar(self, node: yaml.ScalarNode) -> Any:
        tag, text = node.tag, node.value
        if tag == "tag:yaml.org,2002:int":
            return self.integer(node, text)
        if tag == "tag:yaml.org,2002:float":
            number = YamlFloat(_FLOAT.construct_yaml_float(node))
            if not math.isfinite(number):
                raise self.fail(node, f"{text!r} is not a finite number; write a number or quote it as text")
            number.text = text
            return number
        convert = _SCALARS.get(tag)
        if convert is None:
            raise self.fail(node, f"unsupported tag {tag!r}; write the value as plain text")
        return convert(text)

    def integer(self, node: yaml.ScalarNode, text: str) -> YamlInt:
        if len(text) > MAX_INT_CHARS:
            raise self.fail(node, f"an integer of {len(text)} characters; integers must fit in 64 bits")
        value = YamlInt(_FLOAT.construct_yaml_int(node))
        if not -(2**63) <= value < 2**63:
            raise self.fail(node, f"integer {text} does not fit in 64 bits; quote it if it is text")
        value.text = text
        return value


def _flatten_merges(node: yaml.MappingNode) -> None:
    """Apply `<<` merge keys (YAML 1.1) to the node, as PyYAML does; only mappings that use them pay."""
    try:
        yaml.constructor.SafeConstructor().flatten_mapping(node)
    except yaml.constructor.ConstructorError as exc:
        raise DesignFileError(f"bad merge key: {exc.problem}", line=node.start_mark.line + 1) from exc


def file_size(path: Path) -> int:
    """The size of the file to read at `path` (links followed), refusing one that is no regular file: a device or
    a pipe reports size 0, then /dev/zero fills the memory and a named pipe blocks until something writes to it
    (what it writes was taken for the file). A folder is left to the read, which says so; OSError passes."""
    status = path.stat()
    if not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
        raise DesignFileError("is not a regular file (a device, a pipe or a socket); give a file", path=str(path))
    return status.st_size


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A file's text, refusing huge or non-UTF-8 files, and devices and pipes, with a clear message."""
    try:
        size = file_size(path)
        if size > max_bytes:
            shown, limit = size_and_limit(size, max_bytes)
            raise DesignFileError(
                f"file is {shown}, more than the {limit} limit; split the design into a folder of smaller files",
                path=str(path),
            )
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DesignFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=str(path)) from exc
    except OSError as exc:
        raise DesignFileError(f"cannot read: {exc.strerror}", path=str(path)) from exc


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before libyaml's recursive composer can overflow the C stack.

    A cheap bound first (indentation + bracket count); only texts over it are walked event by event.
    """
    indent = max((len(m) for m in re.findall(r"^[ \t]+", text, flags=re.MULTILINE)), default=0)
    if indent + text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    line = event.start_mark.line + 1 if event.start_mark else None
                    raise DesignFileError(
                        f"nesting deeper than {MAX_DEPTH} levels; no manifest needs that", path=path, line=line
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return  # malformed: the loader below reports it with its line


def load_documents(text: str, *, path: str = "<text>") -> list[Any]:
    """All documents of a YAML (or JSON) text; empty documents are dropped.

    Strict: non-finite floats, integers beyond 64 bits, unknown tags, duplicate keys, recursive aliases,
    more than MAX_ALIAS_REUSES alias references or aliases adding more than MAX_ALIAS_NODES nodes, and
    nesting deeper than MAX_DEPTH are a `DesignFileError` naming the file and line.

    The common shape (block YAML of `key: value` and `- value` lines, as Studio and generators write it) is
    read line by line (`yamllines.read_lines`, a third of the work); other regular texts (no anchors, aliases
    or merge keys, no error) in one pass over libyaml's events (`_read_events`); anything else, errors
    included, through the composing reader (`_read_nodes`), so results and messages are those of one reader.
    The collector is paused while reading: a design is millions of new objects, and collecting while they
    are made costs more than the reading itself.
    """
    with gc_paused():
        docs = yamllines.read_lines(text)
        if docs is None:
            docs = _read_events(text)
        return docs if docs is not None else _read_nodes(text, path)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (nested uses keep it paused until the outermost ends)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_NO_KEY = object()


def _read_events(text: str) -> list[Any] | None:
    """The documents built straight from libyaml's events (no node tree, no recursion), or None when the
    text needs the composing reader: an anchor, alias or merge key, nesting deeper than MAX_DEPTH, or any
    error (which that reader then reports exactly as it always has)."""
    loader = _BaseLoader(text)
    docs: list[Any] = []
    # one frame per open collection: [container, lines (None for a list), pending key, its line]
    stack: list[list[Any]] = []
    resolved: dict[str, str] = {}  # plain scalar text → its implicit tag (values repeat a lot)
    resolve = loader.resolve
    scalar_node = yaml.ScalarNode
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end, stream_end = yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.StreamEndEvent
    try:
        get = loader.get_event
        while True:
            event = get()
            kind = event.__class__
            if kind is scalar_event:
                if event.anchor is not None:
                    raise _Irregular
                tag, value = event.tag, event.value
                if tag is None or tag == "!":
                    if event.implicit[0]:
                        tag = resolved.get(value)
                        if tag is None:
                            tag = resolved[value] = resolve(scalar_node, value, (True, False))
                        obj = yamllines.interned(value) if tag == _STR else _convert(tag, value)
                    else:
                        obj = yamllines.interned(value)
                elif tag == _STR:
                    obj = yamllines.interned(value)
                else:
                    obj = _convert(tag, value)
                if stack:
                    frame = stack[-1]
                    lines = frame[1]
                    if lines is None:
                        frame[0].append(obj)
                    elif frame[2] is _NO_KEY:
                        if tag == _MERGE or obj in frame[0]:
                            raise _Irregular
                        frame[2] = obj
                        frame[3] = event.start_mark.line + 1
                    else:
                        frame[0][frame[2]] = obj
                        lines[frame[2]] = frame[3]
                        frame[2] = _NO_KEY
                elif obj is not None:
                    docs.append(obj)
            elif kind is mapping_start or kind is sequence_start:
                if event.anchor is not None or len(stack) >= MAX_DEPTH:
                    raise _Irregular
                if stack and stack[-1][1] is not None and stack[-1][2] is _NO_KEY:
                    raise _Irregular  # a collection as a mapping key
                tag = event.tag
                line = event.start_mark.line + 1
                if kind is mapping_start:
                    if not (tag is None or tag == "!" or tag == _MAP):
                        raise _Irregular
                    mapping = LineDict()
                    mapping.line = line
                    mapping.lines = {}
                    stack.append([mapping, mapping.lines, _NO_KEY, 0])
                else:
                    if not (tag is None or tag == "!" or tag == _SEQ):
                        raise _Irregular
                    sequence = LineList()
                    sequence.line = line
                    stack.append([sequence, None, _NO_KEY, 0])
            elif kind is mapping_end or kind is sequence_end:
                obj = stack.pop()[0]
                if stack:
                    frame = stack[-1]
                    lines = frame[1]
                    if lines is None:
                        frame[0].append(obj)
                    else:
                        frame[0][frame[2]] = obj
                        lines[frame[2]] = frame[3]
                        frame[2] = _NO_KEY
                else:
                    docs.append(obj)
            elif kind is stream_end:
                return docs
            elif kind is yaml.AliasEvent:
                raise _Irregular
    except (_Irregular, yaml.YAMLError, ValueError, TypeError, UnicodeError, RecursionError):
        return None
    finally:
        loader.dispose()


def _read_nodes(text: str, path: str) -> list[Any]:
    """The composing reader: libyaml composes each document's nodes, `_Builder` makes the objects."""
    _check_depth(text, path)
    docs: list[Any] = []
    try:
        loader = _BaseLoader(text)
        try:
            builder = _Builder(path)
            while loader.check_node():
                node = loader.get_node()
                doc = builder.document(node) if node is not None else None
                if doc is not None:
                    docs.append(doc)
        finally:
            loader.dispose()
    except DesignFileError as exc:
        if exc.path is None:
            raise DesignFileError(exc.reason, path=path, line=exc.line) from exc
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise DesignFileError(f"malformed YAML: {problem}; fix the syntax at that line", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise DesignFileError(f"malformed YAML: {exc}", path=path) from exc
    except RecursionError as exc:
        raise DesignFileError(f"nesting deeper than {MAX_DEPTH} levels; no manifest needs that", path=path) from exc
    except (ValueError, TypeError, UnicodeError) as exc:  # a scalar the YAML rules cannot convert
        raise DesignFileError(f"unreadable value: {exc}", path=path) from exc
    return docs


class _Dumper(_BaseDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


# line breaks to YAML 1.1 (PyYAML, go-yaml) and plain characters to YAML 1.2 (ruamel, the YAML 1.2 spec): written
# raw in a literal block or a single-quoted scalar, the two read different texts; escaped (\N, \L, \P) in a
# double-quoted scalar, every reader reads the same
_UNICODE_BREAKS = ("\x85", "\u2028", "\u2029")


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if not data.isascii() and any(br in data for br in _UNICODE_BREAKS):
        style: str | None = '"'
    else:
        style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=style)


def _represent_number(dumper: yaml.SafeDumper, data: YamlInt | YamlFloat) -> yaml.ScalarNode:
    tag = "tag:yaml.org,2002:int" if isinstance(data, int) else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, data.text)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.MappingNode:
    return dumper.represent_dict(data.items())  # keep insertion order


def _represent_tuple(dumper: yaml.SafeDumper, data: tuple[Any, ...]) -> yaml.SequenceNode:
    return dumper.represent_list(list(data))


# plain scalars YAML 1.2's core schema (ruamel) or go-yaml v2 (kubectl, the operator) read as numbers where YAML 1.1
# (PyYAML) reads text: '1e3', '019', '0o17'. Known to the dumper's resolver (not the loader's), such a string
# resolves to a number, so the emitter quotes it and every reader reads the same text.
_Dumper.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+.0123456789"),
)
# likewise 'y', 'Y', 'n', 'N': booleans to YAML 1.1's spec (ruamel's 1.1 resolver, go-yaml v2: kubectl, the operator)
# though PyYAML reads them as text: written plain, a label `x: N` reached the API server as false
_Dumper.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(LineDict, _represent_dict)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(tuple, _represent_tuple)
_Dumper.add_representer(LineList, _represent_tuple)
_Dumper.add_representer(YamlInt, _represent_number)
_Dumper.add_representer(YamlFloat, _represent_number)


def dump_documents(docs: list[Any]) -> str:
    """Deterministic multi-document YAML: keys in the order given, no aliases, block style."""
    fast = _block_documents(docs)
    return fast if fast is not None else _dump_all(docs)


def _dump_all(docs: list[Any]) -> str:
    return yaml.dump_all(
        docs,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        explicit_start=True,
    )


# --- the common shape, written directly -------------------------------------------------------------------
# Exporting 10 000 agents dumps ~1 M scalars; PyYAML's representer and resolver (Python) cost ~5 s of it. Documents
# of the common shape (mappings, lists and tuples of strings, ints, floats, bools and nulls) are written here, block
# style as `_dump_all` writes them: a string of `_PLAIN` characters that no implicit resolver claims is written
# as it is; any other scalar's text is what `_dump_all` writes for it in that place (asked once, remembered). A
# document holding anything else (another type, a multi-line or very long scalar, a complex key) is left to
# `_dump_all` as a whole, so the output is always `_dump_all`'s (tests compare both on every export and on
# random documents).

_PLAIN = re.compile(r"[A-Za-z](?:[A-Za-z0-9 _./()!?'+=@,-]{0,200}[A-Za-z0-9_./()!?'+=@,-])?")
_RESOLVED_WORDS = frozenset(  # plain words YAML 1.1's implicit resolvers read as bool or null (quoted instead)
    w
    for word in ("yes", "no", "true", "false", "on", "off", "y", "n", "null")
    for w in (word, word.capitalize(), word.upper())
)
_MAX_LINE = 2000  # well under the dumper's width (4096): no scalar is folded
_SCALAR_TEXTS: dict[tuple[bool, type, Any], str | None] = {}  # (as key?, type, value) → text, None: not one line


class _NotCommon(Exception):
    """The document is not of the common shape: `_dump_all` writes it."""


def _scalar_text(value: Any, key: bool) -> str:
    kind = type(value)
    if kind is str and _PLAIN.fullmatch(value) and value not in _RESOLVED_WORDS and (not key or len(value) < 100):
        return str(value)
    if kind is int:
        return str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is not str and kind is not float:
        raise _NotCommon
    memo = (key, kind, value if kind is str else repr(value))  # repr: -0.0 == 0.0 but is written apart
    text = _SCALAR_TEXTS.get(memo, "")
    if text == "":
        written = _dump_all([{value: 0} if key else {"k": value}])
        lines = written.splitlines()  # also at U+2028, U+0085 …: YAML line breaks, indented by place
        if len(lines) != 2 or lines[0] != "---" or written != f"---\n{lines[1]}\n":
            text = None
        elif key:
            text = lines[1][: -len(": 0")] if lines[1].endswith(": 0") else None
        else:
            text = lines[1][len("k: ") :] if lines[1].startswith("k: ") else None
        if len(_SCALAR_TEXTS) > 100_000:
            _SCALAR_TEXTS.clear()
        _SCALAR_TEXTS[memo] = text
    if text is None:
        raise _NotCommon
    return text


_MAP_TYPES = (dict, LineDict)  # the exact types written as mappings (a subclass goes to PyYAML)
_SEQ_TYPES = (list, tuple, LineList)


def _flat(prefix: str, value: Any) -> str:
    """The line of `prefix` ("key:" or "-" after its indent) and an empty collection or a scalar."""
    kind = type(value)
    text = "{}" if kind in _MAP_TYPES else "[]" if kind in _SEQ_TYPES else _scalar_text(value, False)
    line = f"{prefix} {text}\n"
    if len(line) > _MAX_LINE:
        raise _NotCommon
    return line


def _value(prefix: str, value: Any, indent: str, out: list[str]) -> None:
    """`prefix` ("key:" after its indent) followed by `value` as a block mapping's value."""
    kind = type(value)
    if kind in _MAP_TYPES and value:
        out.append(prefix + "\n")
        _mapping(value, indent + "  ", indent + "  ", out)
    elif kind in _SEQ_TYPES and value:
        out.append(prefix + "\n")
        _sequence(value, indent, indent, out)  # PyYAML's default: a mapping's list is not indented
    else:
        out.append(_flat(prefix, value))


def _mapping(mapping: dict[Any, Any], first: str, indent: str, out: list[str]) -> None:
    """A non-empty block mapping: its first line starts with `first`, the others with `indent`."""
    lead = first
    for key, value in mapping.items():
        _value(f"{lead}{_scalar_text(key, True)}:", value, indent, out)
        lead = indent


def _sequence(items: list[Any] | tuple[Any, ...], first: str, indent: str, out: list[str]) -> None:
    """A non-empty block sequence: its first line starts with `first`, the others with `indent`."""
    lead = first
    for item in items:
        kind = type(item)
        if kind in _MAP_TYPES and item:
            _mapping(item, lead + "- ", indent + "  ", out)
        elif kind in _SEQ_TYPES and item:
            _sequence(item, lead + "- ", indent + "  ", out)
        else:
            out.append(_flat(lead + "-", item))
        lead = indent


def _block_documents(docs: list[Any]) -> str | None:
    """`_dump_all(docs)` for documents that are non-empty mappings of the common shape, else None."""
    pieces = _block_pieces(docs)
    return None if pieces is None else "".join(pieces)


def _block_pieces(docs: list[Any]) -> list[str] | None:
    """Each document's text as `_block_documents` writes it, or None."""
    pieces: list[str] = []
    out: list[str] = []
    try:
        for doc in docs:
            if type(doc) not in _MAP_TYPES or not doc:
                return None
            out.append("---\n")
            _mapping(doc, "", "", out)
            pieces.append("".join(out))
            out.clear()
    except (_NotCommon, RecursionError):
        return None
    return pieces


class Rendering(NamedTuple):
    """`dump_documents`' text and, when every document was written line by line (the common shape), each
    document's text (`pieces`, `---` first): each of its lines is a whole `key:`, `key: scalar`, `- …` line, its
    scalar on that line (no block, multi-line or continued scalar), so a comment added after a line or between two
    leaves what it reads as alone (`roundtrip_lines.by_lines` compares a commented file with them line by line)."""

    text: str
    pieces: tuple[str, ...] | None


def dump_blocks(docs: list[Any]) -> Rendering:
    """`dump_documents(docs)`, with each document's text when every document is of the common shape."""
    pieces = _block_pieces(docs)
    if pieces is None:
        return Rendering(_dump_all(docs), None)
    return Rendering("".join(pieces), tuple(pieces))


def dump(doc: Any) -> str:
    """One deterministic YAML document without the leading `---`."""
    return str(
        yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)
    )


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content, never a mix. A symlink is
    written through (its target gets the content; renaming over the link would replace the link itself)."""
    write_all_atomic({path: data})


def write_all_atomic(files: Mapping[Path, str | bytes]) -> None:
    """Write several files (`write_atomic` each), all or none as far as the disk allows: every new content is
    written and synced to a temporary file beside its target first, and only then are they renamed over their
    targets (a rename within a folder does not run out of space). A failure while staging (a full disk, a
    read-only folder) removes the temporary files and leaves every target as it was."""
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            target = Path(os.path.realpath(path))
            staged.append((_staged(target, data), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        raise


def _staged(path: Path, data: str | bytes) -> str:
    """The content written and synced to a new temporary file beside `path`, with `path`'s mode: its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0666 less the umask (mkstemp gives 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


YAML_SUFFIXES = (".yaml", ".yml")  # a file read as YAML in a folder or zip, and a new design file's name (any case)


def iter_yaml_files(folder: Path) -> Iterator[Path]:
    """Every *.yaml / *.yml below a folder, recursively, in a stable order; hidden folders skipped. One that is a
    symbolic link to a file outside the folder is refused (`refuse_link_out`); links to folders are not followed."""
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.suffix.lower() in YAML_SUFFIXES:
            refuse_link_out(path, folder, root=root)
            if path.is_file():
                yield path


def refuse_link_out(path: Path, folder: Path, *, root: Path | None = None, what: str = "folder") -> None:
    """Refuse `path`, found in `folder` (`root`: the folder resolved), when it is a symbolic link to a file or folder
    outside it (a clone of a repository can carry one: EXPORT/x.yaml -> ~/.kube/config pulled the kubeconfig, its
    client key included, into the design and the next export); `what` names the folder in the message. Links
    within the folder are read as they are."""
    if not path.is_symlink():
        return
    root = folder.resolve() if root is None else root
    try:
        target = path.resolve()
    except (RuntimeError, OSError):  # a loop of links (Python 3.11 raises RuntimeError) leads nowhere: none is read
        return
    if target != root and root not in target.parents:
        raise DesignFileError(
            f"is a symbolic link to {target}, outside the {what} {folder}; refusing to read the folder "
            "(remove the link, or copy what it names into the folder)",
            path=str(path),
        )
