"""The CLI's error, warning and note lines show a design's or a registry's words as `visible` text: an agent name
holding ESC began a terminal escape sequence (an OSC one, which click does not strip, set the terminal's title),
and U+202E turned the rest of the line around. Ordinary Unicode ('é', '→') shows as itself."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import invoke

ESC, BEL, RLO = chr(0x1B), chr(0x07), chr(0x202E)  # built here: no control character in the test's source
NAME = f"bill{ESC}]0;pwned{BEL}{RLO}ing"  # ESC ] … BEL: an OSC sequence (set the window title)
NAMESPACE = f"café→{RLO}x"


def agent(*, name: str = NAME, namespace: str = "default", spec: Any = None, version: str = "1.0.0") -> str:
    """One Agent document (JSON is YAML: the hostile characters go in as JSON escapes)."""
    spec = {"providedCapabilities": [{"name": "view-bill", "version": version}]} if spec is None else spec
    body = {"apiVersion": "lmos.eclipse/v1", "kind": "Agent", "metadata": {"name": name, "namespace": namespace}}
    return "---\n" + json.dumps({**body, "spec": spec}) + "\n"


CASES = {
    # a load warning (`load`): the agent appears twice
    "load warning": (agent() + agent(), ["validate"], "warning:"),
    # an error raised while reading (`main`): the spec is no mapping
    "read error": (agent(spec="x"), ["validate"], "error:"),
    # `validate`'s own problems: a version that is not SemVer
    "validate problem": (agent(version="1.0"), ["validate"], "error:"),
    # `fail`: --namespace names none of the design's, which the message lists
    "fail": (agent(name="billing", namespace=NAMESPACE), ["resolve", "--namespace", "zz"], "error:"),
    # a command's own warnings (`import`)
    "import warning": (agent() + agent(), ["import"], "warning:"),
}


def hidden(char: str) -> bool:
    """A character that does not show as itself on a terminal (what `visible` escapes)."""
    return not (char.isprintable() or unicodedata.category(char) == "Zs")


@pytest.mark.parametrize("case", CASES)
def test_cli_lines_show_control_and_bidi_characters_escaped(case: str, tmp_path: Path) -> None:
    text, command, prefix = CASES[case]
    design = tmp_path / "design.yaml"
    design.write_text(text, encoding="utf-8")
    result = invoke(command[0], str(design), *command[1:])
    lines = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert lines, result.stderr
    assert not [c for c in result.stderr if c != "\n" and hidden(c)], ascii(result.stderr)
    said = "\n".join(lines)
    assert "\\u202e" in said, said
    if case == "fail":
        assert "café→\\u202ex" in said, said  # ordinary Unicode as itself
    else:
        assert "bill\\x1b]0;pwned\\x07\\u202eing" in said, said


def test_result_lines_on_stdout_show_a_hostile_path_escaped(tmp_path: Path) -> None:
    """'wrote PATH' and 'ok: … → PATH' quote the path the user gave (a file name may hold ESC and BEL: an OSC
    sequence that set the terminal's title when echoed as it was)."""
    sample = Path(__file__).resolve().parent.parent / "sample_networks" / "acme"
    hostile = f"g{ESC}]0;pwned{BEL}"
    exported = tmp_path / "out"
    assert invoke("export", str(sample), "--out", str(exported)).returncode == 0
    for command in (
        ["graph", str(sample), "--html", str(tmp_path / f"{hostile}.html")],
        ["import-manifests", str(exported), "--out", str(tmp_path / f"{hostile}.yaml")],
    ):
        result = invoke(*command)
        assert result.returncode == 0, result.stderr
        assert not [c for c in result.stdout if c != "\n" and hidden(c)], ascii(result.stdout)
        assert "g\\x1b]0;pwned\\x07" in result.stdout, result.stdout
