"""Versions and ranges: the LMOS.md §1.7 conformance table, spot checks and orderings, the strict-SemVer
rejects, corner cases read from semver4j's processors, and Hypothesis properties of the ordering."""

from __future__ import annotations

import dataclasses
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmos_studio.errors import VersionError
from lmos_studio.versions import (
    INT_MAX,
    Comparator,
    Range,
    Version,
    is_strict_semver,
    parse_range,
    parse_version,
    range_subsumes,
    satisfies,
)

# LMOS.md §1.7, one entry per row: range spellings, normalised form, versions in, versions out
TABLE: list[tuple[tuple[str, ...], str, tuple[str, ...], tuple[str, ...]]] = [
    (("1.0.0", "=1.0.0"), "=1.0.0", ("1.0.0", "v1.0.0", "1.0.0+b.7"), ("1.0.1", "0.9.9", "1.0.0-rc.1")),
    ((">= 1.0.0",), ">=1.0.0", ("1.0.0", "1.5.0", "10.0.0"), ("0.9.9", "1.0.0-rc.1", "2.0.0-alpha")),
    (("1.0",), ">=1.0.0 <1.1.0", ("1.0.0", "1.0.1", "1.0.99"), ("0.9.9", "1.1.0", "1.0.1-rc.1")),
    (("1", "1.X", "~1"), ">=1.0.0 <2.0.0", ("1.0.0", "1.9.9"), ("0.9.9", "2.0.0", "1.5.0-beta")),
    (("1.2.x", "1.2.*", "~1.2"), ">=1.2.0 <1.3.0", ("1.2.0", "1.2.9"), ("1.1.9", "1.3.0")),
    (("~1.2.3",), ">=1.2.3 <1.3.0", ("1.2.3", "1.2.10"), ("1.2.2", "1.3.0")),
    (("^1.2.3",), ">=1.2.3 <2.0.0", ("1.2.3", "1.9.0"), ("1.2.2", "2.0.0", "1.2.3-beta")),
    (("^0.2.5",), ">=0.2.5 <0.3.0", ("0.2.5", "0.2.9"), ("0.2.4", "0.3.0")),
    (("^0.0.4",), ">=0.0.4 <0.0.5", ("0.0.4",), ("0.0.3", "0.0.5")),
    (("*", "", "latest", "latest.integration"), ">=0.0.0", ("0.0.0", "1.2.3", "999.0.0"), ("1.2.3-beta",)),
    ((">=1.0.0 <2.0.0",), ">=1.0.0 <2.0.0", ("1.0.0", "1.9.9"), ("0.9.9", "2.0.0")),
    (("[1.0,2.0]",), ">=1.0.0 <=2.0.0", ("1.0.0", "2.0.0"), ("0.9.9", "2.0.1")),
    (("[1.0,2.0[",), ">=1.0.0 <2.0.0", ("1.0.0", "1.9.9"), ("0.9.9", "2.0.0")),
    (("]1.0,2.0]",), ">1.0.0 <=2.0.0", ("1.0.1", "2.0.0"), ("1.0.0", "2.0.1")),
    (("]1.0,2.0[",), ">1.0.0 <2.0.0", ("1.0.1", "1.9.9"), ("1.0.0", "2.0.0")),
    (("[1.0,)",), ">=1.0.0", ("1.0.0", "99.0.0"), ("0.9.9",)),
    (("]1.0,)",), ">1.0.0", ("1.0.1", "99.0.0"), ("1.0.0",)),
    (("(,2.0]",), "<=2.0.0", ("0.0.0", "2.0.0"), ("2.0.1",)),
    (("(,2.0[",), "<2.0.0", ("0.0.0", "1.9.9"), ("2.0.0",)),
    (("1.0.0 - 2.0.0",), ">=1.0.0 <2.0.1", ("1.0.0", "2.0.0"), ("0.9.9", "2.0.1", "2.0.1-alpha")),
    (("1.0.0 || 2.0.0",), "=1.0.0 || =2.0.0", ("1.0.0", "2.0.0"), ("1.5.0", "0.9.9")),
    (("garbage",), "", (), ("0.0.0", "1.0.0", "1.0.0-rc.1")),
]
ROWS = [(text, normal, ins, outs) for texts, normal, ins, outs in TABLE for text in texts]
ROW_IDS = [repr(text) for text, *_ in ROWS]


@pytest.mark.parametrize(("text", "normalized", "ins", "outs"), ROWS, ids=ROW_IDS)
def test_table_row(text: str, normalized: str, ins: tuple[str, ...], outs: tuple[str, ...]) -> None:
    parsed = parse_range(text)
    assert parsed.normalized == normalized
    assert parsed.text == text
    assert parsed.matches_nothing is (normalized == "")
    assert [v for v in ins if not satisfies(v, text)] == []
    assert [v for v in outs if satisfies(v, text)] == []


def test_garbage_has_no_sets() -> None:
    assert parse_range("garbage").sets == ()


@pytest.mark.parametrize("text", [text for text, *_ in ROWS], ids=ROW_IDS)
def test_build_and_leading_v_behave_like_the_plain_version(text: str) -> None:
    plain = satisfies("1.2.3", text)
    assert satisfies("1.2.3+build.7", text) is plain
    assert satisfies("v1.2.3", text) is plain


@pytest.mark.parametrize("text", [">=1.0.0", "*", "^1.2.3"])
def test_pre_release_excluded_without_a_pre_release_comparator(text: str) -> None:
    assert not satisfies("1.2.3-beta", text)


def test_pre_release_admitted_by_a_pre_release_comparator_on_the_same_core() -> None:
    assert satisfies("1.2.3-beta", ">=1.2.3-alpha")
    assert satisfies("1.2.3-beta", ">=1.2.3-alpha <1.2.4")
    assert not satisfies("1.2.4-alpha", ">=1.2.3-alpha")  # another MAJOR.MINOR.PATCH
    assert not satisfies("1.2.3-alpha", ">=1.2.3-beta")  # the comparison itself still applies
    assert satisfies("1.2.3-beta", "^1.2.3-alpha")


def test_spot_checks() -> None:
    assert satisfies("2.0.0", "[1.0,2.0]")
    assert satisfies("2.0.0", "1.0.0 - 2.0.0")
    assert not satisfies("2.0.0", "^1.2.3")
    assert satisfies("1.0.1", "1.0")
    assert not satisfies("1.1.0", "1.0")


@pytest.mark.parametrize(
    ("lower", "higher"),
    [
        ("1.2.3-beta", "1.2.3"),
        ("1.2.3-beta.2", "1.2.3-beta.10"),
        # SemVer 2.0 §11 example chain
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
        ("1.0.0-alpha.beta", "1.0.0-beta"),
        ("1.0.0-beta", "1.0.0-beta.2"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("1.0.0-beta.11", "1.0.0-rc.1"),
        ("1.0.0-rc.1", "1.0.0"),
        ("1.0.0", "2.0.0"),
        ("2.0.0", "2.1.0"),
        ("2.1.0", "2.1.1"),
        ("1.9.0", "1.10.0"),
        ("1.0.0-1", "1.0.0-a"),  # numeric identifiers are lower than alphanumeric ones
    ],
)
def test_ordering(lower: str, higher: str) -> None:
    low, high = parse_version(lower), parse_version(higher)
    assert low < high and high > low and low <= high and high >= low and low != high


def test_build_metadata_is_ignored_for_equality_and_hash() -> None:
    plain, built = parse_version("1.2.3"), parse_version("1.2.3+build.7")
    assert plain == built and hash(plain) == hash(built)
    assert not plain < built and not built < plain
    assert str(built) == "1.2.3+build.7" and built.build == ("build", "7")
    assert len({plain, built}) == 1


def test_parsed_fields_and_canonical_text() -> None:
    version = parse_version(" v1.2.3-alpha.10.x-y+sha.5 ")
    assert version == Version(1, 2, 3, ("alpha", 10, "x-y"), ("sha", "5"))
    assert str(version) == "1.2.3-alpha.10.x-y+sha.5"
    assert version.core == (1, 2, 3)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("1.0", "1.0.0"),
        ("1", "1.0.0"),
        ("01.0.0", "1.0.0"),
        ("1.02.3", "1.2.3"),
        ("V1.0.0", "1.0.0"),
        ("=1.0.0", "1.0.0"),
        ("1.0-beta", "1.0.0-beta"),
    ],
)
def test_strict_rejects_with_a_suggestion(text: str, suggestion: str) -> None:
    assert not is_strict_semver(text)
    with pytest.raises(VersionError) as caught:
        parse_version(text)
    assert str(caught.value) == f"{text!r} is not strict SemVer (MAJOR.MINOR.PATCH); write {suggestion!r}"
    assert caught.value.value == text


@pytest.mark.parametrize(
    "text", ["", "1.0.0.0", "1.0.0-", "1.0.0-01", "1.0.0+", "a.b.c", "1.0.x", ">=1.0.0", "1.0.0 - 2.0.0", "-1.0.0"]
)
def test_strict_rejects_without_a_suggestion(text: str) -> None:
    assert not is_strict_semver(text)
    with pytest.raises(VersionError, match=r"is not strict SemVer \(MAJOR.MINOR.PATCH\); write e.g. '1.0.0'"):
        parse_version(text)


def test_numbers_beyond_a_java_int_are_rejected() -> None:
    assert is_strict_semver(f"{INT_MAX}.0.0")
    assert not is_strict_semver(f"{INT_MAX + 1}.0.0")
    with pytest.raises(VersionError, match="2147483648 is larger than 2147483647"):
        parse_version("1.2147483648.0")


def test_a_yaml_float_is_rejected_with_advice() -> None:
    with pytest.raises(VersionError, match="is a float, not a string; quote the version"):
        parse_version(1.1)  # lru_cache hides the str annotation; YAML floats do reach here


@pytest.mark.parametrize(
    "text",
    [
        "1.2.3",
        "v1.2.3",
        " 1.2.3\t",
        "0.0.0",
        "1.2.3-alpha.1+build.5",
        "1.0.0-0A.is.legal",
        "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
    ],
)
def test_strict_accepts(text: str) -> None:
    assert is_strict_semver(text)
    assert str(parse_version(text)) == text.strip().removeprefix("v")


def test_satisfied_by_a_non_strict_string_raises() -> None:
    with pytest.raises(VersionError, match=r"write '1\.1\.0'"):
        satisfies("1.1", ">=1.0.0")
    with pytest.raises(VersionError):
        parse_range(">=1.0.0").satisfied_by("garbage")


# Corner cases decided by reading semver4j's processors (see the module docstring)
CORNERS = [
    (">=1.0", ">=1.0.0"),  # X-range with an operator pads with zeros
    ("<2", "<2.0.0"),
    (">1.2", ">=1.3.0"),  # ">" excludes the whole 1.2.x
    (">1", ">=2.0.0"),
    ("<=1.2", "<1.3.0"),  # "<=" includes the whole 1.2.x
    ("<=1", "<2.0.0"),
    ("=1.2", ">=1.2.0 <1.3.0"),  # "=" with an X-range is the plain X-range
    ("1.2 <1.2.8", ">=1.2.0 <1.3.0 <1.2.8"),
    ("^1.x", ">=1.0.0 <2.0.0"),
    ("^0.x", ">=0.0.0"),  # semver4j 6.0.0 writes "<0.-1.0", which is dropped (tests/test_semver4j_caret.py)
    ("^0.0", ">=0.0.0 <0.0.0"),  # semver4j 6.0.0: nothing satisfies it
    ("^0.0.x", ">=0.0.0 <0.0.0"),
    ("^1.2.3-beta.1", ">=1.2.3-beta.1 <2.0.0"),
    ("^0.0.4-rc", ">=0.0.4-rc <0.0.5"),
    ("^1.2.3+build", ">=1.2.3 <2.0.0"),
    ("^ 1.2.3", ">=1.2.3 <2.0.0"),  # the X-range pattern allows spaces after the caret
    ("~1.2.x", ">=1.2.0 <1.3.0"),
    ("~>1.2", ">=1.2.0 <1.3.0"),
    ("~0", ">=0.0.0 <1.0.0"),
    ("~1.2.3-rc.1", ">=1.2.3-rc.1 <1.3.0"),
    ("1.2.+", ">=1.2.0 <1.3.0"),  # "+" is an X like Ivy's
    ("1.0.0 - 2.0", ">=1.0.0 <2.1.0"),
    ("1.0 - 2", ">=1.0.0 <3.0.0"),
    ("1.0.0-rc.1 - 2.0.0", ">=1.0.0-rc.1 <2.0.1"),
    ("1.0.0 - 2.0.0-rc.1", ">=1.0.0 <=2.0.0-rc.1"),  # a pre-release upper bound stays inclusive
    ("[1.0.0,2.0.0]", ">=1.0.0 <=2.0.0"),
    ("[1,2]", ">=1.0.0 <=2.0.0"),
    ("[1.0,2.0)", ">=1.0.0"),  # Maven style: IvyProcessor keeps only the lower bound
    ("(1.0,2.0]", "<=2.0.0"),  # ... and here only the upper one
    ("(1.0,2.0)", ""),  # returned unchanged, then dropped
    ("[,2.0]", "<=2.0.0"),  # the missing lower bound becomes -1.0.0, which is dropped
    ("^1.2.3 <1.5.0", "<1.5.0"),  # caret only as a whole section; the X-range step drops "^1.2.3"
    (">=1.0.0 garbage", ">=1.0.0"),
    ("garbage || 1.0.0", "=1.0.0"),  # an empty set is not added, so it does not match everything
    ("|| 1.0.0", ">=0.0.0 || =1.0.0"),  # an empty section is "all versions"
    ("1.0.0 || || 2.0.0", "=1.0.0 || >=0.0.0 || =2.0.0"),
    ("1.0.0 ||", "=1.0.0"),  # Java's split drops trailing empty strings
    ("||", ""),
    ("==1.0.0", ""),
    ("> = 1.0.0", ">=1.0.0"),
    ("v1.2.3", "=1.2.3"),
    ("1.2.3+build", "=1.2.3+build"),
    ("  ^1.2.3\t", ">=1.2.3 <2.0.0"),
    (">x", ">=0.0.0"),
    (">=*", ""),
    ("x", "<0.0.0"),  # "*" is all versions but "x" becomes >=-1.0.0 (dropped) <0.0.0
    ("01.0.0", ""),
    ("99999999999.0.0 || 1.0.0", "=1.0.0"),  # semver4j would throw; we drop the token
]


@pytest.mark.parametrize(("text", "normalized"), CORNERS, ids=[repr(t) for t, _ in CORNERS])
def test_semver4j_corner_case(text: str, normalized: str) -> None:
    assert parse_range(text).normalized == normalized


def test_build_in_a_range_is_ignored_when_comparing() -> None:
    assert satisfies("1.2.3", "1.2.3+build")
    assert satisfies("1.2.3+other", "=1.2.3+build")


def test_x_matches_nothing_although_it_keeps_a_comparator() -> None:
    parsed = parse_range("x")
    assert parsed.matches_nothing and parsed.sets
    assert not satisfies("0.0.0", "x")
    assert not parse_range("<0.0.0 || >=1.0.0-rc.1 <1.0.0").matches_nothing


def test_parse_range_is_cached_and_never_raises() -> None:
    assert parse_range(">=1.0.0") is parse_range(">=1.0.0")
    for text in ["[", "]", "(,)", "^", "~", "-", " - ", "1.0.0 -", "||||", ">", "<=", "[a,b]", "\x00"]:
        assert isinstance(parse_range(text), Range)


def test_comparator_api() -> None:
    comparator = Comparator(">=", parse_version("1.0.0"))
    assert str(comparator) == ">=1.0.0" and comparator.matches(parse_version("1.0.1"))
    assert parse_range(">=1.0.0").sets == ((comparator,),)
    with pytest.raises(ValueError, match="unknown comparator operator"):
        Comparator("~", parse_version("1.0.0"))


def test_satisfied_by_accepts_a_version() -> None:
    assert parse_range("^1.2.3").satisfied_by(Version(1, 4, 0))
    assert satisfies(Version(1, 4, 0), "^1.2.3")


@pytest.mark.parametrize(
    ("wider", "narrower", "expected"),
    [
        (">=1.0.0", "^1.2.3", True),
        ("^1.2.3", ">=1.0.0", False),
        ("1.x", "~1.2", True),
        ("~1.2", "1.x", False),
        ("[1.0,2.0]", "1.0.0 - 2.0.0", True),  # <=2.0.0 and <2.0.1 hold the same releases
        ("1.0.0 - 2.0.0", "[1.0,2.0]", True),
        (">=1.0.0 <1.5.0 || >=1.5.0 <2.0.0", "^1.2.3", True),
        ("1.0.0 || 1.0.1", ">=1.0.0 <=1.0.1", True),  # no release between 1.0.0 and 1.0.1
        ("1.0.0 || 1.0.2", ">=1.0.0 <=1.0.2", False),
        ("*", "garbage", True),
        ("garbage", "1.0.0", False),
        (">=1.0.0-rc.1", "^1.0.0", True),
        ("1.0.0", ">=2.0.0-alpha", False),
        (">=1.0.0", ">=1.2.3-alpha", None),  # only pre-releases could decide
        ("*", "=1.0.0-beta", None),
        ("^1.0.0", "^1.0.0", True),
    ],
)
def test_range_subsumes(wider: str, narrower: str, expected: bool | None) -> None:
    assert range_subsumes(wider, narrower) is expected


# --- Hypothesis properties ------------------------------------------------------------------------------

PROPERTY = settings(database=None, max_examples=300)  # no .hypothesis folder in the working tree
ALNUM = st.from_regex(r"[0-9A-Za-z-]{0,3}[A-Za-z-][0-9A-Za-z-]{0,3}", fullmatch=True)
NAMED_IDS = st.sampled_from(["alpha", "beta", "rc", "a1", "1a", "-", "0a"])
PRE_IDS = st.one_of(st.integers(0, 12), NAMED_IDS, ALNUM)
BUILD_IDS = st.from_regex(r"[0-9A-Za-z-]{1,4}", fullmatch=True)
SMALL = st.integers(0, 3)  # small parts so that equal cores, and so pre-release comparisons, are common


def versions(parts: st.SearchStrategy[int] = SMALL) -> st.SearchStrategy[Version]:
    return st.builds(
        Version,
        parts,
        parts,
        parts,
        st.lists(PRE_IDS, max_size=3).map(tuple),
        st.lists(BUILD_IDS, max_size=2).map(tuple),
    )


def spec_compare(a: str, b: str) -> int:
    """SemVer 2.0 §11 precedence, written independently on the text of two versions."""
    core_a, _, pre_a = a.split("+")[0].partition("-")
    core_b, _, pre_b = b.split("+")[0].partition("-")
    nums_a, nums_b = [int(p) for p in core_a.split(".")], [int(p) for p in core_b.split(".")]
    if nums_a != nums_b:
        return -1 if nums_a < nums_b else 1
    if not pre_a or not pre_b:
        return (not pre_a) - (not pre_b)
    for x, y in zip(pre_a.split("."), pre_b.split("."), strict=False):
        if x != y:
            return identifier_compare(x, y)
    return (len(pre_a.split(".")) > len(pre_b.split("."))) - (len(pre_a.split(".")) < len(pre_b.split(".")))


def identifier_compare(x: str, y: str) -> int:
    if x.isdigit() and y.isdigit():
        return (int(x) > int(y)) - (int(x) < int(y))
    if x.isdigit() or y.isdigit():
        return -1 if x.isdigit() else 1
    return (x > y) - (x < y)


def ordering_sign(a: Version, b: Version) -> int:
    return (a > b) - (a < b)


@PROPERTY
@given(versions(), versions())
def test_ordering_is_semver_precedence(a: Version, b: Version) -> None:
    assert ordering_sign(a, b) == spec_compare(str(a), str(b))
    assert [a < b, a == b, a > b].count(True) == 1
    assert (a <= b) == (a < b or a == b) and (a >= b) == (a > b or a == b)


@PROPERTY
@given(versions(), versions(), versions())
def test_ordering_is_transitive(a: Version, b: Version, c: Version) -> None:
    low, mid, high = sorted([a, b, c])
    assert low <= mid <= high and low <= high
    if a <= b and b <= c:
        assert a <= c


@PROPERTY
@given(versions(), versions())
def test_ordering_is_antisymmetric(a: Version, b: Version) -> None:
    if a <= b and b <= a:
        assert a == b and hash(a) == hash(b)


@PROPERTY
@given(versions(), st.lists(BUILD_IDS, max_size=2).map(tuple), versions())
def test_build_metadata_is_ignored(a: Version, build: tuple[str, ...], other: Version) -> None:
    rebuilt = dataclasses.replace(a, build=build)
    assert rebuilt == a and hash(rebuilt) == hash(a)
    assert ordering_sign(rebuilt, other) == ordering_sign(a, other)


@PROPERTY
@given(versions(st.integers(0, INT_MAX)))
def test_parse_of_str_is_identity(version: Version) -> None:
    parsed = parse_version(str(version))
    assert parsed == version and str(parsed) == str(version) and parsed.build == version.build
    assert is_strict_semver(str(version))


@PROPERTY
@given(versions(st.integers(0, INT_MAX)))
def test_release_satisfies_its_own_text(version: Version) -> None:
    release = dataclasses.replace(version, prerelease=())
    assert satisfies(release, str(release))
    assert satisfies(str(release), str(release))
    assert satisfies(version, str(version))  # a pre-release carries its own pre-release comparator


OPERATORS = st.sampled_from(["", "=", "<", "<=", ">", ">=", "^", "~"])
RANGES = st.lists(
    st.tuples(OPERATORS, versions(SMALL).map(lambda v: dataclasses.replace(v, build=()))), min_size=1, max_size=2
).map(lambda cs: " ".join(f"{op}{v}" for op, v in cs))


@PROPERTY
@given(st.lists(RANGES, min_size=1, max_size=2).map(" || ".join), RANGES, versions())
def test_range_subsumes_agrees_with_satisfies(wider: str, narrower: str, version: Version) -> None:
    verdict = range_subsumes(wider, narrower)
    if verdict is True and satisfies(version, narrower):
        assert satisfies(version, wider)
    if verdict is None:
        assert any(c.version.prerelease for s in parse_range(narrower).sets for c in s)


@functools.cache
def _release(major: int, minor: int, patch: int) -> Version:
    return Version(major, minor, patch)


@PROPERTY
@given(RANGES, RANGES)
def test_range_subsumes_false_has_a_witness(wider: str, narrower: str) -> None:
    if range_subsumes(wider, narrower) is False:
        grid = [_release(a, b, c) for a in range(6) for b in range(6) for c in range(6)]
        assert any(satisfies(v, narrower) and not satisfies(v, wider) for v in grid)
