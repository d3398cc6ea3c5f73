"""AppTest: the app frame and the Overview page on the acme sample, and on a broken design."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.errors import DesignFileError
from lmos_studio.formats.design_file import design_from_upload
from tests.conftest import REFERENCE, ROOT


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()


def run_app(design: Path | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> AppTest:
    if design is not None and monkeypatch is not None:
        monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(design))
        get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def test_overview_shows_agents_channels_and_resolution() -> None:
    at = run_app()
    assert at.title[0].value == "Overview · acme"
    assert [m.value for m in at.metric] == ["9", "5", "5 / 5"]
    expanders = [e.label for e in at.expander]
    assert any("default/acme-ivr-canary" in label for label in expanders)
    requirement_table = at.dataframe[0].value
    assert "served by" in requirement_table.columns
    sidebar_text = " ".join(m.value for m in at.sidebar.markdown)
    assert "acme" in sidebar_text


def test_unresolved_channel_explains_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = REFERENCE / "lmos-operator"
    for name in ("acme-billing-agent-v1.yaml", "acme-web-channel-v1.yaml"):
        (tmp_path / name).write_text((reference / name).read_text())
    at = run_app(tmp_path, monkeypatch)
    assert [m.value for m in at.metric][2] == "0 / 1"
    table = at.dataframe[0].value
    problem = table.loc[table["capability"] == "view-contract", "problem"].iloc[0]
    assert "no candidate agent provides 'view-contract'" in problem


def test_bad_version_shows_an_error_not_a_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = REFERENCE / "lmos-operator"
    text = (reference / "acme-contract-agent-v1.yaml").read_text().replace("version: 1.1.0", "version: 1.1", 1)
    (tmp_path / "contract.yaml").write_text(text)
    (tmp_path / "ivr.yaml").write_text((reference / "acme-ivr-channel-v1.yaml").read_text())
    at = run_app(tmp_path, monkeypatch)
    assert "not strict SemVer" in at.error[0].value


def test_uploads_are_limited_and_checked() -> None:
    with pytest.raises(DesignFileError, match=r"big.yaml: is 2 MiB; designs over 1 MiB are refused"):
        design_from_upload("big.yaml", b"#" * 2 * 2**20, max_bytes=2**20)
    # under a small limit the sizes say what they are (they read "0.0 MiB; over 0 MiB" before)
    with pytest.raises(DesignFileError, match=r"is 3 KiB; designs over 1 KiB are refused"):
        design_from_upload("big.yaml", b"#" * 3 * 2**10, max_bytes=2**10)
    with pytest.raises(DesignFileError, match=r"is 1,048,577 bytes; designs over 1 MiB are refused"):
        design_from_upload("big.yaml", b"#" * (2**20 + 1), max_bytes=2**20)
    with pytest.raises(DesignFileError, match="not UTF-8"):
        design_from_upload("bin.yaml", b"\xff\xfe", max_bytes=2**20)
    result = design_from_upload(
        "d.yaml", (ROOT / "sample_networks/acme/canary/agents.yaml").read_bytes(), max_bytes=2**20
    )
    assert len(result.design.agents) == 2


def test_overview_tables_show_characters_that_are_not_printable_as_escapes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Registry page writes a right-to-left override (U+202E) or a line break in registry text as its escape;
    the Overview's tables showed the same text as it was, so an agent imported from a registry with the
    description 'Bills <U+202E>fdp.exe' showed on the Overview as 'Bills exe.pdf', turned around. The tables of
    the Overview (and of the Designer's findings and the Export page, built alike) write such characters as
    escapes now."""
    text = (ROOT / "sample_networks" / "faulty.yaml").read_text()
    design = tmp_path / "bidi.yaml"
    design.write_text(text.replace('"Bills and invoices <img src=x onerror=alert(1)>"', '"Bills \\u202efdp.exe"', 1))
    at = run_app(design, monkeypatch)
    agents = at.dataframe[-1].value
    assert agents["description"].iloc[0] == "Bills \\u202efdp.exe"


def test_overview_tables_mask_a_secret_in_design_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Markdown text on the pages masks secrets (`markdown.escape`), but the tables showed them as they were: an
    agent whose description holds an API key (pasted from a registry entry) showed the key in full on the
    Overview's Agents table. Every table built by `resources.table` masks them now."""
    key = "sk-" + "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6"
    text = (ROOT / "sample_networks" / "faulty.yaml").read_text()
    design = tmp_path / "secret.yaml"
    design.write_text(text.replace('"Bills and invoices <img src=x onerror=alert(1)>"', f'"Bills, key {key}"', 1))
    at = run_app(design, monkeypatch)
    agents = at.dataframe[-1].value
    shown = " ".join(str(v) for v in agents["description"])
    assert key not in shown and "Bills, key ***" in shown
