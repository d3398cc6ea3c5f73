"""Pages on a larger design: derived from cached, digest-keyed results, so a rerun recomputes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio import resolve
from lmos_studio.config import get_settings
from lmos_studio.formats.design_file import write_design
from lmos_studio.synthetic import synthetic_design
from lmos_studio.ui import resources
from tests.conftest import ROOT


@pytest.fixture
def large_design(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    seed = int.from_bytes(tmp_path.name.encode()[-4:], "big")  # a design no other test has cached
    path = write_design(synthetic_design(120, 30, 6, 60, seed=seed), tmp_path / "large.yaml")
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(path))
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return path


def test_overview_of_many_channels_is_one_table_and_a_chosen_channel(
    large_design: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = resolve.resolve_design

    def counting(*args: object, **kwargs: object) -> list[resolve.Resolution]:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(resources, "resolve_design", counting)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:2] == ["120", "30"]
    channels = at.dataframe[0].value
    assert len(channels) == 30 and "status" in channels.columns
    details = [e.label for e in at.main.expander if e.label.startswith("default/")]
    assert len(details) == 1  # only the chosen channel's requirements
    first = at.selectbox(key="overview_channel")
    assert first.value in details[0]
    at.run()  # nothing changed: nothing is resolved again
    at.selectbox(key="overview_channel").select(first.options[-1]).run()
    assert any(first.options[-1] in e.label for e in at.main.expander)
    assert "served by" in at.dataframe[1].value.columns  # channels, the chosen channel, agents
    assert calls == [1]
