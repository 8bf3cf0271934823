"""The Order Service's routes over its core on memory adapters: status codes, the order's
JSON, ``PUT /clock`` and one mapping of an unreachable store to 503."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from swifteats.adapters.memory_bus import Delivery, InProcessBus
from swifteats.adapters.memory_drivers import InMemoryDriverIndex
from swifteats.adapters.memory_orders import InMemoryOrderStore
from swifteats.check_flow import sample_order
from swifteats.domain.clock import Clock, ManualClock
from swifteats.domain.drivers import DriverStatus
from swifteats.domain.events import DriverAssigned
from swifteats.domain.geo import Point
from swifteats.domain.order_store import StoreUnavailableError
from swifteats.domain.orders import OrderRecord
from swifteats.domain.payment import SimulatedPayments
from swifteats.domain.ratelimit import RateLimiter
from swifteats.domain.retry import RetryPolicy
from swifteats.domain.topics import REQUEST_TOPIC_PATTERN, RESPONSES_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.http import Check, HttpSecurity
from swifteats.services.orders import api
from swifteats.services.orders.admission import Admission
from swifteats.services.orders.core import OrderCore
from swifteats.services.orders.models import EXAMPLE_ANSWER, OrderOut
from swifteats.services.orders.schemas import OrderIn
from swifteats.services.outgoing import answer
from swifteats.settings import Settings

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


class _DownStore(InMemoryOrderStore):
    def get(self, order_id: str) -> OrderRecord:
        raise StoreUnavailableError("connection refused")


@dataclass
class Runtime:
    core: OrderCore
    wall: Clock = lambda: T0  # noqa: E731
    order_limiter: RateLimiter | None = None
    metrics: ServiceMetrics = field(default_factory=lambda: ServiceMetrics("orders"))
    admission: Admission | None = None

    def health_checks(self) -> dict[str, Check]:
        return {}

    def stats(self) -> dict[str, Any]:
        return {}


def app_over(
    store: InMemoryOrderStore,
    clock: Clock,
    *,
    admission: Admission | None = None,
    drivers: InMemoryDriverIndex | None = None,
    bus: InProcessBus | None = None,
) -> FastAPI:
    """The Order Service's API over ``store``; with ``bus``, it reads the answers on it."""
    bus = bus or InProcessBus()
    core = OrderCore(
        store,
        store,
        bus,
        drivers or InMemoryDriverIndex(),
        retry=RetryPolicy(),
        clock=clock,
        metrics=ServiceMetrics("orders"),
        payments=SimulatedPayments(frozenset({"broke"})),
    )
    bus.subscribe(RESPONSES_TOPIC, lambda d: core.on_response(d.value, d.topic, d.headers))
    security = HttpSecurity.from_settings(Settings(), service="order-service")
    return api.build_api(Runtime(core, admission=admission), security)


def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


def test_orders_are_placed_read_and_refused_with_the_design_codes() -> None:
    app = app_over(InMemoryOrderStore(), lambda: T0)
    body = sample_order() | {"orderId": "o-1"}

    placed = call(app, "POST", "/orders", json=body)

    assert placed.status_code == 201
    order = placed.json()
    assert (order["orderId"], order["status"], order["attempts"]) == ("o-1", "new_order", 1)
    assert order["items"][0] == {"name": "Margherita pizza", "quantity": 2, "unitPrice": 12.99}
    assert order["timestamps"]["placedAt"] == "2026-01-15T12:00:00.000Z"
    assert order["timestamps"]["nextAttemptAt"] == "2026-01-15T12:00:00.000Z"
    assert call(app, "GET", "/orders/o-1").json() == order
    assert call(app, "POST", "/orders", json=body).status_code == 409
    declined = sample_order("broke") | {"orderId": "o-2"}
    assert call(app, "POST", "/orders", json=declined).status_code == 402
    assert call(app, "GET", "/orders/o-2").status_code == 404
    assert call(app, "POST", "/orders/o-1/delivered").status_code == 409
    assert call(app, "POST", "/orders/o-9/picked-up").status_code == 404
    assert call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:00Z"}).status_code == 404


def test_put_clock_reports_and_times_out_waiting_for_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = app_over(InMemoryOrderStore(), ManualClock(T0))
    call(app, "POST", "/orders", json=sample_order() | {"orderId": "o-1"})

    moved = call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:05Z"})

    assert moved.status_code == 200
    assert moved.json() == {
        "now": "2026-01-15T12:00:05.000Z",
        "requestsPublished": 1,
        "nextDueAt": None,
        "applied": [],
        "events": [],
        "routes": {},
    }
    monkeypatch.setattr(api, "CLOCK_WAIT_S", 0.05)
    late = call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:06Z", "afterResponses": 1})
    assert late.status_code == 504
    assert "0 responses handled, 1 awaited" in late.text


def test_put_clock_applies_the_instants_events_in_turn_and_reports_each() -> None:
    store = InMemoryOrderStore()
    app = app_over(store, ManualClock(T0))
    events = [
        {"placed": sample_order() | {"orderId": "o-1"}},
        {"placed": sample_order() | {"orderId": "o-1"}},
        {"placed": sample_order("broke") | {"orderId": "o-2"}},
        {"pickedUp": "o-9", "at": "2026-01-15T12:00:01Z"},
        {"delivered": "o-1"},
    ]

    moved = call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:05Z", "events": events})

    assert moved.status_code == 200
    report = moved.json()
    assert [e["status"] for e in report["events"]] == [201, 409, 402, 404, 409]
    assert report["requestsPublished"] == 1
    placed = call(app, "GET", "/orders/o-1").json()
    assert placed["timestamps"]["placedAt"] == "2026-01-15T12:00:05.000Z"
    looked_up = call(app, "POST", "/orders/lookup", json={"orderIds": ["o-1", "o-9", "o-1"]})
    assert looked_up.json() == {"orders": [placed]}
    earlier = {"placed": sample_order() | {"orderId": "o-3"}, "at": "2026-01-15T12:00:05.5Z"}
    call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:06Z", "events": [earlier]})
    stamps = call(app, "GET", "/orders/o-3").json()["timestamps"]
    assert stamps["placedAt"] == "2026-01-15T12:00:05.500Z"
    both = {"now": "2026-01-15T12:00:06Z", "events": [{"pickedUp": "o-1", "delivered": "o-1"}]}
    assert call(app, "PUT", "/clock", json=both).status_code == 422


def test_put_clock_reports_the_routes_of_the_drivers_it_names() -> None:
    drivers = InMemoryDriverIndex()
    drivers.register("d-1", Point(40.7, -74.0), DriverStatus.AVAILABLE)
    drivers.register("d-2", Point(40.7, -74.0), DriverStatus.AVAILABLE)
    assert drivers.claim_route("d-1", [("o-1", 12), ("o-2", 20)])
    app = app_over(InMemoryOrderStore(), ManualClock(T0), drivers=drivers)

    body = {"now": "2026-01-15T12:00:05Z", "routesOf": ["d-1", "d-2", "d-9"]}
    moved = call(app, "PUT", "/clock", json=body)

    assert moved.json()["routes"] == {
        "d-1": [{"orderId": "o-1", "eta": 12}, {"orderId": "o-2", "eta": 20}],
        "d-2": [],
    }


def test_put_clock_reports_the_routes_of_the_drivers_its_answers_assigned_when_asked() -> None:
    drivers = InMemoryDriverIndex()
    for driver_id in ("d-1", "d-2"):
        drivers.register(driver_id, Point(40.7, -74.0), DriverStatus.AVAILABLE)
    bus = InProcessBus()

    def assign(request: Delivery) -> None:  # a decision giving o-N to d-N
        payload = json.loads(request.value or b"{}")
        driver_id = payload["orderId"].replace("o-", "d-")
        assert drivers.claim_route(driver_id, [(payload["orderId"], 9)])
        assigned = DriverAssigned(payload["orderId"], driver_id, 9, T0)
        bus.publish(answer(assigned, payload["eventId"], T0))

    bus.subscribe(REQUEST_TOPIC_PATTERN, assign)
    app = app_over(InMemoryOrderStore(), ManualClock(T0), drivers=drivers, bus=bus)
    placed = [{"placed": sample_order() | {"orderId": o}} for o in ("o-1", "o-2")]

    plain = call(app, "PUT", "/clock", json={"now": "2026-01-15T12:00:01Z", "events": placed[:1]})
    body = {"now": "2026-01-15T12:00:02Z", "events": placed[1:], "routesOfAssigned": True}
    asked = call(app, "PUT", "/clock", json=body)

    assert [a["driverId"] for a in plain.json()["applied"]] == ["d-1"]
    assert plain.json()["routes"] == {}
    assert [a["driverId"] for a in asked.json()["applied"]] == ["d-2"]
    assert asked.json()["routes"] == {"d-2": [{"orderId": "o-2", "eta": 9}]}


def test_an_unreachable_store_is_503_with_retry_after() -> None:
    app = app_over(_DownStore(), lambda: T0)

    response = call(app, "GET", "/orders/o-1")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert "send the order again" in response.json()["detail"]


def _responses(schema: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    responses: dict[str, Any] = schema["paths"][path][method]["responses"]
    return responses


def test_openapi_documents_the_order_and_every_refusal() -> None:
    schema = app_over(InMemoryOrderStore(), lambda: T0).openapi()

    placing = _responses(schema, "post", "/orders")
    order_ref = "#/components/schemas/OrderOut"
    assert placing["201"]["content"]["application/json"]["schema"]["$ref"] == order_ref
    for code in ("402", "409", "413", "429", "503"):
        problem = placing[code]["content"]["application/json"]["schema"]["$ref"]
        assert problem == "#/components/schemas/Problem", code
    assert {"404", "503"} <= set(_responses(schema, "get", "/orders/{order_id}"))
    for move in ("picked-up", "delivered"):
        assert {"404", "409", "503"} <= set(
            _responses(schema, "post", f"/orders/{{order_id}}/{move}")
        )
    assert set(_responses(schema, "put", "/clock")) >= {"200", "404"}


def test_the_example_order_is_valid_and_money_is_a_number_or_a_string() -> None:
    schemas = app_over(InMemoryOrderStore(), lambda: T0).openapi()["components"]["schemas"]
    (example,) = schemas["OrderIn"]["examples"]
    assert OrderIn.model_validate(example).to_new_order().total_amount == 34.97
    written = {
        option["type"] for option in schemas["OrderIn"]["properties"]["totalAmount"]["anyOf"]
    }
    assert written == {"number", "string"}
    assert schemas["OrderOut"]["properties"]["totalAmount"]["type"] == "number"
    assert schemas["OrderOut"]["examples"][0]["driverId"] == EXAMPLE_ANSWER["driverId"]
    checked = OrderOut.model_validate(EXAMPLE_ANSWER).model_dump(mode="json", by_alias=True)
    assert checked == EXAMPLE_ANSWER


def test_the_placed_order_is_what_the_documented_model_says() -> None:
    app = app_over(InMemoryOrderStore(), lambda: T0)
    placed = call(app, "POST", "/orders", json=sample_order() | {"totalAmount": "34.95"}).json()
    assert OrderOut.model_validate(placed).model_dump(mode="json", by_alias=True) == placed
    assert placed["totalAmount"] == 34.95
