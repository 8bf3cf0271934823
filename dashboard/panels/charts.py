"""Altair chart builders: distributions, the tile-free map, score breakdowns, Pareto fronts.

Pure functions from a DataFrame to a chart; no Streamlit here. The map draws latitude and
longitude through a Vega-Lite projection, so it needs no tile server (nor the internet).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

PLACE_COLOURS = {"restaurant": "#d62728", "customer": "#4c78a8"}
PLACE_SHAPES = {"restaurant": "square", "customer": "circle"}
PLACE_SIZES = {"restaurant": 70, "customer": 18}
TERM_COLOURS = {
    "base": "#bab0ac",
    "slack_term": "#59a14f",
    "distance_term": "#f28e2b",
    "eta_term": "#e15759",
    "wait_term": "#76b7b2",
    "supply_term": "#edc948",
    "idle_term": "#b07aa1",
    "customer_minutes": "#4e79a7",
    "courier_term": "#f28e2b",
    "minus_worth": "#59a14f",
    "minus_score": "#e15759",
}
Layered = alt.LayerChart | alt.FacetChart
"""What Altair types a layer with properties as."""


def category(field: str, **options: Any) -> alt.Color:
    """A colour per value of ``field``, from a palette whose first colours stand apart."""
    return alt.Color(f"{field}:N", scale=alt.Scale(scheme="tableau10"), **options)


def _fixed(mapping: Mapping[str, str | int]) -> alt.Scale:
    return alt.Scale(domain=list(mapping), range=list(mapping.values()))


def histogram(df: pl.DataFrame, *, value: str, color: str, title: str) -> alt.Chart:
    """Overlaid histograms of ``value``, one colour per ``color``."""
    chart: alt.Chart = (
        alt.Chart(df, title=title)
        .mark_bar(opacity=0.55, binSpacing=0)
        .encode(
            x=alt.X(f"{value}:Q", bin=alt.Bin(maxbins=40), title=value),
            y=alt.Y("count():Q", stack=None, title="count"),
            color=category(color),
        )
    )
    return chart


def cdf(df: pl.DataFrame, *, value: str, color: str, title: str) -> alt.Chart:
    """Empirical cumulative distribution of ``value``, one line per ``color``."""
    chart: alt.Chart = (
        alt.Chart(df, title=title)
        .transform_window(cdf="cume_dist()", sort=[{"field": value}], groupby=[color])
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X(f"{value}:Q", title=value),
            y=alt.Y("cdf:Q", title="share ≤ x", axis=alt.Axis(format="%")),
            color=category(color),
        )
    )
    return chart


def by_facet(chart: alt.Chart, facet: str, columns: int = 3) -> alt.FacetChart:
    """``chart`` repeated for every value of ``facet``, each with its own x scale."""
    inner = chart.properties(width=260, height=160)
    title, inner.title = inner.title, alt.Undefined
    faceted: alt.FacetChart = (
        inner.facet(facet=alt.Facet(f"{facet}:N", title=None), columns=columns)
        .resolve_scale(x="independent")
        .properties(title=title)
    )
    return faceted


def route_map(points: pl.DataFrame, paths: pl.DataFrame) -> alt.LayerChart:
    """Driver paths (one colour each) over restaurants and customers, Mercator-projected.

    ``points`` has ``kind`` (``restaurant`` or ``customer``), ``latitude``, ``longitude``
    and tooltip columns; ``paths`` has ``driver_id``, ``time``, ``latitude``, ``longitude``.
    """
    dots = (
        alt.Chart(points)
        .mark_point(filled=True, opacity=0.75)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            color=alt.Color("kind:N", scale=_fixed(PLACE_COLOURS), title="place"),
            shape=alt.Shape("kind:N", scale=_fixed(PLACE_SHAPES), title="place"),
            size=alt.Size("kind:N", scale=_fixed(PLACE_SIZES), legend=None),
            tooltip=list(points.columns),
        )
    )
    lines = (
        alt.Chart(paths)
        .mark_line(strokeWidth=2, opacity=0.8)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            order="time:Q",
            color=alt.Color("driver_id:N", scale=alt.Scale(scheme="category20"), title="driver"),
            tooltip=["driver_id:N"],
        )
    )
    layered: alt.LayerChart = (
        alt.layer(dots, lines)
        .project(type="mercator")
        .properties(height=640)
        .resolve_scale(color="independent")
    )
    return layered


def score_breakdown(
    candidates: pl.DataFrame,
    terms: Sequence[str],
    *,
    total: str = "score",
    title: str = "score points",
) -> Layered:
    """Each candidate's terms as stacked bars, their ``total`` (its score) as a black tick.

    ``candidates`` has ``label`` (one per row, in rank order), ``total`` and the ``terms``.
    """
    axis = alt.Y("label:N", sort=candidates["label"].to_list(), title=None)
    base = alt.Chart(candidates).encode(y=axis.axis(labelLimit=400))
    bars = (
        base.transform_fold(list(terms), as_=["term", "points"])
        .mark_bar()
        .encode(
            x=alt.X("points:Q", title=title),
            color=alt.Color(
                "term:N", scale=_fixed({t: TERM_COLOURS[t] for t in terms}), sort=list(terms)
            ),
            tooltip=["label:N", "term:N", alt.Tooltip("points:Q", format=".2f")],
        )
    )
    ticks = base.mark_tick(color="black", thickness=3).encode(
        x=f"{total}:Q", tooltip=["label:N", alt.Tooltip(f"{total}:Q", format=".2f")]
    )
    return alt.layer(bars, ticks).properties(height=alt.Step(26))


def pareto(cells: pl.DataFrame, *, x: str, y: str, front: str, tooltip: Sequence[str]) -> Layered:
    """Every sweep cell as a point; the cells where ``front`` is true joined by a line."""
    points = (
        alt.Chart(cells)
        .mark_circle(size=90, opacity=0.8)
        .encode(
            x=alt.X(f"{x}:Q", scale=alt.Scale(zero=False)),
            y=alt.Y(f"{y}:Q", scale=alt.Scale(zero=False)),
            color=category(front, title="Pareto front"),
            tooltip=list(tooltip),
        )
    )
    line = (
        alt.Chart(cells.filter(pl.col(front)))
        .mark_line(color="black", strokeDash=[4, 3])
        .encode(x=f"{x}:Q", y=f"{y}:Q", order=f"{x}:Q")
    )
    return alt.layer(line, points).properties(height=420)


def paired(df: pl.DataFrame, *, x: str, y: str, color: str, tooltip: Sequence[str]) -> Layered:
    """``y`` against ``x`` per row, with the ``y = x`` diagonal."""
    scale = alt.Scale(zero=False)
    points = (
        alt.Chart(df)
        .mark_circle(size=40, opacity=0.7)
        .encode(
            x=alt.X(f"{x}:Q", scale=scale),
            y=alt.Y(f"{y}:Q", scale=scale),
            color=category(color),
            tooltip=list(tooltip),
        )
    )
    diagonal = (
        alt.Chart(df)
        .mark_line(color="grey", strokeDash=[4, 3])
        .encode(x=f"{x}:Q", y=alt.Y(f"{x}:Q", title=y))
    )
    return alt.layer(diagonal, points).properties(height=420)
