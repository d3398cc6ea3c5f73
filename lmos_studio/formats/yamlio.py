"""YAML in and out for LMOS resources: line numbers for messages, scalars that keep their text, and
deterministic, alias-free output.

`yaml.safe_load` turns `version: 1.10` into the float 1.1 and timestamps into datetimes; here numbers keep
their original text (`text_of`) and timestamps stay strings. Hostile input (alias bombs, deep nesting,
huge files) becomes a `DesignFileError`, never a hang or a crash.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from lmos_studio.errors import DesignFileError

MAX_FILE_BYTES = 20 * 2**20  # larger files are refused: a design of 1 000 agents is ~1 MiB
MAX_ALIAS_REUSES = 100  # YAML anchors reused more often than this look like an alias bomb
MAX_DEPTH = 200  # nesting deeper than any manifest needs

_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper: type = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class LineDict(dict[Any, Any]):
    """A mapping that remembers the line of each key (1-based) and of itself."""

    line: int = 0
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.lines.get(key, self.line) if hasattr(self, "lines") else self.line


class LineList(list[Any]):
    """A sequence that remembers its line (1-based)."""

    line: int = 0


class YamlInt(int):
    """An int that remembers how it was written (`010`, `0x1F`)."""

    text: str


class YamlFloat(float):
    """A float that remembers how it was written (`1.10` stays `1.10`)."""

    text: str


def text_of(value: Any) -> str:
    """The value as the user wrote it: `1.10` → "1.10" (not "1.1"), True → "true"."""
    if isinstance(value, YamlInt | YamlFloat):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


class _Loader(_BaseLoader):  # type: ignore[misc]
    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.alias_reuses = 0
        self.depth = 0

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        if node in self.constructed_objects:
            self.alias_reuses += 1
            if self.alias_reuses > MAX_ALIAS_REUSES:
                raise yaml.constructor.ConstructorError(
                    None, None, f"more than {MAX_ALIAS_REUSES} alias references (alias bomb?)", node.start_mark
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nesting deeper than {MAX_DEPTH} levels", node.start_mark
                )
            return super().construct_object(node, deep=True)
        finally:
            self.depth -= 1


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark
            ) from exc
        if key in result:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> YamlInt:
    value = YamlInt(yaml.SafeLoader.construct_yaml_int(loader, node))
    value.text = node.value
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> YamlFloat:
    value = YamlFloat(yaml.SafeLoader.construct_yaml_float(loader, node))
    value.text = node.value
    return value


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)  # keep timestamps as text


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> str:
    """A file's text, refusing huge or non-UTF-8 files with a clear message."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise DesignFileError(
                f"file is {size / 2**20:.1f} MiB, more than the {max_bytes / 2**20:.0f} MiB limit; "
                "split the design into a folder of smaller files",
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
    """All documents of a YAML (or JSON) text; empty documents are dropped."""
    _check_depth(text, path)
    try:
        return [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "malformed YAML"
        raise DesignFileError(f"malformed YAML: {problem}; fix the syntax at that line", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise DesignFileError(f"malformed YAML: {exc}", path=path) from exc
    except RecursionError as exc:
        raise DesignFileError("nesting too deep to read", path=path) from exc


class _Dumper(_BaseDumper):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(data), style=style)


def _represent_number(dumper: yaml.SafeDumper, data: YamlInt | YamlFloat) -> yaml.ScalarNode:
    tag = "tag:yaml.org,2002:int" if isinstance(data, int) else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, data.text)


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.MappingNode:
    return dumper.represent_dict(data.items())  # keep insertion order


def _represent_tuple(dumper: yaml.SafeDumper, data: tuple[Any, ...]) -> yaml.SequenceNode:
    return dumper.represent_list(list(data))


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(LineDict, _represent_dict)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(tuple, _represent_tuple)
_Dumper.add_representer(LineList, _represent_tuple)
_Dumper.add_representer(YamlInt, _represent_number)
_Dumper.add_representer(YamlFloat, _represent_number)


def dump_documents(docs: list[Any]) -> str:
    """Deterministic multi-document YAML: keys in the order given, no aliases, block style."""
    return yaml.dump_all(
        docs,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        explicit_start=True,
    )


def dump(doc: Any) -> str:
    """One deterministic YAML document without the leading `---`."""
    return str(
        yaml.dump(doc, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=4096)
    )


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write a file so that a crash leaves either the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, _file_mode(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets the usual 0666 less the umask (mkstemp gives 0600)."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def iter_yaml_files(folder: Path) -> Iterator[Path]:
    """Every *.yaml / *.yml below a folder, recursively, in a stable order; hidden folders skipped."""
    for path in sorted(folder.rglob("*")):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
            yield path
