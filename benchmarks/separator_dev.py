"""Benchmark (dev data only): the embedding router's discriminative part (routing/discriminative.py, session 11)
swept against the router without it, agent and capability accuracy side by side.

Units, each fitted once by the library's own `EmbeddingRouter.fit` and then routed with each variant of the
separator put in place (`FittedEmbedding.separator`, its weight and the dense weights), the rest of the router
as fitted:
* the dev networks (benchmarks/data/dev/, capability_dev.py's files and halves: a tuned on, b and c checks),
  in-scope agent and capability accuracy, and out-of-scope answers "no agent" (which must not move);
* the lmos-router split (benchmarks/routing.py's 5 grouped folds): 5 per intent and zero-shot, with
  `--seeded` also seeded;
* informal-dev.csv with the router fitted on all of train.csv: seeded, 5 per intent, zero-shot.
Variants: the model (`ridge`: the library's least squares, α = C; `svm`: LinearSVC, classes balanced; `svm+own`:
the same with the capabilities' own texts as more rows; `logistic`: LogisticRegression, balanced; `lda`: shrunk
linear discriminant analysis), its columns (classes or agents), C, the softmax temperature, and where its weight
comes from (`grow:s`: the library's `shares`, s times the examples' parts' weight, taken from all three parts;
`all:s`: s of the whole dense part; `proto:f`: the fraction f of the prototypes' weight alone). Never reads the
frozen sets (benchmarks/data/networks*/, heldout/).

Committed runs (results/): separator-dev.json `--seeded --per-network --kinds ridge,svm --cs 0.1,1 --by
class,agent --temperatures 20 --modes grow:0.2,grow:0.6`; separator-dev-routers.json `--routers embedding
embedding-no-lexicon --seeded --kinds ridge --cs 0.1 --by class --temperatures 20 --modes grow:0.2`;
separator-dev-svm-rows.json `--kinds svm,svm+own --cs 1 --by class --temperatures 20 --modes proto:1,grow:0.2`;
half a only: separator-dev-a-logistic.json `--kinds logistic --cs 10,100,1000 --by class,agent --modes
grow:0.2,grow:0.6` and separator-dev-a-lda.json `--kinds lda --cs=-1,0.3 --by class --scales 0.1,1 --modes
grow:0.2,grow:0.6`.

Usage: python benchmarks/separator_dev.py [--routers NAME ...] [--cs 0.3,1,3] [--temperatures 5,10,20]
       [--modes proto:0.5,all:0.2] [--kinds svm,logistic] [--by class,agent] [--seeded] [--zero-shot-dev]
       [--only-a] [--out FILE]
Prints the figures and writes benchmarks/results/separator-dev.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from capability_dev import DEV, FILES, HALVES  # noqa: E402
from generalisation import DATA, ROUTERS  # noqa: E402
from routing import DEFAULT_DATA, Row, folds, load_benchmark, seed_rows  # noqa: E402
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.discriminative import Separator, shares  # noqa: E402
from lmos_studio.routing.embedding import FittedEmbedding  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import BATCH_CHUNK, blend_weights  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.training import rank_agents_batch  # noqa: E402

RESULTS = Path(__file__).parent / "results"
SEED = 0  # liblinear and lbfgs: reproducible fits


@dataclass
class Unit:
    group: str  # "a", "b", "c", "lmos 5-per-intent", "informal seeded", ...
    name: str
    fitted: FittedEmbedding
    texts: list[str]
    agents: list[str]
    capabilities: list[str]
    out_of_scope: list[str]
    vectors: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    models: dict[tuple[str, str, float], Separator | None] = field(default_factory=dict)


def fitted_embedding(router: str, table: Any, seed: Any = ()) -> FittedEmbedding:
    fitted = ROUTERS[router]().fit(table, seed=seed)
    assert isinstance(fitted, FittedEmbedding)
    return fitted


def dev_units(router: str, zero_shot: bool) -> list[Unit]:
    units = []
    for half, nets in HALVES.items():
        for name in nets:
            folder = DEV / name
            assert folder.parent.name == "dev", folder  # dev data only
            table = routing_table(read_design(folder / "design.yaml"), None)
            if zero_shot:
                table = replace(table, candidates=tuple(replace(c, examples=()) for c in table.candidates))
            queries = [q for f in FILES if (folder / f).exists() for q in read_labelled_csv(folder / f)]
            inside = [q for q in queries if q.agent]
            units.append(
                Unit(
                    half,
                    name,
                    fitted_embedding(router, table),
                    [q.text for q in inside],
                    [q.agent for q in inside],
                    [q.capability for q in inside],
                    [q.text for q in queries if not q.agent],
                )
            )
    return units


def lmos_units(router: str, settings: tuple[str, ...]) -> list[Unit]:
    table, rows = load_benchmark(DEFAULT_DATA)
    units = []
    for setting in settings:
        for k, (train_idx, test_idx) in enumerate(folds(rows)):
            seed = seed_rows(setting, [rows[i] for i in train_idx], random.Random(k))
            test = [rows[i] for i in test_idx]
            fitted = fitted_embedding(router, table, seed)
            units.append(
                Unit(f"lmos {setting}", f"fold {k}", fitted, *_columns(test), [])  # type: ignore[arg-type]
            )
    with (DATA / "informal-dev.csv").open(newline="") as f:
        informal = [Row(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
    for setting in ("seeded", "5-per-intent", "zero-shot"):
        fitted = fitted_embedding(router, table, seed_rows(setting, rows, random.Random(0)))
        units.append(Unit(f"informal {setting}", "informal-dev", fitted, *_columns(informal), []))  # type: ignore[arg-type]
    return units


def _columns(rows: list[Row]) -> tuple[list[str], list[str], list[str]]:
    return [r.text for r in rows], [r.agent for r in rows], [r.intent for r in rows]


@dataclass(frozen=True)
class Variant:
    kind: str  # "none", "svm", "logistic"
    by: str = "class"
    c: float = 1.0
    temperature: float = 10.0
    mode: str = "proto:0.5"

    @property
    def label(self) -> str:
        if self.kind == "none":
            return "none"
        return f"{self.kind} {self.by} C={self.c:g} T={self.temperature:g} {self.mode}"


def model_of(unit: Unit, kind: str, by: str, c: float) -> Separator | None:
    key = (kind, by, c)
    if key not in unit.models:
        began = time.process_time()
        f = unit.fitted
        if kind == "ridge":  # the library's
            unit.models[key] = Separator.fit(f.data, f.examples, f.descriptions, alpha=c, by_agent=by == "agent")
        else:
            unit.models[key] = _other(f, kind, c, by == "agent")
        unit.models[(*key, "cpu")] = time.process_time() - began  # type: ignore[assignment]
    return unit.models[key]


def _other(f: FittedEmbedding, kind: str, c: float, by_agent: bool) -> Separator | None:
    """`svm` (LinearSVC, C = c, balanced), `svm+own` (the same with the capabilities' own texts as more rows),
    `logistic` (C = c, balanced) or `lda` (shrinkage c, "auto" (Ledoit-Wolf) for c < 0; uniform priors) as a
    `Separator` (temperature 1: the variant's own is set by `apply`)."""
    data = f.data
    agent_of = data.agent_index()
    if data.examples_per_class() < 1 or len(data.classes) < 2:
        return None
    rows = np.vstack([f.examples, f.descriptions]).astype(np.float64)
    labels = np.concatenate([data.labels, np.arange(len(data.classes))])
    if kind == "svm+own":  # the capabilities' own texts (`capability_texts`, one per class) as more rows
        assert f.capabilities is not None
        rows = np.vstack([rows, f.capabilities]).astype(np.float64)
        labels = np.concatenate([labels, np.arange(len(data.classes))])
    if by_agent:
        labels = agent_of[labels]
    columns = len(np.unique(labels))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", "Only one sample", UserWarning)  # lda: a seed-only class of one row
        if kind.startswith("svm"):
            model: Any = LinearSVC(C=c, class_weight="balanced", random_state=SEED)
        elif kind == "logistic":
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000, random_state=SEED)
        else:
            model = LinearDiscriminantAnalysis(
                solver="lsqr", shrinkage="auto" if c < 0 else c, priors=np.full(columns, 1 / columns)
            )
        model.fit(rows, labels)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # one column for two labels (the second's): the first's is its negative
        half = 1.0 if kind.startswith("svm") else 0.5  # logistic, lda: the softmax of ±d/2 is their own σ(d)
        coef, intercept = np.vstack([-coef, coef]) * half, np.concatenate([-intercept, intercept]) * half
    return Separator(
        np.asarray(coef, dtype=np.float64), np.asarray(intercept, dtype=np.float64), agent_of, by_agent, 1.0
    )


def apply(unit: Unit, variant: Variant) -> None:
    """Put the variant in place on the unit's fitted router (none: as fitted without a separator)."""
    f = unit.fitted
    base = blend_weights(f.data.examples_per_class())
    f.separator, f.separator_weight, f.weights = None, 0.0, base
    if variant.kind == "none":
        return
    model = model_of(unit, variant.kind, variant.by, variant.c)
    if model is None:
        return
    f.separator = replace(model, temperature=variant.temperature)
    how, amount = variant.mode.split(":")
    if how == "grow":  # the library's rule
        f.weights, f.separator_weight = shares(base, share=float(amount))
        return
    s = float(amount) * (base[0] if how == "proto" else 1.0)
    if how == "proto":  # taken from the prototypes alone
        f.weights = (base[0] - s, base[1], base[2])
    else:
        f.weights = (base[0] * (1 - s), base[1] * (1 - s), base[2] * (1 - s))
    f.separator_weight = s


def score(unit: Unit, variant: Variant) -> dict[str, int]:
    apply(unit, variant)
    f = unit.fitted
    top = []
    for start in range(0, len(unit.texts), BATCH_CHUNK):  # as `route_batch` chunks (the encoder's batches)
        scores, _, _, _, pick = f._scored(unit.texts[start : start + BATCH_CHUNK])
        top += rank_agents_batch(f.data, scores, top_k=1, pick=pick)
    known = {c for _, c in f.data.classes}
    agent = capability = cap_n = 0
    for row, a, cap in zip(top, unit.agents, unit.capabilities, strict=True):
        right = bool(row) and row[0][0] == a
        agent += right
        if cap in known:
            cap_n += 1
            capability += right and row[0][1] == cap
    rejected = sum(r.no_match for r in route_fitted(f, unit.out_of_scope)) if unit.out_of_scope else 0
    return {"n": len(unit.texts), "agent": agent, "cap_n": cap_n, "capability": capability, "oos_rejected": rejected}


def variants(args: argparse.Namespace) -> list[Variant]:
    found = [Variant("none")]
    for kind in args.kinds.split(","):
        own = kind in ("logistic", "lda")  # their own probabilities at temperature 1
        temperatures = [float(t) for t in (args.scales if own else args.temperatures).split(",")]
        for by in args.by.split(","):
            for c in (float(x) for x in args.cs.split(",")):
                for t in temperatures:
                    for mode in args.modes.split(","):
                        found.append(Variant(kind, by, c, t, mode))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routers", nargs="+", default=["embedding-auto-lexicon"])
    parser.add_argument("--kinds", default="svm")
    parser.add_argument("--by", default="class,agent")
    parser.add_argument("--cs", default="0.3,1,3")
    parser.add_argument("--temperatures", default="5,10,20")
    parser.add_argument("--scales", default="1", help="temperatures of logistic and lda (their own: 1)")
    parser.add_argument("--modes", default="proto:0.5,proto:1,all:0.2,all:0.4")
    parser.add_argument("--seeded", action="store_true", help="also the lmos-router seeded 5-fold (slower)")
    parser.add_argument("--zero-shot-dev", action="store_true", help="the dev networks without their examples")
    parser.add_argument("--only-a", action="store_true", help="dev half a only (choosing)")
    parser.add_argument("--per-network", action="store_true", help="print each dev network's figures")
    parser.add_argument("--no-lmos", action="store_true", help="no lmos-router units")
    parser.add_argument("--out", type=Path, default=RESULTS / "separator-dev.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    report: dict[str, Any] = {"args": vars(args) | {"out": str(args.out.name)}, "routers": {}}
    for router in args.routers:
        units = dev_units(router, args.zero_shot_dev)
        if args.only_a:
            units = [u for u in units if u.group == "a"]
        if not args.no_lmos and not args.only_a:
            units += lmos_units(router, ("5-per-intent", "zero-shot") + (("seeded",) if args.seeded else ()))
        groups = list(dict.fromkeys(u.group for u in units))
        table: dict[str, Any] = {}
        for variant in variants(args):
            totals: dict[str, dict[str, int]] = {g: {} for g in groups}
            networks: dict[str, dict[str, int]] = {}
            for unit in units:
                found = score(unit, variant)
                for key, value in found.items():
                    totals[unit.group][key] = totals[unit.group].get(key, 0) + value
                if unit.group in HALVES:
                    networks[unit.name] = found
            table[variant.label] = {"groups": totals, "dev_networks": networks}
            print(router, variant.label.ljust(40), "  ".join(_cell(g, t) for g, t in totals.items()), flush=True)
            if args.per_network:
                print(" " * 8, "  ".join(f"{n} {t['agent']}/{t['capability']}" for n, t in networks.items()))
        fit_cpu = {
            f"{g}: {k[0]} {k[1]} C={k[2]:g}": round(
                sum(u.models.get((*k, "cpu"), 0.0) for u in units if u.group == g),
                4,  # type: ignore[arg-type]
            )
            for g in groups
            for k in {k for u in units for k in u.models if len(k) == 3}
        }
        report["routers"][router] = {"variants": table, "separator_fit_cpu_s": fit_cpu}
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"machine: {report['machine']}")


def _cell(group: str, t: dict[str, int]) -> str:
    cell = f"{group}: {t['agent']}/{t['capability']} of {t['n']}"
    return cell + (f" oos {t['oos_rejected']}" if group in HALVES else "")


if __name__ == "__main__":
    main()
