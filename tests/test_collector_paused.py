"""The steps that build a large design's results run with the cyclic collector paused and restore it after.

At 10 000 agents the collector's full collections re-walked export's documents ten times (a third of its CPU)
and graph's node dicts likewise; these steps make no garbage cycles worth collecting meanwhile."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lmos_studio.aggregate import collapsed_graph
from lmos_studio.export import kustomize
from lmos_studio.export.bundle import ExportOptions, export_design
from lmos_studio.graph import build_graph, layout, level_of_detail
from lmos_studio.lint import lint_design
from lmos_studio.resolve import resolve_design
from lmos_studio.synthetic import synthetic_design
from lmos_studio.view import render_html

DESIGN = synthetic_design(60, 6, 6, 180, seed=1)
GRAPH = build_graph(DESIGN)
RESOLUTIONS = resolve_design(DESIGN)
POSITIONS = layout(GRAPH)
BUNDLE = export_design(DESIGN, ExportOptions())
STEPS: dict[str, Callable[[], Any]] = {  # one call each: between two calls the collector may run
    "resolve": lambda: resolve_design(DESIGN),
    "lint": lambda: lint_design(DESIGN),
    "graph": lambda: build_graph(DESIGN),
    "layout": lambda: layout(GRAPH),
    "level of detail": lambda: level_of_detail(GRAPH, POSITIONS),
    "html": lambda: render_html(GRAPH),
    "collapsed graph": lambda: collapsed_graph(DESIGN, resolutions=RESOLUTIONS),
    "export": lambda: export_design(DESIGN, ExportOptions()),
    "render": lambda: kustomize.render(BUNDLE),
}


@pytest.fixture
def collections() -> Iterator[list[int]]:
    """Generations collected while the test runs, with a threshold that collects every 100 allocations."""
    started: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    threshold = gc.get_threshold()
    gc.set_threshold(100)
    gc.callbacks.append(record)
    try:
        yield started
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*threshold)


@pytest.mark.parametrize("step", sorted(STEPS))
def test_no_collection_while_a_step_builds_and_the_collector_is_back_after(step: str, collections: list[int]) -> None:
    assert gc.isenabled()
    result = STEPS[step]()
    assert len(collections) <= 2, collections  # entering and leaving the pause allocate a little
    assert gc.isenabled()
    del result
    [object() for _ in range(3)]  # containers: allocating them lets the collector run again
    gc.collect()
    assert collections


def test_a_paused_collector_stays_paused() -> None:
    gc.disable()
    try:
        resolve_design(DESIGN)
        assert not gc.isenabled()
    finally:
        gc.enable()
