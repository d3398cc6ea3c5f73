"""Playground and Evaluate in a real browser: ranked answers, progress bar, confusion heat map, misroutes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.conftest import StartApp, settle

pytestmark = pytest.mark.browser
LOAD_MS = 30_000  # first render of a page, a rerun (imports, fitting the statistical router)


def use_statistical(page: Any) -> None:
    """Pick the statistical router instead of `auto`: these tests are about the pages, not the router, and it
    answers at once (`auto` would load the MiniLM model first; test_routing_embedding.py tests that router)."""
    settle(page)  # the page's heading shows while its first run still draws: a pick then can be lost
    picker = page.get_by_test_id("stMain").get_by_test_id("stMultiSelect").filter(has_text="Routers").first
    field = picker.locator("input")
    field.click()
    field.press("Backspace")  # drops the default, auto
    field.fill("statistical")
    page.get_by_role("option", name="statistical", exact=True).click()
    page.keyboard.press("Escape")
    expect(picker.get_by_text("statistical", exact=True)).to_be_visible(timeout=LOAD_MS)
    expect(picker.get_by_text("auto", exact=True)).to_have_count(0)
    settle(page)  # a click while the pick's rerun runs can be lost (seen once under load: Evaluate did nothing)


def ask_the_playground(start_app: StartApp, page: Any, query: str) -> Any:
    """Open the Playground on the statistical router, send `query`; the page's main area."""
    page.goto(start_app() + "/playground")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Playground")).to_be_visible(timeout=LOAD_MS)
    use_statistical(page)
    box = main.get_by_label("Customer message")
    box.fill(query)
    box.press("Enter")
    return main


def test_playground_shows_ranked_answers_and_adds_a_test(start_app: StartApp, page: Any) -> None:
    main = ask_the_playground(start_app, page, "please email me my invoice as a PDF")
    # the Playground starts with one channel selected (the first stable one; or the one selected on the canvas)
    expect(main.get_by_role("heading", name="default/acme-ivr-stable")).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text(re.compile(r" · score \d")).first).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text("Chosen agents")).to_be_visible()
    main.get_by_text("Route on the design graph").click()
    expect(main.locator("iframe").first).to_be_visible(timeout=LOAD_MS)
    settle(page)  # the answers show before the run has drawn the form below them
    main.get_by_role("button", name=re.compile("Add as routing test")).click()
    expect(page.get_by_text(re.compile(r"Routing test added \(5 in the design\)"))).to_be_visible(timeout=LOAD_MS)
    settle(page)  # the toast shows at the start of the rerun that draws the edited design
    page.get_by_test_id("stSidebarNav").get_by_text("Designer").click()  # the chosen agent is selected there
    highlighted = page.get_by_test_id("stMain").get_by_text("Highlighted: from another page")
    expect(highlighted).to_be_visible(timeout=LOAD_MS)  # every routed channel's chosen agent


def test_evaluate_progress_confusion_misroutes_upload_errors(start_app: StartApp, page: Any, tmp_path: Path) -> None:
    page.goto(start_app() + "/evaluate")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Evaluate")).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text("40 labelled queries")).to_be_visible(timeout=LOAD_MS)
    use_statistical(page)
    main.get_by_role("button", name="Evaluate").click()
    expect(main.get_by_test_id("stProgress")).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text("Done: 40/40 queries routed")).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text("Confusion matrix")).to_be_visible()
    chart = main.get_by_test_id("stVegaLiteChart").first
    expect(chart).to_be_visible(timeout=LOAD_MS)  # Vega draws after the rerun: slow on a busy machine
    expect(chart.locator("canvas, svg").first).to_be_visible(timeout=LOAD_MS)
    table = main.get_by_test_id("stTable").first
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text(re.compile(r"-agent"))
    settle(page)
    with page.expect_download() as download:
        main.get_by_role("button", name="Download predictions (CSV)").first.click()
    saved = tmp_path / "eval.csv"
    download.value.save_as(saved)
    assert saved.read_text().startswith("line,query,channel,expected_agent")
    bad = tmp_path / "bad.csv"  # a broken upload names file and line; its text never becomes HTML
    bad.write_text("query,agent\nshow my bill,billing-agent-stable\n<b>oops</b>\n")
    settle(page)
    main.get_by_text("Upload CSV").click()
    # the labelled CSV's own uploader: until the pick's rerun draws it, the first file field is the seed's
    uploader = main.get_by_test_id("stFileUploader").filter(has_text="CSV with instruction")
    expect(uploader).to_be_visible(timeout=LOAD_MS)
    settle(page)
    uploader.locator("input[type=file]").set_input_files(str(bad))
    expect(main.get_by_text(re.compile(r"bad\.csv:3: 1 fields, but the header has 2"))).to_be_visible(timeout=LOAD_MS)
    expect(main.locator("b", has_text="oops")).to_have_count(0)


def test_playground_says_no_agent_for_an_out_of_scope_message(start_app: StartApp, page: Any) -> None:
    page.goto(start_app() + "/playground")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Playground")).to_be_visible(timeout=LOAD_MS)
    settle(page)  # text typed while the first run still draws the page can be lost
    box = main.get_by_label("Customer message")
    box.fill("tell me a joke about cats")
    box.press("Enter")
    # the Playground starts with one channel selected (the design's first on the stable subset)
    expect(main.get_by_role("heading", name="default/acme-ivr-stable")).to_be_visible(timeout=LOAD_MS)
    no_agent = main.get_by_text(re.compile(r"No agent of this channel would answer"))
    expect(no_agent.first).to_be_visible(timeout=LOAD_MS)
    expect(main.get_by_text("Nearest candidates (none would answer):").first).to_be_visible()
    expect(main.get_by_text(re.compile(r"· score \d"))).to_have_count(0)  # no green answer box anywhere


def test_a_typed_move_runs_the_what_if_on_the_first_click(start_app: StartApp, page: Any) -> None:
    """'Run what-if' was disabled until a change was picked; an agent to move counts only with its channel label,
    a text field reported on Enter or blur, so a person who typed the label and clicked the grey button lost that
    click (the blur reran the page and enabled it). One click now runs it; nothing picked is a message."""
    page.goto(start_app() + "/evaluate")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Evaluate")).to_be_visible(timeout=LOAD_MS)
    settle(page)
    main.get_by_role("tab", name="What-if").click()
    main.get_by_role("button", name="Run what-if").click()
    expect(main.get_by_text("Pick a change first")).to_be_visible(timeout=LOAD_MS)
    settle(page)
    page.get_by_role("combobox", name="Router").last.click()
    page.get_by_role("option", name="statistical", exact=True).click()
    settle(page)
    page.get_by_role("combobox", name="Move agent", exact=True).click()
    page.get_by_role("option", name="news-agent", exact=True).click()
    settle(page)
    main.get_by_role("textbox", name="to channel label").click()
    page.keyboard.type("web")
    main.get_by_role("button", name="Run what-if").click(force=True)  # as a person clicks: no waiting
    expect(main.get_by_text(re.compile(r"checked \d+ routing tests"))).to_be_visible(timeout=LOAD_MS)


def test_a_click_on_the_canvas_ends_the_playground_s_highlight(start_app: StartApp, page: Any) -> None:
    """The Playground highlights its routes on the Designer ('Highlighted: from another page', every other node
    dimmed). That highlight never ended: after a click on a node or on an empty spot of the canvas it came back,
    for the rest of the session (or until another design opened). A click on the canvas ends it now."""
    main = ask_the_playground(start_app, page, "please email me my invoice as a PDF")
    expect(main.get_by_text("Chosen agents")).to_be_visible(timeout=LOAD_MS)
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Designer").click()
    note = main.get_by_text("Highlighted: from another page")
    expect(note).to_be_visible(timeout=LOAD_MS)
    page.wait_for_function("() => window.lmosCanvas && window.lmosCanvas.nodes.length > 0", timeout=LOAD_MS)
    settle(page)
    corner = page.evaluate(
        "() => { const b = window.lmosCanvas.network.body.container.getBoundingClientRect();"
        " return [b.left + 8, b.top + 8]; }"
    )
    page.mouse.click(*corner)  # nothing there: no node or edge is selected
    settle(page)
    expect(note).to_have_count(0, timeout=LOAD_MS)
