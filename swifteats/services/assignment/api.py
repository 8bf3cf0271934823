"""HTTP routes of the Driver Assignment Service: drivers, health, stats, metrics."""

from __future__ import annotations

import logging
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from swifteats.domain.clock import Clock
from swifteats.domain.drivers import (
    DriverHoldsOrderError,
    DriverIndex,
    DriverRecord,
    UnknownDriverError,
    UnreadableDriverError,
)
from swifteats.domain.events import MAX_ID_LENGTH, format_instant
from swifteats.domain.geo import SEARCHABLE_LATITUDE, Point
from swifteats.services.assignment.clock_api import decision_routes
from swifteats.services.assignment.core import AssignmentCore
from swifteats.services.assignment.schemas import DriverIn, DriverOut, Location, RoutesIn, StatusIn
from swifteats.services.assignment.shifts import register
from swifteats.services.auth import key_fingerprint
from swifteats.services.http import (
    HttpSecurity,
    Observable,
    StorableId,
    observability_routes,
    routes_json,
)

log = logging.getLogger("swifteats.assignment")


class AssignmentRuntime(Observable, Protocol):
    """What the routes need of the running service."""

    drivers: DriverIndex
    core: AssignmentCore
    clock: Clock


def driver_json(driver: DriverRecord) -> dict[str, Any]:
    """A driver as the API shows it."""
    return {
        "driverId": driver.driver_id,
        "latitude": driver.location.latitude,
        "longitude": driver.location.longitude,
        "status": driver.status.value,
        "orderId": driver.order_id,
        "shiftEndsAt": format_instant(driver.shift_ends_at) if driver.shift_ends_at else None,
        "route": [{"orderId": order_id, "eta": eta} for order_id, eta in driver.route],
        "availableSince": (
            format_instant(driver.available_since) if driver.available_since else None
        ),
    }


def build_api(runtime: AssignmentRuntime, security: HttpSecurity) -> FastAPI:
    """The FastAPI application of the Driver Assignment Service."""
    app = security.app("swifteats Driver Assignment Service")
    app.add_exception_handler(UnreadableDriverError, _unreadable)
    app.include_router(_driver_routes(runtime, security))
    app.include_router(decision_routes(runtime.core, drivers=runtime.drivers, security=security))
    app.include_router(observability_routes("driver-assignment", runtime, security))
    return app


def _unreadable(_: Request, error: Exception) -> JSONResponse:
    """409: the driver's stored record cannot be read; registering it again replaces it."""
    return JSONResponse({"detail": str(error)}, status_code=409)


_UNKNOWN: dict[int | str, dict[str, Any]] = {404: {"description": "no such driver"}}
_HOLDS_ORDER: dict[int | str, dict[str, Any]] = {
    409: {"description": "the driver holds an order (``detail.orderId``)"}
}


_CHANGES = _UNKNOWN | _HOLDS_ORDER


def _holds_order(driver_id: str, order_id: str | None, error: str) -> HTTPException:
    """409: what the driver holds, so the caller can deliver or release that order."""
    return HTTPException(409, {"error": error, "driverId": driver_id, "orderId": order_id})


def _refused(held: DriverHoldsOrderError) -> HTTPException:
    error = f"driver holds order {held.order_id!r}: deliver or release it first"
    return _holds_order(held.driver_id, held.order_id, error)


def _caller(request: Request) -> dict[str, str | None]:
    """Who asked, as far as the service can tell: address, proxy chain, key fingerprint."""
    return {
        "client": request.client.host if request.client else None,
        "forwardedFor": request.headers.get("x-forwarded-for"),
        "userAgent": request.headers.get("user-agent"),
        "apiKey": key_fingerprint(request.headers),
    }


def _driver_routes(runtime: AssignmentRuntime, security: HttpSecurity) -> APIRouter:
    router = security.router(prefix="/drivers", tags=["drivers"])
    drivers = runtime.drivers

    def known(driver_id: str) -> DriverRecord:
        driver = drivers.get(driver_id)
        if driver is None:
            raise HTTPException(404, f"driver {driver_id!r} is not registered")
        return driver

    @router.post("", status_code=201, response_model=DriverOut, responses=_HOLDS_ORDER)
    def register_driver(body: DriverIn) -> dict[str, Any]:
        try:
            register(drivers, body, runtime.clock())
        except DriverHoldsOrderError as held:
            raise _refused(held) from None
        return driver_json(known(body.driver_id))

    @router.put("/{driver_id}/location", response_model=DriverOut, responses=_UNKNOWN)
    def move(driver_id: StorableId, body: Location) -> dict[str, Any]:
        try:
            drivers.move(driver_id, Point(body.latitude, body.longitude))
        except UnknownDriverError:
            raise HTTPException(404, f"driver {driver_id!r} is not registered") from None
        return driver_json(known(driver_id))

    @router.put("/{driver_id}/status", response_model=DriverOut, responses=_CHANGES)
    def set_status(driver_id: StorableId, body: StatusIn) -> dict[str, Any]:
        try:
            drivers.set_status(driver_id, body.status, runtime.clock())
        except UnknownDriverError:
            raise HTTPException(404, f"driver {driver_id!r} is not registered") from None
        except DriverHoldsOrderError as held:
            raise _refused(held) from None
        return driver_json(known(driver_id))

    @router.post("/{driver_id}/release", response_model=DriverOut, responses=_CHANGES)
    def release(
        driver_id: StorableId,
        order_id: Annotated[
            StorableId, Query(alias="orderId", min_length=1, max_length=MAX_ID_LENGTH)
        ],
        request: Request,
    ) -> dict[str, Any]:
        """An operator frees the driver of ``orderId``, only if it holds that order (it
        stays where it is); audited in the log and counted."""
        known(driver_id)
        fields = {"driverId": driver_id, "orderId": order_id, "caller": _caller(request)}
        if not drivers.release(driver_id, order_id, None, runtime.clock()):
            runtime.metrics.count("driver_releases_refused")
            log.warning("driver release refused", extra={"fields": fields})
            held = known(driver_id).order_id
            error = f"driver does not hold order {order_id!r}"
            raise _holds_order(driver_id, held, error)
        runtime.metrics.count("driver_releases")
        log.warning("driver released by an operator", extra={"fields": fields})
        return driver_json(known(driver_id))

    @router.post("/routes")
    def routes(body: RoutesIn) -> dict[str, Any]:
        """The orders each driver holds, in drop-off order with their ETAs (unknown
        drivers left out): one call for every route a replay's instant needs."""
        found = {d: drivers.get(d) for d in dict.fromkeys(body.driver_ids)}
        return {"routes": routes_json({d: r.route for d, r in found.items() if r is not None})}

    @router.get("/{driver_id}", response_model=DriverOut, responses=_UNKNOWN)
    def get_one(driver_id: StorableId) -> dict[str, Any]:
        return driver_json(known(driver_id))

    @router.get("", response_model=list[DriverOut])
    def nearby(
        latitude: Annotated[float, Query(ge=-SEARCHABLE_LATITUDE, le=SEARCHABLE_LATITUDE)],
        longitude: Annotated[float, Query(ge=-180, le=180)],
        radius: Annotated[float, Query(gt=0, le=500)] = 5.0,
    ) -> list[dict[str, Any]]:
        return [driver_json(d) for d in drivers.search(Point(latitude, longitude), radius)]

    return router
