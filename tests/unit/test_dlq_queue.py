"""Dead letters read from DLQ records, without a broker: markers, refusals, rendering."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from swifteats.dlq.queue import DLQ_EVENT_HEADER, DeadLetter, collate
from swifteats.dlq.render import render_list, render_show, status, summary
from swifteats.domain.topics import RESPONSES_TOPIC
from swifteats.services.outgoing import fitted_dead_letter

AT = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
REQUESTS = "driver_assignment.requests.4_-7"


@dataclass
class Record:
    partition: int
    offset: int
    value: bytes | None
    key: bytes | None = b"k"
    timestamp: int = 1_768_478_400_000
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def _envelope(
    raw: bytes,
    *,
    topic: str = REQUESTS,
    max_bytes: int = 1_048_576,
    order_id: str | None = None,
) -> bytes:
    envelope = fitted_dead_letter(
        reason="message is not valid JSON",
        source_topic=topic,
        raw=raw,
        failed_at=AT,
        order_id=order_id,
        max_bytes=max_bytes,
    )
    return json.dumps(envelope).encode()


def _marker(letter_id: str, offset: int) -> Record:
    body = {
        "eventType": "DeadLetterReprocessed",
        "deadLetterId": letter_id,
        "topic": REQUESTS,
        "partition": 2,
        "offset": offset,
        "reprocessedAt": "2026-01-15T12:05:00.000Z",
    }
    return Record(
        1, offset, json.dumps(body).encode(), headers=[(DLQ_EVENT_HEADER, b"reprocessed")]
    )


def test_markers_attach_to_their_dead_letter_and_block_a_second_reprocessing() -> None:
    letters = collate(
        [
            Record(0, 0, _envelope(b"\xff{oops")),
            Record(0, 1, _envelope(b'{"a": 1}', topic=RESPONSES_TOPIC)),
            _marker("0:0", 7),
        ]
    )

    first, second = letters
    assert [first.id, second.id] == ["0:0", "0:1"]
    assert first.original == b"\xff{oops"
    assert [r.copy_id for r in first.reprocessings] == ["2:7"]
    assert "reprocessed already" in (first.refusal() or "")
    assert first.refusal(force=True) is None
    assert second.refusal() is None
    assert [status(x) for x in letters] == ["reprocessed", "new"]
    assert summary(first)["reprocessed"][0]["marker"] == "1:7"


def test_what_cannot_be_sent_back_says_why() -> None:
    foreign, truncated, elsewhere, gave_up = collate(
        [
            Record(0, 0, b"somebody else's message"),
            Record(0, 1, _envelope(b"x" * 5000, max_bytes=2048)),
            Record(0, 2, _envelope(b"{}", topic="driver_assignment.dlq")),
            Record(0, 3, _envelope(b'{"orderId": "o-1"}', order_id="o-1")),
        ]
    )
    assert "not a dead-letter envelope" in (foreign.refusal() or "")
    assert truncated.truncated
    assert "of 5000 bytes" in (truncated.refusal() or "")
    assert "not one the services consume" in (elsewhere.refusal() or "")
    assert "gave up on order o-1" in (gave_up.refusal() or "")
    assert gave_up.refusal(force=True) is None
    assert [status(x) for x in (foreign, truncated, elsewhere, gave_up)] == [
        "foreign",
        "truncated",
        "new",
        "gave-up",
    ]


def test_list_and_show_render_the_envelope_and_the_decoded_original() -> None:
    letters = collate([Record(0, 0, _envelope('{"orderId": "é"}'.encode())), _marker("0:0", 3)])

    table = render_list(letters)
    shown = render_show(letters[0])

    assert table.splitlines()[0].split() == [
        "ID",
        "STATUS",
        "FAILED",
        "AT",
        "SOURCE",
        "TOPIC",
        "ORDER",
        "REASON",
    ]
    assert "0:0" in table
    assert "message is not valid JSON" in table
    assert '"reason": "message is not valid JSON"' in shown
    assert "original (17 bytes, JSON)" in shown
    assert '"orderId": "\\u00e9"' in shown
    assert f"to {REQUESTS} 2:3 (marker 1:3)" in shown
    assert render_list([]) == "no dead letters"


def test_show_prints_undecodable_bytes_escaped() -> None:
    (letter,) = collate([Record(0, 0, _envelope(b"\xff\x00abc"), key=None)])
    shown = render_show(letter)
    assert "not UTF-8" in shown
    assert "\\xff\x00abc" in shown
    assert isinstance(letter, DeadLetter)
