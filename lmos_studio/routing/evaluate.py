"""Run a router over labelled queries, channel by channel (each channel fitted once), and score it.

Channels are named by key (ns/name), by name, or by `channel` label when that is unambiguous; a query
without a channel is routed in the run's default channel (or over all agents). Reading labelled files lives
in labelled.py, the figures in metrics.py; this module only routes and collects.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lmos_studio.errors import DesignFileError, RoutingError, VersionError
from lmos_studio.model import Design
from lmos_studio.routing.base import FittedRouter, Router, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.labelled import LabelledQuery, SeedRow
from lmos_studio.routing.lexicon import lexicon_choice_of
from lmos_studio.routing.metrics import NO_AGENT, Metrics, Paired, Prediction, compute_metrics, paired
from lmos_studio.routing.select import DEFAULT_ROUTER, get_router, router_names
from lmos_studio.routing.table import channel_key, routing_table

__all__ = ["DEFAULT_ROUTER", "get_router", "router_names"]  # re-exported for the CLI and UI

Progress = Callable[[int, int], None]  # (done, total), called after every routed batch
PROGRESS_BATCH = 512  # queries routed together between two progress calls
Fit = Callable[[RoutingTable, tuple[SeedRow, ...]], FittedRouter]


def seed_for(table: RoutingTable, seed: Sequence[SeedRow]) -> tuple[SeedRow, ...]:
    """The seed rows whose agent this table routes to (a capability the agent lacks is dropped)."""
    caps = {(c.agent, c.capability) for c in table.candidates}
    agents = set(table.agents)
    return tuple((text, agent, cap if (agent, cap) in caps else "") for text, agent, cap in seed if agent in agents)


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def _cell(text: str) -> str:
    """A CSV text cell a spreadsheet shows as text: one starting like a formula gets a leading apostrophe
    (queries come from uploaded files; OWASP's advice against CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass(frozen=True)
class Evaluation:
    """A router's predictions on a labelled set, and their figures."""

    router: str
    predictions: tuple[Prediction, ...]
    metrics: Metrics
    usage: dict[str, Any] = field(default_factory=dict)  # tokens, cost, tracks summed over the queries
    calibrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # channel key → hybrid threshold
    lexicon: dict[str, str] = field(default_factory=dict)  # channel key ("" = all agents) → lexicon choice

    def to_dict(self) -> dict[str, Any]:
        """The `lmos-studio eval` JSON (exactly the contract's keys: the metrics and, per channel, whether the
        built-in lexicon was used and why)."""
        return {**self.metrics.to_dict(), "lexicon": dict(self.lexicon)}

    def to_json(self) -> str:
        """Everything, for download: router, the contract's figures, usage and calibrations."""
        return json.dumps(
            {"router": self.router, **self.to_dict(), "usage": self.usage, "calibrations": self.calibrations},
            indent=2,
            ensure_ascii=False,
        )

    def to_csv(self) -> str:
        """Every prediction as a CSV row (for download)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            [
                "line",
                "query",
                "channel",
                "expected_agent",
                "expected_capability",
                "agent",
                "capability",
                "correct",
                "score",
                "latency_ms",
                "evidence",
            ]
        )
        for p in self.predictions:
            writer.writerow(
                [
                    p.line,
                    *map(
                        _cell,
                        (p.text, p.channel, p.expected_agent, p.expected_capability, p.agent, p.capability),
                    ),
                    p.correct,
                    f"{p.score:.4f}",
                    f"{p.latency_ms:.3f}",
                    _cell(" | ".join(p.evidence)),
                ]
            )
        return out.getvalue()


def group_by_channel(
    design: Design, queries: Sequence[LabelledQuery], *, default_channel: str = "", source: str | None = None
) -> dict[str, list[LabelledQuery]]:
    """Channel key → its queries; an unknown or ambiguous channel names the file and line."""
    keys: dict[str, str] = {}
    groups: dict[str, list[LabelledQuery]] = {}
    for query in queries:
        ref = query.channel or default_channel
        if ref not in keys:
            try:
                keys[ref] = channel_key(design, ref)
            except RoutingError as exc:
                raise DesignFileError(str(exc), path=source, line=query.line or None, field="channel") from exc
        groups.setdefault(keys[ref], []).append(query)
    return groups


def route_timed(fitted: FittedRouter, text: str, *, top_k: int = 5) -> tuple[RouteResult, float]:
    """Route one query; returns the result and the wall time in milliseconds."""
    start = time.perf_counter()
    result = fitted.route(text, top_k=top_k)
    return result, (time.perf_counter() - start) * 1000.0


def _prediction(query: LabelledQuery, key: str, result: RouteResult) -> Prediction:
    best = result.best
    shown = best or (result.matches[0] if result.matches else None)  # a rejected candidate's evidence
    return Prediction(
        text=query.text,
        expected_agent=query.agent,
        expected_capability=query.capability,
        channel=key,
        agent=best.agent if best else "",
        capability=best.capability if best else "",
        score=best.score if best else 0.0,
        evidence=lambda: (shown.evidence if shown else ()) + _fit_note(result),  # read when shown
        latency_ms=result.latency_ms,
        line=query.line,
    )


def _fit_note(result: RouteResult) -> tuple[str, ...]:
    if result.rejected_by in ("fit", "elsewhere", "listed", "declined"):
        return (f"no agent fits: {result.reason}",)
    return ()


def check_agents(rows: Sequence[LabelledQuery], table: RoutingTable, *, source: str | None) -> None:
    """Every labelled agent must be routable in its channel (an empty cell means "no agent")."""
    agents = set(table.agents)
    for query in rows:
        if query.agent and query.agent not in agents:
            where = f"channel {table.channel}" if table.channel else "the design"
            known = ", ".join(sorted(agents)) or "none"
            raise DesignFileError(
                f"agent '{query.agent}' is not an agent of {where} (known: {known}); fix the cell, or leave it "
                "empty for a query no agent should answer",
                path=source,
                line=query.line or None,
                field="agent",
            )


def checked_groups(
    design: Design, rows: Sequence[LabelledQuery], *, channel: str = "", source: str | None = None
) -> tuple[dict[str, list[LabelledQuery]], dict[str, RoutingTable]]:
    """The rows by channel key (`channel`: the default) and each channel's table, after checking that every
    row's channel is the design's and its agent routable there (a DesignFileError naming file, line, field)."""
    groups = group_by_channel(design, rows, default_channel=channel, source=source)
    tables = {key: routing_table(design, key) for key in groups}
    for key, group in groups.items():
        check_agents(group, tables[key], source=source)
    return groups, tables


def unknown_seed_agents_warning(design: Design, seed: Sequence[SeedRow], *, source: object) -> str:
    """Seed examples of agents the design lacks are ignored (a network's seed file may serve a design of some of
    its agents); the warning saying so ("" when there are none), or a misspelt agent silently runs unseeded."""
    names = {agent.name for agent in design.agents}
    unknown = [agent for _text, agent, _capability in seed if agent not in names]
    if not unknown:
        return ""
    which = ", ".join(sorted(set(unknown))[:5]) + (", …" if len(set(unknown)) > 5 else "")
    many = "example names" if len(unknown) == 1 else "examples name"
    return f"{source}: {len(unknown)} seed {many} no agent of the design ({which}); ignored"


def unknown_capabilities_warning(
    design: Design, rows: Sequence[LabelledQuery], *, channel: str = "", source: object
) -> str:
    """The warning for rows whose capability their agent does not have in their channel ("" when none): they
    are scored as a wrong capability, and a misspelt capability otherwise reads as a router's mistake."""
    unknown = unknown_capabilities(design, rows, channel=channel)
    if not unknown:
        return ""
    row, key = unknown[0]
    return (
        f"{source}: {len(unknown)} row(s) name a capability their agent does not have in its channel (first: line "
        f"{row.line}, {row.agent}/{row.capability} in {key or 'all agents'}); scored as a wrong capability"
    )


def check_labelled(designs: Sequence[Design], rows: Sequence[LabelledQuery], *, source: str | None = None) -> None:
    """Each row's channel must be a Channel of one of `designs` and its agent (when named) routable there in
    that design (diff: the old or the new design; what-if: before or after the changes); else a
    DesignFileError naming the file, line and field, with the first design's reason. `eval` checks its rows
    against its one design in `evaluate`; before this, `diff --queries` and `whatif --queries` dropped a row
    naming an unknown agent or channel silently (its answer "changed" from nothing to nothing)."""
    seen: list[dict[str, _Known]] = [{} for _ in designs]
    for row in rows:
        problems = [_row_problem(d, known, row, source) for d, known in zip(designs, seen, strict=True)]
        found = [p for p in problems if p is not None]
        if found and len(found) == len(designs):
            raise found[0]


# per channel reference: its table and agent names, why the reference is wrong, or None (nothing to check)
_Known = tuple[RoutingTable, frozenset[str]] | str | None


def _row_problem(
    design: Design, known: dict[str, _Known], row: LabelledQuery, source: str | None
) -> DesignFileError | None:
    """Why a labelled row does not fit one design (None: it does). `known` caches each channel reference."""
    if row.channel not in known:
        try:
            table = routing_table(design, row.channel)
            known[row.channel] = (table, frozenset(table.agents))  # one set per table, not per row
        except RoutingError as exc:  # an unknown or ambiguous channel
            known[row.channel] = str(exc)
        except VersionError:  # the operator would fail this channel's reconcile: nothing to check against
            known[row.channel] = None
    found = known[row.channel]
    if isinstance(found, str):
        return DesignFileError(found, path=source, line=row.line or None, field="channel")
    if found is None or not row.agent or row.agent in found[1]:
        return None
    try:
        check_agents([row], found[0], source=source)  # raises: the message names the channel's agents
    except DesignFileError as exc:
        return exc
    return None


def unknown_capabilities(
    design: Design, rows: Sequence[LabelledQuery], *, channel: str = ""
) -> list[tuple[LabelledQuery, str]]:
    """Rows whose capability cell names no capability of their agent in their channel, with the channel key.
    They are scored as a wrong capability, not refused: the lmos-router data labels 110 of its 3 000 rows with an
    intent (change_shipping_address) its routing specs do not list."""
    found = []
    for key, group in group_by_channel(design, rows, default_channel=channel).items():
        pairs = {(c.agent, c.capability) for c in routing_table(design, key).candidates}
        found += [
            (row, key) for row in group if row.capability and row.agent and (row.agent, row.capability) not in pairs
        ]
    return sorted(found, key=lambda item: item[0].line)


def add_usage(total: dict[str, Any], usage: dict[str, Any]) -> None:
    """Sum token counts and cost over routed queries; count how often each track (fast / llm) answered."""
    for name, value in usage.items():
        if name == "track":
            total[f"track {value}"] = total.get(f"track {value}", 0) + 1
        elif isinstance(value, int | float) and not isinstance(value, bool) and name != "threshold":
            total[name] = total.get(name, 0) + value


def _calibrated(fitted: FittedRouter, rows: Sequence[LabelledQuery]) -> tuple[FittedRouter, dict[str, Any] | None]:
    """A router that can calibrate a threshold (hybrid) calibrated on these rows, and the calibration."""
    calibrate = getattr(fitted, "calibrated", None)
    if calibrate is None:
        return fitted, None
    better, calibration = calibrate([(q.text, q.agent) for q in rows if q.agent])
    figures = {f.name: getattr(calibration, f.name) for f in dataclasses.fields(calibration)}
    return better, figures


def evaluate(
    design: Design,
    queries: Sequence[LabelledQuery],
    *,
    router: Router,
    seed: Sequence[SeedRow] = (),
    channel: str = "",
    progress: Progress | None = None,
    fit: Fit | None = None,
    source: str | None = None,
    calibrate: bool = False,
    min_score: float | None = None,
) -> Evaluation:
    """Route every query in its channel (`channel` is the default for rows without one) and score the router.

    `fit(table, seed)` may be given to reuse fitted routers (the UI caches them); by default `router.fit`.
    `calibrate` lets a router with a threshold (hybrid) calibrate it on each channel's rows first
    (optimistic: the same queries are then scored). `min_score` overrides every channel's no-match
    threshold. Each channel's queries are routed as one batch (`route_fitted`). Errors: unknown channels
    and agents a channel does not route to name the CSV line; a router failure is a RoutingError.
    """
    groups, tables = checked_groups(design, queries, channel=channel, source=source)
    do_fit: Fit = fit or (lambda table, rows: router.fit(table, seed=rows))
    predictions: list[Prediction] = []
    usage: dict[str, Any] = {}
    calibrations: dict[str, dict[str, Any]] = {}
    lexicon: dict[str, str] = {}
    total = len(queries)
    for key, rows in groups.items():
        table = tables[key]
        fitted = do_fit(table, seed_for(table, seed))
        choice = lexicon_choice_of(fitted)
        if choice is not None:
            lexicon[key] = choice.describe()
        if calibrate:
            fitted, calibration = _calibrated(fitted, rows)
            if calibration is not None:
                calibrations[key] = calibration
        for start in range(0, len(rows), PROGRESS_BATCH):
            chunk = rows[start : start + PROGRESS_BATCH]
            results = route_fitted(fitted, [q.text for q in chunk])
            for query, result in zip(chunk, results, strict=True):
                predictions.append(_prediction(query, key, result.with_threshold(min_score)))
                add_usage(usage, result.usage)
            if progress is not None:
                progress(len(predictions), total)
    predictions.sort(key=lambda p: p.line)
    return Evaluation(
        router=router.name,
        predictions=tuple(predictions),
        metrics=compute_metrics(predictions),
        usage=usage,
        calibrations=calibrations,
        lexicon=lexicon,
    )


def compare(
    design: Design,
    queries: Sequence[LabelledQuery],
    *,
    routers: Iterable[Router],
    seed: Sequence[SeedRow] = (),
    channel: str = "",
    progress: Progress | None = None,
) -> list[Evaluation]:
    """Several routers on the same set (progress counts over all of them)."""
    routers = list(routers)
    total = len(queries) * len(routers)
    results = []
    for index, router in enumerate(routers):
        offset = index * len(queries)
        step: Progress | None = (lambda done, _n, o=offset: progress(o + done, total)) if progress else None
        results.append(evaluate(design, queries, router=router, seed=seed, channel=channel, progress=step))
    return results


def comparison_rows(evaluations: Sequence[Evaluation]) -> list[dict[str, Any]]:
    """One row per router: the headline figures side by side."""
    return [
        {
            "router": e.router,
            "n": e.metrics.n,
            "accuracy": e.metrics.accuracy,
            "in_scope_accuracy": e.metrics.in_scope_accuracy,
            "out_of_scope_recall": e.metrics.out_of_scope_recall,
            "false_rejects": e.metrics.false_rejects,
            "capability_accuracy": e.metrics.capability_accuracy,
            "macro_f1": e.metrics.macro_f1,
            "misroutes": len(e.metrics.misroutes),
            "p50_ms": e.metrics.latency_p50_ms,
            "p95_ms": e.metrics.latency_p95_ms,
        }
        for e in evaluations
    ]


def paired_evaluations(first: Evaluation, second: Evaluation) -> Paired:
    """Two evaluations of the same labelled rows compared row by row (`metrics.paired`). ValueError when they
    are not of the same rows."""
    if [p.line for p in first.predictions] != [p.line for p in second.predictions]:
        raise ValueError("paired: the two evaluations are not of the same rows")
    return paired(
        first.router,
        [p.correct for p in first.predictions],
        second.router,
        [p.correct for p in second.predictions],
    )


def paired_reports(reports: Sequence[dict[str, Any]]) -> list[Paired]:
    """The first router of a side-by-side run (`evaluation_report`s of the same rows) against each other one,
    row by row; none for a single router."""
    first = reports[0] if reports else None
    return [
        paired(first["router"], first["right"], other["router"], other["right"])
        for other in reports[1:]
        if first is not None and other["lines"] == first["lines"]
    ]


def reports_json(reports: Sequence[dict[str, Any]]) -> str:
    """The Evaluate page's "all routers" download: each router's eval JSON under its name, and with two or more
    routers, `paired` (the first against each other one, as `eval --against` gives it)."""
    found: dict[str, Any] = {r["router"]: r["contract"] for r in reports}
    pairs = paired_reports(reports)
    if pairs:
        found["paired"] = [pair.to_dict() for pair in pairs]
    return json.dumps(found, indent=2, ensure_ascii=False)


def missed_out_of_scope(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The out-of-scope rows an agent answered, as (text, channel key routed in): what the Evaluate page and
    `edit add-out-of-scope --missed-by` offer to list in the design (`out_of_scope.add_rows`)."""
    return [(p.text, p.channel) for p in evaluation.predictions if not p.expected_agent and p.agent]


def per_agent_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {"agent": a, "precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
        for a, s in evaluation.metrics.per_agent.items()
    ]


def confusion_cells(evaluation: Evaluation) -> list[dict[str, Any]]:
    """The confusion matrix in long form (expected, predicted, count) for a heat map; NO_AGENT is "none"
    (as a row: queries no agent should answer; as a column: queries answered by no agent)."""
    labels = evaluation.metrics.labels
    return [
        {"expected": labels[i], "predicted": labels[j], "count": count}
        for i, row in enumerate(evaluation.metrics.confusion)
        for j, count in enumerate(row)
    ]


def misroute_rows(evaluation: Evaluation) -> list[dict[str, Any]]:
    return [
        {
            "line": p.line,
            "query": p.text,
            "channel": p.channel,
            "expected": p.expected_agent or NO_AGENT,
            "routed to": p.agent or NO_AGENT,
            "capability": p.capability,
            "score": round(p.score, 3),
            "evidence": " | ".join(p.evidence),
        }
        for p in evaluation.metrics.misroutes
    ]


def evaluation_report(evaluation: Evaluation) -> dict[str, Any]:
    """Everything the Evaluate page shows of one run, as plain data (kept in the session, not the object)."""
    return {
        "router": evaluation.router,
        "summary": comparison_rows([evaluation])[0],
        "usage": dict(evaluation.usage),
        "calibrations": dict(evaluation.calibrations),
        "per_agent": per_agent_rows(evaluation),
        "confusion": confusion_cells(evaluation),
        "misroutes": misroute_rows(evaluation),
        "contract": evaluation.to_dict(),
        "lines": [p.line for p in evaluation.predictions],  # with "right": what `paired_reports` compares
        "missed_out_of_scope": [list(row) for row in missed_out_of_scope(evaluation)],  # the page offers to list them
        "right": [p.correct for p in evaluation.predictions],
        "csv": evaluation.to_csv(),
        "json": evaluation.to_json(),
    }


def match_rows(result: RouteResult) -> list[dict[str, Any]]:
    """A router's ranked answer as table rows (rank 1 is the chosen agent)."""
    return [
        {
            "rank": i + 1,
            "agent": m.agent,
            "capability": m.capability,
            "score": round(m.score, 4),
            "evidence": " | ".join(m.evidence),
        }
        for i, m in enumerate(result.matches)
    ]
