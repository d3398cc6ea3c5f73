"""Benchmark (dev data only): does a large public background of requests to many services (CLINC150) help
the "no agent fits" rule (routing/threshold.py)?

CLINC150 (Larson et al. 2019, "An Evaluation Dataset for Intent Classification and Out-of-Scope Prediction",
https://github.com/clinc/oos-eval, CC BY 3.0): 150 intents in 10 domains (banking, credit cards, travel, auto,
home, work, kitchen, utility, small talk, meta), 100 crowd-sourced training queries each, and out-of-scope
queries (`oos_train`/`oos_val` of data_full.json, 100 each; data_oos_plus.json's `oos_train`, 250). Nothing of
it is in this repository unless adopted: pass the folder holding data_full.json and data_oos_plus.json with
`--clinc`.

Variants (`variants`), each replacing the packaged backgrounds for the whole run (the routers' own code is
unchanged; their background caches are filled with the variant's texts and vectors):
* `today` — other_services.txt and off_topic.txt as shipped;
* `services+clinc-K` — the service messages plus the first K training queries of each CLINC intent, so "nearer
  elsewhere" has 150 more kinds of service; each channel keeps those clearly not its own by today's keep rule
  (`threshold.services_kept`, with `SERVICE_GAP`);
* `clinc-K-only` — the CLINC queries instead of ours (would a public background alone do?);
* `off_topic+oos` — the off-topic messages plus CLINC's 200 out-of-scope train/val queries (+ 250 of
  data_oos_plus with `oos-plus`) as general background of the fit threshold; the statistical router's generic
  words (threshold.GENERIC_SHARE) are still taken from off_topic.txt alone;
* combinations of the above.
For each: the default router (embedding, lexicon `auto`) on the six dev networks (generalisation.py's `network`,
as no_match_dev.py): pooled and per-network out-of-scope recall, false rejects and the in-scope drop, the two
halves of no_match_dev.py, the `fresh` files (fresh-n.csv, near-misses written apart from other_services.txt:
the honest dev check) and the lmos-router customer-service table fitted on train.csv with informal-dev.csv
(false rejects) and out-of-scope-dev.csv (recall); and the fit's CPU time. With `--statistical` the statistical
router (lexicon `auto`) gets the same service variants in its TF-IDF space (up to 20 per intent: its
pairwise product of the background is dense).

Then, for the embedding router, two analyses recompute the "nearer elsewhere" decisions from the fitted routers'
vectors (the fit threshold's rejections kept as they are; at today's margin they reproduce the full rule's
figures), so that backgrounds are compared at equal false rejects, not at constants chosen for today's list:
* `margin_sweep`: per background and keep rule (today's, or `intent-drop`: a CLINC intent is dropped whole when
  any of its queries is not kept), the `ELSEWHERE_MARGIN` swept: pooled recall against in-scope queries lost;
  `desk domains`: CLINC's service-desk-like domains only (`DESK_DOMAINS`: banking, credit cards, travel, auto and
  commute, work; not its assistant requests: weather, alarms, music, shopping lists, small talk);
* `oracle`: the variant's `elsewhere` as a further signal on top of today's rule, one pooled threshold chosen
  on the labels (the highest that loses at most 2 points of in-scope accuracy beyond today's losses: an upper
  bound, as no_match_dev.py's `recall_at_2_points`), and its ROC AUC on the queries today's rule lets through
  (rightly routed in scope against out of scope); also with the mean of the k nearest messages on each side.
Never run on the frozen sets.

Usage: python benchmarks/clinc_background_dev.py --clinc DIR [--variants NAME ...] [--statistical] [--no-sweep]
Prints the figures and writes benchmarks/results/clinc_background_dev.json (clinc_background_statistical_dev.json
with --statistical).
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

from generalisation import DATA, DEFAULT, DEV_NETWORKS, ROUTERS, TARGET_DROP_POINTS, network  # noqa: E402
from no_match_dev import FRESH, HALVES, auc, fresh  # noqa: E402
from routing import DEFAULT_DATA, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing import embedding, statistical  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.encoder import cached_embed_many, local_embedder  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.threshold import (  # noqa: E402
    ELSEWHERE_FLOOR,
    ELSEWHERE_QUANTILE,
    SERVICE_GAP,
    loo_picks,
    off_topic_messages,
    other_services,
    services_kept,
)

RESULTS = Path(__file__).parent / "results"
DESK_DOMAINS = ("banking", "credit_cards", "travel", "auto_and_commute", "work")  # service-desk-like, not assistant
CHUNK = 2000  # rows per block of the background's pairwise cosines (15 000² float64 would be 1.8 GB)
Texts = tuple[str, ...]


def clinc(folder: Path) -> dict[str, Any]:
    """CLINC150's training queries per intent (file order) and its out-of-scope queries."""
    full = json.loads((folder / "data_full.json").read_text())
    plus = json.loads((folder / "data_oos_plus.json").read_text())
    per_intent: dict[str, list[str]] = {}
    for text, intent in full["train"]:
        per_intent.setdefault(intent, []).append(text)
    domains = json.loads((folder / "domains.json").read_text())
    return {
        "per_intent": per_intent,
        "desk_intents": {i for d in DESK_DOMAINS for i in domains[d]},
        "oos": [t for t, _ in full["oos_train"] + full["oos_val"]],
        "oos_plus": [t for t, _ in plus["oos_train"]],
    }


def variants(data: dict[str, Any]) -> dict[str, tuple[Texts, Texts]]:
    """Name → (service messages, off-topic messages)."""

    def first(k: int) -> Texts:
        return tuple(t for texts in data["per_intent"].values() for t in texts[:k])

    services, off = other_services(), off_topic_messages()
    oos = tuple(dict.fromkeys(data["oos"]))
    oos_plus = tuple(dict.fromkeys(data["oos"] + data["oos_plus"]))
    found: dict[str, tuple[Texts, Texts]] = {"today": (services, off)}
    for k in (5, 20, 100):
        found[f"services+clinc-{k}"] = (services + first(k), off)
        found[f"clinc-{k}-only"] = (first(k), off)
    found["off_topic+oos"] = (services, off + oos)
    found["off_topic+oos-plus"] = (services, off + oos_plus)
    found["services+clinc-20,off_topic+oos"] = (services + first(20), off + oos)
    return found


class Vectors:
    """MiniLM int8 vectors of every text a variant uses, embedded once per run."""

    def __init__(self) -> None:
        self.embedder = local_embedder()
        self.known: dict[str, npt.NDArray[np.float32]] = {}
        self.cpu_s = 0.0  # spent embedding (disk cache misses only)

    def of(self, texts: Texts) -> npt.NDArray[np.float32]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.known]
        if missing:  # the disk cache (LMOS_STUDIO_DATA_DIR) keeps them for the next run
            cpu = time.process_time()
            self.known.update(zip(missing, cached_embed_many(self.embedder, missing), strict=True))
            self.cpu_s += time.process_time() - cpu
        return np.stack([self.known[t] for t in texts]).astype(np.float32)


def nearest_other(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Each row's cosine to its nearest other row, in blocks."""
    v = vectors.astype(np.float64)
    found = np.empty(len(v))
    for start in range(0, len(v), CHUNK):
        block = v[start : start + CHUNK] @ v.T
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -1.0
        found[start : start + CHUNK] = block.max(axis=1)
    return found


_CURRENT: dict[str, Texts] = {}  # the installed variant's off-topic messages


def _current_off_topic() -> Texts:
    return _CURRENT["off_topic"]


def _generic_as_shipped(lexicon: Any) -> frozenset[str]:
    """The statistical router's generic words, from off_topic.txt alone whatever the variant."""
    statistical.off_topic_messages = off_topic_messages
    try:
        return ORIGINAL_GENERIC(lexicon)
    finally:
        statistical.off_topic_messages = _current_off_topic


ORIGINAL_GENERIC = statistical.generic_features


def install(services: Texts, off: Texts, vectors: Vectors, *, statistical_services: bool) -> None:
    """Make the routers use these backgrounds (their module-level readers patched, their caches filled)."""
    embedder = vectors.embedder
    service_vectors = vectors.of(services)
    embedding._SERVICES[embedder] = (service_vectors, nearest_other(service_vectors), services)
    off_vectors = vectors.of(off)
    embedding._BACKGROUNDS[embedder] = (off_vectors, embedding.cosines(off_vectors, off_vectors).astype(np.float32))
    _CURRENT["off_topic"] = off
    embedding.other_services = lambda: services  # type: ignore[assignment]
    embedding.off_topic_messages = _current_off_topic  # type: ignore[assignment]
    statistical.off_topic_messages = _current_off_topic  # type: ignore[assignment]
    statistical.generic_features = _generic_as_shipped  # type: ignore[assignment]
    if statistical_services:
        statistical.other_services = lambda: services  # type: ignore[assignment]


def lmos_customer_service(name: str) -> dict[str, Any]:
    """The lmos-router table fitted on all of train.csv (seeded as generalisation.py's `informal`):
    informal-dev.csv false rejects, out-of-scope-dev.csv recall."""
    table, rows = load_benchmark(DEFAULT_DATA)
    fitted = ROUTERS[name]().fit(table, seed=seed_rows("seeded", rows, random.Random(0)))
    found: dict[str, Any] = {}
    for label, path in (
        ("informal_dev", DATA / "informal-dev.csv"),
        ("out_of_scope_dev", DATA / "out-of-scope-dev.csv"),
    ):
        with path.open(newline="") as f:
            texts = [r["instruction"] for r in csv.DictReader(f)]
        found[label] = {"n": len(texts), "rejected": sum(r.no_match for r in route_fitted(fitted, texts))}
    return found


def measure(name: str) -> dict[str, Any]:
    cpu = time.process_time()
    nets = {net: network(name, folder, extra) for net, (folder, extra) in DEV_NETWORKS.items()}
    per_network = {
        net: {
            "out_of_scope_recall": r["default_threshold"]["out_of_scope_recall"],
            "in_scope_drop_points": r["in_scope_drop_points"],
            "false_rejects": r["default_threshold"]["false_rejects"],
            "target_met": r["target_met"],
            "rejected_by": r["default_threshold"]["rejected_by"],
        }
        for net, r in nets.items()
    }
    pooled = _pooled(nets, list(nets))
    found = {
        "pooled": pooled,
        "halves": [_pooled(nets, list(half)) | {"networks": list(half)} for half in HALVES],
        "networks": per_network,
        "fresh": fresh(name)["all"],
        "lmos_router": lmos_customer_service(name),
    }
    found["cpu_s"] = round(time.process_time() - cpu, 1)
    return found


def _pooled(nets: dict[str, Any], names: list[str]) -> dict[str, Any]:
    rows = [nets[n] for n in names]
    n_in = sum(r["default_threshold"]["n_in_scope"] for r in rows)
    n_out = sum(r["default_threshold"]["n_out_of_scope"] for r in rows)
    before = sum(round(r["no_threshold"]["in_scope_accuracy"] * r["no_threshold"]["n_in_scope"]) for r in rows)
    after = sum(round(r["default_threshold"]["in_scope_accuracy"] * r["default_threshold"]["n_in_scope"]) for r in rows)
    caught = sum(
        round(r["default_threshold"]["out_of_scope_recall"] * r["default_threshold"]["n_out_of_scope"]) for r in rows
    )
    return {
        "out_of_scope_recall": round(caught / n_out, 4),
        "caught": caught,
        "n_out_of_scope": n_out,
        "right_lost": before - after,
        "false_rejects": sum(r["default_threshold"]["false_rejects"] for r in rows),
        "in_scope_drop_points": round(100 * (before - after) / n_in, 1),
        "networks_on_target": sum(bool(r["target_met"]) for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinc", type=Path, required=True, help="folder with data_full.json, data_oos_plus.json")
    parser.add_argument("--variants", nargs="+", help="only these variants (default: all)")
    parser.add_argument("--statistical", action="store_true", help="the statistical router with the service variants")
    parser.add_argument("--no-sweep", action="store_true", help="without the margin sweep and oracle analyses")
    parser.add_argument("--out", type=Path, help="default: results/clinc_background[_statistical]_dev.json")
    args = parser.parse_args()
    load_before = os.getloadavg()
    data = clinc(args.clinc)
    vectors = Vectors()
    report: dict[str, Any] = {"router": "statistical-auto-lexicon" if args.statistical else DEFAULT, "variants": {}}
    name = report["router"]
    chosen: dict[str, tuple[Texts, Texts]] = variants(data)
    if args.variants:
        chosen = {k: v for k, v in chosen.items() if k in args.variants}
    elif args.statistical:  # its pairwise product of the service messages is dense: 15 000² would not fit
        chosen = {k: v for k, v in chosen.items() if "100" not in k}
    for label, (services, off) in chosen.items():
        install(services, off, vectors, statistical_services=args.statistical)
        result = measure(name)
        result["background"] = {"services": len(services), "off_topic": len(off)}
        report["variants"][label] = result
        _print(label, result)
    if not (args.statistical or args.no_sweep):
        install(*chosen.get("today", variants(data)["today"]), vectors, statistical_services=False)
        report |= sweeps(data, vectors)
    report["clinc_embedding_cpu_s"] = round(vectors.cpu_s, 1)
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    out = args.out or RESULTS / (
        "clinc_background_statistical_dev.json" if args.statistical else "clinc_background_dev.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"machine: {report['machine']}")


def _print(label: str, r: dict[str, Any]) -> None:
    p, f, lm = r["pooled"], r["fresh"], r["lmos_router"]
    halves = " | ".join(f"{h['out_of_scope_recall']:.3f}/{h['right_lost']}" for h in r["halves"])
    print(
        f"{label:<34} recall {p['out_of_scope_recall']:.3f} lost {p['right_lost']:>2} fr {p['false_rejects']:>2} "
        f"on-target {p['networks_on_target']}  halves {halves}  fresh {f['caught']}/{f['out']} "
        f"(near {f['near_misses_caught']}/{f['near_misses']}) lost {f['lost']}  "
        f"informal-dev rejected {lm['informal_dev']['rejected']}/{lm['informal_dev']['n']} "
        f"oos-dev {lm['out_of_scope_dev']['rejected']}/{lm['out_of_scope_dev']['n']}  cpu {r['cpu_s']}",
        flush=True,
    )


# --- the analyses at equal false rejects (embedding router; see the module doc) ---------------------------------

MARGINS = (0.15, 0.20, 0.25, 0.30, 0.35)  # ELSEWHERE_MARGIN swept (today: 0.15)
Array = npt.NDArray[np.float64]


@dataclass
class QuerySet:
    """One file set of a channel, routed by today's rule, with what the analyses recompute from."""

    vectors: Array  # queries × dim
    own: Array  # cosine to the channel's nearest example or description
    fit_rejected: npt.NDArray[np.bool_]  # today's fit threshold said "no agent" (kept in every variant)
    today: npt.NDArray[np.bool_]  # today's rule (either signal) said "no agent"
    inside: npt.NDArray[np.bool_]
    right: npt.NDArray[np.bool_]  # the top agent is the labelled one (without a threshold)
    near_miss: npt.NDArray[np.bool_]  # fresh-n.csv: out of scope and not one of its 2 general requests


@dataclass
class Channel:
    name: str
    texts: Array  # the channel's examples and descriptions
    dense_loo: Array  # the examples' leave-one-out cosines (FittedEmbedding.dense_loo)
    picked: Array  # the examples scored leave-one-out for the limit
    own_out_of_scope: Array  # the design's outOfScope examples (always kept)
    sets: dict[str, QuerySet]


def channels(vectors: Vectors) -> list[Channel]:
    """The six dev networks (sets `main`: queries.csv and extras, `fresh`: fresh-n.csv) and the lmos-router table
    fitted on train.csv (set `lmos`: informal-dev.csv in scope, out-of-scope-dev.csv), fitted with today's
    backgrounds (installed)."""
    found = []
    for net, (folder, extra) in DEV_NETWORKS.items():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        main = [(q.text, q.agent, False) for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
        rows = read_labelled_csv(folder / FRESH)
        fresh_rows = [(q.text, q.agent, not q.agent and i < len(rows) - 2) for i, q in enumerate(rows)]
        found.append(_channel(net, table, (), {"main": main, "fresh": fresh_rows}, vectors))
    table, rows = load_benchmark(DEFAULT_DATA)
    lmos: list[tuple[str, str, bool]] = []
    for path in (DATA / "informal-dev.csv", DATA / "out-of-scope-dev.csv"):
        with path.open(newline="") as f:
            lmos += [(r["instruction"], r["agent"], False) for r in csv.DictReader(f)]
    seed = seed_rows("seeded", rows, random.Random(0))
    found.append(_channel("lmos-router", table, seed, {"lmos": lmos}, vectors))
    return found


def _channel(
    name: str, table: Any, seed: Any, sets: dict[str, list[tuple[str, str, bool]]], vectors: Vectors
) -> Channel:
    fitted = ROUTERS[DEFAULT]().fit(table, seed=seed)
    assert isinstance(fitted, embedding.FittedEmbedding)
    texts = np.vstack([fitted.examples, fitted.descriptions]).astype(np.float64)
    found = Channel(
        name=name,
        texts=texts,
        dense_loo=fitted.dense_loo(),
        picked=fitted.examples[loo_picks(len(fitted.examples))].astype(np.float64),
        own_out_of_scope=vectors.of(tuple(table.out_of_scope)).astype(np.float64)
        if table.out_of_scope
        else np.zeros((0, texts.shape[1])),
        sets={},
    )
    for label, rows in sets.items():
        results = route_fitted(fitted, [r[0] for r in rows])
        q = vectors.of(tuple(r[0] for r in rows)).astype(np.float64)
        found.sets[label] = QuerySet(
            vectors=q,
            own=(q @ texts.T).max(axis=1),
            fit_rejected=np.array([r.rejected_by == "fit" for r in results]),
            today=np.array([r.no_match for r in results]),
            inside=np.array([bool(r[1]) for r in rows]),
            right=np.array(
                [bool(x.matches) and x.matches[0].agent == r[1] for x, r in zip(results, rows, strict=True)]
            ),
            near_miss=np.array([r[2] for r in rows]),
        )
    return found


@dataclass
class Background:
    vectors: Array
    nearest_other: Array
    intents: npt.NDArray[np.str_]  # the CLINC intent of each message ("" for ours)


def background(
    data: dict[str, Any], vectors: Vectors, *, k: int, ours: bool = True, desk_only: bool = False
) -> Background:
    """Our service messages (or none) and the first `k` training queries of each CLINC intent (with
    `desk_only`, of the `DESK_DOMAINS` intents only)."""
    texts = list(other_services()) if ours else []
    intents = [""] * len(texts)
    for intent, queries in data["per_intent"].items():
        if desk_only and intent not in data["desk_intents"]:
            continue
        texts += queries[:k]
        intents += [intent] * len(queries[:k])
    v = vectors.of(tuple(texts)).astype(np.float64)
    return Background(v, nearest_other(v.astype(np.float32)), np.array(intents))


def kept(channel: Channel, bg: Background, *, intent_drop: bool = False) -> Array:
    """The background messages this channel keeps by today's rule (threshold.services_kept, SERVICE_GAP), with
    `intent_drop` a CLINC intent dropped whole when any of its queries is not kept; plus its outOfScope."""
    to_channel = (bg.vectors @ channel.texts.T).max(axis=1)
    keep = services_kept(to_channel, channel.dense_loo, bg.nearest_other, gap=SERVICE_GAP)
    if intent_drop:
        dropped = {i for i in bg.intents[~keep] if i}
        keep &= ~np.isin(bg.intents, sorted(dropped))
    return np.vstack([bg.vectors[keep], channel.own_out_of_scope])


def _top_mean(cos: Array, k: int) -> Array:
    return np.asarray(np.sort(cos, axis=1)[:, -min(k, cos.shape[1]) :].mean(axis=1), dtype=np.float64)


def sweep_rows(chans: list[Channel], bg: Background, *, intent_drop: bool) -> list[dict[str, Any]]:
    """Per margin: today's rule with this background (pooled over the dev networks; fresh and lmos apart)."""
    rows = []
    for margin in MARGINS:
        tally = dict.fromkeys(("caught", "out", "lost", "in", "fresh_caught", "fresh_near", "fresh_lost"), 0)
        tally |= dict.fromkeys(("lmos_in_rejected", "lmos_out_caught"), 0)
        for channel in chans:
            services = kept(channel, bg, intent_drop=intent_drop)
            loo = (channel.picked @ services.T).max(axis=1) - channel.dense_loo
            limit = round(max(float(np.quantile(loo, ELSEWHERE_QUANTILE)) + margin, ELSEWHERE_FLOOR), 4)
            for label, s in channel.sets.items():
                rejected = s.fit_rejected | ((s.vectors @ services.T).max(axis=1) - s.own > limit)
                _tally(tally, label, rejected, s)
        rows.append({"margin": margin} | _summary(tally))
    return rows


def _tally(
    tally: dict[str, int], label: str, rejected: npt.NDArray[np.bool_], s: QuerySet | npt.NDArray[np.bool_]
) -> None:
    """Add one set's decisions; `s` the set or its (today, inside, right, near_miss) flags stacked."""
    if not isinstance(s, QuerySet):
        s = QuerySet(np.zeros(0), np.zeros(0), s[0], s[0], s[1], s[2], s[3])
    lost = int((rejected & s.inside & s.right).sum())
    if label == "main":
        tally["caught"] += int((rejected & ~s.inside).sum())
        tally["out"] += int((~s.inside).sum())
        tally["in"] += int(s.inside.sum())
        tally["lost"] += lost
    elif label == "fresh":
        tally["fresh_caught"] += int((rejected & ~s.inside).sum())
        tally["fresh_near"] += int((rejected & s.near_miss).sum())
        tally["fresh_lost"] += lost
    else:
        tally["lmos_in_rejected"] += int((rejected & s.inside).sum())
        tally["lmos_out_caught"] += int((rejected & ~s.inside).sum())


def _summary(tally: dict[str, int]) -> dict[str, Any]:
    return {
        "out_of_scope_recall": round(tally["caught"] / tally["out"], 4),
        "right_lost": tally["lost"],
        "in_scope_drop_points": round(100 * tally["lost"] / tally["in"], 1),
        "fresh_caught_of_60": tally["fresh_caught"],
        "fresh_near_misses_caught_of_48": tally["fresh_near"],
        "fresh_right_lost": tally["fresh_lost"],
        "informal_dev_rejected_of_53": tally["lmos_in_rejected"],
        "out_of_scope_dev_caught_of_12": tally["lmos_out_caught"],
    }


def oracle(chans: list[Channel], services_of: Callable[[Channel], Array], *, k: int = 1) -> dict[str, Any]:
    """The background's `elsewhere` (the mean of the k nearest messages against the mean of the channel's k
    nearest texts, k at most 3 there) as a further signal on today's rule: AUC on what today's rule lets
    through, and one pooled threshold chosen on the labels at most 2 points of in-scope accuracy beyond
    today's losses (an upper bound)."""
    values: dict[str, list[Array]] = {}
    flags: dict[str, list[npt.NDArray[np.bool_]]] = {}
    for channel in chans:
        services = services_of(channel)
        for label, s in channel.sets.items():
            e = _top_mean(s.vectors @ services.T, k) - _top_mean(s.vectors @ channel.texts.T, min(k, 3))
            values.setdefault(label, []).append(e)
            flags.setdefault(label, []).append(np.stack([s.today, s.inside, s.right, s.near_miss]))
    e = {label: np.concatenate(v) for label, v in values.items()}
    f = {label: np.concatenate(v, axis=1) for label, v in flags.items()}
    today, inside, right, _ = f["main"]
    left = ~today
    area = auc(-e["main"][left & inside & right], -e["main"][left & ~inside])
    allowed = int(TARGET_DROP_POINTS / 100 * inside.sum())
    already = int((today & inside & right).sum())
    best: float | None = None
    for t in np.unique(e["main"])[::-1]:  # from the highest: the first that loses too many stops the search
        if ((today | (e["main"] >= t)) & inside & right).sum() - already > allowed:
            break
        best = float(t)
    tally = dict.fromkeys(("caught", "out", "lost", "in", "fresh_caught", "fresh_near", "fresh_lost"), 0)
    tally |= dict.fromkeys(("lmos_in_rejected", "lmos_out_caught"), 0)
    for label in e:
        rejected = f[label][0] | (e[label] >= best) if best is not None else f[label][0]
        _tally(tally, label, rejected, f[label])
    return {"auc_left_by_today": area, "threshold": None if best is None else round(best, 4)} | _summary(tally)


def sweeps(data: dict[str, Any], vectors: Vectors) -> dict[str, Any]:
    """The margin sweep and the oracle analysis (see the module doc); today's backgrounds installed."""
    chans = channels(vectors)
    backgrounds = {
        "today": background(data, vectors, k=0),
        "services+clinc-20": background(data, vectors, k=20),
        "services+clinc-100": background(data, vectors, k=100),
        "clinc-100-only": background(data, vectors, k=100, ours=False),
        "services+clinc-100 desk domains": background(data, vectors, k=100, desk_only=True),
    }
    found: dict[str, Any] = {"margin_sweep": {}, "oracle": {}}
    for label, bg in backgrounds.items():
        for intent_drop in (False, True) if label != "today" else (False,):
            name = label + (" intent-drop" if intent_drop else "")
            found["margin_sweep"][name] = sweep_rows(chans, bg, intent_drop=intent_drop)
            for row in found["margin_sweep"][name]:
                _print_row(f"sweep {name} margin {row['margin']:.2f}", row)
    for k in (5, 20, 100):
        backgrounds.setdefault(f"services+clinc-{k}", background(data, vectors, k=k))
        backgrounds.setdefault(f"clinc-{k}-only", background(data, vectors, k=k, ours=False))
    for label, bg in backgrounds.items():
        for nearest in (1, 3) if label != "today" else (1,):
            name = label + (f" top-{nearest} mean" if nearest > 1 else "")
            found["oracle"][name] = oracle(chans, lambda c, bg=bg: kept(c, bg), k=nearest)  # type: ignore[misc]
            _print_row(f"oracle {name} (AUC {found['oracle'][name]['auc_left_by_today']})", found["oracle"][name])
    clinc_100 = backgrounds["clinc-100-only"]
    intents = sorted(set(clinc_100.intents))
    centroids = np.stack([clinc_100.vectors[clinc_100.intents == i].mean(axis=0) for i in intents])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    by_intent = Background(centroids, nearest_other(centroids.astype(np.float32)), np.array(intents))
    found["oracle"]["clinc-100 intent centroids"] = oracle(chans, lambda c: kept(c, by_intent))
    _print_row("oracle clinc-100 intent centroids", found["oracle"]["clinc-100 intent centroids"])
    return found


def _print_row(label: str, row: dict[str, Any]) -> None:
    print(
        f"{label:<58} recall {row['out_of_scope_recall']:.3f} lost {row['right_lost']:>2}  fresh "
        f"{row['fresh_caught_of_60']}/60 (near {row['fresh_near_misses_caught_of_48']}/48) lost "
        f"{row['fresh_right_lost']}  informal-dev rejected {row['informal_dev_rejected_of_53']}/53",
        flush=True,
    )


if __name__ == "__main__":
    main()
