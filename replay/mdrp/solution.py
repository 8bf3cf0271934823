"""The published MDRP evaluator's three solution files: names, headers and records.

Formats: ``../shared/docs/MDRP_SOLUTION_FORMAT.md``. Every file starts with its header
(the evaluator drops the first line of the assignments file unread), fields are
separated by single spaces, times are whole minutes and ids are the instance's own.
In the couriers file origin ``0`` is the courier's start; any other place is a
restaurant id (``r3``) or an order id (``o12``, standing for that order's customer).
:mod:`replay.mdrp.export` writes these files, :mod:`replay.mdrp.parse` reads them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

ASSIGNMENTS = "solution_info_assignments.txt"
ORDERS = "solution_info_orders.txt"
COURIERS = "solution_info_couriers.txt"
ASSIGNMENTS_HEADER = "assignment_time pickup_time courier orders"
ORDERS_HEADER = "order placement_time ready_time pickup_time dropoff_time courier"
COURIERS_HEADER = "courier departure_time origin destination"
START = "0"
"""The origin of a courier's first move: its start location."""


@dataclass(frozen=True, slots=True)
class Assignment:
    """A final assignment: a bundle of orders, listed in drop-off order."""

    assignment_time: int
    pickup_time: int
    courier_id: str
    order_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DeliveredOrder:
    """One delivered order with its four times."""

    order_id: str
    placement_time: int
    ready_time: int
    pickup_time: int
    dropoff_time: int
    courier_id: str


@dataclass(frozen=True, slots=True)
class CourierMove:
    """A courier leaves ``origin`` for ``destination`` at ``departure_time``."""

    courier_id: str
    departure_time: int
    origin: str
    destination: str


class Solution(NamedTuple):
    """The three record lists, in :func:`replay.mdrp.export.write_solution`'s argument order."""

    assignments: list[Assignment]
    orders: list[DeliveredOrder]
    moves: list[CourierMove]
