"""HTTP pieces both services share: health answers and Prometheus exposition."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from swifteats.observability import ServiceMetrics

Check = Callable[[], bool]


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
