"""Save over a hand-written design file keeping its comments, key order and quoting (ruamel.yaml round trip).

`merged_text(old, new)` writes the content of `new` (a design's deterministic rendering, `design_to_yaml`) into the
file `old` being saved over, document by document: one the design did not change is kept as written, a new one is
added where `new` has it, one that is gone is removed with its comments, and a changed one is updated in its YAML
tree (ruamel.yaml's round-trip mode): what did not change in it keeps its comments, key order and scalar style,
what changed is changed. Documents are matched by (apiVersion, kind, namespace, name) (the one `StudioDesign` by
kind), lists of mappings by a stable key (name, id, a trust edge's caller/callee/capabilities/protocol, a routing
test's query; an item no key matches continues an unmatched old one when a key field's rename explains every
change: a renamed group, an edge whose caller was renamed, a renamed agent's entry) else by position, lists of
scalars by value. A full-line comment (or blank line) belongs to the key, item or document below it, an end-of-line
comment to its line; the comments above the first document are the file's. A changed document with anchors, aliases
or merge keys (a change to a shared node would change every use), or past MAX_ROUNDTRIP_BYTES, is written as `new`
writes it, with a note. The file is cut into its documents' texts by `roundtrip_lines.py`, which also finds those
that are `new`'s with comments added without reading them; this module matches documents and updates a changed
one's YAML tree.

It checks what it changed: a document updated in place is read back and compared with `new`'s, and when every
document of the result is known to read as `new`'s (kept as written with identical data, taken from `new`, or
updated and read back identical) the result says so (`Merged.checked`); the writer (`design_file.save_design`)
reads any other result back whole and writes `new` itself unless that gives exactly the design `new` gives.
"""

from __future__ import annotations

import bisect
import io
import itertools
import re
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase, CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.resolver import VersionedResolver
from ruamel.yaml.tokens import CommentToken

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import lmos
from lmos_studio.formats.roundtrip_lines import (
    Chunk,
    Documents,
    NotMergeable,
    by_lines,
    comment_lines,
    cut_documents,
    leading,
    separated,
)
from lmos_studio.formats.yamlio import YamlFloat, YamlInt, dump_documents, load_documents
from lmos_studio.model import DEFAULT_NAMESPACE
from lmos_studio.redact import MASK

MAX_ROUNDTRIP_BYTES = 256 * 2**10  # changed documents through ruamel (pure Python, ~2 s per 100 KiB) per save;
# past that, a changed document is written as the design's rendering writes it (unchanged ones are kept as written)
_STUDIO_KIND = "StudioDesign"
STUDIO_INDENTS = (2, 2, 0)  # how `design_to_yaml` indents: mappings by 2, list dashes at their key's indent
_ITEM_KEYS = (("name", "namespace"), ("id",), ("caller", "callee", "capabilities", "protocol"), ("query", "channel"))
_MIN_SECRET_CHARS = 4  # shorter leftovers of a masked value ("id", "v1") say nothing about a credential


class _Resolver(VersionedResolver):
    """YAML 1.1 scalars, as Studio's reader (PyYAML) reads them: `yes` is a bool, `"yes"` stays quoted."""

    def __init__(self, version: Any = None, loader: Any = None, loadumper: Any = None) -> None:
        super().__init__((1, 1), loader, loadumper)


@dataclass(frozen=True)
class Merged:
    """What `merged_text` gives (see the module)."""

    text: str | None  # `new`'s content in `old`'s layout; None: write `new` itself
    notes: tuple[str, ...] = ()  # why a document's layout (or, with no text, the file's) could not be kept
    checked: bool = False  # each document of `text` reads back with exactly the data of `new`'s in its place: it
    # reads as the design `new` gives, without reading the whole file again


@dataclass
class _Comments:
    """The old file's full-line comments and blank lines: above which key or item, the file's own."""

    before: dict[tuple[int, Hashable], list[str]] = field(default_factory=dict)  # (id(container), key) → lines
    header: list[str] = field(default_factory=list)  # above the first document's first key, up to a blank line
    trailer: list[str] = field(default_factory=list)  # below the last key of the last document


@dataclass
class _Merge:
    comments: _Comments
    placed: list[tuple[CommentedBase, Hashable, list[str]]] = field(default_factory=list)  # to attach
    unordered: set[int] = field(default_factory=set)  # ids of the lists whose order the design does not keep


def merged_text(old: str, new: str, pieces: tuple[str, ...] | None = None) -> Merged:
    """`new`'s content in `old`'s layout and notes on documents whose layout could not be kept (written as in
    `new`); or no text and why not when `old` is a design that cannot be round-tripped at all, or no text and no
    notes when `old` is no design (unreadable, no LMOS or Studio document): see the module. With `pieces`
    (`new`'s documents' texts, `yamlio.dump_blocks`), the documents of `old` that are `new`'s with comments added
    are found line by line (`roundtrip_lines.by_lines`) and only the others are read."""
    found = _found_by_lines(old, pieces) if pieces is not None else None
    if isinstance(found, str):
        return Merged(found, checked=True)
    if found is None:
        try:
            old_docs = load_documents(old)
        except DesignFileError:
            return Merged(None)
        if not any(isinstance(d, dict) and _doc_class(d) != "other" for d in old_docs):
            return Merged(None)
    try:
        if found is None:
            return _merged_file(old, cut_documents(old, old_docs), cut_documents(new, load_documents(new)).chunks)
        return _merged_file(old, *found)
    except NotMergeable as exc:
        return Merged(None, (str(exc),))
    except Exception as exc:  # any failure of ruamel or PyYAML on a file it cannot take: the plain rendering
        return Merged(None, (f"it could not be read back in place ({type(exc).__name__})",))


def _found_by_lines(old: str, pieces: tuple[str, ...]) -> str | tuple[Documents, list[Chunk]] | None:
    """`by_lines` when it tells a design: `old` as it is when each of its documents is one of `pieces` with
    comments added, else the documents to merge; None when `old` is to be read whole (which then tells why)."""
    try:
        found = by_lines(old, pieces)
        if found is None or isinstance(found, str):
            return found
        olds, news = found[0].chunks, found[1]
        if not any(isinstance(c.data, dict) and _doc_class(c.data) != "other" for c in olds):
            return None
        for documents in (olds, news):  # a paired document is found by its key (`document_key`): its pair, if unique
            if len({document_key(c.data) for c in documents}) != len(documents):
                return None
        return found
    except Exception:  # anything it cannot take (a document it reads is no YAML, …): `old` read whole tells why
        return None


def _merged_file(old: str, documents: Documents, news: list[Chunk]) -> Merged:
    """Document by document: one the design did not change is kept as it is written, a new one is written as
    `new` writes it, and only a changed one goes through ruamel's round trip (`_merged_document`)."""
    olds = documents.chunks
    if not olds or not all(isinstance(c.data, dict) for c in olds + news):
        raise NotMergeable("a document of it is not a mapping")
    indents = _indents(old)
    match = _match([c.data for c in olds], [c.data for c in news], document_key)
    budget = [MAX_ROUNDTRIP_BYTES]
    masked: set[str] = set()  # parts of old values the design writes as ***: in no comment either
    texts: list[str] = []
    notes: list[str] = []
    checked = True  # every document reads back as `new`'s (`Merged.checked`)
    for chunk, i in zip(news, match, strict=True):
        if i is None:
            texts.append(_restyled(chunk, indents, budget))
        elif olds[i].data == chunk.data:
            texts.append(olds[i].text)
            checked = checked and _identical(olds[i].data, chunk.data)
        else:
            masked |= _masked(olds[i].data, chunk.data)
            texts.append(_changed(olds[i], chunk, indents, budget, notes))
            checked = checked and _reads_as(texts[-1], chunk)
    order = _document_order([c.data for c in news], match)
    body = "".join(separated(texts[j], first=not k) for k, j in enumerate(order))
    text = documents.header + body + documents.trailer
    if any(part in text for part in masked):
        raise NotMergeable("a credential the design writes as *** would stay in one of its comments")
    return Merged(text, tuple(notes), checked)


def _reads_as(text: str, chunk: Chunk) -> bool:
    """Whether a document's text (as written for `chunk`) reads back with exactly `chunk`'s data."""
    if text is chunk.text:
        return True
    try:
        docs = load_documents(text)
    except DesignFileError:
        return False
    return len(docs) == 1 and _identical(docs[0], chunk.data)


def same_documents(old: list[Any], new: list[Any]) -> bool:
    """Whether two lists of read documents read alike (`_identical`, document by document), a Studio document's
    `spec.agents` in any order (they apply to the agents by name; a merge keeps the file's order of them)."""
    return len(old) == len(new) and all(
        _identical(_agents_sorted(o), _agents_sorted(n)) for o, n in zip(old, new, strict=True)
    )


def _agents_sorted(doc: Any) -> Any:
    spec = doc.get("spec") if isinstance(doc, dict) and doc.get("kind") == _STUDIO_KIND else None
    if not isinstance(spec, dict):
        return doc
    agents = spec.get("agents")
    if not isinstance(agents, list) or not all(isinstance(a, dict) for a in agents):
        return doc
    ordered = sorted(agents, key=lambda a: (str(a.get("namespace") or DEFAULT_NAMESPACE), str(a.get("name"))))
    return {**doc, "spec": {**spec, "agents": ordered}}


def namespaced_as(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """`new` naming its namespace when `old` does (`namespace: default`, as an export writes it: the design
    writes no default namespace, and the same resource would lose a line of its file)."""
    old_meta, new_meta = old.get("metadata"), new.get("metadata")
    if not (isinstance(old_meta, dict) and isinstance(new_meta, dict)) or "namespace" not in old_meta:
        return new
    if "namespace" in new_meta:
        return new
    meta = {}
    for key, value in new_meta.items():
        meta[key] = value
        if key == "name":
            meta["namespace"] = old_meta["namespace"]
    meta.setdefault("namespace", old_meta["namespace"])
    return {**new, "metadata": meta}


def namespaced_like(olds: list[Any], documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`documents` with each one's namespace written where the same resource among the read documents `olds`
    writes it (`namespaced_as`): saving over a hand-written file kept everything but its `namespace: default`."""
    by_key = {document_key(d): d for d in olds if isinstance(d, dict)}
    return [namespaced_as(by_key[key], d) if (key := document_key(d)) in by_key else d for d in documents]


def _identical(old: Any, new: Any) -> bool:
    """Equal and of the same types all the way down, numbers with the same text (`1.0 == 1` for Python, not for
    a field that keeps a number's text): what reads as one reads as the other."""
    if old is new:
        return True
    if type(old) is not type(new):
        return False
    if isinstance(old, dict):
        keys = {(type(k), k) for k in old}
        return keys == {(type(k), k) for k in new} and all(_identical(old[k], new[k]) for k in old)
    if isinstance(old, list):
        return len(old) == len(new) and all(map(_identical, old, new))
    if isinstance(old, YamlInt | YamlFloat):
        return bool(old.text == new.text)
    return bool(old == new)


def _changed(old: Chunk, new: Chunk, indents: tuple[int, int, int], budget: list[int], notes: list[str]) -> str:
    """A changed document: `old` updated in place (ruamel), or `new` when `old` is Studio's own rendering or
    cannot be updated (then with a note why)."""
    if not old.commented and old.text == dump_documents([old.data]):
        return new.text  # written by Studio as it is: nothing of the user's layout to keep
    budget[0] -= len(old.text) + len(new.text)
    try:
        if budget[0] < 0:
            raise NotMergeable(f"the changed documents are over {MAX_ROUNDTRIP_BYTES // 2**10} KiB")
        return _merged_document(old.text, new.text, indents)
    except Exception as exc:  # this document as `new` writes it; the others keep their layout
        why = str(exc) if isinstance(exc, NotMergeable) else f"ruamel could not ({type(exc).__name__})"
        notes.append(f"{_described(new.data)} is written in Studio's layout, without its comments: {why}")
        return new.text


def _restyled(chunk: Chunk, indents: tuple[int, int, int], budget: list[int]) -> str:
    """A new document indented as the file is (as `new` writes it when ruamel cannot, or the budget is spent)."""
    if indents == STUDIO_INDENTS or len(chunk.text) > budget[0]:
        return chunk.text
    budget[0] -= len(chunk.text)
    try:
        rt = _yaml(*indents)
        out = io.StringIO()
        rt.dump(_yaml(*STUDIO_INDENTS).load(chunk.text), out)
        restyled = "---\n" + out.getvalue()
        return restyled if load_documents(restyled) == [chunk.data] else chunk.text
    except Exception:  # any failure of ruamel: the document as Studio writes it
        return chunk.text


def _described(doc: dict[str, Any]) -> str:
    meta = doc.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return f"{doc.get('kind')} {name}" if name else str(doc.get("kind"))


def _merged_document(old: str, new: str, indents: tuple[int, int, int]) -> str:
    """One changed document through ruamel's round trip."""
    lines = old.splitlines(keepends=True)
    at = leading(lines)
    above = ""
    if at < len(lines) and lines[at].startswith("---"):  # comments above `---` stay there (ruamel writes a
        above, old = "".join(lines[:at]), "".join(lines[at:])  # document's comments after it)
    rt = _yaml(*indents)
    old_docs = [d for d in rt.load_all(old) if d is not None]
    new_docs = [d for d in _yaml(*STUDIO_INDENTS).load_all(new) if d is not None]
    if len(old_docs) != 1 or len(new_docs) != 1 or not isinstance(old_docs[0], CommentedMap):
        raise NotMergeable("a document of it is not a mapping")
    _refuse_aliases(old_docs)
    merge = _Merge(_take_comments(old, old_docs))
    spec = old_docs[0].get("spec") if old_docs[0].get("kind") == _STUDIO_KIND else None
    if isinstance(spec, CommentedMap) and isinstance(spec.get("agents"), CommentedSeq):
        merge.unordered.add(id(spec["agents"]))  # applied to the agents by name: the file's order is kept
    doc = _merge_node(old_docs[0], new_docs[0], merge)
    _attach([doc], merge)
    rt.explicit_start = _explicit_start(old)
    out = io.StringIO()
    rt.dump(doc, out)
    return above + out.getvalue()


def _yaml(mapping: int, sequence: int, dash: int) -> YAML:
    rt = YAML(typ="rt")
    rt.Resolver = _Resolver
    rt.preserve_quotes = True
    rt.width = 4096  # as Studio's writer: no long scalar is folded
    rt.indent(mapping=mapping, sequence=sequence, offset=dash)
    return rt


def _indents(text: str) -> tuple[int, int, int]:
    """The file's mapping indent, list indent and how far its dashes are indented (ruamel writes one of each)."""
    # lazily: the first lines of a file tell (a 1.7 MiB file's lines all filtered first cost ~30 ms)
    lines = (line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    mapping, dash = 0, -1
    for line, below in itertools.pairwise(lines):
        if not line.rstrip().endswith(":"):
            continue
        step = (len(below) - len(below.lstrip())) - (
            len(line) - len(line.lstrip()) + line.lstrip().startswith("- ") * 2
        )
        if below.lstrip().startswith("- ") and dash < 0 and step >= 0:
            dash = step
        elif not below.lstrip().startswith("- ") and not mapping and step > 0:
            mapping = step
        if mapping and dash >= 0:
            break
    mapping = mapping or 2
    dash = max(dash, 0)
    return mapping, dash + 2, dash


def _explicit_start(text: str) -> bool:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not stripped.startswith("%"):
            return stripped.startswith("---")
    return True


def _walk(node: Any) -> Iterator[Any]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, dict):
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _refuse_aliases(docs: list[Any]) -> None:
    """Anchors, aliases and merge keys: a change to a shared node would change every place using it."""
    seen: set[int] = set()
    for doc in docs:
        for node in _walk(doc):
            anchor = node.yaml_anchor() if hasattr(node, "yaml_anchor") else None  # collections and scalars
            if (anchor is not None and anchor.value) or getattr(node, "merge", None):
                raise NotMergeable("it uses YAML anchors, aliases or merge keys")
            if isinstance(node, CommentedBase):
                if id(node) in seen:
                    raise NotMergeable("it uses YAML anchors, aliases or merge keys")
                seen.add(id(node))


# --- comments -------------------------------------------------------------------------------------------------


def _slots(doc: CommentedMap) -> Iterator[tuple[int, CommentedBase, Hashable]]:
    """Every key and item of the block collections of a document, in document order, with its line."""
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if not isinstance(node, CommentedMap | CommentedSeq) or node.fa.flow_style():
            continue
        found: list[tuple[int, Hashable, Any]] = []
        if isinstance(node, CommentedMap):
            found = [(node.lc.key(k)[0], k, v) for k, v in node.items()]
        else:
            found = [(node.lc.item(i)[0], i, v) for i, v in enumerate(node)]
        for line, key, _ in found:
            yield line, node, key
        stack.extend(value for _, _, value in reversed(found))


def _take_comments(text: str, docs: list[CommentedMap]) -> _Comments:
    """Each full-line comment and blank line of `text` under the key or item below it; then every comment is
    taken off the tree but end-of-line ones (`_attach` puts them back where their keys and items end up)."""
    slots = [slot for doc in docs for slot in _slots(doc)]
    slots.sort(key=lambda s: s[0])
    starts = [s[0] for s in slots]
    lines = text.split("\n")
    comments = _Comments()
    for number in comment_lines(text):
        at = bisect.bisect_right(starts, number)
        if at == len(slots):
            comments.trailer.append(lines[number])
            continue
        _, node, key = slots[at]
        comments.before.setdefault((id(node), key), []).append(lines[number])
    if slots:
        first = (id(slots[0][1]), slots[0][2])
        run = comments.before.pop(first, [])
        blanks = [i for i, line in enumerate(run) if not line.strip()]
        cut = blanks[-1] + 1 if blanks else len(run)  # a run without a blank line is all the file's
        comments.header, rest = run[:cut], run[cut:]
        if rest:
            comments.before[first] = rest
    while comments.trailer and not comments.trailer[-1].strip():
        comments.trailer.pop()
    for doc in docs:
        _strip(doc)
    return comments


def _eol(token: Any) -> Any:
    """An end-of-line comment token without the full lines ruamel appends to it (None when it has none)."""
    if not isinstance(token, CommentToken) or not token.value.startswith("#"):
        return None
    return CommentToken(token.value.split("\n", 1)[0] + "\n", token.start_mark, token.end_mark)


def _strip(doc: CommentedMap) -> None:
    for node in _walk(doc):
        if not isinstance(node, CommentedBase):
            continue
        ca = node.ca
        if ca.comment:
            ca.comment = [_eol(ca.comment[0]), None]
        ca.end = []
        for key, entry in list(ca.items.items()):
            if isinstance(node, CommentedSeq):
                ca.items[key] = [_eol(entry[0]), None, None, None]
            else:
                ca.items[key] = [None, None, _eol(entry[2]), None]


def _tokens(lines: list[str]) -> list[CommentToken]:
    tokens = []
    for line in lines:
        stripped = line.lstrip()
        tokens.append(CommentToken(stripped + "\n", CommentMark(len(line) - len(stripped) if stripped else 0)))
    return tokens


def _attach(docs: list[CommentedMap], merge: _Merge) -> None:
    """Put the kept full-line comments back above their keys and items, the file's above the first key."""
    for node, key, lines in merge.placed:
        entry = node.ca.items.setdefault(key, [None, None, None, None])
        entry[1] = _tokens(lines)
    comments = merge.comments
    if docs and comments.header and docs[0]:
        first = next(iter(docs[0]))
        entry = docs[0].ca.items.setdefault(first, [None, None, None, None])
        entry[1] = _tokens(comments.header) + (entry[1] or [])
    if docs and comments.trailer:
        docs[-1].ca.end = _tokens(comments.trailer)


# --- merging --------------------------------------------------------------------------------------------------


def _doc_class(doc: dict[str, Any]) -> str:
    """Which of the design's lists a document belongs to (their orders are the design's)."""
    kind = doc.get("kind")
    if kind == _STUDIO_KIND:
        return "studio"
    if doc.get("apiVersion") == lmos.API_VERSION and kind in lmos.LMOS_KINDS:
        return str(kind)
    return "other"


def document_key(doc: dict[str, Any]) -> Hashable:
    """Which resource a document is: (apiVersion, kind, namespace or default, name); the Studio document by its
    kind (one per design). Saving matches old and new documents by it (here, and a folder's files)."""
    if doc.get("kind") == _STUDIO_KIND:
        return (str(doc.get("apiVersion")), _STUDIO_KIND)
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    namespace = meta.get("namespace") or DEFAULT_NAMESPACE
    return (str(doc.get("apiVersion")), str(doc.get("kind")), str(namespace), _frozen(meta.get("name")))


def _kept_order(match: list[int | None]) -> list[int]:
    """The new items (by index) in the old order of those kept, each new one after the one before it."""
    order = sorted((j for j, i in enumerate(match) if i is not None), key=lambda j: match[j] or 0)
    for j, i in enumerate(match):
        if i is None:
            order.insert(order.index(j - 1) + 1 if j > 0 else 0, j)
    return order


def _document_order(new: list[dict[str, Any]], match: list[int | None]) -> list[int]:
    """The old file's order of the documents (`_kept_order`); `new`'s order when that would reorder a list the
    design keeps in order (its agents, channels, …)."""
    order = _kept_order(match)
    for cls in {_doc_class(d) for d in new}:
        if [j for j in order if _doc_class(new[j]) == cls] != [j for j in range(len(new)) if _doc_class(new[j]) == cls]:
            return list(range(len(new)))
    return order


def _place(merge: _Merge, old_node: CommentedBase, old_key: Hashable, node: CommentedBase, key: Hashable) -> None:
    lines = merge.comments.before.get((id(old_node), old_key))
    if lines:
        merge.placed.append((node, key, lines))


def _merge_node(old: Any, new: Any, merge: _Merge) -> Any:
    if isinstance(old, CommentedMap) and isinstance(new, CommentedMap):
        return _merge_map(old, new, merge)
    if isinstance(old, CommentedSeq) and isinstance(new, CommentedSeq):
        return _merge_seq(old, new, merge)
    if not isinstance(old, dict | list) and not isinstance(new, dict | list) and _same_scalar(old, new):
        return old
    return new


def _merge_map(old: CommentedMap, new: CommentedMap, merge: _Merge) -> CommentedMap:
    for key in [k for k in old if k not in new]:
        del old[key]
        old.ca.items.pop(key, None)
    previous: Any = None
    for key, value in new.items():
        if key in old:
            merged = _merge_node(old[key], value, merge)
            if merged is not old[key]:
                old[key] = merged
            _place(merge, old, key, old, key)
        else:
            position = list(old).index(previous) + 1 if previous is not None else 0
            old.insert(position, key, value)
        previous = key
    return old


def _merge_seq(old: CommentedSeq, new: CommentedSeq, merge: _Merge) -> CommentedSeq:
    """The new items in the new order (the design's lists are ordered), the Studio document's agents in the old
    order (they are found by name); a kept item keeps its comments."""
    match = _match(list(old), list(new), _item_key(list(old), list(new)))
    order = _kept_order(match) if id(old) in merge.unordered else list(range(len(new)))
    entries = dict(old.ca.items)
    items = [_merge_node(old[i], new[j], merge) if (i := match[j]) is not None else new[j] for j in order]
    list.clear(old)
    list.extend(old, items)
    old.ca.items.clear()
    for at, j in enumerate(order):
        i = match[j]
        if i is None:
            continue
        if i in entries:
            old.ca.items[at] = entries[i]
        _place(merge, old, i, old, at)
    return old


def _item_key(old: list[Any], new: list[Any]) -> Callable[[Any], Hashable] | None:
    """How items of a list are matched: by a key field all items have (unique on each side), scalars by value,
    anything else by position (None)."""
    items = old + new
    if items and all(isinstance(item, dict) for item in items):
        for fields in _ITEM_KEYS:
            if all(fields[0] in item for item in items):

                def key(item: Any, fields: tuple[str, ...] = fields) -> Hashable:
                    return tuple(_frozen(item.get(f)) for f in fields)

                if len({key(i) for i in old}) == len(old) and len({key(i) for i in new}) == len(new):
                    return key
        return None
    if all(not isinstance(item, dict | list) for item in items):
        return _scalar_key
    return None


def _match(old: list[Any], new: list[Any], key: Callable[[Any], Hashable] | None) -> list[int | None]:
    """For each new item the index of the old one it continues (the first unused of the same key; the same
    position without a key), or None."""
    if key is None:
        return [j if j < len(old) else None for j in range(len(new))]
    free: dict[Hashable, list[int]] = {}
    for i, item in enumerate(old):
        free.setdefault(key(item), []).append(i)
    found: list[int | None] = []
    for item in new:
        slots = free.get(key(item))
        found.append(slots.pop(0) if slots else None)
    if key is _scalar_key:
        return found
    unused = [i for slots in free.values() for i in slots]
    for j, item in enumerate(new):  # a renamed item (a group, a trust edge whose caller was renamed) continues
        if found[j] is None:  # its old self: a rename of one of its key fields explains every change (`_renamed`)
            was = next((i for i in sorted(unused) if _renamed(old[i], item)), None)
            if was is not None:
                found[j] = was
                unused.remove(was)
    return found


def _renamed(old: Any, new: Any) -> bool:
    """`new` is `old` with one key field (a name, a caller…) changed and every other field the same; for a
    resource (a document with `kind` and `metadata`), `renamed_document`."""
    if not isinstance(old, dict) or not isinstance(new, dict) or old.keys() != new.keys():
        return False
    if "kind" in new and isinstance(new.get("metadata"), dict):
        return renamed_document(old, new)
    differ = [k for k in new if _frozen(old[k]) != _frozen(new[k])]
    keys = [k for k in differ if any(k in fields for fields in _ITEM_KEYS)]
    if len(differ) == 1 and keys:
        return True
    return any(_renamed_throughout(old, new, key) for key in keys)  # e.g. an agent's edge to itself: both ends


def _renamed_throughout(old: dict[str, Any], new: dict[str, Any], key: str) -> bool:
    """`new` is `old` with the name in `key` replaced by the new one wherever it is written (an agent renamed
    with its endpoints at its own Service host, `renames.rename_agent`)."""
    before, after = old.get(key), new.get(key)
    if not isinstance(before, str) or not isinstance(after, str) or not before:
        return False
    return _frozen(_substituted(old, before, after)) == _frozen(new)


def _substituted(value: Any, before: str, after: str) -> Any:
    """`value` with every `before` in its strings written `after` (plain dicts and lists)."""
    if isinstance(value, dict):
        return {k: _substituted(v, before, after) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_substituted(v, before, after) for v in value]
    if isinstance(value, str):
        return value.replace(before, after)
    return value


def renamed_document(old: Any, new: Any) -> bool:
    """`new` is the resource `old` under another name: the same apiVersion, kind and namespace, every field but
    `metadata.name` the same, or the same once the old name is written anew wherever it was (an agent or
    Channel renamed in the Designer or with `edit rename-*`). Empty values count as absent: Studio writes
    `providedCapabilities: []` where a hand-written file left the key out."""

    def name(doc: Any) -> Any:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        return meta.get("name") if isinstance(meta, dict) else None

    was, now = name(old), name(new)
    if not isinstance(was, str) or not isinstance(now, str) or not was or was == now:
        return False
    after = _frozen(_pruned(new))
    return _frozen(_pruned(_substituted(old, was, now))) == after or _frozen(_pruned(_named(old, now))) == after


def _named(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """The document with `metadata.name` set to `name` (nothing else changed)."""
    return {**doc, "metadata": {**doc["metadata"], "name": name}}


def _pruned(value: Any) -> Any:
    """`value` without empty lists, mappings, strings and nulls (plain dicts and lists)."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, "", [], {})}
    if isinstance(value, list | tuple):
        return [_pruned(v) for v in value]
    return value


def _scalar_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool) or type(value).__name__ == "ScalarBoolean":
        return "bool"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int | float):
        return "number"  # 10 and 10.0 are the same position (`graph.with_positions` writes floats)
    return type(value).__name__


def _scalar_key(value: Any) -> Hashable:
    return (_scalar_kind(value), _frozen(value))


def _same_scalar(old: Any, new: Any) -> bool:
    return _scalar_kind(old) == _scalar_kind(new) and bool(old == new)


def _frozen(value: Any) -> Hashable:
    if isinstance(value, dict):
        return tuple((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, str):
        return str(value)
    return value if isinstance(value, Hashable) else repr(value)


def _masked(old: Any, new: Any) -> set[str]:
    """The parts of old values (in the same place) that the new document writes as ***."""
    if isinstance(old, dict) and isinstance(new, dict):
        return {part for key in old.keys() & new.keys() for part in _masked(old[key], new[key])}
    if isinstance(old, list) and isinstance(new, list):
        return {part for o, n in zip(old, new, strict=False) for part in _masked(o, n)}
    if isinstance(new, str) and MASK in new and old != new:
        return _masked_parts(old, new)
    return set()


def _masked_parts(old: Any, new: str) -> set[str]:
    """The words of an old value that its masked new value (holding ***) no longer has: the credential."""
    if not isinstance(old, str):
        return {str(old)} if old is not None and len(str(old)) >= _MIN_SECRET_CHARS else set()
    kept = set(re.findall(r"\w+", new))
    return {w for w in re.findall(r"\w+", old) if w not in kept and len(w) >= _MIN_SECRET_CHARS}
