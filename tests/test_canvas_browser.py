"""The Designer's canvas in a real browser (Debian chromium): click selects, a drag draws a trust edge, Ctrl+Z
undoes it, Delete removes, moved positions survive save + reload, a large design opens collapsed; the error
page and the unsaved-changes question of the app frame."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from lmos_studio.formats.design_file import read_design, write_design
from lmos_studio.synthetic import synthetic_design
from tests.conftest import ACME, SAMPLES, StartApp, settle

pytestmark = pytest.mark.browser
EDGE = "agent:default/globex-agent|agent:default/billing-agent|trust:globex-agent->billing-agent"


def canvas(page: Any, *, has: str = "", lacks: str = "") -> None:
    """Wait until the canvas is drawn and (if given) shows node/edge `has` and not `lacks`."""
    page.wait_for_function(
        """([has, lacks]) => {
            const c = window.lmosCanvas;
            if (!c || c.nodes.length === 0) { return false; }
            const ids = new Set(c.nodes.getIds().concat(c.edges.getIds()));
            return (!has || ids.has(has)) && (!lacks || !ids.has(lacks));
        }""",
        arg=[has, lacks],
        timeout=60000,
    )


def point(page: Any, node: str) -> tuple[float, float]:
    """Where a node is on the page (CSS pixels)."""
    where = page.evaluate(
        """(id) => {
            const net = window.lmosCanvas.network;
            const p = net.canvasToDOM(net.getPositions([id])[id]);
            const box = net.body.container.getBoundingClientRect();
            return [p.x + box.left, p.y + box.top];
        }""",
        node,
    )
    return float(where[0]), float(where[1])


def click_node(page: Any, node: str) -> None:
    settle(page)  # a click on the canvas while a run still draws the page can be lost
    x, y = point(page, node)
    page.mouse.click(x, y)
    settle(page)


def drag(page: Any, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / 10, start[1] + (end[1] - start[1]) * i / 10)
    page.mouse.up()
    settle(page)


@pytest.fixture
def faulty(tmp_path: Path) -> Path:
    path = tmp_path / "design" / "faulty.yaml"
    path.parent.mkdir()
    shutil.copy(SAMPLES / "faulty.yaml", path)
    return path


def test_click_selects_and_the_panel_follows(page: Any, start_app: StartApp, faulty: Path) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    canvas(page, has="agent:default/billing-agent")
    click_node(page, "agent:default/billing-agent")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("default/billing-agent", exact=True).first).to_be_visible()
    expect(main.get_by_role("button", name="Delete agent")).to_be_visible()
    expect(main.get_by_text("Highlighted: agent billing-agent")).to_be_visible()


def test_drag_draws_an_edge_undo_and_delete(page: Any, start_app: StartApp, faulty: Path) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    canvas(page, has="agent:default/globex-agent")
    settle(page)  # the canvas draws before the run ends: a click or drag then can be lost
    page.get_by_role("button", name="Draw trust edge").click()
    drag(page, point(page, "agent:default/globex-agent"), point(page, "agent:default/billing-agent"))
    canvas(page, has=EDGE)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Added trust edge globex-agent->billing-agent")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+z")  # the canvas has the focus
    settle(page)
    canvas(page, lacks=EDGE)
    click_node(page, "agent:default/lonely-agent")
    page.keyboard.press("Delete")
    settle(page)
    canvas(page, lacks="agent:default/lonely-agent")
    expect(main.get_by_text("unsaved changes")).to_be_visible()


def test_moved_position_survives_save_and_reload(page: Any, start_app: StartApp, faulty: Path) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    node = "agent:default/lonely-agent"
    canvas(page, has=node)
    settle(page)  # the canvas draws before the run ends: a drag then can be lost
    before = page.evaluate("(id) => window.lmosCanvas.network.getPositions([id])[id]", node)
    x, y = point(page, node)
    drag(page, (x, y), (x - 120, y - 60))
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("unsaved changes")).to_be_visible(timeout=30_000)
    for attempt in range(3):  # a click landing while a rerun redraws the toolbar can be lost (seen under load)
        if main.get_by_text("● unsaved changes").is_visible():
            page.get_by_role("button", name="Save", exact=True).click(timeout=10_000)
        try:
            expect(main.get_by_text("● saved")).to_be_visible(timeout=30_000)  # written: the file has it now
            break
        except AssertionError:
            if attempt == 2:
                raise
    saved = read_design(faulty).layout["positions"][node]
    assert abs(saved[0] - before["x"]) > 50
    page.reload()
    canvas(page, has=node)
    after = page.evaluate("(id) => window.lmosCanvas.network.getPositions([id])[id]", node)
    assert (round(after["x"], 1), round(after["y"], 1)) == (saved[0], saved[1])


def test_large_design_opens_collapsed_and_expands(page: Any, start_app: StartApp, tmp_path: Path) -> None:
    path = tmp_path / "large.yaml"
    write_design(synthetic_design(1000, 50, 50, 3000, seed=0), path)
    page.goto(f"{start_app(path)}/designer")
    canvas(page)
    ids = page.evaluate("window.lmosCanvas.nodes.getIds()")
    assert not any(i.startswith("agent:") for i in ids)
    aggregate = next(i for i in ids if i.startswith("aggregate:group:"))
    assert len(ids) < 150
    settle(page)  # the canvas draws before the run ends: a double-click then can be lost
    x, y = point(page, aggregate)
    page.mouse.dblclick(x, y)
    settle(page)
    page.wait_for_function("() => window.lmosCanvas.nodes.getIds().some((i) => i.startsWith('agent:'))", timeout=60000)
    assert aggregate not in page.evaluate("window.lmosCanvas.nodes.getIds()")


def test_missing_start_design_opens_the_error_page(page: Any, start_app: StartApp, tmp_path: Path) -> None:
    page.goto(f"{start_app(tmp_path / 'nothere.yaml')}/designer")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="The design did not open")).to_be_visible(timeout=30_000)
    expect(main.get_by_text("no such file or folder").first).to_be_visible()
    settle(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="Open sample").click()
    expect(main.get_by_role("heading", name="Designer · acme")).to_be_visible(timeout=30_000)
    assert "Traceback" not in page.content()


def test_unsaved_changes_are_asked_about(page: Any, start_app: StartApp, faulty: Path) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    canvas(page, has="agent:default/lonely-agent")
    click_node(page, "agent:default/lonely-agent")
    page.keyboard.press("Delete")
    settle(page)
    # the server has taken the edit (under load the rerun can start after `settle`'s first look)
    expect(page.get_by_text("● unsaved changes")).to_be_visible(timeout=60_000)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Open another design").click()
    dialog = page.get_by_role("dialog")
    asked = dialog.get_by_text("has unsaved changes")
    for attempt in range(3):  # a click landing while a rerun redraws the sidebar can be lost (CI): made again
        try:
            if not asked.is_visible():  # (a slow dialog is waited for, never clicked through)
                sidebar.get_by_role("button", name="Open sample").click(timeout=10_000)
            asked.wait_for(timeout=30_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    settle(page)  # the dialog shows while the run that opened it still draws: a click then can be lost
    dialog.get_by_role("button", name="Cancel").click()
    settle(page)
    expect(page.get_by_role("heading", name="Designer · faulty")).to_be_visible()
    sidebar.get_by_role("button", name="Open sample").click()
    save = page.get_by_role("dialog").get_by_role("button", name="Save")
    expect(save).to_be_visible(timeout=30_000)
    settle(page)
    save.click()
    expect(page.get_by_role("heading", name="Designer · acme")).to_be_visible(timeout=30_000)
    assert read_design(faulty).agent("lonely-agent") is None  # saved before the sample opened


def test_acme_draws_no_label_over_a_node_or_label(page: Any, start_app: StartApp) -> None:
    """As vis-network draws them (each node's shape and its label, measured by vis itself), no two nodes of
    acme's canvas come within 2 px of each other; the laid-out rings put 6 pairs of acme's labels over each other
    (product-recommender's three agents, both groups), and then (session 15 QA) a label touched the group box or
    hexagon under it: the layout took labels 7 px higher and group boxes 9 px lower than vis draws them."""
    page.goto(f"{start_app(ACME)}/designer")
    canvas(page, has="channel:lmos-demo/product-recommender")
    boxes = page.evaluate(
        """() => Object.entries(window.lmosCanvas.network.body.nodes).map(([id, node]) => {
            const shape = node.shape.boundingBox, label = node.labelModule.size;
            return [id, {
                left: Math.min(shape.left, label.left), right: Math.max(shape.right, label.left + label.width),
                top: Math.min(shape.top, label.top), bottom: Math.max(shape.bottom, label.top + label.height),
            }];
        })"""
    )
    gap = 2
    overlapping = [
        (a, b)
        for i, (a, p) in enumerate(boxes)
        for b, q in boxes[i + 1 :]
        if p["left"] < q["right"] + gap
        and q["left"] < p["right"] + gap
        and p["top"] < q["bottom"] + gap
        and q["top"] < p["bottom"] + gap
    ]
    assert len(boxes) == 16 and overlapping == []


def test_a_cleared_highlight_leaves_no_node_dimmed(page: Any, start_app: StartApp, faulty: Path) -> None:
    """Selecting an agent dims every node it does not touch and rings it; choosing no agent again took the
    highlight away (no note, the panel empty) but the canvas kept every node dimmed and the ring: the canvas
    patched its nodes with DataSet.update, which merges, so the opacity and border a node no longer had stayed."""
    page.goto(f"{start_app(faulty)}/designer")
    canvas(page, has="agent:default/billing-agent")
    click_node(page, "agent:default/billing-agent")
    nodes = "Object.values(window.lmosCanvas.network.body.nodes)"
    dimmed = f"() => {nodes}.filter((n) => n.options.opacity !== undefined && n.options.opacity !== 1).length"
    ringed = f"() => {nodes}.filter((n) => n.options.borderWidth !== 1)"
    page.wait_for_function(f"() => ({dimmed})() > 0", timeout=60000)
    page.get_by_role("combobox", name="Agent", exact=True).click()
    page.get_by_role("option", name="(none)", exact=True).click()
    settle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Highlighted:")).to_have_count(0, timeout=30_000)
    page.wait_for_function(f"() => ({dimmed})() === 0 && ({ringed})().length === 0", timeout=30000)
