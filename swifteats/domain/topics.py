"""Topic names, message headers and the dead-letter envelope."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from swifteats.domain.events import format_instant

REQUEST_TOPIC_PREFIX = "driver_assignment.requests."
REQUEST_TOPIC_PATTERN = r"^driver_assignment\.requests\..+"
RESPONSES_TOPIC = "driver_assignment.responses"
DLQ_TOPIC = "driver_assignment.dlq"

REQUEST_ID_HEADER = "swifteats-request-id"
"""Header on a response: the ``eventId`` of the request it answers (stale answers are spotted)."""
CONSUMED_AT_HEADER = "swifteats-consumed-at"
"""Header on a response: when the Assignment Service read the request (wall clock)."""
PLACED_AT_HEADER = "swifteats-placed-at"
"""Header on a request: when its order was placed (business time); requests due at one
instant are decided oldest order first."""
DECIDED_AT_HEADER = "swifteats-decided-at"
"""Header on a response: when the Assignment Service decided (wall clock; the body's
``assignedAt``/``failedAt`` is the service's business time, simulated in a replay)."""


def request_topic(geo_key: str) -> str:
    """``driver_assignment.requests.{geoKey}``."""
    return REQUEST_TOPIC_PREFIX + geo_key


def dead_letter(
    *, reason: str, source_topic: str, raw: bytes, failed_at: datetime, order_id: str | None
) -> dict[str, Any]:
    """The DLQ message: why, where from, and the original bytes (as JSON when they are JSON)."""
    envelope: dict[str, Any] = {
        "reason": reason,
        "sourceTopic": source_topic,
        "orderId": order_id,
        "failedAt": format_instant(failed_at),
        "originalBase64": base64.b64encode(raw).decode("ascii"),
    }
    try:
        envelope["original"] = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        envelope["original"] = None
    return envelope
