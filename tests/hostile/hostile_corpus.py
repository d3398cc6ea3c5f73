"""The standing hostile corpus: one generator per class of hostile input (issue 11).

Each generator returns `Hostile` inputs: a file name and its bytes, and which kind of reader it targets
("design" YAML, "description" JSON/YAML, "zip", "csv"). Every entry point that reads such a file must end
with exit 2 (or a 4xx over HTTP) and a message, no traceback, within the memory limit, writing nothing
outside --out. Sizes are kept small enough for CI but large enough to show the class (the registry body cap
and the per-field budgets are far below them).
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

AGENT = """apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: {name}
spec:
  description: {description}
  supportedTenants: [acme]
  supportedChannels: [web]
  providedCapabilities:
    - name: view-bill
      version: {version}
      description: view a bill
      examples: {examples}
"""
CHANNEL = """apiVersion: lmos.eclipse/v1
kind: Channel
metadata:
  name: acme-web-stable
  labels: {{tenant: acme, channel: web, subset: stable, version: 1.0.0}}
spec:
  requiredCapabilities:
    - name: view-bill
      version: "{range}"
"""
TD_CONTEXT = "https://www.w3.org/2022/wot/td/v1.1"


@dataclass(frozen=True)
class Hostile:
    """One hostile input: `kind` says which readers it targets (design, description, zip, csv).

    `must_fail` False marks odd but legal input (an empty file, merge keys, a range no version can meet):
    any clean ending (exit 0, 1 or 2) is right, a traceback never is."""

    name: str
    kind: str
    data: bytes
    note: str
    must_fail: bool = True


def agent(
    *, name: str = "billing-agent", description: str = "bills", version: str = "1.0.0", examples: str = "[show my bill]"
) -> str:
    return AGENT.format(name=name, description=description, version=version, examples=examples)


def td(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "@context": TD_CONTEXT,
        "@type": "lmos:Agent",
        "title": "hostile",
        "lmos:capabilities": [{"name": "view-bill", "version": "1.0.0"}],
    }
    return {**base, **fields}


def _yaml(name: str, text: str, note: str, *, must_fail: bool = True) -> Hostile:
    return Hostile(name, "design", text.encode(), note, must_fail)


def _json(name: str, text: str, note: str) -> Hostile:
    return Hostile(name, "description", text.encode("utf-8", "surrogatepass"), note)


def non_finite() -> list[Hostile]:
    return [
        _json("nan.json", json.dumps(td(description=float("nan"))), "NaN in a TD"),
        _json("infinity.json", json.dumps(td(**{"lmos:weight": float("inf")})), "Infinity in a TD"),
        _json("overflow.json", json.dumps(td()).replace('"hostile"', '"hostile", "x": 1e999'), "1e999"),
        _yaml("inf.yaml", agent() + "  weight: .inf\n", "YAML .inf under spec"),
        _yaml("nan.yaml", agent() + "  weight: .nan\n", "YAML .nan under spec"),
    ]


def huge_integers() -> list[Hostile]:
    digits = "9" * 5000  # past Python's 4 300-digit int conversion limit
    return [
        _json("bigint.json", json.dumps(td()).replace('"hostile"', f'"hostile", "n": {digits}'), "5 000-digit int"),
        _yaml("bigint.yaml", agent() + f"  replicas: {digits}\n", "5 000-digit int in YAML"),
        _yaml("bigint-version.yaml", agent(version="1.0." + digits), "5 000-digit version"),
        _yaml(
            "bigint-range.yaml",
            agent() + "---\n" + CHANNEL.format(range="^" + digits + ".0.0"),
            "a range with a 5 000-digit number: matches nothing, as semver4j cannot parse it",
            must_fail=False,
        ),
    ]


def surrogates() -> list[Hostile]:
    return [
        _json("surrogate.json", json.dumps(td()).replace('"hostile"', '"a\\ud800"'), "lone surrogate in title"),
        _json("surrogate-key.json", json.dumps(td()).replace('"title"', '"\\udc00", "title"'), "surrogate key"),
        _yaml("surrogate.yaml", agent(description='"\\ud800"'), "surrogate escape in YAML"),
    ]


def alias_bombs() -> list[Hostile]:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):  # 9 aliases × 8 levels: 72 references, 9**8 = 43 million leaves
        refs = ", ".join(f"*a{i - 1}" for _ in range(9))
        levels.append(f"a{i}: &a{i} [{refs}]")
    laughs = agent() + "  lol:\n" + "".join(f"    {line}\n" for line in levels)
    many = "anchor: &x [1]\n" + "".join(f"k{i}: *x\n" for i in range(150))
    return [
        _yaml("billion-laughs.yaml", laughs, "9 aliases × 8 levels (under the reference cap)"),
        _yaml("alias-reuse.yaml", agent() + "---\n" + many, "150 alias references"),
        _yaml("recursive.yaml", agent() + "---\na: &a [*a]\n", "recursive alias"),
        _yaml("merge-keys.yaml", agent() + "---\nb: &b {k: v}\nc: {<<: [*b, *b, *b]}\n", "merge", must_fail=False),
    ]


def nesting() -> list[Hostile]:
    return [
        _yaml("deep.yaml", "a: " + "[" * 50_000 + "]" * 50_000 + "\n", "50 000 nested flow lists"),
        _yaml("deep-block.yaml", "".join("  " * i + f"k{i}:\n" for i in range(400)) + "  " * 400 + "v\n", "deep"),
        _json("deep.json", "[" * 100_000 + "]" * 100_000, "100 000 nested arrays"),
    ]


def tags_and_syntax() -> list[Hostile]:
    return [
        _yaml("python-object.yaml", "!!python/object/apply:os.system ['echo pwned']\n", "python tag"),
        _yaml("binary-tag.yaml", agent() + "  blob: !!binary aGVsbG8=\n", "!!binary"),
        _yaml("duplicate-key.yaml", agent() + "kind: Channel\n", "duplicate key"),
        _yaml("not-a-mapping.yaml", "- just\n- a list\n", "a list document"),
        _yaml("empty.yaml", "", "empty file: an empty design", must_fail=False),
        _yaml("separators.yaml", "---\n---\n...\n", "only document markers", must_fail=False),
        _yaml("tab-indent.yaml", "a:\n\t- b\n", "tab indentation"),
        Hostile("latin1.yaml", "design", "name: caf\xe9\n".encode("latin-1"), "not UTF-8"),
        Hostile("binary.yaml", "design", bytes(range(256)) * 4, "binary garbage"),
        Hostile("too-large.yaml", "design", b"# padding\n" * 2_200_000, "21 MiB file (over the 20 MiB cap)"),
        Hostile("nul.json", "description", b'{"title": "a\x00b"', "NUL byte, truncated JSON"),
    ]


def field_budgets() -> list[Hostile]:
    many_examples = json.dumps([f"example {i}" for i in range(5000)])
    caps = "".join(f"    - {{name: cap-{i}, version: 1.0.0}}\n" for i in range(2000))
    required = "".join(f"    - {{name: cap-{i}, version: '*'}}\n" for i in range(2000))
    return [
        _yaml("huge-description.yaml", agent(description="word " * 400_000), "2 MB agent description"),
        _yaml("many-examples.yaml", agent(examples=many_examples), "5 000 examples"),
        _yaml("long-example.yaml", agent(examples=json.dumps(["x " * 50_000])), "100 KB example"),
        _yaml(
            "many-capabilities.yaml",
            agent().split("  providedCapabilities:")[0] + "  providedCapabilities:\n" + caps,
            "2 000 caps",
        ),
        _json("huge-td-description.json", json.dumps(td(description="word " * 400_000)), "2 MB TD description"),
        _yaml(
            "many-requirements.yaml",
            CHANNEL.format(range="*").split("  requiredCapabilities:")[0] + "  requiredCapabilities:\n" + required,
            "channel requiring 2 000 capabilities",
        ),
        _yaml(
            "long-channel-label.yaml",
            CHANNEL.format(range="*").replace("tenant: acme", "tenant: " + "a" * 5000),
            "5 000-character label",
        ),
    ]


def annotations() -> list[Hostile]:
    """Agent resources whose Studio annotations (what `lmos-studio import` prints) are damaged."""

    def annotated(key: str, value: str) -> str:
        head = f"  annotations:\n    studio.lmos.eclipse/{key}: {json.dumps(value)}\n"
        return agent().replace("  name: billing-agent\n", "  name: billing-agent\n" + head)

    deep = "[" * 100_000 + "]" * 100_000
    return [
        _yaml("original-not-json.yaml", annotated("original", "{not json"), "original annotation: not JSON"),
        _yaml("original-deep.yaml", annotated("original", deep), "original annotation: 100 000 nested arrays"),
        _yaml(
            "original-deep-document.yaml",
            annotated("original", '{"format": "td", "document": {"a": ' + "[" * 500 + "]" * 500 + "}}"),
            "original annotation: a document nested 500 deep",
        ),
        _yaml(
            "original-bad-endpoint.yaml",
            annotated("original", '{"endpoints": [{"protocol": 7, "extra": 1}]}'),
            "original annotation: an endpoint of the wrong shape",
        ),
        _yaml("resource-fields-deep.yaml", annotated("resource-fields", deep), "resource-fields: 100 000 nested"),
        _yaml(
            "resource-fields-deep-value.yaml",
            annotated("resource-fields", '{"/spec/x": ' + "[" * 900 + "]" * 900 + "}"),
            "resource-fields: a value nested 900 deep",
        ),
    ]


def zips() -> list[Hostile]:
    def archive(entries: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=method) as handle:
            for name, data in entries:
                handle.writestr(name, data)
        return buffer.getvalue()

    good = agent().encode()
    corrupt = bytearray(archive([("agents/a.yaml", good * 20)]))
    start = 30 + len("agents/a.yaml") + 8  # past the local header: inside the deflate stream
    corrupt[start : start + 16] = b"\xff" * 16
    return [
        Hostile("corrupt-deflate.zip", "zip", bytes(corrupt), "corrupt deflate data"),
        Hostile("file-and-folder.zip", "zip", archive([("a.yaml", good), ("a.yaml/b.yaml", good)]), "file + folder"),
        Hostile("zip-slip.zip", "zip", archive([("../../evil.yaml", good)]), "zip slip"),
        Hostile("zip-bomb.zip", "zip", archive([("bomb.yaml", b"a" * 60 * 2**20)]), "60 MiB of one byte"),
        Hostile("not-a-zip.zip", "zip", b"PK\x03\x04 this is not a zip", "broken zip header"),
        Hostile("truncated.zip", "zip", archive([("a.yaml", good * 50)])[:-40], "truncated zip"),
    ]


def csvs() -> list[Hostile]:
    return [
        Hostile("huge-field.csv", "csv", b'text,agent\n"' + b"x" * (5 * 2**20) + b'",billing-agent\n', "5 MiB field"),
        Hostile("nul.csv", "csv", b"text,agent\nhello\x00,billing-agent\n", "NUL byte in a query", must_fail=False),
        Hostile("latin1.csv", "csv", "text,agent\ncaf\xe9,billing-agent\n".encode("latin-1"), "not UTF-8"),
        Hostile("no-header.csv", "csv", b"\n\n\n", "no header"),
        Hostile("unterminated.csv", "csv", b'text,agent\n"hello,billing-agent\n', "unterminated quote"),
    ]


GENERATORS: dict[str, Callable[[], list[Hostile]]] = {
    "non-finite": non_finite,
    "huge-integers": huge_integers,
    "surrogates": surrogates,
    "alias-bombs": alias_bombs,
    "nesting": nesting,
    "tags-and-syntax": tags_and_syntax,
    "field-budgets": field_budgets,
    "annotations": annotations,
    "zips": zips,
    "csvs": csvs,
}


def corpus() -> list[Hostile]:
    """Every hostile input of every class."""
    return [item for make in GENERATORS.values() for item in make()]
