"""`lmos-studio …`: every library capability from a shell, with exit codes fit for CI.

Exit codes: 0 success, 1 the check found problems (UNRESOLVED channels, lint errors, failed tests),
2 invalid input or usage (message on stderr, never a traceback). Feature areas add their commands from
`lmos_studio/commands/<area>.py` (each has `register(app)`), so this module stays small; the helpers
every command shares are in `commands/_shell.py`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from lmos_studio import __version__
from lmos_studio.commands import design, export, formats, lifecycle, registry, routing
from lmos_studio.commands._shell import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_PROBLEMS,
    OutputOpt,
    Paths,
    emit,
    fail,
    load,
    render_table,
)
from lmos_studio.errors import LmosStudioError
from lmos_studio.resolve import channel_routing, channel_status, invalid_versions, resolve_design
from lmos_studio.summary import requirement_rows

app = typer.Typer(
    name="lmos-studio",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Design, check, route and export networks of Eclipse LMOS agents.",
)


@app.command()
def resolve(
    paths: Paths,
    output: OutputOpt = "table",
    namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
) -> None:
    """Resolve every Channel as the LMOS operator would: status and the generated ChannelRouting.

    Exit 0 when every channel is RESOLVED, 1 when any is UNRESOLVED, 2 on invalid input.
    """
    result = load(paths, namespace)
    resolutions = resolve_design(result.design, locations=result.locations)
    data = {
        "channels": [
            {
                "name": r.channel.name,
                "namespace": r.channel.namespace,
                "labels": dict(r.channel.labels),
                "status": channel_status(r),
                "routing": channel_routing(r),
            }
            for r in resolutions
        ]
    }

    def table() -> str:
        rows = []
        for r in resolutions:
            for row in requirement_rows(r):  # the Overview page's rows
                served = f"{row['served by']} {row['provided']}" if row["served by"] else f"— {row['problem']}"
                rows.append([r.channel.key, r.status, row["capability"], row["range"], served])
            if not r.channel.required_capabilities:
                rows.append([r.channel.key, r.status, "", "", ""])
        return render_table(["CHANNEL", "STATUS", "CAPABILITY", "RANGE", "SERVED BY"], rows)

    emit(data, output, table)
    if any(not r.resolved for r in resolutions):
        raise typer.Exit(EXIT_PROBLEMS)


@app.command()
def validate(paths: Paths) -> None:
    """Check that files parse as a design (shapes, required fields, strict SemVer), without resolving."""
    result = load(paths)
    problems = invalid_versions(result.design, locations=result.locations)
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    if problems:
        raise typer.Exit(EXIT_INVALID)
    design = result.design
    typer.echo(
        f"ok: {len(result.files)} file(s), {len(design.agents)} agents, {len(design.channels)} channels, "
        f"{len(design.groups)} groups, {len(design.trust_edges)} trust edges"
    )


@app.command("app")
def run_app(
    design: Annotated[Path | None, typer.Argument(help="Design to open (default: the acme sample).")] = None,
    port: Annotated[int, typer.Option(help="Port for the web app.")] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True,
) -> None:
    """Start the Streamlit app on a design."""
    app_file = Path(__file__).resolve().parent.parent / "app.py"
    env = dict(os.environ)
    if design is not None:
        if not design.exists():
            fail(f"{design}: no such file or folder; give a design file or folder (or none for the acme sample)")
        env["LMOS_STUDIO_DESIGN"] = str(design.resolve())
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_file),
        "--server.port",
        str(port),
        "--server.headless",
        str(headless).lower(),
        "--browser.gatherUsageStats",
        "false",
    ]
    raise typer.Exit(subprocess.call(cmd, env=env))


@app.command()
def version() -> None:
    """Print the LMOS Studio version."""
    typer.echo(__version__)


AREAS = (formats, registry, design, routing, export, lifecycle)  # every module of commands/, in help order
for _area in AREAS:
    _area.register(app)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and turn our errors into a message and exit code 2."""
    try:
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except LmosStudioError as exc:
        typer.echo(f"error: {exc}", err=True)
        return EXIT_INVALID
    except typer.Exit as exc:
        return int(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        return 130
    except typer.TyperException as exc:  # usage errors: unknown command or option, missing argument
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return EXIT_INVALID
    return int(code) if isinstance(code, int) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
