"""The app reads designs and derives lint and export through the disk cache: a new process (here: cleared
in-memory caches) renders the Overview, Designer and Export pages without linting or exporting again, and from
without parsing the design again (its entry is written on the first read)."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lmos_studio import lint
from lmos_studio.config import get_settings
from lmos_studio.export import bundle
from lmos_studio.formats import design_cache, design_file
from lmos_studio.formats.design_file import write_design
from lmos_studio.routing import confusion
from lmos_studio.synthetic import synthetic_design
from lmos_studio.ui import resources
from tests.conftest import ROOT


def render(page: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    if page != "overview":
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, at.exception
    return at


def test_a_new_process_renders_from_the_disk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_design(synthetic_design(40, 6, 4, 30, seed=11), tmp_path / "d.yaml")
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(path))
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    cold = {page: render(page) for page in ("overview", "designer", "export")}
    resources.wait_for_later_work()  # the design's entry is written once its first page is rendered
    folder = tmp_path / "data" / "design-cache"
    assert len(list(folder.glob("*.entry"))) == 1  # written on the first read
    assert len(list((folder / "lint").glob("*.entry"))) == 1
    assert len(list((folder / "export").glob("*.entry"))) == 2  # the plan and the files (small: built)

    monkeypatch.setattr(confusion, "ambiguity_findings", lambda *a, **k: pytest.fail("linted again"))
    monkeypatch.setattr(lint, "lint_design", lambda *a, **k: pytest.fail("linted again"))
    monkeypatch.setattr(bundle, "export_design", lambda *a, **k: pytest.fail("exported again"))
    monkeypatch.setattr(design_file, "design_from_texts", lambda *a, **k: pytest.fail("parsed again"))
    for _process in ("second", "third"):
        st.cache_resource.clear()  # what a new process starts with
        st.cache_data.clear()
        for page, before in cold.items():  # derived results are keyed by the files: hits from the first process
            warm = render(page)
            assert [m.value for m in warm.metric] == [m.value for m in before.metric]
            assert [t.value for t in warm.title] == [t.value for t in before.title]
        assert [len(d.value) for d in warm.dataframe] == [len(d.value) for d in cold["export"].dataframe]


def _script_with_work_for_later(events: list[str]) -> None:
    from lmos_studio.ui import resources

    resources.after_this_run(lambda: events.append("work"))
    events.append("end of the run")


def test_work_after_the_run_waits_for_the_run() -> None:
    events: list[str] = []
    at = AppTest.from_function(_script_with_work_for_later, args=(events,), default_timeout=60)
    at.run()
    resources.wait_for_later_work()
    assert not at.exception, at.exception
    assert events == ["end of the run", "work"]
    resources.after_this_run(lambda: events.append("now"))  # outside a script run: done before returning
    assert events[-1] == "now"


def test_the_entry_written_after_the_render_is_the_one_a_read_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_design(synthetic_design(30, 4, 3, 20, seed=5), tmp_path / "d.yaml")
    monkeypatch.setenv("LMOS_STUDIO_DESIGN", str(path))
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "app"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    render("overview")
    resources.wait_for_later_work()
    written = {p.name: p.read_bytes() for p in (tmp_path / "app" / "design-cache").glob("*.entry")}
    cache = design_cache.DesignCache(tmp_path / "direct", 2**30)
    design_cache.load_design_cached([path], cache=cache)
    assert written == {p.name: p.read_bytes() for p in cache.folder.glob("*.entry")}
    assert len(written) == 1
