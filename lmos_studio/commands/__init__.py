"""CLI commands of the feature areas; each module has `register(app: typer.Typer) -> None`.

`lmos_studio.cli` imports every area by name (a missing one fails at start) and registers it. Shared helpers
(exit codes, fail, emit, load, render_table) live in `_shell.py`; no command module imports `cli`.
"""
