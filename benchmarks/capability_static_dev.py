"""Benchmark (dev data only): further static word vector opinions for the statistical router's capability pick
(session 12, issue #10, lane C). Not adopted: the record and its figures are in docs/routing-research.md.

The statistical router without an embedder picks the capability within its agent from the shares of the blended
class probabilities and the per-agent sibling SVMs (`capability_scores`), mixed with the static centroid opinion
(`StaticCentroids.mixed_vectors`: the query's static vector's cosine to each sibling's centroid, a softmax
within the agent at STATIC_SHARE faded by examples per class). Each candidate below changes or adds to that last
step only; agents, scores and "no agent fits" never change. Every candidate reads MiniLM's static input token
table (`token_vectors`): no transformer run.

* `today`: the pick as the router makes it (the baseline; a check that the reconstruction is exact).
* `align`: a token alignment opinion added after today's pick: per query token (Zipf-weighted as
  `TokenVectors.vectors` weighs it) its largest cosine to any token of the class's `capability_texts` and its
  examples, the weighted mean per class (a static-vector "MaxSim"), as a softmax within the agent at
  temperature T, mixed at share s faded as STATIC_SHARE. `align-no-lexicon`: the same, left out where the
  router's lexicon has synonym groups. `align-nearest`: the alignment per text (own text or example) and the
  class's best text. `align-evidence`: per class the strongest query token's evidence for it (its Zipf weight
  times its alignment to the class less its mean alignment over the agent's classes), not the mean over the
  query's tokens (with `-no-lexicon` as above). `overlap`: the alignment with exact tokens only (1 for a token
  the class's texts hold, else 0): the description-word overlap.
* `description`: today's centroid with the class's own text (`capability_texts`) weighted w against its
  examples (today 1 against each example).
* `name`: today's centroid with the capability's name words and its description as two unit vectors, the name
  weighted w.
* `design-idf`: the centroids and the query read with each token's Zipf weight times the design's own inverse
  document frequency (over the classes' own texts and examples) to the power p.
* `zscore`: today's cosines standardised within each agent (mean, standard deviation) before the softmax, at
  temperature T (no scale to choose per table).
* `geometric`: today's two opinions mixed geometrically (weighted log-probabilities) instead of arithmetically.

Parts: the dev networks by half (a: chosen on; b and c: checks) with their examples and without (`/0`), for the
routers `statistical` (lexicon customer-service) and `statistical-auto-lexicon` (none on every dev network, as
`auto` judges them); the lmos-router split of benchmarks/capability_dev.py (5 folds: 5 per intent and zero-shot)
and informal-dev.csv (fitted on train.csv: 5 per intent, zero-shot), for `statistical-auto-lexicon` and
`statistical-no-lexicon`. Right capabilities among right agents on the dev networks; capability accuracy by name
on the lmos-router split and informal-dev. Per family the setting with the most right capabilities on half a
(both routers, with and without examples) is reported with its changes on every part. The frozen sets are never
read. `--oracle` also prints, for half a, how many right-agent queries each of today's three opinions (the
blended shares, the sibling SVMs, the static centroids) gets right alone, and the final pick.

Usage: python benchmarks/capability_static_dev.py [--families NAME ...] [--oracle]
Prints the chosen setting of each family and writes benchmarks/results/capability_static_dev_s12_c.json.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

import sides  # noqa: E402  # benchmarks/sides.py
from capability_dev import DEV, FILES, HALVES, LMOS_DATA  # noqa: E402
from generalisation import ROUTERS  # noqa: E402
from routing import Row, folds, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing import capability as cap  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import FittedStatistical  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.text import name_words  # noqa: E402

RESULTS = Path(__file__).parent / "results"
INFORMAL = Path(__file__).parent / "data" / "informal-dev.csv"
NETWORK_ROUTERS = ("statistical", "statistical-auto-lexicon")
SPLIT_ROUTERS = ("statistical-auto-lexicon", "statistical-no-lexicon")
GRIDS: dict[str, tuple[tuple[str, ...], tuple[tuple[float, ...], ...]]] = {
    "today": ((), ()),
    "align": (("T", "s"), ((20, 30, 40), (0.3, 0.5, 0.7))),
    "align-no-lexicon": (("T", "s"), ((20, 30, 40), (0.3, 0.5, 0.7))),
    "align-nearest": (("T", "s"), ((15, 30), (0.3, 0.5, 0.7))),
    "align-evidence": (("T", "s"), ((1.5, 2, 3, 5), (0.3, 0.5, 0.7))),
    "align-evidence-no-lexicon": (("T", "s"), ((1.5, 2, 3, 5), (0.3, 0.5, 0.7))),
    "overlap": (("T", "s"), ((5, 10, 20), (0.3, 0.5, 0.7))),
    "description": (("w",), ((0.5, 2, 3, 5),)),
    "name": (("w",), ((0.5, 1, 2, 3),)),
    "design-idf": (("p",), ((0.5, 1, 2),)),
    "zscore": (("T",), ((1, 2, 3),)),
    "geometric": (("s",), ((0.3, 0.5, 0.7),)),
}


@dataclass
class Case:
    """One fitted table and its queries: what the pick reads, and the truth."""

    part: str
    router: str
    fitted: FittedStatistical
    texts: list[str]
    scores: np.ndarray  # the blended class probabilities (agents come from these)
    before: np.ndarray  # the pick before the static opinion (`capability_scores`)
    pick: np.ndarray  # the router's pick today
    truth_agent: np.ndarray  # agent index per query (-1: not of this table)
    truth_capability: np.ndarray
    by_name: bool  # lmos-router and informal: capability right by name, over all queries whose intent is known
    cache: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = self.fitted.data
        self.agent_of = data.agent_index()
        self.names = np.array([c for _, c in data.classes])
        in_table = np.array(data.in_table)
        agent_scores = np.zeros((len(self.texts), int(self.agent_of.max()) + 1))
        np.add.at(agent_scores, (np.arange(len(self.texts))[:, None], self.agent_of[None, :]), self.scores)
        self.top = agent_scores.argmax(axis=1)  # the first best, as rank_agents' stable sort
        self.shown = (self.agent_of[None, :] == self.top[:, None]) & in_table[None, :]
        self.same = (self.agent_of[:, None] == self.agent_of[None, :]).astype(np.float64)
        self.target = self.names[None, :] == self.truth_capability[:, None]
        self.right_agent = self.top == self.truth_agent
        self.known = np.isin(self.truth_capability, self.names[in_table])
        self.static = self.fitted._static() if self.fitted.static_pick else None
        self.share = self.static.share if self.static is not None else 0.0

    def count(self, pick: np.ndarray) -> int:
        """Right capabilities as the part counts them."""
        best = np.where(self.shown, pick, -np.inf).argmax(axis=1)
        right = self.target[np.arange(len(best)), best]
        return int((right & self.known).sum()) if self.by_name else int((right & self.right_agent).sum())

    def within(self, values: np.ndarray, temperature: float) -> np.ndarray:
        """A softmax within each agent of `values` (q × classes)."""
        top = np.zeros_like(values)
        for agent in np.unique(self.agent_of):  # each agent's own maximum: no agent's softmax underflows
            mine = self.agent_of == agent
            top[:, mine] = values[:, mine].max(axis=1, keepdims=True)
        e = np.exp((values - top) * temperature)
        return np.asarray(e / (e @ self.same))

    def mix(self, pick: np.ndarray, own: np.ndarray, share: float) -> np.ndarray:
        return (1.0 - share) * pick / np.maximum(pick @ self.same, 1e-12) + share * own


def case(fitted: FittedStatistical, texts: list[str], agents: list[str], capabilities: list[str], **kw: Any) -> Case:
    scores, _, _, pick, *_ = fitted._score(texts)
    x = fitted.encoder.assemble(fitted.encoder.counts(texts), len(texts))
    before = cap.capability_scores(fitted.siblings, x, scores)
    index = {a: i for i, a in enumerate(fitted.data.agents)}
    return Case(
        fitted=fitted,
        texts=texts,
        scores=scores,
        before=before,
        pick=pick,
        truth_agent=np.array([index.get(a, -1) for a in agents]),
        truth_capability=np.array(capabilities),
        **kw,
    )


def collect() -> list[Case]:
    cases = []
    for router in NETWORK_ROUTERS:
        for half, nets in HALVES.items():
            for net in nets:
                folder = DEV / net
                queries = [q for f in FILES if (folder / f).exists() for q in read_labelled_csv(folder / f) if q.agent]
                for zero in (False, True):
                    table = routing_table(read_design(folder / "design.yaml"), None)
                    if zero:
                        table = replace(table, candidates=tuple(replace(c, examples=()) for c in table.candidates))
                    fitted = ROUTERS[router]().fit(table)
                    texts, agents, caps = (
                        [q.text for q in queries],
                        [q.agent for q in queries],
                        [q.capability for q in queries],
                    )
                    part = f"half_{half}" + ("/0" if zero else "")
                    cases.append(case(fitted, texts, agents, caps, part=part, router=router, by_name=False))
    table, rows = load_benchmark(LMOS_DATA)
    with INFORMAL.open(newline="") as f:
        informal = [Row(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
    for router in SPLIT_ROUTERS:
        for setting in ("5-per-intent", "zero-shot"):
            for k, (train_idx, test_idx) in enumerate(folds(rows)):
                seed = seed_rows(setting, [rows[i] for i in train_idx], random.Random(k))
                fitted = ROUTERS[router]().fit(table, seed=seed)
                test = [rows[i] for i in test_idx]
                texts, agents, caps = [r.text for r in test], [r.agent for r in test], [r.intent for r in test]
                cases.append(case(fitted, texts, agents, caps, part=f"lmos_{setting}", router=router, by_name=True))
            fitted = ROUTERS[router]().fit(table, seed=seed_rows(setting, rows, random.Random(0)))
            texts, agents, caps = [r.text for r in informal], [r.agent for r in informal], [r.intent for r in informal]
            cases.append(case(fitted, texts, agents, caps, part=f"informal_{setting}", router=router, by_name=True))
    return cases


def _tokens(c: Case, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(owner text, token id, unit token vector) of each token of `texts`, [PAD]/[CLS]/[SEP] left out."""
    assert c.static is not None
    table = c.static.table
    owner, ids = table.token_ids(texts)
    kept = ~np.isin(ids, cap.STATIC_SKIP)
    owner, ids = owner[kept], ids[kept]
    vectors = table.rows[ids].astype(np.float64) * table.scales[ids]
    return owner, ids, vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def alignment(c: Case, *, nearest: bool, exact: bool = False, evidence: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(q × classes alignment, queries with a known token): per query token, its largest cosine to the tokens
    of a class's texts (or of each text, `nearest`: then the class's best text; `exact`: 1 for the same token,
    else 0), Zipf-weighted mean; `evidence`: instead of the mean, the strongest token's Zipf weight times its
    alignment less its mean alignment over the agent's classes."""
    assert c.static is not None
    data = c.fitted.data
    texts = cap.capability_texts(data) + list(data.texts)
    text_class = np.concatenate([np.arange(len(data.classes)), data.labels]).astype(np.int64)
    owner, ids, vectors = _tokens(c, texts)
    group = owner if nearest else text_class[owner]  # what a token's maximum is taken over
    order = np.lexsort((ids, group))
    group, vectors, ids = group[order], vectors[order], ids[order]
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    q_owner, q_ids, q_vectors = _tokens(c, c.texts)
    similar = (q_ids[:, None] == ids[None, :]).astype(np.float64) if exact else q_vectors @ vectors.T
    best = np.maximum.reduceat(similar, starts, axis=1)  # query tokens × groups
    weights = c.static.table.weights[q_ids]
    if evidence:
        per_class = np.zeros((len(q_ids), len(data.classes)))
        per_class[:, group[starts]] = best
        lifted = weights[:, None] * (per_class - per_class @ c.same / c.same.sum(axis=0))
        strongest = np.full((len(c.texts), len(data.classes)), -np.inf)
        np.maximum.at(strongest, q_owner, lifted)
        known = np.bincount(q_owner, minlength=len(c.texts)) > 0
        return np.where(known[:, None], strongest, 0.0), known
    by_query = sp.csr_matrix((weights, (q_owner, np.arange(len(q_ids)))), shape=(len(c.texts), len(q_ids)))
    total = np.asarray(by_query.sum(axis=1)).ravel()
    per_group = np.asarray(by_query @ best) / np.maximum(total, 1e-12)[:, None]
    found = np.full((len(c.texts), len(data.classes)), -np.inf)
    groups = group[starts]
    np.maximum.at(found.T, text_class[groups] if nearest else groups, per_group.T)
    return np.where(np.isfinite(found), found, 0.0), total > 0


def _centroid_pick(c: Case, vectors: np.ndarray, queries: np.ndarray | None = None) -> np.ndarray:
    """Today's static mix with other class centroids (and query vectors)."""
    assert c.static is not None
    q = c.static.query_vectors(c.texts) if queries is None else queries
    return replace(c.static, vectors=vectors).mixed_vectors(q, c.before)


def _own_and_examples(c: Case, own: np.ndarray, table: cap.TokenVectors | None = None) -> np.ndarray:
    assert c.static is not None
    data = c.fitted.data
    found = own.copy()
    if len(data.texts):
        np.add.at(found, data.labels, (table or c.static.table).vectors(data.texts))
    return np.asarray(found / np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-12))


def opinion(c: Case, family: str, setting: dict[str, float]) -> np.ndarray:
    """The pick of `c` under one candidate setting (today's pick where the candidate does not apply)."""
    if c.static is None:
        return c.pick
    data = c.fitted.data
    if family == "today":  # rebuilt from its parts: 0 changes everywhere, or the reconstruction is wrong
        return _centroid_pick(c, c.static.vectors)
    if family.startswith("align") or family == "overlap":
        if family.endswith("no-lexicon") and c.fitted.lexicon.groups:
            return c.pick
        key = (family == "align-nearest", family == "overlap", family.startswith("align-evidence"))
        if key not in c.cache:
            c.cache[key] = alignment(c, nearest=key[0], exact=key[1], evidence=key[2])
        values, known = c.cache[key]
        share = setting["s"] * c.share / cap.STATIC_SHARE  # faded as today's static share
        mixed = c.mix(c.pick, c.within(values, setting["T"]), share)
        return np.where(known[:, None], mixed, c.pick)
    if family == "description":
        return _centroid_pick(
            c, _own_and_examples(c, setting["w"] * c.static.table.vectors(cap.capability_texts(data)))
        )
    if family == "name":
        described = {(x.agent, x.capability): x.description for x in data.table.candidates}
        names = [name_words(capability) for _, capability in data.classes]
        descriptions = [described.get(k, "") or names[i] for i, k in enumerate(data.classes)]
        own = setting["w"] * c.static.table.vectors(names) + c.static.table.vectors(descriptions)
        own /= np.maximum(np.linalg.norm(own, axis=1, keepdims=True), 1e-12)
        return _centroid_pick(c, _own_and_examples(c, own))
    if family == "design-idf":
        table = c.static.table
        texts = cap.capability_texts(data) + list(data.texts)
        owner, ids = table.token_ids(texts)
        pairs = np.unique(owner * table.rows.shape[0] + ids)
        df = np.bincount(pairs % table.rows.shape[0], minlength=table.rows.shape[0]).astype(np.float64)
        idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
        weighted = replace(table, weights=table.weights * idf ** setting["p"])
        vectors = _own_and_examples(c, weighted.vectors(cap.capability_texts(data)), weighted)
        return _centroid_pick(c, vectors, weighted.vectors(c.texts))
    cosines = c.static.query_vectors(c.texts) @ c.static.vectors.T
    if family == "zscore":
        n = c.same.sum(axis=0)
        mean = cosines @ c.same / n
        spread = np.sqrt(((cosines - mean) ** 2) @ c.same / n + 1e-4)  # 0.01: a floor for agents of equal cosines
        return c.mix(c.before, c.within((cosines - mean) / spread, setting["T"]), c.share)
    if family == "geometric":
        own = c.within(cosines, cap.STATIC_TEMPERATURE)
        base = c.before / np.maximum(c.before @ c.same, 1e-12)
        share = setting["s"] * c.share / cap.STATIC_SHARE
        mixed = np.exp((1 - share) * np.log(np.maximum(base, 1e-12)) + share * np.log(np.maximum(own, 1e-12)))
        return np.asarray(mixed / (mixed @ c.same))
    raise ValueError(family)


def totals(cases: Sequence[Case], pick: Callable[[Case], np.ndarray]) -> dict[str, int]:
    found: dict[str, int] = {}
    for c in cases:
        found[c.part] = found.get(c.part, 0) + c.count(pick(c))
    return found


def oracle(cases: Sequence[Case]) -> dict[str, int]:
    """Half a: of the right-agent queries, how many each opinion alone picks right (and the final pick)."""
    found = {"right_agents": 0, "final": 0, "shares": 0, "siblings": 0, "static": 0, "none_of_the_three": 0}
    for c in cases:
        if not c.part.startswith("half_a") or c.static is None:
            continue
        x = c.fitted.encoder.assemble(c.fitted.encoder.counts(c.texts), len(c.texts))
        siblings = np.zeros_like(c.scores)
        if c.fitted.siblings is not None:
            for group, own in cap.sibling_softmax(c.fitted.siblings, x):
                siblings[:, group] = own
        static = c.within(c.static.query_vectors(c.texts) @ c.static.vectors.T, cap.STATIC_TEMPERATURE)
        opinions = {"final": c.pick, "shares": c.scores, "siblings": siblings, "static": static}
        right = {}
        for name, values in opinions.items():
            best = np.where(c.shown, values, -np.inf).argmax(axis=1)
            right[name] = c.target[np.arange(len(best)), best] & c.right_agent
            found[name] += int(right[name].sum())
        found["right_agents"] += int(c.right_agent.sum())
        anyone = right["shares"] | right["siblings"] | right["static"]
        found["none_of_the_three"] += int((c.right_agent & ~anyone).sum())
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--families", nargs="+", choices=sorted(GRIDS), default=list(GRIDS))
    parser.add_argument("--oracle", action="store_true", help="half a: which of today's opinions gets each right")
    args = parser.parse_args()
    load_before = os.getloadavg()
    started = time.process_time()
    cases = collect()
    base = totals(cases, lambda c: c.pick)
    report: dict[str, Any] = {"baseline": base, "families": {}}
    print("baseline: " + "  ".join(f"{p} {n}" for p, n in base.items()))
    for family in args.families:
        names, grid = GRIDS[family]
        results = []
        for values in itertools.product(*grid):
            setting = dict(zip(names, values, strict=True))
            found = totals(cases, lambda c, s=setting, f=family: opinion(c, f, s))  # type: ignore[misc]
            results.append({"setting": setting, "changes": {p: found[p] - base[p] for p in base}})
        best = max(results, key=lambda r: r["changes"]["half_a"] + r["changes"]["half_a/0"])
        report["families"][family] = {"chosen": best, "all": results}
        changes = "  ".join(f"{p} {d:+d}" for p, d in best["changes"].items())
        print(f"{family:<18}{json.dumps(best['setting']):<24}{changes}")
    if args.oracle:
        report["oracle_half_a"] = oracle(cases)
        print(f"oracle, half a: {report['oracle_half_a']}")
    report["machine"] = {**sides.load_figures(load_before), "cpu_s": round(time.process_time() - started, 1)}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "capability_static_dev_s12_c.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
