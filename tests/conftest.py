"""Shared fixtures: paths to the reference data, a real Streamlit server, Debian's Chromium via Playwright.

Every file a test reads is in the repository: the Eclipse LMOS reference data in tests/fixtures/reference/ and
the lmos-router benchmark data with the samples (sample_networks/lmos-router-benchmark/), each with a README
naming its source and licence.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import settings

# Property tests never fail on wall-clock time (performance is measured in benchmarks/, not asserted): a shared
# 2-core machine under load can take seconds for one example. No .hypothesis folder in the working tree either.
settings.register_profile("lmos-studio", deadline=None, database=None)
settings.load_profile("lmos-studio")

ROOT = Path(__file__).resolve().parent.parent
# Hermetic: the embedded registry and the embedding cache of every test (and of the CLI subprocesses they start)
# live in a temporary folder of this test process, never in the user's data folder.
os.environ.setdefault("LMOS_STUDIO_DATA_DIR", tempfile.mkdtemp(prefix="lmos-studio-tests-"))
REFERENCE = ROOT / "tests" / "fixtures" / "reference"
SAMPLES = ROOT / "sample_networks"
ROUTER_BENCHMARK = SAMPLES / "lmos-router-benchmark"  # train.csv, agentRoutingSpecs.json
ACME = SAMPLES / "acme"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def large_design_generator() -> Any:
    """`sample_networks/generate_large.py` as a module (a script, not a package module)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_large", ROOT / "sample_networks" / "generate_large.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def router_benchmark_table() -> tuple[Any, list[tuple[str, str, str]]]:
    """The lmos-router benchmark as one routing table (every agent's capabilities) and its train.csv rows
    (instruction, agent, intent)."""
    import csv
    import json

    from lmos_studio.routing.base import Candidate, RoutingTable

    specs = json.loads((ROUTER_BENCHMARK / "agentRoutingSpecs.json").read_text())
    table = RoutingTable(
        channel="",
        candidates=tuple(
            Candidate(s["name"], c["name"], c["description"], agent_description=s["description"])
            for s in specs
            for c in s["capabilities"]
        ),
    )
    with (ROUTER_BENCHMARK / "train.csv").open(newline="") as f:
        rows = [(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
    return table, rows


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `python -m lmos_studio ARGS` in a subprocess, as a user would (exit code, stdout, stderr)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "lmos_studio", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
        check=False,
    )


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI in this process (`lmos_studio.cli.main`, what the console script calls), answered like `run_cli`.

    For contract tests (outputs, exit codes of the checks): no interpreter start, no re-import of the libraries.
    Keep `run_cli` where the real process is the point (the entry point, exit status and stderr as a shell sees them).
    """
    from lmos_studio.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["lmos-studio", *args], code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Settings are read once per process (`get_settings` is cached): a test that changes the environment (a
    configured secret, a data dir) must not hand its settings to the next test in the same worker."""
    from lmos_studio.config import get_settings

    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def reference() -> Path:
    assert REFERENCE.is_dir(), f"reference data missing at {REFERENCE}"
    return REFERENCE


StartApp = Callable[..., str]


@pytest.fixture
def start_app(tmp_path: Path) -> Iterator[StartApp]:
    """Start the real app (`streamlit run app.py`) on a free port; returns its URL. Stopped after the test."""
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(design: Path | None = None, env: dict[str, str] | None = None) -> str:
        port = free_port()
        full_env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "LMOS_STUDIO_DATA_DIR": str(tmp_path / "data"),
            **({"LMOS_STUDIO_DESIGN": str(design)} if design else {}),
            **(env or {}),
        }
        log = (tmp_path / f"streamlit-{port}.log").open("wb")
        logs.append(log)
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
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                time.sleep(0.2)
            if proc.poll() is not None:
                break
        raise AssertionError(f"streamlit did not start: {(tmp_path / f'streamlit-{port}.log').read_text()[-2000:]}")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for log in logs:
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "Debian chromium is missing: run `bash scripts/test.sh`, which installs it"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser page (1400×1000), closed after the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    pg = context.new_page()
    yield pg
    context.close()


def settle(page: Any) -> None:
    """Wait until Streamlit has finished the rerun a widget change started (a click during it can be lost)."""
    page.wait_for_timeout(300)
    page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000)
