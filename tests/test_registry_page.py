"""The Registry page: AppTest for its logic, Playwright for what a person sees and clicks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.registry.store import Store
from tests.conftest import ROOT, settle
from tests.registry_helpers import make_td

EVIL = '<img src=x onerror="window.__xss=1">**bold** [link](http://evil.test) :red[alarm]'


@pytest.fixture
def registry_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder with the seeded registry plus one hostile registration."""
    from lmos_studio.ui import resources

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    resources.registry_store.clear()  # the page's store and searches would still be an earlier test's
    resources.registry_search.clear()
    store = Store(get_settings().registry_target)
    store.put("urn:test:evil", make_td("evil-agent", caps=("hack-things",), description=EVIL))
    yield tmp_path
    get_settings.cache_clear()


def app() -> AppTest:
    test = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    test.switch_page(str(ROOT / "app_pages" / "registry.py"))
    return test


def test_search_filter_open_and_add(registry_env: Path) -> None:
    at = app().run()
    assert not at.exception
    assert "billing-agent-stable" in at.dataframe[0].value["agent"].tolist()
    at.selectbox(key="registry_facet_capability").set_value("view-bill").run()
    assert sorted(at.dataframe[0].value["agent"]) == ["billing-agent-canary", "billing-agent-stable"]
    at.text_input(key="registry_text").set_value("canary").run()
    assert at.dataframe[0].value["agent"].tolist() == ["billing-agent-canary"]
    open_box = at.selectbox(key="registry_open")
    open_box.set_value(open_box.options[0]).run()
    fields = dict(zip(at.dataframe[1].value["field"], at.dataframe[1].value["value"], strict=True))
    assert fields["subset"] == "canary" and fields["expires"] == "never"
    assert at.dataframe[2].value["capability"].tolist() == ["view-bill", "download-bill"]
    before = len(at.session_state["history"].present.agents)
    at.button(key="registry_add").click().run()
    design = at.session_state["history"].present
    assert any(a.name == "billing-agent-canary" for a in design.agents)
    assert len(design.agents) == before  # the acme sample already had it: replaced, not duplicated
    assert at.success


def test_adding_a_found_agent_shows_the_import_warnings(registry_env: Path) -> None:
    """An agent with no channels and no capabilities: the page says so (with the fix), as `import` does."""
    Store(get_settings().registry_target).put("urn:test:bare", make_td("bare-agent", caps=(), channels=()))
    at = app().run()
    at.text_input(key="registry_text").set_value("bare").run()
    box = at.selectbox(key="registry_open")
    box.set_value(box.options[0]).run()
    assert not at.exception
    shown = [w.value for w in at.warning]
    assert any("agent bare-agent" in w and "no capabilities" in w for w in shown), shown
    assert any("no supported channels" in w and "--channel NAME" in w for w in shown), shown  # with the fix
    at.button(key="registry_add").click().run()
    assert any(a.name == "bare-agent" for a in at.session_state["history"].present.agents)
    assert at.success and any("no supported channels" in w.value for w in at.warning)  # still said after adding


def test_registry_text_is_never_markup(registry_env: Path) -> None:
    at = app().run()
    at.text_input(key="registry_text").set_value("evil").run()
    box = at.selectbox(key="registry_open")
    box.set_value(box.options[0]).run()
    assert not at.exception
    heading = at.subheader[0].value
    assert heading == "evil-agent"  # the name holds no markup character; markup in it would be escaped
    fields = dict(zip(at.dataframe[1].value["field"], at.dataframe[1].value["value"], strict=True))
    assert fields["description"] == EVIL  # shown verbatim as data


def test_unreachable_source_is_a_warning_not_a_crash(registry_env: Path) -> None:
    at = app().run()
    at.text_area(key="registry_src_tdd").set_value("http://127.0.0.1:9").run()
    assert not at.exception
    assert any("127.0.0.1\\:9" in w.value for w in at.warning)  # escaped: a registry's words are never markup
    assert len(at.dataframe[0].value) > 0  # the embedded registry still answers


def open_first_result(page) -> None:  # type: ignore[no-untyped-def]
    """Open the "Open an agent" box and pick the first result (retried: a rerun can close the list)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.get_by_test_id("stSelectbox").filter(has_text="Open an agent")
    for _ in range(5):
        box.click()
        try:
            page.get_by_role("option").first.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError("the result list did not open")


def open_agent(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Pick the only result and wait for its detail view; a pick lost to a rerun is made again (bounded)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):
        open_first_result(page)
        try:
            page.get_by_role("heading", name=name).wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


@pytest.mark.browser
def test_browser_search_open_add(start_app, page, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    store = Store(data / "registry.sqlite3")
    store.put("urn:test:evil", make_td("evil-agent", caps=("hack-things",), description=EVIL))
    store.put(
        "urn:test:roam",
        make_td("roaming-helper", caps=("roaming-activate",), description="Switches roaming on for travellers"),
    )
    url = start_app()
    page.goto(url)
    page.get_by_role("heading", name="Overview · acme").wait_for(timeout=30_000)
    settle(page)  # a click while the first run still draws the page can be lost
    page.get_by_test_id("stSidebarNav").get_by_text("Registry").click()  # through the app frame, as a person would
    page.get_by_role("heading", name="Registry").wait_for(timeout=30_000)
    settle(page)
    page.get_by_role("textbox", name="Search registries").fill("roaming")
    page.get_by_role("textbox", name="Search registries").press("Enter")
    page.get_by_text("1 agent(s)").wait_for(timeout=30_000)
    open_agent(page, "roaming-helper")
    settle(page)  # the heading shows before the run has drawn the agent's details and button
    page.get_by_role("button", name="Add to design").click()
    page.get_by_text("is in the design now").wait_for(timeout=30_000)
    page.get_by_role("button", name="Replace in design").wait_for(timeout=30_000)  # it is in the design now
    settle(page)
    page.get_by_role("textbox", name="Search registries").fill("evil")
    page.get_by_role("textbox", name="Search registries").press("Enter")
    page.get_by_role("heading", name="roaming-helper").wait_for(state="detached", timeout=30_000)
    open_agent(page, "evil-agent")
    assert page.evaluate("() => window.__xss === undefined")
    assert page.locator("img[src='x']").count() == 0
    assert json.dumps(EVIL)  # the hostile text was really registered


def test_a_remote_registry_s_message_is_never_markup(registry_env: Path) -> None:
    """A failing registry's problem detail was shown as Markdown in the page's warning: bold, links, colours."""
    from tests.test_registry_clients import stub_server

    with stub_server(lambda handler: (500, {"detail": EVIL})) as url:
        at = app().run()
        at.text_area(key="registry_src_tdd").set_value(url).run()
    assert not at.exception
    shown = [w.value for w in at.warning if "500" in w.value]
    assert shown and all("**bold**" not in w and "[link](" not in w and ":red[" not in w for w in shown), shown
    assert "\\*\\*bold\\*\\*" in shown[0]


def test_a_directory_behind_a_token_is_read_with_the_page_s_token_field(registry_env: Path) -> None:
    """The page's directory servers take a bearer token (a password field): without it a directory that needs
    one to read is a 401 warning; with it its agents are listed, and the token is shown nowhere."""
    from tests.test_registry_clients import behind_token, stub_server

    token = "page-" + "s3cr3t" * 3
    with stub_server(behind_token(token)) as url:
        at = app().run()
        at.checkbox(key="registry_src_embedded").uncheck()
        at.text_area(key="registry_src_tdd").set_value(url).run()
        assert any("401" in w.value for w in at.warning)
        at.text_input(key="registry_src_tdd_token").input(token).run()
    assert not at.exception
    assert (
        at.text_input(key="registry_src_tdd_token").proto.type
        == at.text_input(key="registry_src_tdd_token").proto.PASSWORD
    )
    assert list(at.dataframe[0].value["agent"]) == ["vault-agent"]
    assert not [w.value for w in at.warning if "401" in w.value]
    shown = " ".join(str(e.value) for e in [*at.markdown, *at.caption, *at.warning] if hasattr(e, "value"))
    assert token not in shown
