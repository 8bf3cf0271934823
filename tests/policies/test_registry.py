"""The policy registry: every policy builds and decides, its parameters are its dataclass's
fields and reach the policy, and mistakes are refused naming the alternatives."""

from __future__ import annotations

from dataclasses import fields

import pytest
from typer.testing import CliRunner

from swifteats.cli import app
from swifteats.domain.dispatch_board import DispatchBoard
from swifteats.domain.policies.base import Assignment
from swifteats.domain.policies.registry import (
    POLICY_NAMES,
    REGISTRY,
    ParamValue,
    build_policy,
    policy_spec,
)
from tests.policies.helpers import CONTEXT, ETA, SERVICE, at, idle, order


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_registered_policy_builds_and_decides_on_a_tiny_board(name: str) -> None:
    """One driver 3 minutes from one order whose food is ready at 5: every policy sends it
    (``rolling-horizon`` too: the driver must leave within this window)."""
    board = DispatchBoard(ETA, SERVICE)
    board.driver_on("d", at(-3.0), 100.0)
    board.add_order(order("o", ready=5.0))
    policy = build_policy(name, CONTEXT)
    decided = policy.decide(board.open_orders(), board.drivers(0.0), 0.0)
    assert decided == [Assignment("d", ("o",))]
    (route,) = board.apply(decided, now=0.0)
    assert route.order_ids == ("o",) and board.waiting == 0
    spec = policy_spec(name)
    assert spec.description and "\n" not in spec.description
    assert (policy.window_minutes is not None) == spec.windowed


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_the_parameters_listed_are_the_fields_of_the_built_policys_params(name: str) -> None:
    params = build_policy(name, CONTEXT).params  # type: ignore[attr-defined]
    listed = [(p.name, p.default, p.type) for p in policy_spec(name).parameters]
    own = [(f.name, getattr(params, f.name), type(getattr(params, f.name))) for f in fields(params)]
    assert listed == own
    assert all(p.type in (float, int, bool) for p in policy_spec(name).parameters)


def test_each_policy_declares_its_knobs() -> None:
    def names(policy: str) -> set[str]:
        return {p.name for p in policy_spec(policy).parameters}

    assert names("greedy-score") == names("nearest") == set()
    assert names("batch-matching") == {"window_minutes", "reward", "age_weight"}
    route = {"window_minutes", "queue_horizon", "max_bundle", "bundle_load", "ready_gap"}
    costs = {"max_extra", "courier_weight", "reward", "age_weight", "backlog_weight"}
    assert route | costs | {"postpone"} == names("bundling")
    defaults = {p.name: p.default for p in policy_spec("rolling-horizon").parameters}
    assert (
        defaults["postpone"],
        defaults["queue_horizon"],
        defaults["courier_weight"],
        defaults["backlog_weight"],
    ) == (True, 15.0, 0.25, 1.0)
    assert policy_spec("bundling").defaults.backlog_weight == 0.0


def test_a_changed_parameter_changes_the_decision() -> None:
    """Two orders of one restaurant and one driver: bundled together unless ``max_bundle``
    is 1; ``batch-matching`` with a negative reward makes no pair; ``rolling-horizon``
    without postponing sends a driver for food that is ready only in half an hour."""
    two = [order("o1", ready=5.0), order("o2", customer=12.0, ready=5.0)]
    driver = [idle("d", -3.0)]
    (bundled,) = build_policy("bundling", CONTEXT).decide(two, driver, 0.0)
    (alone,) = build_policy("bundling", CONTEXT, params={"max_bundle": 1}).decide(two, driver, 0.0)
    assert (len(bundled.order_ids), len(alone.order_ids)) == (2, 1)

    one = [order("o", ready=5.0)]
    assert build_policy("batch-matching", CONTEXT).decide(one, driver, 0.0)
    unpaid = build_policy("batch-matching", CONTEXT, params={"reward": -1e6})
    assert unpaid.decide(one, driver, 0.0) == []

    later = [order("o", ready=30.0)]
    assert build_policy("rolling-horizon", CONTEXT).decide(later, driver, 0.0) == []
    eager = build_policy("rolling-horizon", CONTEXT, params={"postpone": False})
    assert eager.decide(later, driver, 0.0) == [Assignment("d", ("o",))]


def test_overrides_reach_the_built_policys_params_and_a_float_takes_an_int() -> None:
    built = build_policy("batch-matching", CONTEXT, params={"reward": 5, "age_weight": 0.5})
    params = built.params  # type: ignore[attr-defined]
    assert (params.reward, params.age_weight, params.window_minutes) == (5.0, 0.5, 1.0)
    assert isinstance(params.reward, float)
    windowed = build_policy("rolling-horizon", CONTEXT, window_minutes=2.0)
    assert windowed.params.window_minutes == 2.0  # type: ignore[attr-defined]
    assert windowed.params.postpone  # type: ignore[attr-defined]


def test_an_unknown_policy_names_every_known_one() -> None:
    for call in (lambda: policy_spec("cheapest"), lambda: build_policy("cheapest", CONTEXT)):
        with pytest.raises(ValueError, match="unknown policy 'cheapest'") as error:
            call()
        assert all(name in str(error.value) for name in REGISTRY)


def test_an_unknown_parameter_names_the_policys_parameters_and_their_types() -> None:
    with pytest.raises(ValueError, match="policy 'bundling' has no parameter 'size'") as error:
        build_policy("bundling", CONTEXT, params={"size": 2})
    assert "max_bundle (int)" in str(error.value) and "postpone (bool)" in str(error.value)
    with pytest.raises(ValueError, match="no parameter 'reward'; its parameters: none"):
        build_policy("nearest", CONTEXT, params={"reward": 1.0})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("max_bundle", 2.5, "'max_bundle' of policy 'bundling' must be int, not 2.5 (float)"),
        ("max_bundle", True, "must be int, not True (bool)"),
        ("reward", False, "'reward' of policy 'bundling' must be float, not False (bool)"),
        ("postpone", 1, "'postpone' of policy 'bundling' must be bool, not 1 (int)"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(name: str, value: ParamValue, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build_policy("bundling", CONTEXT, params={name: value})


def test_a_window_is_for_windowed_policies_and_given_once() -> None:
    with pytest.raises(ValueError, match="'greedy-score' decides one request at a time"):
        build_policy("greedy-score", CONTEXT, window_minutes=1.0)
    with pytest.raises(ValueError, match="give the window once"):
        build_policy("bundling", CONTEXT, window_minutes=1.0, params={"window_minutes": 2.0})


@pytest.mark.parametrize("command", [["replay"], ["sweep"], ["bench", "policies"]])
def test_policy_help_lists_the_registry_with_descriptions(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "2000"})
    assert result.exit_code == 0
    assert "|".join(POLICY_NAMES) in result.output  # the choices
    for spec in REGISTRY.values():
        assert f"{spec.name}: {spec.description}" in result.output


def test_policy_refuses_a_name_the_registry_lacks() -> None:
    result = CliRunner().invoke(app, ["sweep", "--policy", "cheapest"])
    assert result.exit_code == 2 and "'cheapest' is not one of" in result.output
