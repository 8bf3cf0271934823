"""One request message in, one response (or dead letter) out."""

from __future__ import annotations

import logging
from datetime import datetime

from swifteats.domain.assignment import Assigner, Decision
from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.events import (
    AssignmentFailed,
    DriverAssigned,
    InvalidMessageError,
    parse_assignment_requested,
    wire_text,
)
from swifteats.domain.ranking import INTERNAL_ERROR
from swifteats.domain.topics import DLQ_TOPIC
from swifteats.observability import ServiceMetrics
from swifteats.services.assignment.windowed import WindowedStep
from swifteats.services.outgoing import (
    OVERSIZE_KEPT_BYTES,
    answer,
    decode_json,
    dlq_key,
    fitted_dead_letter,
    oversize,
)

log = logging.getLogger("swifteats.assignment")


class RequestHandler:
    """Decodes a request, lets the :class:`Assigner` decide, and shapes the answer.

    With a ``windowed`` step, a valid request is held for the step's next decision
    instead, and answered then. A message over ``max_message_bytes``, one that is not
    JSON and one without a usable ``orderId`` go to the DLQ; any other invalid request
    gets a failure response with the reason.
    """

    def __init__(
        self,
        assigner: Assigner,
        *,
        clock: Clock,
        metrics: ServiceMetrics,
        slow_ms: float,
        max_message_bytes: int | None = None,
        windowed: WindowedStep | None = None,
    ) -> None:
        self._assigner = assigner
        self._windowed = windowed
        self._clock = clock
        self._metrics = metrics
        self._slow_s = slow_ms / 1000
        self._max_bytes = max_message_bytes

    def handle(self, raw: bytes | None, *, source_topic: str, key: str | None) -> Outgoing | None:
        """The message to publish for this request (None: held for a window); bad input
        never raises."""
        consumed_at = self._clock()
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
            return self._failed(error.order_id, error.reason, _event_id(payload), consumed_at)
        if self._windowed is not None:
            self._windowed.hold(request, consumed_at)
            return None
        try:
            decision = self._assigner.assign(request)
        except Exception:
            log.exception("assignment of %s failed", request.order_id)
            return self._failed(request.order_id, INTERNAL_ERROR, request.event_id, consumed_at)
        self._record(decision)
        return answer(decision.response, request.event_id, consumed_at)

    def _record(self, decision: Decision) -> None:
        for stage, seconds in decision.timings.items():
            self._metrics.observe(stage, seconds)
        outcome = "assigned" if isinstance(decision.response, DriverAssigned) else "failed"
        self._metrics.count(outcome)
        if isinstance(decision.response, AssignmentFailed):
            self._metrics.count(f"failed:{decision.response.error}")
        slow = decision.timings["total"] > self._slow_s
        log.log(
            logging.WARNING if slow else logging.INFO,
            "slow assignment decision" if slow else "assignment decision",
            extra={"fields": decision.log_fields()},
        )

    def _failed(
        self, order_id: str, reason: str, request_id: str | None, consumed_at: datetime
    ) -> Outgoing:
        self._metrics.count("failed")
        self._metrics.count(f"failed:{reason}")
        return answer(AssignmentFailed(order_id, reason, self._clock()), request_id, consumed_at)

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
