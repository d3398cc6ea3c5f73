"""CLI commands of the feature areas; each module has `register(app: typer.Typer) -> None`.

`lmos_studio.cli` registers every module of AREAS by a plain import, so a missing area fails at start.
Shared helpers (exit codes, fail, emit, load, render_table) live in `_shell.py`.
"""

AREAS = ("formats", "registry", "design", "routing", "export", "lifecycle")
