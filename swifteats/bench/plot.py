"""The goodput curve: offered vs assigned orders per second, 25/s up to 4× capacity.

One short load step per point on the running services (:class:`StepRunner`), then a PNG
(matplotlib, headless) with the offered rate on x and, on y, the assignments per second
(goodput), the orders accepted per second and the ideal line ``y = x``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swifteats.bench.e2e_steps import StepRunner

Echo = Callable[[str], None]

LOWEST_RATE = 25.0
MAX_POINTS = 16
DEFAULT_PLOT = Path("docs/bench/goodput.png")


def curve_rates(top: float) -> list[float]:
    """Offered rates from 25/s to ``top`` (4 × capacity): every 25/s, or ``MAX_POINTS``
    evenly spaced ones (rounded to 5/s) when that would be more."""
    top = max(LOWEST_RATE * 2, top)
    count = min(MAX_POINTS, math.ceil(top / LOWEST_RATE))
    step = (top - LOWEST_RATE) / max(1, count - 1)
    return sorted({round((LOWEST_RATE + i * step) / 5) * 5.0 for i in range(count)})


def goodput_curve(
    runner: StepRunner,
    capacity: float,
    path: Path,
    *,
    step_s: float,
    echo: Echo,
    top: float | None = None,
) -> dict[str, Any]:
    """Run the curve's steps up to ``top`` (default 4 × ``capacity``); write the PNG."""
    points = []
    for rate in curve_rates(4 * capacity if top is None else top):
        step = runner.run_step(rate, step_s, label="curve")
        points.append(
            {
                "offered_per_s": rate,
                "accepted_per_s": round(step["accepted"] / step["duration_s"], 1),
                "assigned_per_s": step["completed_per_s"],
                "p99_ms": step["latency_ms"]["placed_to_assigned_all"]["p99"],
            }
        )
        echo(f"  curve {rate:g}/s: assigned {step['completed_per_s']:g}/s")
    write_png(points, capacity, path, generator=runner.generator)
    return {"path": str(path), "points": points}


def write_png(points: list[dict[str, Any]], capacity: float, path: Path, *, generator: str) -> None:
    """Draw offered vs assigned (and accepted) per second."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [p["offered_per_s"] for p in points]
    figure, axes = plt.subplots(figsize=(7, 4.5), dpi=120)
    axes.plot(offered, offered, linestyle=":", color="grey", label="offered (ideal)")
    axes.plot(offered, [p["accepted_per_s"] for p in points], marker=".", label="accepted")
    axes.plot(
        offered, [p["assigned_per_s"] for p in points], marker="o", label="assigned (goodput)"
    )
    if capacity > 0:
        axes.axhline(capacity, color="red", linewidth=0.8, label=f"capacity {capacity:g}/s")
        axes.axhline(0.9 * capacity, color="red", linewidth=0.5, linestyle="--", label="90 %")
    axes.set_xlabel("offered orders/s")
    axes.set_ylabel("orders/s")
    axes.set_title(f"swifteats goodput under load (generator: {generator})")
    axes.grid(alpha=0.3)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
