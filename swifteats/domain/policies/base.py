"""The policy interface: open orders and drivers in, assignments (bundles) out.

Inside: :class:`DispatchPolicy` (the interface), the views a policy is given
(:class:`OpenOrder`, :class:`DriverView`, :class:`PolicyContext`), what it returns
(:class:`Assignment`) and :class:`NoParams` (the parameters of a policy with none).

A :class:`DispatchPolicy` is pure: ``decide(orders, drivers, now)`` reads what it is
given and returns :class:`Assignment` s, with no I/O and no clock of its own. The
in-process replay calls it on a window (every ``window_minutes`` simulated minutes); the
Assignment Service's windowed step calls the same code on the requests it holds
(``swifteats.domain.window_step``).

Times are minutes on one clock (the replay's day; a service may use minutes since any
fixed instant, see :meth:`OpenOrder.from_request`).

Semantics of an assignment, as :class:`swifteats.domain.dispatch_board.DispatchBoard`
applies them:

- ``Assignment(driver, (o1, o2))``: the driver's next route picks up ``o1`` and ``o2``
  together at their restaurant (one restaurant per route) and drops them off in that order.
- A driver free now starts at once; a busy driver gets it *queued*: it starts when the
  driver is free at its last door. Until then the commitment can be updated: a later
  decision may give the driver another queued route (replacing this one) or give its
  orders to someone else. ``Assignment(driver, ())`` releases a queued route.
- Orders not assigned stay open for the next decision (the policy says so with
  ``holds_orders``; the design's one-at-a-time policies retry and then give up instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from swifteats.domain.drivers import DriverStatus
from swifteats.domain.eta import EtaModel
from swifteats.domain.events import AssignmentRequested
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.scoring import ScoringWeights


@dataclass(frozen=True, slots=True)
class OpenOrder:
    """An order waiting for a driver, or queued with one that has not left for it yet."""

    order_id: str
    restaurant_id: str
    """Equal for orders of one restaurant (only those may share a route)."""
    restaurant: Point
    customer: Point
    placed_at: float
    ready_at: float
    radius_km: float = float("inf")
    """Only drivers this close to the restaurant (straight line) may take it."""
    queued_with: str | None = None
    """The driver whose queued route holds it (it may still be given to another)."""

    @classmethod
    def from_request(
        cls, request: AssignmentRequested, *, epoch: datetime, placed_at: datetime | None = None
    ) -> OpenOrder:
        """A design request as an open order; minutes count from ``epoch``.

        The restaurant is keyed by its position (the design's request carries no id).
        ``placed_at`` defaults to the request's own instant.
        """
        occurred = (request.occurred_at - epoch).total_seconds() / 60.0
        placed = occurred if placed_at is None else (placed_at - epoch).total_seconds() / 60.0
        r = request.restaurant
        return cls(
            request.order_id,
            f"{r.latitude:.6f},{r.longitude:.6f}",
            r,
            request.customer,
            placed,
            occurred + request.preparation_time,
            request.radius_km,
        )


@dataclass(frozen=True, slots=True)
class DriverView:
    """A driver on shift as a policy sees it."""

    driver_id: str
    location: Point
    """Its last known position."""
    status: DriverStatus
    """AVAILABLE: free now, at ``location``; BUSY: on a route until ``free_at``."""
    free_at: float
    """When it is free: the end of its route, or (free now) the minute it became free."""
    free_location: Point
    """Where it will be free (its last door; ``location`` when free now)."""
    shift_ends_at: float = float("inf")
    """No pickup may be planned after this minute."""
    route: tuple[str, ...] = ()
    """The orders of the route it is on, in drop-off order (no longer changeable)."""
    queued: tuple[str, ...] = ()
    """The orders of its queued route (changeable until it starts)."""

    @property
    def idle(self) -> bool:
        """Free now, with no route."""
        return self.status is DriverStatus.AVAILABLE


@dataclass(frozen=True, slots=True)
class Assignment:
    """A driver's next route: these orders, of one restaurant, dropped off in this order."""

    driver_id: str
    order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyContext:
    """What every policy may use besides its inputs: the score, travel and service model."""

    weights: ScoringWeights
    eta: EtaModel
    service: ServiceTimes = ServiceTimes()


@dataclass(frozen=True, slots=True)
class NoParams:
    """The parameters of a policy that has none to tune (besides the scoring weights)."""


class DispatchPolicy(Protocol):
    """Decides which drivers take which open orders."""

    @property
    def name(self) -> str:
        """The policy's name."""
        ...

    @property
    def window_minutes(self) -> float | None:
        """Minutes between decisions; None: one request at a time, as it comes (the Assigner)."""
        ...

    @property
    def holds_orders(self) -> bool:
        """True: an order nobody takes stays open; False: the design's retries, then give up."""
        ...

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        """The assignments to make at ``now`` (see the module docstring for their meaning)."""
        ...
