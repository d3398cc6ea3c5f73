"""Benchmark (dev data only): a per-channel discriminative model in MiniLM's embedding space as a further
"no agent fits" signal of the embedding router (session 10, issue #10), against today's rule. Not adopted: the
record and its figures are in docs/routing-research.md.

Per dev channel (the six dev networks of benchmarks/elsewhere_dev.py with their extra query files and their
session-6 `fresh-n.csv` files, and with `--lmos` the lmos-router table with informal-dev.csv and
out-of-scope-dev.csv) the default router (embedding, lexicon `auto`) is fitted as the library fits it, and a
linear model is fitted on its unit vectors:
* positives: the channel's examples and descriptions, all in one model (`--groups channel`) or one model per
  agent (`agent`: the query's score is its best agent's);
* negatives: the service messages the channel keeps (routing/other_services.txt by the rule in threshold.py,
  plus the design's `outOfScope`) and the off-topic messages it keeps (routing/off_topic.txt); with
  `--synthetic` also near-misses made from the channel's own examples (`synthetic_negatives`);
* model: scikit-learn's LinearSVC (classes balanced; `--kinds logistic`: LogisticRegression), C swept; the
  score its decision value, or (`-norm`) that over the weights' norm;
* calibration: each example's score from the models fitted without its fold (`FOLDS` folds, round robin), the
  limit a low quantile of those scores minus a margin (both swept); a query scoring below it gets no agent.
The signal is added to today's rule (the fit threshold and "nearer elsewhere", its margin swept too) and
compared with today's rule alone with its margin swept, at equal losses: rightly routed in-scope queries
answered "no agent" (issue #10's measure; on the lmos-router table, which has no agent labels here, every
in-scope query). `nested`: the variant and its setting chosen on one half of the dev networks (the most recall
at no more losses there than today's rule at a given margin), tested on the other half, against today's rule
chosen the same way and against today's best on the test half at the variant's test losses (an oracle there,
so in today's favour); with `--lmos` also the chosen setting's informal-dev losses. The frozen sets are never
read. Committed run: `python benchmarks/discriminative_dev.py --kinds svm --cs 0.3,1,3 --groups channel,agent
--lmos`.

Usage: python benchmarks/discriminative_dev.py [--lmos] [--synthetic] [--kinds svm,logistic] [--cs 0.3,1,3]
[--groups channel,agent]. Prints the figures and writes benchmarks/results/discriminative-dev.json (each sweep
kept as its frontier: the best point at each number of losses).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DATA, DEFAULT, DEV_HALVES, DEV_NETWORKS, ROUTERS  # noqa: E402
from routing import DEFAULT_DATA, load_benchmark, seed_rows  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.embedding import FittedEmbedding, cosines  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.threshold import (  # noqa: E402
    ELSEWHERE_FLOOR,
    ELSEWHERE_MARGIN,
    ELSEWHERE_QUANTILE,
    loo_picks,
)

RESULTS = Path(__file__).parent / "results"
HALVES = DEV_HALVES
FRESH = "fresh-n.csv"
FOLDS = 5
Array = npt.NDArray[np.float64]


@dataclass
class Channel:
    name: str
    fitted: FittedEmbedding
    queries: Array
    texts: list[str]
    inside: npt.NDArray[np.bool_]
    right: npt.NDArray[np.bool_]  # in scope and its agent first without a threshold
    fit_rejected: npt.NDArray[np.bool_]
    elsewhere_value: Array  # today's `elsewhere` (nan: off)
    fresh: npt.NDArray[np.bool_]  # the query comes from fresh-n.csv
    examples_text: list[str] = field(default_factory=list)
    scores: dict[str, tuple[Array, Array]] = field(default_factory=dict)  # variant → (queries, held-out examples)
    fit_cpu: dict[str, float] = field(default_factory=dict)


def channel_of(name: str, fitted: FittedEmbedding, rows: list[tuple[str, str, bool]]) -> Channel:
    texts = [t for t, _, _ in rows]
    results = route_fitted(fitted, texts)
    first = [r.matches[0].agent if r.matches else "" for r in results]
    inside = np.array([bool(a) for _, a, _ in rows])
    return Channel(
        name=name,
        fitted=fitted,
        queries=fitted.embedder.embed(texts).astype(np.float64),
        texts=texts,
        inside=inside,
        right=np.array([bool(a) and a == f for (_, a, _), f in zip(rows, first, strict=True)]),
        fit_rejected=np.array([r.rejected_by in ("fit", "no-candidates") for r in results]),
        elsewhere_value=np.array([np.nan if r.elsewhere is None else r.elsewhere for r in results]),
        fresh=np.array([f for _, _, f in rows]),
        examples_text=list(fitted.data.texts),
    )


def dev_channels() -> list[Channel]:
    channels = []
    for name, (folder, extra) in DEV_NETWORKS.items():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        rows = [
            (q.text, q.agent, f == FRESH) for f in ("queries.csv", *extra, FRESH) for q in read_labelled_csv(folder / f)
        ]
        began = time.process_time()
        fitted = ROUTERS[DEFAULT]().fit(table)
        cpu = time.process_time() - began
        assert isinstance(fitted, FittedEmbedding)
        channels.append(channel_of(name, fitted, rows))
        channels[-1].fit_cpu["router"] = cpu
    return channels


def lmos_channel() -> Channel:
    table, rows = load_benchmark(DEFAULT_DATA)
    seed = seed_rows("seeded", rows, random.Random(0))
    began = time.process_time()
    fitted = ROUTERS[DEFAULT]().fit(table, seed=seed)
    cpu = time.process_time() - began
    assert isinstance(fitted, FittedEmbedding)
    found: list[tuple[str, str, bool]] = []
    for path, label in ((DATA / "informal-dev.csv", True), (DATA / "out-of-scope-dev.csv", False)):
        with path.open(newline="") as f:
            found += [(r["instruction"], "?" if label else "", False) for r in csv.DictReader(f)]
    ch = channel_of("lmos-router", fitted, found)
    ch.right = ch.inside.copy()  # no agent labels there: every in-scope query counts
    ch.fit_cpu["router"] = cpu
    return ch


# --- the discriminative signal -------------------------------------------------------------------------------

FUNCTION_WORDS = (
    "i i'd i'm my me we we'd our a an the to for can could would you your please how do does is are was there "
    "any some what when where why who which want need like have has had get got it this that and or of on in at "
    "hi hello hey just"
)
SKIP_WORDS = frozenset(FUNCTION_WORDS.split())


def _first_content(words: list[str]) -> int | None:
    return next((i for i, w in enumerate(words) if w.lower().strip("?,.!'") not in SKIP_WORDS), None)


def synthetic_negatives(examples: list[str], services: list[str], rng: random.Random, per: int = 3) -> list[str]:
    """Near-misses made from the channel's own examples: the example's frame (its words up to and including
    its first content word, mostly the verb) kept, the object taken from a kept service message (its words
    after its own first content word): "can I move" + "a dentist appointment"."""
    made = []
    for text in examples:
        words = text.split()
        head = _first_content(words)
        if head is None or head == len(words) - 1 or not services:
            continue
        for _ in range(per):
            other = rng.choice(services).split()
            verb = _first_content(other)
            if verb is None or verb >= len(other) - 1:
                continue
            made.append(" ".join(words[: head + 1] + other[verb + 1 :]))
    return made


def fit_model(kind: str, c: float, x: Array, y: npt.NDArray[np.int64]) -> Any:
    if kind == "logistic":
        model: Any = LogisticRegression(C=c, class_weight="balanced", max_iter=500)
    else:
        model = LinearSVC(C=c, class_weight="balanced", random_state=0)
    return model.fit(x, y)


def _decision(model: Any, x: Array, norm: bool) -> Array:
    value = np.asarray(model.decision_function(x), dtype=np.float64)
    return value / float(np.linalg.norm(model.coef_)) if norm else value


def discriminative(
    ch: Channel, kind: str, c: float, synthetic: bool, group: str = "channel", norm: bool = False
) -> tuple[Array, Array]:
    """(each query's score, each example's held-out score) of one model in one channel; `group` "agent":
    one model per agent (its examples and descriptions against the negatives), the score the best agent's."""
    f = ch.fitted
    examples = f.examples.astype(np.float64)
    descriptions = f.descriptions.astype(np.float64)
    agent_of = f.data.agent_index()
    if group == "agent":
        text_group = np.concatenate([agent_of[f.data.labels], agent_of])
    else:
        text_group = np.zeros(len(examples) + len(descriptions), dtype=np.int64)
    negatives = [x.astype(np.float64) for x in (f.services, f.off_topic) if x is not None and len(x)]
    if synthetic:
        rng = random.Random(0)
        made = synthetic_negatives(ch.examples_text, list(f.service_texts), rng)
        if made:
            negatives.append(f.embedder.embed(made).astype(np.float64))
    pos, neg = np.vstack([examples, descriptions]), np.vstack(negatives)
    picked = loo_picks(len(examples), 500)
    folds = np.arange(len(picked)) % FOLDS
    query = np.full(len(ch.queries), -np.inf)
    held = np.full(len(picked), -np.inf)
    for g in np.unique(text_group):
        mine = text_group == g
        x = np.vstack([pos[mine], neg])
        y = np.concatenate([np.ones(int(mine.sum()), dtype=np.int64), np.zeros(len(neg), dtype=np.int64)])
        query = np.maximum(query, _decision(fit_model(kind, c, x, y), ch.queries, norm))
        index = np.full(len(pos), -1)
        index[mine] = np.arange(int(mine.sum()))  # row of each text in x
        for fold in range(FOLDS):
            out = picked[folds == fold]
            if not len(out):
                continue
            keep = np.ones(len(x), dtype=bool)
            keep[index[out][index[out] >= 0]] = False
            part = fit_model(kind, c, x[keep], y[keep])
            held[folds == fold] = np.maximum(held[folds == fold], _decision(part, examples[out], norm))
    return query, held


def library_elsewhere(ch: Channel, margin: float) -> npt.NDArray[np.bool_]:
    """Today's "nearer elsewhere" decision at another margin (the library's own rule, recomputed)."""
    f = ch.fitted
    if f.services is None or f.elsewhere_limit is None:
        return np.zeros(len(ch.texts), dtype=bool)
    if "loo_elsewhere" not in ch.scores:
        texts = np.vstack([f.examples, f.descriptions]).astype(np.float64)
        picked = loo_picks(len(f.examples))
        own = cosines(f.examples[picked], texts)
        own[np.arange(len(picked)), picked] = -1.0
        loo = cosines(f.examples[picked], f.services).max(axis=1) - own.max(axis=1)
        ch.scores["loo_elsewhere"] = (loo, loo)
    loo = ch.scores["loo_elsewhere"][0]
    limit = max(float(np.quantile(loo, ELSEWHERE_QUANTILE)) + margin, ELSEWHERE_FLOOR)
    return np.asarray(np.nan_to_num(ch.elsewhere_value, nan=-9.0) > limit, dtype=bool)


def figures(
    channels: list[Channel], rejected: list[npt.NDArray[np.bool_]], fresh: bool | None = None
) -> dict[str, Any]:
    lost = out = caught = inside = 0
    for ch, said_none in zip(channels, rejected, strict=True):
        mask = np.ones(len(ch.texts), dtype=bool) if fresh is None else (ch.fresh == fresh)
        lost += int((said_none & ch.right & mask).sum())
        inside += int((ch.right & mask).sum())
        caught += int((said_none & ~ch.inside & mask).sum())
        out += int((~ch.inside & mask).sum())
    return {"lost": lost, "right": inside, "caught": caught, "out": out, "recall": round(caught / max(out, 1), 4)}


def auc_left(channels: list[Channel], variant: str) -> float:
    """Pooled AUC of the score on the queries today's rule lets through: rightly routed in scope (higher)
    against out of scope; per channel the score is centred on its held-out examples' median."""
    pos, neg = [], []
    for ch in channels:
        query, held = ch.scores[variant]
        query = query - float(np.median(held))
        left = ~today(ch, 0.15)
        pos.append(query[left & ch.right])
        neg.append(query[left & ~ch.inside])
        if "elsewhere" not in variant:
            pass
    p, n = np.concatenate(pos), np.concatenate(neg)
    return round(float((p[:, None] > n[None, :]).mean() + 0.5 * (p[:, None] == n[None, :]).mean()), 3)


def today(ch: Channel, margin: float) -> npt.NDArray[np.bool_]:
    return ch.fit_rejected | library_elsewhere(ch, margin)


def with_signal(
    ch: Channel, variant: str, quantile: float, margin: float, base_margin: float | None = 0.15
) -> npt.NDArray[np.bool_]:
    """Today's rule (its "nearer elsewhere" at `base_margin`; None: the fit threshold alone) or the signal."""
    query, held = ch.scores[variant]
    limit = float(np.quantile(held, quantile)) - margin
    base = ch.fit_rejected if base_margin is None else today(ch, base_margin)
    return np.asarray(base | (query < limit), dtype=bool)


VARIANT_MARGINS = [round(m, 3) for m in np.arange(-0.5, 3.01, 0.1)] + [round(m, 3) for m in np.arange(-0.1, 0.3, 0.01)]
TODAY_MARGINS = [round(m, 2) for m in np.arange(0.0, 0.41, 0.01)]
QUANTILES = (0.02, 0.05, 0.10)
BASE_MARGINS: tuple[float | None, ...] = (None, *(round(m, 2) for m in np.arange(0.06, 0.31, 0.02)))


def curve(channels: list[Channel], variant: str | None, fresh: bool | None = None) -> list[dict[str, Any]]:
    points = []
    if variant is None:
        for m in TODAY_MARGINS:
            points.append({"margin": m} | figures(channels, [today(c, m) for c in channels], fresh))
        return points
    for b in BASE_MARGINS:
        for q in QUANTILES:
            for m in VARIANT_MARGINS:
                found = figures(channels, [with_signal(c, variant, q, m, b) for c in channels], fresh)
                points.append({"base": b, "quantile": q, "margin": m} | found)
    return points


def frontier(points: list[dict[str, Any]], most_lost: int) -> dict[str, Any] | None:
    ok = [p for p in points if p["lost"] <= most_lost]
    return max(ok, key=lambda p: (p["recall"], -p["lost"]), default=None)


def transfer(channels: list[Channel], variant: str | None) -> list[dict[str, Any]]:
    """Choose on one half at most today's losses there (the most recall), apply to the other half."""
    found = []
    for train, test in (HALVES, HALVES[::-1]):
        on_train = [c for c in channels if c.name in train]
        on_test = [c for c in channels if c.name in test]
        base_lost = figures(on_train, [today(c, ELSEWHERE_MARGIN) for c in on_train])["lost"]
        best = frontier(curve(on_train, variant), base_lost)
        assert best is not None
        if variant is None:
            rejected = [today(c, best["margin"]) for c in on_test]
        else:
            rejected = [with_signal(c, variant, best["quantile"], best["margin"], best["base"]) for c in on_test]
        found.append(
            {"chosen_on": list(train), "setting": {k: best[k] for k in ("base", "quantile", "margin") if k in best}}
            | {"train": {k: best[k] for k in ("lost", "recall")}, "test": figures(on_test, rejected)}
            | {"test_today": figures(on_test, [today(c, 0.15) for c in on_test])}
        )
    return found


def nested(channels: list[Channel], variants: list[str], extra: list[Channel]) -> list[dict[str, Any]]:
    """The variant and its setting chosen on one half (the most recall at no more losses there than today's
    rule at `budget_margin`), tested on the other; today's rule chosen the same way (its margin alone)."""
    found = []
    for budget_margin in (0.10, 0.12, 0.15, 0.20):
        for train, test in (HALVES, HALVES[::-1]):
            on_train = [c for c in channels if c.name in train]
            on_test = [c for c in channels if c.name in test]
            budget = figures(on_train, [today(c, budget_margin) for c in on_train])["lost"]
            best_today = frontier(curve(on_train, None), budget)
            assert best_today is not None
            candidates = []
            for v in variants:
                best = frontier(curve(on_train, v), budget)
                if best is not None:
                    candidates.append((best["recall"], -best["lost"], v, best))
            _, _, v, best = max(candidates, key=lambda x: (x[0], x[1]))
            test_v = figures(
                on_test, [with_signal(c, v, best["quantile"], best["margin"], best["base"]) for c in on_test]
            )
            test_t = figures(on_test, [today(c, best_today["margin"]) for c in on_test])
            same = frontier(curve(on_test, None), test_v["lost"])  # today at the variant's test losses (oracle)
            found.append(
                {"budget_margin": budget_margin, "budget": budget, "chosen_on": list(train), "variant": v}
                | {"setting": {k: best[k] for k in ("base", "quantile", "margin")}, "test": test_v}
                | {"today_margin": best_today["margin"], "test_today": test_t}
                | {"test_today_at_equal_losses": same}
                | (
                    {
                        "lmos": figures(
                            extra, [with_signal(c, v, best["quantile"], best["margin"], best["base"]) for c in extra]
                        )
                    }
                    if extra
                    else {}
                )
            )
    return found


def frontiers(points: list[dict[str, Any]], most: int = 15) -> dict[str, Any]:
    """The curve's best point at each number of losses up to `most` (what the report keeps of a sweep)."""
    found = {}
    for k in range(most + 1):
        best = frontier(points, k)
        if best is not None and (not found or best != list(found.values())[-1]):
            found[str(k)] = best
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lmos", action="store_true")
    parser.add_argument("--synthetic", action="store_true", help="also the synthetic near-miss negatives")
    parser.add_argument("--kinds", default="svm")
    parser.add_argument("--cs", default="0.3,1,3")
    parser.add_argument("--groups", default="channel,agent")
    args = parser.parse_args()
    load_before = os.getloadavg()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    channels = dev_channels()
    extra = [lmos_channel()] if args.lmos else []
    variants = []
    for kind in args.kinds.split(","):
        for c in (float(v) for v in args.cs.split(",")):
            for group in args.groups.split(","):
                for norm in (False, True):
                    for synth in (False, True) if args.synthetic else (False,):
                        name = f"{kind}-C{c:g}-{group}" + ("-norm" if norm else "") + ("-synth" if synth else "")
                        variants.append((name, kind, c, synth, group, norm))
    for ch in channels + extra:
        for name, kind, c, synth, group, norm in variants:
            began = time.process_time()
            ch.scores[name] = discriminative(ch, kind, c, synth, group, norm)
            ch.fit_cpu[name] = time.process_time() - began
    report: dict[str, Any] = {"router": DEFAULT, "folds": FOLDS, "variants": {}}
    base = {
        "all": figures(channels, [today(c, 0.15) for c in channels]),
        "fresh": figures(channels, [today(c, 0.15) for c in channels], True),
        "curve": curve(channels, None),
        "transfer": transfer(channels, None),
    }
    if extra:
        base["lmos"] = figures(extra, [today(c, 0.15) for c in extra])
    report["today"] = base
    report["nested"] = nested(channels, [v[0] for v in variants], extra)
    report["fit_cpu_router_s"] = {c.name: round(c.fit_cpu["router"], 3) for c in channels + extra}
    report["fit_cpu_signal_s"] = {c.name: {k: round(v, 3) for k, v in c.fit_cpu.items()} for c in channels + extra}
    for name, *_ in variants:
        entry: dict[str, Any] = {"curve": curve(channels, name), "transfer": transfer(channels, name)}
        entry["fresh_curve"] = curve(channels, name, True)
        entry["auc_left_by_today"] = auc_left(channels, name)
        if extra:
            entry["lmos_curve"] = curve(extra, name)
        entry["fit_cpu_s_per_channel_with_folds"] = round(float(np.mean([c.fit_cpu[name] for c in channels])), 3)
        report["variants"][name] = entry
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
        "wall_s": round(time.perf_counter() - wall_start, 1),
    }
    print_report(report, channels)
    report["today"]["fresh_curve"] = curve(channels, None, True)
    for entry in [report["today"], *report["variants"].values()]:  # kept: each sweep's frontier, not every point
        for key in ("curve", "fresh_curve", "lmos_curve"):
            if key in entry:
                entry[key] = frontiers(entry[key])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "discriminative-dev.json"
    out.write_text(json.dumps(report, indent=1) + "\n")


def print_report(report: dict[str, Any], channels: list[Channel]) -> None:
    t = report["today"]
    print(f"today: all {t['all']}  fresh {t['fresh']}" + (f"  lmos {t['lmos']}" if "lmos" in t else ""))
    print("frontier (recall at ≤ k lost): today swept margin, then each variant (+ today's rule)")
    rows = {"today": t["curve"]} | {n: e["curve"] for n, e in report["variants"].items()}
    for name, points in rows.items():
        cells = []
        for k in (3, 5, 7, 9, 12):
            best = frontier(points, k)
            cells.append(f"≤{k}: {best['recall']:.3f}" if best else f"≤{k}: —")
        print(f"{name:<22}" + "  ".join(cells))
    print("fresh-n only:")
    fresh_rows = {"today": curve(channels, None, True)} | {n: e["fresh_curve"] for n, e in report["variants"].items()}
    for name, points in fresh_rows.items():
        cells = []
        for k in (0, 1, 2, 3, 5):
            best = frontier(points, k)
            cells.append(f"≤{k}: {best['caught']}/{best['out']}" if best else f"≤{k}: —")
        print(f"{name:<22}" + "  ".join(cells))
    if "lmos" in t:
        print("lmos-router (informal-dev lost, out-of-scope-dev recall):")
        for name, e in report["variants"].items():
            cells = []
            for k in (0, 1, 2, 3, 5):
                best = frontier(e["lmos_curve"], k)
                cells.append(f"≤{k}: {best['recall']:.3f}" if best else f"≤{k}: —")
            print(f"{name:<22}" + "  ".join(cells))
    print("transfer (chosen on one half at ≤ today's losses there, tested on the other):")
    for name, e in ({"today": t} | report["variants"]).items():
        moved = "; ".join(
            f"{x['setting']} test lost {x['test']['lost']} recall {x['test']['recall']:.3f}"
            f" (today {x['test_today']['lost']}/{x['test_today']['recall']:.3f})"
            for x in e["transfer"]
        )
        print(f"{name:<22}{moved}")
    for name, e in report["variants"].items():
        print(f"{name:<22}AUC on what today lets through {e['auc_left_by_today']}", end="  ")
        print(f"fit cpu per channel (model + {FOLDS} folds): {e['fit_cpu_s_per_channel_with_folds']} s")
    print("nested (variant and setting chosen on one half at today's losses there, tested on the other):")
    for x in report["nested"]:
        print(
            f"budget m{x['budget_margin']} ({x['budget']} lost) on {x['chosen_on'][0]}-half:"
            f" {x['variant']} {x['setting']}"
            f" test lost {x['test']['lost']} recall {x['test']['recall']:.3f} | today m{x['today_margin']}"
            f" test lost {x['test_today']['lost']} recall {x['test_today']['recall']:.3f}"
            f" | today at ≤{x['test']['lost']} lost on the test half (margin chosen there):"
            f" {x['test_today_at_equal_losses']['recall']:.3f} (m {x['test_today_at_equal_losses']['margin']})"
            + (f" | lmos-router informal-dev lost {x['lmos']['lost']} of {x['lmos']['right']}" if "lmos" in x else "")
        )
    print(f"fit cpu: router {report['fit_cpu_router_s']}")
    print(f"fit cpu: signal {report['fit_cpu_signal_s']}")
    print(f"machine: {report['machine']}")


if __name__ == "__main__":
    main()
