"""How far to trust an evaluation: 95 % Wilson intervals of its shares, and two routers compared row by row
(exact McNemar) in the library, `eval -o json|table --against` and on the Evaluate page."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from lmos_studio.config import get_settings
from lmos_studio.routing.evaluate import reports_json
from lmos_studio.routing.metrics import describe_intervals, mcnemar_exact, paired, wilson_interval
from tests.conftest import ACME, ROOT, run_cli

QUERIES = ACME.parent / "acme-queries.csv"


@pytest.mark.parametrize(
    ("right", "n", "expected"),
    [
        (32, 39, (0.6733, 0.9102)),  # worked by hand from Wilson's formula, z = 1.96
        (0, 10, (0.0, 0.2775)),  # not degenerate at 0, as the normal approximation is
        (10, 10, (0.7225, 1.0)),
        (20, 40, (0.352, 0.648)),
    ],
)
def test_wilson_interval_known_values(right: int, n: int, expected: tuple[float, float]) -> None:
    assert wilson_interval(right, n) == pytest.approx(expected, abs=1e-3)


def test_no_rows_no_interval() -> None:
    assert wilson_interval(0, 0) is None


@given(st.integers(min_value=1, max_value=5000), st.data())
def test_the_interval_holds_the_share_and_narrows_with_rows(n: int, data: st.DataObject) -> None:
    right = data.draw(st.integers(min_value=0, max_value=n))
    span = wilson_interval(right, n)
    assert span is not None
    low, high = span
    assert 0.0 <= low <= right / n + 1e-4 and right / n - 1e-4 <= high <= 1.0
    wider = wilson_interval(right, n)  # the same share on four times the rows is narrower
    narrower = wilson_interval(4 * right, 4 * n)
    assert wider is not None and narrower is not None
    assert narrower[1] - narrower[0] <= wider[1] - wider[0] + 1e-4


def test_mcnemar_exact_p_values() -> None:
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(3, 3) == 1.0
    assert mcnemar_exact(0, 6) == pytest.approx(2 / 64)  # all six discordant rows one way: 2 · 0.5^6
    assert mcnemar_exact(5, 1) == mcnemar_exact(1, 5) == pytest.approx(2 * (1 + 6) / 64)
    assert mcnemar_exact(40, 0) == pytest.approx(2 * 0.5**40)
    assert not math.isnan(mcnemar_exact(2000, 1990))  # big counts stay exact integers, no overflow


def test_paired_counts_and_verdicts() -> None:
    a = [True] * 30 + [True] * 8 + [False] * 1 + [False] * 1
    b = [True] * 30 + [False] * 8 + [True] * 1 + [False] * 1
    found = paired("auto", a, "statistical", b)
    assert (found.n, found.both_right, found.only_first, found.only_second, found.both_wrong) == (40, 30, 8, 1, 1)
    assert found.significant and found.p_value == pytest.approx(0.0391, abs=1e-4)
    assert "auto is better (exact McNemar p = 0.039 < 0.05)" in found.verdict()
    close = paired("auto", [True, False, True], "statistical", [False, True, True])
    assert not close.significant and "no difference on this set" in close.verdict()
    unsure = paired("a", [True, True, False], "b", [False, False, False])
    assert "this set cannot tell them apart" in unsure.verdict() and "label more queries" in unsure.verdict()
    assert unsure.to_dict()["only_first"] == 2 and unsure.to_dict()["test"] == "exact McNemar (two-sided)"


def test_paired_refuses_rows_that_are_not_the_same() -> None:
    with pytest.raises(ValueError, match="not the same rows"):
        paired("a", [True, False], "b", [True])


def test_describe_intervals_leaves_out_figures_without_rows() -> None:
    text = describe_intervals({"confidence": 0.95, "accuracy": [0.835, 0.9862], "out_of_scope_recall": None})
    assert text == "95% intervals (Wilson): accuracy 83.5–98.6%"
    assert describe_intervals({"confidence": 0.95, "accuracy": None}) == ""


def test_cli_eval_gives_intervals_and_compares_against_another_router() -> None:
    result = run_cli("eval", str(ACME), str(QUERIES), "-r", "statistical", "--against", "embedding")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    intervals = data["intervals"]
    assert intervals["confidence"] == 0.95 and intervals["method"] == "wilson"
    low, high = intervals["accuracy"]
    assert low <= data["accuracy"] <= high and high - low > 0.05  # 40 rows: a wide interval
    assert intervals["out_of_scope_recall"][0] < data["out_of_scope_recall"]
    pair = data["paired"]
    assert pair["first"] == "statistical" and pair["second"] == data["against"]["router"] == "embedding"
    assert pair["both_right"] + pair["only_first"] + pair["only_second"] + pair["both_wrong"] == data["n"] == 40
    assert pair["only_first"] - pair["only_second"] == round(40 * (data["accuracy"] - data["against"]["accuracy"]))
    assert 0.0 <= pair["p_value"] <= 1.0 and pair["verdict"].startswith("statistical vs embedding on the same 40")
    assert "intervals" in data["against"] and "paired" not in data["against"]


def test_cli_eval_table_shows_the_intervals_and_the_verdict() -> None:
    result = run_cli("eval", str(ACME), str(QUERIES), "-r", "statistical", "--against", "embedding", "-o", "table")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("router statistical · n 40 · accuracy 0.") and "] · in scope 0." in lines[0]
    assert lines[1].startswith("router embedding · n 40 · ")
    assert lines[2].startswith("statistical vs embedding on the same 40 rows: ")


def test_cli_eval_against_an_unknown_router_is_exit_2() -> None:
    result = run_cli("eval", str(ACME), str(QUERIES), "-r", "statistical", "--against", "nonsense")
    assert result.returncode == 2 and "nonsense" in result.stderr and "Traceback" not in result.stderr


def test_evaluate_page_shows_intervals_and_compares_two_routers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("LMOS_STUDIO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LMOS_STUDIO_DESIGN", raising=False)
    get_settings.cache_clear()
    at = AppTest.from_file(str(ROOT / "app_pages" / "evaluate.py"), default_timeout=120)
    at.run()
    at.multiselect(key="eval_routers").set_value(["statistical", "embedding"]).run()
    at.button(key="eval_run").click().run()
    assert not at.exception, at.exception
    captions = [c.value.replace("\\", "") for c in at.caption]  # markdown-escaped
    assert any(c.startswith("95% intervals (Wilson): accuracy ") for c in captions)
    verdicts = [m.value.replace("\\", "") for m in [*at.info, *at.success] if "on the same 40 rows" in m.value]
    assert len(verdicts) == 1 and verdicts[0].startswith("statistical vs embedding")


def test_the_all_routers_download_holds_the_paired_comparison() -> None:
    first = {"router": "auto", "contract": {"n": 3}, "lines": [2, 3, 4], "right": [True, True, False]}
    second = {"router": "statistical", "contract": {"n": 3}, "lines": [2, 3, 4], "right": [True, False, False]}
    both = json.loads(reports_json([first, second]))
    assert both["auto"] == {"n": 3} and both["statistical"] == {"n": 3}
    assert both["paired"][0]["only_first"] == 1 and both["paired"][0]["second"] == "statistical"
    assert "paired" not in json.loads(reports_json([first]))
