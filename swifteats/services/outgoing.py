"""A message a handler wants published, and reading the JSON of an incoming one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish: topic, key, JSON body and string headers."""

    topic: str
    key: str
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def value(self) -> bytes:
        """The body as UTF-8 JSON."""
        return json.dumps(self.payload).encode()


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


def header(headers: list[tuple[str, bytes]] | None, name: str) -> str | None:
    """The value of a record header, decoded, or None."""
    for key, value in headers or []:
        if key == name and value is not None:
            return value.decode(errors="replace")
    return None
