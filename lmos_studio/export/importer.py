"""Read an export back as a design: a kustomize folder, a multi-document YAML or a zip from `kustomize.py`.

Generated documents (annotation `studio.lmos.eclipse/generated: "true"`, ChannelRouting previews, the
`Kustomization`) are dropped, since export regenerates them; one that differs from what the design generates
was edited by hand, and its edit would be lost: a warning names it (`hand_edits.py`), and so does one for an edited
kustomization.yaml of an export folder (`export_kustomizations` reads it). Everything else is read by
`load_design`, so hand-written manifests keep their extra labels, annotations, unmodelled fields and other kinds.
Zips are read defensively: no absolute or `..` paths, no links, limits on entries, (declared and actual)
sizes and how deep and long a path is, so a zip bomb is refused; members are copied to a private temporary
folder under names we checked.
"""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from lmos_studio.errors import DesignFileError
from lmos_studio.export.hand_edits import FoundKustomization, hand_edit_warnings
from lmos_studio.formats.design_file import (
    EXPORT_SKIPPED,
    EXPORT_STUDIO_PATH,
    LoadResult,
    design_from_upload,
    is_derived,
    load_design,
)
from lmos_studio.formats.yamlio import MAX_FILE_BYTES, YAML_SUFFIXES, load_documents, read_text, refuse_link_out
from lmos_studio.sizes import size_and_limit, size_text

MAX_ZIP_BYTES = 50 * 2**20  # the zip file itself
MAX_ZIP_ENTRIES = 20_000  # a 1 000-agent export with workloads and Istio has ~6 000 files
MAX_UNPACKED_BYTES = 200 * 2**20  # all members together, uncompressed
MAX_RATIO = 200  # uncompressed/compressed per member; YAML compresses ~10×, bombs ~1000×
MAX_MEMBER_DEPTH = 32  # folders in a member's path; an export's deepest file is <root>/policies/network/<ns>/<f>
MAX_MEMBER_PART_BYTES = 255  # one file or folder name (Linux NAME_MAX): a longer one cannot be unpacked
MAX_MEMBER_NAME_BYTES = 1024  # a whole member path: unpacked under the temp folder it stays below PATH_MAX (4096)


def is_generated(doc: dict[str, Any]) -> bool:
    """Whether the export generated this document (it is regenerated, so import drops it)."""
    return str(doc.get("kind")) == "Kustomization" or is_derived(doc)


def _without_generated(result: LoadResult, kustomizations: list[FoundKustomization] | None = None) -> LoadResult:
    """The design without generated documents, and a warning for each of those (and of `kustomizations`) edited
    by hand."""
    design = result.design
    result.design = design.replace(other_resources=tuple(d for d in design.other_resources if not is_generated(d)))
    edited = hand_edit_warnings(result.design, result.derived, kustomizations=kustomizations or ())
    result.warnings = [*result.warnings, *edited]
    return result


def export_kustomizations(folder: Path, files: Sequence[str], *, shown: str | None = None) -> list[FoundKustomization]:
    """The kustomization.yaml of `folder`, or of a folder in it, that is an export (holds studio/design.yaml: a
    zip's files are under one folder), with those of `files` (the files read, as `LoadResult.files` names them)
    that are in it; paths are shown relative to `folder` after `shown` when given (a zip's `zip!`)."""
    if not folder.is_dir():
        return []
    found = []
    for export in (folder, *sorted(folder.iterdir())):
        path = export / "kustomization.yaml"
        if export.is_dir() and (export / EXPORT_STUDIO_PATH).is_file() and path.is_file():  # none: none to lose
            where = str(path) if shown is None else shown + path.relative_to(folder).as_posix()
            found.append(_found_kustomization(path, where, _files_in(export, files)))
    return found


def _files_in(folder: Path, files: Sequence[str]) -> frozenset[str]:
    """Those of `files` in the export `folder` that are resources, '/'-separated and relative to it: not the Studio
    document, kustomization.yaml or previews (a zip's are read: its root is not the export)."""
    prefix = f"{folder}{os.sep}"
    inside = (file[len(prefix) :].replace(os.sep, "/") for file in files if file.startswith(prefix))
    studio = EXPORT_STUDIO_PATH.as_posix()
    return frozenset(path for path in inside if path != studio and path.split("/", 1)[0] not in EXPORT_SKIPPED)


def _found_kustomization(path: Path, where: str, files: frozenset[str]) -> FoundKustomization:
    try:
        docs = load_documents(read_text(path), path=where)
    except DesignFileError as exc:
        return FoundKustomization(where, problem=str(DesignFileError(exc.reason, path=where, line=exc.line)))
    return FoundKustomization(where, docs[0] if len(docs) == 1 else docs, files)


def import_manifests(path: str | Path) -> LoadResult:
    """A design from an exported folder, YAML file or zip (see module docstring)."""
    source = Path(path)
    if source.suffix.lower() == ".zip" and source.is_file():
        return _without_generated(*_load_zip(source))
    if source.is_dir():
        _refuse_links_out(source)
    result = load_design([source])
    return _without_generated(result, export_kustomizations(source, result.files))


def _refuse_links_out(folder: Path) -> None:
    """Refuse an export folder holding a symbolic link to a file or folder outside it (see
    `yamlio.refuse_link_out`), any file of it, not only those read as YAML, as a zip's link is refused."""
    root = folder.resolve()
    for path in sorted(folder.rglob("*")):
        refuse_link_out(path, folder, root=root, what="export folder")


def _member_name(info: zipfile.ZipInfo, zip_path: Path) -> PurePosixPath | None:
    name = info.filename
    where = f"member '{name}'"  # DesignFileError puts the zip's path in front
    pure = PurePosixPath(name)
    if "\\" in name or name.startswith("/") or pure.is_absolute() or ".." in pure.parts or ":" in name:
        raise DesignFileError(
            f"{where}: unsafe path (absolute, '..', drive or backslash); refusing the zip", path=str(zip_path)
        )
    if stat.S_ISLNK(info.external_attr >> 16):
        raise DesignFileError(f"{where}: is a symbolic link; refusing the zip", path=str(zip_path))
    if info.is_dir() or pure.suffix.lower() not in YAML_SUFFIXES:
        return None
    if any(part.startswith(".") for part in pure.parts):
        return None
    _check_name_size(info, pure, zip_path)  # only what is unpacked
    return pure


def _check_name_size(info: zipfile.ZipInfo, pure: PurePosixPath, zip_path: Path) -> None:
    """Refuse a member to unpack nested deeper, or named longer, than a file system unpacks (or an export ever has):
    unpacking it failed with "maximum recursion depth exceeded" or "File name too long … a file and a folder of the
    same name?", which told no one what was wrong."""
    shown = info.filename if len(info.filename) <= 80 else f"{info.filename[:60]}…{info.filename[-16:]}"
    where = f"member '{shown}'"
    if len(pure.parts) > MAX_MEMBER_DEPTH:
        raise DesignFileError(
            f"{where}: is nested {len(pure.parts) - 1} folders deep (at most {MAX_MEMBER_DEPTH - 1}); refusing the zip",
            path=str(zip_path),
        )
    longest = max((len(part.encode("utf-8")) for part in pure.parts), default=0)
    if longest > MAX_MEMBER_PART_BYTES or len(info.filename.encode("utf-8")) > MAX_MEMBER_NAME_BYTES:
        raise DesignFileError(
            f"{where}: its path is too long to unpack (a name of {longest} bytes, at most {MAX_MEMBER_PART_BYTES}; "
            f"the whole path at most {MAX_MEMBER_NAME_BYTES}); refusing the zip",
            path=str(zip_path),
        )


def _refuse_repeated(members: list[tuple[zipfile.ZipInfo, PurePosixPath]], zip_path: Path) -> None:
    """Refuse a zip holding one path twice: unpacking keeps the last copy, while a zip viewer or `unzip -l`
    reviewer may be shown the first, so what is imported would not be what was reviewed."""
    seen: set[PurePosixPath] = set()
    for info, name in members:
        if name in seen:
            raise DesignFileError(
                f"member '{info.filename}' is in the zip twice (one would silently replace the other, and a zip viewer "
                "may show the other one); refusing the zip",
                path=str(zip_path),
            )
        seen.add(name)


def _check_sizes(infos: list[zipfile.ZipInfo], zip_path: Path) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DesignFileError(
            f"has {len(infos)} entries, more than {MAX_ZIP_ENTRIES}; refusing the zip", path=str(zip_path)
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_UNPACKED_BYTES:
        unpacked, limit = size_and_limit(total, MAX_UNPACKED_BYTES)
        raise DesignFileError(
            f"would unpack to {unpacked}, more than {limit}; refusing the zip",
            path=str(zip_path),
        )
    for info in infos:
        if info.file_size > MAX_FILE_BYTES or info.file_size > MAX_RATIO * max(info.compress_size, 1) + 4096:
            raise DesignFileError(
                f"member '{info.filename}' unpacks to {info.file_size} bytes from "
                f"{info.compress_size} (zip bomb?); refusing the zip",
                path=str(zip_path),
            )


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, zip_path: Path) -> bytes:
    with archive.open(info) as handle:  # sizes in the directory can lie: never read past the limit
        data = handle.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise DesignFileError(
            f"member '{info.filename}' is not the size its header declares; refusing the zip",
            path=str(zip_path),
        )
    return data


def _load_zip(zip_path: Path) -> tuple[LoadResult, list[FoundKustomization]]:
    if zip_path.stat().st_size > MAX_ZIP_BYTES:
        raise DesignFileError(f"is larger than {size_text(MAX_ZIP_BYTES)}; refusing the zip", path=str(zip_path))
    try:
        with zipfile.ZipFile(zip_path) as archive, tempfile.TemporaryDirectory(prefix="lmos-import-") as tmp:
            infos = archive.infolist()
            _check_sizes(infos, zip_path)
            members = [(info, name) for info in infos if (name := _member_name(info, zip_path)) is not None]
            if not members:
                raise DesignFileError("has no *.yaml or *.yml files", path=str(zip_path))
            _refuse_repeated(members, zip_path)
            root = Path(tmp)
            for info, name in members:
                target = root.joinpath(*name.parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(_read_member(archive, info, zip_path))
            try:
                result = load_design([root], name=None)
            except DesignFileError as exc:
                inner = exc.path[len(tmp) + 1 :] if exc.path and exc.path.startswith(tmp) else exc.path
                raise DesignFileError(exc.reason, path=f"{zip_path}!{inner}", line=exc.line, field=exc.field) from exc
            kustomizations = export_kustomizations(root, result.files, shown=f"{zip_path}!")
            result.files = [f"{zip_path}!{f[len(tmp) + 1 :]}" for f in result.files]
            result.derived = [(f"{zip_path}!{where[len(tmp) + 1 :]}", doc) for where, doc in result.derived]
            return result, kustomizations
    except zipfile.BadZipFile as exc:
        raise DesignFileError(f"not a valid zip file ({exc})", path=str(zip_path)) from exc
    except (zipfile.LargeZipFile, NotImplementedError, RuntimeError) as exc:
        raise DesignFileError(f"cannot read the zip ({exc})", path=str(zip_path)) from exc
    except (zlib.error, EOFError) as exc:  # corrupt deflate data or a truncated member
        raise DesignFileError(
            f"a member's compressed data is corrupt ({exc}); refusing the zip", path=str(zip_path)
        ) from exc
    except OSError as exc:  # e.g. a file and a folder of the same name, or an unwritable temp folder
        raise DesignFileError(
            f"cannot unpack the zip ({exc.strerror or exc}); does it hold a file and a folder of the same name?",
            path=str(zip_path),
        ) from exc


def import_upload(name: str, data: bytes, *, max_bytes: int) -> LoadResult:
    """An uploaded design file or export zip (the Export page's "compare with"), generated documents dropped."""
    if not name.lower().endswith(".zip"):
        return _without_generated(design_from_upload(name, data, max_bytes=max_bytes))
    if len(data) > (limit := min(max_bytes, MAX_ZIP_BYTES)):
        size, most = size_and_limit(len(data), limit)
        raise DesignFileError(
            f"is {size}; zips over {most} are refused (set LMOS_STUDIO_MAX_UPLOAD_MB to raise the limit)", path=name
        )
    with tempfile.TemporaryDirectory(prefix="lmos-upload-") as tmp:
        path = Path(tmp) / "upload.zip"
        path.write_bytes(data)
        try:
            result = _without_generated(*_load_zip(path))
        except DesignFileError as exc:
            reason = str(exc).replace(str(path), name)
            raise DesignFileError(reason) from exc
        result.warnings = [w.replace(str(path), name) for w in result.warnings]
        return result
