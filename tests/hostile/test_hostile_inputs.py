"""The hostile corpus against every CLI command that reads a file, the app's upload functions and every
registry endpoint (issue 11): a clean error (exit 2 / a 4xx problem detail) with a message, never a traceback,
a 5xx or a printed secret, within a memory limit, and nothing written outside --out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from registry_cases import run_registry_cases

from tests.registry_helpers import registry_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
MEMORY_LIMIT_MB = 3072  # address space of the runner: imports (numpy, sklearn, pandas) take ~1.5 GiB of it


@pytest.fixture(scope="module")
def corpus_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    out = tmp_path_factory.mktemp("hostile") / "records.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(HERE / "run_corpus.py"), str(out), "--limit-mb", str(MEMORY_LIMIT_MB)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path_factory.mktemp("cwd"),
        timeout=1500,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = [json.loads(line) for line in out.read_text().splitlines()]
    return [r for r in records if "meta" not in r]


@pytest.mark.slow
@pytest.mark.timeout(1600)
def test_every_file_reading_entry_point_fails_cleanly(corpus_records: list[dict[str, object]]) -> None:
    assert len(corpus_records) > 400  # every input × every entry point that reads its kind
    problems = []
    for r in corpus_records:
        where = f"{r['entry']} {r['input']}"
        if r["traceback"]:
            problems.append(f"{where}: traceback {str(r['traceback']).strip().splitlines()[-1]}")
        elif r["must_fail"] and r["exit"] != 2:
            problems.append(f"{where}: exit {r['exit']} (expected 2): {r['message']}")
        elif r["exit"] not in (0, 1, 2):
            problems.append(f"{where}: exit {r['exit']}")
        elif r["exit"] == 2 and not r["message"]:
            problems.append(f"{where}: exit 2 without a message")
        if r["leaked_secret"]:
            problems.append(f"{where}: printed the LLM URL's password")
        if r["written_outside_out"]:
            problems.append(f"{where}: wrote {r['written_outside_out']} outside --out")
    assert not problems, "\n".join(problems[:40])


def test_every_registry_endpoint_answers_4xx_to_hostile_requests(tmp_path: Path) -> None:
    with registry_server(tmp_path) as url:
        records = run_registry_cases(url)
    bad = [r for r in records if r["status"] is None or r["status"] >= 500]
    assert not bad, bad[:10]
    for r in records:
        if str(r["request"]).endswith("afterwards"):
            assert r["status"] == 200, r  # the directory still lists and searches
        elif r["status"] >= 400:
            assert r["problem"], r  # a problem detail with a `detail`, not a bare error
    assert sum(1 for r in records if 400 <= r["status"] < 500) > 100
