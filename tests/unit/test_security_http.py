"""API keys, open or closed /stats and the body size limit, on an app wired like the services."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, SecretStr

from swifteats.observability import ServiceMetrics
from swifteats.services import auth
from swifteats.services.auth import ApiKeys
from swifteats.services.http import Check, HttpSecurity, observability_routes
from swifteats.settings import Settings

KEY = "k-0123456789abcdef"
OTHER_KEY = "k-fedcba9876543210"


class Body(BaseModel):
    text: str


class Runtime:
    """Observable enough for the observability routes."""

    metrics = ServiceMetrics("test")

    def health_checks(self) -> dict[str, Check]:
        return {"self": lambda: True}

    def stats(self) -> dict[str, Any]:
        return {"service": "test"}


def app_with(**settings: Any) -> FastAPI:
    """A guarded ``POST /echo`` plus the observability routes, as the services wire them."""
    security = HttpSecurity.from_settings(Settings(**settings), service="test")
    app = security.app("test")
    router = security.router()

    @router.post("/echo")
    def echo(body: Body) -> dict[str, str]:
        return {"text": body.text}

    app.include_router(router)
    app.include_router(observability_routes("test", Runtime(), security))
    return app


def call(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.request(method, path, **kwargs)

    return asyncio.run(send())


@pytest.fixture
def secured() -> FastAPI:
    return app_with(api_keys=f"{KEY},{OTHER_KEY}")


def test_without_a_key_a_write_is_refused_with_the_reason_and_a_challenge(
    secured: FastAPI,
) -> None:
    response = call(secured, "POST", "/echo", json={"text": "hi"})

    assert response.status_code == 401
    assert "missing API key" in response.json()["detail"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="swifteats"'


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer k-wrong-wrong-wrong"},
        {"X-API-Key": "k-wrong-wrong-wrong"},
        {"Authorization": f"Bearer {KEY}x"},
        {"Authorization": f"Bearer {KEY[:-1]}"},
    ],
)
def test_a_wrong_key_is_refused_as_invalid(secured: FastAPI, headers: dict[str, str]) -> None:
    response = call(secured, "POST", "/echo", json={"text": "hi"}, headers=headers)

    assert response.status_code == 401
    assert response.json()["detail"] == "invalid API key"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}"},
        {"Authorization": f"bearer {OTHER_KEY}"},
        {"X-API-Key": OTHER_KEY},
    ],
)
def test_any_configured_key_works_as_bearer_token_or_header(
    secured: FastAPI, headers: dict[str, str]
) -> None:
    response = call(secured, "POST", "/echo", json={"text": "hi"}, headers=headers)

    assert response.status_code == 200
    assert response.json() == {"text": "hi"}


def test_health_is_always_open_and_stats_open_by_default(secured: FastAPI) -> None:
    assert call(secured, "GET", "/health").status_code == 200
    assert call(secured, "GET", "/stats").status_code == 200
    assert call(secured, "GET", "/metrics").status_code == 200


def test_stats_and_metrics_need_the_key_when_protected() -> None:
    app = app_with(api_keys=KEY, protect_observability=True)

    assert call(app, "GET", "/health").status_code == 200
    assert call(app, "GET", "/stats").status_code == 401
    assert call(app, "GET", "/metrics").status_code == 401
    assert call(app, "GET", "/stats", headers={"X-API-Key": KEY}).status_code == 200


def test_without_keys_everything_is_open_and_one_warning_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="swifteats.auth"):
        app = app_with()
        responses = [call(app, "POST", "/echo", json={"text": "hi"}) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1
    assert "no API keys configured" in warnings[0]


def test_with_keys_nothing_is_logged_and_no_key_shows_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        app = app_with(api_keys=KEY)
        call(app, "POST", "/echo", json={"text": "hi"}, headers={"X-API-Key": OTHER_KEY})
        call(app, "POST", "/echo", json={"text": "hi"}, headers={"X-API-Key": KEY})

    assert not [r for r in caplog.records if r.name == "swifteats.auth"]
    assert KEY not in caplog.text
    assert OTHER_KEY not in caplog.text


def test_every_key_is_compared_in_constant_time_whichever_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[bytes, bytes]] = []

    def compare_digest(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(auth.hmac, "compare_digest", compare_digest)
    keys = ApiKeys([SecretStr(KEY), SecretStr(OTHER_KEY), SecretStr("k-third-key-00000")])

    for presented, expected in ((KEY, True), ("k-nothing-matches", False), (OTHER_KEY, True)):
        compared.clear()
        assert keys.accepts(presented) is expected
        assert len(compared) == 3  # no early exit on a match
        assert {len(a) for a, _ in compared} == {32}  # digests: lengths leak nothing


def test_a_declared_body_over_the_limit_is_refused_before_parsing() -> None:
    app = app_with(api_keys=KEY, max_body_bytes=100)
    headers = {"X-API-Key": KEY}

    small = call(app, "POST", "/echo", json={"text": "a" * 50}, headers=headers)
    big = call(app, "POST", "/echo", content=b"not even json" * 10, headers=headers)

    assert small.status_code == 200
    assert big.status_code == 413
    assert "larger than 100 bytes" in big.json()["detail"]


def test_a_streamed_body_is_refused_once_it_passes_the_limit() -> None:
    app = app_with(api_keys=KEY, max_body_bytes=100)

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"a" * 20
        yield b'"}'

    headers = {"X-API-Key": KEY, "Content-Type": "application/json"}
    response = call(app, "POST", "/echo", content=chunks(), headers=headers)

    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 413
    assert "SWIFTEATS_MAX_BODY_BYTES" in response.json()["detail"]


def test_the_body_limit_comes_before_the_key() -> None:
    app = app_with(api_keys=KEY, max_body_bytes=100)

    assert call(app, "POST", "/echo", content=b"x" * 101).status_code == 413


def test_a_key_fingerprint_tells_keys_apart_without_showing_them() -> None:
    bearer = auth.key_fingerprint({"authorization": f"Bearer {KEY}"})
    header = auth.key_fingerprint({auth.API_KEY_HEADER: KEY})
    other = auth.key_fingerprint({"authorization": f"bearer {OTHER_KEY}"})
    assert bearer is not None and other is not None
    assert bearer == header != other
    assert len(bearer) == 12 and KEY not in bearer
    assert auth.key_fingerprint({}) is None
    assert auth.key_fingerprint({"authorization": "Basic xyz"}) is None
