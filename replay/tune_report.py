"""The report of a tuning: defaults against the tuned parameters, on training and test days.

Every figure is a mean over days (each day counts once) with the half-width of its 95 %
confidence interval, ``t(0.975, n − 1) · s / √n`` (Student's t across days; none for a
single day). ``delta`` is tuned minus defaults day by day (paired; negative: the tuned
parameters are faster), the fair test of "at least as good on unseen days".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from scipy import stats

from replay.scenario import Scenario
from swifteats.domain.policies.registry import ParamValue, PolicySpec

Range = tuple[float, float]

METRICS = ("objective", "click_to_door_all", "click_to_door_mean")


@dataclass(frozen=True, slots=True)
class Interval:
    """A mean across days and the half-width of its 95 % confidence interval."""

    mean: float
    half_width: float | None
    days: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Interval:
        """The interval of ``values`` (one per day)."""
        n = len(values)
        mean = sum(values) / n
        if n < 2:
            return cls(mean, None, n)
        sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
        return cls(mean, float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n), n)

    def text(self) -> str:
        """``31.20 ± 0.45``."""
        return f"{self.mean:.2f}" + ("" if self.half_width is None else f" ± {self.half_width:.2f}")


@dataclass(frozen=True, slots=True)
class SplitFigures:
    """One parameter set on one split's days."""

    params: str
    """``defaults`` or ``tuned``."""
    split: str
    days: int
    feasible: int
    undelivered_pct: float
    """Pooled over the days' orders."""
    intervals: dict[str, Interval]

    @classmethod
    def of(cls, params: str, split: str, rows: Sequence[Mapping[str, Any]]) -> SplitFigures:
        orders = sum(r["orders"] for r in rows)
        delivered = sum(r["delivered"] for r in rows)
        return cls(
            params,
            split,
            len(rows),
            sum(bool(r["feasible"]) for r in rows),
            100 * (1 - delivered / orders),
            {
                m: Interval.of([float(r[m]) for r in rows if r[m] is not None])
                for m in METRICS
                if any(r[m] is not None for r in rows)
            },
        )


@dataclass(frozen=True, slots=True)
class TuningReport:
    """What ``swifteats tune`` found (see the module)."""

    policy: str
    objective: str
    trials: int
    seed: int
    train_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    searched: dict[str, tuple[float, float]]
    defaults: dict[str, ParamValue]
    tuned: dict[str, ParamValue]
    figures: list[SplitFigures]
    delta: dict[str, Interval]
    """Tuned minus defaults, day by day, per split (objective)."""
    scenario: str | None

    @property
    def holds_on_test(self) -> bool:
        """Whether the tuned parameters beat the defaults on the test days (paired mean)."""
        return self.delta["test"].mean < 0

    @property
    def verdict(self) -> str:
        """What to run on unseen days."""
        if self.holds_on_test:
            return "the tuned parameters beat the defaults on the test days: use them"
        return "the tuned parameters do not beat the defaults on the test days: keep the defaults"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {**asdict(self), "holds_on_test": self.holds_on_test, "verdict": self.verdict}

    def table(self) -> str:
        """The train/test table as Markdown."""
        lines = [
            "| parameters | days | feasible | objective (95 % CI) | click-to-door all orders "
            "| click-to-door delivered | undelivered |",
            "|---|---|---|---|---|---|---|",
        ]
        for f in self.figures:
            cells = [f.intervals[m].text() if m in f.intervals else "–" for m in METRICS]
            lines.append(
                f"| {f.params} on {f.split} | {f.days} | {f.feasible}/{f.days} | "
                + " | ".join(cells)
                + f" | {f.undelivered_pct:.3f} % |"
            )
        for split, d in self.delta.items():
            lines.append(f"| tuned − defaults on {split} | {d.days} | | {d.text()} | | | |")
        return "\n".join(lines)


OBJECTIVE = (
    "click-to-door over all orders (minutes, mean over days): a delivered order from placement "
    "to drop-off, an undelivered one from placement to the end of the day's last shift; "
    "+100 for an infeasible day"
)


@dataclass(frozen=True, slots=True)
class Setup:
    """What a tuning was asked, as its report repeats it."""

    seed: int
    train_seeds: tuple[int, ...]
    test_seeds: tuple[int, ...]
    scenario: Scenario | None


def build_report(
    options: Setup,
    spec: PolicySpec[Any],
    tuned: Mapping[str, ParamValue],
    rows: Mapping[tuple[str, str], Sequence[Mapping[str, Any]]],
    trials: int,
    ranges: Mapping[str, Range],
) -> TuningReport:
    """The report of a finished tuning; ``rows`` by (``defaults``/``tuned``, split)."""
    delta = {}
    for split in ("train", "test"):
        base = {r["instance"]: r["objective"] for r in rows[("defaults", split)]}
        new = {r["instance"]: r["objective"] for r in rows[("tuned", split)]}
        delta[split] = Interval.of([new[i] - base[i] for i in sorted(base) if i in new])
    return TuningReport(
        policy=spec.name,
        objective=OBJECTIVE,
        trials=trials,
        seed=options.seed,
        train_seeds=options.train_seeds,
        test_seeds=options.test_seeds,
        searched=dict(ranges),
        defaults=asdict(spec.defaults),
        tuned=asdict(spec.params_with(tuned)),
        figures=[SplitFigures.of(p, s, r) for (p, s), r in rows.items()],
        delta=delta,
        scenario=options.scenario.text() if options.scenario else None,
    )
