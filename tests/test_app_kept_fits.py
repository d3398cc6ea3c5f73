"""The app keeps the statistical router's fits on disk as the CLI does: a new server process (here: cleared
in-memory caches) routing on an unchanged design read from disk loads the fit instead of fitting again; an
edited design and a design that may hold a secret are fitted in memory only."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st

from lmos_studio.config import get_settings
from lmos_studio.formats.design_file import write_design
from lmos_studio.model import Design
from lmos_studio.routing import statistical
from lmos_studio.synthetic import synthetic_design
from lmos_studio.ui import resources


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()
    yield tmp_path / "data"
    get_settings.cache_clear()
    st.cache_resource.clear()
    st.cache_data.clear()


def _read(path: Path) -> Design:
    return resources.read_design_files(str(path), path.stat().st_mtime).design


def _fits(data: Path) -> list[Path]:
    return sorted((data / "design-cache" / "statistical-fit").glob("*.entry"))


def _fit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_a: object, **_k: object) -> None:
        pytest.fail("fitted again")

    monkeypatch.setattr(statistical.StatisticalRouter, "fit", fail)


def test_a_new_process_routes_with_the_fit_kept_on_disk(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_design(synthetic_design(30, 4, 3, 20, seed=5), tmp_path / "d.yaml")
    design = _read(path)
    first = resources.route_query("statistical", design, "", "where is my invoice")
    assert len(_fits(data_dir)) == 1

    st.cache_resource.clear()  # what a new process starts with
    st.cache_data.clear()
    _fit_fails(monkeypatch)
    again = resources.route_query("statistical", _read(path), "", "where is my invoice")
    assert again.matches == first.matches and again.fit == first.fit and again.threshold == first.threshold
    tested = resources.cached_router("statistical", _read(path)).fit(resources.routing_table_of(design, ""))
    assert tested.route("where is my invoice").matches == first.matches


def test_edited_and_secret_designs_are_fitted_in_memory_only(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = _read(write_design(synthetic_design(30, 4, 3, 20, seed=6), tmp_path / "d.yaml"))
    edited = design.model_copy(update={"routing_tests": ()})  # a new design object: not as read from disk
    assert resources.router_cache_for(edited) is resources.router_cache()
    resources.route_query("statistical", edited, "", "where is my invoice")
    assert _fits(data_dir) == []

    secret = write_design(synthetic_design(30, 4, 3, 20, seed=6), tmp_path / "s.yaml")
    url = "https://admin:hunter2@example.com/x"  # a URL with user-info: may hold a secret
    secret.write_text(secret.read_text().replace("description:", f"description: see {url} ", 1))
    assert "admin:hunter2@" in secret.read_text()
    resources.route_query("statistical", _read(secret), "", "where is my invoice")
    assert _fits(data_dir) == []


def test_no_disk_cache_no_fit_on_disk(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DESIGN_CACHE_MB", "0")
    get_settings.cache_clear()
    design = _read(write_design(synthetic_design(30, 4, 3, 20, seed=7), tmp_path / "d.yaml"))
    resources.route_query("statistical", design, "", "where is my invoice")
    assert _fits(data_dir) == []
