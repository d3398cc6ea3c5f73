"""Save a design back into the folder of YAML files it was read from, each resource into the file it came from.

A changed resource is updated in its file, keeping the file's comments, key order and quoting (`roundtrip`, as
saving over one design file does); a removed one is removed from its file (a file left without documents keeps its
comments, with a note); a new one, and the Studio document when the folder has none and the design needs one, goes
into `ADDED_FILE` at the top of the folder (the notes name it and what went there). Resources are matched by
`roundtrip.document_key` (kind, namespace, name); a renamed one (`roundtrip.renamed_document`) stays in its file,
in place. A file whose documents did not change is not written, so its bytes stay. Documents the reader sets aside
(derived by an export: generated, previews) and earlier copies of a resource that a later file replaces (as a
second `kubectl apply` would) stay as they are written.

Before anything is written, the folder's design files are compared with their digests taken when the design was
read (`folder_digests`): a file changed, added or removed since refuses the save (`DesignChangedError`), naming it,
and nothing is written; the Designer's Save and the CLI's `edit` both pass them (`read_digests`). Each file is then
written atomically (temp file + rename), all of them or none: every file is staged beside its target before any is
renamed over it, so a full disk or a read-only folder leaves the folder as it was.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lmos_studio.errors import DesignChangedError, DesignFileError
from lmos_studio.formats import lmos, roundtrip
from lmos_studio.formats.design_file import (
    STUDIO_KIND,
    Saved,
    design_files,
    is_derived,
    masked_design,
    save_design,
)
from lmos_studio.formats.yamlio import dump_blocks, iter_yaml_files, load_documents, read_text, write_all_atomic
from lmos_studio.model import Design

ADDED_FILE = "studio-added.yaml"  # where a folder save writes resources that no file of the folder holds


@dataclass
class _File:
    """One design file of the folder as it is on disk: its text and documents, and the documents to write."""

    path: Path
    name: str  # relative to the folder, with '/' (the key of `folder_digests`)
    digest: str  # sha256 of its bytes as read
    text: str
    docs: list[Any]
    new: list[Any]


def folder_digests(folder: str | Path) -> dict[str, str]:
    """sha256 of each design file of the folder (the files reading it takes), by its path relative to the folder
    with '/': what `save_design_folder(expected=…)` compares the folder with."""
    root = Path(folder)
    return {_name(root, path): _digest(path.read_bytes()) for path in design_files([root])}


def save_design_folder(design: Design, folder: str | Path, *, expected: Mapping[str, str] | None = None) -> Saved:
    """Write `design` into the design folder `folder` (see the module); with `expected` (`folder_digests` as the
    design was read or last saved), refuse when a design file of the folder changed, appeared or went since."""
    root = Path(folder)
    files = _read(root)
    if expected is not None:
        _check_unchanged(root, files, expected)
    written = masked_design(design)
    added = _place(files, written.documents, design.name)
    notes = _added_notes(root, files, added)
    if added:
        files.append(_added_file(root, files, added))
    texts: dict[Path, str] = {}
    warnings: list[str] = []
    for file in files:
        text, notes_of_file = _text_of(file)
        warnings += notes_of_file
        if text != file.text:
            texts[file.path] = text
            if file.docs and not file.new:
                notes.append(f"{file.path}: holds no resource any more (its comments are kept); delete it if you like")
    _write(texts)
    digests = {f.name: _digest(texts[f.path].encode("utf-8")) if f.path in texts else f.digest for f in files}
    return Saved(root, warnings, written.warnings, files=list(texts), notes=notes, digests=digests)


def save_design_at(design: Design, path: str | Path, *, expected: Mapping[str, str] | None = None) -> Saved:
    """Save into a design folder when `path` is an existing folder (`save_design_folder`), else into the file
    `path` (`design_file.save_design`: over a hand-written design its comments are kept): what a command's
    `--out` does. With `expected` (`read_digests(path)` taken before the design was read from `path`), refuse
    (`DesignChangedError`, nothing written) when the file or any design file of the folder changed since."""
    if Path(path).is_dir():
        return save_design_folder(design, path, expected=expected)
    if expected is not None:
        check_file_unchanged(path, expected.get(Path(path).name))
    return save_design(design, path)


def _name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(root: Path) -> list[_File]:
    if not root.is_dir():
        raise DesignFileError("is not a folder", path=str(root))
    if not any(iter_yaml_files(root)):
        raise DesignFileError(
            "is a folder without a design (no *.yaml or *.yml files); save to a .yaml file", path=str(root)
        )
    files = []
    for path in design_files([root]):  # refuses a folder without *.yaml / *.yml: no design to save into
        try:
            digest = _digest(path.read_bytes())
        except OSError as exc:
            raise DesignFileError(f"cannot read: {exc.strerror}", path=str(path)) from exc
        text = read_text(path)
        files.append(_File(path, _name(root, path), digest, text, load_documents(text, path=str(path)), []))
    return files


def _check_unchanged(root: Path, files: list[_File], expected: Mapping[str, str]) -> None:
    """Refuse (`DesignChangedError`) when the folder's design files are not those of `expected`, byte for byte."""
    now = {f.name: f.digest for f in files}
    changed = [(n, "changed") for n in sorted(now) if n in expected and now[n] != expected[n]]
    changed += [(n, "is new") for n in sorted(set(now) - set(expected))]
    changed += [(n, "is gone") for n in sorted(set(expected) - set(now))]
    if changed:
        raise DesignChangedError(str(root), tuple(changed))


def file_digest(path: str | Path) -> str | None:
    """sha256 of a file's bytes; None when it cannot be read (missing: nothing there to lose)."""
    try:
        return _digest(Path(path).read_bytes())
    except OSError:
        return None


def check_file_unchanged(path: str | Path, expected: str | None) -> None:
    """Refuse (`DesignChangedError`) when the design file `path` is there with bytes other than those of digest
    `expected` (`file_digest` as the design was read or last saved); a file gone since is no loss (None: nothing
    known to compare with)."""
    now = file_digest(path)
    if expected is not None and now is not None and now != expected:
        raise DesignChangedError(str(path))


def read_digests(path: str | Path) -> dict[str, str]:
    """What saving into `path` compares the disk with (`save_design_at(expected=…)`), taken before the design is
    read: `folder_digests` of a design folder, else {the file's name: `file_digest`} ({} when it cannot be read)."""
    if Path(path).is_dir():
        return folder_digests(path)
    digest = file_digest(path)
    return {} if digest is None else {Path(path).name: digest}


def _is_single(doc: dict[str, Any]) -> bool:
    """A document the design holds once per key (an LMOS resource, the Studio document): a later one of its key
    replaces an earlier one on reading. Other resources are kept as a list, repeats included."""
    kind = doc.get("kind")
    return kind == STUDIO_KIND or (doc.get("apiVersion") == lmos.API_VERSION and kind in lmos.LMOS_KINDS)


def _place(files: list[_File], documents: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """Fill each file's `new` with its documents in their file order; return the documents no file holds."""
    wanted: dict[Hashable, list[dict[str, Any]]] = defaultdict(list)
    for doc in documents:
        wanted[roundtrip.document_key(doc)].append(doc)
    found: dict[Hashable, list[tuple[_File, int]]] = defaultdict(list)
    for file in files:
        for index, doc in enumerate(file.docs):
            if isinstance(doc, dict) and not is_derived(doc):
                found[roundtrip.document_key(doc)].append((file, index))
    _follow_renames(found, wanted)
    given: dict[tuple[str, int], dict[str, Any]] = {}
    for key, places in found.items():
        docs = wanted.get(key, [])
        if docs and _is_single(docs[0]):
            given.update({(f.name, i): f.docs[i] for f, i in places[:-1]})  # replaced on reading: kept as written
            places = places[-1:]
        pairs = zip(places, docs, strict=False)
        given.update({(f.name, i): roundtrip.namespaced_as(f.docs[i], doc) for (f, i), doc in pairs})
        if docs:
            wanted[key] = docs[len(places) :]  # the rest (in the design's order): into ADDED_FILE
    for file in files:
        file.new = [
            given.get((file.name, i), doc)
            for i, doc in enumerate(file.docs)
            if (file.name, i) in given or not isinstance(doc, dict) or is_derived(doc)
        ]
    added = [doc for docs in wanted.values() for doc in docs]
    return [doc for doc in added if not _needless_studio(doc, files, name)]


def _follow_renames(
    found: dict[Hashable, list[tuple[_File, int]]], wanted: dict[Hashable, list[dict[str, Any]]]
) -> None:
    """A resource renamed (an agent or Channel renamed in the Designer or with `edit rename-*`) stays where its
    old self is written: a new key that no file holds takes the place of an old key the design no longer has
    when the new document is the old one renamed (`roundtrip.renamed_document`)."""
    gone = [key for key, places in found.items() if not wanted.get(key) and len(places) == 1]
    for key in [k for k, docs in wanted.items() if k not in found and len(docs) == 1]:
        doc = wanted[key][0]
        was = next((g for g in gone if roundtrip.renamed_document(_doc(found[g][0]), doc)), None)
        if was is not None:
            found[key] = found.pop(was)
            gone.remove(was)


def _doc(place: tuple[_File, int]) -> Any:
    file, index = place
    return file.docs[index]


def _needless_studio(doc: dict[str, Any], files: list[_File], name: str) -> bool:
    """A Studio document with nothing in it for a folder without one that reads under the design's name (the
    name of its first file): the folder reads the same without it, so it is not added."""
    first = Path(files[0].name).stem if files else None
    return doc.get("kind") == STUDIO_KIND and not doc.get("spec") and name == first


def _added_file(root: Path, files: list[_File], added: list[dict[str, Any]]) -> _File:
    """`ADDED_FILE` with the documents no file holds appended (after its own, when it is there already)."""
    existing = next((f for f in files if f.name == ADDED_FILE), None)
    if existing is not None:
        files.remove(existing)
        existing.new += added
        return existing
    return _File(root / ADDED_FILE, ADDED_FILE, "", "", [], added)


def _added_notes(root: Path, files: list[_File], added: list[dict[str, Any]]) -> list[str]:
    if not added:
        return []
    what = ", ".join(_described(doc) for doc in added)
    note = f"{root / ADDED_FILE}: new in the folder: {what}"
    top = next((f for f in files if f.name in ("kustomization.yaml", "kustomization.yml")), None)  # kustomize's
    resources = next((d.get("resources") for d in top.docs if _lists_files(d)), None) if top is not None else None
    if top is not None and resources is not None and ADDED_FILE not in resources:
        note += f"; add {ADDED_FILE} to the resources of {top.path} for kubectl apply -k to apply them"
    return [note]


def _lists_files(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == "Kustomization" and isinstance(doc.get("resources"), list)


def _described(doc: dict[str, Any]) -> str:
    if doc.get("kind") == STUDIO_KIND:
        return f"the {STUDIO_KIND} document"
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    namespace = meta.get("namespace")
    return f"{doc.get('kind')} {namespace + '/' if namespace else ''}{meta.get('name')}"


def _text_of(file: _File) -> tuple[str, list[str]]:
    """The file's new text: as it is when its documents read the same, else its new documents in its layout
    (`roundtrip.merged_text`) when that reads back as them, else as Studio writes them (with a warning)."""
    if not file.new:
        return (_comments_only(file) if file.docs else file.text), []
    new, pieces = dump_blocks(file.new)
    if load_documents(new) == file.docs:
        return file.text, []
    if not file.text:
        return new, []
    merged = roundtrip.merged_text(file.text, new, pieces)
    if merged.text is not None and (merged.checked or _reads_alike(merged.text, new)):
        return merged.text, [f"{file.path}: {note}" for note in merged.notes]
    if merged.text is None and not merged.notes:
        return new, []  # no LMOS or Studio document in it: no design layout to keep
    why = merged.notes[0] if merged.notes else "keeping them would have changed the design"
    return new, [f"{file.path}: saved in Studio's own layout; the file's comments and key order were not kept: {why}"]


def _reads_alike(text: str, new: str) -> bool:
    """Whether a file's merged text reads as the same documents as Studio's rendering of them (a folder's file
    is no design by itself: its Studio document may name agents of other files)."""
    try:
        return roundtrip.same_documents(load_documents(text), load_documents(new))
    except DesignFileError:
        return False


def _comments_only(file: _File) -> str:
    """A file whose every document went: its comments above the first document, kept."""
    lines = file.text.splitlines(keepends=True)
    head = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            break
        head.append(line)
    return "".join(head)


def _write(texts: dict[Path, str]) -> None:
    """All the changed files or none (`write_all_atomic`: each staged beside its target, then renamed)."""
    try:
        write_all_atomic(texts)
    except OSError as exc:
        where = exc.filename or next(iter(texts), "")
        raise DesignFileError(f"cannot write: {exc.strerror}; nothing was written", path=str(where)) from exc
