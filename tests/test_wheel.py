"""The wheel is the product: built from this checkout, installed into a fresh venv outside it, it runs the CLI on
its bundled samples and serves the app; and nothing the tests read lies outside the repository.

Offline and fast: the wheel is built without build isolation (hatchling comes with the dev extra), installed
with --no-deps, and the venv sees this interpreter's packages through a .pth file for the dependencies only.
"""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.slow


def run(*cmd: str | Path, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], Path]]:
    """(venv, environment, a working folder): the wheel installed in a venv that knows nothing of the checkout."""
    base = tmp_path_factory.mktemp("wheel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["LMOS_STUDIO_DATA_DIR"] = str(base / "data")
    dist = base / "dist"
    built = run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        dist,
        ROOT,
        cwd=base,
        env=env,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("lmos_studio-*.whl")
    venv = base / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=base, env=env)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    added = run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", wheel, cwd=base, env=env)
    assert added.returncode == 0, added.stderr
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=base, env=env)
    # The dependencies (streamlit, pydantic, …) from this interpreter, after the venv's own packages.
    (Path(purelib.stdout.strip()) / "_test_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    work = base / "work"
    work.mkdir()
    yield venv, env, work


def test_the_wheel_carries_the_app_and_the_samples(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, work = installed
    (wheel,) = (venv.parent / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "lmos_studio/_bundled/app.py",
        "lmos_studio/_bundled/app_pages/overview.py",
        "lmos_studio/_bundled/sample_networks/acme/studio.yaml",
        "lmos_studio/_bundled/sample_networks/lmos-router-benchmark/train.csv",
    ):
        assert required in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "benchmarks/"))]
    where = run(venv / "bin" / "python", "-c", "import lmos_studio; print(lmos_studio.__file__)", cwd=work, env=env)
    assert Path(where.stdout.strip()).is_relative_to(venv), "the test must import the installed wheel"


def test_installed_cli_lists_copies_and_resolves_the_samples(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, work = installed
    cli = venv / "bin" / "lmos-studio"
    listed = run(cli, "samples", "--output", "json", cwd=work, env=env)
    assert listed.returncode == 0, listed.stderr
    samples = {s["name"]: Path(s["path"]) for s in json.loads(listed.stdout)["samples"]}
    assert set(samples) >= {"acme", "faulty", "router-benchmark"}
    assert samples["acme"].is_relative_to(venv) and samples["acme"].is_dir()

    resolved = run(cli, "resolve", samples["acme"], "--output", "json", cwd=work, env=env)
    assert resolved.returncode == 0, resolved.stderr
    statuses = {
        c["namespace"] + "/" + c["name"]: c["status"]["resolveStatus"] for c in json.loads(resolved.stdout)["channels"]
    }
    assert len(statuses) == 5 and set(statuses.values()) == {"RESOLVED"}

    copied = run(cli, "samples", "acme", "--to", work / "mine", cwd=work, env=env)
    assert copied.returncode == 0, copied.stderr
    assert Path(copied.stdout.strip()) == work / "mine" / "acme" and (work / "mine" / "acme" / "studio.yaml").is_file()
    again = run(cli, "resolve", "mine/acme", cwd=work, env=env)
    assert again.returncode == 0 and "acme-ivr-stable" in again.stdout, again.stderr
    refused = run(cli, "samples", "acme", "--to", work / "mine", cwd=work, env=env)
    assert refused.returncode == 2 and "already exists" in refused.stderr and "Traceback" not in refused.stderr


def test_installed_app_serves_and_renders_the_bundled_sample(installed: tuple[Path, dict[str, str], Path]) -> None:
    venv, env, work = installed
    port = free_port()
    log = (work / "app.log").open("wb")
    proc = subprocess.Popen(
        [venv / "bin" / "lmos-studio", "app", "--port", str(port)], cwd=work, env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        healthy = False
        while time.monotonic() < deadline and proc.poll() is None and not healthy:
            try:
                healthy = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok"
            except httpx.HTTPError:
                time.sleep(0.3)
        assert healthy, (work / "app.log").read_text()[-2000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    # The server stopped with the process it was started as: none is left behind answering on the port.
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    # The script the server runs, rendered in the installed venv: the frame, the pages and the acme sample.
    script = (
        "from streamlit.testing.v1 import AppTest\n"
        "from lmos_studio.bundled import app_script\n"
        "at = AppTest.from_file(str(app_script()), default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print(app_script())\n"
        "print(' '.join(m.value for m in at.sidebar.markdown))\n"
    )
    rendered = run(venv / "bin" / "python", "-c", script, cwd=work, env=env)
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    where, sidebar = rendered.stdout.split("\n", 1)
    assert Path(where).is_relative_to(venv) and "acme" in sidebar


def test_nothing_outside_the_repository_is_read() -> None:
    """Tests, library, benchmarks and scripts build no path to a folder beside the checkout (a shared data folder)."""
    outside = re.compile(
        r"""\.\./shared|/ *["']shared["']|["']shared["'] */|ROOT\.parent\b|REPO\.parent\b|parent\.parent\.parent"""
    )
    found = []
    for folder in ("tests", "lmos_studio", "benchmarks", "scripts", "sample_networks"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in (".py", ".sh") and path != Path(__file__):
                found += [
                    f"{path.relative_to(ROOT)}:{n}"
                    for n, line in enumerate(path.read_text().splitlines(), 1)
                    if outside.search(line)
                ]
    assert not found, found
