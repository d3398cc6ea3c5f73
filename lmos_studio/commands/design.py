"""Designer commands: `lmos-studio lint` (findings, exit 1 on errors) and `lmos-studio graph` (HTML/DOT).

Heavy imports (scikit-learn, pyvis) happen inside the commands, so other commands start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmos_studio.commands._shell import EXIT_PROBLEMS, Paths, emit, fail, load, render_table, tell
from lmos_studio.commands.routing import LexiconOpt, check_lexicon_option, with_lexicon
from lmos_studio.errors import DesignFileError
from lmos_studio.formats.yamlio import write_atomic


def lint(
    paths: Paths,
    output: Annotated[str, typer.Option("--output", "-o", help="json or table.")] = "table",
    lexicon: LexiconOpt = None,
) -> None:
    """Check a design: unresolved capabilities, bad versions and names, trust problems, routing quality.

    JSON: {"findings": [{"code", "severity", "objects", "message", "fix"}], "lexicon": {channel key: summary}}
    ("lexicon": how each channel compared for `ambiguous-capabilities` read its texts, as `eval` reports it;
    --lexicon overrides the design's routing.lexicon). Exit 0 when no finding is an error, 1 when one is,
    2 on invalid input.
    """
    from lmos_studio.lint import finding_rows, has_errors  # scikit-learn: only when linting
    from lmos_studio.routing.confusion import lint_report

    if output not in ("json", "table"):
        fail(f"--output {output!r} is not supported here; use json or table")
    check_lexicon_option(lexicon)
    report = lint_report(with_lexicon(load(paths).design, lexicon))
    findings = report.findings

    def table() -> str:
        rows = [[r["severity"], r["code"], r["objects"], r["message"], r["fix"]] for r in finding_rows(findings)]
        return render_table(["SEVERITY", "CODE", "OBJECTS", "MESSAGE", "FIX"], rows) if rows else "no findings"

    emit(
        {"findings": [f.to_dict() for f in findings], "lexicon": report.lexicon_summaries()},
        output,
        table,
    )
    if has_errors(findings):
        raise typer.Exit(EXIT_PROBLEMS)


def graph(
    path: Annotated[Path, typer.Argument(help="A design file or folder.")],
    html: Annotated[Path | None, typer.Option("--html", help="Write the interactive graph here.")] = None,
    dot: Annotated[Path | None, typer.Option("--dot", help="Write Graphviz DOT here.")] = None,
    full: Annotated[
        bool, typer.Option("--full", help="HTML: every agent, even above 150 nodes (default: clusters collapsed).")
    ] = False,
    expand: Annotated[
        list[str] | None,
        typer.Option(
            "--expand", help="HTML: show the agents of this group or channel (repeatable; a name or node id)."
        ),
    ] = None,
) -> None:
    """Write the Designer's graph of a design as offline HTML and/or DOT (DOT on stdout without options).

    Above 150 nodes the HTML opens with groups and channels collapsed into nodes with counts (the file stays
    small); --expand shows some clusters' agents, --full all of them. DOT is always complete."""
    from lmos_studio.aggregate import collapsed_graph, opens_collapsed
    from lmos_studio.graph import build_graph, cluster_ids, level_of_detail, place, saved_positions, to_dot
    from lmos_studio.trust import safe_resolutions
    from lmos_studio.view import render_html

    design = load([path]).design
    resolutions = safe_resolutions(design)
    if html is not None and dot is None and not full and not expand and opens_collapsed(design, resolutions):
        shown, positions = collapsed_graph(design, resolutions=resolutions)  # the same drawing, no agent-level graph
        _write(html, render_html(shown, positions=positions, title=design.name))
        return
    network = build_graph(design, resolutions=resolutions)
    if html is None and dot is None:
        typer.echo(to_dot(network), nl=False)
        return
    if html is not None:
        positions = place(network, saved_positions(design.layout))
        wanted = cluster_ids(network, expand) if expand else None
        shown, positions = level_of_detail(network, positions, wanted, full=full)
        _write(html, render_html(shown, positions=positions, title=design.name))
    if dot is not None:
        _write(dot, to_dot(network))


def _write(target: Path, text: str) -> None:
    try:
        write_atomic(target, text)
    except OSError as exc:
        raise DesignFileError(f"cannot write: {exc.strerror}", path=str(target)) from exc
    tell(f"wrote {target}")


def register(app: typer.Typer) -> None:
    app.command("lint")(lint)
    app.command("graph")(graph)
