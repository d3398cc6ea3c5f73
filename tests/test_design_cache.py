"""The disk cache of read designs and derived results: hits, misses, damage, concurrency, secrets, bounds."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lmos_studio.errors import DesignFileError
from lmos_studio.formats import design_cache, design_file, yamlio
from lmos_studio.formats.design_cache import DesignCache, DiskCache, load_design_cached, may_hold_secret
from lmos_studio.formats.design_file import load_design
from lmos_studio.model import Design
from tests.conftest import ACME
from tests.secret_design import api_key

AGENT = """\
apiVersion: lmos.eclipse/v1
kind: Agent
metadata:
  name: {name}
spec:
  description: version 1.10 stays text
  providedCapabilities:
    - name: billing
      version: 1.10.0
"""


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.entry"))


@pytest.fixture
def cache(tmp_path: Path) -> DesignCache:
    return DesignCache(tmp_path / "cache", 64 * 2**20)


def test_a_hit_is_the_same_read_without_parsing(
    cache: DesignCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_design_cached([ACME], cache=cache)
    assert len(entries(cache.folder)) == 1
    monkeypatch.setattr(design_file, "design_from_texts", lambda *a, **k: pytest.fail("parsed again"))
    second = load_design_cached([ACME], cache=cache)
    plain = load_design([ACME])
    assert second.design == plain.design == first.design
    assert (second.files, second.warnings, second.locations) == (plain.files, plain.warnings, plain.locations)
    [entry] = entries(cache.folder)
    assert second.design.__dict__.get("digest_cached") == first.design.digest()  # kept: no re-hashing
    assert first.design.digest() == design_cache.read_digest(entry.stem)  # from the files' key: no JSON dump


def test_the_digest_of_a_read_design_changes_with_its_files_and_with_edits(cache: DesignCache, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(AGENT.format(name="one"))
    one = load_design_cached([path], cache=cache).design
    assert load_design_cached([path], cache=cache).design.digest() == one.digest()  # the hit: the same key
    edited = one.replace(name="edited")
    assert edited.digest() != one.digest()  # an edit in the app: the content's own digest
    assert one.replace(name=one.name).digest() not in (edited.digest(), one.digest())  # same content: a miss only
    assert one.replace(name=one.name).digest() == load_design([path]).design.digest()
    path.write_text(AGENT.format(name="two"))
    assert load_design_cached([path], cache=cache).design.digest() not in (one.digest(), edited.digest())


def test_changed_bytes_are_a_miss(cache: DesignCache, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(AGENT.format(name="one"))
    assert load_design_cached([path], cache=cache).design.agents[0].name == "one"
    path.write_text(AGENT.format(name="two"))
    assert load_design_cached([path], cache=cache).design.agents[0].name == "two"
    assert len(entries(cache.folder)) == 2


def test_a_file_that_fails_to_read_is_never_cached(cache: DesignCache, tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata: [\n")
    with pytest.raises(DesignFileError) as cached_error:
        load_design_cached([path], cache=cache)
    with pytest.raises(DesignFileError) as plain_error:
        load_design([path])
    assert str(cached_error.value) == str(plain_error.value)
    assert entries(cache.folder) == []
    with pytest.raises(DesignFileError, match="no such file"):
        load_design_cached([tmp_path / "missing.yaml"], cache=cache)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-10] + b"x" * 10,  # flipped bytes: checksum
        lambda data: b"not a cache entry",
        lambda data: b"",
    ],
)
def test_a_damaged_entry_is_ignored_and_written_again(cache: DesignCache, damage: object) -> None:
    load_design_cached([ACME], cache=cache)
    [entry] = entries(cache.folder)
    entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    again = load_design_cached([ACME], cache=cache)
    assert again.design == load_design([ACME]).design
    assert cache.get(entry.stem) is not None  # rewritten whole


class _Boom:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo should-not-run",))


def test_an_entry_naming_another_class_or_function_is_refused(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 2**20)
    for value in (_Boom(), Design(), Path("x")):
        payload = design_cache._PICKLED + pickle.dumps((value,))
        cache.path("k").write_bytes(design_cache.FORMAT + __import__("hashlib").sha256(payload).digest() + payload)
        assert cache.get("k") is None  # no class allowed: only plain data loads
        assert not cache.path("k").exists()
    assert cache.put("k", {"plain": [1, 2.5, "x", b"y", None, True]})
    assert cache.get("k") == {"plain": [1, 2.5, "x", b"y", None, True]}


def _write_many(folder: str, rounds: int) -> None:
    cache = DesignCache(Path(folder), 64 * 2**20)
    result = load_design([ACME])
    for _ in range(rounds):
        assert cache.put("same", result)


def test_concurrent_writers_leave_one_whole_entry(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(folder), 5)) for _ in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    cache = DesignCache(folder, 64 * 2**20)
    found = cache.get("same")
    assert found is not None and found.design == load_design([ACME]).design
    assert [p.name for p in folder.iterdir()] == ["same.entry"]  # no temp files left behind


SECRETS = [
    ("env literal", "workload", "API_TOKEN", "s3cr3t-value"),
    ("url password", "uri", None, "https://user:hunter2@agent.example/a"),
    ("url token", "uri", None, "https://agent.example/a?access_token=abc"),
    ("a key named password", "extra", "password", "hunter2"),
    (
        "env bearer under an innocent name",
        "workload",
        "UPSTREAM_HEADER",
        '"Bearer eyJhbGciOiJIUzI1NiJ9.eyJ4IjoxfQ.s1g"',
    ),
    ("env sk- key under an innocent name", "workload", "LLM_FALLBACK", api_key("proj-0123456789abcdefghijKLMN")),
]


@pytest.mark.parametrize(("label", "where", "name", "value"), SECRETS)
def test_designs_that_may_hold_a_secret_are_never_written(
    cache: DesignCache, tmp_path: Path, label: str, where: str, name: str | None, value: str
) -> None:
    text = AGENT.format(name="a")
    if where == "extra":
        text = text.replace("spec:\n", f"spec:\n  {name}: {value}\n")
    studio = {
        "workload": f"    workload:\n      image: x\n      env:\n        - name: {name}\n          value: {value}\n",
        "uri": f"    endpoints:\n      - protocol: https\n        uri: {value}\n",
        "extra": "",
    }[where]
    if studio:
        text += (
            "---\napiVersion: studio.lmos.eclipse/v1alpha1\nkind: StudioDesign\nmetadata: {name: s}\n"
            f"spec:\n  agents:\n  - name: a\n{studio}"
        )
    path = tmp_path / "secret.yaml"
    path.write_text(text)
    result = load_design_cached([path], cache=cache)
    assert result.design == load_design([path]).design
    assert entries(cache.folder) == []
    assert design_cache.design_may_hold_secret(result.design)
    assert value not in "".join(p.read_text(errors="replace") for p in cache.folder.rglob("*") if p.is_file())


_WORDISH = st.sampled_from(
    [
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "api-key",
        "api_",
        "apikey",
        "credential",
        "private-key",
        "privatekey",
        "passw",
        "apapi",
        "tok",
        "Name",
        "key",
        "ref",
        "x",
        " ",
        ":",
        ": ",
        '"',
        "\n",
        "_",
        "-",
        ".",
    ]
)


def _secret_keys_by_definition(text: str) -> bool:
    """The key scan as first written: every match of the secret words (case-insensitive) from left to right,
    followed by the rest of a key, a colon and a value, in a key that does not name a Secret."""
    for match in design_cache._SECRET_NAME.finditer(text):
        end = design_cache._KEY_END.match(text, match.end())
        if end is None:
            continue
        start = match.start()
        while start > 0 and text[start - 1] in design_cache._KEY_CHARS:
            start -= 1
        if not design_cache._SECRET_REF.match(text[start : end.end()].split(":", 1)[0].strip().strip("\"'")):
            return True
    return False


@given(st.lists(_WORDISH | st.sampled_from(["PassWord", "API_KEY", "Token", "SecretName", "é", "\u212a"]), max_size=12))
@example(["é", "SecretName", ":", "password", ":", "password"])  # a match took in the next key (CI, session 21)
@example(["passwordSecretName", ":", "password", ":", "x"])
def test_the_key_scan_finds_what_its_definition_finds(parts: list[str]) -> None:
    """The scan searches each word start in C and looks at every key holding a secret word: the same answer as
    trying the pattern at every character, so the same designs are kept out of the cache."""
    text = "".join(parts)
    assert design_cache._secret_keys(text) == _secret_keys_by_definition(text)


def test_secret_references_and_plain_designs_are_cacheable() -> None:
    design = load_design([ACME]).design
    assert not may_hold_secret(design, [p.read_text() for p in sorted(ACME.rglob("*.yaml"))])
    assert not may_hold_secret(design, ["env:\n  - name: TOKEN\n    secretName: s\n    secretKey: k\n"])
    assert not may_hold_secret(design, ["description: tokens and passwords are explained here\n"])
    assert not design_cache.design_may_hold_secret(design)


def test_the_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path, 3000)
    for key in ("a", "b", "c"):
        assert cache.put(key, "x" * 800)
        os.utime(cache.path(key), (1000 + ord(key), 1000 + ord(key)))
    assert cache.get("a") is not None  # used: now the most recent
    assert cache.put("d", "x" * 800)
    assert sorted(p.stem for p in entries(tmp_path)) == ["a", "c", "d"]  # b was the least recently used
    assert not cache.put("huge", "x" * 5000)  # larger than the whole cache: not written


def test_size_zero_turns_the_cache_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = DesignCache(tmp_path / "off", 0)
    assert load_design_cached([ACME], cache=cache).design == load_design([ACME]).design
    assert not (tmp_path / "off").exists()


def test_keys_change_with_code_and_name() -> None:
    files = [("d.yaml", b"a: 1\n")]
    assert design_cache.cache_key(files) == design_cache.cache_key(list(files))
    assert design_cache.cache_key(files) != design_cache.cache_key([("e.yaml", b"a: 1\n")])
    assert design_cache.cache_key(files) != design_cache.cache_key(files, name="other")
    assert design_cache.derived_key("d", "lint") != design_cache.derived_key("d", "export")


def test_a_design_of_plain_data_is_kept_as_the_json_its_digest_hashes(cache: DesignCache, tmp_path: Path) -> None:
    plain = load_design([ACME])
    assert design_cache.json_exact(plain.design)
    load_design_cached([ACME], cache=cache)
    [entry] = entries(cache.folder)
    payload = entry.read_bytes()[len(design_cache.FORMAT) + 32 :]
    assert payload.startswith(design_cache._JSON)
    assert payload.endswith(plain.design.model_dump_json().encode())  # the digest's bytes, not a second dump
    hit = cache.get(entry.stem)
    assert hit is not None and hit.design == plain.design
    assert (hit.files, hit.warnings, hit.locations) == (plain.files, plain.warnings, plain.locations)
    assert hit.design.__dict__["digest_cached"] == plain.design.digest()
    assert hit.design.json_bytes() == plain.design.json_bytes()  # exact: dumps to the same bytes


def test_a_damaged_json_entry_with_a_right_checksum_is_refused(cache: DesignCache) -> None:
    for body in (b"2\n{}", b"x", b"9\n{}{}", b'44\n{"files": [], "warnings": [], "locations": {}}{"agents": 1}'):
        payload = design_cache._JSON + body
        entry = design_cache.FORMAT + __import__("hashlib").sha256(payload).digest() + payload
        cache.path("k").parent.mkdir(parents=True, exist_ok=True)
        cache.path("k").write_bytes(entry)
        assert cache.get("k") is None
        assert not cache.path("k").exists()


def test_a_design_with_numbers_that_keep_their_text_is_pickled(cache: DesignCache, tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(AGENT.format(name="a").replace("spec:\n", "spec:\n  weight: 1.50\n  nested: {a: [1]}\n"))
    plain = load_design([path])
    assert not design_cache.json_exact(plain.design)
    load_design_cached([path], cache=cache)
    [entry] = entries(cache.folder)
    assert entry.read_bytes()[len(design_cache.FORMAT) + 32 :].startswith(design_cache._PICKLED)
    hit = cache.get(entry.stem)
    assert hit is not None and hit.design == plain.design
    weight = hit.design.agents[0].spec_extras["weight"]
    assert isinstance(weight, yamlio.YamlFloat) and weight.text == "1.50"  # kept as written
    assert isinstance(hit.design.agents[0].spec_extras["nested"], yamlio.LineDict)


@pytest.mark.parametrize(
    ("free", "exact"),
    [
        ({"a": [1, 2.5, "x", None, True, {"b": []}]}, True),
        ({"a": yamlio.YamlFloat(1.5)}, False),
        ({"a": (1, 2)}, False),  # a tuple in free-form data reads back as a list
        ({"a": {1: "x"}}, False),  # a non-text key reads back as text
        ({"a": float("nan")}, False),
        ({"a": yamlio.LineDict()}, False),
    ],
)
def test_json_exact_says_whether_free_form_data_reads_back_the_same(free: dict[str, object], exact: bool) -> None:
    design = load_design([ACME]).design
    agent = design.agents[0].model_copy(update={"extras": free})
    assert design_cache.json_exact(design.replace(agents=(agent, *design.agents[1:]))) is exact
    assert design_cache.json_exact(design.replace(layout=free)) is exact
    assert design_cache.json_exact(design.replace(other_resources=(free,))) is exact


def test_synthetic_designs_read_back_from_json_exactly() -> None:
    from lmos_studio.synthetic import synthetic_design

    for seed in range(3):
        design = synthetic_design(60, 4, 4, 150, seed=seed)
        assert design_cache.json_exact(design)
        again = Design.from_json_bytes(design.json_bytes())
        assert again == design and again.json_bytes() == design.json_bytes() and again.digest() == design.digest()


def test_json_bytes_are_the_json_dump_and_a_fresh_design_is_digested_from_them() -> None:
    from lmos_studio.synthetic import synthetic_design

    for design in (load_design([ACME]).design, synthetic_design(30, 3, 3, 40, seed=9)):
        fresh = Design.model_validate(design.model_dump())  # no digest kept yet
        assert fresh.json_bytes() == design.model_dump_json().encode("utf-8")
        assert fresh.digest() == __import__("hashlib").sha256(design.model_dump_json().encode("utf-8")).hexdigest()
        fresh.keep_digest("read")
        assert fresh.json_bytes() == design.model_dump_json().encode("utf-8") and fresh.digest() == "read"


def test_a_miss_and_the_hit_after_it_have_one_digest(tmp_path: Path) -> None:
    cache = DesignCache(tmp_path / "cache", 64 * 2**20)
    first = load_design_cached([ACME], cache=cache)
    assert len(entries(cache.folder)) == 1  # written on the first read
    second = load_design_cached([ACME], cache=cache)
    assert second.design.digest() == first.design.digest()
    assert second.design == first.design  # a hit


def test_a_design_that_may_hold_a_secret_is_not_written_however_often_read(tmp_path: Path) -> None:
    cache = DesignCache(tmp_path / "cache", 64 * 2**20)
    path = tmp_path / "d.yaml"
    path.write_text(AGENT.format(name="a").replace("spec:\n", "spec:\n  apiKey: hunter2\n"))
    for _ in range(3):
        load_design_cached([path], cache=cache)
    assert not entries(cache.folder)
