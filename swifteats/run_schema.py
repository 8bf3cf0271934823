"""The four Parquet tables of a run directory: every column's name, Polars type and meaning.

The replay writes its tables through :func:`frame` (``replay.outputs``) and the analyses
read them with the same columns (:mod:`swifteats.analysis.tables`); the module sits outside
``swifteats.analysis`` so that writing a run needs no DuckDB. Times in simulated minutes
are counted from the day's start; instants are UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its name, its type in the Parquet file and what it holds."""

    name: str
    dtype: pl.DataType
    meaning: str


_TEXT, _FLOAT, _INT, _BOOL = pl.String(), pl.Float64(), pl.Int64(), pl.Boolean()
_INSTANT = pl.Datetime("us", "UTC")


def _wall_clock(stage: str, what: str) -> Column:
    return Column(stage, _INSTANT, f"live runs: when the last attempt was {what} (wall clock)")


def _hop(name: str, what: str) -> Column:
    return Column(name, _FLOAT, f"live runs: wall milliseconds {what}")


ORDERS = (
    Column("order_id", _TEXT, "the order's id"),
    Column("restaurant_id", _TEXT, "its restaurant's id"),
    Column("placed_min", _FLOAT, "minute it was placed"),
    Column("ready_min", _FLOAT, "minute its food is ready"),
    Column("placed_at", _INSTANT, "instant it was placed (the day's start + placed_min)"),
    Column("attempts", _INT, "assignment attempts made"),
    Column("last_error", _TEXT, "reason of the last failed attempt; null if none failed"),
    Column("outcome", _TEXT, "delivered or never_assigned"),
    Column("driver_id", _TEXT, "the driver who delivered it"),
    Column("bundle_size", _INT, "orders on the delivering driver's route (1 when alone)"),
    Column("eta", _INT, "the answer's ETA: the chosen driver's total_eta (one-at-a-time)"),
    Column("restaurant_lat", _FLOAT, "restaurant latitude"),
    Column("restaurant_lon", _FLOAT, "restaurant longitude"),
    Column("customer_lat", _FLOAT, "customer latitude"),
    Column("customer_lon", _FLOAT, "customer longitude"),
    Column("assigned_at_min", _FLOAT, "minute the driver was assigned"),
    Column("arrive_restaurant_min", _FLOAT, "minute the driver reached the restaurant"),
    Column("pickup_min", _FLOAT, "minute of the pickup"),
    Column("arrive_customer_min", _FLOAT, "minute the driver reached the customer"),
    Column("dropoff_min", _FLOAT, "minute of the drop-off"),
    _wall_clock("accepted_at", "accepted by the Order Service"),
    _wall_clock("request_published_at", "published to Kafka"),
    _wall_clock("request_consumed_at", "read by the assignment service"),
    _wall_clock("decided_at", "decided"),
    _wall_clock("response_consumed_at", "answered (the order row updated)"),
    Column("click_to_door", _FLOAT, "minutes from placement to drop-off"),
    Column(
        "click_to_door_all",
        _FLOAT,
        "click_to_door, or for an undelivered order the minutes from its placement to the "
        "end of the day's last shift",
    ),
    Column("ready_to_pickup", _FLOAT, "minutes the food waited for the driver"),
    Column("ready_to_door", _FLOAT, "minutes from ready to drop-off"),
)
"""One row per order of the input."""

DECISIONS = (
    Column("order_id", _TEXT, "the order decided"),
    Column("attempt", _INT, "its attempt number (1 for the first)"),
    Column("time_min", _FLOAT, "minute of the decision"),
    Column("rank", _INT, "the candidate's rank (1 is the best)"),
    Column("chosen", _BOOL, "whether this candidate got the order"),
    Column("drivers_in_area", _INT, "drivers found within the radius (one-at-a-time)"),
    Column("driver_id", _TEXT, "the candidate driver"),
    Column("score", _FLOAT, "the design's priority score (null for windowed policies)"),
    Column("distance_km", _FLOAT, "great-circle km from the driver to the restaurant"),
    Column("slack", _FLOAT, "minutes to food ready less minutes to the restaurant (> 0: early)"),
    Column("eta_to_restaurant", _FLOAT, "minutes from the driver to the restaurant"),
    Column("total_eta", _FLOAT, "minutes to the restaurant and on to the customer"),
    Column("slack_term", _FLOAT, "the score's slack term"),
    Column("distance_term", _FLOAT, "the score's distance term"),
    Column("eta_term", _FLOAT, "the score's ETA term"),
    Column("wait_term", _FLOAT, "the score's wait term"),
    Column("supply_term", _FLOAT, "the score's supply term (others near the driver)"),
    Column("idle_term", _FLOAT, "the score's idle term (minutes the driver was available)"),
    Column("decision", _TEXT, "windowed: started, queued (on a busy driver) or postponed"),
    Column("kind", _TEXT, "windowed: matched, other_driver (for these orders), other_orders"),
    Column("bundle", _TEXT, "windowed: the candidate's orders, comma-separated"),
    Column("cost", _FLOAT, "windowed: the matching cost (lower is better; < 0 worth making)"),
    Column("customer_minutes", _FLOAT, "windowed: customer-minutes still to come"),
    Column("courier_minutes", _FLOAT, "windowed: minutes the driver is tied up"),
    Column("worth", _FLOAT, "windowed: what serving the orders is worth"),
    Column("leave_by", _FLOAT, "windowed: latest minute to leave and be there when ready"),
)
"""One row per candidate of every decision."""

DRIVERS = (
    Column("time", _FLOAT, "minute of the change or position report"),
    Column("driver_id", _TEXT, "the driver"),
    Column("state", _TEXT, "from then on: available, to_restaurant, at_restaurant, ..."),
    Column("latitude", _FLOAT, "its latitude then"),
    Column("longitude", _FLOAT, "its longitude then"),
)
"""One row per state change or position report of a driver."""

LATENCY = (
    Column("order_id", _TEXT, "the order"),
    Column("attempt", _INT, "its attempt number"),
    Column("time_min", _FLOAT, "minute the answer took effect"),
    Column("assigned", _BOOL, "whether the attempt assigned a driver"),
    Column("error", _TEXT, "the failure reason; null when assigned"),
    Column("answer_ms", _FLOAT, "wall milliseconds from asking to having the answer"),
    Column("in_flight", _INT, "requests waiting for an answer then (paced runs: backlog)"),
    _hop("accepted_to_request_published_ms", "from acceptance to publication (1st attempt)"),
    _hop("request_published_to_request_consumed_ms", "the request spent in Kafka"),
    _hop("request_consumed_to_decided_ms", "the assignment service took to decide"),
    _hop("decided_to_response_consumed_ms", "from the decision to the order's update"),
    Column("search_ms", _FLOAT, "in-process: milliseconds of the driver search"),
    Column("scoring_ms", _FLOAT, "in-process: milliseconds of the scoring"),
    Column("claim_ms", _FLOAT, "in-process: milliseconds of the claim"),
    Column("total_ms", _FLOAT, "in-process: milliseconds of the whole decision"),
)
"""One row per answered attempt."""

TABLES: dict[str, tuple[Column, ...]] = {
    "orders": ORDERS,
    "decisions": DECISIONS,
    "drivers": DRIVERS,
    "latency": LATENCY,
}
"""Each table's columns, in file order; a file is ``<table>.parquet``."""


def schema(table: str) -> pl.Schema:
    """The Polars schema of ``table``."""
    return pl.Schema({column.name: column.dtype for column in TABLES[table]})


def frame(table: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """``rows`` as a DataFrame of exactly ``table``'s columns (absent keys are null).

    Raises:
        ValueError: a key that is not a column of ``table``, or a column whose values
            are not of its type (an integer column holding fractions, say).
    """
    declared = schema(table)
    found = pl.DataFrame(rows, infer_schema_length=None)
    unknown = [name for name in found.columns if name not in declared]
    if unknown:
        raise ValueError(f"{table}: columns not in the schema: {', '.join(unknown)}")
    for name, dtype in found.schema.items():
        if not _fits(dtype, declared[name]):
            raise ValueError(f"{table}.{name}: {dtype} values in a {declared[name]} column")
    return found.select(
        pl.col(name).cast(dtype) if name in found.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in declared.items()
    )


def _fits(found: pl.DataType, declared: pl.DataType) -> bool:
    """Whether values inferred as ``found`` keep their value as ``declared``."""
    return found in (declared, pl.Null()) or (found == pl.Int64 and declared == pl.Float64)
