"""Benchmark: app cold start to first rendered page in Debian Chromium with the acme sample (target < 3 s).

Measures (a) server start → health OK, (b) browser navigation → Overview heading and metrics rendered,
(c) the sum (cold start as a user sees it), over a few runs. Writes benchmarks/results/app_start.json.
Usage: python benchmarks/app_start.py [--runs 3]
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
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_run(browser: object) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LMOS_STUDIO_DATA_DIR": tempfile.mkdtemp()}
    start = time.perf_counter()
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
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        server_s = time.perf_counter() - start
        page = browser.new_page()  # type: ignore[attr-defined]
        nav = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}")
        expect(page.get_by_test_id("stMetricValue")).to_have_text(["9", "5", "5 / 5"], timeout=30_000)
        render_s = time.perf_counter() - nav
        page.close()
        return {"server_s": server_s, "first_render_s": render_s, "cold_start_s": time.perf_counter() - start}
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        runs = [one_run(browser) for _ in range(args.runs)]
        browser.close()
    figures = {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}
    figures |= {"runs": args.runs, "target_s": 3.0}
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    (ROOT / "benchmarks" / "results" / "app_start.json").write_text(json.dumps(figures, indent=2) + "\n")
    for key, value in figures.items():
        print(f"{key:>16}: {value}")


if __name__ == "__main__":
    main()
