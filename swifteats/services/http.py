"""HTTP pieces both services share: security wiring, health answers, Prometheus exposition."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.params import Depends as Dependency
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from swifteats.domain.drivers import RouteStops
from swifteats.domain.events import ID_PATTERN, text_problem
from swifteats.domain.geo import SEARCHABLE_LATITUDE, searchable_latitude
from swifteats.observability import ServiceMetrics
from swifteats.services.auth import UNAUTHORIZED, ApiKeys, api_key_guard
from swifteats.services.body_limit import BodySizeLimit
from swifteats.settings import Settings

Check = Callable[[], bool]
"""True when a dependency answers; False or an exception when not (``Unhealthy`` says why)."""


class Unhealthy(Exception):
    """Raised by a check to say why its dependency is down; ``/health`` shows the text."""


def problem_check(problem: Callable[[], str | None]) -> Check:
    """A check that is down, with the reason, whenever ``problem`` returns one."""

    def check() -> bool:
        reason = problem()
        if reason is not None:
            raise Unhealthy(reason)
        return True

    return check


TOO_LARGE: dict[int | str, dict[str, Any]] = {413: {"description": "request body too large"}}


@dataclass(frozen=True, slots=True)
class HttpSecurity:
    """How a service's HTTP API is guarded: API keys, body size, open or closed /stats."""

    require_key: Dependency
    """The dependency every guarded route lists (``dependencies=[require_key]``)."""
    protect_observability: bool
    max_body_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings, *, service: str) -> HttpSecurity:
        """From ``SWIFTEATS_API_KEYS``, ``_PROTECT_OBSERVABILITY`` and ``_MAX_BODY_BYTES``."""
        guard = api_key_guard(ApiKeys(settings.api_keys), service=service)
        return cls(Depends(guard), settings.protect_observability, settings.max_body_bytes)

    def app(self, title: str) -> FastAPI:
        """A FastAPI application whose request bodies are size-limited."""
        app = FastAPI(title=title, responses=TOO_LARGE)
        app.add_middleware(BodySizeLimit, max_bytes=self.max_body_bytes)
        app.add_exception_handler(RequestValidationError, _invalid_request)
        return app

    def router(self, **kwargs: Any) -> APIRouter:
        """A router whose every route needs a key."""
        return APIRouter(dependencies=[self.require_key], responses=UNAUTHORIZED, **kwargs)


def _invalid_request(_: Request, error: Exception) -> Response:
    """422 with FastAPI's reasons, as ASCII JSON: the echoed input may hold a lone surrogate,
    which UTF-8 cannot encode."""
    errors = error.errors() if isinstance(error, RequestValidationError) else []
    body = json.dumps({"detail": jsonable_encoder(errors)}, ensure_ascii=True, default=repr)
    return Response(body, status_code=422, media_type="application/json")


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(f"text {problem}")
    return value


def _searchable(latitude: float) -> float:
    if not searchable_latitude(latitude):
        raise ValueError(
            f"latitude must be within ±{SEARCHABLE_LATITUDE}: Redis GEO (Web Mercator) can "
            "neither index a position nor search around one beyond"
        )
    return latitude


Storable = AfterValidator(_storable)
"""Text PostgreSQL, Redis and Kafka can take (no NUL, no lone surrogate): else a 422 says why."""
StorableId = Annotated[str, Storable]
"""An id looked up by path: any text a store can hold, so a record stored under an id of
an earlier, laxer rule can still be read, picked up and delivered."""
NewId = Annotated[str, StringConstraints(strict=True, pattern=ID_PATTERN)]
"""An id a client gives a new order, customer, restaurant or driver: ``ID_PATTERN``, the
rule the messages' ids follow too."""
Latitude = Annotated[
    float,
    Field(
        strict=True,
        allow_inf_nan=False,
        json_schema_extra={"minimum": -SEARCHABLE_LATITUDE, "maximum": SEARCHABLE_LATITUDE},
    ),
    AfterValidator(_searchable),
]
"""A latitude Redis GEO can index, as a JSON number (an integer will do, not a boolean or
a string)."""
Longitude = Annotated[float, Field(strict=True, ge=-180, le=180, allow_inf_nan=False)]
"""A longitude, as a JSON number."""


class Health(BaseModel):
    """How a service and each of its dependencies are."""

    service: str
    status: Literal["ok", "degraded"]
    checks: dict[str, Literal["ok", "down"]]
    reasons: dict[str, str] | None = Field(None, description="why each check that is down is")


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Health, "description": "every dependency answers"},
    503: {"model": Health, "description": "degraded: a dependency is down (see reasons)"},
}


class Observable(Protocol):
    """A running service that can say how it is."""

    metrics: ServiceMetrics

    def health_checks(self) -> dict[str, Check]:
        """Named dependency checks."""
        ...

    def stats(self) -> dict[str, Any]:
        """The /stats body."""
        ...


def observability_routes(service: str, runtime: Observable, security: HttpSecurity) -> APIRouter:
    """``GET /health`` (always open), ``GET /stats`` and ``GET /metrics`` of a service."""
    router = APIRouter(tags=["observability"])
    guarded = security.router() if security.protect_observability else APIRouter()

    @router.get("/health", responses=HEALTH_RESPONSES)
    def health() -> Response:
        return health_response(service, runtime.health_checks())

    @guarded.get("/stats")
    def stats() -> dict[str, Any]:
        return runtime.stats()

    @guarded.get("/metrics")
    def metrics() -> Response:
        return metrics_response(runtime.metrics)

    router.include_router(guarded)
    return router


def health_response(service: str, checks: dict[str, Check]) -> JSONResponse:
    """200 when every dependency answers, else 503 "degraded"; each check's result in the
    body, and ``reasons`` for those down."""
    reasons = {name: _failure(check) for name, check in checks.items()}
    down = {name: reason for name, reason in reasons.items() if reason is not None}
    body: dict[str, Any] = {
        "service": service,
        "status": "degraded" if down else "ok",
        "checks": {name: "down" if name in down else "ok" for name in checks},
    }
    if down:
        body["reasons"] = down
    return JSONResponse(body, status_code=503 if down else 200)


def metrics_response(metrics: ServiceMetrics) -> Response:
    """The Prometheus text exposition of a service's registry."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _failure(check: Check) -> str | None:
    """Why ``check`` failed, or None; an unexpected error shows only its type (no details
    such as addresses on an open endpoint)."""
    try:
        return None if check() else "check failed"
    except Unhealthy as unhealthy:
        return str(unhealthy)
    except Exception as error:
        return type(error).__name__


class RouteStop(BaseModel):
    """An order a driver holds, and its ETA in minutes."""

    order_id: str = Field(alias="orderId")
    eta: int


def routes_json(routes: dict[str, RouteStops]) -> dict[str, list[dict[str, Any]]]:
    """Drivers' routes as both services answer them: per driver, each order it holds in
    drop-off order, with its ETA."""
    return {
        driver_id: [{"orderId": order_id, "eta": eta} for order_id, eta in route]
        for driver_id, route in routes.items()
    }
