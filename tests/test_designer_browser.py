"""The Designer in a real browser: the graph draws offline, registry HTML stays text, edits survive save + reload."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from lmos_studio.formats.design_file import read_design
from tests.conftest import SAMPLES, StartApp, settle

pytestmark = pytest.mark.browser
PAYLOAD = "<img src=x onerror=alert(1)>"
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "about:", "blob:")


def graph_frame(page: Any, *, contains: str = "", timeout_s: float = 60) -> Any:
    """The page once the Designer's canvas has drawn (and, if given, shows the edge or node `contains`)."""
    page.wait_for_function(
        """(has) => {
            const c = window.lmosCanvas;
            if (!c || c.nodes.length === 0) { return false; }
            return !has || c.nodes.get(has) !== null || c.edges.get(has) !== null;
        }""",
        arg=contains,
        timeout=timeout_s * 1000,
    )
    return page


def choose(page: Any, label: str, option: str) -> None:
    page.get_by_role("combobox", name=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "design" / "faulty.yaml"
    path.parent.mkdir()
    shutil.copy(SAMPLES / "faulty.yaml", path)
    return path


def test_graph_renders_offline_and_payload_stays_text(page: Any, start_app: StartApp, faulty: Path) -> None:
    dialogs: list[str] = []
    external: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(LOCAL) else None)
    page.goto(f"{start_app(faulty)}/designer")
    frame = graph_frame(page)
    assert frame.locator(".lmos-canvas canvas").count() >= 1
    node = "agent:default/billing-agent"
    where = frame.evaluate(
        """(id) => {
        const net = window.lmosCanvas.network;
        const p = net.canvasToDOM(net.getPositions([id])[id]);
        const box = net.body.container.getBoundingClientRect();
        return {x: p.x + box.left, y: p.y + box.top};
    }""",
        node,
    )
    page.mouse.move(where["x"], where["y"])
    tip = frame.locator(".vis-tooltip")
    tip.wait_for(state="visible", timeout=10000)
    assert PAYLOAD in tip.inner_text()  # shown as text …
    assert tip.locator("img").count() == 0  # … never as an element
    assert frame.locator(".lmos-canvas img").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    assert external == []  # the page (canvas included) fetched nothing from the internet


def test_trust_edge_edit_shows_in_graph_and_survives_save_and_reload(
    page: Any, start_app: StartApp, faulty: Path
) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    graph_frame(page)
    settle(page)  # the canvas draws before the run ends: a pick then can be lost
    choose(page, "Caller", "globex-agent")
    choose(page, "Callee", "billing-agent")
    page.get_by_role("button", name="Add edge").click()
    settle(page)
    edge_id = "agent:default/globex-agent|agent:default/billing-agent|trust:globex-agent->billing-agent"
    graph_frame(page, contains=edge_id)
    assert page.get_by_test_id("stMain").get_by_text("unsaved changes").count() == 1
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    assert any(e.key == "globex-agent->billing-agent" for e in read_design(faulty).trust_edges)
    page.get_by_role("button", name="Reload").click()
    settle(page)
    graph_frame(page, contains=edge_id)
    page.reload()  # a new session reads the file from disk
    graph_frame(page, contains=edge_id)


def test_a_typed_path_saves_or_opens_on_the_first_click(page: Any, start_app: StartApp, faulty: Path) -> None:
    """Save as (and the sidebar's Open path) were disabled while their path field was empty; a text field
    reports what was typed only on Enter or blur, so a person who typed a path and clicked the grey button lost
    that click (the blur reran the page and enabled it) and had to click again. One click now does it; an empty
    path is a message instead."""
    from playwright.sync_api import expect

    copy = faulty.parent / "copy.yaml"
    page.goto(f"{start_app(faulty)}/designer")
    graph_frame(page)
    settle(page)
    page.get_by_role("textbox", name="Save as").click()
    page.keyboard.type(str(copy))
    page.get_by_role("button", name="Save as", exact=True).click(force=True)  # as a person clicks: no waiting
    expect(page.get_by_text(f"● saved · {copy}")).to_be_visible(timeout=30_000)
    assert copy.is_file()
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Open another design").click()
    settle(page)
    sidebar.get_by_role("textbox", name="Or a design file or folder on this machine").click()
    page.keyboard.type(str(SAMPLES / "acme"))
    sidebar.get_by_role("button", name="Open path").click(force=True)
    expect(sidebar.get_by_text("9 agents")).to_be_visible(timeout=30_000)


def test_a_name_with_markup_is_drawn_on_the_canvas_as_written(page: Any, start_app: StartApp, tmp_path: Path) -> None:
    """The canvas drew labels in vis-network's "html" mode with `<` and `&` escaped: an agent named
    `<b>lonely</b> & <script>` showed as `&lt;b>lonely&lt;/b> &amp; &lt;script>` (no entity is decoded there)
    and `<b>…</b>` would have been bold. Each label is drawn as one plain piece of text now."""
    name = "<b>lonely</b> & <script>"
    path = tmp_path / "marked.yaml"
    path.write_text((SAMPLES / "faulty.yaml").read_text().replace("name: lonely-agent", f'name: "{name}"', 1))
    page.goto(f"{start_app(path)}/designer")
    node = f"agent:default/{name}"
    graph_frame(page, contains=node)
    blocks = page.evaluate(
        "(id) => window.lmosCanvas.network.body.nodes[id].labelModule.lines.flatMap((l) => l.blocks)", node
    )
    assert "".join(b["text"] for b in blocks) == name
    assert {b["mod"] for b in blocks} == {"normal"}


def test_leaving_the_page_with_unsaved_changes_asks_first(page: Any, start_app: StartApp, faulty: Path) -> None:
    """A reload (F5) or closing the tab lost unsaved edits without a question: a new session opens the design from
    disk. While the design has unsaved changes the browser asks first now (beforeunload); once saved it does not."""
    edge_id = "agent:default/globex-agent|agent:default/billing-agent|trust:globex-agent->billing-agent"
    main = page.get_by_test_id("stMain")
    page.goto(f"{start_app(faulty)}/designer")
    graph_frame(page)
    settle(page)
    choose(page, "Caller", "globex-agent")
    choose(page, "Callee", "billing-agent")
    page.get_by_role("button", name="Add edge").click()
    settle(page)
    graph_frame(page, contains=edge_id)
    assert main.get_by_text("unsaved changes").count() == 1
    with page.expect_event("dialog") as asked:
        page.close(run_before_unload=True)  # as a reload or a closed tab: the browser asks before it unloads
    assert asked.value.type == "beforeunload"
    asked.value.dismiss()  # stay: the edit is still there, unsaved
    assert main.get_by_text("unsaved changes").count() == 1
    page.get_by_role("button", name="Save", exact=True).click()
    settle(page)
    page.wait_for_function("window.lmosStudioUnsaved === false", timeout=60000)  # the last run's word
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))
    page.reload()  # saved: no question, and the new session reads the saved file
    graph_frame(page, contains=edge_id)
    assert dialogs == []
