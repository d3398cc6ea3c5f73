"""Benchmark the Designer's canvas in Chromium: first render, click → side panel updated, drop → new trust
edge drawn, on the acme sample and on a 1 000-agent design (which opens collapsed: one cluster is expanded
first); and the Designer page's first render on 1 000 agents under AppTest (CPU time of this process).

Usage: python benchmarks/canvas.py [--repeat 3]
Prints the figures and writes benchmarks/results/canvas.json (with the machine's load average).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from lmos_studio.formats.design_file import write_design
from lmos_studio.synthetic import synthetic_design

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
CHROMIUM = "/usr/bin/chromium"
ACME = ROOT / "sample_networks" / "acme"

POINT = """(id) => {
    const net = window.lmosCanvas.network;
    const p = net.canvasToDOM(net.getPositions([id])[id]);
    const box = net.body.container.getBoundingClientRect();
    return [p.x + box.left, p.y + box.top];
}"""


def _serve(design: Path, tmp: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DESIGN": str(design), "LMOS_STUDIO_DATA_DIR": str(tmp)}
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port)]
    cmd += ["--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    return proc


def _agents(page: Any) -> list[str]:
    return [i for i in page.evaluate("window.lmosCanvas.nodes.getIds()") if i.startswith("agent:")]


def _one_round(page: Any, url: str) -> dict[str, float]:
    start = time.perf_counter()
    page.goto(f"{url}/designer")
    page.wait_for_function("window.lmosCanvas && window.lmosCanvas.nodes.length > 0", timeout=180000)
    first = time.perf_counter() - start
    if not _agents(page):  # collapsed: open the first group
        aggregate = next(i for i in page.evaluate("window.lmosCanvas.nodes.getIds()") if i.startswith("aggregate:"))
        x, y = page.evaluate(POINT, aggregate)
        page.mouse.dblclick(x, y)
        page.wait_for_function("window.lmosCanvas.nodes.getIds().some((i) => i.startsWith('agent:'))", timeout=180000)
    agents = _agents(page)
    a, b = agents[0], agents[-1]
    x, y = page.evaluate(POINT, a)
    begin = time.perf_counter()
    page.mouse.click(x, y)
    page.get_by_role("button", name="Delete agent").wait_for(timeout=60000)
    click = time.perf_counter() - begin
    edges = int(page.evaluate("window.lmosCanvas.edges.length"))
    page.get_by_role("button", name="Draw trust edge").click()
    (x1, y1), (x2, y2) = page.evaluate(POINT, b), page.evaluate(POINT, a)
    page.mouse.move(x1, y1)
    page.mouse.down()
    for i in range(1, 9):
        page.mouse.move(x1 + (x2 - x1) * i / 8, y1 + (y2 - y1) * i / 8)
    begin = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(f"window.lmosCanvas.edges.length > {edges}", timeout=60000)
    drop = time.perf_counter() - begin
    page.keyboard.press("Escape")
    return {"first_render_s": first, "click_to_panel_s": click, "drop_to_edge_s": drop}


def browser(design: Path, repeat: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        port = 8700 + os.getpid() % 200
        proc = _serve(design, Path(tmp), port)
        try:
            with sync_playwright() as pw:
                chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
                rounds = []
                for _ in range(repeat):
                    page = chromium.new_page(viewport={"width": 1400, "height": 1000})  # a new session each
                    rounds.append(_one_round(page, f"http://127.0.0.1:{port}"))
                    page.close()
                chromium.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {
        name: {"median_s": round(statistics.median(r[name] for r in rounds), 3), "first_s": round(rounds[0][name], 3)}
        for name in rounds[0]
    }


def apptest_first_render(design: Path) -> dict[str, float]:
    """CPU and wall time of the Designer page's first run in a fresh AppTest (cold caches in this process)."""
    from streamlit.testing.v1 import AppTest

    from lmos_studio.config import get_settings

    os.environ["LMOS_STUDIO_DESIGN"] = str(design)
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.switch_page(str(ROOT / "app_pages" / "designer.py"))
    cpu, wall = time.process_time(), time.perf_counter()
    at.run()
    first = {"cpu_s": round(time.process_time() - cpu, 3), "wall_s": round(time.perf_counter() - wall, 3)}
    cpu = time.process_time()
    at.run()
    first["rerun_cpu_s"] = round(time.process_time() - cpu, 3)
    assert not at.exception, at.exception
    return first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        large = write_design(synthetic_design(1000, 50, 50, 3000, seed=0), Path(tmp) / "large.yaml")
        figures: dict[str, Any] = {
            "designer_page_first_render_1000_apptest": apptest_first_render(Path(large)),
            "browser_acme": browser(ACME, args.repeat),
            "browser_1000": browser(Path(large), args.repeat),
        }
    figures["machine"] = {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "canvas.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
