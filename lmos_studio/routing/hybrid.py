"""The hybrid router: a fast offline router answers when confident, the LLM decides the rest.

Like lmos-classifier's hybrid fast track: the fast router (statistical or embedding) answers alone when its
best score reaches the threshold; below it, the LLM chooses among the fast router's top candidates.
`calibrate_threshold` picks the threshold on a labelled set: the lowest score whose fast-track answers
still reach a target precision (so the LLM is asked as rarely as that precision allows).

The lexicon policy (`spec.routing.lexicon`, `--lexicon`; routing/lexicon.py) is the fast router's: it decides
the fast answers and so the shortlist of SHORTLIST agents the LLM is asked to choose among. The prompt itself
does not change with it (the shortlisted agents' names, descriptions, capabilities and a few examples, as
the LLM router lists them); the model is never told about the lexicon. A list of queries (`route_batch`:
eval, whatif, diff, routing tests) is routed by the fast router in one batch; the LLM is then asked once per
query below the threshold.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from lmos_studio.config import get_settings
from lmos_studio.errors import LlmReplyError
from lmos_studio.routing.base import FittedRouter, Match, Router, RouteResult, RoutingTable, route_fitted
from lmos_studio.routing.lexicon import LexiconChoice, lexicon_choice_of, setting_of
from lmos_studio.routing.llm import FittedLlm, LlmRouter

SHORTLIST = 3  # fast-router candidates the LLM chooses among
TARGET_PRECISION = 0.98  # default precision the fast track must keep when calibrating


@dataclass(frozen=True)
class Calibration:
    """A calibrated threshold: fast-track precision and coverage (share answered without the LLM) on n."""

    threshold: float
    precision: float
    coverage: float
    n: int
    target_precision: float


def calibrate_threshold(
    fast: FittedRouter, labelled: Sequence[tuple[str, str]], *, target_precision: float = TARGET_PRECISION
) -> Calibration:
    """The lowest threshold whose fast-track answers on `labelled` (query, agent) keep `target_precision`.

    Scores are sorted high to low; the threshold is the score of the last query at which the running
    precision still reaches the target (ties in score are taken together). No such score → 1.0 (the LLM
    answers almost everything). Calibrate on queries that are not also seed examples, or it is optimistic.
    """
    scored = []
    results = route_fitted(fast, [query for query, _ in labelled])
    for (_, agent), result in zip(labelled, results, strict=True):
        best = result.best
        scored.append((best.score if best else 0.0, best is not None and best.agent == agent))
    scored.sort(key=lambda s: -s[0])
    threshold, precision, coverage = 1.0, 1.0, 0.0
    correct = 0
    for i, (score, ok) in enumerate(scored):
        correct += ok
        next_score = scored[i + 1][0] if i + 1 < len(scored) else None
        if next_score == score:
            continue  # keep tied scores together: a threshold cannot split them
        if correct / (i + 1) >= target_precision:
            threshold, precision, coverage = score, correct / (i + 1), (i + 1) / len(scored)
    return Calibration(
        threshold=round(threshold, 4),
        precision=round(precision, 4),
        coverage=round(coverage, 4),
        n=len(scored),
        target_precision=target_precision,
    )


@dataclass
class FittedHybrid:
    """Fast router + LLM on one table; `threshold` is shown to the user."""

    fast: FittedRouter
    llm: FittedLlm
    threshold: float
    name: str = "hybrid"

    def with_threshold(self, threshold: float) -> FittedHybrid:
        return replace(self, threshold=threshold)

    def calibrated(
        self, labelled: Sequence[tuple[str, str]], *, target_precision: float = TARGET_PRECISION
    ) -> tuple[FittedHybrid, Calibration]:
        """This router with the threshold calibrated on `labelled` (query, agent) pairs."""
        calibration = calibrate_threshold(self.fast, labelled, target_precision=target_precision)
        return self.with_threshold(calibration.threshold), calibration

    @property
    def lexicon_choice(self) -> LexiconChoice | None:
        """The fast router's lexicon choice: what the shortlist the LLM sees was ranked with."""
        return lexicon_choice_of(self.fast)

    def route(self, query: str, *, top_k: int = 5) -> RouteResult:
        start = time.perf_counter()
        return self._decide(query, self.fast.route(query, top_k=max(top_k, SHORTLIST)), top_k, start)

    def route_batch(self, queries: Sequence[str], *, top_k: int = 5) -> list[RouteResult]:
        """Every query's answer, as `route` gives it: the fast router routes the whole list in one batch
        (its `route_batch`), then the LLM is asked for each query below the threshold, one by one."""
        start = time.perf_counter()
        fast = route_fitted(self.fast, list(queries), top_k=max(top_k, SHORTLIST))
        each = (time.perf_counter() - start) / max(len(queries), 1)
        return [
            self._decide(query, result, top_k, time.perf_counter() - each)
            for query, result in zip(queries, fast, strict=True)
        ]

    def _decide(self, query: str, fast: RouteResult, top_k: int, start: float) -> RouteResult:
        """The fast answer when confident, else the LLM's choice among the fast router's shortlist."""
        usage = {"threshold": self.threshold, "fast_router": fast.router}
        if fast.listed or not fast.matches or (fast.best is not None and fast.best.score >= self.threshold):
            return RouteResult(
                router=self.name,
                matches=fast.matches[:top_k],
                usage=usage | {"track": "fast"},
                latency_ms=(time.perf_counter() - start) * 1000,
                fit=fast.fit,
                threshold=fast.threshold,
                elsewhere=fast.elsewhere,
                elsewhere_limit=fast.elsewhere_limit,
                elsewhere_text=fast.elsewhere_text,
                elsewhere_listed=fast.elsewhere_listed,
                listed=fast.listed,
            )  # below the fast router's no-match threshold, the LLM decides (it may say no agent fits)
        shortlist = [m.agent for m in fast.matches[:SHORTLIST]]
        try:
            decided = self.llm.route(query, among=shortlist)
        except LlmReplyError as exc:  # an unusable reply: keep the fast answer and say why
            note = f"LLM reply unusable, fast router's answer kept: {exc}"
            best = fast.matches[0]
            matches = (Match(best.agent, best.capability, best.score, (note, *best.evidence)), *fast.matches[1:top_k])
            return RouteResult(
                router=self.name,
                matches=matches,
                usage=usage | {"track": "fast (LLM failed)"},
                latency_ms=(time.perf_counter() - start) * 1000,
                fit=fast.fit,
                threshold=fast.threshold,
                elsewhere=fast.elsewhere,
                elsewhere_limit=fast.elsewhere_limit,
                elsewhere_text=fast.elsewhere_text,
                elsewhere_listed=fast.elsewhere_listed,
                listed=fast.listed,
            )
        if not decided.matches:  # the LLM says no agent fits: the fast candidates stay listed, greyed
            return RouteResult(
                router=self.name,
                matches=fast.matches[:top_k],
                usage=usage | decided.usage | {"track": "llm"},
                latency_ms=(time.perf_counter() - start) * 1000,
                fit=0.0,
                threshold=decided.threshold,
                declined=True,
            )
        chosen = decided.matches[0]
        fast_score = fast.matches[0].score
        note = (
            f"decided by the LLM among {', '.join(shortlist)} (fast score {fast_score:.2f} < "
            f"threshold {self.threshold:.2f}{'' if fast.best else ', or no fast match'})"
        )
        rest = tuple(m for m in fast.matches if m.agent != chosen.agent)
        matches = (Match(chosen.agent, chosen.capability, chosen.score, (note, *chosen.evidence)), *rest)
        return RouteResult(  # `fit` is the model's confidence, held to the design's minScore (as the LLM router)
            router=self.name,
            matches=matches[:top_k],
            usage=usage | decided.usage | {"track": "llm"},
            latency_ms=(time.perf_counter() - start) * 1000,
            fit=decided.fit,
            threshold=decided.threshold,
        )


class HybridRouter:
    """Fast track with `fast` (default: the best offline router), the LLM below `threshold`.

    `lexicon` (None: the table's, i.e. the design's `spec.routing.lexicon`) is the fast router's lexicon
    setting, as `StatisticalRouter(lexicon=…)` takes it; it shapes the shortlist, not the prompt."""

    name = "hybrid"

    def __init__(
        self,
        *,
        fast: Router | None = None,
        llm: LlmRouter | None = None,
        threshold: float | None = None,
        lexicon: bool | str | None = None,
    ) -> None:
        self.fast = fast
        self.llm = llm
        self.threshold = get_settings().hybrid_threshold if threshold is None else threshold
        self.lexicon = lexicon

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedHybrid:
        from lmos_studio.routing.auto import best_offline_router

        llm = (self.llm or LlmRouter()).fit(table)  # first: a missing endpoint fails before any fitting
        fast_table = replace(table, lexicon=setting_of(self.lexicon, table.lexicon))
        fast = (self.fast or best_offline_router()).fit(fast_table, seed=seed)
        return FittedHybrid(fast=fast, llm=llm, threshold=self.threshold)
