"""Routing metrics over predictions: accuracy, per-agent precision/recall/F1, confusion, latency percentiles.

Computed with scikit-learn (the same definitions lmos-router's benchmark notebook uses, `zero_division=0`).
"No agent" is an answer: a row labelled with no agent (an empty `agent` cell: out of scope) is right when the
router answers none. `accuracy` counts every row; `in_scope_accuracy` the rows that name an agent;
`out_of_scope_recall` is the share of out-of-scope rows answered none; `false_rejects` counts in-scope rows
answered none; `macro_f1` (over the labelled agents) is None for a set without in-scope rows. NO_AGENT is the
confusion matrix's row and column for "none".

How far to trust a figure measured on a few dozen rows: each share comes with its 95 % Wilson score interval
(`intervals`; Wilson, "Probable inference…", JASA 1927: unlike the normal approximation it stays inside [0, 1]
and is not degenerate at 0 or n), and two routers evaluated on the same rows are compared row by row
(`paired`: how many rows only one of them got right, and the exact McNemar test of those, a two-sided binomial
test at 1/2; McNemar, Psychometrika 1947). Both are a few lines of closed-form arithmetic rather than
scipy.stats, whose import alone costs about a second of every `eval`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from lmos_studio.routing.base import LazyEvidence, reduce_with_evidence

NO_AGENT = "(none)"  # the label of a query the router answered with no agent
CONFIDENCE = 0.95  # of every interval reported
_Z = 1.959963984540054  # the standard normal quantile at 1 - (1 - CONFIDENCE) / 2
SIGNIFICANCE = 0.05  # below this p-value, `paired` calls two routers' difference real


@dataclass(frozen=True)
class Prediction:
    """One labelled query and what the router answered."""

    text: str
    expected_agent: str
    expected_capability: str
    channel: str  # the channel key routed in ("" = all agents)
    agent: str  # predicted agent, "" when the router found none
    capability: str
    score: float
    _: KW_ONLY
    evidence: LazyEvidence = LazyEvidence()  # noqa: RUF009 (a descriptor: a tuple, or a function read on demand)
    latency_ms: float
    line: int = 0

    __reduce__ = reduce_with_evidence

    @property
    def correct(self) -> bool:
        return self.agent == self.expected_agent  # "" == "": out of scope, answered none

    @property
    def in_scope(self) -> bool:
        return bool(self.expected_agent)

    @property
    def capability_correct(self) -> bool:
        return self.correct and self.capability == self.expected_capability


@dataclass(frozen=True)
class AgentScore:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    """The figures of one evaluation (the `lmos-studio eval` JSON, see `to_dict`)."""

    n: int
    accuracy: float
    capability_accuracy: float | None  # None when no row names a capability
    macro_f1: float | None  # None when no row names an agent (nothing to average; was 0.0)
    per_agent: dict[str, AgentScore]
    labels: tuple[str, ...]  # confusion rows (expected) and columns (predicted), in this order
    confusion: tuple[tuple[int, ...], ...]
    misroutes: tuple[Prediction, ...] = field(default=())
    latency_p50_ms: float = 0.0
    latency_p95_ms: float = 0.0
    in_scope_accuracy: float | None = None  # None when no row names an agent
    out_of_scope_recall: float | None = None  # None when no row is out of scope
    false_rejects: int = 0  # in-scope rows answered "no agent"
    n_out_of_scope: int = 0
    # figure name → its 95 % Wilson interval (None when the figure is); see the module docstring
    intervals: dict[str, tuple[float, float] | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The `lmos-studio eval` JSON contract."""
        intervals = {name: None if span is None else list(span) for name, span in self.intervals.items()}
        return {
            "n": self.n,
            "accuracy": self.accuracy,
            "in_scope_accuracy": self.in_scope_accuracy,
            "out_of_scope_recall": self.out_of_scope_recall,
            "false_rejects": self.false_rejects,
            "n_out_of_scope": self.n_out_of_scope,
            "capability_accuracy": self.capability_accuracy,
            "macro_f1": self.macro_f1,
            "per_agent": {
                a: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
                for a, s in self.per_agent.items()
            },
            "confusion": {"labels": list(self.labels), "matrix": [list(r) for r in self.confusion]},
            "misroutes": [misroute_dict(p) for p in self.misroutes],
            "latency_ms": {"p50": self.latency_p50_ms, "p95": self.latency_p95_ms},
            "intervals": {"confidence": CONFIDENCE, "method": "wilson", **intervals},
        }


def misroute_dict(p: Prediction) -> dict[str, Any]:
    return {
        "line": p.line,
        "query": p.text,
        "channel": p.channel,
        "expected_agent": p.expected_agent or None,
        "expected_capability": p.expected_capability,
        "agent": p.agent or None,
        "capability": p.capability or None,
        "score": p.score,
        "evidence": list(p.evidence),
    }


def _labels(expected: Sequence[str], predicted: Sequence[str]) -> tuple[str, ...]:
    agents = sorted((set(expected) | set(predicted)) - {NO_AGENT})
    return tuple(agents + ([NO_AGENT] if NO_AGENT in predicted or NO_AGENT in expected else []))


def _confusion(
    expected: Sequence[str], predicted: Sequence[str], labels: tuple[str, ...]
) -> tuple[tuple[int, ...], ...]:
    """Counts, rows = expected, columns = predicted (sklearn's confusion_matrix warns on one label)."""
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for want, got in zip(expected, predicted, strict=True):
        counts[index[want]][index[got]] += 1
    return tuple(tuple(row) for row in counts)


def wilson_interval(right: int, n: int) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of the share `right` / `n`, rounded to 4 places; None when n is 0."""
    if n <= 0:
        return None
    share, z2 = right / n, _Z * _Z
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


_INTERVAL_NAMES = {
    "accuracy": "accuracy",
    "in_scope_accuracy": "in scope",
    "out_of_scope_recall": "out-of-scope recall",
    "capability_accuracy": "capability accuracy",
}


def describe_intervals(intervals: dict[str, Any]) -> str:
    """The eval JSON's "intervals" in one line: "95 % intervals (Wilson): accuracy 83.5–98.6 % · …"; the
    figures without one (no such rows) are left out."""
    parts = [
        f"{label} {span[0]:.1%}–{span[1]:.1%}".replace("%–", "–")
        for name, label in _INTERVAL_NAMES.items()
        if (span := intervals.get(name))
    ]
    return f"{intervals.get('confidence', CONFIDENCE):.0%} intervals (Wilson): " + " · ".join(parts) if parts else ""


def mcnemar_exact(only_first: int, only_second: int) -> float:
    """Two-sided p-value of the exact McNemar test: the rows only one router got right, as a binomial at 1/2
    (1.0 when no row tells them apart)."""
    discordant = only_first + only_second
    if discordant == 0:
        return 1.0
    tail = sum(math.comb(discordant, i) for i in range(min(only_first, only_second) + 1))
    return min(1.0, 2 * tail / (1 << discordant))  # int / int: exact for any count, no float overflow


@dataclass(frozen=True)
class Paired:
    """Two routers' answers on the same rows, row by row (right = the right agent, "none" for out of scope)."""

    first: str
    second: str
    n: int
    both_right: int
    only_first: int  # rows the first router got right and the second wrong
    only_second: int
    both_wrong: int

    @property
    def p_value(self) -> float:
        return round(mcnemar_exact(self.only_first, self.only_second), 4)

    @property
    def significant(self) -> bool:
        return self.p_value < SIGNIFICANCE

    def verdict(self) -> str:
        """One sentence: which router is better on these rows, and whether the set can tell."""
        head = (
            f"{self.first} vs {self.second} on the same {self.n} rows: {self.only_first} right only with "
            f"{self.first}, {self.only_second} right only with {self.second}"
        )
        if self.only_first == self.only_second:
            return f"{head}; no difference on this set."
        better = self.first if self.only_first > self.only_second else self.second
        if self.significant:
            return f"{head}; {better} is better (exact McNemar p = {self.p_value:.3f} < {SIGNIFICANCE})."
        return (
            f"{head}; this set cannot tell them apart (exact McNemar p = {self.p_value:.2f} ≥ {SIGNIFICANCE}): "
            "label more queries, especially ones they disagree on."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "second": self.second,
            "n": self.n,
            "both_right": self.both_right,
            "only_first": self.only_first,
            "only_second": self.only_second,
            "both_wrong": self.both_wrong,
            "p_value": self.p_value,
            "test": "exact McNemar (two-sided)",
            "significant": self.significant,
            "verdict": self.verdict(),
        }


def paired(first: str, first_right: Sequence[bool], second: str, second_right: Sequence[bool]) -> Paired:
    """`Paired` of two routers from whether each got each row right (the same rows, in the same order)."""
    if len(first_right) != len(second_right):
        raise ValueError(f"paired: {len(first_right)} rows against {len(second_right)}; not the same rows")
    both = list(zip(first_right, second_right, strict=True))
    return Paired(
        first=first,
        second=second,
        n=len(both),
        both_right=sum(a and b for a, b in both),
        only_first=sum(a and not b for a, b in both),
        only_second=sum(b and not a for a, b in both),
        both_wrong=sum(not a and not b for a, b in both),
    )


def compute_metrics(predictions: Sequence[Prediction]) -> Metrics:
    """Every figure of an evaluation; macro F1 averages the agents that occur in the labels (support > 0)."""
    if not predictions:
        return Metrics(
            n=0, accuracy=0.0, capability_accuracy=None, macro_f1=None, per_agent={}, labels=(), confusion=()
        )
    expected = [p.expected_agent or NO_AGENT for p in predictions]
    predicted = [p.agent or NO_AGENT for p in predictions]
    labels = _labels(expected, predicted)
    agents = [a for a in labels if a != NO_AGENT]
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, predicted, labels=agents, zero_division=0
    )
    per_agent = {
        a: AgentScore(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, a in enumerate(agents)
    }
    true_agents = sorted(set(expected) - {NO_AGENT})
    with_caps = [p for p in predictions if p.expected_capability]
    in_scope = [p for p in predictions if p.in_scope]
    out_of_scope = [p for p in predictions if not p.in_scope]
    latencies = np.array([p.latency_ms for p in predictions], dtype=float)
    intervals = {
        "accuracy": wilson_interval(sum(p.correct for p in predictions), len(predictions)),
        "in_scope_accuracy": wilson_interval(sum(p.correct for p in in_scope), len(in_scope)),
        "out_of_scope_recall": wilson_interval(sum(not p.agent for p in out_of_scope), len(out_of_scope)),
        "capability_accuracy": wilson_interval(sum(p.capability_correct for p in with_caps), len(with_caps)),
    }
    return Metrics(
        n=len(predictions),
        accuracy=sum(p.correct for p in predictions) / len(predictions),
        capability_accuracy=(sum(p.capability_correct for p in with_caps) / len(with_caps)) if with_caps else None,
        macro_f1=float(np.mean([per_agent[a].f1 for a in true_agents])) if true_agents else None,
        per_agent=per_agent,
        labels=labels,
        confusion=_confusion(expected, predicted, labels),
        misroutes=tuple(p for p in predictions if not p.correct),
        latency_p50_ms=float(np.percentile(latencies, 50)),
        latency_p95_ms=float(np.percentile(latencies, 95)),
        in_scope_accuracy=(sum(p.correct for p in in_scope) / len(in_scope)) if in_scope else None,
        out_of_scope_recall=(sum(not p.agent for p in out_of_scope) / len(out_of_scope)) if out_of_scope else None,
        false_rejects=sum(not p.agent for p in in_scope),
        n_out_of_scope=len(out_of_scope),
        intervals=intervals,
    )
