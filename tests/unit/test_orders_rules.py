"""Order lifecycle, totals, retry backoff and the simulated payment provider."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swifteats.domain.events import OrderItem
from swifteats.domain.orders import (
    InvalidTransitionError,
    OrderStatus,
    can_transition,
    items_total,
    require_transition,
    total_matches,
)
from swifteats.domain.payment import SimulatedPayments
from swifteats.domain.retry import RetryPolicy

S = OrderStatus

ALLOWED = {
    (S.NEW_ORDER, S.ASSIGNED_DRIVER),
    (S.NEW_ORDER, S.ASSIGNMENT_FAILED),
    (S.ASSIGNED_DRIVER, S.PICKED_UP),
    (S.ASSIGNED_DRIVER, S.DELIVERED),
    (S.PICKED_UP, S.DELIVERED),
}


def test_status_values_are_the_design_names() -> None:
    assert S.NEW_ORDER == "new_order"
    assert S.ASSIGNED_DRIVER == "assigned_driver"


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transitions(current: OrderStatus, target: OrderStatus) -> None:
    assert can_transition(current, target)
    require_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.ASSIGNMENT_FAILED, S.ASSIGNED_DRIVER),
        (S.DELIVERED, S.NEW_ORDER),
        (S.DELIVERED, S.PICKED_UP),
        (S.PICKED_UP, S.ASSIGNED_DRIVER),
        (S.NEW_ORDER, S.DELIVERED),
        (S.NEW_ORDER, S.PICKED_UP),
        (S.ASSIGNED_DRIVER, S.NEW_ORDER),
        (S.NEW_ORDER, S.NEW_ORDER),
    ],
)
def test_refused_transitions(current: OrderStatus, target: OrderStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(InvalidTransitionError, match=str(target)):
        require_transition(current, target)


def test_every_pair_outside_the_lifecycle_is_refused() -> None:
    for current in S:
        for target in S:
            assert can_transition(current, target) == ((current, target) in ALLOWED)


@pytest.mark.parametrize("terminal", [S.DELIVERED, S.ASSIGNMENT_FAILED])
def test_terminal_states_lead_nowhere(terminal: OrderStatus) -> None:
    assert not any(can_transition(terminal, target) for target in S)


ITEMS = [OrderItem("Pad Thai", 2, 12.99), OrderItem("Spring rolls", 1, 8.99)]


def test_items_total() -> None:
    assert items_total(ITEMS) == pytest.approx(34.97)
    assert items_total([]) == 0


@pytest.mark.parametrize(
    ("total", "matches"),
    [
        (34.97, True),
        (34.9700000001, True),
        (34.974, True),
        (34.966, True),
        (34.99, False),
        (34.95, False),
        (35.0, False),
        (0.0, False),
    ],
)
def test_total_matches_to_the_cent(total: float, matches: bool) -> None:
    assert total_matches(ITEMS, total) is matches


@given(
    st.lists(
        st.builds(
            OrderItem,
            st.just("x"),
            st.integers(min_value=1, max_value=50),
            st.integers(min_value=0, max_value=100_000).map(lambda cents: cents / 100),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_the_rounded_sum_of_items_always_matches(items: list[OrderItem]) -> None:
    assert total_matches(items, round(items_total(items), 2))
    assert not total_matches(items, round(items_total(items), 2) + 0.02)


def test_retry_delays_double_from_one_second() -> None:
    policy = RetryPolicy(max_attempts=10, cap_s=1000)
    assert [policy.delay_after(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_retry_delays_are_capped() -> None:
    policy = RetryPolicy(base_s=1, factor=2, cap_s=5, max_attempts=10)
    assert [policy.delay_after(n) for n in range(1, 7)] == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]


def test_retry_gives_up_after_max_attempts() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert policy.delay_after(1) == 1.0
    assert policy.delay_after(2) == 2.0
    assert policy.delay_after(3) is None
    assert policy.delay_after(4) is None


def test_retry_defaults() -> None:
    policy = RetryPolicy()
    assert [policy.delay_after(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, None]


def test_payments_decline_listed_customers_only() -> None:
    payments = SimulatedPayments(frozenset({"cust_bad"}))
    declined = payments.charge(order_id="o1", customer_id="cust_bad", amount=10.0)
    approved = payments.charge(order_id="o2", customer_id="cust_good", amount=10.0)
    assert not declined.approved
    assert "cust_bad" in declined.reason
    assert approved.approved


def test_payments_from_setting_parses_a_comma_separated_list() -> None:
    payments = SimulatedPayments.from_setting(" a, b ,,c ")
    assert payments.declined_customers == frozenset({"a", "b", "c"})
    assert not payments.charge(order_id="o", customer_id="b", amount=1.0).approved
    assert payments.charge(order_id="o", customer_id="a, b", amount=1.0).approved
    assert payments.charge(order_id="o", customer_id="d", amount=1.0).approved


def test_empty_setting_declines_nobody() -> None:
    payments = SimulatedPayments.from_setting("")
    assert payments.declined_customers == frozenset()
    assert payments.charge(order_id="o", customer_id="", amount=1.0).approved
