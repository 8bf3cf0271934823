"""One decision of a windowed policy as the Driver Assignment Service takes it.

The service holds the requests of a windowed policy (``swifteats.domain.dispatch``) and,
every window, shows the policy the held orders and the drivers available now, on a fresh
:class:`~swifteats.domain.dispatch_board.DispatchBoard` (whose checks and route planning
are the replay's). Every route that starts becomes one answer per order, same driver,
with that order's ETA: the minutes until its driver is at the customer.

The service sees drivers as Redis holds them: available now, or busy with no known end.
So a live decision never queues a route on a busy driver (``bundling`` and
``rolling-horizon`` do that in process only); otherwise the policies decide as they do
in the replay. Times are minutes since an epoch the service chooses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from swifteats.domain.dispatch import DispatchPolicy, OpenOrder, PolicyContext
from swifteats.domain.dispatch_board import DispatchBoard
from swifteats.domain.drivers import DriverRecord, DriverStatus


@dataclass(frozen=True, slots=True)
class RoutePlan:
    """A route to claim: the driver, and each order with its ETA, in drop-off order."""

    driver_id: str
    etas: tuple[tuple[str, int], ...]


def minutes_since(instant: datetime, epoch: datetime) -> float:
    """``instant`` as minutes after ``epoch``."""
    return (instant - epoch).total_seconds() / 60.0


def decide_window(
    policy: DispatchPolicy,
    context: PolicyContext,
    orders: Sequence[OpenOrder],
    drivers: Iterable[DriverRecord],
    *,
    now: float,
    epoch: datetime,
) -> list[RoutePlan]:
    """The routes the policy starts at ``now`` with these held orders and drivers.

    Drivers that are not available, or whose shift is over, are not shown.

    Raises:
        PolicyError: the policy returned an assignment that cannot be carried out.
    """
    board = DispatchBoard(context.eta, context.service)
    for driver in drivers:
        if driver.status is DriverStatus.AVAILABLE:
            ends = driver.shift_ends_at
            shift_end = math.inf if ends is None else minutes_since(ends, epoch)
            board.driver_on(driver.driver_id, driver.location, shift_end)
    for order in orders:
        board.add_order(order)
    routes = board.apply(policy.decide(board.open_orders(), board.drivers(now), now), now)
    return [
        RoutePlan(
            route.driver_id,
            tuple((stop.order_id, math.ceil(stop.arrive - now)) for stop in route.stops),
        )
        for route in routes
    ]
