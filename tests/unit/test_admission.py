"""Admission at the door and the re-send budget: the pure rules, and the Order Service's
``POST /orders`` shedding with 503 and Retry-After once its pipeline is behind."""

from __future__ import annotations

from prometheus_client import generate_latest

from swifteats.adapters.memory_orders import InMemoryOrderStore
from swifteats.check_flow import sample_order
from swifteats.domain.admission import (
    AdmissionBounds,
    PipelineLoad,
    ResendBudget,
    ResendPolicy,
    shed_reason,
)
from swifteats.observability import ServiceMetrics
from swifteats.services.orders.admission import Admission
from tests.unit.test_orders_api import T0, app_over, call


def test_orders_are_shed_beyond_either_bound_and_a_zero_bound_is_off() -> None:
    bounds = AdmissionBounds(max_outbox_backlog=10, max_unanswered=100)
    assert shed_reason(PipelineLoad(9, 99), bounds) is None
    assert shed_reason(PipelineLoad(10, 0), bounds) == "outbox_backlog"
    assert shed_reason(PipelineLoad(0, 100), bounds) == "unanswered"
    assert shed_reason(PipelineLoad(10**6, 10**6), AdmissionBounds(0, 0)) is None


def test_the_resend_budget_refills_at_its_rate_and_saves_one_second_at_most() -> None:
    budget = ResendBudget(ResendPolicy(max_per_s=5))
    assert budget.available(100.0) == 5
    budget.spend(5)
    assert budget.available(100.2) == 1
    assert budget.available(160.0) == 5  # a quiet minute saves no more than a second's worth
    budget.spend(2)
    assert budget.available(160.0) == 3


def test_post_orders_sheds_with_503_and_retry_after_while_too_many_wait() -> None:
    store = InMemoryOrderStore()
    metrics = ServiceMetrics("orders")
    admission = Admission(
        store, AdmissionBounds(max_unanswered=2, retry_after_s=3), clock=lambda: T0, metrics=metrics
    )
    app = app_over(store, lambda: T0, admission=admission)
    statuses = [call(app, "POST", "/orders", json=sample_order()).status_code for _ in range(3)]
    assert statuses == [201, 201, 503]  # the two accepted count before the next sample
    assert admission.sample() == PipelineLoad(2, 2)
    shed = call(app, "POST", "/orders", json=sample_order())
    assert (shed.status_code, shed.headers["Retry-After"]) == (503, "3")
    assert "wait for a driver" in shed.json()["detail"]
    assert metrics.counts()["orders_shed:unanswered"] == 2
    exposed = generate_latest(metrics.registry).decode()
    assert 'swifteats_events_total{kind="orders_shed",service="orders"} 2.0' in exposed
