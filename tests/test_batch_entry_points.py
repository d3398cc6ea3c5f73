"""Issue #10 part 3: eval, whatif, diff --queries, routing tests and the Evaluate page route a whole list at once.

An embedding router on a counting encoder shows it: while routing (outside `fit`), each routed table costs
exactly one encoder call carrying all of its queries — never one call per query."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.formats.design_file import read_design
from lmos_studio.lifecycle import diff_designs
from lmos_studio.model import Design
from lmos_studio.routing import select
from lmos_studio.routing.base import RoutingTable
from lmos_studio.routing.embedding import EmbeddingRouter, FittedEmbedding
from lmos_studio.routing.evaluate import evaluate
from lmos_studio.routing.labelled import read_labelled_csv
from lmos_studio.routing.regression import run_routing_tests
from lmos_studio.whatif import parse_change, what_if
from tests.conftest import ACME, ROOT, SAMPLES


class CountingEncoder:
    """A stand-in encoder (hashed words, no model) that records every call and whether a fit made it."""

    name = "counting"

    def __init__(self) -> None:
        self.fitting = False
        self.calls: list[tuple[bool, int]] = []  # (during fit, texts)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        self.calls.append((self.fitting, len(texts)))
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % 64] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.asarray(out / np.where(norms == 0, 1.0, norms), dtype=np.float32)

    def routing_calls(self) -> list[int]:
        return [n for fitting, n in self.calls if not fitting]


class CountingRouter(EmbeddingRouter):
    """The embedding router on a `CountingEncoder`; counts its fits."""

    def __init__(self, encoder: CountingEncoder) -> None:
        super().__init__(embedder=encoder)
        self.encoder = encoder
        self.fits = 0

    def fit(self, table: RoutingTable, *, seed: Sequence[tuple[str, str, str]] = ()) -> FittedEmbedding:
        self.encoder.fitting = True
        try:
            self.fits += 1
            return super().fit(table, seed=seed)
        finally:
            self.encoder.fitting = False


@pytest.fixture
def design() -> Design:
    return read_design(ACME)


@pytest.fixture
def router() -> CountingRouter:
    return CountingRouter(CountingEncoder())


QUERIES = SAMPLES / "acme-queries.csv"


def one_call_per_table(router: CountingRouter, routed: int) -> None:
    """Every fitted table's queries went to the encoder in one call; `routed` queries in all."""
    calls = router.encoder.routing_calls()
    assert len(calls) == router.fits, calls
    assert sum(calls) == routed and routed > len(calls)  # more queries than calls: a batch, not one by one


def test_eval_routes_each_channel_in_one_encoder_call(design: Design, router: CountingRouter) -> None:
    rows = read_labelled_csv(QUERIES)
    result = evaluate(design, rows, router=router)
    assert result.metrics.n == len(rows) and router.fits >= 2
    one_call_per_table(router, len(rows))


def test_routing_tests_route_each_channel_in_one_encoder_call(design: Design, router: CountingRouter) -> None:
    tests = [*design.routing_tests] * 3  # several per channel
    outcomes = run_routing_tests(design, router=router, tests=tests)
    assert len(outcomes) == len(tests)
    one_call_per_table(router, len(tests))


def test_whatif_and_diff_route_each_changed_table_in_one_encoder_call(design: Design, router: CountingRouter) -> None:
    rows = read_labelled_csv(QUERIES)
    what_if(design, [parse_change("remove-agent", "contract-agent")], router=router, queries=rows)
    assert router.fits >= 2
    calls = router.encoder.routing_calls()
    assert len(calls) == router.fits and max(calls) > 1
    other = CountingRouter(CountingEncoder())
    after = design.replace(agents=tuple(a for a in design.agents if a.name != "contract-agent"))
    diff_designs(design, after, queries=rows, router=other)
    calls = other.encoder.routing_calls()
    assert other.fits >= 2 and len(calls) == other.fits and max(calls) > 1


def test_the_evaluate_page_routes_each_channel_in_one_encoder_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, router: CountingRouter
) -> None:
    from lmos_studio.ui import resources

    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LMOS_STUDIO_DESIGN", raising=False)
    get_settings.cache_clear()
    monkeypatch.setitem(select._FACTORIES, "embedding", lambda: router)
    resources.router_cache().clear()  # no router fitted by an earlier test
    at = AppTest.from_file(str(ROOT / "app_pages" / "evaluate.py"), default_timeout=60)
    at.run()
    at.multiselect(key="eval_routers").set_value(["embedding"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    one_call_per_table(router, len(read_labelled_csv(QUERIES)))
    resources.router_cache().clear()
