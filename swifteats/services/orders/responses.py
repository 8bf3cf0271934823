"""Applying assignment answers from ``driver_assignment.responses`` to orders."""

from __future__ import annotations

import logging
from datetime import datetime

from swifteats.adapters.postgres.orders import OrderNotFoundError, OrderStore, ResponseContext
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.drivers import DriverIndex
from swifteats.domain.events import (
    AssignmentResponse,
    DriverAssigned,
    InvalidMessageError,
    parse_assignment_response,
    parse_instant,
)
from swifteats.domain.orders import OrderStatus, frees_refused_claim
from swifteats.domain.topics import CONSUMED_AT_HEADER, REQUEST_ID_HEADER
from swifteats.observability import ServiceMetrics
from swifteats.services.outgoing import (
    OVERSIZE_KEPT_BYTES,
    decode_json,
    fitted_dead_letter,
    header,
    oversize,
)

log = logging.getLogger("swifteats.orders")

Headers = list[tuple[str, bytes]]


class ResponseHandler:
    """Applies one response; invalid ones and those for unknown orders go to the DLQ.

    Invalid means over ``max_message_bytes``, not JSON, or not a response of the design.
    Dead letters are queued in the outbox (the same transaction guarantees as events).
    The driver a refused success answer claimed (dead-lettered, or stale for an order
    that ended otherwise) is freed where it is, if it still holds that order and the
    order does not hold it (:func:`~swifteats.domain.orders.frees_refused_claim`).
    """

    def __init__(
        self,
        store: OrderStore,
        *,
        drivers: DriverIndex,
        clock: Clock,
        metrics: ServiceMetrics,
        max_message_bytes: int | None = None,
    ) -> None:
        self._store = store
        self._drivers = drivers
        self._clock = clock
        self._metrics = metrics
        self._max_bytes = max_message_bytes

    def handle(self, raw: bytes | None, *, topic: str, headers: Headers | None) -> str:
        """What happened: ``assigned``, ``retry``, ``failed``, ``stale`` or ``dead_letter``."""
        now = self._clock()
        if raw is not None and (too_big := oversize(raw, self._max_bytes)):
            return self._dead_letter(too_big, topic, raw, headers, None, now)
        payload, undecodable = decode_json(raw)
        if undecodable:
            return self._dead_letter(undecodable, topic, raw, headers, None, now)
        try:
            response = parse_assignment_response(payload)
        except InvalidMessageError as error:
            self._free_refused_claim(error.order_id, error.driver_id, now, invalid=True)
            return self._dead_letter(error.reason, topic, raw, headers, error.order_id, now)
        context = ResponseContext(
            request_id=header(headers, REQUEST_ID_HEADER),
            request_consumed_at=_instant_or_none(header(headers, CONSUMED_AT_HEADER)),
            consumed_at=now,
            received_at=system_clock(),
        )
        try:
            outcome = self._store.apply_response(response, context)
        except OrderNotFoundError:
            self._free_refused_claim(response.order_id, _driver(response), now, invalid=False)
            return self._dead_letter("unknown order", topic, raw, headers, response.order_id, now)
        if outcome == "stale":
            self._free_refused_claim(response.order_id, _driver(response), now, invalid=False)
        self._metrics.count(f"responses:{outcome}")
        log.info(
            "response applied", extra={"fields": {"orderId": response.order_id, "outcome": outcome}}
        )
        return outcome

    def reject(self, raw: bytes | None, *, topic: str, headers: Headers | None, reason: str) -> str:
        """Queue the dead letter of a response (``reason``, the original bytes and headers).

        The consumer loop calls this for a record whose handling kept raising.
        """
        return self._dead_letter(reason, topic, raw, headers, None, self._clock())

    def _free_refused_claim(
        self, order_id: str | None, driver_id: str | None, now: datetime, *, invalid: bool
    ) -> None:
        """Free the driver a refused success answer claimed, where the rule allows it."""
        if order_id is None or driver_id is None:
            return
        try:
            order = self._store.get(order_id)
            status, holder = OrderStatus(order["status"]), order["driver_id"]
        except OrderNotFoundError:
            status, holder = None, None
        if not frees_refused_claim(status, holder, driver_id, invalid=invalid):
            return
        if self._drivers.release(driver_id, order_id, None, now):
            self._metrics.count("responses:driver_released")
            log.warning(
                "driver freed: the answer giving it this order was refused",
                extra={"fields": {"orderId": order_id, "driverId": driver_id, "order": status}},
            )

    def _dead_letter(
        self,
        reason: str,
        topic: str,
        raw: bytes | None,
        headers: Headers | None,
        order_id: str | None,
        now: datetime,
    ) -> str:
        log.warning(
            "response sent to the DLQ: %s", reason[:200], extra={"fields": {"orderId": order_id}}
        )
        envelope = fitted_dead_letter(
            reason=reason,
            source_topic=topic,
            raw=raw,
            failed_at=now,
            order_id=order_id,
            max_bytes=self._max_bytes,
            headers=headers,
            keep=OVERSIZE_KEPT_BYTES if oversize(raw or b"", self._max_bytes) else None,
        )
        self._store.dead_letter(envelope, key=order_id or "", now=now)
        self._metrics.count("responses:dead_letter")
        return "dead_letter"


def _driver(response: AssignmentResponse) -> str | None:
    """The driver a success answer claimed; None for a failure answer."""
    return response.driver_id if isinstance(response, DriverAssigned) else None


def _instant_or_none(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        return None
