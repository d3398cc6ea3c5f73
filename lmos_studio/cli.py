"""`lmos-studio …`: every library capability from a shell, with exit codes fit for CI.

Exit codes: 0 success, 1 the check found problems (UNRESOLVED channels, lint errors, failed tests),
2 invalid input or usage (message on stderr, never a traceback). Feature areas add their commands from
`lmos_studio/commands/<area>.py` (each has `register(app)`), so this module stays small; the helpers
every command shares are in `commands/_shell.py`. A command imports what it uses when it runs, and `main`
registers only the area of the command it runs: short commands start fast (benchmarks/cli_start.py).
"""

from __future__ import annotations

import errno
import importlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from lmos_studio import __version__
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
    say,
)
from lmos_studio.errors import LmosStudioError

# every module of commands/, in the order of the help
AREAS = ("formats", "registry", "design", "edit", "routing", "export", "lifecycle")
# The area module (lmos_studio/commands/<area>.py) that registers each command. `main` imports only the area of
# the command it runs, so `lmos-studio resolve` loads neither scikit-learn nor FastAPI; help and a command not
# listed here load every area (slower, never wrong). tests/test_cli_start.py checks this table against the areas.
COMMAND_AREAS = {
    "import": "formats",
    "convert": "formats",
    "registry": "registry",
    "announce": "registry",
    "discover": "registry",
    "lint": "design",
    "graph": "design",
    "edit": "edit",
    "route": "routing",
    "eval": "routing",
    "test": "routing",
    "whatif": "routing",
    "export": "export",
    "import-manifests": "export",
    "diff": "lifecycle",
    "canary": "lifecycle",
}
CORE_COMMANDS = ("resolve", "validate", "app", "samples", "version")  # defined in this module
# `lmos-studio app` runs Streamlit with these settings (a checkout's .streamlit/config.toml is not read outside
# it; the wheel has none): uploads up to 50 MiB reach the app, which refuses designs over
# LMOS_STUDIO_MAX_UPLOAD_MB with a clear message; no file watcher (a .venv overflows inotify).
STREAMLIT_FLAGS = (
    ("server.maxUploadSize", "50"),
    ("server.fileWatcherType", "none"),
    ("browser.gatherUsageStats", "false"),
    ("client.toolbarMode", "minimal"),
)

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

    Exit 0 when every channel is RESOLVED, 1 when any is UNRESOLVED or its reconcile would fail (a provider's
    version that is not strict SemVer: that channel only), 2 on invalid input.
    """
    from lmos_studio.resolve import ReconcileFailure, channel_routing, channel_status, resolve_each
    from lmos_studio.summary import requirement_rows

    result = load(paths, namespace)
    found = resolve_each(result.design, locations=result.locations)
    failed = [f for f in found if isinstance(f, ReconcileFailure)]
    resolutions = [r for r in found if not isinstance(r, ReconcileFailure)]
    data = {
        "channels": [
            {
                "name": r.channel.name,
                "namespace": r.channel.namespace,
                "labels": dict(r.channel.labels),
                "status": channel_status(r),
                "routing": channel_routing(r),
            }
            if not isinstance(r, ReconcileFailure)
            else {  # the operator's reconcile throws: status not updated, no ChannelRouting (LMOS.md §1.6)
                "name": r.channel.name,
                "namespace": r.channel.namespace,
                "labels": dict(r.channel.labels),
                "status": None,
                "routing": None,
                "reconcileError": str(r.error),
            }
            for r in found
        ]
    }

    def table() -> str:
        rows = []
        for r in found:
            if isinstance(r, ReconcileFailure):
                rows.append([r.channel.key, "RECONCILE FAILS", "", "", f"— {r.error}"])
                continue
            for row in requirement_rows(r):  # the Overview page's rows
                served = f"{row['served by']} {row['provided']}" if row["served by"] else f"— {row['problem']}"
                rows.append([r.channel.key, r.status, row["capability"], row["range"], served])
            if not r.channel.required_capabilities:
                rows.append([r.channel.key, r.status, "", "", ""])
        return render_table(["CHANNEL", "STATUS", "CAPABILITY", "RANGE", "SERVED BY"], rows)

    emit(data, output, table)
    for failure in failed:  # on stderr too: the JSON on stdout may go to a file
        say("error", failure.error)
    if failed or any(not r.resolved for r in resolutions):
        raise typer.Exit(EXIT_PROBLEMS)


@app.command()
def validate(paths: Paths) -> None:
    """Check that files parse as a design (shapes, required fields, strict SemVer), without resolving."""
    from lmos_studio.resolve import invalid_versions

    result = load(paths)
    problems = invalid_versions(result.design, locations=result.locations)
    for problem in problems:
        say("error", problem)
    if problems:
        raise typer.Exit(EXIT_INVALID)
    design = result.design
    typer.echo(
        f"ok: {len(result.files)} file(s), {len(design.agents)} agents, {len(design.channels)} channels, "
        f"{len(design.groups)} groups, {len(design.trust_edges)} trust edges"
    )


@app.command("app")
def run_app(
    design: Annotated[
        Path | None, typer.Argument(help="Design to open: a file, a folder or a bundled sample's name (default: acme).")
    ] = None,
    port: Annotated[int, typer.Option(help="Port for the web app.")] = 8501,
    headless: Annotated[bool, typer.Option(help="Do not open a browser.")] = True,
) -> None:
    """Start the Streamlit app (shipped inside the package) on a design."""
    from lmos_studio import bundled

    _check_port(port)
    env = dict(os.environ)
    if design is not None:
        samples = bundled.sample_designs()
        if not design.exists() and str(design) in samples:
            design = samples[str(design)]
        elif not design.exists():
            fail(f"{design}: no such file or folder (nor a bundled sample: {', '.join(samples)})")
        env["LMOS_STUDIO_DESIGN"] = str(design.resolve())
    cmd = [sys.executable, "-m", "streamlit", "run", str(bundled.app_script()), "--server.port", str(port)]
    cmd += ["--server.headless", str(headless).lower()]
    for name, value in STREAMLIT_FLAGS:
        cmd += [f"--{name}", value]
    if os.name == "posix":  # streamlit takes this process's place: a stop signal (Ctrl-C, SIGTERM) reaches it
        sys.stdout.flush()
        sys.stderr.flush()
        os.execve(sys.executable, cmd, env)
    raise typer.Exit(subprocess.call(cmd, env=env))  # elsewhere a child; Ctrl-C reaches the console's group


def _check_port(port: int) -> None:
    """A port the app cannot listen on is bad input (exit 2), said before Streamlit starts: it ended in
    Streamlit's "Port N is not available" with exit 1, or an OverflowError traceback above 65535."""
    if not 1 <= port <= 65535:
        fail(f"--port is {port}; give a port from 1 to 65535")
    with socket.socket() as probe:  # as the server will bind it (SO_REUSEADDR: a socket in TIME_WAIT is no user)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("", port))
        except OSError as exc:
            why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror or exc})"
            fail(f"port {port} {why}; choose another with --port")


@app.command()
def samples(
    name: Annotated[str | None, typer.Argument(help="A sample to copy out (with --to) or to locate.")] = None,
    to: Annotated[Path | None, typer.Option("--to", help="Copy the sample NAME into this folder.")] = None,
    output: OutputOpt = "table",
) -> None:
    """List the sample designs shipped with LMOS Studio; `samples NAME --to DIR` copies one out to edit it.

    Open one with `lmos-studio app NAME`; every other command takes the path this command prints.
    """
    from lmos_studio import bundled

    found = bundled.sample_designs()
    if name is None:
        if to is not None:
            fail(f"name the sample to copy into {to}: one of {', '.join(found)}")
        rows = [{"name": n, "kind": "folder" if p.is_dir() else "file", "path": str(p)} for n, p in found.items()]
        table = [[r["name"], r["kind"], r["path"]] for r in rows]
        emit({"samples": rows}, output, lambda: render_table(["NAME", "KIND", "PATH"], table))
        return
    if name not in found:
        fail(f"no bundled sample {name!r}; the samples are: {', '.join(found)}")
    if to is None:
        typer.echo(str(found[name]))
        return
    typer.echo(str(bundled.copy_sample(name, to)))


@app.command()
def version() -> None:
    """Print the LMOS Studio version."""
    typer.echo(__version__)


def register_areas(areas: Iterable[str] = AREAS) -> typer.Typer:
    """Add the commands of these feature areas to `app` (each area once); returns `app`."""
    for area in areas:
        if area in _registered:
            continue
        _registered.add(area)
        importlib.import_module(f"lmos_studio.commands.{area}").register(app)
    _one_line_summaries(app)
    return app


def _one_line_summaries(typer_app: typer.Typer) -> None:
    """Each command's summary in a command list is the first paragraph of its docstring as one line: typer
    keeps the docstring's own line breaks there, so a wrapped first sentence was cut mid-phrase in `--help`."""
    groups = [typer_app, *(g.typer_instance for g in typer_app.registered_groups if g.typer_instance)]
    for group in groups:
        for command in group.registered_commands:
            doc = command.help or (command.callback.__doc__ if command.callback else None) or ""
            if command.short_help is None and doc:
                command.short_help = " ".join(doc.strip().split("\n\n")[0].split())


_registered: set[str] = set()


def _areas_for(args: Sequence[str]) -> tuple[str, ...]:
    """The areas a command line needs: none for this module's commands, one for a known command, else all."""
    command = args[0] if args and not args[0].startswith("-") else None
    if command in CORE_COMMANDS:
        return ()
    if command in COMMAND_AREAS:
        return (COMMAND_AREAS[command],)
    return AREAS


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and turn our errors into a message and exit code 2."""
    args = list(argv) if argv is not None else sys.argv[1:]
    if args == ["version"]:  # needs nothing: answered before typer parses (its parsing loads pydantic, ~0.2 s)
        typer.echo(__version__)
        return EXIT_OK
    try:
        register_areas(_areas_for(args))
        code = app(args=args, standalone_mode=False)
    except LmosStudioError as exc:
        say("error", exc)
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
