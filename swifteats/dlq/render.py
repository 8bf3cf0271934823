"""Dead letters as text: one line each for ``dlq list``, everything for ``dlq show``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from swifteats.dlq.queue import DeadLetter, ReprocessOutcome
from swifteats.domain.events import format_instant

_REASON_WIDTH = 70


def status(letter: DeadLetter) -> str:
    """``new``, ``reprocessed`` (``×n`` when more than once), ``gave-up`` (the Order
    Service's failed order), ``truncated`` or ``foreign``."""
    if letter.envelope is None:
        return "foreign"
    if letter.reprocessings:
        times = len(letter.reprocessings)
        return "reprocessed" if times == 1 else f"reprocessed×{times}"
    if letter.gave_up_order:
        return "gave-up"
    return "truncated" if letter.truncated else "new"


def summary(letter: DeadLetter) -> dict[str, Any]:
    """The fields ``dlq list --json`` prints for a dead letter."""
    return {
        "id": letter.id,
        "status": status(letter),
        "failedAt": letter.failed_at,
        "sourceTopic": letter.source_topic,
        "orderId": letter.order_id,
        "reason": letter.reason,
        "reprocessed": [
            {"at": r.at, "topic": r.topic, "copy": r.copy_id, "marker": r.marker_id}
            for r in letter.reprocessings
        ],
    }


def render_list(letters: Sequence[DeadLetter]) -> str:
    """A table of dead letters, oldest first, or a line saying there are none."""
    if not letters:
        return "no dead letters"
    rows = [("ID", "STATUS", "FAILED AT", "SOURCE TOPIC", "ORDER", "REASON")]
    for letter in letters:
        reason = letter.reason.replace("\n", " ")
        if len(reason) > _REASON_WIDTH:
            reason = reason[: _REASON_WIDTH - 1] + "…"
        rows.append(
            (
                letter.id,
                status(letter),
                letter.failed_at or format_instant(letter.written_at),
                letter.source_topic or "-",
                letter.order_id or "-",
                reason,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )


def render_show(letter: DeadLetter) -> str:
    """The envelope, the original bytes decoded, and every reprocessing of a dead letter."""
    key = letter.key.decode(errors="backslashreplace") if letter.key else "-"
    lines = [
        f"dead letter {letter.id} (key {key}, written {format_instant(letter.written_at)},"
        f" {status(letter)})",
        "",
        "envelope:",
        json.dumps(letter.envelope, indent=2)
        if letter.envelope is not None
        else letter.value.decode(errors="backslashreplace"),
        "",
        *_original(letter),
    ]
    if letter.reprocessings:
        lines += ["", "reprocessed:"]
        lines += [
            f"  {r.at} to {r.topic} {r.copy_id} (marker {r.marker_id})"
            for r in letter.reprocessings
        ]
    return "\n".join(lines)


def render_outcomes(outcomes: Sequence[ReprocessOutcome]) -> str:
    """One line per dead letter: where it was sent, or why it was skipped."""
    if not outcomes:
        return "no dead letters"
    lines = []
    for outcome in outcomes:
        done = outcome.reprocessing
        if done is not None:
            lines.append(f"{outcome.letter_id}: sent to {done.topic} {done.copy_id}")
        else:
            lines.append(f"{outcome.letter_id}: skipped, {outcome.skipped}")
    return "\n".join(lines)


def _original(letter: DeadLetter) -> list[str]:
    raw = letter.original
    if raw is None:
        return ["original: not in the envelope"]
    size = letter.envelope.get("originalSize") if letter.envelope else None
    what = f"first {len(raw)} of {size} bytes" if letter.truncated else f"{len(raw)} bytes"
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return [
            f"original ({what}, not UTF-8; undecodable bytes as \\xNN):",
            raw.decode(errors="backslashreplace"),
        ]
    try:
        return [f"original ({what}, JSON):", json.dumps(json.loads(text), indent=2)]
    except (ValueError, RecursionError):
        return [f"original ({what}, text):", text]
