"""What-if scenarios: pure transforms of a replay input (``--scenario``).

``--scenario 'drivers=0.9,prep=1.25,travel=0.75,demand=1.2,notice=10,seed=3'``:

- ``drivers``: courier minutes × the factor, to the minute. Fewer: shifts are kept in a
  seeded random order until the target is reached, the last one cut short. More: every
  shift, plus copies of shifts drawn with replacement (``<id>-x<k>``), the last copy cut
  short.
- ``prep``: preparation minutes (placement to ready) × the factor; whole minutes are
  rounded down, the rule of the MDRP ``p125`` instances (checked on all 44,890 orders).
- ``travel``: travel times × the factor, i.e. speed ÷ the factor. The MDRP planar model's
  metres per minute are whole numbers, rounded as the ``t75`` instances have them
  (320 / 0.75 → 427); other models scale exactly.
- ``demand``: orders × the factor, rounded down (as the ``o50`` instances: half the
  orders, rounded down). Fewer: a seeded random subset. More: every order, plus copies of
  orders drawn with replacement (``<id>-x<k>``): same restaurant, customer and preparation,
  placed up to :data:`DEMAND_JITTER_MIN` minutes earlier or later (within the day's
  placements).
- ``notice``: orders are known ``notice`` minutes before they are placed (never before
  minute 0): the replay places them then, while click-to-door still counts from the
  placement (``LoggedOrder.known_at``). ``notice=inf`` is the clairvoyant bound: every
  order known at the start. An assignment before placement breaks MDRP rule 2, which the
  run's check then relaxes (and says so).
- ``seed``: the seed of the draws (default 0).

An MDRP input's published instance is transformed alike, so its solution is checked
against the scenario's own travel model, ready times, orders and shifts.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import TypeVar

from replay.inputs import LoggedOrder, ReplayInput
from replay.mdrp.instance import MdrpInstance, MdrpOrder
from swifteats.domain.eta import ConstantSpeedEta, EtaModel, PlanarEta

DEMAND_JITTER_MIN = 30
"""A copied order is placed up to this many minutes before or after its source."""
T = TypeVar("T")
Copier = Callable[[T, int, random.Random], T]
"""Copy ``k`` of an item, drawing from the generator."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """The factors of a what-if (1 and 0: the input as it is)."""

    drivers: float = 1.0
    prep: float = 1.0
    travel: float = 1.0
    demand: float = 1.0
    notice: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drivers", "prep", "travel", "demand"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"scenario {name} must be a positive factor, not {value}")
        if not self.notice >= 0:
            raise ValueError(f"scenario notice must be minutes >= 0 (or inf), not {self.notice}")

    def as_dict(self) -> dict[str, float | int]:
        """Every factor by name (for the manifest)."""
        return asdict(self)

    def text(self) -> str:
        """The factors that differ from the identity, as ``--scenario`` takes them."""
        default = Scenario()
        return ",".join(
            f"{f.name}={getattr(self, f.name):g}"
            for f in fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        )


def parse_scenario(text: str) -> Scenario:
    """``'drivers=0.9,prep=1.25,notice=inf'`` as a :class:`Scenario`.

    Raises:
        ValueError: an unknown name, a value that is not a number, or an invalid factor;
            the message lists the names.
    """
    known = {f.name: f.type for f in fields(Scenario)}
    values: dict[str, float | int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or name not in known:
            raise ValueError(
                f"scenario term {part!r}: expected NAME=VALUE with NAME one of {', '.join(known)}"
            )
        try:
            values[name] = int(value) if name == "seed" else float(value)
        except ValueError:
            raise ValueError(f"scenario {name}={value!r}: not a number") from None
    return Scenario(**values)  # type: ignore[arg-type]


def transform_input(data: ReplayInput, scenario: Scenario) -> ReplayInput:
    """``data`` under ``scenario`` (see the module)."""
    rng = random.Random(scenario.seed)  # noqa: S311 - a seeded what-if, not a secret
    placements = [o.placed_at for o in data.orders]
    orders = _resampled(list(data.orders), scenario.demand, rng, _copy_order(placements))
    orders = [_order_times(o, scenario) for o in orders]
    drivers = _resampled_hours(
        list(data.drivers),
        scenario.drivers,
        rng,
        lambda s: s.shift_end - s.shift_start,
        lambda s, k, length: replace(
            s, driver_id=_copy_id(s.driver_id, k), shift_end=s.shift_start + length
        ),
    )
    digest = hashlib.sha256(f"{data.source_hash}|{scenario.text()}".encode()).hexdigest()
    return replace(
        data,
        orders=tuple(sorted(orders, key=lambda o: o.placed_at)),
        drivers=tuple(drivers),
        eta=scaled_eta(data.eta, scenario.travel),
        source_hash=digest,
    )


def transform_instance(instance: MdrpInstance, scenario: Scenario) -> MdrpInstance:
    """A published instance under ``scenario``, drawn alike to :func:`transform_input` (the
    same ids are kept and copied when the input was made of this instance)."""
    rng = random.Random(scenario.seed)  # noqa: S311 - a seeded what-if, not a secret
    by_placement = sorted(instance.orders.items(), key=lambda item: item[1].placement_time)
    placements = [float(o.placement_time) for _, o in by_placement]

    def copy_order(
        item: tuple[str, MdrpOrder], k: int, rng: random.Random
    ) -> tuple[str, MdrpOrder]:
        order_id, order = item
        placed = int(_jittered(placements, order.placement_time, rng))
        prep = order.ready_time - order.placement_time
        return _copy_id(order_id, k), order._replace(
            placement_time=placed, ready_time=placed + prep
        )

    orders = _resampled(by_placement, scenario.demand, rng, copy_order)
    couriers = _resampled_hours(
        list(instance.couriers.items()),
        scenario.drivers,
        rng,
        lambda item: item[1].off_time - item[1].on_time,
        lambda item, k, length: (
            _copy_id(item[0], k),
            item[1]._replace(off_time=item[1].on_time + int(length)),
        ),
    )
    return replace(
        instance,
        orders={i: _mdrp_ready(o, scenario.prep) for i, o in orders},
        couriers=dict(couriers),
        meters_per_minute=_metres_per_minute(instance.meters_per_minute, scenario.travel),
    )


def scaled_eta(eta: EtaModel, travel: float) -> EtaModel:
    """``eta`` with travel times × ``travel``."""
    if travel == 1.0:
        return eta
    if isinstance(eta, PlanarEta):
        return PlanarEta(eta.projection, _metres_per_minute(eta.meters_per_minute, travel))
    if isinstance(eta, ConstantSpeedEta):
        return replace(eta, speed_kmh=eta.speed_kmh / travel)
    raise ValueError(f"the travel scenario cannot scale {type(eta).__name__}")


def scaled_prep(prep: float, factor: float) -> float:
    """Preparation minutes × ``factor``; whole minutes stay whole, rounded down (MDRP p125)."""
    scaled = prep * factor
    return float(math.floor(scaled + 1e-9)) if float(prep).is_integer() else scaled


def _metres_per_minute(metres: float, travel: float) -> float:
    scaled = metres / travel
    return float(round(scaled)) if float(metres).is_integer() else scaled


def _order_times(order: LoggedOrder, scenario: Scenario) -> LoggedOrder:
    ready = order.placed_at + scaled_prep(order.ready_at - order.placed_at, scenario.prep)
    known = None if scenario.notice == 0 else max(0.0, order.placed_at - scenario.notice)
    return replace(order, ready_at=ready, known_at=known)


def _mdrp_ready(order: MdrpOrder, factor: float) -> MdrpOrder:
    prep = scaled_prep(order.ready_time - order.placement_time, factor)
    return order._replace(ready_time=order.placement_time + int(prep))


def _copy_order(placements: Sequence[float]) -> Copier[LoggedOrder]:
    def copy(order: LoggedOrder, k: int, rng: random.Random) -> LoggedOrder:
        placed = _jittered(placements, order.placed_at, rng)
        return replace(
            order,
            order_id=_copy_id(order.order_id, k),
            placed_at=placed,
            ready_at=placed + order.ready_at - order.placed_at,
            customer_id=f"{order.customer_id}-x{k}" if order.customer_id else "",
        )

    return copy


def _jittered(placements: Sequence[float], placed: float, rng: random.Random) -> float:
    shifted = placed + rng.randint(-DEMAND_JITTER_MIN, DEMAND_JITTER_MIN)
    return float(min(max(shifted, min(placements)), max(placements)))


def _copy_id(item_id: str, k: int) -> str:
    return f"{item_id}-x{k}"


def _resampled(items: list[T], factor: float, rng: random.Random, copy: Copier[T]) -> list[T]:
    """``floor(len × factor)`` items: a random subset, or all and copies drawn with replacement."""
    target = math.floor(len(items) * factor + 1e-9)
    if target <= len(items):
        kept = set(rng.sample(range(len(items)), target))
        return [item for i, item in enumerate(items) if i in kept]
    return items + [copy(rng.choice(items), k, rng) for k in range(1, target - len(items) + 1)]


def _resampled_hours(
    items: list[T],
    factor: float,
    rng: random.Random,
    length: Callable[[T], float],
    cut: Callable[[T, int, float], T],
) -> list[T]:
    """Shifts whose minutes add up to ``round(total × factor)``: see ``drivers`` in the module.

    ``cut(item, k, minutes)`` is the item shortened to ``minutes``, as copy ``k`` when
    ``k > 0``.
    """
    total = sum(length(s) for s in items)
    target = round(total * factor)
    if target == total:
        return items
    order = rng.sample(range(len(items)), len(items)) if target < total else range(len(items))
    pool = [(i, items[i], 0) for i in order]
    if target > total:
        extra = range(1, len(items) * math.ceil(factor) + 1)
        pool += [(len(items) + k, rng.choice(items), k) for k in extra]
    chosen: list[tuple[int, T]] = []
    hours = 0.0
    for i, item, k in pool:
        if hours >= target:
            break
        minutes = min(length(item), target - hours)
        chosen.append((i, cut(item, k, minutes) if minutes < length(item) or k else item))
        hours += minutes
    return [item for _, item in sorted(chosen, key=lambda pair: pair[0])]
