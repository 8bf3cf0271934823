"""Bundles: orders of one restaurant carried together, and the drop-off order chosen for them.

A :class:`Bundle` knows, for a driver leaving the restaurant, the minutes to each of its
drop-offs and to leaving the last door (the fleet model's timing, see
``swifteats.domain.fleet``). :func:`make_bundles` partitions one restaurant's open orders:
orders whose food is ready within ``ready_gap`` minutes of each other join the earliest
one, best fit first, while each addition costs its customers (together) at most
``max_extra`` minutes against driving every order straight from the restaurant, and the
bundle has at most ``size`` orders. The drop-off order is the one with the fewest
customer-minutes, found by trying every order (bundles are small).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from swifteats.domain.eta import MIN_MOVE_MINUTES, EtaModel
from swifteats.domain.fleet import ServiceTimes
from swifteats.domain.geo import Point
from swifteats.domain.policies.base import OpenOrder


class Legs:
    """Travel minutes between two points, remembered (a policy asks for the same legs often)."""

    def __init__(self, eta: EtaModel) -> None:
        self._eta = eta
        self._known: dict[tuple[Point, Point], int] = {}

    def __call__(self, a: Point, b: Point) -> int:
        """Minutes from ``a`` to ``b``."""
        key = (a, b)
        minutes = self._known.get(key)
        if minutes is None:
            minutes = self._known[key] = self._eta.travel_minutes(a, b)
        return minutes


@dataclass(frozen=True, slots=True)
class Bundle:
    """Orders of one restaurant in drop-off order, with their timing after the pickup."""

    orders: tuple[OpenOrder, ...]
    offsets: tuple[float, ...]
    """Minutes from leaving the restaurant to each drop-off."""
    tail: float
    """Minutes from leaving the restaurant to leaving the last door."""

    @property
    def order_ids(self) -> tuple[str, ...]:
        """The order ids, in drop-off order."""
        return tuple(o.order_id for o in self.orders)

    @property
    def restaurant(self) -> Point:
        """Where the bundle is picked up."""
        return self.orders[0].restaurant

    @property
    def ready_at(self) -> float:
        """When the last of its food is ready (the earliest pickup)."""
        return max(o.ready_at for o in self.orders)

    @property
    def radius_km(self) -> float:
        """The tightest search radius of its orders."""
        return min(o.radius_km for o in self.orders)


def sequenced(orders: Sequence[OpenOrder], legs: Legs, service: ServiceTimes) -> Bundle | None:
    """The orders in the drop-off order with the fewest customer-minutes.

    None when no order works: a leg of no length (two customers at one door, say) is
    not a move the MDRP evaluator accepts.
    """
    best: tuple[float, float, Bundle] | None = None
    for permutation in itertools.permutations(orders):
        bundle = _timed(permutation, legs, service)
        if bundle is not None:
            key = (sum(bundle.offsets), bundle.tail, bundle)
            if best is None or key[:2] < best[:2]:
                best = key
    return None if best is None else best[2]


def _timed(orders: Sequence[OpenOrder], legs: Legs, service: ServiceTimes) -> Bundle | None:
    half = service.dropoff_minutes / 2
    here, clock, offsets = orders[0].restaurant, 0.0, []
    for order in orders:
        leg = legs(here, order.customer)
        if leg < MIN_MOVE_MINUTES:
            return None
        clock += leg + half
        offsets.append(clock)
        clock += half
        here = order.customer
    return Bundle(tuple(orders), tuple(offsets), clock)


def extra_minutes(bundle: Bundle, legs: Legs, service: ServiceTimes) -> float:
    """Customer-minutes the bundle costs against each order driven alone when ready."""
    half = service.dropoff_minutes / 2
    ready = bundle.ready_at
    return sum(
        ready - o.ready_at + offset - legs(o.restaurant, o.customer) - half
        for o, offset in zip(bundle.orders, bundle.offsets, strict=True)
    )


def make_bundles(
    orders: Sequence[OpenOrder],
    legs: Legs,
    service: ServiceTimes,
    *,
    size: int,
    ready_gap: float,
    max_extra: float,
) -> list[Bundle]:
    """Partition one restaurant's orders into bundles of at most ``size`` (see the module)."""
    if size <= 1:
        return [b for o in orders if (b := _timed((o,), legs, service)) is not None]
    pending = sorted(orders, key=lambda o: (o.ready_at, o.placed_at, o.order_id))
    bundles = []
    while pending:
        seed = pending.pop(0)
        bundle = sequenced([seed], legs, service)
        if bundle is None:
            continue
        while len(bundle.orders) < size:
            grown = _best_addition(bundle, pending, seed.ready_at + ready_gap, legs, service)
            if grown is None or _added(grown, bundle, legs, service) > max_extra:
                break
            pending.remove(grown.orders[_new_index(grown, bundle)])
            bundle = grown
        bundles.append(bundle)
    return bundles


def _best_addition(
    bundle: Bundle, pending: Sequence[OpenOrder], latest: float, legs: Legs, service: ServiceTimes
) -> Bundle | None:
    options = [
        grown
        for order in pending
        if order.ready_at <= latest
        and (grown := sequenced([*bundle.orders, order], legs, service)) is not None
    ]
    return min(options, key=lambda b: extra_minutes(b, legs, service), default=None)


def _added(grown: Bundle, bundle: Bundle, legs: Legs, service: ServiceTimes) -> float:
    return extra_minutes(grown, legs, service) - extra_minutes(bundle, legs, service)


def _new_index(grown: Bundle, bundle: Bundle) -> int:
    old = set(bundle.order_ids)
    return next(i for i, o in enumerate(grown.orders) if o.order_id not in old)
