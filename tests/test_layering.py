"""Layering: streamlit only in lmos_studio/ui/, app_pages/ and app.py; pages import streamlit, lmos_studio, stdlib."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_streamlit_in_the_library_outside_ui() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "lmos_studio").rglob("*.py")
        if "ui" not in p.relative_to(ROOT / "lmos_studio").parts[:1] and "streamlit" in imports(p)
    ]
    assert offenders == []


def test_pages_import_only_streamlit_library_and_stdlib() -> None:
    allowed = {"streamlit", "lmos_studio", "__future__"} | set(sys.stdlib_module_names)
    for page in [*sorted((ROOT / "app_pages").glob("*.py")), ROOT / "app.py"]:
        extra = imports(page) - allowed
        assert not extra, f"{page.name} imports {sorted(extra)}: move that work into lmos_studio/"


def test_pages_stay_small() -> None:
    for page in sorted((ROOT / "app_pages").glob("*.py")):
        lines = [line for line in page.read_text().splitlines() if line.strip() and not line.strip().startswith("#")]
        assert len(lines) <= 80, f"{page.name} has {len(lines)} lines: pages only lay out widgets"
