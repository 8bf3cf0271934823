"""The port a replay drives: the services, in process or live, behind one interface.

The harness (``replay.simulation``) owns the simulated clock and the fleet; everything
that decides — the Order Service's answer handling, retries and dead letters, the
Assignment Service's policies — is the services' own code behind this port.
:class:`~replay.inprocess.InProcessEngine` runs it over the in-memory adapters;
:class:`~replay.live.LiveEngine` talks to the running services over HTTP, with Kafka
between them. Each instant ends with :meth:`Engine.settle`, a barrier: every request due
is published, read, decided and answered, and every answer applied, before time moves on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from replay.inputs import LoggedOrder
from swifteats.domain.drivers import RouteStops
from swifteats.domain.geo import Point

PIPELINE_STAGES = (
    "accepted_at",
    "request_published_at",
    "request_consumed_at",
    "decided_at",
    "response_consumed_at",
)
"""The Order Service's wall-clock stamps of an attempt, in pipeline order; the order row
is updated in the transaction that consumes the response."""


@dataclass(frozen=True, slots=True)
class Applied:
    """An answer the Order Service applied (``assigned``, ``retry`` or ``failed``)."""

    order_id: str
    outcome: str
    driver_id: str | None
    eta: int | None
    error: str | None
    attempt: int
    """The attempt it answered."""


@dataclass(frozen=True, slots=True)
class Settled:
    """What one instant's barrier produced."""

    applied: list[Applied]
    wake_at: datetime | None
    """When a service next has something to do by itself (a retry falls due, a window
    ends); None: nothing until the next input event."""
    answer_ms: float
    """Wall milliseconds the barrier took."""
    queued: tuple[str, ...] = ()
    """The drivers the instant's decision gave a queued route: a route that starts when
    their current one ends (only a decision queues routes)."""
    routes: Mapping[str, RouteStops] = field(default_factory=dict)
    """The routes of the drivers named in :meth:`Engine.settle`'s ``routes_of``, once the
    instant's events were applied and before its decision."""


@dataclass(frozen=True, slots=True)
class FinalOrder:
    """An order as the Order Service holds it at the end of a run."""

    attempts: int
    last_error: str | None
    pipeline: dict[str, str | None]
    """The wall-clock stamps of the last attempt (``PIPELINE_STAGES``); live runs only."""


class Engine(Protocol):
    """The services as a replay drives them (see the module)."""

    def begin(self, now: datetime) -> None:
        """A new instant: the Order Service's clock reads ``now`` before it hears of it."""
        ...

    def driver_on(self, driver_id: str, at: Point, shift_ends_at: datetime) -> None:
        """A driver starts a shift, available at ``at`` until ``shift_ends_at``."""
        ...

    def driver_off(self, driver_id: str) -> None:
        """A driver ends a shift."""
        ...

    def place(self, order: LoggedOrder, *, radius_km: float, now_min: float) -> None:
        """A customer places ``order`` (its request is published at the next settle)."""
        ...

    def picked_up(self, order_id: str) -> None:
        """The food left the restaurant."""
        ...

    def delivered(self, order_id: str) -> None:
        """The order is at the door; the service frees its driver (or starts its next route)."""
        ...

    def driver_routes(self, driver_ids: list[str]) -> dict[str, RouteStops]:
        """The orders each driver holds now, in drop-off order, with their ETAs."""
        ...

    def settle(self, now: datetime, *, routes_of: list[str]) -> Settled:
        """The instant's barrier (see the module); with the routes of ``routes_of``."""
        ...

    def decisions(self) -> list[dict[str, Any]]:
        """Every decision record so far, in the order made."""
        ...

    def final_orders(self, order_ids: list[str]) -> Mapping[str, FinalOrder]:
        """The orders as the Order Service holds them."""
        ...


PLACEHOLDER_ITEM = {"name": "order", "quantity": 1, "unitPrice": 0.0}
"""The one item of a logged order that lists none (MDRP instances)."""


def order_body(order: LoggedOrder, *, radius_km: float, now_min: float) -> dict[str, Any]:
    """``POST /orders``'s body for a logged order placed at ``now_min``: both engines send
    it through the Order Service's own validation."""
    items = [{"name": n, "quantity": q, "unitPrice": p} for n, q, p in order.items]
    total = order.total_amount if items and order.total_amount is not None else 0.0
    return {
        "orderId": order.order_id,
        "customerId": order.customer_id or f"replay-{order.order_id}",
        "restaurantId": order.restaurant_id,
        "restaurantLocation": _location(order.restaurant),
        "customerLocation": _location(order.customer),
        "items": items or [PLACEHOLDER_ITEM],
        "totalAmount": total,
        "preparationTime": round(max(0.0, order.ready_at - now_min), 6),
        "radius": radius_km,
    }


def _location(point: Point) -> dict[str, float]:
    return {"latitude": point.latitude, "longitude": point.longitude}
