"""Applying assignment answers from ``driver_assignment.responses`` to orders."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import Clock
from swifteats.domain.events import (
    AssignmentResponse,
    InvalidMessageError,
    parse_assignment_response,
)
from swifteats.domain.order_rules import Enqueued, Outcome, ResponseContext
from swifteats.domain.topics import (
    CONSUMED_AT_HEADER,
    DECIDED_AT_HEADER,
    DLQ_TOPIC,
    REQUEST_ID_HEADER,
)
from swifteats.observability import ServiceMetrics
from swifteats.services.outgoing import (
    OVERSIZE_KEPT_BYTES,
    decode_json,
    fitted_dead_letter,
    header,
    header_instant,
    oversize,
)

log = logging.getLogger("swifteats.orders")

Headers = list[tuple[str, bytes]]

ApplyAnswer = Callable[[AssignmentResponse, ResponseContext], Outcome | None]
"""Applies a decoded answer to its order: the outcome, or None when no order has its id."""

ApplyAnswers = Callable[[list[tuple[AssignmentResponse, ResponseContext]]], list[Outcome | None]]
"""Applies decoded answers in turn, all in one go: :data:`ApplyAnswer` of each."""

Raw = tuple[bytes | None, str, Headers | None]
"""A response record: its value, topic and headers."""


class ResponseHandler:
    """Decodes one response and hands it to ``apply``; invalid ones and those for unknown
    orders go to the DLQ.

    Invalid means over ``max_message_bytes``, not JSON, or not a response of the design.
    Dead letters go to ``enqueue`` (the outbox: the same guarantees as events). An invalid
    success whose order and driver can still be read goes to ``refuse_claim`` too, so the
    driver it claimed is freed.
    """

    def __init__(
        self,
        apply: ApplyAnswer,
        enqueue: Callable[[Enqueued], None],
        refuse_claim: Callable[[str, str], None],
        *,
        clock: Clock,
        wall: Clock,
        metrics: ServiceMetrics,
        max_message_bytes: int | None = None,
    ) -> None:
        self._apply = apply
        self._enqueue = enqueue
        self._refuse_claim = refuse_claim
        self._clock = clock
        self._wall = wall
        self._metrics = metrics
        self._max_bytes = max_message_bytes

    def handle(self, raw: bytes | None, *, topic: str, headers: Headers | None) -> str:
        """What happened: ``assigned``, ``retry``, ``failed``, ``stale`` or ``dead_letter``."""
        decoded = self._decode(raw, topic, headers)
        if isinstance(decoded, str):
            return decoded
        return self._applied(self._apply(*decoded), decoded[0], raw, topic, headers)

    def handle_many(self, records: list[Raw], apply_many: ApplyAnswers) -> list[str]:
        """:meth:`handle` each record, the valid answers applied together by
        ``apply_many`` (one transaction); what happened to each, in turn."""
        decoded = [self._decode(raw, topic, headers) for raw, topic, headers in records]
        answers = [d for d in decoded if not isinstance(d, str)]
        outcomes = iter(apply_many(answers) if answers else [])
        return [
            d if isinstance(d, str) else self._applied(next(outcomes), d[0], *record)
            for d, record in zip(decoded, records, strict=True)
        ]

    def _decode(
        self, raw: bytes | None, topic: str, headers: Headers | None
    ) -> tuple[AssignmentResponse, ResponseContext] | str:
        """The answer and its context, or ``dead_letter`` once the record is sent there."""
        now = self._clock()
        if raw is not None and (too_big := oversize(raw, self._max_bytes)):
            return self._dead_letter(too_big, topic, raw, headers, None, now)
        payload, undecodable = decode_json(raw)
        if undecodable:
            return self._dead_letter(undecodable, topic, raw, headers, None, now)
        try:
            response = parse_assignment_response(payload)
        except InvalidMessageError as error:
            if error.order_id is not None and error.driver_id is not None:
                self._refuse_claim(error.order_id, error.driver_id)
            return self._dead_letter(error.reason, topic, raw, headers, error.order_id, now)
        context = ResponseContext(
            request_id=header(headers, REQUEST_ID_HEADER),
            request_consumed_at=header_instant(headers, CONSUMED_AT_HEADER),
            consumed_at=now,
            received_at=self._wall(),
            decided_at=header_instant(headers, DECIDED_AT_HEADER),
        )
        return response, context

    def _applied(
        self,
        outcome: Outcome | None,
        response: AssignmentResponse,
        raw: bytes | None,
        topic: str,
        headers: Headers | None,
    ) -> str:
        """Count and log an applied answer; one of no known order goes to the DLQ."""
        if outcome is None:
            reason = "unknown order"
            return self._dead_letter(reason, topic, raw, headers, response.order_id, self._clock())
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
        self._enqueue(Enqueued(Outgoing(DLQ_TOPIC, order_id or "", envelope), now))
        self._metrics.count("responses:dead_letter")
        return "dead_letter"
