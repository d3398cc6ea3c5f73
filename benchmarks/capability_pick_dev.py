"""Benchmark (dev data only): further within-agent opinions for the embedding router's capability pick (session 11,
issue #10, lane E). Not adopted: the record and its figures are in docs/routing-research.md.

The embedding router finds the right agent of the dev networks' in-scope queries more often than the right
capability; most lost capabilities are siblings confused within the right agent. Each candidate below is an
opinion over the classes (q × classes) turned into a softmax within each agent (temperature swept) and mixed
with the router's own pick (its shares of each agent, as `CapabilityCentroids.mixed_vectors` mixes; share
swept). Agents, scores and "no agent fits" never change: only which capability is shown for the agent. Every
candidate reads the MiniLM vectors the router's `fit` already holds (its examples, its classes'
`capability_texts`, its full description texts): no further encoder call.

* `agent-svm` / `agent-lr`: one linear model per agent with two or more classes (scikit-learn's LinearSVC /
  LogisticRegression, classes balanced, C swept) on that agent's examples and `capability_texts` (those rows
  weighted by `tw`): what tells siblings apart, in MiniLM space. Decision values (SVM; a binary agent's mirrored)
  or log-probabilities (LR).
* `global-svm` / `global-lr`: the same, one model over all classes of the table (one-vs-rest SVM, multinomial LR).
* `nearest`: per class, the largest cosine of the query to its examples and its own text (a kNN restricted to
  the agent's own rows).
* `contrast`: sibling-contrastive cosine: the query and each class's centroid (own text + examples, as
  `CapabilityCentroids`) less the agent's mean centroid, both normalised.
* `lda`: a shared within-class covariance over the whole table (shrunk towards a multiple of the identity by
  `shrink`), per class its mean: linear discriminant scores.
Candidates apply to tables with examples only (without, the pick already takes `CapabilityCentroids`).

Parts: the dev networks by half (a: chosen on; b and c: checks) with their examples and without (`/0`), the
lmos-router split of benchmarks/capability_dev.py (5 folds: 5 per intent and zero-shot; capability accuracy by
name) and informal-dev.csv (fitted on train.csv seeded, 5 per intent, zero-shot), each for the three embedding
routers (customer-service lexicon, none, auto). Per family, the setting with the most right capabilities among
right agents on half a (summed over the three routers) is reported, ties broken by the mean of its neighbours in
the grid (one parameter one step away: the middle of a plateau). The frozen sets are never read.

Usage: python benchmarks/capability_pick_dev.py [--families NAME ...]
Prints the chosen setting of each family with its changes on every part and writes
benchmarks/results/capability_pick_dev.json (every setting's changes, the baseline counts and the SVM fit cost
on the lmos-router table seeded).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from capability_dev import DEV, FILES, HALVES, LMOS_DATA  # noqa: E402
from generalisation import ROUTERS  # noqa: E402
from routing import Row, folds, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.embedding import EmbeddingRouter, FittedEmbedding  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402

RESULTS = Path(__file__).parent / "results"
INFORMAL = Path(__file__).parent / "data" / "informal-dev.csv"
EMBEDDING_ROUTERS = ("embedding", "embedding-no-lexicon", "embedding-auto-lexicon")
PARTS = (
    "half_a",
    "half_b",
    "half_c",
    "half_a/0",
    "half_b/0",
    "half_c/0",
    "lmos_5-per-intent",
    "lmos_zero-shot",
    "informal_seeded",
    "informal_5-per-intent",
    "informal_zero-shot",
)
# (family, parameter names, grid per parameter): mixed at share s with a softmax of temperature T
GRIDS: dict[str, tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]] = {
    "agent-svm": (("C", "tw", "T", "s"), ((0.3, 1, 3), (1, 3), (2, 4, 8), (0.35, 0.5, 0.7, 1.0))),
    "agent-lr": (("C", "tw", "T", "s"), ((1, 3, 10, 30), (1, 3), (1,), (0.2, 0.35, 0.5, 0.7, 1.0))),
    "global-svm": (("C", "tw", "T", "s"), ((0.5, 1, 2), (2, 3, 5), (4, 8, 12, 16), (0.5, 0.6, 0.7, 0.8, 0.9))),
    "global-lr": (("C", "tw", "T", "s"), ((1, 3, 10, 30), (1, 3), (1,), (0.2, 0.35, 0.5, 0.7))),
    "nearest": (("T", "s"), ((10, 20, 40), (0.2, 0.35, 0.5, 0.7))),
    "contrast": (("T", "s"), ((2, 5, 10, 20), (0.2, 0.35, 0.5, 0.7))),
    "lda": (("shrink", "tw", "T", "s"), ((0.1, 0.3, 0.6, 0.9), (1, 3), (0.05, 0.1, 0.2, 0.5), (0.2, 0.35, 0.5, 0.7))),
}


@dataclass
class Case:
    """One fitted table and its queries: what the pick reads, and the truth."""

    part: str
    router: str
    q: np.ndarray  # queries × dim
    scores: np.ndarray  # class probabilities (agents come from these)
    pick: np.ndarray  # the router's within-agent opinion today
    agent_of: np.ndarray
    in_table: np.ndarray
    names: np.ndarray  # capability name per class
    examples: np.ndarray
    labels: np.ndarray
    own: np.ndarray  # `capability_texts` vectors
    truth_agent: np.ndarray  # agent index per query (-1: not of this table)
    truth_capability: np.ndarray
    by_name: bool  # lmos-router and informal: capability right by name, over all queries whose intent is known
    cache: dict[Any, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        agent_scores = np.zeros((len(self.q), int(self.agent_of.max()) + 1))
        np.add.at(agent_scores, (np.arange(len(self.q))[:, None], self.agent_of[None, :]), self.scores)
        self.top = agent_scores.argmax(axis=1)  # the first best, as rank_agents' stable sort
        self.shown = (self.agent_of[None, :] == self.top[:, None]) & self.in_table[None, :]
        self.same = (self.agent_of[:, None] == self.agent_of[None, :]).astype(np.float64)
        self.target = self.names[None, :] == self.truth_capability[:, None]
        self.right_agent = self.top == self.truth_agent
        self.known = np.isin(self.truth_capability, self.names[self.in_table])

    def count(self, pick: np.ndarray) -> tuple[int, int, int]:
        """(right agents, right capabilities as the part counts them, queries)."""
        best = np.where(self.shown, pick, -np.inf).argmax(axis=1)
        right = self.target[np.arange(len(best)), best]
        if self.by_name:
            return int(self.right_agent.sum()), int((right & self.known).sum()), int(self.known.sum())
        return int(self.right_agent.sum()), int((right & self.right_agent).sum()), len(best)

    def mixed(self, values: np.ndarray, temperature: float, share: float) -> np.ndarray:
        """The pick as shares of each agent, mixed with the softmax within each agent of `values`."""
        base = self.pick / np.maximum(self.pick @ self.same, 1e-12)
        top = np.zeros_like(values)
        for agent in np.unique(self.agent_of):  # each agent's own maximum: no agent's softmax underflows to 0 / 0
            mine = self.agent_of == agent
            top[:, mine] = values[:, mine].max(axis=1, keepdims=True)
        e = np.exp((values - top) * temperature)
        return (1.0 - share) * base + share * e / (e @ self.same)


def case(fitted: FittedEmbedding, texts: list[str], agents: list[str], capabilities: list[str], **kw: Any) -> Case:
    scores, _, _, _, pick = fitted._scored(texts)
    data = fitted.data
    index = {a: i for i, a in enumerate(data.agents)}
    dim = fitted.examples.shape[1]
    own = fitted.capabilities if fitted.capabilities is not None else np.zeros((len(data.classes), dim))
    return Case(
        q=fitted.embedder.embed(texts).astype(np.float64),
        scores=scores,
        pick=pick,
        agent_of=data.agent_index(),
        in_table=np.array(data.in_table),
        names=np.array([c for _, c in data.classes]),
        examples=fitted.examples.astype(np.float64),
        labels=data.labels,
        own=np.asarray(own, dtype=np.float64),
        truth_agent=np.array([index.get(a, -1) for a in agents]),
        truth_capability=np.array(capabilities),
        **kw,
    )


def collect(router: str) -> list[Case]:
    cases = []
    for half, nets in HALVES.items():
        for net in nets:
            folder = DEV / net
            for zero in (False, True):
                table = routing_table(read_design(folder / "design.yaml"), None)
                if zero:
                    table = replace(table, candidates=tuple(replace(c, examples=()) for c in table.candidates))
                queries = [q for f in FILES if (folder / f).exists() for q in read_labelled_csv(folder / f) if q.agent]
                fitted = ROUTERS[router]().fit(table)
                part = f"half_{half}" + ("/0" if zero else "")
                texts, agents, caps = (
                    [q.text for q in queries],
                    [q.agent for q in queries],
                    [q.capability for q in queries],
                )
                cases.append(case(fitted, texts, agents, caps, part=part, router=router, by_name=False))
    table, rows = load_benchmark(LMOS_DATA)
    for setting in ("5-per-intent", "zero-shot"):
        for k, (train_idx, test_idx) in enumerate(folds(rows)):
            fitted = ROUTERS[router]().fit(
                table, seed=seed_rows(setting, [rows[i] for i in train_idx], random.Random(k))
            )
            test = [rows[i] for i in test_idx]
            cases.append(
                case(fitted, [r.text for r in test], [r.agent for r in test], [r.intent for r in test],
                     part=f"lmos_{setting}", router=router, by_name=True)
            )  # fmt: skip
    with INFORMAL.open(newline="") as f:
        informal = [Row(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
    for setting in ("seeded", "5-per-intent", "zero-shot"):
        fitted = ROUTERS[router]().fit(table, seed=seed_rows(setting, rows, random.Random(0)))
        cases.append(
            case(fitted, [r.text for r in informal], [r.agent for r in informal], [r.intent for r in informal],
                 part=f"informal_{setting}", router=router, by_name=True)
        )  # fmt: skip
    return cases


def _balanced(y: np.ndarray, w: np.ndarray) -> np.ndarray:
    classes, inverse = np.unique(y, return_inverse=True)
    per_class = np.bincount(inverse, weights=w)
    return w * w.sum() / (len(classes) * per_class[inverse])


def _rows(c: Case, tw: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = len(c.names)
    x = np.vstack([c.examples, c.own])
    y = np.concatenate([c.labels, np.arange(n)])
    return x, y, np.concatenate([np.ones(len(c.labels)), np.full(n, tw)])


def _linear(kind: str, C: float, x: np.ndarray, y: np.ndarray, w: np.ndarray, q: np.ndarray) -> tuple[Any, np.ndarray]:
    if kind == "svm":
        model = LinearSVC(C=C, random_state=0).fit(x, y, sample_weight=_balanced(y, w))
        d = model.decision_function(q)
        return model, np.stack([-d, d], axis=1) if d.ndim == 1 else d
    model = LogisticRegression(C=C, max_iter=2000).fit(x, y, sample_weight=_balanced(y, w))
    return model, model.predict_log_proba(q)


def agent_models(c: Case, kind: str, C: float, tw: float) -> np.ndarray:
    x, y, w = _rows(c, tw)
    out = np.zeros((len(c.q), len(c.names)))
    for agent in np.unique(c.agent_of):
        mine = np.flatnonzero(c.agent_of == agent)
        if len(mine) < 2:
            continue
        rows = np.isin(y, mine)
        model, values = _linear(kind, C, x[rows], y[rows], w[rows], c.q)
        out[:, model.classes_] = values
    return out


def global_model(c: Case, kind: str, C: float, tw: float) -> np.ndarray:
    x, y, w = _rows(c, tw)
    model, values = _linear(kind, C, x, y, w, c.q)
    out = np.zeros((len(c.q), len(c.names)))
    out[:, model.classes_] = values
    return out


def nearest(c: Case) -> np.ndarray:
    sims, own = c.q @ c.examples.T, c.q @ c.own.T
    out = own.copy()
    for k in range(len(c.names)):
        if (c.labels == k).any():
            out[:, k] = np.maximum(out[:, k], sims[:, c.labels == k].max(axis=1))
    return out


def contrast(c: Case) -> np.ndarray:
    centroids = c.own.copy()
    np.add.at(centroids, c.labels, c.examples)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    out = np.zeros((len(c.q), len(c.names)))
    for agent in np.unique(c.agent_of):
        mine = np.flatnonzero(c.agent_of == agent)
        mean = centroids[mine].mean(axis=0)
        d = centroids[mine] - mean
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
        q = c.q - mean
        out[:, mine] = (q / np.linalg.norm(q, axis=1, keepdims=True)) @ d.T
    return out


def lda(c: Case, shrink: float, tw: float) -> np.ndarray:
    x, y, w = _rows(c, tw)
    n = len(c.names)
    means = np.zeros((n, x.shape[1]))
    np.add.at(means, y, x * w[:, None])
    means /= np.bincount(y, weights=w, minlength=n)[:, None]
    r = x - means[y]
    cov = (r * w[:, None]).T @ r / max(w.sum() - n, 1.0)
    cov = (1 - shrink) * cov + shrink * np.trace(cov) / x.shape[1] * np.eye(x.shape[1])
    p = np.linalg.solve(cov, means.T)
    return np.asarray(c.q @ p - 0.5 * np.sum(means * p.T, axis=1))


def opinion(c: Case, family: str, setting: dict[str, float]) -> np.ndarray:
    """The family's values (q × classes) at `setting` (temperature and share aside), cached per case."""
    kind = family.split("-")[-1]
    key = (family, tuple((k, v) for k, v in setting.items() if k not in ("T", "s")))
    if key not in c.cache:
        if family.startswith("agent-"):
            c.cache[key] = agent_models(c, kind, setting["C"], setting["tw"])
        elif family.startswith("global-"):
            c.cache[key] = global_model(c, kind, setting["C"], setting["tw"])
        elif family == "nearest":
            c.cache[key] = nearest(c)
        elif family == "contrast":
            c.cache[key] = contrast(c)
        else:
            c.cache[key] = lda(c, setting["shrink"], setting["tw"])
    return c.cache[key]


def totals(cases: Sequence[Case], pick: Callable[[Case], np.ndarray]) -> dict[str, dict[str, list[int]]]:
    """Per part and router: [right agents, right capabilities, queries]."""
    out: dict[str, dict[str, list[int]]] = {p: {r: [0, 0, 0] for r in EMBEDDING_ROUTERS} for p in PARTS}
    for c in cases:
        found = c.count(pick(c))
        out[c.part][c.router] = [a + b for a, b in zip(out[c.part][c.router], found, strict=True)]
    return out


def sweep(cases: Sequence[Case], family: str, base: dict[str, dict[str, list[int]]]) -> list[dict[str, Any]]:
    names, grid = GRIDS[family]
    found = []
    for values in itertools.product(*grid):
        setting = dict(zip(names, values, strict=True))

        def pick(c: Case, setting: dict[str, float] = setting) -> np.ndarray:
            if not len(c.examples):
                return c.pick
            return c.mixed(opinion(c, family, setting), setting["T"], setting["s"])

        got = totals(cases, pick)
        change = {p: [got[p][r][1] - base[p][r][1] for r in EMBEDDING_ROUTERS] for p in PARTS}
        found.append({"setting": setting, "change": change})
    return found


def chosen(family: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """The most right capabilities on half a (three routers summed); ties: the best mean of grid neighbours."""
    names, grid = GRIDS[family]
    at = {tuple(r["setting"][n] for n in names): sum(r["change"]["half_a"]) for r in results}

    def neighbours(point: tuple[float, ...]) -> float:
        near = []
        for i, axis in enumerate(grid):
            j = axis.index(point[i])
            for k in (j - 1, j + 1):
                if 0 <= k < len(axis):
                    near.append(at[(*point[:i], axis[k], *point[i + 1 :])])
        return float(np.mean(near)) if near else 0.0

    best = max(results, key=lambda r: (at[tuple(r["setting"][n] for n in names)],
                                       neighbours(tuple(r["setting"][n] for n in names))))  # fmt: skip
    return best


def svm_fit_cost(setting: dict[str, float]) -> dict[str, Any]:
    """CPU seconds of the embedding router's fit on the lmos-router table seeded with all of train.csv
    (embeddings cached: the second fit is timed) and of the global SVM candidate (at `setting`) fitted on its
    vectors: what the fit would add."""
    table, rows = load_benchmark(LMOS_DATA)
    seed = seed_rows("seeded", rows, random.Random(0))
    router = EmbeddingRouter()
    router.fit(table, seed=seed)  # warm: model loaded, vectors in the cache
    start = time.process_time()
    fitted = router.fit(table, seed=seed)
    fit_s = time.process_time() - start
    c = case(fitted, ["probe"], [""], [""], part="cost", router="embedding-auto-lexicon", by_name=True)
    x, y, w = _rows(c, setting["tw"])
    start = time.process_time()
    LinearSVC(C=setting["C"], random_state=0).fit(x, y, sample_weight=_balanced(y, w))
    return {
        "setting": {k: setting[k] for k in ("C", "tw")},
        "rows": len(y),
        "classes": len(c.names),
        "router_fit_cpu_s": round(fit_s, 3),
        "global_svm_fit_cpu_s": round(time.process_time() - start, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", choices=sorted(GRIDS), default=list(GRIDS))
    parser.add_argument("--out", type=Path, default=RESULTS / "capability_pick_dev.json")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ConvergenceWarning)
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    cases = [c for router in EMBEDDING_ROUTERS for c in collect(router)]
    base = totals(cases, lambda c: c.pick)
    report: dict[str, Any] = {"routers": list(EMBEDDING_ROUTERS), "baseline": base, "families": {}}
    print(f"{'family':<12}{'setting':<36}" + "".join(f"{p.replace('informal_', 'inf-'):>22}" for p in PARTS))
    for family in args.families:
        results = sweep(cases, family, base)
        best = chosen(family, results)
        report["families"][family] = {"chosen": best, "sweep": results}
        setting = " ".join(f"{k}={v:g}" for k, v in best["setting"].items())
        cells = "".join(f"{','.join(f'{x:+d}' for x in best['change'][p]):>22}" for p in PARTS)
        print(f"{family:<12}{setting:<36}{cells}", flush=True)
    cost_at = report["families"].get("global-svm", {}).get("chosen", {}).get("setting", {"C": 1.0, "tw": 5.0})
    report["fit_cost"] = svm_fit_cost(cost_at)
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, separators=(",", ":")) + "\n")  # compact: about 2 000 sweep rows
    print("baseline right capabilities:", {p: [base[p][r][1] for r in EMBEDDING_ROUTERS] for p in PARTS})
    print(f"fit cost: {report['fit_cost']}")
    print(f"machine: {report['machine']}")


if __name__ == "__main__":
    main()
