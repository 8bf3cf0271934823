"""Applying assignment answers from ``driver_assignment.responses`` to orders."""

from __future__ import annotations

import logging
from datetime import datetime

from swifteats.adapters.postgres.orders import OrderNotFoundError, OrderStore, ResponseContext
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.events import InvalidMessageError, parse_assignment_response, parse_instant
from swifteats.domain.topics import CONSUMED_AT_HEADER, REQUEST_ID_HEADER, dead_letter
from swifteats.observability import ServiceMetrics
from swifteats.services.outgoing import decode_json, header

log = logging.getLogger("swifteats.orders")

Headers = list[tuple[str, bytes]]


class ResponseHandler:
    """Applies one response; undecodable ones and unknown orders go to the DLQ."""

    def __init__(self, store: OrderStore, *, clock: Clock, metrics: ServiceMetrics) -> None:
        self._store = store
        self._clock = clock
        self._metrics = metrics

    def handle(self, raw: bytes | None, *, topic: str, headers: Headers | None) -> str:
        """What happened: ``assigned``, ``retry``, ``failed``, ``stale`` or ``dead_letter``."""
        now = self._clock()
        payload, undecodable = decode_json(raw)
        if undecodable:
            return self._dead_letter(undecodable, topic, raw, None, now)
        try:
            response = parse_assignment_response(payload)
        except InvalidMessageError as error:
            return self._dead_letter(error.reason, topic, raw, error.order_id, now)
        context = ResponseContext(
            request_id=header(headers, REQUEST_ID_HEADER),
            request_consumed_at=_instant_or_none(header(headers, CONSUMED_AT_HEADER)),
            consumed_at=now,
            received_at=system_clock(),
        )
        try:
            outcome = self._store.apply_response(response, context)
        except OrderNotFoundError:
            return self._dead_letter("unknown order", topic, raw, response.order_id, now)
        self._metrics.count(f"responses:{outcome}")
        log.info(
            "response applied", extra={"fields": {"orderId": response.order_id, "outcome": outcome}}
        )
        return outcome

    def _dead_letter(
        self, reason: str, topic: str, raw: bytes | None, order_id: str | None, now: datetime
    ) -> str:
        log.warning("response sent to the DLQ: %s", reason, extra={"fields": {"orderId": order_id}})
        envelope = dead_letter(
            reason=reason, source_topic=topic, raw=raw or b"", failed_at=now, order_id=order_id
        )
        self._store.dead_letter(envelope, key=order_id or "", now=now)
        self._metrics.count("responses:dead_letter")
        return "dead_letter"


def _instant_or_none(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        return None
