"""A fitted statistical router stored as plain data (routing/stored.py) answers as the fitted one, bit for bit,
and a `RouterCache` with a disk cache loads it in another cache (process) instead of fitting again."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from lmos_studio.formats.design_cache import DiskCache
from lmos_studio.formats.design_file import read_design
from lmos_studio.routing import statistical, stored
from lmos_studio.routing.base import RouteResult, RoutingTable
from lmos_studio.routing.select import RouterCache
from lmos_studio.routing.statistical import FittedStatistical, StatisticalRouter
from lmos_studio.routing.table import routing_table
from tests.conftest import ACME, SAMPLES, router_benchmark_table

ODD = ["", "   ", "?!", "{{Order Number}}", "12345", "what's the weather in paris", "cancel cancel cancel"]
Seed = list[tuple[str, str, str]]


def _queries(name: str) -> list[str]:
    with (SAMPLES / name).open(newline="") as f:
        return [r["query"] for r in csv.DictReader(f)] + ODD


def _cases() -> Iterator[tuple[str, RoutingTable, Seed, StatisticalRouter]]:
    """(name, table, seed rows, router) of the configurations the batch golden covers, plus an explicit
    threshold with out-of-scope examples."""
    table, rows = router_benchmark_table()
    yield "seeded", table, rows[::7], StatisticalRouter()
    yield "no-lexicon", table, rows[1::9], StatisticalRouter(lexicon=False)
    yield "zero-shot", table, [], StatisticalRouter()
    vocabulary = (("parcel", "package", "consignment"), ("gmail", "email", "e-mail"))
    yield "vocabulary", RoutingTable("", table.candidates, vocabulary=vocabulary), [], StatisticalRouter()
    explicit = RoutingTable("", table.candidates, min_score=0.3, out_of_scope=("book a flight to rome",))
    yield "min-score", explicit, rows[2::11], StatisticalRouter()
    yield (
        "out-of-scope",
        RoutingTable("", table.candidates, out_of_scope=("book a flight",)),
        rows[::13],
        (StatisticalRouter()),
    )
    design = read_design(ACME)
    for key in ("default/acme-web-stable", ""):
        yield f"acme {key or 'all'}", routing_table(design, key), [], StatisticalRouter()
    yield "empty", RoutingTable("", ()), [], StatisticalRouter()


def _answer(result: RouteResult) -> dict[str, Any]:
    """Everything of an answer but its latency, evidence read."""
    return {
        "fit": result.fit,
        "threshold": result.threshold,
        "elsewhere": (result.elsewhere, result.elsewhere_limit, result.elsewhere_text),
        "no_match": result.no_match,
        "matches": [[m.agent, m.capability, m.score, list(m.evidence)] for m in result.matches],
    }


def _answers(fitted: FittedStatistical, queries: Sequence[str]) -> list[dict[str, Any]]:
    return [_answer(r) for r in fitted.route_batch(queries, top_k=3)]


def _through_disk(state: dict[str, Any], folder: Path) -> Any:
    """The state written to a disk cache (a pickle of plain data) and read back, as another process would."""
    cache = DiskCache(folder, 2**30)
    assert cache.put("key", state)
    return cache.get("key")


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0])
def test_a_stored_router_answers_as_the_fitted_one(
    case: tuple[str, RoutingTable, Seed, StatisticalRouter], tmp_path: Path
) -> None:
    name, table, seed, router = case
    fitted = router.fit(table, seed=seed)
    state = stored.fitted_state(fitted)
    assert state is not None
    loaded = stored.fitted_from_state(table, seed, _through_disk(state, tmp_path))
    assert loaded is not None
    queries = _queries("acme-queries.csv" if name.startswith("acme") else "router-benchmark-queries.csv")
    assert _answers(loaded, queries) == _answers(fitted, queries)
    assert loaded.lexicon_choice == fitted.lexicon_choice
    assert _answer(loaded.route(queries[0])) == _answer(fitted.route(queries[0]))


def test_class_centroids_are_stored_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table, rows = router_benchmark_table()
    monkeypatch.setattr(statistical, "SVM_MAX_CLASSES", 5)  # class centroids (sparse) instead of SVMs
    fitted = StatisticalRouter().fit(table, seed=rows[1::5])
    state = stored.fitted_state(fitted)
    assert state is not None and state["coef_sparse"]
    loaded = stored.fitted_from_state(table, rows[1::5], _through_disk(state, tmp_path))
    assert loaded is not None
    queries = _queries("router-benchmark-queries.csv")
    assert _answers(loaded, queries) == _answers(fitted, queries)


def test_a_state_of_another_table_or_format_is_not_loaded() -> None:
    table, rows = router_benchmark_table()
    state = stored.fitted_state(StatisticalRouter().fit(table, seed=rows[::50]))
    assert state is not None
    assert stored.fitted_from_state(table, rows[::40], state) is None  # other seed rows: other examples
    assert stored.fitted_from_state(table, rows[::50], {**state, "format": 0}) is None
    assert stored.fitted_from_state(table, rows[::50], {**state, "matrices": {}}) is None
    assert stored.fitted_from_state(table, rows[::50], "not a state") is None


def test_router_cache_loads_a_stored_fit_instead_of_fitting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table, rows = router_benchmark_table()
    seed = rows[::20]
    disk = DiskCache(tmp_path, 2**30)
    first = RouterCache(disk=disk).fitted("statistical", table, seed=seed)
    assert len(list(tmp_path.iterdir())) == 1

    def refit(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fitted again")

    monkeypatch.setattr(StatisticalRouter, "fit", refit)
    again = RouterCache(disk=disk).fitted("statistical", table, seed=seed)  # another process's cache
    assert isinstance(first, FittedStatistical) and isinstance(again, FittedStatistical)
    queries = _queries("router-benchmark-queries.csv")
    assert _answers(again, queries) == _answers(first, queries)
    with pytest.raises(AssertionError, match="fitted again"):
        RouterCache(disk=disk).fitted("statistical", table, seed=rows[::21])  # another table: a fit


def test_router_cache_without_disk_writes_nothing(tmp_path: Path) -> None:
    table, rows = router_benchmark_table()
    RouterCache().fitted("statistical", table, seed=rows[::50])
    RouterCache(disk=DiskCache(tmp_path, 0)).fitted("statistical", table, seed=rows[::50])  # 0 MB: off
    assert not list(tmp_path.iterdir())


def test_the_cli_keeps_statistical_fits_on_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmos_studio.config import get_settings
    from tests.conftest import invoke

    args = ("route", str(ACME), "--channel", "acme-web-stable", "--router", "statistical", "I want my money back")
    first = invoke(*args)
    assert first.returncode == 0, first.stderr
    folder = get_settings().data_dir / "design-cache" / "statistical-fit"
    assert list(folder.iterdir())

    def refit(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("fitted again")

    monkeypatch.setattr(StatisticalRouter, "fit", refit)
    again = invoke(*args)  # as a second command would: the fit loaded from disk
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout
