"""SemVer versions and NPM/Ivy version ranges that behave like semver4j 6.0.0's
``new Semver(provided).satisfies(range)``, the call the LMOS operator makes (pre-releases excluded).

Pure functions, no I/O; resolution itself lives in resolve.py. Followed: the semver4j sources at tag
``v6.0.0`` (commit 3f7cbf1: ``range.RangeExpressionParser``, ``range.RangeList``, ``range.Range``,
``internal.Tokenizers``, ``internal.StrictParser`` and ``processor.{AllVersions,Ivy,Hyphen,Caret,Tilde,XRange}
Processor``); the regular expressions below are rebuilt from ``Tokenizers``, compiled ASCII-only as Java's
are. Where semver4j differs from npm, Studio follows semver4j, because the operator does: the caret ranges
with a leading 0 (``^0``, ``^0.x`` match every release; ``^0.0``, ``^0.0.x`` match none; see
``_caret_upper``), which `caret_zero_quirks` finds so that lint can warn. Two deliberate deviations: version precedence
is SemVer 2.0's (semver4j compares pre-release identifiers that mix letters and digits "naturally",
e.g. ``rc2 < rc10``, which is not a total order), and a range number above 2**31-1 drops its token here
where semver4j throws out of ``satisfies``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

from lmos_studio.errors import VersionError

__all__ = [
    "Comparator",
    "Range",
    "Version",
    "caret_zero_quirks",
    "is_strict_semver",
    "parse_range",
    "parse_version",
    "range_subsumes",
    "satisfies",
]

INT_MAX = 2**31 - 1  # semver4j keeps MAJOR.MINOR.PATCH in a Java int and rejects larger numbers
_CACHE_SIZE = 4096  # distinct version / range strings kept parsed; a design holds far fewer
_X = -1  # semver4j's X_RANGE_MARKER: x, X, *, + or a missing part; printed as -1 like Java's %d
_JAVA_TRIM = "".join(chr(code) for code in range(0x21))  # String.trim() strips every char <= U+0020

_NUM = r"0|[1-9]\d*"
_PRE_ID = rf"(?:{_NUM}|\d*[a-zA-Z-][a-zA-Z0-9-]*)"
_PRE = rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))"
_BUILD = r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))"
_STRICT = rf"v?({_NUM})\.({_NUM})\.({_NUM}){_PRE}?{_BUILD}?"
_XID = rf"{_NUM}|x|X|\*|\+"  # `+` is Ivy's "any"
_XPLAIN = rf"[v=\s]*({_XID})(?:\.({_XID})(?:\.({_XID})(?:{_PRE})?{_BUILD}?)?)?"
_GLTL = r"((?:<|>)?=?)"
_IVY_PART = r"([0-9]+)?\.?([0-9]+)?\.?([0-9]+)?"


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)  # Java's \s and \d are ASCII-only


_STRICT_RE = _rx(_STRICT)
_COMPARATOR_RE = _rx(rf"{_GLTL}\s*({_STRICT})")
_CARET_RE = _rx(rf"\^{_XPLAIN}")
_TILDE_RE = _rx(rf"~>?{_XPLAIN}")
_HYPHEN_RE = _rx(rf"\s*({_XPLAIN})\s+-\s+({_XPLAIN})\s*")
_XRANGE_RE = _rx(rf"{_GLTL}\s*{_XPLAIN}")
_IVY_RE = _rx(rf"(\[|\]|\(){_IVY_PART},{_IVY_PART}(\]|\[|\))")
_OPERATOR_SPACE_RE = _rx(r"(\s*)([<>]?=?)\s*")
_WHITESPACE_RE = _rx(r"\s+")
_LOOSE_RE = _rx(r"[vV=\s]*(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:-[0-9A-Za-z.-]*)?(?:\+[0-9A-Za-z.-]*)?)")

_ALL_VERSIONS = ">=0.0.0"
_OPS: dict[str, Callable[[Version, Version], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_PreKey = tuple[tuple[int, int, str], ...]
_RELEASE_KEY: _PreKey = ((2, 0, ""),)  # sorts after every pre-release identifier list
_Core = tuple[int, int, int]
_Interval = tuple[_Core, _Core | None]  # [low, high) over release versions; None = unbounded


def _trim(text: str) -> str:
    return text.strip(_JAVA_TRIM)


@dataclass(frozen=True, eq=False)
class Version:
    """A strict SemVer 2.0 version; ordered by precedence, build metadata ignored for ==, < and hash."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str | int, ...] = ()
    build: tuple[str, ...] = ()

    @cached_property
    def _key(self) -> tuple[int, int, int, _PreKey]:
        if not self.prerelease:
            return (self.major, self.minor, self.patch, _RELEASE_KEY)
        # numeric identifiers compare numerically and sort before alphanumeric ones; a shorter list is lower
        ids = tuple((0, i, "") if isinstance(i, int) else (1, 0, i) for i in self.prerelease)
        return (self.major, self.minor, self.patch, ids)

    @property
    def core(self) -> _Core:
        """MAJOR.MINOR.PATCH as a tuple."""
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(i) for i in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    def __eq__(self, other: object) -> bool:
        return self._key == other._key if isinstance(other, Version) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key)

    def __lt__(self, other: object) -> bool:
        return self._key < other._key if isinstance(other, Version) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self._key <= other._key if isinstance(other, Version) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self._key > other._key if isinstance(other, Version) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self._key >= other._key if isinstance(other, Version) else NotImplemented


def _strict(text: str) -> Version | None:
    match = _STRICT_RE.fullmatch(_trim(text))
    if match is None:
        return None
    major, minor, patch = (int(part) for part in match.group(1, 2, 3))
    if max(major, minor, patch) > INT_MAX:  # StrictParser: "Value [...] is too big."
        return None
    pre, build = match.group(4), match.group(5)
    prerelease = tuple(int(i) if i.isdigit() else i for i in pre.split(".")) if pre else ()
    return Version(major, minor, patch, prerelease, tuple(build.split(".")) if build else ())


def is_strict_semver(text: str) -> bool:
    """True if the operator would accept `text` as a provided version (trimmed, optional leading v)."""
    return isinstance(text, str) and _strict(text) is not None


@lru_cache(maxsize=_CACHE_SIZE)
def parse_version(text: str) -> Version:
    """Parse a provided version strictly, as semver4j's ``new Semver(text)``; VersionError otherwise."""
    if not isinstance(text, str):  # yaml.safe_load turns `version: 1.10` into the float 1.1
        raise VersionError(f"{text!r} is a {type(text).__name__}, not a string; quote the version", value=str(text))
    version = _strict(text)
    if version is None:
        raise VersionError(_not_strict_message(text), value=text)
    return version


def _not_strict_message(text: str) -> str:
    match = _STRICT_RE.fullmatch(_trim(text))
    if match:  # the syntax is fine, so a number is too big for semver4j's Java int
        big = next(part for part in match.group(1, 2, 3) if int(part) > INT_MAX)
        return f"{text!r} is not usable: {big} is larger than {INT_MAX}, the largest number semver4j accepts"
    message = f"{text!r} is not strict SemVer (MAJOR.MINOR.PATCH)"
    suggestion = _suggest(text)
    return f"{message}; write {suggestion!r}" if suggestion else f"{message}; write e.g. '1.0.0'"


def _suggest(text: str) -> str | None:
    match = _LOOSE_RE.fullmatch(_trim(text))
    if match is None:
        return None
    major, minor, patch = (int(part or 0) for part in match.group(1, 2, 3))
    candidate = f"{major}.{minor}.{patch}{match.group(4)}"
    return candidate if _strict(candidate) is not None else None


@dataclass(frozen=True)
class Comparator:
    """One `op version` test; op is one of =, <, <=, >, >=."""

    op: str
    version: Version

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"unknown comparator operator {self.op!r}; use one of {sorted(_OPS)}")

    def __str__(self) -> str:
        return f"{self.op}{self.version}"

    def matches(self, version: Version) -> bool:
        """The comparison alone, without the pre-release rule of a comparator set."""
        return _OPS[self.op](version, self.version)


def _set_satisfied(comparators: tuple[Comparator, ...], version: Version) -> bool:
    if not all(c.matches(version) for c in comparators):
        return False
    # RangesList (npm rule): a pre-release passes only if a comparator of the same set carries a
    # pre-release on the same MAJOR.MINOR.PATCH
    return not version.prerelease or any(c.version.prerelease and c.version.core == version.core for c in comparators)


@dataclass(frozen=True)
class Range:
    """A parsed range: an OR of AND-ed comparator sets; no sets means it matches nothing."""

    text: str
    sets: tuple[tuple[Comparator, ...], ...]

    def satisfied_by(self, version: Version | str) -> bool:
        """semver4j's satisfies; a string is parsed strictly (VersionError if it is not strict SemVer)."""
        parsed = version if isinstance(version, Version) else parse_version(version)
        return any(_set_satisfied(comparators, parsed) for comparators in self.sets)

    @property
    def normalized(self) -> str:
        """E.g. ">=1.0.0 <2.0.0", sets joined by " || "; "" when no usable comparator is left."""
        return " || ".join(" ".join(str(c) for c in comparators) for comparators in self.sets)

    @property
    def matches_nothing(self) -> bool:
        """True when no version can satisfy it (best effort: a set with a pre-release counts as usable)."""
        return all(_release_interval(s) is None and not _has_prerelease(s) for s in self.sets)


# --- range processors: each returns the rewritten section, or None to let the next one try -------------


def _x_int(part: str | None) -> int:
    return _X if part is None or part in ("x", "X", "*", "+") else int(part)


def _x_ints(parts: Sequence[str | None]) -> tuple[int, int, int]:
    major, minor, patch = (_x_int(p) for p in parts)
    return major, minor, patch


def _with_pre(major: int, minor: int, patch: int, pre: str | None) -> str:
    return f"{major}.{minor}.{patch}-{pre}" if pre else f"{major}.{minor}.{patch}"


def _all_versions(section: str) -> str | None:
    return _ALL_VERSIONS if section in ("*", "") else None


def _ivy(section: str) -> str | None:
    if section in ("latest", "latest.integration"):
        return _ALL_VERSIONS
    match = _IVY_RE.fullmatch(section)
    if match is None:
        return None
    opening, closing = match.group(1), match.group(8)
    low, high = _ivy_bound(match.group(2, 3, 4)), _ivy_bound(match.group(5, 6, 7))
    lower = {"[": ">=", "]": ">"}.get(opening)
    upper = {"]": "<=", "[": "<"}.get(closing)
    if lower and upper:
        return f"{lower}{low} {upper}{high}"
    # IvyProcessor: with ")" only the lower bound is kept, with "(" only the upper one, so the Maven
    # style "[1.0,2.0)" means ">=1.0.0"; "(1.0,2.0)" is returned unchanged and later dropped
    if closing == ")" and lower:
        return f"{lower}{low}"
    if opening == "(" and upper:
        return f"{upper}{high}"
    return section


def _ivy_bound(parts: Sequence[str | None]) -> str:
    major, minor, patch = _x_ints(parts)
    return f"{major}.{max(minor, 0)}.{max(patch, 0)}"  # a missing minor/patch is 0, a missing major -1


def _hyphen(section: str) -> str | None:
    match = _HYPHEN_RE.fullmatch(section)
    return None if match is None else f"{_hyphen_from(match)} {_hyphen_to(match)}"


def _hyphen_from(match: re.Match[str]) -> str:
    major, minor, patch = _x_ints(match.group(2, 3, 4))
    if minor == _X:
        return f">={major}.0.0"
    if patch == _X:
        return f">={major}.{minor}.0"
    return f">={match.group(1)}"  # a full lower bound is kept verbatim (v, pre-release, build and all)


def _hyphen_to(match: re.Match[str]) -> str:
    major, minor, patch = _x_ints(match.group(8, 9, 10))
    if minor == _X:
        return f"<{major + 1}.0.0"
    if patch == _X:
        return f"<{major}.{minor + 1}.0"
    if match.group(11):  # an upper bound with a pre-release stays inclusive
        return f"<={_with_pre(major, minor, patch, match.group(11))}"
    return f"<{major}.{minor}.{patch + 1}"


def _caret(section: str) -> str | None:
    match = _CARET_RE.fullmatch(section)
    if match is None:
        return None
    major, minor, patch = _x_ints(match.group(1, 2, 3))
    if minor == _X:
        lower = f">={major}.0.0"
    elif patch == _X:
        lower = f">={major}.{minor}.0"
    else:
        lower = f">={_with_pre(major, minor, patch, match.group(4))}"
    return f"{lower} {_caret_upper(major, minor, patch)}"


def _caret_upper(major: int, minor: int, patch: int) -> str:
    # CaretProcessor of semver4j 6.0.0, kept exactly as it is (not npm's rule): the upper bound is chosen
    # by `major > 0`, else `minor > 0`, else "<major.minor.(patch+1)", with x/missing parts as -1. So
    # ^0 and ^0.x give "<0.-1.0", a token no comparator parses, which is dropped: they match every
    # release (npm: <1.0.0); ^0.0 and ^0.0.x give "<0.0.0": they match nothing (npm: <0.1.0). The
    # operator predicts from this, so Studio must too; lint (`caret_zero_quirk`) warns about such ranges.
    if major > 0:
        return f"<{major + 1}.0.0"
    if minor > 0:
        return f"<{major}.{minor + 1}.0"
    return f"<{major}.{minor}.{patch + 1}"


def _tilde(section: str) -> str | None:
    match = _TILDE_RE.fullmatch(section)
    if match is None:
        return None
    major, minor, patch = _x_ints(match.group(1, 2, 3))
    if minor == _X:
        return f">={major}.0.0 <{major + 1}.0.0"
    lower = f"{major}.{minor}.0" if patch == _X else _with_pre(major, minor, patch, match.group(4))
    return f">={lower} <{major}.{minor + 1}.0"


def _x_range(section: str) -> str | None:
    # XRangeProcessor rewrites token by token and silently drops every token that is no X-range
    tokens = [out for token in _WHITESPACE_RE.split(section) for out in _x_range_token(token)]
    return " ".join(tokens) if tokens else None


def _x_range_token(token: str) -> list[str]:
    match = _XRANGE_RE.fullmatch(token)
    if match is None:
        return []
    sign = match.group(1)
    major, minor, patch = _x_ints(match.group(2, 3, 4))
    if sign == "=" and patch == _X:
        sign = ""  # "=1.2" is the X-range "1.2"
    if sign and patch == _X:
        return [_x_bound(sign, major, minor)]
    if minor == _X:
        return [f">={major}.0.0", f"<{major + 1}.0.0"]
    if patch == _X:
        return [f">={major}.{minor}.0", f"<{major}.{minor + 1}.0"]
    return [token]


def _x_bound(sign: str, major: int, minor: int) -> str:
    # ">1.2" excludes all of 1.2.x (">=1.3.0"), "<=1.2" includes all of it ("<1.3.0");
    # "<1.2" and ">=1.2" simply pad with zeros
    if sign in (">", "<="):
        sign = ">=" if sign == ">" else "<"
        major, minor = (major + 1, 0) if minor == _X else (major, minor + 1)
    return f"{sign}{major}.{max(minor, 0)}.0"


_PROCESSORS: tuple[Callable[[str], str | None], ...] = (
    _all_versions,
    _ivy,
    _hyphen,
    _caret,
    _tilde,
    _x_range,
)


def _process(section: str) -> str:
    for processor in _PROCESSORS:
        rewritten = processor(section)
        if rewritten is not None:
            return rewritten
    return section


def _sections(text: str) -> list[str]:
    sections = _trim(text).split("||")
    if len(sections) > 1:  # Java's String.split drops trailing empty strings (so "||" has no section)
        while sections and sections[-1] == "":
            sections.pop()
    return sections


def _comparators(processed: str) -> tuple[Comparator, ...]:
    found: list[Comparator] = []
    for token in _WHITESPACE_RE.split(processed):
        match = _COMPARATOR_RE.fullmatch(token)
        version = _strict(match.group(2)) if match else None
        if match and version is not None:  # anything else is silently dropped, as RangesString does
            found.append(Comparator(match.group(1) or "=", version))
    return tuple(found)


@lru_cache(maxsize=_CACHE_SIZE)
def parse_range(text: str) -> Range:
    """Parse a required-version range the way semver4j does; never raises, garbage matches nothing."""
    sets: list[tuple[Comparator, ...]] = []
    for section in _sections(text):
        stripped = _trim(_OPERATOR_SPACE_RE.sub(r"\1\2", section))  # ">= 1.0.0" -> ">=1.0.0"
        comparators = _comparators(_process(stripped))
        if comparators:  # RangesList.add ignores an empty set, so it never matches everything
            sets.append(comparators)
    return Range(text, tuple(sets))


def satisfies(version: str | Version, range_text: str) -> bool:
    """``new Semver(version).satisfies(range_text)``; VersionError if the version is not strict SemVer."""
    return parse_range(range_text).satisfied_by(version)


@dataclass(frozen=True)
class CaretQuirk:
    """A caret section where semver4j 6.0.0 (the operator) and npm disagree, and the npm meaning."""

    section: str  # as written, e.g. "^0"
    operator_meaning: str  # "matches every version" or "matches no version"
    npm_rewrite: str  # the range npm means, e.g. ">=0.0.0 <1.0.0"


def _caret_quirk(section: str) -> CaretQuirk | None:
    stripped = _trim(_OPERATOR_SPACE_RE.sub(r"\1\2", section))
    match = _CARET_RE.fullmatch(stripped)
    if match is None:
        return None
    major, minor, patch = _x_ints(match.group(1, 2, 3))
    if major == 0 and minor == _X:
        return CaretQuirk(stripped, "matches every version", ">=0.0.0 <1.0.0")
    if major == 0 and minor == 0 and patch == _X:
        return CaretQuirk(stripped, "matches no version", ">=0.0.0 <0.1.0")
    return None


def caret_zero_quirks(range_text: str) -> tuple[list[CaretQuirk], str]:
    """The caret-0 sections of a range where the operator does not do what npm does (`^0`, `^0.x`, `^0.*`:
    every version; `^0.0`, `^0.0.x`: none), and the whole range rewritten to npm's meaning."""
    sections = _sections(range_text)
    quirks, rewritten = [], []
    for section in sections:
        quirk = _caret_quirk(section)
        if quirk is not None:
            quirks.append(quirk)
        rewritten.append(quirk.npm_rewrite if quirk else _trim(section))
    return quirks, " || ".join(rewritten)


# --- interval arithmetic over release versions (for range_subsumes and matches_nothing) ---------------


def _has_prerelease(comparators: Iterable[Comparator]) -> bool:
    return any(c.version.prerelease for c in comparators)


def _comparator_interval(comparator: Comparator) -> _Interval:
    core, pre = comparator.version.core, bool(comparator.version.prerelease)
    successor = (core[0], core[1], core[2] + 1)  # the next release after M.m.p is M.m.(p+1)
    floor = (0, 0, 0)
    # on releases, ">=1.0.0-rc" and ">1.0.0-rc" mean ">=1.0.0"; "<1.0.0-rc" and "<=1.0.0-rc" mean "<1.0.0"
    bounds: dict[str, _Interval] = {
        "=": (core, core if pre else successor),
        ">=": (core, None),
        ">": (core if pre else successor, None),
        "<": (floor, core),
        "<=": (floor, core if pre else successor),
    }
    return bounds[comparator.op]


def _release_interval(comparators: Iterable[Comparator]) -> _Interval | None:
    low: _Core = (0, 0, 0)
    high: _Core | None = None
    for comparator in comparators:
        c_low, c_high = _comparator_interval(comparator)
        low = max(low, c_low)
        high = c_high if high is None else high if c_high is None else min(high, c_high)
    return (low, high) if high is None or low < high else None


def _union(intervals: Iterable[_Interval]) -> list[_Interval]:
    merged: list[_Interval] = []
    for low, high in sorted(intervals, key=lambda interval: interval[0]):
        if merged and (merged[-1][1] is None or low <= merged[-1][1]):
            previous_high = merged[-1][1]
            top = None if previous_high is None or high is None else max(previous_high, high)
            merged[-1] = (merged[-1][0], top)
        else:
            merged.append((low, high))
    return merged


def _covered(interval: _Interval, union: list[_Interval]) -> bool:
    low, high = interval
    return any(u_low <= low and (u_high is None or (high is not None and high <= u_high)) for u_low, u_high in union)


def _intervals(range_: Range) -> list[_Interval]:
    return [iv for iv in (_release_interval(s) for s in range_.sets) if iv is not None]


def range_subsumes(wider: str, narrower: str) -> bool | None:
    """True if every version satisfying `narrower` satisfies `wider`, judged on release versions.

    False as soon as a release satisfies `narrower` but not `wider`; None when only pre-releases could
    decide (`narrower` has a pre-release comparator), because intervals of releases cannot tell.
    """
    wide, narrow = parse_range(wider), parse_range(narrower)
    union = _union(_intervals(wide))
    if not all(_covered(interval, union) for interval in _intervals(narrow)):
        return False
    return None if any(_has_prerelease(s) for s in narrow.sets) else True
