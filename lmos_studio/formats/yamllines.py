"""The line reader: block-style YAML of the common shape (what Studio and `kubectl` write) read line by line.

A design file is mostly `key: value` and `- value` lines. Reading those with string methods costs a fraction of
libyaml's events turned into Python objects. The reader takes a text only when every line has one of these
shapes: a `---` document start, a comment or blank line, `key:` / `key: scalar`, `- ` / `- scalar` /
`- key: …` at a consistent indentation, with plain scalars on one line (no `#`, no `: `) and quoted scalars
without escapes. Anything else (flow collections, block scalars, anchors, aliases, tags, merge keys,
multi-line scalars, tabs, escapes, duplicate keys, numbers `yamlio` refuses, errors) returns None and the text
goes to `yamlio`'s readers, whose results and messages stay the only ones. Plain scalars are resolved by
PyYAML's own resolver and converted by `yamlio`'s rules, so the objects (numbers keeping their text, line
numbers, key order) are those of the event reader; tests/test_design_reader.py checks it on every YAML file of
the repo, generated designs and random texts.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

import yaml

from lmos_studio.formats.yamltypes import (
    _MERGE,
    _STR,
    MAX_DEPTH,
    LineDict,
    LineList,
    _BaseLoader,
    _convert,
    _Irregular,
)

_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE  # characters PyYAML's reader refuses
_UNUSUAL = ("\t", "\r", "\x85", "\u2028", "\u2029", "\ufeff", "\\")  # tabs, other line breaks, a BOM, escapes
_NOT_PLAIN_START = frozenset(",[]{}#&*!|>'\"%@`")  # indicators a plain scalar cannot start with
_MAX_KEY_CHARS = 1000  # PyYAML refuses simple keys over 1024 characters; longer ones go to the other readers
_WORD_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # fast-path lines
_MARKERS = ("---", "...")
_NO_KEY = object()
_ITEM = object()  # a sequence frame waiting for the node of a `-` line without content
_MAP, _SEQ = 0, 1
INTERN_MAX_CHARS = 64  # quoted scalars up to this long are interned too (names, versions, refs; not prose)


def read_lines(text: str, *, first_line: int = 1, checked: bool = False) -> list[Any] | None:
    """The documents of a text of the common shape, or None when it needs the other readers. `first_line`: the
    line number of the text's first line (a span of documents cut from a larger text, whose lines keep their
    numbers); `checked`: the caller found no character that `regular_characters` refuses already."""
    if not checked and not regular_characters(text):
        return None
    reader = _Lines()
    try:
        return reader.read(text, first_line)
    except _Irregular:
        return None
    finally:
        # the decoder's hook is a method of the reader: a reference cycle that would keep the reader, and with it
        # every document it read, alive until a full collection (never, once the app has frozen the heap)
        reader.decoder = None


def regular_characters(text: str) -> bool:
    """Whether the line reader may take the text at all: no character PyYAML's reader refuses, no tab, other
    line break, BOM or escape."""
    return not _non_printable(text) and not any(char in text for char in _UNUSUAL)


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r"  # the ASCII characters PyYAML's reader accepts


def _non_printable(text: str) -> bool:
    """Whether the text holds a character PyYAML's reader refuses (`_NON_PRINTABLE`). An ASCII text (the
    common case) is checked by deleting the accepted bytes in C, a tenth of the regular expression's scan of
    a 19 MB design."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _PRINTABLE_ASCII))
    return _NON_PRINTABLE.search(text) is not None


class _Lines:
    """One pass over the lines; a stack of open collections, each [kind, indent, container, lines (mappings),
    pending key or `-` (whose node the next, deeper lines hold), the pending key's line]."""

    def __init__(self) -> None:
        self.resolved: dict[str, str] = {}  # plain scalar → its implicit tag (keys and values repeat a lot)
        self.strings: dict[str, str] = {}  # plain scalar resolved as a string → its one (interned) object
        self.resolve = _BaseLoader("").resolve
        self.docs: list[Any] = []
        self.stack: list[list[Any]] = []
        self.root: Any = None
        self.decoder: json.JSONDecoder | None = None  # of flow lines that are JSON (`json_mapping` its hook)
        self.number = 0  # the line `decoder` reads

    def read(self, text: str, first_line: int = 1) -> list[Any]:
        """Every line in one loop; the common shapes inline, the rarer ones (first sight of a plain scalar,
        quoted keys, flow collections, document starts) through helpers: one loop, as a call per line costs."""
        strings = self.strings
        stack = self.stack
        intern = sys.intern
        top: list[Any] | None = None
        number = first_line - 1
        for line in text.split("\n"):
            number += 1
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                continue
            indent = len(line) - len(content)
            if (
                top is not None
                and indent == top[1]
                and top[4] is _NO_KEY
                and (content[0] in _WORD_START if top[0] == _MAP else content[:2] == "- ")
            ):  # the next key of the mapping, or the next item of the sequence, on top: nothing opens or closes
                item = top[0] == _SEQ
            else:
                item = content[0] == "-" and (len(content) == 1 or content[1] == " ")
                if indent == 0 and not item and content[0] in "-.%" and (content[0] == "%" or content[:3] in _MARKERS):
                    if content.rstrip(" ") != "---":
                        raise _Irregular  # `...`, a directive, `--- value`
                    self.end_document()
                    top = None
                    continue
                while top is not None and (indent < top[1] or (indent == top[1] and top[0] == _SEQ and not item)):
                    stack.pop()  # what this line's indentation ends (inline: a fifth of the lines close one)
                    if top[4] is not _NO_KEY:
                        self.put(top, None)  # `key:` or `-` with nothing below: null
                    if not stack:
                        self.root = top[2]
                        top = None
                        break
                    parent = stack[-1]
                    if parent[0] == _SEQ:
                        parent[2].append(top[2])
                    else:
                        parent[2][parent[4]] = top[2]
                        parent[3][parent[4]] = parent[5]
                    parent[4] = _NO_KEY
                    top = parent
                if top is None:
                    if self.root is not None:
                        raise _Irregular  # more content after the document's node (an error)
                    top = self.open(_SEQ if item else _MAP, indent, number)
                elif indent > top[1]:  # the node of the pending key or `-`
                    if top[4] is _NO_KEY:
                        raise _Irregular  # a continuation line (a multi-line scalar) or an error
                    top = self.open(_SEQ if item else _MAP, indent, number)
                elif top[0] == _MAP:
                    if item:
                        if top[4] is _NO_KEY:
                            raise _Irregular  # a `-` among keys (an error)
                        top = self.open(_SEQ, indent, number)  # an indentless sequence: the pending key's value
                    elif top[4] is not _NO_KEY:  # `key:` with nothing below: null
                        top[2][top[4]] = None
                        top[3][top[4]] = top[5]
                        top[4] = _NO_KEY
            if item:
                if top[4] is _ITEM:  # `-` with nothing below: null
                    top[2].append(None)
                    top[4] = _NO_KEY
                rest = content[2:].lstrip(" ")
                if not rest:
                    top[4] = _ITEM
                    continue
                if rest[0] == '"':  # a quoted scalar (never in `strings`: plain scalars only)
                    inner = rest[1:-1]
                    if rest[-1] == '"' and len(rest) > 1 and '"' not in inner:
                        top[2].append(intern(inner) if len(inner) <= INTERN_MAX_CHARS else inner)  # `interned`
                        continue
                else:
                    found = strings.get(rest)
                    if found is not None:
                        top[2].append(found)
                        continue
                if rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
                    raise _Irregular  # `- - x`: a sequence in a sequence on one line
                if rest[0] in "[{" or _key_end(rest) < 0:
                    top[2].append(self.scalar(rest, number))
                    continue
                top[4] = _ITEM  # `- key: …`: a mapping starts on this line, at the key's column
                indent += len(content) - len(rest)
                content = rest
                top = self.open(_MAP, indent, number)
            # a key line of the mapping on top
            end = content.find(": ")
            if end < 0 and content[-1] == ":":
                end = len(content) - 1
            key: Any = strings.get(content[:end]) if 0 < end <= _MAX_KEY_CHARS else None
            if key is None:
                key, end = self.key(content)
            if key in top[2]:
                raise _Irregular  # a duplicate key: the composing reader says which
            value = content[end + 2 :]  # after `: ` (the `:` of a key line ends it or has a space after it)
            if value and (value[0] == " " or value[-1] == " "):
                value = value.strip(" ")
            if not value:
                top[4] = key
                top[5] = number
                continue
            if value[0] == '"':  # a quoted scalar (never in `strings`: plain scalars only)
                inner = value[1:-1]
                if value[-1] == '"' and len(value) > 1 and '"' not in inner:
                    top[2][key] = intern(inner) if len(inner) <= INTERN_MAX_CHARS else inner  # `interned`, inline
                else:
                    top[2][key] = self.scalar(value, number)
            else:
                found = strings.get(value)
                top[2][key] = found if found is not None else self.scalar(value, number)
            top[3][key] = number
        self.end_document()
        return self.docs

    def key(self, content: str) -> tuple[Any, int]:
        """The key of a key line and where its `:` is (quoted keys, keys seen for the first time)."""
        end = _key_end(content)
        if end <= 0 or content[0] in "[{":
            raise _Irregular  # a scalar where a key belongs, a collection as a key
        return self.scalar(content[:end].rstrip(" "), 0), end

    def open(self, kind: int, indent: int, number: int) -> list[Any]:
        if len(self.stack) >= MAX_DEPTH:
            raise _Irregular
        if kind == _MAP:
            mapping = LineDict()
            mapping.line = number
            mapping.lines = {}
            frame = [_MAP, indent, mapping, mapping.lines, _NO_KEY, 0]
        else:
            sequence = LineList()
            sequence.line = number
            frame = [_SEQ, indent, sequence, None, _NO_KEY, 0]
        self.stack.append(frame)
        return frame

    def close(self) -> list[Any] | None:
        """Close the collection on top; the new top (None when the document's node is complete)."""
        frame = self.stack.pop()
        if frame[4] is not _NO_KEY:  # `key:` or `-` with nothing below: null
            self.put(frame, None)
        if not self.stack:
            self.root = frame[2]
            return None
        parent = self.stack[-1]
        self.put(parent, frame[2])
        return parent

    def put(self, frame: list[Any], value: Any) -> None:
        if frame[0] == _SEQ:
            frame[2].append(value)
        else:
            frame[2][frame[4]] = value
            frame[3][frame[4]] = frame[5]
        frame[4] = _NO_KEY

    def end_document(self) -> None:
        while self.stack:
            self.close()
        if self.root is not None:
            self.docs.append(self.root)
        self.root = None

    def scalar(self, text: str, number: int) -> Any:
        """A one-line scalar as the event reader makes it (quoted: text; plain: resolved and converted; `[]` and
        `{}`: empty collections of that line)."""
        first = text[0]
        if first == "'":
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
                raise _Irregular
            return interned(inner.replace("''", "'"))
        if first == '"':
            inner = text[1:-1]
            if len(text) < 2 or text[-1] != '"' or '"' in inner:
                raise _Irregular
            return interned(inner)
        if first in "[{":
            return self.flow(text, number)
        if first in _NOT_PLAIN_START or "#" in text or ": " in text or text[-1] == ":":
            raise _Irregular
        if first in "-?:" and (len(text) == 1 or text[1] == " "):
            raise _Irregular
        tag = self.resolved.get(text)
        if tag is None:
            tag = self.resolve(yaml.ScalarNode, text, (True, False))
            tag = self.resolved[text] = _STR if tag == _STR else tag  # `is _STR` then tells a string
            if tag is _STR:
                text = self.strings[text] = interned(text)
        if tag is _STR:
            return self.strings[text]
        if tag == _MERGE:
            raise _Irregular  # `<<`: merges are left to the composing reader
        return _convert(tag, text)

    def flow(self, text: str, number: int) -> Any:
        """A one-line flow collection of double-quoted strings and simple plain scalars (`[a, "b"]`,
        `{"k": v}`), every collection of it on that line; anything more is left to the event reader."""
        if len(self.stack) + text.count("[") + text.count("{") > MAX_DEPTH:
            raise _Irregular  # possibly nested deeper than MAX_DEPTH: the composing reader refuses it
        if len(text) >= 4 and text[:2] == '["' and text[-2:] == '"]':  # `["a", "b"]`: strings split, no parser
            items = text[2:-2].split('", "')
            if not any('"' in item for item in items):
                sequence = LineList([sys.intern(i) if len(i) <= INTERN_MAX_CHARS else i for i in items])
                sequence.line = number
                return sequence
        if _JSON_FLOW.fullmatch(text):  # JSON of strings only (what a generator's json.dumps writes): parsed in C
            if self.decoder is None:
                self.decoder = json.JSONDecoder(object_pairs_hook=self.json_mapping)
            self.number = number
            try:
                value = self.decoder.decode(text)
            except ValueError:
                raise _Irregular from None
            return _lined_list(value, number) if value.__class__ is list else value
        tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _FLOW_TOKEN.match(text, position)
            if match is None:
                raise _Irregular
            quoted, indicator, plain = match.groups()
            position = match.end()
            if indicator == ":" and text[position : position + 1] != " ":
                raise _Irregular  # `a:b` is a plain scalar in YAML, or an error
            tokens.append(("q", quoted[1:-1]) if quoted else ("i", indicator) if indicator else ("p", plain))
        tokens.reverse()
        value = self.flow_node(tokens, number)
        if tokens:
            raise _Irregular
        return value

    def json_mapping(self, pairs: list[tuple[str, Any]]) -> LineDict:
        """A JSON object of a flow line as the event reader's mapping of that line (the decoder's hook: built
        once, no second walk over what JSON made); its strings interned, its lists made line lists."""
        number = self.number
        mapping = LineDict()
        for key, value in pairs:
            if key in mapping:
                raise _Irregular  # a duplicate key: the composing reader says which
            kind = value.__class__
            mapping[key] = interned(value) if kind is str else _lined_list(value, number) if kind is list else value
        mapping.line = number
        mapping.lines = dict.fromkeys(mapping, number)
        return mapping

    def flow_node(self, tokens: list[tuple[str, str]], number: int) -> Any:
        kind, text = tokens.pop() if tokens else ("", "")
        if kind == "q":
            return interned(text)
        if kind == "p":
            return self.scalar(text, number)
        if text == "[":
            sequence = LineList()
            sequence.line = number
            while self.flow_more(tokens, "]", bool(sequence)):
                sequence.append(self.flow_node(tokens, number))
            return sequence
        if text == "{":
            mapping = LineDict()
            mapping.line = number
            mapping.lines = {}
            while self.flow_more(tokens, "}", bool(mapping)):
                if tokens[-1][0] == "i":
                    raise _Irregular  # a collection as a key
                key = self.flow_node(tokens, number)
                if key in mapping or not tokens or tokens.pop() != ("i", ":") or not tokens:
                    raise _Irregular  # a duplicate key, `{a}`, `{a: }`…
                if tokens[-1][0] == "i" and tokens[-1][1] not in "[{":
                    raise _Irregular
                mapping[key] = self.flow_node(tokens, number)
                mapping.lines[key] = number
            return mapping
        raise _Irregular

    @staticmethod
    def flow_more(tokens: list[tuple[str, str]], close: str, after_item: bool) -> bool:
        """Whether another item follows (its `,` taken) or the collection ends here (`close` taken)."""
        if not tokens:
            raise _Irregular  # not closed on this line
        if tokens[-1] == ("i", close):
            tokens.pop()
            return False
        if after_item and tokens.pop() != ("i", ","):
            raise _Irregular
        if not tokens or (tokens[-1][0] == "i" and tokens[-1][1] not in "[{"):
            raise _Irregular  # `[a, ]`, `[,]`, `[a: b]`, …
        return True


_JSON_FLOW = re.compile(r'(?:[\[\]{}]|"[^"]*"|, ?|: )*')  # strings without escapes, `, ` and `: ` (as json.dumps)


def _lined_list(value: list[Any], number: int) -> LineList:
    """A JSON array of a flow line as the event reader's sequence of that line (its objects are made by
    `_Lines.json_mapping` already)."""
    sequence = LineList(
        [
            interned(item) if item.__class__ is str else _lined_list(item, number) if item.__class__ is list else item
            for item in value
        ]
    )
    sequence.line = number
    return sequence


def interned(text: str) -> str:
    """A quoted scalar's text, interned when it is short: names, versions and refs repeat across a design's
    agents, channels and trust edges, so equal ones become one object (less memory; dict lookups and comparisons
    of equal strings stop at identity). Plain scalars are interned the first time they are seen."""
    return sys.intern(text) if len(text) <= INTERN_MAX_CHARS else text


_FLOW_TOKEN = re.compile(r' *(?:("[^"]*")|([\[\]{},:])|([A-Za-z0-9_./+]+|-[A-Za-z0-9_./+]+))')  # " ", [, plain


def _key_end(content: str) -> int:
    """Where the `:` of a `key:` / `key: value` line is, or -1 when the line holds no simple key."""
    first = content[0]
    if first in "'\"":
        close = content.find(first, 1)
        while first == "'" and close >= 0 and content[close + 1 : close + 2] == "'":
            close = content.find(first, close + 2)
        if close < 0 or content[close + 1 : close + 2] != ":":
            return -1
        end = close + 1
        return end if end + 1 == len(content) or content[end + 1] == " " else -1
    end = content.find(": ")
    if end < 0:
        end = len(content) - 1 if content[-1] == ":" else -1
    if end > _MAX_KEY_CHARS:
        raise _Irregular
    return end
