"""One request message in, one response (or dead letter) out."""

from __future__ import annotations

import logging
from dataclasses import replace

from swifteats.domain.assignment import Assigner
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock, system_clock
from swifteats.domain.events import (
    UNKNOWN_INSTANT,
    InvalidMessageError,
    parse_assignment_requested,
    wire_text,
)
from swifteats.domain.topics import DLQ_TOPIC, PLACED_AT_HEADER
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.decisions import Arrival, HeldStep, OneRequest
from swifteats.services.outgoing import (
    OVERSIZE_KEPT_BYTES,
    Headers,
    decode_json,
    dlq_key,
    fitted_dead_letter,
    header_instant,
    oversize,
)

log = logging.getLogger("swifteats.assignment")


class RequestHandler:
    """Decodes a request and decides it at once (:class:`OneRequest`), or holds it.

    With a ``held`` step (a windowed policy, or an external decision clock), a valid
    request is held for the step's next decision instead, and answered then. A message
    over ``max_message_bytes``, one that is not JSON and one without a usable ``orderId``
    go to the DLQ; any other invalid request gets a failure response with the reason.
    """

    def __init__(
        self,
        decide: OneRequest,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        max_message_bytes: int | None = None,
        held: HeldStep | None = None,
    ) -> None:
        self._decide = decide
        self._held = held
        self._clock = clock
        self._metrics = metrics
        self._max_bytes = max_message_bytes
        self.held_order: str | None = None
        """The order of the request the last :meth:`handle` held; None if it held none."""

    @classmethod
    def deciding(
        cls,
        assigner: Assigner,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        slow_ms: float,
        max_message_bytes: int | None = None,
    ) -> RequestHandler:
        """A handler that decides every request at once with ``assigner``."""
        one = OneRequest(assigner, clock=clock, metrics=metrics, slow_ms=slow_ms)
        return cls(one, clock=clock, metrics=metrics, max_message_bytes=max_message_bytes)

    def handle(
        self,
        raw: bytes | None,
        *,
        source_topic: str,
        key: str | None,
        headers: Headers | None = None,
    ) -> Outgoing | None:
        """The message to publish for this request (None: held for a window); bad input
        never raises."""
        self.held_order = None
        consumed_at = self._clock()
        received_at = system_clock()
        """The pipeline's stamp (wall clock); ``consumed_at`` is business time."""
        self._metrics.count("requests")
        if raw is not None and (too_big := oversize(raw, self._max_bytes)):
            return self.reject(raw, source_topic=source_topic, key=key, reason=too_big)
        payload, undecodable = decode_json(raw)
        if undecodable:
            return self.reject(raw, source_topic=source_topic, key=key, reason=undecodable)
        try:
            request = parse_assignment_requested(payload)
        except InvalidMessageError as error:
            if error.order_id is None:
                return self.reject(raw, source_topic=source_topic, key=key, reason=error.reason)
            return self._decide.failed(
                error.order_id, error.reason, _event_id(payload), received_at
            )
        if self._held is not None:
            if request.occurred_at == UNKNOWN_INSTANT:
                request = replace(request, occurred_at=consumed_at)
            placed_at = header_instant(headers, PLACED_AT_HEADER) or request.occurred_at
            self._held.hold(Arrival(request, consumed_at, received_at, placed_at))
            self.held_order = request.order_id
            return None
        return self._decide(request, received_at)

    def reject(
        self, raw: bytes | None, *, source_topic: str, key: str | None, reason: str
    ) -> Outgoing:
        """The dead letter of a request: ``reason`` and the original bytes, for the DLQ.

        The consumer loop calls this too, for a record whose handling kept raising.
        """
        self._metrics.count("dead_letters")
        log.warning("request sent to the DLQ: %s", reason[:200], extra={"fields": {"key": key}})
        envelope = fitted_dead_letter(
            reason=reason,
            source_topic=source_topic,
            raw=raw,
            failed_at=self._clock(),
            order_id=None,
            max_bytes=self._max_bytes,
            keep=OVERSIZE_KEPT_BYTES if oversize(raw or b"", self._max_bytes) else None,
        )
        return Outgoing(DLQ_TOPIC, dlq_key(key), envelope)


def _event_id(payload: object) -> str | None:
    return wire_text(payload.get("eventId")) if isinstance(payload, dict) else None
