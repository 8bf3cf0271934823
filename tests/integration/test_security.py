"""API keys, per-customer rate limits and body limits on the real services.

Each test starts the services it needs on its own broker, database and Redis prefix;
the last one runs the whole flow through Kafka with keys required everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from swifteats.check_flow import run_check_flow, sample_order
from swifteats.client import SwiftEatsClient
from swifteats.launcher import ServiceProcess
from tests.integration.helpers import Deployment

pytestmark = [
    pytest.mark.kafka,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.usefixtures("kafka"),
]

OPEN_WARNING = "no API keys configured"


def bearer(key: SecretStr) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.get_secret_value()}"}


def order(order_id: str, customer_id: str) -> dict[str, Any]:
    return {**sample_order(customer_id), "orderId": order_id}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def assert_refused(response: httpx.Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    assert reason in response.json()["detail"]
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="swifteats"')


def test_every_write_needs_the_key_health_and_stats_do_not(
    secured_deployment: Deployment, api_key: SecretStr, http: httpx.Client
) -> None:
    orders = secured_deployment.start("order-service").url  # waits for /health: 200
    drivers = secured_deployment.start("assignment-service").url
    location = {"latitude": 40.71, "longitude": -74.0}
    driver = {"driverId": "d1", **location}
    writes = [
        ("POST", f"{orders}/orders", order("o-auth", "c-auth")),
        ("PUT", f"{orders}/clock", {"now": "2024-01-15T10:30:00Z"}),
        ("POST", f"{orders}/orders/o-auth/picked-up", None),
        ("POST", f"{orders}/orders/o-auth/delivered", None),
        ("POST", f"{drivers}/drivers", driver),
        ("PUT", f"{drivers}/drivers/d1/location", location),
        ("PUT", f"{drivers}/drivers/d1/status", {"status": "offline"}),
    ]

    for method, url, body in writes:
        assert_refused(http.request(method, url, json=body), "missing API key")
        wrong = {"X-API-Key": "test-key-not-the-right-one"}
        assert_refused(http.request(method, url, json=body, headers=wrong), "invalid API key")

    placed = http.post(f"{orders}/orders", json=order("o-auth", "c-auth"), headers=bearer(api_key))
    registered = http.post(
        f"{drivers}/drivers", json=driver, headers={"X-API-Key": api_key.get_secret_value()}
    )
    assert placed.status_code == 201, placed.text
    assert registered.status_code == 201, registered.text
    assert http.get(f"{orders}/orders/o-auth").status_code == 401
    assert http.get(f"{orders}/orders/o-auth", headers=bearer(api_key)).status_code == 200
    for url in (orders, drivers):
        assert http.get(f"{url}/health").status_code == 200
        assert http.get(f"{url}/stats").status_code == 200
        assert http.get(f"{url}/metrics").status_code == 200


def test_one_customer_is_throttled_while_another_still_orders(
    secured_deployment: Deployment, api_key: SecretStr, http: httpx.Client
) -> None:
    orders = secured_deployment.start(
        "order-service",
        wait_healthy=False,
        SWIFTEATS_ORDER_BURST="2",
        SWIFTEATS_ORDER_RATE_PER_S="0.01",  # one order per 100 s once the burst is spent
    ).url

    def place(order_id: str, customer_id: str) -> httpx.Response:
        body = order(order_id, customer_id)
        return http.post(f"{orders}/orders", json=body, headers=bearer(api_key))

    greedy = [place(f"o-greedy-{i}", "c-greedy") for i in range(3)]
    other = place("o-other", "c-other")

    assert [r.status_code for r in greedy] == [201, 201, 429]
    refused = greedy[2]
    assert "c-greedy" in refused.json()["detail"]
    assert refused.headers["Retry-After"].isdigit()
    assert 90 <= int(refused.headers["Retry-After"]) <= 100
    assert other.status_code == 201, other.text
    not_placed = http.get(f"{orders}/orders/o-greedy-2", headers=bearer(api_key))
    assert not_placed.status_code == 404


def test_bodies_over_the_limit_are_refused_declared_or_streamed(
    secured_deployment: Deployment, api_key: SecretStr, http: httpx.Client
) -> None:
    orders = secured_deployment.start(
        "order-service", wait_healthy=False, SWIFTEATS_MAX_BODY_BYTES="4096"
    ).url
    drivers = secured_deployment.start("assignment-service", wait_healthy=False).url
    big = order("o-big", "c-big")
    big["items"] = [{"name": "x" * 150, "quantity": 1, "unitPrice": 1.0}] * 40
    big["totalAmount"] = 40.0
    encoded = json.dumps(big).encode()
    headers = {**bearer(api_key), "Content-Type": "application/json"}

    declared = http.post(f"{orders}/orders", content=encoded, headers=headers)
    streamed = http.post(
        f"{orders}/orders", content=iter([encoded[:2000], encoded[2000:]]), headers=headers
    )
    default_limit = http.post(f"{drivers}/drivers", content=b" " * 70_000 + b"{}", headers=headers)

    assert len(encoded) > 4096
    assert streamed.request.headers["Transfer-Encoding"] == "chunked"
    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert "larger than 4096 bytes" in response.json()["detail"]
    assert default_limit.status_code == 413
    assert "larger than 65536 bytes" in default_limit.json()["detail"]
    assert http.get(f"{orders}/orders/o-big", headers=bearer(api_key)).status_code == 404
    small = http.post(f"{orders}/orders", json=order("o-small", "c-big"), headers=bearer(api_key))
    assert small.status_code == 201


def test_open_services_warn_once_and_secured_ones_never_log_the_key(
    deployment: Deployment, api_key: SecretStr
) -> None:
    open_service = deployment.start("assignment-service", wait_healthy=False)
    secured = deployment.start(
        "assignment-service", wait_healthy=False, SWIFTEATS_API_KEYS=api_key.get_secret_value()
    )
    for service in (open_service, secured):
        httpx.post(f"{service.url}/drivers", json={"bad": "body"}, headers=bearer(api_key))
        service.stop()

    assert log_of(open_service).count(OPEN_WARNING) == 1
    assert OPEN_WARNING not in log_of(secured)
    assert api_key.get_secret_value() not in log_of(secured)


def test_the_flow_runs_end_to_end_with_keys_required_everywhere(
    secured_deployment: Deployment, api_key: SecretStr
) -> None:
    secured_deployment.env["SWIFTEATS_PROTECT_OBSERVABILITY"] = "true"
    orders = secured_deployment.start("order-service")
    assignment = secured_deployment.start("assignment-service")

    with SwiftEatsClient(orders.url, assignment.url, api_key=api_key) as client:
        result = run_check_flow(client)
        stats = client.order_stats()

    assert result.order["status"] == "assigned_driver"
    assert stats["service"] == "order-service"
    assert httpx.get(f"{orders.url}/stats").status_code == 401
    assert httpx.get(f"{assignment.url}/metrics").status_code == 401
    assert httpx.get(f"{assignment.url}/health").status_code == 200
    for service in (orders, assignment):
        assert api_key.get_secret_value() not in log_of(service)


def log_of(service: ServiceProcess) -> str:
    return service.log.read_text(errors="replace")
