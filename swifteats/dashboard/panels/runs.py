"""Run panels: KPI cards per run, the runs table, the side-by-side comparison, failures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import altair as alt
import streamlit as st

from . import charts, data
from .selection import Selection

DeltaColour = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Kpi:
    """One KPI card: the ``run_kpis`` column, its label, format and the colour of a rise."""

    column: str
    label: str
    fmt: str
    rise: DeltaColour
    """``normal``: higher is better; ``inverse``: lower is better; ``off``: neither."""


CARDS = (
    Kpi("delivered", "Delivered", "{:,.0f}", "normal"),
    Kpi("never_assigned", "Never assigned", "{:,.0f}", "inverse"),
    Kpi("click_to_door_mean", "Click-to-door mean, min", "{:.2f}", "inverse"),
    Kpi("click_to_door_p90", "Click-to-door p90, min", "{:.2f}", "inverse"),
    Kpi("utilisation", "Fleet utilisation", "{:.1%}", "off"),
    Kpi("answer_ms_p99", "Answer p99, ms", "{:.2f}", "inverse"),
)

LEADING = ("run_id", "input_name", "backend", "policy", "seed", "weights", "started_at")
"""The runs table's first columns; the headline KPIs, paths and hashes follow."""


def kpi_cards(selection: Selection) -> None:
    """A row of KPI cards per picked run, with the change from the first picked run."""
    kpis = data.run_kpis(selection.dirs)  # one row per run, in the order given
    cards = [card for card in CARDS if card.column in kpis.columns]
    runs = zip(selection.picked.iter_rows(named=True), kpis.iter_rows(named=True), strict=True)
    for number, (run, row) in enumerate(runs):
        st.markdown(f"**{run['run_id']}** · {_identity(run)}")
        for column, card in zip(st.columns(len(cards)), cards, strict=True):
            baseline = kpis[card.column][0] if number else None
            column.metric(card.label, **_metric(card, row[card.column], baseline))
    st.caption("Changes are against the first picked run.")
    _runs_table(selection)


def _runs_table(selection: Selection) -> None:
    """The picked runs' identity and headline KPIs, the telling columns first."""
    columns = selection.picked.columns
    leading = [name for name in LEADING if name in columns]
    order = [*leading, *(name for name in columns if name not in leading)]
    st.dataframe(selection.picked, hide_index=True, column_order=order)


def _metric(card: Kpi, value: float | None, baseline: float | None) -> dict[str, Any]:
    """``st.metric`` arguments: the value, and its change from ``baseline`` when given."""
    gap = None if value is None or baseline is None else value - baseline
    return {
        "value": "–" if value is None else card.fmt.format(value),
        "delta": None if gap is None else card.fmt.format(gap),
        "delta_color": card.rise,
    }


def _identity(run: dict[str, Any]) -> str:
    seed = "" if run["seed"] is None else f" · seed {run['seed']}"
    return f"{run['input_name']} · {run['backend']} · {run['policy']}{seed}"


def comparison(selection: Selection) -> None:
    """Every metric side by side (one column per run), then failures by reason."""
    st.dataframe(data.compare_runs(selection.dirs), hide_index=True)
    failures = data.failures_by_reason(selection.dirs)
    if failures.is_empty():
        st.caption("No order or attempt failed.")
        return
    chart = (
        alt.Chart(failures, title="Failures by reason")
        .mark_bar()
        .encode(
            x=alt.X("n:Q", title="count"),
            y=alt.Y("reason:N", title=None),
            yOffset="run_id:N",
            color=charts.category("run_id"),
            row=alt.Row("kind:N", title=None),
            tooltip=["run_id", "kind", "reason", "n", alt.Tooltip("share:Q", format=".1%")],
        )
        .resolve_scale(y="independent")
    )
    st.altair_chart(chart)
