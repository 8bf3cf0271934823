"""The Streamlit dashboard under ``AppTest``, over real run directories."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Block, UnknownElement

from swifteats.dashboard_launcher import dashboard_argv
from tests.dashboard.helpers import APP, DESIGN, FAR, open_page

PICKED = [FAR, DESIGN]
"""The runs the page picks when it opens: the newest first."""


def tab(page: AppTest, label: str) -> Block:
    """The page's tab labelled ``label``."""
    return next(t for t in page.tabs if t.label == label)


def charts(block: Block) -> list[UnknownElement]:
    """The Vega-Lite (Altair) charts in ``block`` (``arrow_vega_lite_chart`` in older Streamlit)."""
    found = [*block.get("vega_lite_chart"), *block.get("arrow_vega_lite_chart")]
    return [c for c in found if isinstance(c, UnknownElement)]


def spec(chart: UnknownElement) -> dict[str, Any]:
    """A chart's Vega-Lite spec."""
    result: dict[str, Any] = json.loads(chart.proto.spec)
    return result


def datasets(chart: UnknownElement) -> list[pl.DataFrame]:
    """The data a chart was sent with, one frame per layer dataset."""
    return [pl.read_ipc_stream(io.BytesIO(d.data.data)) for d in chart.proto.datasets]


def delivered(orders: pl.DataFrame) -> int:
    return orders.filter(pl.col("outcome") == "delivered").height


def test_the_page_opens_without_errors(page: AppTest) -> None:
    assert not page.exception
    assert not page.error
    assert [t.label for t in page.tabs] == [
        *("KPIs", "Compare", "Latency", "Click-to-door", "Map", "Decision", "Diff", "Sweeps")
    ]
    assert page.sidebar.multiselect[0].value == PICKED


def test_kpi_cards_show_each_runs_delivered_orders(
    page: AppTest, orders: dict[str, pl.DataFrame]
) -> None:
    cards = [m for m in tab(page, "KPIs").metric if m.label == "Delivered"]
    assert [int(c.value.replace(",", "")) for c in cards] == [delivered(orders[r]) for r in PICKED]
    assert cards[0].delta in ("", None)  # the first run is the baseline
    assert cards[1].delta == f"{delivered(orders[DESIGN]) - delivered(orders[FAR]):,}"


def test_the_comparison_has_a_column_per_run(page: AppTest) -> None:
    table = tab(page, "Compare").dataframe[0].value
    assert list(table.columns) == ["metric", *PICKED]
    assert "click_to_door_mean" in set(table["metric"])


def test_latency_and_click_to_door_have_histograms_and_cdfs(page: AppTest) -> None:
    for label in ("Latency", "Click-to-door"):
        titles = [str(spec(c).get("title")) for c in charts(tab(page, label))]
        assert len(titles) == 2
        assert "histogram" in titles[0]
        assert "CDF" in titles[1]


def test_the_map_plots_places_and_paths_without_tiles(
    page: AppTest, orders: dict[str, pl.DataFrame]
) -> None:
    map_tab = tab(page, "Map")
    (chart,) = charts(map_tab)
    assert spec(chart)["projection"] == {"type": "mercator"}
    points, paths = datasets(chart)
    assert points.height == 2 * orders[FAR].height
    assert set(points["kind"]) == {"restaurant", "customer"}
    assert set(paths["driver_id"]) == set(map_tab.multiselect[0].value)
    assert not page.get("deck_gl_json_chart")
    assert not page.get("map")


def test_the_decision_tab_breaks_a_score_into_its_terms(page: AppTest) -> None:
    decision = tab(page, "Decision")
    (chart,) = charts(decision)
    fold = spec(chart)["layer"][0]["transform"][0]["fold"]
    assert fold == [
        *("base", "slack_term", "distance_term", "eta_term"),
        *("wait_term", "supply_term", "idle_term"),
    ]
    assert decision.selectbox[1].value in set(decision.dataframe[0].value["order_id"])


def test_the_diff_lists_the_orders_that_changed_driver(
    page: AppTest, orders: dict[str, pl.DataFrame]
) -> None:
    diff = tab(page, "Diff")
    pair = orders[FAR].join(orders[DESIGN], on="order_id", suffix="_b")
    changed = pair.filter(pl.col("driver_id").ne_missing(pl.col("driver_id_b"))).height
    assert changed > 0
    cards = {m.label: m.value for m in diff.metric}
    assert cards["Changed driver"] == f"{changed:,} of {pair.height:,}"
    assert diff.dataframe[0].value.shape[0] == changed


def test_the_sweep_tab_draws_the_pareto_front(page: AppTest) -> None:
    sweeps = tab(page, "Sweeps")
    (chart,) = charts(sweeps)
    cells = datasets(chart)
    assert {"on_front", "click_to_door_mean", "pickup_km_mean"} <= set(cells[-1].columns)
    assert sweeps.dataframe[0].value.shape[0] >= 1  # the front's cells


def test_runs_inside_a_sweep_are_not_offered_as_runs(page: AppTest) -> None:
    assert page.sidebar.multiselect[0].options == PICKED


def test_the_runs_folder_comes_from_the_command_line(
    runs_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["app.py", "--runs", str(runs_root / DESIGN)])
    page = AppTest.from_file(str(APP), default_timeout=120).run()
    assert page.sidebar.text_input[0].value == str(runs_root / DESIGN)
    assert page.sidebar.multiselect[0].value == [DESIGN]
    assert not page.exception


def test_an_empty_folder_says_how_to_make_a_run(tmp_path: Path) -> None:
    page = open_page(tmp_path)
    assert not page.exception
    assert "swifteats replay" in page.info[0].value
    assert [t.label for t in page.tabs] == ["Sweeps"]


def test_a_missing_folder_is_an_error_on_the_page(tmp_path: Path) -> None:
    page = open_page(tmp_path / "nowhere")
    assert not page.exception
    assert "is not a folder" in page.error[0].value


def test_the_launcher_serves_the_app_headless_over_the_runs_folder(tmp_path: Path) -> None:
    argv = dashboard_argv(runs=tmp_path, port=8765)
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)]
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[argv.index("--server.port") + 1] == "8765"
    assert argv[-3:] == ["--", "--runs", str(tmp_path.resolve())]


def test_the_runs_folder_can_be_changed_in_the_sidebar(runs_root: Path) -> None:
    page = open_page(runs_root)
    page.sidebar.text_input[0].input(str(runs_root / DESIGN)).run()
    assert not page.exception
    assert page.sidebar.multiselect[0].options == [DESIGN]
    assert page.sidebar.multiselect[0].value == [DESIGN]


def test_one_picked_run_has_no_run_to_diff_against(runs_root: Path) -> None:
    page = open_page(runs_root)
    page.sidebar.multiselect[0].set_value([DESIGN]).run()
    assert not page.exception
    assert [m.label for m in tab(page, "KPIs").metric if m.label == "Delivered"] == ["Delivered"]
    assert "No other picked run" in tab(page, "Diff").info[0].value
