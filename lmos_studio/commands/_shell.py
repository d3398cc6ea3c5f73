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


def tell(message: object) -> None:
    """One line on stdout as `visible` text (`say`'s rule): a result line that quotes a path, a design's names or
    a registry's words ("wrote PATH", "added trust edge A → B")."""
    from lmos_studio.visible import visible

    typer.echo(visible(message))


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


TABLE_MIN_COLUMN = 12  # a wrapped column is never narrower than this (nor than its longest word, …)
TABLE_WORD_MOST = 60  # … up to this many characters: a longer word is broken


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, width: int | None = None) -> str:
    """A plain aligned text table: a line break, control or bidi character in a cell (a registry's text) is shown
    as its escape (`visible`), so it cannot break a row or turn text around. One line per row when written to a
    pipe or file (grep and scripts see whole rows); on a terminal (`width`: default, the terminal's when stdout
    is one) a table wider than it has its widest columns wrapped to fit, each row then followed by a blank line
    (a lint message of 300 characters was one line 800 columns wide)."""
    from lmos_studio.visible import visible

    cells = [[visible(h) for h in headers]] + [[visible(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fit = _fitted(cells, widths, terminal_width() if width is None else width)
    if fit == widths:
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines)
    out = [*_wrapped_row(cells[0], fit), "  ".join("-" * w for w in fit)]
    for row in cells[1:]:
        out += [*_wrapped_row(row, fit), ""]
    return "\n".join(out).rstrip("\n")


def terminal_width() -> int | None:
    """The terminal's width in columns when stdout is a terminal, else None (a pipe or file: rows stay whole)."""
    import shutil
    import sys

    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((120, 24)).columns


def _fitted(cells: list[list[str]], widths: list[int], total: int | None) -> list[int]:
    """Column widths that fit `total` columns (two spaces between columns), or `widths` itself when it fits or
    `total` is None. No column is narrower than its longest word (a name, an id: copied whole from the screen),
    up to `TABLE_WORD_MOST`, unless the longest words cannot stand side by side (then the widest such columns
    give way, to `TABLE_MIN_COLUMN` at the least); what is left is shared in proportion to what columns lack."""
    gaps = 2 * (len(widths) - 1)
    if total is None or sum(widths) + gaps <= total:
        return widths
    longest = [max((len(word) for row in cells for word in row[i].split()), default=0) for i in range(len(widths))]
    least = [min(w, max(word, TABLE_MIN_COLUMN), TABLE_WORD_MOST) for w, word in zip(widths, longest, strict=True)]
    extra = total - gaps - sum(least)
    if extra <= 0:  # the longest words do not fit side by side: the widest columns give way (their words break)
        while extra < 0 and max(least) > TABLE_MIN_COLUMN:
            least[least.index(max(least))] -= 1
            extra += 1
        return least  # at TABLE_MIN_COLUMN each, as narrow as it goes: the terminal wraps the rest
    lacking = [w - m for w, m in zip(widths, least, strict=True)]  # some lack: the table did not fit
    return [m + extra * lack // sum(lacking) for m, lack in zip(least, lacking, strict=True)]


def _wrapped_row(row: Sequence[str], widths: Sequence[int]) -> list[str]:
    """One row as lines, each cell wrapped to its column's width (words kept whole where they fit)."""
    import textwrap

    columns = [textwrap.wrap(cell, w, break_on_hyphens=False) or [""] for cell, w in zip(row, widths, strict=True)]
    height = max(len(c) for c in columns)
    return [
        "  ".join((c[i] if i < len(c) else "").ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()
        for i in range(height)
    ]
