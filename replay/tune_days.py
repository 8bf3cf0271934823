"""One day of a tuning: an MDRP instance replayed with given parameters, checked and scored.

The **objective** of ``swifteats tune`` is the click-to-door over *all* orders of a day
(minutes, lower is better): a delivered order counts from its placement to its drop-off
as the solution files give them; an undelivered one counts from its placement to the
end of the day's last courier shift (the latest it could still have been served). Days
are averaged with each day counting once, as in the published tables.

:func:`evaluate_day` runs in a worker process: it replays the instance in process
(``replay.runner.simulate``), writes the evaluator's solution files into a temporary
folder and reads them back through ``replay.mdrp.check`` (figures from the files, as
``bench policies`` takes them). An infeasible solution adds :data:`INFEASIBLE_PENALTY`
minutes to its day's objective, so the search steers clear of parameters that break a
rule.
"""

from __future__ import annotations

import functools
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replay.mdrp.check import check_solution
from replay.mdrp.export import solution_from_routes, write_solution
from replay.mdrp.instance import MdrpInstance
from replay.mdrp.parse import Violations, read_orders
from replay.runner import LoadedInput, RunRequest, load_input, simulate, with_scenario
from replay.scenario import Scenario
from swifteats.domain.policies.registry import ParamValue

INFEASIBLE_PENALTY = 100.0
"""Minutes added to a day's objective when its solution breaks an MDRP rule."""
_NAME = re.compile(
    r"^(?P<seed>\d+)(?P<size>[or]\d+)t(?P<travel>\d+)s(?P<shifts>\d+)p(?P<prep>\d+)$"
)


def instance_seed(name: str) -> int | None:
    """The seed of an MDRP instance name (``3o50t75s2p125`` → 3), None for other names.

    The published names are ``<seed><size><time><shifts><prep>``
    (``../shared/data/mdrp/README.md``): the leading digits are the day's seed.
    """
    found = _NAME.match(name)
    return int(found["seed"]) if found else None


@dataclass(frozen=True, slots=True)
class DayTask:
    """One policy with one set of parameters on one day."""

    instance: Path
    policy: str
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    radius_km: float | None = None
    scenario: Scenario | None = None


def evaluate_day(task: DayTask) -> dict[str, Any]:
    """The day's figures (see the module); an exception is the caller's to report."""
    loaded = _load(task.instance, task.scenario)
    assert loaded.mdrp is not None  # noqa: S101 - a folder is always read as an instance
    request = RunRequest(
        backend="inprocess", policy=task.policy, radius_km=task.radius_km, params=task.params
    )
    result = simulate(loaded, request)
    orders = {o.order_id: o for o in loaded.data.orders}
    with tempfile.TemporaryDirectory(prefix="swifteats-tune-") as folder:
        write_solution(Path(folder), *solution_from_routes(result.routes, orders))
        report = check_solution(Path(folder), loaded.mdrp)
        dropoffs = {
            order_id: line.record.dropoff_time
            for order_id, line in read_orders(Path(folder), loaded.mdrp, Violations()).items()
        }
    all_orders = click_to_door_all(loaded.mdrp, dropoffs)
    penalty = 0.0 if report.feasible else INFEASIBLE_PENALTY
    return {
        "instance": task.instance.name,
        "seed": instance_seed(task.instance.name),
        "orders": report.total,
        "delivered": report.delivered,
        "feasible": report.feasible,
        "click_to_door_all": all_orders,
        "click_to_door_mean": report.click_to_door.mean if report.click_to_door else None,
        "objective": all_orders + penalty,
    }


def click_to_door_all(instance: MdrpInstance, dropoffs: Mapping[str, int]) -> float:
    """Mean minutes from placement to drop-off over every order; an undelivered order
    counts to the end of the last shift."""
    day_end = max(c.off_time for c in instance.couriers.values())
    minutes = [
        dropoffs.get(order_id, max(day_end, o.placement_time)) - o.placement_time
        for order_id, o in instance.orders.items()
    ]
    return sum(minutes) / len(minutes)


@functools.lru_cache(maxsize=48)
def _load(instance: Path, scenario: Scenario | None) -> LoadedInput:
    """A worker reads each day once for all the trials it runs on it."""
    return with_scenario(load_input(instance, None), scenario)
