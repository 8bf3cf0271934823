"""Fuzzing both HTTP APIs from their OpenAPI schema with Schemathesis, against the real
services (PostgreSQL, Redis, a private broker): valid and invalid requests alike never
get a 5xx, and every 4xx says why in a JSON ``detail``.

Each operation gets ``EXAMPLES`` valid and invalid requests. Problems are
collected over every operation rather than stopping at the first, each with a curl
command that reproduces it. Text no store can hold (NUL, lone surrogates), which the
generators rarely produce, is tried by hand.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from swifteats.check_flow import sample_order
from swifteats.domain.events import ID_PATTERN
from swifteats.settings import Settings
from tests.integration.helpers import Broker, Deployment

pytestmark = [pytest.mark.kafka, pytest.mark.redis, pytest.mark.postgres]

EXAMPLES = {GenerationMode.POSITIVE: 35, GenerationMode.NEGATIVE: 15}
"""Requests per operation: about 50, so both services are fuzzed in well under a minute."""


def problem_with(response: Any) -> str | None:
    """What is wrong with a response: a 5xx, or a 4xx without a JSON ``detail``."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.content[:300]!r}"
    if status < 400:
        return None
    try:
        detail = json.loads(response.content).get("detail")
    except (ValueError, AttributeError):
        return f"{status} without a JSON body: {response.content[:300]!r}"
    return None if detail else f"{status} without a detail: {response.content[:300]!r}"


def fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> list[str]:
    """Send ``EXAMPLES[mode]`` generated requests to one operation; the problems found."""
    problems: list[str] = []

    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        response = case.call(headers=headers, timeout=10)
        problem = problem_with(response)
        if problem is not None:
            problems.append(f"{case.as_curl_command(headers=headers)}\n  -> {problem}")

    try:
        send()
    except Unsatisfiable:
        assert mode is GenerationMode.NEGATIVE  # nothing to make invalid (no parameters)
    return problems


@pytest.mark.parametrize("command", ["order-service", "assignment-service"])
def test_generated_requests_get_no_5xx_and_every_4xx_a_reason(
    command: str, kafka: Broker, deployment: Deployment
) -> None:
    key = secrets.token_urlsafe(24)
    deployment.env["SWIFTEATS_API_KEYS"] = key  # the APIs as deployed: behind a key
    client_key = Settings(api_keys=key).client_api_key
    assert client_key is not None
    headers = {"Authorization": f"Bearer {client_key.get_secret_value()}"}
    service = deployment.start(command)
    schema = schemathesis.openapi.from_url(service.url + "/openapi.json")

    operations = [result.ok() for result in schema.get_all_operations()]
    problems = [
        problem
        for operation in operations
        for mode in EXAMPLES
        for problem in fuzz(operation, mode, headers)
    ]

    assert len(operations) >= 7
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:10])


def _post_json(url: str, body: dict[str, Any]) -> httpx.Response:
    """POST ``body`` as ASCII JSON, so lone surrogates travel as ``\\udXXX`` escapes."""
    return httpx.post(url, content=json.dumps(body), headers={"Content-Type": "application/json"})


UNSTORABLE_ORDER_TEXT = [
    {"customerId": "c\x00"},
    {"restaurantId": "r\x00"},
    {"orderId": "o\x00"},
    {"specialInstructions": "front door\x00"},
    {"items": [{"name": "pizza\x00", "quantity": 1, "unitPrice": 34.95}]},
]


def test_order_text_postgresql_cannot_store_gets_a_422_with_the_reason(
    kafka: Broker, deployment: Deployment
) -> None:
    orders = deployment.start("order-service")

    responses = [
        _post_json(orders.url + "/orders", sample_order() | changes)
        for changes in UNSTORABLE_ORDER_TEXT
    ]

    # Each was a 500: PostgreSQL text cannot hold NUL (nor do ids allow it).
    assert [r.status_code for r in responses] == [422] * len(UNSTORABLE_ORDER_TEXT)
    assert [problem_with(r) for r in responses] == [None] * len(UNSTORABLE_ORDER_TEXT)
    reasons = ["NUL" in r.text or json.dumps(ID_PATTERN)[1:-1] in r.text for r in responses]
    assert reasons == [True] * len(UNSTORABLE_ORDER_TEXT)


def test_ids_no_store_can_hold_get_a_4xx_with_the_reason(
    kafka: Broker, deployment: Deployment
) -> None:
    orders = deployment.start("order-service")
    assignment = deployment.start("assignment-service")

    responses = [
        httpx.get(orders.url + "/orders/o%00"),
        httpx.post(orders.url + "/orders/o%00/picked-up"),
        _post_json(orders.url + "/orders", sample_order() | {"customerId": "c\ud800"}),
        _post_json(
            assignment.url + "/drivers", {"driverId": "d\ud800", "latitude": 1, "longitude": 1}
        ),
    ]

    assert [problem_with(r) for r in responses] == [None] * len(responses)
