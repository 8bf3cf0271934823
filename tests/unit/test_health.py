"""/health: 503 "degraded" with the reason of each check that is down."""

from __future__ import annotations

import json

from swifteats.services.http import HEALTH_RESPONSES, Health, health_response, problem_check


def _body(response: object) -> dict[str, object]:
    return json.loads(bytes(response.body))  # type: ignore[attr-defined]


def test_every_check_up_is_200_without_reasons() -> None:
    response = health_response("svc", {"redis": lambda: True, "kafka": problem_check(lambda: None)})
    assert response.status_code == 200
    assert _body(response) == {
        "service": "svc",
        "status": "ok",
        "checks": {"redis": "ok", "kafka": "ok"},
    }


def test_a_check_down_is_503_degraded_with_its_reason() -> None:
    def broken() -> bool:
        raise ConnectionError("redis at 10.0.0.7:6379 refused")

    response = health_response(
        "svc",
        {
            "postgres": lambda: False,
            "redis": broken,
            "kafka": problem_check(lambda: "no partition of the 6 subscribed topic(s) for 40 s"),
        },
    )
    assert response.status_code == 503
    body = _body(response)
    assert body["status"] == "degraded"
    assert body["checks"] == {"postgres": "down", "redis": "down", "kafka": "down"}
    assert body["reasons"] == {
        "postgres": "check failed",
        "redis": "ConnectionError",  # no address on an open endpoint
        "kafka": "no partition of the 6 subscribed topic(s) for 40 s",
    }


def test_the_health_answers_are_what_the_documented_model_says() -> None:
    down = health_response("svc", {"redis": lambda: False})
    up = health_response("svc", {"redis": lambda: True})
    for response in (down, up):
        body = _body(response)
        assert Health.model_validate(body).model_dump(exclude_none=True) == body
    assert set(HEALTH_RESPONSES) == {200, 503}
