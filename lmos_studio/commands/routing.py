"""`lmos-studio route | eval | test | whatif`: routing from a shell, with a stable JSON contract for CI.

route  → {"channel", "router", "match": {"agent", "capability", "score", "evidence"} | null, "fit", "threshold",
          "matches": [{"agent", "capability", "score", "evidence"}],   (ranked candidates, even when no match)
          "lexicon": {"setting", "used", "coverage", "held_out_accuracy_with", "held_out_accuracy_without",
                      "held_out_n", "summary"} | null}   (the built-in lexicon used or not, and why; null: LLM)
eval   → {"n", "accuracy", "in_scope_accuracy", "out_of_scope_recall", "false_rejects", "n_out_of_scope",
          "capability_accuracy", "macro_f1", "per_agent", "confusion", "misroutes", "latency_ms",
          "intervals": {"confidence", "method", figure: [low, high] | null},   (95 % Wilson, per share)
          "lexicon": {channel key ("" = all agents): summary},
          "against": {"router", …the same figures} and "paired": {"first", "second", "n", "both_right",
          "only_first", "only_second", "both_wrong", "p_value", "test", "significant", "verdict"} with --against}
          (macro_f1 null without in-scope rows; stderr warns of seed examples for agents the design lacks and
          of capabilities a row's agent does not have)
test   → {"router", "passed", "total", "tests": [{…, "lexicon"}], "lexicon": {channel key: summary}}; exit 1 when
          any routing test of the design fails (JUnit XML with --junit)
whatif → which channels resolve differently and which tests / labelled queries change route, and
          "lexicon": {"before"|"after": {channel key: summary}} for the channels routed, and "skipped":
          [{"test", "reason"}] for routing tests naming no Channel of the design (not compared; `test` fails them)
lint and `diff --router` report the policy too ("lexicon" in lint's JSON, routingImpact.lexicon in diff's).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lmos_studio.commands._shell import EXIT_PROBLEMS, emit, fail, load, render_table, say
from lmos_studio.errors import DesignFileError, RoutingError
from lmos_studio.formats import yamlio
from lmos_studio.formats.detect import read_description_file
from lmos_studio.model import Design
from lmos_studio.redact import redact_text

if TYPE_CHECKING:
    from lmos_studio.routing.evaluate import Evaluation
    from lmos_studio.routing.metrics import Metrics
    from lmos_studio.whatif import Edit

# The routing library (scikit-learn, numpy) is imported inside the commands: other commands start faster.
DEFAULT_ROUTER = "auto"

PathArg = Annotated[Path, typer.Argument(help="A design (file or folder), LMOS YAML, or AgentRoutingSpec JSON.")]
RouterOpt = Annotated[str, typer.Option("--router", "-r", help="statistical, embedding, llm, hybrid or auto.")]
OutputOpt = Annotated[str, typer.Option("--output", "-o", help="json or table.")]
MinScoreOpt = Annotated[
    float | None,
    typer.Option(
        "--min-score",
        help="No agent answers below this fit (0–1; default: the design's routing.minScore, else the "
        "router's threshold from the design's examples).",
    ),
]
LexiconOpt = Annotated[
    str | None,
    typer.Option(
        "--lexicon",
        help="The built-in customer-service lexicon of the offline routers (and of the hybrid router's "
        "shortlist): auto (per channel, from its own texts), customer-service or none (default: the design's "
        "routing.lexicon, else auto).",
    ),
]
ChannelOpt = Annotated[
    str | None, typer.Option("--channel", "-c", help="Channel key (ns/name), name, or channel label when unambiguous.")
]


def load_routing_design(paths: list[Path]) -> Design:
    """A design from design files, LMOS YAML, or agent descriptions (AgentRoutingSpec JSON and the like).

    One without any Agent is refused (DesignFileError naming the path): routing it answered every query with
    "no agent: the channel has no candidates", exit 0, for an empty or wrong file."""
    for path in paths:
        if not path.exists():
            raise DesignFileError("no such file or folder; check the path", path=str(path))
    design = _routing_design(paths)
    if not design.agents:
        raise DesignFileError(
            "no Agent to route to; give a design with `kind: Agent` documents, or an AgentRoutingSpec JSON",
            path=", ".join(str(p) for p in paths),
        )
    return design


def _routing_design(paths: list[Path]) -> Design:
    if len(paths) == 1 and paths[0].is_file() and paths[0].suffix.lower() == ".json":
        try:  # AgentRoutingSpec, A2A card, TD, capabilities document … (a JSON design falls through)
            agents = read_description_file(paths[0])
        except DesignFileError:
            return load(paths).design
        return Design(name=paths[0].stem, agents=tuple(agents))
    return load(paths).design


def with_lexicon(design: Design, lexicon: str | None) -> Design:
    """The design with `--lexicon` in place of its `spec.routing.lexicon` (None: unchanged)."""
    if lexicon is None:
        return design
    from lmos_studio.routing.lexicon import check_lexicon

    routing = design.routing.model_copy(update={"lexicon": check_lexicon(lexicon)})
    return design.model_copy(update={"routing": routing})


def check_lexicon_option(lexicon: str | None) -> None:
    """A bad `--lexicon` fails before any design is read (exit 2, naming the option)."""
    if lexicon is not None:
        from lmos_studio.routing.lexicon import check_lexicon

        check_lexicon(lexicon)


def _match_rows(matches: list[dict[str, Any]]) -> list[list[Any]]:
    return [
        [i + 1, m["agent"], m["capability"], f"{m['score']:.3f}", " | ".join(m["evidence"])[:80]]
        for i, m in enumerate(matches)
    ]


def route(
    path: PathArg,
    query: Annotated[str, typer.Argument(help="The customer message to route.")],
    channel: ChannelOpt = None,
    router: RouterOpt = DEFAULT_ROUTER,
    output: OutputOpt = "json",
    top_k: Annotated[int, typer.Option("--top-k", help="Ranked matches to show.")] = 5,
    min_score: MinScoreOpt = None,
    lexicon: LexiconOpt = None,
) -> None:
    """Route one query in one channel: the answering agent and capability (or none), the ranked candidates
    with scores and evidence, and whether the built-in lexicon was used (and why)."""
    from lmos_studio.routing.base import check_threshold
    from lmos_studio.routing.lexicon import lexicon_choice_of
    from lmos_studio.routing.select import kept_fits
    from lmos_studio.routing.table import channel_key, routing_table

    if not query.strip():
        fail("the query is empty; pass the customer message as the last argument")
    if top_k < 1:  # 0 read as "the channel has no candidates" (no agent), a negative one dropped candidates
        fail(f"--top-k is {top_k}; give 1 or more ranked matches to show")
    if min_score is not None:
        check_threshold(min_score)
    check_lexicon_option(lexicon)
    design = with_lexicon(load_routing_design([path]), lexicon)
    key = channel_key(design, channel or "")
    chosen = kept_fits(router, design)
    fitted = chosen.fit(routing_table(design, key))
    _say_fallback(chosen)
    result = fitted.route(query, top_k=top_k).with_threshold(min_score)
    matches = [
        {"agent": m.agent, "capability": m.capability, "score": m.score, "evidence": list(m.evidence)}
        for m in result.matches
    ]
    data = {
        "channel": key,
        "router": result.router or router,
        "match": None if result.no_match else matches[0],
        "fit": result.fit,
        "threshold": result.threshold,
        "elsewhere": result.elsewhere,
        "elsewhere_limit": result.elsewhere_limit,
        "rejected_by": result.rejected_by,
        "reason": result.reason,
        "matches": matches,
        "lexicon": choice.to_dict() if (choice := lexicon_choice_of(fitted)) else None,
    }
    headers = ["#", "AGENT", "CAPABILITY", "SCORE", "EVIDENCE"]

    def table() -> str:
        rows = render_table(headers, _match_rows(matches))
        if choice is not None:
            rows += f"\n\n{choice.describe()}"
        if not result.no_match:
            return rows
        why = f" ({result.reason})" if result.reason else ""
        return f"no agent of this channel would answer{why}; nearest candidates:\n\n{rows}"

    emit(data, output, table)


def _warn(warning: str) -> None:
    """A warning of the library's (the Evaluate page shows the same) on stderr; nothing for ""."""
    if warning:
        say("warning", warning)


def _say_fallback(router: Any) -> None:
    """`auto` fell back to the statistical router: say why on stderr (stdout stays the contract)."""
    note = getattr(router, "note", "")
    if note:
        say("note", note)


def _metric(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"


def _within(m: Metrics, name: str) -> str:
    """A figure of `m` with its 95 % interval: "0.8205 [0.67–0.91]"."""
    value, span = getattr(m, name), m.intervals.get(name)
    return _metric(value) + ("" if span is None else f" [{span[0]:.2f}–{span[1]:.2f}]")


def _headline(evaluation: Evaluation) -> str:
    """`eval -o table`'s first line for one router: the figures, shares with 95 % intervals."""
    m = evaluation.metrics
    return (
        f"router {evaluation.router} · n {m.n} · accuracy {_within(m, 'accuracy')} · in scope "
        f"{_within(m, 'in_scope_accuracy')} · out-of-scope recall {_within(m, 'out_of_scope_recall')} · false "
        f"rejects {m.false_rejects} · capability accuracy {_within(m, 'capability_accuracy')} · macro F1 "
        f"{_metric(m.macro_f1)} · p50 {m.latency_p50_ms:.2f} ms · p95 {m.latency_p95_ms:.2f} ms\n"
    )


def eval_command(
    path: PathArg,
    queries: Annotated[
        Path,
        typer.Argument(
            help="Labelled CSV: a text column (instruction, query or text), agent, and optionally capability "
            "(or intent) and channel."
        ),
    ],
    seed: Annotated[
        Path | None, typer.Option("--seed", help="Seed examples (CSV like QUERIES, or lmos-router seed.json).")
    ] = None,
    router: RouterOpt = DEFAULT_ROUTER,
    channel: ChannelOpt = None,
    output: OutputOpt = "json",
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Calibrate a hybrid router's threshold on QUERIES first.")
    ] = False,
    min_score: MinScoreOpt = None,
    lexicon: LexiconOpt = None,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Also evaluate this router on the same rows and compare the two row by row (exact McNemar "
            "test): is the difference real or could this set not tell?",
        ),
    ] = None,
) -> None:
    """Evaluate a router on a labelled query set: accuracy (in and out of scope, with 95 % intervals),
    per-agent P/R/F1, confusion, misroutes, latency.

    --channel is the channel of rows that do not name one (default: all agents). A row with an empty agent
    cell is out of scope: the right answer is "no agent". With --against ROUTER the JSON adds "against" (that
    router's figures) and "paired" (rows only one of them got right, the test's p-value and a verdict).
    """
    from lmos_studio.routing.base import check_threshold
    from lmos_studio.routing.evaluate import (
        evaluate,
        paired_evaluations,
        unknown_capabilities_warning,
        unknown_seed_agents_warning,
    )
    from lmos_studio.routing.labelled import read_labelled_csv, read_seed, seed_rows
    from lmos_studio.routing.select import kept_fits
    from lmos_studio.routing.table import channel_key

    if min_score is not None:
        check_threshold(min_score)
    check_lexicon_option(lexicon)
    design = with_lexicon(load_routing_design([path]), lexicon)
    if channel:  # checked here: an unknown one was blamed on a row of the CSV, or ignored when every row names one
        try:
            channel_key(design, channel)
        except RoutingError as exc:
            raise RoutingError(f"--channel: {exc}") from exc
    rows = read_labelled_csv(queries)
    seeds = seed_rows(read_seed(seed)) if seed else ()
    _warn(unknown_seed_agents_warning(design, seeds, source=seed))

    def run(name: str) -> Evaluation:
        chosen = kept_fits(name, design)
        found = evaluate(
            design,
            rows,
            router=chosen,
            seed=seeds,
            channel=channel or "",
            source=str(queries),
            calibrate=calibrate,
            min_score=min_score,
        )
        _say_fallback(chosen)
        return found

    result = run(router)
    other = run(against) if against is not None else None
    _warn(unknown_capabilities_warning(design, rows, channel=channel or "", source=queries))
    for key, calibration in result.calibrations.items():
        say("", f"calibrated {key or 'all agents'}: {calibration}")
    data = result.to_dict()
    pair = None
    if other is not None:
        pair = paired_evaluations(result, other)
        data["against"] = {"router": other.router, **other.to_dict()}
        data["paired"] = pair.to_dict()

    def table() -> str:
        head = "".join(_headline(e) for e in (result, other) if e is not None)
        head += f"{pair.verdict()}\n\n" if pair is not None else "\n"
        head += "".join(f"{key or 'all agents'}: {summary}\n" for key, summary in result.lexicon.items())
        m = result.metrics
        rows_ = [[a, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", s.support] for a, s in m.per_agent.items()]
        return (
            head
            + ("\n" if result.lexicon else "")
            + render_table(["AGENT", "PRECISION", "RECALL", "F1", "SUPPORT"], rows_)
        )

    emit(data, output, table)


def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Design files or folders.")],
    router: RouterOpt = DEFAULT_ROUTER,
    junit: Annotated[Path | None, typer.Option("--junit", help="Write a JUnit XML report here.")] = None,
    output: OutputOpt = "table",
    lexicon: LexiconOpt = None,
) -> None:
    """Run the design's routing tests; exit 1 when any fails (for CI)."""
    from lmos_studio.routing.regression import junit_xml, run_routing_tests
    from lmos_studio.routing.select import kept_fits

    check_lexicon_option(lexicon)
    design = with_lexicon(load_routing_design(paths), lexicon)
    chosen = kept_fits(router, design)
    outcomes = run_routing_tests(design, router=chosen)
    _say_fallback(chosen)
    if junit is not None:
        if junit.is_dir():  # os.replace onto a folder was an IsADirectoryError traceback, exit 1
            raise DesignFileError(
                "is a folder; give the JUnit report a file name, e.g. routing-tests.xml", path=str(junit)
            )
        try:
            yamlio.write_atomic(junit, junit_xml(outcomes, suite=design.name, router=chosen.name))
        except OSError as exc:
            raise DesignFileError(f"cannot write the JUnit report: {exc.strerror}", path=str(junit)) from exc
    rows = [
        ["PASS" if o.passed else "FAIL", o.channel or "(all agents)", redact_text(o.test.query)[:60], o.message]
        for o in outcomes
    ]
    choices = {o.channel: o.lexicon for o in sorted(outcomes, key=lambda o: o.channel) if o.lexicon}
    emit(
        {
            "router": chosen.name,
            "passed": sum(o.passed for o in outcomes),
            "total": len(outcomes),
            "tests": [o.to_dict() for o in outcomes],
            "lexicon": choices,
        },
        output,
        lambda: (
            render_table(["RESULT", "CHANNEL", "QUERY", "MESSAGE"], rows)
            + f"\n\n{sum(o.passed for o in outcomes)}/{len(outcomes)} routing tests passed"
            + "".join(f"\n{key or 'all agents'}: {summary}" for key, summary in choices.items())
        ),
    )
    if not outcomes:
        typer.echo("warning: the design has no routing tests", err=True)
    if any(not o.passed for o in outcomes):
        raise typer.Exit(EXIT_PROBLEMS)


def _changes(
    remove_agent: list[str], disable_agent: list[str], remove_capability: list[str], move_agent: list[str]
) -> list[Edit]:
    from lmos_studio.whatif import parse_change

    pairs = [
        ("remove-agent", remove_agent),
        ("disable-agent", disable_agent),
        ("remove-capability", remove_capability),
        ("move-agent", move_agent),
    ]
    return [parse_change(kind, value) for kind, values in pairs for value in values]


Many = Annotated[list[str] | None, typer.Option(help="May be repeated.")]


def whatif_command(
    path: PathArg,
    remove_agent: Many = None,
    disable_agent: Many = None,
    remove_capability: Annotated[list[str] | None, typer.Option(help="AGENT:CAPABILITY; may be repeated.")] = None,
    move_agent: Annotated[list[str] | None, typer.Option(help="AGENT:CHANNEL_LABEL[:SUBSET]; may be repeated.")] = None,
    queries: Annotated[
        Path | None, typer.Option("--queries", help="Labelled CSV whose queries are checked too.")
    ] = None,
    router: RouterOpt = DEFAULT_ROUTER,
    output: OutputOpt = "json",
    lexicon: LexiconOpt = None,
) -> None:
    """What if an agent or capability went away or moved: channel resolution and routes, before → after."""
    from lmos_studio.routing.labelled import read_labelled_csv
    from lmos_studio.routing.select import kept_fits
    from lmos_studio.whatif import what_if

    changes = _changes(remove_agent or [], disable_agent or [], remove_capability or [], move_agent or [])
    if not changes:
        fail("give at least one change: --remove-agent, --disable-agent, --remove-capability or --move-agent")
    check_lexicon_option(lexicon)
    design = with_lexicon(load_routing_design([path]), lexicon)
    rows = read_labelled_csv(queries) if queries else []
    result = what_if(design, changes, router=kept_fits(router, design), queries=rows, source=str(queries))

    def table() -> str:
        parts = ["changes: " + "; ".join(c.describe() for c in result.changes)]
        if result.channels:
            parts.append(
                render_table(
                    ["CHANNEL", "BEFORE", "AFTER", "LOST", "REASONS"],
                    [
                        [c.channel, c.before, c.after, ", ".join(c.lost), "; ".join(c.reasons)[:80]]
                        for c in result.channels
                    ],
                )
            )
        parts.append(
            render_table(
                ["SOURCE", "NAME", "CHANNEL", "EXPECTED", "BEFORE", "AFTER"],
                [
                    [r["source"], r["name"][:40], r["channel"], r["expected"], r["before"], r["after"]]
                    for r in result.route_rows()
                ],
            )
            if result.routes
            else "no routing test or query changes route"
        )
        parts += [f"not compared: routing test {name!r}: {reason}" for name, reason in result.skipped_tests]
        lines = [
            f"{side} {key or 'all agents'}: {line}"
            for side, found in result.lexicon.items()
            for key, line in found.items()
        ]
        return "\n\n".join(parts + (["\n".join(lines)] if lines else []))

    emit(result.to_dict(), output, table)


def register(app: typer.Typer) -> None:
    """Add route, eval, test and whatif to the CLI."""
    app.command("route")(route)
    app.command("eval")(eval_command)
    app.command("test")(test_command)
    app.command("whatif")(whatif_command)
