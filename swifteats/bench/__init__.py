"""``swifteats bench``: how fast the system is on this machine, against its targets.

- :mod:`~swifteats.bench.e2e` — live services under open-loop load, step by step
  (:mod:`~swifteats.bench.e2e_steps`, :mod:`~swifteats.bench.e2e_figures`,
  :mod:`~swifteats.bench.e2e_orders`, :mod:`~swifteats.bench.releaser`); the load from
  ``wrk`` (:mod:`~swifteats.bench.wrk_load`) or Python (:mod:`~swifteats.bench.loadgen`);
- :mod:`~swifteats.bench.overload` — 2× and 4× capacity, goodput over capacity;
- :mod:`~swifteats.bench.plot` — the goodput curve as a PNG (``--plot``);
- :mod:`~swifteats.bench.assign_step` — search, scoring and claim against Redis;
- :mod:`~swifteats.bench.replay_speed` — in-process replay speed, live lockstep wall time;
- :mod:`~swifteats.bench.stats` — percentiles and the "sustained" rule (pure);
- :mod:`~swifteats.bench.report` — targets, the printed table, the JSON layout;
- :mod:`~swifteats.bench.runner` — :func:`run_bench`, the entry point;
- :mod:`~swifteats.bench.cli` — the ``swifteats bench`` typer sub-app.

The results are nested dicts (and JSON): ``e2e.max_sustained_orders_per_s`` is
``results["e2e"]["max_sustained_orders_per_s"]``; ``results["headline"]`` repeats the
headline figures flat, by dotted key, and ``results["targets"]`` says which are met.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swifteats.bench.runner import BenchOptions, run_bench

__all__ = ["BenchOptions", "run_bench"]


def __getattr__(name: str) -> Any:
    """``run_bench`` and ``BenchOptions``, imported on first use: ``swifteats --help`` and
    the CLI's sub-app stay light (the runner pulls in Kafka, Redis and the replay)."""
    if name in __all__:
        from swifteats.bench import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
