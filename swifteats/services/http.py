"""HTTP pieces both services share: health answers and Prometheus exposition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from swifteats.observability import ServiceMetrics

Check = Callable[[], bool]


class Observable(Protocol):
    """A running service that can say how it is."""

    metrics: ServiceMetrics

    def health_checks(self) -> dict[str, Check]:
        """Named dependency checks."""
        ...

    def stats(self) -> dict[str, Any]:
        """The /stats body."""
        ...


def observability_routes(service: str, runtime: Observable) -> APIRouter:
    """``GET /health``, ``GET /stats`` and ``GET /metrics`` of a service."""
    router = APIRouter(tags=["observability"])

    @router.get("/health")
    def health() -> Response:
        return health_response(service, runtime.health_checks())

    @router.get("/stats")
    def stats() -> dict[str, Any]:
        return runtime.stats()

    @router.get("/metrics")
    def metrics() -> Response:
        return metrics_response(runtime.metrics)

    return router


def health_response(service: str, checks: dict[str, Check]) -> JSONResponse:
    """200 when every dependency answers, else 503; each check's result in the body."""
    results = {name: _safe(check) for name, check in checks.items()}
    healthy = all(results.values())
    body = {
        "service": service,
        "status": "ok" if healthy else "degraded",
        "checks": {name: "ok" if ok else "down" for name, ok in results.items()},
    }
    return JSONResponse(body, status_code=200 if healthy else 503)


def metrics_response(metrics: ServiceMetrics) -> Response:
    """The Prometheus text exposition of a service's registry."""
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _safe(check: Check) -> bool:
    try:
        return check()
    except Exception:
        return False
