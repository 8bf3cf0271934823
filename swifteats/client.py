"""HTTP clients of the two services, for the CLI, check-flow and the replay's fleet."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import httpx
from pydantic import SecretStr


class ServiceError(RuntimeError):
    """A service answered with an error status."""


class SwiftEatsClient:
    """Talks to the Order Service and the Driver Assignment Service.

    ``api_key`` (normally ``settings.client_api_key``) is sent as a bearer token with
    every request; without one the services must run open.
    """

    def __init__(
        self,
        orders_url: str,
        assignment_url: str,
        *,
        timeout_s: float = 10.0,
        api_key: SecretStr | None = None,
    ) -> None:
        self.orders_url = orders_url
        self.assignment_url = assignment_url
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"} if api_key else {}
        self._orders = httpx.Client(base_url=orders_url, timeout=timeout_s, headers=headers)
        self._assignment = httpx.Client(base_url=assignment_url, timeout=timeout_s, headers=headers)

    def __enter__(self) -> SwiftEatsClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close both connections."""
        self._orders.close()
        self._assignment.close()

    def register_driver(
        self,
        driver_id: str,
        latitude: float,
        longitude: float,
        status: str = "available",
        *,
        shift_ends_at: str | None = None,
        available_since: str | None = None,
    ) -> dict[str, Any]:
        """Register or re-register a driver (``shift_ends_at``, ``available_since``:
        ISO-8601 instants; the latter defaults to the service's now)."""
        body = driver_body(
            driver_id,
            latitude,
            longitude,
            status,
            shift_ends_at=shift_ends_at,
            available_since=available_since,
        )
        return _json(self._assignment.post("/drivers", json=body))

    def set_clock(
        self,
        instant: str,
        *,
        after_responses: int = 0,
        events: list[dict[str, Any]] | None = None,
        routes_of: list[str] | None = None,
        routes_of_assigned: bool = False,
    ) -> dict[str, Any]:
        """PUT /clock on an Order Service that runs on a simulated clock, once it has read
        ``after_responses`` responses in all, with the ``events`` of the instant (orders
        placed, picked up, delivered); what it published and applied, and the routes of the
        drivers in ``routes_of`` after the events (and, with ``routes_of_assigned``, of the
        drivers of the assignments it reports applied). ServiceError if an event was
        refused."""
        body = {
            "now": instant,
            "afterResponses": after_responses,
            "events": events or [],
            "routesOf": routes_of or [],
            "routesOfAssigned": routes_of_assigned,
        }
        report = _json(self._orders.put("/clock", json=body))
        _raise_refused("PUT /clock", events or [], report["events"])
        return report

    def driver_routes(self, driver_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The route each driver holds (``POST /drivers/routes``)."""
        answer = self._assignment.post("/drivers/routes", json={"driverIds": driver_ids})
        return cast(dict[str, list[dict[str, Any]]], _json(answer)["routes"])

    def decide(
        self, instant: str, *, after_requests: int, shifts: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """POST /decisions on an Assignment Service with an external decision clock, once
        it has read ``after_requests`` requests in all, after the ``shifts`` changes
        (``{"on": <POST /drivers body>}`` or ``{"off": driverId}``).
        ServiceError if a shift change was refused."""
        body = {"at": instant, "afterRequests": after_requests, "shifts": shifts or []}
        report = _json(self._assignment.post("/decisions", json=body))
        _raise_refused("POST /decisions", shifts or [], report["shifts"])
        return report

    def move_driver(self, driver_id: str, latitude: float, longitude: float) -> dict[str, Any]:
        """Update a driver's position."""
        body = {"latitude": latitude, "longitude": longitude}
        return _json(self._assignment.put(f"/drivers/{driver_id}/location", json=body))

    def set_driver_status(self, driver_id: str, status: str) -> dict[str, Any]:
        """Change a driver's status."""
        return _json(self._assignment.put(f"/drivers/{driver_id}/status", json={"status": status}))

    def release_driver(self, driver_id: str, order_id: str) -> dict[str, Any]:
        """Free a driver of the order it holds (an operator's audited release)."""
        release = self._assignment.post(
            f"/drivers/{driver_id}/release", params={"orderId": order_id}
        )
        return _json(release)

    def get_driver(self, driver_id: str) -> dict[str, Any]:
        """One driver."""
        return _json(self._assignment.get(f"/drivers/{driver_id}"))

    def nearby_drivers(
        self, latitude: float, longitude: float, radius_km: float
    ) -> list[dict[str, Any]]:
        """Drivers within ``radius_km``."""
        params = {"latitude": latitude, "longitude": longitude, "radius": radius_km}
        return cast(list[dict[str, Any]], _checked(self._assignment.get("/drivers", params=params)))

    def place_order(self, order: dict[str, Any]) -> dict[str, Any]:
        """POST /orders."""
        return _json(self._orders.post("/orders", json=order))

    def get_order(self, order_id: str) -> dict[str, Any]:
        """GET /orders/{id}."""
        return _json(self._orders.get(f"/orders/{order_id}"))

    def get_orders(self, order_ids: list[str]) -> list[dict[str, Any]]:
        """Many orders in one call (``POST /orders/lookup``); unknown ones left out."""
        found = self._orders.post("/orders/lookup", json={"orderIds": order_ids})
        return cast(list[dict[str, Any]], _json(found)["orders"])

    def pick_up(self, order_id: str) -> dict[str, Any]:
        """POST /orders/{id}/picked-up."""
        return _json(self._orders.post(f"/orders/{order_id}/picked-up"))

    def order_stats(self) -> dict[str, Any]:
        """The Order Service's /stats."""
        return _json(self._orders.get("/stats"))

    def assignment_stats(self) -> dict[str, Any]:
        """The Driver Assignment Service's /stats."""
        return _json(self._assignment.get("/stats"))

    def deliver(self, order_id: str) -> dict[str, Any]:
        """POST /orders/{id}/delivered: the driver is free again at the customer's door."""
        return _json(self._orders.post(f"/orders/{order_id}/delivered"))

    def wait_for_order(
        self, order_id: str, statuses: set[str], *, timeout_s: float
    ) -> dict[str, Any]:
        """Poll the order until its status is one of ``statuses``; raise TimeoutError."""
        return self._poll_order(order_id, lambda o: o["status"] in statuses, timeout_s)

    def wait_for_order_attempts(
        self, order_id: str, attempts: int, *, timeout_s: float
    ) -> dict[str, Any]:
        """Poll the order until it has made at least ``attempts`` assignment attempts."""
        return self._poll_order(order_id, lambda o: o["attempts"] >= attempts, timeout_s)

    def _poll_order(
        self, order_id: str, done: Callable[[dict[str, Any]], bool], timeout_s: float
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while True:
            order = self.get_order(order_id)
            if done(order):
                return order
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"order {order_id} still {order['status']} after {order['attempts']}"
                    f" attempts and {timeout_s}s"
                )
            time.sleep(0.05)


def _json(response: httpx.Response) -> dict[str, Any]:
    return cast(dict[str, Any], _checked(response))


def _checked(response: httpx.Response) -> Any:
    if response.is_error:
        raise ServiceError(
            f"{response.request.method} {response.request.url}: "
            f"{response.status_code} {response.text}"
        )
    return response.json()


def driver_body(
    driver_id: str,
    latitude: float,
    longitude: float,
    status: str = "available",
    *,
    shift_ends_at: str | None = None,
    available_since: str | None = None,
) -> dict[str, Any]:
    """``POST /drivers``'s body (also a shift change's ``on``)."""
    return {
        "driverId": driver_id,
        "latitude": latitude,
        "longitude": longitude,
        "status": status,
        "shiftEndsAt": shift_ends_at,
        "availableSince": available_since,
    }


def _raise_refused(call: str, sent: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    """ServiceError naming the first of ``sent`` whose result is not a 2xx status."""
    refused = [
        (item, result)
        for item, result in zip(sent, results, strict=True)
        if result["status"] >= 300
    ]
    if refused:
        raise ServiceError(f"{call}: {len(refused)} change(s) refused, first {refused[0]}")
