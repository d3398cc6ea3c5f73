"""Benchmark (dev data only): the embedding router's "nearer elsewhere" rule against variants of it.

For every dev network (benchmarks/data/dev/, each with its extra query files, as generalisation.py routes them)
the default router (embedding, lexicon `auto`) is fitted on the design's examples, and each query's "no agent"
decision is recomputed from the fitted router's own vectors with each variant of the second signal; the fit
threshold's rejections are kept as they are (they are not what is compared). For a variant, the limit is the
`ELSEWHERE_QUANTILE` quantile of the examples' own (leave-one-out) values plus a margin, at least
`ELSEWHERE_FLOOR`, as in routing/threshold.py; the margin is swept, giving the trade-off between false rejects
(in-scope queries answered "no agent" by the second signal) and out-of-scope recall (either signal).
Variants (see `VARIANTS`):
* nearest — today's rule: cosine to the nearest kept service message − cosine to the channel's nearest text;
* nearest-no-gap — the same with session 4's background (a service message kept when merely nearer to another
  service message than to the channel, without `SERVICE_GAP`): the rule before session 5, side by side;
* top2-mean — the mean of the two nearest on each side;
* kind-top2 — the best service kind (the `#` headings of routing/other_services.txt) against the best
  capability, each the mean of its two nearest texts;
* knn-vote — the cosine-weighted share of service messages among the query's 3 nearest texts of both;
* soft-penalty — each service message's cosine lowered by how much nearer it is to the channel than the median
  kept message (a request bordering on the channel's own work needs a closer query to count);
* siblings-out — today's value, but the limit calibrated with each example's whole capability left out
  (its description kept), which resembles a query worded unlike any example of its capability.
`transfer` checks each margin choice across a 2-fold split of the networks: the smallest margin with at most
one false reject on one half, applied to the other. `--lmos` adds the lmos-router customer-service table
(fitted on all of train.csv) with informal-dev.csv and out-of-scope-dev.csv, a table with many examples.
Never run it on the frozen sets (benchmarks/data/networks/, heldout/): they are not read here.

Usage: python benchmarks/elsewhere_dev.py [--lmos]
Prints the trade-off and writes benchmarks/results/elsewhere-dev.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DATA, DEFAULT, DEV_HALVES, DEV_NETWORKS, ROUTERS  # noqa: E402
from routing import DEFAULT_DATA, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import FittedRouter, RoutingTable, route_fitted  # noqa: E402
from lmos_studio.routing.embedding import FittedEmbedding, cosines, service_background  # noqa: E402
from lmos_studio.routing.evaluate import evaluate  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.threshold import (  # noqa: E402
    ELSEWHERE_FLOOR,
    ELSEWHERE_MARGIN,
    ELSEWHERE_QUANTILE,
    OTHER_SERVICES_FILE,
    SERVICE_GAP,
    loo_picks,
    services_kept,
)

RESULTS = Path(__file__).parent / "results"
HALVES = DEV_HALVES
Array = npt.NDArray[np.float64]


@dataclass
class Channel:
    """What a variant needs of one fitted channel and its labelled queries."""

    name: str
    queries: Array  # (queries × dim)
    inside: npt.NDArray[np.bool_]  # the query has an agent
    fit_rejected: npt.NDArray[np.bool_]  # the fit threshold already says "no agent"
    library_elsewhere: npt.NDArray[np.bool_]  # the library's own "nearer elsewhere" decision
    examples: Array
    labels: npt.NDArray[np.int64]
    descriptions: Array
    backgrounds: dict[str, Background]  # "library": today's kept service messages; "no-gap": session 4's
    dense_loo: Array


@dataclass
class Background:
    """The service messages a channel keeps, their kinds and their cosines to the channel's nearest text."""

    vectors: Array
    kinds: npt.NDArray[np.str_]
    to_channel: Array


def service_kinds() -> list[str]:
    """The kind (the `#` heading above it) of every line of other_services.txt, in order."""
    kinds, heading = [], ""
    for line in OTHER_SERVICES_FILE.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if text.startswith("#"):
            heading = text.lstrip("# ")
        elif text:
            kinds.append(heading)
    return kinds


def channel_of(name: str, fitted: FittedEmbedding, texts: list[str], inside: list[bool]) -> Channel:
    vectors, nearest_other, _ = service_background(fitted.embedder)
    channel = np.vstack([fitted.examples, fitted.descriptions]).astype(np.float64)
    to_channel = cosines(vectors, channel).max(axis=1)
    dense_loo = fitted.dense_loo()
    kinds = np.array(service_kinds())
    backgrounds = {}
    for name_, gap in (("library", SERVICE_GAP), ("no-gap", 0.0)):  # no-gap: session 4's rule (no SERVICE_GAP)
        kept = services_kept(to_channel, dense_loo, nearest_other, gap=gap)
        backgrounds[name_] = Background(vectors[kept].astype(np.float64), kinds[kept], to_channel[kept])
    results = route_fitted(fitted, texts)
    return Channel(
        name=name,
        queries=fitted.embedder.embed(texts).astype(np.float64),
        inside=np.array(inside),
        fit_rejected=np.array([r.rejected_by == "fit" for r in results]),
        library_elsewhere=np.array([r.rejected_by == "elsewhere" for r in results]),
        examples=fitted.examples.astype(np.float64),
        labels=np.asarray(fitted.data.labels, dtype=np.int64),
        descriptions=fitted.descriptions.astype(np.float64),
        backgrounds=backgrounds,
        dense_loo=dense_loo,
    )


def _top_mean(c: Array, k: int) -> Array:
    return np.asarray(np.sort(c, axis=1)[:, -min(k, c.shape[1]) :].mean(axis=1), dtype=np.float64)


def _best_group(c: Array, groups: npt.NDArray[Any], k: int) -> Array:
    return np.max([_top_mean(c[:, groups == g], k) for g in np.unique(groups)], axis=0)


Score = Callable[[Array, Array, Channel, Background], Array]  # (cosines to the channel's texts, to services, …)


def nearest(own: Array, other: Array, ch: Channel, bg: Background) -> Array:
    return np.asarray(other.max(axis=1) - own.max(axis=1), dtype=np.float64)


def top2_mean(own: Array, other: Array, ch: Channel, bg: Background) -> Array:
    return _top_mean(other, 2) - _top_mean(own, 2)


def kind_top2(own: Array, other: Array, ch: Channel, bg: Background) -> Array:
    text_labels = np.concatenate([ch.labels, np.arange(len(ch.descriptions))])
    return _best_group(other, bg.kinds, 2) - _best_group(own, text_labels, 2)


def knn_vote(own: Array, other: Array, ch: Channel, bg: Background) -> Array:
    both = np.hstack([own, other])
    top = np.argsort(-both, axis=1)[:, :3]
    weights = np.maximum(np.take_along_axis(both, top, axis=1), 1e-6)
    return np.asarray((weights * (top >= own.shape[1])).sum(axis=1) / weights.sum(axis=1), dtype=np.float64)


def soft_penalty(own: Array, other: Array, ch: Channel, bg: Background) -> Array:
    penalty = bg.to_channel - np.median(bg.to_channel)
    return np.asarray((other - penalty).max(axis=1) - own.max(axis=1), dtype=np.float64)


VARIANTS: dict[str, tuple[Score, bool, str]] = {  # name → (score, whole capability left out, background)
    "nearest": (nearest, False, "library"),
    "nearest-no-gap": (nearest, False, "no-gap"),
    "top2-mean": (top2_mean, False, "library"),
    "kind-top2": (kind_top2, False, "library"),
    "knn-vote": (knn_vote, False, "library"),
    "soft-penalty": (soft_penalty, False, "library"),
    "siblings-out": (nearest, True, "library"),
}
MARGINS = {v: [round(m, 2) for m in np.arange(0.0, 0.31, 0.01)] for v in VARIANTS}
MARGINS["knn-vote"] = [round(m, 2) for m in np.arange(0.0, 0.91, 0.03)]  # a share of 3 neighbours, not a cosine


def values(ch: Channel, variant: str) -> tuple[Array, Array]:
    """(each query's value, each example's leave-one-out value) of one variant in one channel."""
    score, siblings_out, background = VARIANTS[variant]
    bg = ch.backgrounds[background]
    texts = np.vstack([ch.examples, ch.descriptions])
    picked = loo_picks(len(ch.examples))
    own = cosines(ch.examples[picked], texts)
    if siblings_out:
        same = ch.labels[picked][:, None] == np.concatenate([ch.labels, np.full(len(ch.descriptions), -1)])[None, :]
        own[same] = -1.0
    else:
        own[np.arange(len(picked)), picked] = -1.0
    query = score(cosines(ch.queries, texts), cosines(ch.queries, bg.vectors), ch, bg)
    return query, score(own, cosines(ch.examples[picked], bg.vectors), ch, bg)


_VALUES: dict[tuple[int, str], tuple[Array, Array]] = {}


def decisions(ch: Channel, variant: str, margin: float) -> npt.NDArray[np.bool_]:
    key = (id(ch), variant)
    if key not in _VALUES:
        _VALUES[key] = values(ch, variant)
    query, loo = _VALUES[key]
    limit = max(float(np.quantile(loo, ELSEWHERE_QUANTILE)) + margin, ELSEWHERE_FLOOR)
    return np.asarray(query > limit, dtype=bool)


def figures(channels: list[Channel], variant: str, margin: float) -> dict[str, Any]:
    false_rejects = recalled = out = 0
    for ch in channels:
        said_none = decisions(ch, variant, margin)
        false_rejects += int((said_none & ch.inside & ~ch.fit_rejected).sum())
        recalled += int(((said_none | ch.fit_rejected) & ~ch.inside).sum())
        out += int((~ch.inside).sum())
    return {"false_rejects": false_rejects, "out_of_scope_recall": round(recalled / max(out, 1), 4)}


def transfer(channels: list[Channel], variant: str) -> list[dict[str, Any]]:
    """The smallest margin with at most one false reject on one half of the networks, on the other half."""
    found = []
    for train, test in (HALVES, HALVES[::-1]):
        on_train = [c for c in channels if c.name in train]
        on_test = [c for c in channels if c.name in test]
        margins = MARGINS[variant]
        margin = next((m for m in margins if figures(on_train, variant, m)["false_rejects"] <= 1), margins[-1])
        found.append(
            {"chosen_on": list(train), "margin": margin, "train": figures(on_train, variant, margin)}
            | {"test": figures(on_test, variant, margin)}
        )
    return found


def dev_channels() -> list[Channel]:
    channels = []
    for name, (folder, extra) in DEV_NETWORKS.items():
        design = read_design(folder / "design.yaml")
        queries = [q for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
        router = ROUTERS[DEFAULT]()
        fitted: list[FittedRouter] = []

        def fit(table: RoutingTable, rows: Any, router: Any = router, fitted: list[FittedRouter] = fitted) -> Any:
            fitted.append(router.fit(table, seed=rows))
            return fitted[-1]

        evaluate(design, queries, router=router, fit=fit)  # fits the design's one channel as eval does
        last = fitted[-1]
        assert isinstance(last, FittedEmbedding)
        channels.append(channel_of(name, last, [q.text for q in queries], [bool(q.agent) for q in queries]))
    return channels


def lmos_channel() -> Channel:
    table, rows = load_benchmark(DEFAULT_DATA)
    fitted = ROUTERS[DEFAULT]().fit(table, seed=seed_rows("seeded", rows, random.Random(0)))
    assert isinstance(fitted, FittedEmbedding)
    texts: list[str] = []
    inside: list[bool] = []
    for path, label in ((DATA / "informal-dev.csv", True), (DATA / "out-of-scope-dev.csv", False)):
        with path.open(newline="") as f:
            found = [r["instruction"] for r in csv.DictReader(f)]
        texts += found
        inside += [label] * len(found)
    return channel_of("lmos-router", fitted, texts, inside)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lmos", action="store_true", help="also the lmos-router table (fitted on train.csv)")
    args = parser.parse_args()
    load_before = os.getloadavg()
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    channels = dev_channels()
    groups = {"dev_networks": channels} | ({"lmos_router": [lmos_channel()]} if args.lmos else {})
    for ch in (c for cs in groups.values() for c in cs):  # today's rule, recomputed here, is the library's
        same = decisions(ch, "nearest", ELSEWHERE_MARGIN) & ~ch.fit_rejected
        assert (same == ch.library_elsewhere).all(), f"{ch.name}: recomputed rule differs from the library"
    report: dict[str, Any] = {
        "router": DEFAULT,
        "library_margin": ELSEWHERE_MARGIN,
        "queries": {
            group: {
                "in_scope": sum(int(c.inside.sum()) for c in cs),
                "out_of_scope": sum(int((~c.inside).sum()) for c in cs),
            }
            for group, cs in groups.items()
        },
        "variants": {},
    }
    for variant in VARIANTS:
        entry: dict[str, Any] = {}
        for group, cs in groups.items():
            entry[group] = {f"{m:.2f}": figures(cs, variant, m) for m in MARGINS[variant]}
        entry["transfer"] = transfer(channels, variant)
        report["variants"][variant] = entry
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
        "wall_s": round(time.perf_counter() - wall_start, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "elsewhere-dev.json"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(out)
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    counts = report["queries"]
    print(f"dev queries: {counts}; library margin {report['library_margin']}")
    print("best out-of-scope recall at ≤ k false rejects (margin) — dev networks; then the 2-fold transfer")
    for variant, entry in report["variants"].items():
        cells = []
        for k in (0, 1, 2, 3, 5):
            fits = [(f["out_of_scope_recall"], m) for m, f in entry["dev_networks"].items() if f["false_rejects"] <= k]
            best = max(fits, default=None, key=lambda x: (x[0], x[1]))
            cells.append(f"≤{k}: {best[0]:.3f} (m {best[1]})" if best else f"≤{k}: —")
        moved = "; ".join(
            f"m {t['margin']}: test FR {t['test']['false_rejects']} recall {t['test']['out_of_scope_recall']:.3f}"
            for t in entry["transfer"]
        )
        print(f"{variant:<15}" + "  ".join(cells) + f"  | transfer {moved}")
        if variant != "knn-vote":  # its values are shares, not cosines: the library's margin means nothing there
            at = {
                group: by_margin[f"{report['library_margin']:.2f}"]
                for group, by_margin in entry.items()
                if group != "transfer"
            }
            print(f"{'':<15}at the library margin: {at}")
    print(f"machine: {report['machine']}")


if __name__ == "__main__":
    main()
