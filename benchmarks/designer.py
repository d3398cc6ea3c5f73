"""Benchmark the Designer: graph build + layout + HTML, lint, and the page in Chromium.

Targets (issue 5): 1 000 agents / 50 groups / 3 000 trust edges build + layout + HTML < 1 s; 100 agents
< 0.2 s; lint of the 1 000-agent design < 1 s; the page interactive in Chromium (graph drawn, a filter
change applied) < 3 s.

Usage: python benchmarks/designer.py [--repeat 5] [--no-browser]
Prints the figures and writes benchmarks/results/designer.json.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from lmos_studio.formats.design_file import write_design
from lmos_studio.graph import build_graph, layout
from lmos_studio.model import Design
from lmos_studio.routing.confusion import lint_with_routing as lint_design  # what the Designer shows
from lmos_studio.synthetic import synthetic_design
from lmos_studio.trust import safe_resolutions
from lmos_studio.view import render_html

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
CHROMIUM = "/usr/bin/chromium"  # Debian's chromium, as the tests use


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return {
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "first_s": round(times[0], 4),
    }


def view_figures(design: Design, repeat: int) -> dict[str, Any]:
    """Everything the page does for a design it has not seen: resolve, graph, layout, HTML."""

    def full() -> str:
        graph = build_graph(design)
        return render_html(graph, positions=layout(graph))

    resolutions = safe_resolutions(design)
    graph = build_graph(design, resolutions=resolutions)
    positions = layout(graph)
    return {
        "agents": len(design.agents),
        "groups": len(design.groups),
        "channels": len(design.channels),
        "trust_edges": len(design.trust_edges),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "html_bytes": len(full().encode()),
        "build_layout_html": timed(full, repeat),
        "resolve_only": timed(lambda: safe_resolutions(design), repeat),
        "graph_only": timed(lambda: build_graph(design, resolutions=resolutions), repeat),
        "layout_only": timed(lambda: layout(graph), repeat),
        "html_only": timed(lambda: render_html(graph, positions=positions), repeat),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def browser_figures(design: Design) -> dict[str, Any]:
    """Open the Designer on the design in Chromium: until the graph is drawn, then until a filter is applied."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        path = write_design(design, Path(tmp) / "design.yaml")
        port = _free_port()
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LMOS_STUDIO_DESIGN": str(path),
            "LMOS_STUDIO_DATA_DIR": str(Path(tmp) / "data"),
        }
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(ROOT / "app.py"),
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(
                    executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
                )
                page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                cold = _open_and_filter(page, url)
                warm = _open_and_filter(page, url)  # a second visit: caches are warm (a usual page switch)
                chromium.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"cold": cold, "warm": warm}


def _graph_nodes(page: Any) -> int:
    """Nodes on the Designer's canvas (-1 until it has drawn)."""
    try:
        return int(page.evaluate("window.lmosCanvas ? window.lmosCanvas.nodes.length : -1"))
    except Exception:  # a navigation replaced the page while we looked
        return -1


def _wait_nodes(page: Any, ok: Callable[[int], bool], timeout_s: float = 120) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        count = _graph_nodes(page)
        if ok(count):
            return count
        page.wait_for_timeout(50)
    raise RuntimeError("the graph did not draw in time")


def _open_and_filter(page: Any, url: str) -> dict[str, float]:
    start = time.perf_counter()
    page.goto(f"{url}/designer")
    page.wait_for_selector("h1", timeout=120000)
    shell = time.perf_counter() - start  # Streamlit's frontend is up and the page script has started
    page.wait_for_selector(".lmos-canvas", state="attached", timeout=120000)
    attached = time.perf_counter() - start  # the page script sent the graph
    full = _wait_nodes(page, lambda n: n > 0)
    drawn = time.perf_counter() - start
    page.get_by_role("combobox", name="Tenant").click()
    page.get_by_role("option").nth(1).click()  # the first tenant
    _wait_nodes(page, lambda n: 0 < n < full)
    total = time.perf_counter() - start
    return {
        "title_shown_s": round(shell, 3),
        "graph_sent_s": round(attached, 3),
        "graph_drawn_s": round(drawn, 3),
        "filter_applied_s": round(total, 3),
        "filter_change_only_s": round(total - drawn, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    large = synthetic_design(n_agents=1000, n_channels=50, n_groups=50, n_edges=3000)
    small = synthetic_design(n_agents=100, n_channels=5, n_groups=5, n_edges=300)
    figures: dict[str, Any] = {
        "view_1000": view_figures(large, args.repeat),
        "view_100": view_figures(small, args.repeat),
        "lint_1000": timed(lambda: lint_design(large), args.repeat),
        "lint_1000_findings": len(lint_design(large)),
        "targets_s": {"view_1000": 1.0, "view_100": 0.2, "lint_1000": 1.0, "browser_interactive": 3.0},
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    if not args.no_browser:
        figures["browser_1000"] = browser_figures(large)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "designer.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
