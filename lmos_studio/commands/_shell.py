"""What every command shares: exit codes, `say`, `fail`, `emit`, `load` and `render_table`.

Command modules and `cli.py` import these from here; no command imports `cli`.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:  # imported when used: `lmos-studio version` and `samples` never load the design readers
    from lmos_studio.formats.design_file import LoadResult, Saved
    from lmos_studio.model import Design

EXIT_OK, EXIT_PROBLEMS, EXIT_INVALID = 0, 1, 2

Paths = Annotated[list[Path], typer.Argument(help="Design files or folders (YAML, multi-document, or a folder).")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="json, yaml or table.")]


def say(kind: str, message: object) -> None:
    """One line on stderr, `kind: message` (error, warning, note; "": the message alone), the message as `visible`
    text: it quotes a design's, a file's or a registry's words, where ESC would begin a terminal escape sequence
    and U+202E turn the line around (ordinary Unicode, 'é' or '→', shows as itself)."""
    from lmos_studio.visible import visible

    typer.echo(f"{kind}: {visible(message)}" if kind else visible(message), err=True)


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print an error on stderr (`say`) and leave with an exit code."""
    say("error", message)
    raise typer.Exit(code)


def check_out_of_folders(out: Path, paths: Sequence[Path], flag: str = "--out") -> None:
    """Refuse (exit 2) a design file to be written inside a folder the design is read from: the folder would
    then hold each resource twice (in its files and in `out`), and the next read warns of every one. Over a
    design read from one file, writing is fine: that is the file replaced."""
    from lmos_studio.formats.design_file import folder_holding

    folder = folder_holding(out, paths)
    if folder is not None:
        fail(
            f"{flag} {out} is inside the folder the design was read from ({folder}): the folder would hold every "
            "resource twice; write it outside that folder (e.g. next to it)"
        )


def check_design_out(out: Path, paths: Sequence[Path] = (), flag: str = "--out") -> None:
    """Refuse (exit 2) a new design file whose name does not end in .yaml or .yml (`check_new_design_file`); a
    design folder, or the file the design was read from (among `paths`, saved over), keeps any name."""
    from lmos_studio.errors import DesignFileError
    from lmos_studio.formats.design_file import check_new_design_file

    try:
        check_new_design_file(out, saved_in_place=[p for p in paths if p.is_file()])
    except DesignFileError as exc:
        fail(f"{flag} {exc}")


def digests_before_reading(target: Path, paths: Sequence[Path]) -> Mapping[str, str] | None:
    """What saving into `target` will compare the disk with (`design_folder.read_digests`), when `target` is one
    of `paths` the design is about to be read from (taken before reading: a change made while it is read refuses
    the save, never slips through); None for any other target (nothing read there to lose)."""
    from lmos_studio.formats.design_folder import read_digests

    if not any(target.resolve() == p.resolve() for p in paths if p.exists()):
        return None
    return read_digests(target)


def save_read_design(design: Design, target: Path, expected: Mapping[str, str] | None) -> Saved:
    """`design_folder.save_design_at(design, target, expected=expected)`; a file changed on disk since the design
    was read is exit 2 naming it (nothing is written), as the Designer's Save refuses it."""
    from lmos_studio.errors import DesignChangedError
    from lmos_studio.formats.design_folder import save_design_at

    try:
        return save_design_at(design, target, expected=expected)
    except DesignChangedError as exc:
        fail(f"{'; '.join(exc.changes(full=True))} on disk since it was read; nothing was written; run again")


def emit(data: Any, output: str, table: Callable[[], str] | None = None) -> None:
    """Print data as JSON, YAML or a table (the table renderer is given by the command)."""
    from lmos_studio.formats import yamlio

    if output == "json":
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif output == "yaml":
        typer.echo(yamlio.dump(data), nl=False)
    elif output == "table" and table is not None:
        typer.echo(table())
    else:
        fail(f"--output {output!r} is not supported here; use json, yaml" + (" or table" if table else ""))


def load(paths: Sequence[Path], namespace: str | None = None) -> LoadResult:
    """Load a design for a command; warnings go to stderr; --namespace keeps one namespace."""
    from lmos_studio.formats.design_file import load_design
    from lmos_studio.formats.yamlio import gc_paused

    with gc_paused():  # frozen before the collector runs again: its next collections would walk the new design
        result = load_design(paths)
        gc.freeze()  # the design lives until the command exits: spare the collector re-walking it (large designs)
    for warning in result.warnings:
        say("warning", warning)
    if namespace:
        design = result.design
        if namespace not in design.namespaces:  # a typo would otherwise check nothing and pass
            known = ", ".join(design.namespaces) or "none"
            fail(f"--namespace {namespace!r}: no agent or channel of the design is in it; its namespaces: {known}")
        result.design = design.replace(
            agents=tuple(a for a in design.agents if a.namespace == namespace),
            channels=tuple(c for c in design.channels if c.namespace == namespace),
        )
    return result


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table, one line per row: a line break, control or bidi character in a cell (a
    registry's text) is shown as its escape (`visible`), so it cannot break a row or turn text around."""
    from lmos_studio.visible import visible

    cells = [[visible(h) for h in headers]] + [[visible(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
