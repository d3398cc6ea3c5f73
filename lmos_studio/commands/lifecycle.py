"""`lmos-studio diff` and `lmos-studio canary`: compare two designs, derive a canary from a stable design.

`diff` exits 0 without breaking changes, 1 with breaking changes, 2 on bad input; `canary` exits 1 when
the derived canary does not resolve.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lmos_studio.canary import DEFAULT_CANARY_WEIGHT, canary_findings, make_canary
from lmos_studio.commands._shell import (
    EXIT_PROBLEMS,
    check_design_out,
    check_out_of_folders,
    digests_before_reading,
    emit,
    fail,
    load,
    render_table,
    save_read_design,
    say,
    tell,
)
from lmos_studio.commands.routing import LexiconOpt, check_lexicon_option, with_lexicon
from lmos_studio.export.istio import DEFAULT_OPERATOR_HOST
from lmos_studio.lifecycle import DesignDiff, diff_designs
from lmos_studio.model import Design
from lmos_studio.routing.labelled import read_labelled_csv
from lmos_studio.visible import visible

CHANGE_COLUMNS = ("severity", "kind", "object", "before", "after", "detail")
IMPACT_COLUMNS = ("source", "query", "channel", "before", "after", "expected")


def _table(result: DesignDiff) -> str:
    parts = (
        ["no changes"]
        if not result.changes
        else [
            render_table(
                [c.upper() for c in CHANGE_COLUMNS], [[row[c] for c in CHANGE_COLUMNS] for row in result.rows()]
            )
        ]
    )
    if result.routing_impact:
        parts.append(f"\nrouting impact ({result.routing_method}):")
        parts.append(
            render_table(
                [c.upper() for c in IMPACT_COLUMNS], [[row[c] for c in IMPACT_COLUMNS] for row in result.impact_rows()]
            )
        )
    for side, found in (result.lexicon or {}).items():  # a channel's key and the notes quote the design's names
        parts += [visible(f"{side} {key or 'all agents'}: {summary}") for key, summary in found.items()]
    parts += [visible(f"note: {note}") for note in result.notes]
    summary = result.summary
    parts.append(
        f"\n{summary['breaking']} breaking, {summary['compatible']} compatible, {summary['info']} info; "
        f"{summary['routing_changes']} routing answer(s) change"
    )
    return "\n".join(parts)


def diff(
    old: Annotated[Path, typer.Argument(help="The old design (file or folder).")],
    new: Annotated[Path, typer.Argument(help="The new design (file or folder).")],
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or yaml.")] = "table",
    queries: Annotated[Path | None, typer.Option(help="Labelled CSV: text,agent[,capability][,channel].")] = None,
    router: Annotated[str | None, typer.Option(help="Route queries with this router (else resolution).")] = None,
    lexicon: LexiconOpt = None,
) -> None:
    """Classify every change from OLD to NEW (compatible, breaking, info) with its routing impact.

    With --router, the queries (and both designs' routing tests) are routed in each design, each channel's
    list as one batch; each design's routing.lexicon applies (--lexicon overrides it in both), and
    routingImpact.lexicon says per side which lexicon each routed channel used. Exit 0 without breaking
    changes, 1 with breaking changes, 2 on invalid input.
    """
    from lmos_studio.routing.select import get_router  # the routing library only when asked to route

    check_lexicon_option(lexicon)
    if lexicon is not None and not router:
        fail("--lexicon applies to routing: give --router too (without it diff compares resolution only)")
    labelled = read_labelled_csv(queries) if queries else None
    routing = get_router(router) if router else None
    before, after = (with_lexicon(load([path]).design, lexicon) for path in (old, new))
    result = diff_designs(before, after, queries=labelled, router=routing, source=str(queries))
    emit(result.to_json(), output, lambda: _table(result))
    if result.breaking:
        raise typer.Exit(EXIT_PROBLEMS)


def _ranges(items: list[str]) -> dict[str, str]:
    ranges = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            fail(f"--range {item!r}: write NAME=RANGE, e.g. --range view-bill='>=1.1.0'")
        ranges[name.strip()] = value.strip()
    return ranges


def canary(
    paths: Annotated[list[Path], typer.Argument(help="The stable design (files or folders).")],
    out: Annotated[
        Path,
        typer.Option(
            help="Write the design with the canary here: a YAML file, or a design folder (each resource into the "
            "file holding it, new ones into studio-added.yaml)."
        ),
    ],
    agent: Annotated[list[str] | None, typer.Option("--agent", "-a", help="A changed agent (repeatable).")] = None,
    changes: Annotated[
        Path | None, typer.Option(help="Agents' next versions (file or folder); matched by name. Default --agent: all.")
    ] = None,
    range_: Annotated[
        list[str] | None, typer.Option("--range", help="NAME=RANGE for a canary requirement (repeatable).")
    ] = None,
    weight: Annotated[int, typer.Option(help="Percent of traffic for the canary.")] = DEFAULT_CANARY_WEIGHT,
    operator_host: Annotated[str, typer.Option(help="The operator API host the split is for.")] = DEFAULT_OPERATOR_HOST,
) -> None:
    """Derive canary Channels, Agents, a ChannelRollout and the x-subset VirtualService for changed agents.

    Exit 0 when every canary resolves, 1 when one does not (the design is written anyway), 2 on bad input.
    """
    if not 0 <= weight <= 100:  # said before any file is read, naming the option
        fail(f"--weight {weight} is outside 0–100: the canary's percent of traffic (e.g. {DEFAULT_CANARY_WEIGHT})")
    check_out_of_folders(out, paths)
    check_design_out(out, paths)  # over the design file read (even named design.txt) is fine
    expected = digests_before_reading(out, paths)  # --out the file or folder read: refuse what changed meanwhile
    design = load(paths).design
    changed = {a.name: a for a in _changed_agents(changes).agents} if changes else {}
    names = list(agent or ()) or [n for n in changed if design.agent(n) is not None]
    if not names:
        fail("name the changed agents with --agent (or give --changes with agents of this design)")
    result = make_canary(
        design,
        agents=names,
        canary_weight=weight,
        changes=changed,
        ranges=_ranges(list(range_ or ())),
        operator_host=operator_host,
    )
    saved = save_read_design(result, out, expected)  # over a hand-written design (even the one read): comments kept
    for warning in saved.masked + saved.warnings:  # the file holds *** where masked ones were
        say("warning", warning)
    for note in saved.notes:  # a design folder: where its new resources went
        say("note", note)
    written = saved.path
    tell(f"wrote {written}: {_made(design, result)}")
    findings = canary_findings(result)
    for finding in findings:
        say("", finding)
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(EXIT_PROBLEMS)


def _made(before: Design, after: Design) -> str:
    """What canary wrote: the Agents, Channels and rollouts it added or changed (a repeated canary with another weight
    changes the rollout and the canary channel's version), and how many of each are new."""
    parts = []
    for what, old, new in (
        ("canary agent", before.agents, after.agents),
        ("canary channel", before.channels, after.channels),
        ("rollout", before.rollouts, after.rollouts),
    ):
        kept = {item.key: item for item in old}
        written = [item for item in new if kept.get(item.key) != item]
        added = sum(item.key not in kept for item in written)
        parts.append(f"{len(written)} {what}(s) ({added} new)")
    return ", ".join(parts)


def _changed_agents(path: Path) -> Design:
    """The --changes design; a version that is not strict SemVer is bad input, refused before anything is written
    (resolving the canary would only meet it after the design was written, and name the derived agent)."""
    from lmos_studio.resolve import invalid_versions

    result = load([path])
    problems = invalid_versions(result.design, locations=result.locations)
    if problems:
        fail("; ".join(str(p) for p in problems))
    return result.design


def register(app: typer.Typer) -> None:
    """Add `diff` and `canary` to the CLI."""
    app.command("diff")(diff)
    app.command("canary")(canary)
