"""Designer commands: `lmos-studio lint` (findings, exit 1 on errors) and `lmos-studio graph` (HTML/DOT).

Heavy imports (scikit-learn, pyvis) happen inside the commands, so other commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmos_studio.commands._shell import EXIT_PROBLEMS, Paths, emit, fail, load, render_table
from lmos_studio.errors import DesignFileError
from lmos_studio.formats.yamlio import write_atomic


def lint(paths: Paths, output: Annotated[str, typer.Option("--output", "-o", help="json or table.")] = "table") -> None:
    """Check a design: unresolved capabilities, bad versions and names, trust problems, routing quality.

    JSON: {"findings": [{"code", "severity", "objects", "message", "fix"}]}. Exit 0 when no finding is an
    error, 1 when one is, 2 on invalid input.
    """
    from lmos_studio.lint import finding_rows, has_errors, lint_design  # scikit-learn: only when linting

    if output not in ("json", "table"):
        fail(f"--output {output!r} is not supported here; use json or table")
    findings = lint_design(load(paths).design)

    def table() -> str:
        rows = [[r["severity"], r["code"], r["objects"], r["message"], r["fix"]] for r in finding_rows(findings)]
        return render_table(["SEVERITY", "CODE", "OBJECTS", "MESSAGE", "FIX"], rows) if rows else "no findings"

    emit({"findings": [f.to_dict() for f in findings]}, output, table)
    if has_errors(findings):
        raise typer.Exit(EXIT_PROBLEMS)


def graph(
    path: Annotated[Path, typer.Argument(help="A design file or folder.")],
    html: Annotated[Path | None, typer.Option("--html", help="Write the interactive graph here.")] = None,
    dot: Annotated[Path | None, typer.Option("--dot", help="Write Graphviz DOT here.")] = None,
) -> None:
    """Write the Designer's graph of a design as offline HTML and/or DOT (DOT on stdout without options)."""
    from lmos_studio.graph import build_graph, layout, to_dot
    from lmos_studio.view import render_html

    design = load([path]).design
    network = build_graph(design)
    if html is None and dot is None:
        typer.echo(to_dot(network), nl=False)
        return
    if html is not None:
        _write(html, render_html(network, positions=layout(network), title=design.name))
    if dot is not None:
        _write(dot, to_dot(network))


def _write(target: Path, text: str) -> None:
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise DesignFileError(f"cannot write: {exc.strerror}", path=str(target)) from exc
    typer.echo(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
    app.command("graph")(graph)
