"""Fast start: a command imports only what it uses (checked by module, never by the clock), and the table that
maps commands to their area stays true as areas add commands. Timings: benchmarks/cli_start.py."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest
import typer

from lmos_studio import cli
from tests.conftest import ACME, ROOT

HEAVY = ("sklearn", "fastapi", "uvicorn", "torch", "sentence_transformers", "pandas", "networkx", "scipy", "streamlit")
PROBE = """
import json, sys
from lmos_studio.cli import main
code = main(json.loads(sys.argv[1]))
print(json.dumps({"code": code, "modules": sorted(m for m in sys.modules if "." not in m)}), file=sys.stderr)
"""


def loaded_by(*args: str) -> tuple[int, set[str]]:
    """Exit code and top-level modules after running the CLI with ARGS in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, env=env, cwd=ROOT, check=False
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(
    "args",
    [("version",), ("validate", str(ACME)), ("resolve", str(ACME), "-o", "json"), ("samples",), ("resolve", "--help")],
    ids=lambda a: " ".join(a[:1] + a[2:]),
)
def test_short_commands_load_no_heavy_package(args: tuple[str, ...]) -> None:
    code, modules = loaded_by(*args)
    assert code == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    assert not {"numpy", "jsonschema", "httpx"} & modules  # nor the mid-weights the design commands never need


def test_version_answers_without_typer_parsing() -> None:
    _, modules = loaded_by("version")
    assert "pydantic" not in modules


def test_every_command_is_mapped_to_the_area_that_registers_it() -> None:
    found: dict[str, str] = {}
    for area in cli.AREAS:
        module = importlib.import_module(f"lmos_studio.commands.{area}")
        probe = typer.Typer()
        module.register(probe)
        names = [
            c.name or (c.callback.__name__.replace("_", "-") if c.callback else "") for c in probe.registered_commands
        ]
        names += [g.name or "" for g in probe.registered_groups]
        found |= dict.fromkeys(names, area)
    assert found == cli.COMMAND_AREAS  # a new command: add it to COMMAND_AREAS so that it starts fast
    assert not set(found) & set(cli.CORE_COMMANDS)
    core = {c.name or (c.callback.__name__ if c.callback else "") for c in cli.app.registered_commands} - set(found)
    assert core == set(cli.CORE_COMMANDS)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in (*cli.CORE_COMMANDS, *cli.COMMAND_AREAS):
        assert f" {name} " in out, name
