"""A disk cache of read designs, keyed by the bytes of their files: the second read of a design is fast.

Reading a 10 000-agent design (19 MB of YAML) costs seconds of CPU in any reader; its parsed, validated
`LoadResult` loads from this cache in a fraction of that. The key is the sha256 of the cache format, the
code that shapes a read design (the reading modules' own source, pydantic's version) and every file's path
and bytes, so an edited file, a moved file or a new Studio version is a miss, never a stale hit.

Entries live in `<data dir>/design-cache/` (`LMOS_STUDIO_DATA_DIR`), written atomically, at most
`LMOS_STUDIO_DESIGN_CACHE_MB` in all (the least recently used go first; 0 turns the cache off). Only designs
that were read without error are written; a design that may hold a secret (a literal environment value or a
key named like a password or token, a URL with user-info or a token parameter, a `Secret` resource) is never
written, so the cache holds nothing the user would not want copied.

Format: a magic line, the sha256 of the payload, then the payload, a pickle. Pickle is used because it
keeps the read objects exactly (numbers that remember their text, line numbers) at a fraction of the cost of
validating them again; it is loaded with an unpickler that resolves only the design's own data classes
(`_ALLOWED`), so an entry cannot name a function to call: a crafted file can at worst describe a design
(which is then what the page shows), never run code. A damaged or foreign entry (wrong magic, checksum,
class or shape) is ignored, deleted and written again after the design is read.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import pickle
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from lmos_studio import model
from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError
from lmos_studio.formats import design_file, yamlio
from lmos_studio.formats.design_file import LoadResult
from lmos_studio.redact import redact_text

FORMAT = b"lmos-studio design cache 1\n"
FOLDER = "design-cache"
SUFFIX = ".design"
# the modules whose code decides what a read design is: a change to any of them is a new key
_SHAPING = ("formats/yamlio.py", "formats/design_file.py", "formats/lmos.py", "formats/resource_fields.py",
            "formats/budgets.py", "model.py", "formats/design_cache.py")


def _allowed() -> dict[tuple[str, str], type]:
    classes: dict[tuple[str, str], type] = {
        (cls.__module__, cls.__qualname__): cls
        for cls in (LoadResult, yamlio.LineDict, yamlio.LineList, yamlio.YamlInt, yamlio.YamlFloat)
    }
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, model.Frozen) and value.__module__ == model.__name__:
            classes[(value.__module__, value.__qualname__)] = value
    return classes


_ALLOWED = _allowed()


class _Unpickler(pickle.Unpickler):
    """Resolves only the design's data classes: no function, no other class can be named by an entry."""

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a design class")
        return found



@functools.cache
def code_version() -> str:
    """sha256 of the reading code's source, pydantic's version and the cache format."""
    digest = hashlib.sha256(FORMAT)
    digest.update(pydantic.VERSION.encode())
    root = Path(model.__file__).parent
    for name in _SHAPING:
        digest.update(name.encode() + b"\0" + (root / name).read_bytes())
    return digest.hexdigest()


def cache_key(files: Sequence[tuple[str, bytes]], name: str | None = None) -> str:
    """The key of a design read from these (path as given, bytes) files."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(repr(name).encode())
    for path, data in files:
        digest.update(b"\0file\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


# --- secrets ------------------------------------------------------------------------------------------------

_SECRET_NAME = re.compile(r"(?i)passw(or)?d|pwd|secret|token|api[-_]?key|apikey|credential|private[-_]?key")
_SECRET_REF = re.compile(r"(?i)^secret[-_]?(name|key|key[-_]?ref|ref)$")  # names a Secret, holds no value
_KEY = re.compile(r"""^[ \t]*(?:-[ \t]+)?["']?([A-Za-z0-9_.-]+)["']?[ \t]*:[ \t]*(\S)?""", re.MULTILINE)


def may_hold_secret(design: model.Design, texts: Iterable[str]) -> bool:
    """Whether a design may hold a secret value (then it is never written to the cache).

    Deliberately broad: a literal environment value whose name looks secret, a `Secret` resource, a URL with
    user-info or a secret-looking query parameter anywhere in the files, a key named like a password, token or
    API key with a value on its line (`secretName`/`secretKey` only name a Secret and do not count)."""
    for agent in design.agents:
        if agent.workload is not None and any(
            env.value and _SECRET_NAME.search(env.name) for env in agent.workload.env
        ):
            return True
    if any(doc.get("kind") == "Secret" for doc in design.other_resources):
        return True
    for text in texts:
        if "://" in text and redact_text(text) != text:
            return True
        for match in _KEY.finditer(text):
            key, value = match.group(1), match.group(2)
            if value and _SECRET_NAME.search(key) and not _SECRET_REF.match(key):
                return True
    return False


# --- the cache ----------------------------------------------------------------------------------------------


@dataclass
class DesignCache:
    """Entries in `folder`, at most `max_bytes` in all (least recently used evicted first)."""

    folder: Path
    max_bytes: int

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> LoadResult | None:
        """The cached read, or None (missing, damaged or foreign entries are removed)."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        result = _decode(data)
        if result is None:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return result

    def put(self, key: str, result: LoadResult) -> bool:
        """Write an entry atomically (a reader sees the old entry, the new one or none); False if not written."""
        if self.max_bytes <= 0:
            return False
        result.design.digest()  # kept in the entry: a hit needs no re-hashing of the design
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        data = FORMAT + hashlib.sha256(payload).digest() + payload
        if len(data) > self.max_bytes:
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            yamlio.write_atomic(self.path(key), data)
            self.evict()
        except OSError:
            return False  # a read-only or full data dir only costs the next read its parse
        return True

    def evict(self) -> None:
        """Remove the least recently used entries until the folder holds at most `max_bytes`."""
        entries = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                path.unlink()
            total -= size


def _decode(data: bytes) -> LoadResult | None:
    head = len(FORMAT) + 32
    if len(data) < head or not data.startswith(FORMAT):
        return None
    payload = data[head:]
    if hashlib.sha256(payload).digest() != data[len(FORMAT) : head]:
        return None
    try:
        with yamlio.gc_paused():
            result = _Unpickler(io.BytesIO(payload)).load()
    except Exception:  # noqa: BLE001 - any damage or foreign content is a miss, never an error
        return None
    if not isinstance(result, LoadResult) or not isinstance(result.design, model.Design):
        return None
    return result


def default_cache() -> DesignCache:
    """The cache in the data dir, sized by `LMOS_STUDIO_DESIGN_CACHE_MB`."""
    settings = get_settings()
    return DesignCache(settings.data_dir / FOLDER, int(settings.design_cache_mb * 2**20))


def load_design_cached(
    paths: Sequence[str | Path], *, name: str | None = None, cache: DesignCache | None = None
) -> LoadResult:
    """`load_design(paths)`, from the cache when these files were read before (same bytes, same code).

    Errors are exactly `load_design`'s: anything unusual (a missing file, a huge or non-UTF-8 one) is left to it.
    Returns a result that may be shared: treat it as read-only (the design is frozen)."""
    cache = cache if cache is not None else default_cache()
    if cache.max_bytes <= 0:
        return design_file.load_design(paths, name=name)
    try:
        files = [(str(f), _read_bytes(f)) for f in design_file.design_files(paths)]
    except DesignFileError:
        return design_file.load_design(paths, name=name)  # its error, in its order
    key = cache_key(files, name)
    hit = cache.get(key)
    if hit is not None:
        return hit
    try:
        texts = [(path, _text(data)) for path, data in files]
    except UnicodeDecodeError:
        return design_file.load_design(paths, name=name)
    result = design_file.design_from_texts(texts, name=name)
    if not may_hold_secret(result.design, (text for _, text in texts)):
        cache.put(key, result)
    return result


def _text(data: bytes) -> str:
    """The text `Path.read_text` gives (UTF-8, universal newlines)."""
    text = data.decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _read_bytes(path: Path) -> bytes:
    try:
        if path.stat().st_size > yamlio.MAX_FILE_BYTES:
            raise DesignFileError("too large", path=str(path))
        return path.read_bytes()
    except OSError as exc:
        raise DesignFileError(f"cannot read: {exc.strerror}", path=str(path)) from exc
