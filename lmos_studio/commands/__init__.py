"""CLI commands of the feature areas; each module has `register(app: typer.Typer) -> None`.

`lmos_studio.cli.AREAS` names every area (a missing one fails when registered); `main` imports only the area of
the command it runs (`cli.COMMAND_AREAS`), every area for help. Shared helpers
(exit codes, fail, emit, load, render_table) live in `_shell.py`; no command module imports `cli`.
"""
