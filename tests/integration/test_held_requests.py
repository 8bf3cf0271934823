"""Held requests outlive their process: a windowed Assignment Service killed with -9 while
it holds requests leaves their offsets uncommitted, so the process that takes over its
partitions reads them again and decides them within two windows, not after the Order
Service's answer timeout."""

from __future__ import annotations

import signal
import time

import pytest

from swifteats.check_flow import RESTAURANT, sample_order
from tests.integration.conftest import MakeClient
from tests.integration.helpers import Broker, Deployment, wait_until

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

WINDOW_S = 2.0


def test_requests_held_by_a_killed_service_are_decided_by_its_successor(
    kafka: Broker, deployment: Deployment, make_client: MakeClient
) -> None:
    orders = deployment.start("order-service", SWIFTEATS_ANSWER_TIMEOUT_S="600")
    policy = {"SWIFTEATS_POLICY": "batch-matching", "SWIFTEATS_POLICY_WINDOW_S": str(WINDOW_S)}
    first = deployment.start("assignment-service", **policy)
    client = make_client(orders.url, first.url)
    placed = [client.place_order(sample_order())["orderId"] for _ in range(3)]
    wait_until(
        lambda: client.assignment_stats()["heldRequests"] == 3,
        timeout_s=60,
        what="three requests held, no driver yet",
    )

    assert first.process is not None
    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=10)
    second = deployment.start("assignment-service", **policy)
    successor = make_client(orders.url, second.url)
    for i in range(3):
        successor.register_driver(f"d{i}", RESTAURANT[0] + 0.001 * (i + 1), RESTAURANT[1])
    wait_until(
        lambda: successor.assignment_stats()["assignedPartitions"] > 0,
        timeout_s=60,
        what="the successor took over the request partitions",
    )
    took_over = time.monotonic()

    for order_id in placed:
        order = successor.wait_for_order(order_id, {"assigned_driver"}, timeout_s=60)
        assert order["attempts"] == 1  # the first request, read again: no re-send
    # within two windows of owning the partitions (and a poll or two of slack)
    assert time.monotonic() - took_over <= 2 * WINDOW_S + 5
    assert {successor.get_order(o)["driverId"] for o in placed} == {"d0", "d1", "d2"}
    assert successor.assignment_stats()["requests"] >= 3
