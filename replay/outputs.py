"""The run directory: ``manifest.json`` and the Parquet tables of orders, decisions, drivers
and latency, each of exactly the columns of :mod:`swifteats.run_schema`."""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

import swifteats
from replay.engine import PIPELINE_STAGES
from replay.simulation import OrderOutcome, RunResult
from swifteats.domain.events import parse_instant
from swifteats.run_schema import frame


@dataclass(frozen=True, slots=True)
class RunSummary:
    """The headline figures of a run."""

    orders: int
    delivered: int
    never_assigned: int
    undelivered_share: float | None
    """Orders not delivered, as a share of all orders."""
    click_to_door_mean: float | None
    """Over the delivered orders."""
    click_to_door_all_mean: float | None
    """Over all orders, an undelivered one counting from its placement to the end of the
    day's last shift (``CLICK_TO_DOOR_ALL``)."""
    click_to_door_p90: float | None
    ready_to_pickup_mean: float | None
    answer_ms_p50: float | None
    answer_ms_p99: float | None
    """Wall time from asking for a driver to having the answer (live: through Kafka)."""
    in_flight_max: int
    """The most requests waiting for an answer when one arrived (paced runs: backlog)."""

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready values."""
        return {
            "orders": self.orders,
            "delivered": self.delivered,
            "never_assigned": self.never_assigned,
            "undelivered_share": self.undelivered_share,
            "click_to_door_mean": self.click_to_door_mean,
            "click_to_door_all_mean": self.click_to_door_all_mean,
            "click_to_door_p90": self.click_to_door_p90,
            "ready_to_pickup_mean": self.ready_to_pickup_mean,
            "answer_ms_p50": self.answer_ms_p50,
            "answer_ms_p99": self.answer_ms_p99,
            "in_flight_max": self.in_flight_max,
        }


def order_rows(result: RunResult, day_start: datetime) -> list[dict[str, Any]]:
    """One row per order with every timestamp (minutes and UTC instants) and its outcome."""
    return [_order_row(o, day_start, result.day_end) for o in result.outcomes.values()]


def click_to_door_all(placed: float, dropoff: float | None, day_end: float) -> float | None:
    """Click-to-door counting every order: an undelivered one (``dropoff`` None) counts the
    minutes from its placement to ``day_end``, the end of the day's last shift (none
    before 0; None when the day has no end)."""
    if dropoff is not None:
        return dropoff - placed
    return max(0.0, day_end - placed) if day_end != float("inf") else None


def _order_row(outcome: OrderOutcome, day_start: datetime, day_end: float) -> dict[str, Any]:
    order, trip = outcome.order, outcome.trip
    row: dict[str, Any] = {
        "order_id": order.order_id,
        "restaurant_id": order.restaurant_id,
        "placed_min": order.placed_at,
        "ready_min": order.ready_at,
        "placed_at": (day_start + timedelta(minutes=order.placed_at)).astimezone(UTC),
        "attempts": outcome.attempts,
        "last_error": outcome.last_error,
        "outcome": "delivered" if trip else "never_assigned",
        "driver_id": trip.driver_id if trip else None,
        "bundle_size": (len(trip.route_orders) or 1) if trip else None,
        "eta": outcome.eta,
        "restaurant_lat": order.restaurant.latitude,
        "restaurant_lon": order.restaurant.longitude,
        "customer_lat": order.customer.latitude,
        "customer_lon": order.customer.longitude,
    }
    stages = ("assigned_at", "arrive_restaurant", "pickup", "arrive_customer", "dropoff")
    for stage in stages:
        row[f"{stage}_min"] = getattr(trip, stage) if trip else None
    for stage in PIPELINE_STAGES:
        stamp = (outcome.pipeline or {}).get(stage)
        row[stage] = parse_instant(stamp) if stamp else None
    row["click_to_door"] = trip.dropoff - order.placed_at if trip else None
    row["click_to_door_all"] = click_to_door_all(
        order.placed_at, trip.dropoff if trip else None, day_end
    )
    row["ready_to_pickup"] = trip.pickup - order.ready_at if trip else None
    row["ready_to_door"] = trip.dropoff - order.ready_at if trip else None
    return row


def decision_rows(result: RunResult) -> list[dict[str, Any]]:
    """One row per candidate of every decision, with its score components."""
    rows = []
    for decision in result.decisions:
        for rank, candidate in enumerate(decision["candidates"], start=1):
            rows.append(
                {
                    "order_id": decision["orderId"],
                    "attempt": decision["attempt"],
                    "time_min": decision["time"],
                    "rank": rank,
                    "chosen": candidate["driverId"] == decision["chosenDriver"]
                    and candidate.get("kind") in (None, "matched"),
                    "drivers_in_area": decision["driversInArea"],
                    "decision": decision.get("decision"),
                    **_snake(candidate),
                }
            )
    return rows


def _snake(candidate: dict[str, Any]) -> dict[str, Any]:
    names = {
        "driverId": "driver_id",
        "score": "score",
        "distanceKm": "distance_km",
        "slack": "slack",
        "etaToRestaurant": "eta_to_restaurant",
        "totalEta": "total_eta",
        "slackTerm": "slack_term",
        "distanceTerm": "distance_term",
        "etaTerm": "eta_term",
        "waitTerm": "wait_term",
        "supplyTerm": "supply_term",
        "idleTerm": "idle_term",
        "kind": "kind",
        "cost": "cost",
        "customerMinutes": "customer_minutes",
        "courierMinutes": "courier_minutes",
        "worth": "worth",
        "leaveBy": "leave_by",
    }
    row = {names[k]: v for k, v in candidate.items() if k != "bundle"}
    if "bundle" in candidate:
        row["bundle"] = ",".join(candidate["bundle"])
    return row


def summarise(orders: pl.DataFrame, latency: pl.DataFrame) -> RunSummary:
    """Delivered, never assigned, click-to-door and answer-time figures of a run."""
    delivered = orders.filter(pl.col("outcome") == "delivered")
    ctd = delivered["click_to_door"]
    undelivered = orders.height - delivered.height
    return RunSummary(
        orders=orders.height,
        delivered=delivered.height,
        never_assigned=undelivered,
        undelivered_share=round(undelivered / orders.height, 6) if orders.height else None,
        click_to_door_mean=_rounded(ctd.mean()),
        click_to_door_all_mean=_rounded(orders["click_to_door_all"].mean()),
        click_to_door_p90=_rounded(ctd.quantile(0.9)),
        ready_to_pickup_mean=_rounded(delivered["ready_to_pickup"].mean()),
        answer_ms_p50=_rounded(latency["answer_ms"].quantile(0.5)) if latency.height else None,
        answer_ms_p99=_rounded(latency["answer_ms"].quantile(0.99)) if latency.height else None,
        in_flight_max=int(latency.select(pl.col("in_flight").max()).item() or 0),
    )


def _rounded(value: object) -> float | None:
    return round(float(value), 2) if isinstance(value, int | float) else None


def write_run(
    run_dir: Path, result: RunResult, *, day_start: datetime, manifest: dict[str, Any]
) -> RunSummary:
    """Write the tables and the manifest (with the summary) into ``run_dir``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    orders = frame("orders", order_rows(result, day_start))
    latency = frame("latency", result.latency)
    orders.write_parquet(run_dir / "orders.parquet")
    frame("decisions", decision_rows(result)).write_parquet(run_dir / "decisions.parquet")
    frame("drivers", result.timeline).write_parquet(run_dir / "drivers.parquet")
    latency.write_parquet(run_dir / "latency.parquet")
    summary = summarise(orders, latency)
    manifest = {
        **manifest,
        "summary": summary.as_dict(),
        "versions": {
            "swifteats": swifteats.__version__,
            "python": platform.python_version(),
            "polars": pl.__version__,
        },
    }
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    return summary
