"""Conformance with semver4j 6.0.0, the library the LMOS operator resolves with.

Every row of tests/data/semver4j-6.0.0-pairs.tsv was computed by the real semver4j (scripts/semver4j/);
the named table below holds the caret-0 cases where semver4j and npm disagree, which Studio follows
semver4j on because the cluster will, and lint warns about.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lmos_studio.lint import lint_design
from lmos_studio.model import Agent, Capability, Channel, Design, RequiredCapability
from lmos_studio.resolve import resolve_channel
from lmos_studio.versions import caret_zero_quirks, parse_range, satisfies

PAIRS = Path(__file__).parent / "data" / "semver4j-6.0.0-pairs.tsv"

# (provided version, range, semver4j 6.0.0 says, npm says): the caret-0 cases of issue 17 and their neighbours
CARET_ZERO = [
    ("1.5.0", "^0", True, False),  # "<0.-1.0" is dropped: every release satisfies ^0
    ("0.3.0", "^0.x", True, True),
    ("7.0.0", "^0.*", True, False),
    ("2.0.0", "^0.X.X", True, False),
    ("0.0.3", "^0.0", False, True),  # "<0.0.0": nothing satisfies ^0.0
    ("0.0.0", "^0.0.x", False, True),
    ("1.0.0", "^0 || ^2.0.0", True, False),
    ("0.0.3", "^0.0 || 1.0.0", False, True),
    ("0.1.5", "^0.1", True, True),  # the left-most non-zero part is given: semver4j and npm agree
    ("0.0.3", "^0.0.3", True, True),
    ("0.0.4", "^0.0.3", False, False),
    ("1.9.0", "^1.x", True, True),
    ("2.0.0", "^1", False, False),
]


def _rows() -> list[tuple[str, str, bool]]:
    rows = []
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        version, text, answer = line.split("\t")
        rows.append((version, text, answer == "true"))
    return rows


def test_every_pair_computed_by_semver4j_agrees() -> None:
    rows = _rows()
    assert len(rows) > 10_000 - 100  # the file is complete
    wrong = [(v, r, want) for v, r, want in rows if satisfies(v, r) is not want]
    assert wrong == []


@pytest.mark.parametrize(
    ("version", "text", "operator", "npm"), CARET_ZERO, ids=[f"{v} {r}" for v, r, *_ in CARET_ZERO]
)
def test_caret_zero_follows_semver4j(version: str, text: str, operator: bool, npm: bool) -> None:
    assert satisfies(version, text) is operator
    quirks, rewritten = caret_zero_quirks(text)
    assert bool(quirks) is (operator != npm or text in ("^0.x",))  # ^0.x differs too, just not on 0.3.0
    if quirks:
        assert satisfies(version, rewritten) is npm  # the suggested rewrite is what npm means


def test_caret_zero_ranges_in_the_table_file_are_quirks_exactly_where_semver4j_differs_from_npm() -> None:
    for text in ("^0", "^0.x", "^0.*", "^0.X.X", "^0.0", "^0.0.x", "^0.*.1"):
        assert caret_zero_quirks(text)[0], text
    for text in ("^0.1", "^0.0.0", "^0.0.3-rc.1", "^1", "^1.x", "^x", ">=0.0.0 <1.0.0", "~0"):
        assert caret_zero_quirks(text)[0] == [], text
    assert parse_range("^0.0").matches_nothing
    assert parse_range("^0").normalized == ">=0.0.0"


def _design(version: str) -> Design:
    agent = Agent(
        name="old-agent",
        supported_channels=("web",),
        capabilities=(Capability(name="legacy", version="1.5.0", description="d", examples=("e",)),),
    )
    channel = Channel(
        name="acme-web-stable",
        labels={"tenant": "acme", "channel": "web", "version": "1.0.0", "subset": "stable"},
        required_capabilities=(RequiredCapability(name="legacy", version=version),),
    )
    return Design(agents=(agent,), channels=(channel,))


def test_resolution_predicts_the_operator_on_caret_zero() -> None:
    assert resolve_channel(_design("^0").channels[0], _design("^0").agents).resolved  # operator: RESOLVED
    assert not resolve_channel(_design("^0.0").channels[0], _design("^0.0").agents).resolved


@pytest.mark.parametrize(
    ("text", "meaning", "rewrite"),
    [("^0", "matches every version", ">=0.0.0 <1.0.0"), ("^0.0.x", "matches no version", ">=0.0.0 <0.1.0")],
)
def test_lint_warns_on_caret_zero_with_the_rewrite(text: str, meaning: str, rewrite: str) -> None:
    findings = [f for f in lint_design(_design(text)) if f.code == "caret-zero-range"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.severity == "warning"
    assert f"in the operator `{text}` {meaning}" in finding.message
    assert f"write `{rewrite}` if you mean npm's caret" in finding.message
    assert finding.objects == ("channel:default/acme-web-stable", "capability:legacy")
