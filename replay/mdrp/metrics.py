"""The MDRP evaluator's metrics, and the report that carries them with the violations."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from replay.mdrp.instance import MdrpInstance
from replay.mdrp.parse import Line
from replay.mdrp.rules import Timeline
from replay.mdrp.solution import Assignment, DeliveredOrder


@dataclass(frozen=True, slots=True)
class Distribution:
    """Mean and the 10th, 50th and 90th percentiles (linear, as pandas' ``describe``)."""

    mean: float
    p10: float
    p50: float
    p90: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution | None:
        """The distribution of ``values``; None when there are none."""
        if not values:
            return None
        ordered = sorted(values)
        mean = sum(ordered) / len(ordered)
        return cls(mean, *(_quantile(ordered, q) for q in (0.1, 0.5, 0.9)))


@dataclass(frozen=True, slots=True)
class CheckReport:
    """Feasibility, every violation found, and the evaluator's metrics.

    Metrics cover the delivered orders the checker could read (also when infeasible,
    unlike the evaluator); courier metrics cover every courier of the instance.
    """

    feasible: bool
    violations: list[str]
    delivered: int
    total: int
    click_to_door: Distribution | None
    ready_to_door: Distribution | None
    ready_to_pickup: Distribution | None
    click_to_door_overage: Distribution | None
    orders_per_hour: Distribution | None
    utilisation: Distribution | None
    total_pay: float


def _quantile(ordered: Sequence[float], q: float) -> float:
    """Linear interpolation between the closest ranks (numpy's and pandas' default)."""
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def build_report(
    violations: list[str],
    assignments: list[Line[Assignment]],
    delivered: dict[str, Line[DeliveredOrder]],
    timelines: dict[str, Timeline],
    instance: MdrpInstance,
) -> CheckReport:
    """The report of ``violations`` and the metrics of what was read."""
    orders = [line.record for line in delivered.values()]
    published = [instance.orders[d.order_id] for d in orders]
    click_to_door = [
        d.dropoff_time - p.placement_time for d, p in zip(orders, published, strict=True)
    ]
    per_hour, utilisation, pay = _courier_metrics(assignments, orders, timelines, instance)
    return CheckReport(
        feasible=not violations,
        violations=violations,
        delivered=len(orders),
        total=len(instance.orders),
        click_to_door=Distribution.of(click_to_door),
        ready_to_door=Distribution.of(
            [d.dropoff_time - p.ready_time for d, p in zip(orders, published, strict=True)]
        ),
        ready_to_pickup=Distribution.of(
            [d.pickup_time - p.ready_time for d, p in zip(orders, published, strict=True)]
        ),
        click_to_door_overage=Distribution.of(
            [max(0, c - instance.target_click_to_door) for c in click_to_door]
        ),
        orders_per_hour=Distribution.of(per_hour),
        utilisation=Distribution.of(utilisation),
        total_pay=pay,
    )


def _courier_metrics(
    assignments: list[Line[Assignment]],
    orders: list[DeliveredOrder],
    timelines: dict[str, Timeline],
    instance: MdrpInstance,
) -> tuple[list[float], list[float], float]:
    """Per courier: orders per hour and utilisation (driving, dropping and picking time
    over the shift); and the total pay (per order, or the hourly guarantee if more)."""
    delivered = Counter(d.courier_id for d in orders)
    bundles = Counter(line.record.courier_id for line in assignments)
    per_hour, utilisation, pay = [], [], 0.0
    for courier_id, courier in instance.couriers.items():
        shift = courier.off_time - courier.on_time
        busy = (
            timelines[courier_id].driving
            + delivered[courier_id] * instance.dropoff_minutes
            + bundles[courier_id] * instance.pickup_minutes
        )
        per_hour.append(60 * delivered[courier_id] / shift if shift else 0.0)
        utilisation.append(busy / shift if shift else 0.0)
        pay += max(
            delivered[courier_id] * instance.pay_per_order,
            shift * instance.guaranteed_pay_per_hour / 60,
        )
    return per_hour, utilisation, pay
