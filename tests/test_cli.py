"""The CLI contract of the foundation: resolve outputs and exit codes, validate, bad input without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ACME, REFERENCE, invoke, run_cli


def test_resolve_acme_sample_all_resolved() -> None:
    result = invoke("resolve", str(ACME), "--output", "json")
    assert result.returncode == 0, result.stderr
    channels = json.loads(result.stdout)["channels"]
    assert len(channels) == 5
    assert {c["status"]["resolveStatus"] for c in channels} == {"RESOLVED"}


@pytest.mark.parametrize("output", ["table", "yaml"])
def test_resolve_other_outputs(output: str) -> None:
    result = invoke("resolve", str(ACME), "-o", output)
    assert result.returncode == 0
    assert "acme-ivr-canary" in result.stdout and "billing-agent-canary" in result.stdout


def test_resolve_namespace_filter() -> None:
    result = invoke("resolve", str(ACME), "-o", "json", "--namespace", "lmos-demo")
    assert [c["name"] for c in json.loads(result.stdout)["channels"]] == ["acme-web-stable", "product-recommender"]


def test_resolve_a_namespace_the_design_does_not_have_is_bad_input() -> None:
    # before: `--namespace prdo` (a typo) printed no channel and exited 0, so a CI check always passed
    result = invoke("resolve", str(ACME), "--namespace", "prdo")
    assert result.returncode == 2
    assert "--namespace 'prdo'" in result.stderr and "default, lmos-demo" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["resolve", "missing.yaml"], "no such file"),
        (["resolve", "-o", "xml", str(ACME)], "--output"),
        (["resolve"], "Missing argument"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_exits_2_without_traceback(args: list[str], needle: str) -> None:
    result = run_cli(*args)  # a real process: exit status and stderr as a shell sees them
    assert result.returncode == 2
    assert needle in result.stderr and "Traceback" not in result.stderr


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: lmos.eclipse/v1\nkind: Agent\nmetadata:\n  name: [oops\n")
    result = invoke("resolve", str(bad))
    assert result.returncode == 2
    assert f"{bad}:" in result.stderr and "malformed YAML" in result.stderr


def test_validate_ok_and_invalid_version(tmp_path: Path) -> None:
    ok = invoke("validate", str(ACME))
    assert ok.returncode == 0 and "9 agents" in ok.stdout
    text = (REFERENCE / "lmos-operator" / "acme-contract-agent-v1.yaml").read_text()
    (tmp_path / "c.yaml").write_text(text.replace("version: 1.1.0", "version: 1.1", 1))
    bad = invoke("validate", str(tmp_path))
    assert bad.returncode == 2
    assert "c.yaml" in bad.stderr and "'1.1' is not strict SemVer" in bad.stderr and "write '1.1.0'" in bad.stderr


def test_version_and_help() -> None:
    assert run_cli("version").stdout.strip() == "0.1.0"
    help_text = invoke("--help").stdout
    assert "resolve" in help_text and "validate" in help_text


def test_the_command_list_summarises_each_command_in_one_paragraph() -> None:
    """`lmos-studio --help` listed `route` as "… (or none), the ranked candidates" / "with scores …" on a line of
    its own: typer kept the docstring's line break in the summary. Now the first paragraph reads as one."""
    shown = run_cli("--help", env={"COLUMNS": "300"})
    assert shown.returncode == 0
    assert "(or none), the ranked candidates with scores and evidence, and whether" in shown.stdout
    assert "per-agent P/R/F1, confusion, misroutes, latency." in shown.stdout
    nested = run_cli("registry", "--help", env={"COLUMNS": "300"})
    assert "Search a registry: the embedded one, or the remote sources given (a directory server" in nested.stdout
