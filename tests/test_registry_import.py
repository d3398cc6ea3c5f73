"""Registry page: import a description (any supported format) by pasting or uploading, see the conversion
and its warnings, add it to the embedded registry or to the open design."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.registry.store import Query
from lmos_studio.registry.stores import open_store
from tests.conftest import ROOT, StartApp, settle

CARD = json.dumps(
    {
        "name": "Weather Agent",
        "description": "Forecasts",
        "url": "https://weather.example/a2a",
        "version": "1.2.0",
        "protocolVersion": "0.3.0",
        "capabilities": {},
        "defaultInputModes": ["text"],
        "defaultOutputModes": ["text"],
        "skills": [{"id": "forecast", "name": "Forecast", "description": "Weather forecast", "tags": ["weather"]}],
    }
)


@pytest.fixture(autouse=True)
def _data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh data folder; the server-wide registry store is dropped before and after (other tests own theirs)."""
    from lmos_studio.ui import resources

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    resources.registry_store.clear()
    yield
    resources.registry_store.clear()
    get_settings.cache_clear()


def pasted(text: str) -> AppTest:
    """The Registry page with `text` pasted into its import box (also used by test_credentials_written)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(str(ROOT / "app_pages" / "registry.py"))
    at.run()
    at.radio(key="registry_import_how").set_value("Paste").run()
    at.text_area(key="registry_import_text").input(text).run()
    assert not at.exception, at.exception
    return at


def test_paste_a_card_see_it_converted_and_add_it_to_the_design() -> None:
    at = pasted(CARD)
    assert any("has no version; defaulted to '1.2.0'" in w.value for w in at.warning)
    table = at.dataframe[0].value
    assert table["agent"].tolist() == ["default/weather-agent"]
    assert table["from"].tolist() == ["a2a"]
    assert any("kind: Agent" in c.value for c in at.code)
    at.button(key="registry_import_to_design").click().run()
    assert not at.exception
    assert at.session_state["history"].present.agent("weather-agent") is not None
    assert any("added to the design (Undo on the Designer page" in s.value for s in at.success)


def test_add_to_the_registry() -> None:
    at = pasted(CARD)
    at.button(key="registry_import_to_registry").click().run()
    assert not at.exception
    assert any("added to the embedded registry" in s.value for s in at.success)
    found = open_store(get_settings().registry_target).search(Query(text="forecast"), facets=False)
    assert {e.agent.name for e in found.entries} == {"weather-agent"}


def test_a_broken_description_is_a_message() -> None:
    at = pasted('{"name": 12}')
    assert at.error, "expected an error box"
    assert "Traceback" not in at.error[0].value


@pytest.mark.browser
def test_import_from_the_registry_page_in_a_browser(start_app: StartApp, page: Any) -> None:
    page.goto(f"{start_app()}/registry")
    main = page.get_by_test_id("stMain")
    main.get_by_text("Import a description").click()
    area = main.get_by_label("Description (JSON or YAML)")
    for attempt in range(3):  # a click that lands while the first run is still drawing can be lost: made again
        main.get_by_text("Paste", exact=True).click()
        try:
            area.wait_for(timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    settle(page)  # the field shows while the pick's rerun still draws: text typed then can be lost
    area.fill(CARD)
    area.press("Control+Enter")
    expect(main.get_by_text("has no version; defaulted").first).to_be_visible(timeout=30_000)
    settle(page)  # a click while the preview's rerun runs can be lost (seen once in CI under load)
    main.get_by_role("button", name="Add to design").first.click()
    expect(page.get_by_test_id("stSidebar").get_by_text("10 agents")).to_be_visible(timeout=30_000)


def test_the_added_message_escapes_the_description_text() -> None:
    """An LMOS Agent resource keeps its name and namespace as written, so a pasted one named
    `**x**:red[y]` made the "added" message render bold and red text (registry text is untrusted: escaped)."""
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "**x**:red[y]", "namespace": "[n](http://evil.test)"},
        "spec": {"providedCapabilities": [{"name": "c", "version": "1.0.0"}]},
    }
    from lmos_studio.markdown import escape

    for button, words in (
        ("registry_import_to_registry", "embedded registry"),
        ("registry_import_to_design", "design"),
    ):
        at = pasted(json.dumps(resource))
        at.button(key=button).click().run()
        assert not at.exception
        message = next(s.value for s in at.success if f"added to the {words}" in s.value)
        assert message.startswith(escape("[n](http://evil.test)/**x**:red[y]")), message


def test_an_agent_pasted_twice_is_a_warning() -> None:
    """Two Agent resources of one name: the page listed both without a word (`import` now warns too)."""
    from tests.test_import_warnings import TWO_OF_A_NAME

    at = pasted(TWO_OF_A_NAME)
    assert any("default/same appears again; the later one replaces the earlier" in w.value for w in at.warning)


def test_the_preview_names_the_format_of_a_pasted_agent_resource() -> None:
    """An LMOS Agent resource keeps no original format, so the preview's "from" column showed the format box's
    value, "auto", where it shows "a2a" or "td" for the other formats; it now says "agent" (the `--to` name)."""
    resource = {
        "apiVersion": "lmos.eclipse/v1",
        "kind": "Agent",
        "metadata": {"name": "billing-agent"},
        "spec": {"providedCapabilities": [{"name": "view-bill", "version": "1.0.0"}]},
    }
    at = pasted(json.dumps(resource))
    assert at.dataframe[0].value["from"].tolist() == ["agent"]


def test_a_namespace_kubernetes_refuses_is_an_error_not_an_import() -> None:
    """`import --namespace 'Bad NS!'` exits 2 (the caller's own option), but the page took the same value with
    a warning and added `Bad NS!/weather-agent` to the registry or the design on a click. The page now refuses
    it as `import` does, with the same suggestion, and offers no Add buttons until it is fixed."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page(str(ROOT / "app_pages" / "registry.py"))
    at.run()
    at.radio(key="registry_import_how").set_value("Paste").run()
    at.text_input(key="registry_import_namespace").input("Bad NS!").run()
    at.text_area(key="registry_import_text").input(CARD).run()
    assert not at.exception
    assert any("Bad NS!" in e.value and "bad-ns" in e.value for e in at.error), [e.value for e in at.error]
    keys = {b.key for b in at.button}
    assert "registry_import_to_registry" not in keys and "registry_import_to_design" not in keys
    at.text_input(key="registry_import_namespace").input("  team-a ").run()
    assert not at.error and at.dataframe[0].value["agent"].tolist() == ["team-a/weather-agent"]
