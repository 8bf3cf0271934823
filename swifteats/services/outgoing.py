"""An answer to publish, reading the JSON of an incoming message, and the dead letter of
one that cannot be handled, cut to fit Kafka's message size limit."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from swifteats.domain.bus import Outgoing
from swifteats.domain.clock import system_clock
from swifteats.domain.events import AssignmentResponse, format_instant, parse_instant
from swifteats.domain.topics import (
    CONSUMED_AT_HEADER,
    DECIDED_AT_HEADER,
    REQUEST_ID_HEADER,
    RESPONSES_TOPIC,
    dead_letter,
)

DEFAULT_MAX_MESSAGE_BYTES = 1_048_576
"""Kafka's default message size limit; the services use ``SWIFTEATS_KAFKA_MAX_MESSAGE_BYTES``."""
MAX_REASON_LENGTH = 2000
"""A dead letter's ``reason`` is cut to this many characters."""
MAX_KEY_LENGTH = 256
"""A dead letter's record key is cut to this many characters (it only picks a partition)."""
_MAX_HEADERS_BYTES = 4096
"""Original headers larger than this are left out of a dead letter."""
_HEADROOM = 1024
"""Bytes kept free under the limit for the record's key, headers and framing."""


def answer(response: AssignmentResponse, request_id: str | None, consumed_at: datetime) -> Outgoing:
    """An assignment response on the responses topic, with the request's event id, the
    wall-clock instant the request was consumed and the one it was decided as headers."""
    headers = {
        CONSUMED_AT_HEADER: format_instant(consumed_at),
        DECIDED_AT_HEADER: format_instant(system_clock()),
    }
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return Outgoing(RESPONSES_TOPIC, response.order_id, response.to_wire(), headers)


OVERSIZE_KEPT_BYTES = 4096
"""How much of an oversized message its dead letter keeps (the whole would not fit)."""


def oversize(raw: bytes, max_bytes: int | None) -> str | None:
    """Why ``raw`` is refused unread, when it is longer than ``max_bytes``; else None."""
    if max_bytes is None or len(raw) <= max_bytes:
        return None
    return (
        f"message of {len(raw)} bytes exceeds SWIFTEATS_KAFKA_MAX_MESSAGE_BYTES ({max_bytes}); "
        f"first {OVERSIZE_KEPT_BYTES} bytes kept"
    )


def decode_json(raw: bytes | None) -> tuple[Any, str | None]:
    """``(payload, None)`` for valid JSON, else ``(None, reason)``."""
    if raw is None:
        return None, "message has no value"
    try:
        return json.loads(raw), None
    except UnicodeDecodeError:
        return None, "message is not UTF-8"
    except RecursionError:
        return None, "message is nested too deeply"
    except ValueError as error:
        return None, f"message is not valid JSON: {error}"


Headers = list[tuple[str, bytes]]
"""A Kafka record's headers, as kafka-python gives them."""


def header(headers: Headers | None, name: str) -> str | None:
    """The value of a record header, decoded, or None."""
    for key, value in headers or []:
        if key == name and value is not None:
            return value.decode(errors="replace")
    return None


def header_instant(headers: Headers | None, name: str) -> datetime | None:
    """Header ``name`` as an instant; None when absent or not an ISO-8601 instant."""
    text = header(headers, name)
    if text is None:
        return None
    try:
        return parse_instant(text)
    except ValueError:
        return None


def dlq_key(key: str | None) -> str:
    """The record key of a dead letter: the original key, cut to :data:`MAX_KEY_LENGTH`."""
    return (key or "")[:MAX_KEY_LENGTH]


def fitted_dead_letter(
    *,
    reason: str,
    source_topic: str,
    raw: bytes | None,
    failed_at: datetime,
    order_id: str | None,
    max_bytes: int | None,
    headers: list[tuple[str, bytes]] | None = None,
    keep: int | None = None,
) -> dict[str, Any]:
    """The dead-letter envelope of ``raw``, no larger than ``max_bytes`` as JSON.

    The envelope (:func:`swifteats.domain.topics.dead_letter`) keeps the original bytes
    whole when they fit (and ``keep``, if given, is not smaller). When they do not, the
    decoded copy (``original``) is left out first; if that is not enough, the bytes are
    cut to what fits (at most ``keep``), ``originalTruncated`` is true and
    ``originalSize`` is the full length, so nobody reprocesses the stump. A publisher
    would refuse a message over the limit, and a dead letter that cannot be published
    would stop its consumer. Headers of the original (``originalHeaders``) are kept
    when small, so a reprocessed message carries them again. ``max_bytes`` None means
    :data:`DEFAULT_MAX_MESSAGE_BYTES`.
    """
    raw = raw or b""
    limit = (max_bytes or DEFAULT_MAX_MESSAGE_BYTES) - _HEADROOM
    whole = len(raw) <= limit and (keep is None or len(raw) <= keep)
    envelope = dead_letter(
        reason=reason[:MAX_REASON_LENGTH],
        source_topic=source_topic,
        raw=raw if whole else b"",
        failed_at=failed_at,
        order_id=order_id,
    )
    envelope.update(_original_headers(headers))
    if whole and _size(envelope) <= limit:
        return envelope
    envelope["original"] = None
    if whole and _size(envelope) <= limit:
        return envelope
    envelope.update(originalBase64="", originalTruncated=True, originalSize=len(raw))
    room = max(0, limit - _size(envelope)) // 4 * 3
    kept = room if keep is None else min(room, keep)
    envelope["originalBase64"] = base64.b64encode(raw[:kept]).decode("ascii")
    return envelope


def _original_headers(headers: list[tuple[str, bytes]] | None) -> dict[str, Any]:
    decoded = {
        name: value.decode(errors="replace")
        for name, value in headers or []
        if isinstance(name, str) and value is not None
    }
    if not decoded or _size(decoded) > _MAX_HEADERS_BYTES:
        return {}
    return {"originalHeaders": decoded}


def _size(value: object) -> int:
    """Bytes of ``value`` as :meth:`Outgoing.value` writes it (ASCII JSON)."""
    return len(json.dumps(value))
