"""The app in a real browser (Debian chromium): the sample's agents and resolution status are visible."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lmos_studio.formats.design_file import write_design
from lmos_studio.synthetic import synthetic_design
from tests.conftest import StartApp, settle

pytestmark = pytest.mark.browser


def test_app_opens_on_the_sample_and_shows_resolution(start_app: StartApp, page: Any) -> None:
    page.goto(start_app())
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Overview · acme")).to_be_visible(timeout=30_000)
    for text in ("default/acme-ivr-stable", "lmos-demo/product-recommender"):
        expect(main.get_by_text(text).first).to_be_visible(timeout=30_000)
    expect(main.get_by_text("RESOLVED").first).to_be_visible()
    expect(page.get_by_test_id("stMetricValue")).to_have_text(["9", "5", "5 / 5"])
    expect(page.get_by_test_id("stSidebar").get_by_text("9 agents · 5 channels")).to_be_visible()


def test_open_a_sample_from_the_sidebar(start_app: StartApp, page: Any) -> None:
    page.goto(start_app())
    expect(page.get_by_role("heading", name="Overview · acme")).to_be_visible(timeout=30_000)
    settle(page)  # the heading shows while the first run still draws: a click then can be lost
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Open another design").click()
    sidebar.get_by_role("button", name="Open sample").click()
    expect(sidebar.get_by_text(re.compile("sample:acme"))).to_be_visible(timeout=15_000)


def test_the_server_writes_a_new_designs_cache_entry_after_the_page(
    start_app: StartApp, page: Any, tmp_path: Path
) -> None:
    """The real server runs each script run in a thread of its own: the entry is written when that run ends."""
    path = write_design(synthetic_design(30, 4, 3, 20, seed=21), tmp_path / "d.yaml")
    page.goto(start_app(path))
    expect(page.get_by_test_id("stMain").get_by_role("heading", name=re.compile("^Overview"))).to_be_visible(
        timeout=30_000
    )
    folder = tmp_path / "data" / "design-cache"
    deadline = time.monotonic() + 30
    while not list(folder.glob("*.entry")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(folder.glob("*.entry"))) == 1
