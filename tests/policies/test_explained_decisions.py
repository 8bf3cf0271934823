"""Windowed decisions explained: each matched pair's cost terms and the runners-up, the
postponed pairs too, from the policy to the run's decisions table and ``decision_breakdown``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboard.panels.decision import _costed
from replay.runner import RunRequest, load_input, run_replay
from swifteats.analysis import decision_breakdown
from swifteats.domain.policies.registry import build_policy
from swifteats.domain.policies.support.explain import Alternative, explain
from tests.policies.helpers import CONTEXT, idle, order
from tests.replay.test_bundle_replay import write_instance


def test_a_pair_is_explained_by_its_terms_and_the_cheapest_other_pairs() -> None:
    cost = np.array([[-5.0, -9.0, -1.0, -7.0], [-8.0, -2.0, -3.0, -4.0], [0.0, -6.0, 0.0, 0.0]])
    feasible = cost < 0
    feasible[0, 3] = False

    (why,) = explain(
        [(0, 1)],
        cost,
        feasible,
        driver_ids=["a", "b", "c", "d"],
        job_orders=[("o0",), ("o1",), ("o2",)],
        terms={"customer_minutes": cost * 2, "worth": np.array([[10.0], [20.0], [30.0]])},
    )

    assert (why.driver_id, why.order_ids, why.cost) == ("b", ("o0",), -9.0)
    assert why.terms == {"customer_minutes": -18.0, "worth": 10.0}
    # Other drivers for o0: a (-5), c (-1); d is infeasible. Other orders for b: o2, o1.
    assert why.other_drivers == (Alternative("a", ("o0",), -5.0), Alternative("c", ("o0",), -1.0))
    assert why.other_orders == (Alternative("b", ("o2",), -6.0), Alternative("b", ("o1",), -2.0))


@pytest.mark.parametrize("name", ["bundling", "rolling-horizon"])
def test_route_matching_explains_the_same_decision_it_makes(name: str) -> None:
    orders = [order("o1", ready=30.0), order("o2", restaurant=20.0, customer=25.0, ready=2.0)]
    drivers = [idle("near", -5.0), idle("far", -15.0)]
    policy = build_policy(name, CONTEXT)

    chosen, why = policy.decide_explained(orders, drivers, 0.0)  # type: ignore[attr-defined]

    assert chosen == policy.decide(orders, drivers, 0.0)
    assert {(w.driver_id, w.order_ids) for w in why if w.committed} == {
        (a.driver_id, a.order_ids) for a in chosen
    }
    o1 = next(w for w in why if w.order_ids == ("o1",))
    assert o1.committed is (name == "bundling")  # rolling-horizon: the food is 30 minutes off
    weight = 0.35 if name == "bundling" else 0.25
    t = o1.terms
    assert o1.cost == pytest.approx(
        t["customer_minutes"] + weight * t["courier_minutes"] - t["worth"]
    )
    assert [a.driver_id for a in o1.other_drivers] == [
        d.driver_id for d in drivers if d.driver_id != o1.driver_id
    ]


def test_batch_matching_explains_each_pair_by_score_and_worth() -> None:
    policy = build_policy("batch-matching", CONTEXT)
    orders = [order("o1", ready=5.0)]

    chosen, (why,) = policy.decide_explained(orders, [idle("d", -3.0)], 0.0)  # type: ignore[attr-defined]

    assert [a.order_ids for a in chosen] == [("o1",)]
    assert why.cost == pytest.approx(-why.terms["score"] - why.terms["worth"])


def test_a_run_records_postponed_queued_and_started_pairs_with_their_costs(
    tmp_path: Path,
) -> None:
    folder = write_instance(
        tmp_path / "day",
        [
            "o1\t1600\t0\t0\tr1\t30\n",
            "o2\t3200\t0\t1\tr1\t31\n",
            "o3\t0\t4800\t2\tr2\t40\n",
        ],
        ["c1\t-1600\t0\t0\t120\n", "c2\t0\t8000\t0\t120\n"],
    )
    run_replay(
        load_input(folder, None),
        RunRequest(policy="rolling-horizon", radius_km=50),
        tmp_path / "run",
    )

    rows = decision_breakdown(tmp_path / "run", "o1")

    assert {"postponed", "started"} <= set(rows["decision"].drop_nulls())
    started = rows.filter((pl.col("decision") == "started") & pl.col("chosen"))
    assert started.height == 1 and started["cost"][0] < 0
    assert started["customer_minutes"][0] > 0 and started["worth"][0] > 0
    postponed = rows.filter(pl.col("decision") == "postponed")
    assert postponed["time_min"].max() < started["time_min"][0]
    assert not postponed["chosen"].any()
    chart = _costed(rows)
    parts = chart["customer_minutes"] + chart["courier_term"] - chart["worth"]
    assert (parts - chart["cost"]).drop_nulls().abs().max() < 1e-9
