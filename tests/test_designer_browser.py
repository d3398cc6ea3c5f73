"""The Designer in a real browser: the graph draws offline, registry HTML stays text, edits survive save + reload."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from lmos_studio.formats.design_file import read_design
from tests.conftest import SAMPLES, StartApp

pytestmark = pytest.mark.browser
PAYLOAD = "<img src=x onerror=alert(1)>"
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "data:", "about:", "blob:")


def graph_frame(page: Any, *, contains: str = "", timeout_s: float = 60) -> Any:
    """The graph's iframe once vis-network has drawn (and, if given, shows the edge or node `contains`)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame.url != "about:srcdoc":
                continue
            try:
                drawn = frame.evaluate("document.body && document.body.getAttribute('data-drawn')")
                ids = (
                    frame.evaluate(
                        "window.lmosGraph ? window.lmosGraph.edges.getIds()"
                        ".concat(window.lmosGraph.nodes.getIds()) : []"
                    )
                    if drawn
                    else []
                )
            except Exception:  # the frame was replaced by a rerun while we looked
                continue
            if drawn == "1" and (not contains or contains in ids):
                return frame
        page.wait_for_timeout(200)  # (not time.sleep: Playwright only sees new frames while it runs)
    raise AssertionError(f"graph not drawn (waiting for {contains!r})")


def settle(page: Any) -> None:
    """Wait until Streamlit has finished the rerun a widget change started."""
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)


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
    page.on(
        "request",
        lambda r: external.append(r.url) if r.frame.url == "about:srcdoc" and not r.url.startswith(LOCAL) else None,
    )
    page.goto(f"{start_app(faulty)}/designer")
    frame = graph_frame(page)
    assert frame.locator("canvas").count() >= 1
    node = "agent:default/billing-agent"
    where = frame.evaluate(
        """(id) => {
        const net = window.lmosGraph.network;
        const p = net.canvasToDOM(net.getPositions([id])[id]);
        const box = document.getElementById('lmos-graph').getBoundingClientRect();
        return {x: p.x + box.left, y: p.y + box.top};
    }""",
        node,
    )
    frame_box = page.locator("iframe").first.bounding_box()
    page.mouse.move(frame_box["x"] + where["x"], frame_box["y"] + where["y"])
    tip = frame.locator(".vis-tooltip")
    tip.wait_for(state="visible", timeout=10000)
    assert PAYLOAD in tip.inner_text()  # shown as text …
    assert tip.locator("img").count() == 0  # … never as an element
    assert frame.locator("img").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
    assert external == []  # the graph frame fetched nothing from the internet


def test_trust_edge_edit_shows_in_graph_and_survives_save_and_reload(
    page: Any, start_app: StartApp, faulty: Path
) -> None:
    page.goto(f"{start_app(faulty)}/designer")
    graph_frame(page)
    page.get_by_role("tab", name="Trust edges").click()
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
