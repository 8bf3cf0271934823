"""A driver holding an order stays booked: the driver API cannot make it available again,
and only an operator's audited release (or the order's delivery) frees it."""

from __future__ import annotations

import json

import httpx
import pytest

from swifteats.check_flow import RESTAURANT, sample_order
from swifteats.client import ServiceError, SwiftEatsClient
from tests.integration.helpers import Broker, Deployment, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]


def _assigned(client: SwiftEatsClient) -> str:
    placed = client.place_order(sample_order())
    client.wait_for_order(placed["orderId"], {"assigned_driver"}, timeout_s=30)
    return str(placed["orderId"])


def test_the_driver_api_cannot_double_book_a_busy_driver(
    client: SwiftEatsClient, kafka: Broker
) -> None:
    client.register_driver("d-one", *RESTAURANT)
    first = _assigned(client)

    status = httpx.put(
        f"{client.assignment_url}/drivers/d-one/status", json={"status": "available"}
    )
    again = httpx.post(
        f"{client.assignment_url}/drivers",
        json={"driverId": "d-one", "latitude": RESTAURANT[0], "longitude": RESTAURANT[1]},
    )
    for refused in (status, again):
        assert refused.status_code == 409
        assert refused.json()["detail"]["orderId"] == first
        assert refused.json()["detail"]["driverId"] == "d-one"
    held = client.get_driver("d-one")
    assert (held["status"], held["orderId"]) == ("busy", first)

    second = client.place_order(sample_order())
    failed = client.wait_for_order(second["orderId"], {"assignment_failed"}, timeout_s=30)
    assert failed["driverId"] is None

    client.deliver(first)
    assert client.get_driver("d-one")["status"] == "available"
    client.register_driver("d-one", *RESTAURANT)  # free again: re-registering is allowed


def test_an_operator_release_frees_a_driver_of_the_order_it_holds_only(
    client: SwiftEatsClient, kafka: Broker, deployment: Deployment
) -> None:
    client.register_driver("d-stuck", *RESTAURANT)
    order_id = _assigned(client)

    with pytest.raises(ServiceError, match="404"):
        client.release_driver("nobody", order_id)
    with pytest.raises(ServiceError, match="409") as other:
        client.release_driver("d-stuck", "another-order")
    assert json.loads(str(other.value).split(" ", 3)[3])["detail"]["orderId"] == order_id
    assert client.get_driver("d-stuck")["status"] == "busy"

    released = client.release_driver("d-stuck", order_id)

    assert (released["status"], released["orderId"]) == ("available", None)
    with pytest.raises(ServiceError, match="409"):
        client.release_driver("d-stuck", order_id)  # holds nothing any more
    stats = client.assignment_stats()
    assert (stats["driverReleases"], stats["driverReleasesRefused"]) == (1, 2)
    metrics = httpx.get(f"{client.assignment_url}/metrics").text
    assert 'kind="driver_releases"' in metrics
    (service,) = [s for s in deployment.services if s.command == "assignment-service"]
    wait_until(
        lambda: "driver released by an operator" in service.log.read_text(),
        timeout_s=10,
        what="the release in the service's log",
    )
    (audit,) = [
        json.loads(line)
        for line in service.log.read_text().splitlines()
        if "driver released by an operator" in line
    ]
    assert (audit["driverId"], audit["orderId"]) == ("d-stuck", order_id)
    assert audit["caller"]["client"] == "127.0.0.1"
