"""Reading an MDRP solution's three files back, with their format violations.

Checked here (rule ``format``): headers (the couriers file's is optional, as for the
evaluator), single spaces, field counts, whole minutes, known ids, unique order ids, one
contiguous block of moves per courier (the evaluator keeps only a courier's last block).
A line that breaks one of these is reported and left out; the rest are returned as
records of :mod:`replay.mdrp.solution`, each with the line it was read from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from replay.mdrp.instance import MdrpInstance
from replay.mdrp.solution import (
    ASSIGNMENTS,
    ASSIGNMENTS_HEADER,
    COURIERS,
    COURIERS_HEADER,
    ORDERS,
    ORDERS_HEADER,
    Assignment,
    CourierMove,
    DeliveredOrder,
)

FORMAT = "format"

T = TypeVar("T")
_WHOLE_MINUTE = re.compile(r"-?[0-9]+")


class Violations:
    """Violations in the order found, each ``<rule>: <file> line <n>: <what>``."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, rule: str, file: str, line: int, text: str) -> None:
        where = f"{file} line {line}" if line else file
        self.items.append(f"{rule}: {where}: {text}")


@dataclass(frozen=True, slots=True)
class Line(Generic[T]):
    """A record and the line of its file it was read from."""

    number: int
    record: T


@dataclass(frozen=True, slots=True)
class _FileSpec:
    name: str
    header: str
    width: int
    minutes: tuple[int, ...]
    """Fields holding whole minutes."""
    open_ended: bool = False
    """``width`` is a minimum (an assignment lists one order or more)."""
    header_optional: bool = False


_ASSIGNMENTS = _FileSpec(ASSIGNMENTS, ASSIGNMENTS_HEADER, 4, (0, 1), open_ended=True)
_ORDERS = _FileSpec(ORDERS, ORDERS_HEADER, 6, (1, 2, 3, 4))
_COURIERS = _FileSpec(COURIERS, COURIERS_HEADER, 4, (1,), header_optional=True)


def _rows(folder: Path, spec: _FileSpec, out: Violations) -> list[Line[list[str]]]:
    """The well-formed data lines of one file, split into fields."""
    path = folder / spec.name
    if not path.is_file():
        out.add(FORMAT, spec.name, 0, "file missing")
        return []
    lines = list(enumerate(path.read_text(encoding="utf-8").splitlines(), start=1))
    rows = []
    for number, text in _after_header(lines, spec, out):
        fields = _fields(number, text, spec, out)
        if fields is not None:
            rows.append(Line(number, fields))
    return rows


def _after_header(
    lines: list[tuple[int, str]], spec: _FileSpec, out: Violations
) -> list[tuple[int, str]]:
    if lines and lines[0][1] == spec.header:
        return lines[1:]
    first = lines[0][1].split() if lines else []
    first_is_data = len(first) > 1 and _WHOLE_MINUTE.fullmatch(first[1]) is not None
    if not (spec.header_optional and first_is_data):
        out.add(FORMAT, spec.name, 1, f"header missing or wrong: expected {spec.header!r}")
    return lines if first_is_data else lines[1:]


def _fields(number: int, text: str, spec: _FileSpec, out: Violations) -> list[str] | None:
    fields = text.split(" ")
    problem = None
    if not text.strip():
        problem = "blank line"
    elif any(not f or any(c.isspace() for c in f) for f in fields):
        problem = "fields must be separated by single spaces (no tabs, no double spaces)"
    elif len(fields) < spec.width or (len(fields) > spec.width and not spec.open_ended):
        problem = f"expected {spec.width}{' or more' if spec.open_ended else ''} fields"
    elif bad := [fields[i] for i in spec.minutes if not _WHOLE_MINUTE.fullmatch(fields[i])]:
        problem = f"not a whole minute: {bad[0]!r}"
    if problem is not None:
        out.add(FORMAT, spec.name, number, problem)
        return None
    return fields


def _known(
    line: Line[list[str]],
    spec: _FileSpec,
    couriers: Iterable[str],
    orders: Iterable[str],
    instance: MdrpInstance,
    out: Violations,
) -> bool:
    unknown = [c for c in couriers if c not in instance.couriers]
    unknown += [o for o in orders if o not in instance.orders]
    if unknown:
        out.add(FORMAT, spec.name, line.number, f"unknown id(s) {', '.join(unknown)}")
    return not unknown


def read_assignments(
    folder: Path, instance: MdrpInstance, out: Violations
) -> list[Line[Assignment]]:
    """The well-formed assignments with known ids, in file order."""
    kept = []
    for line in _rows(folder, _ASSIGNMENTS, out):
        f = line.record
        if _known(line, _ASSIGNMENTS, [f[2]], f[3:], instance, out):
            kept.append(Line(line.number, Assignment(int(f[0]), int(f[1]), f[2], tuple(f[3:]))))
    return kept


def read_orders(
    folder: Path, instance: MdrpInstance, out: Violations
) -> dict[str, Line[DeliveredOrder]]:
    """Delivered orders by id; a repeated id is a format violation and is skipped."""
    kept: dict[str, Line[DeliveredOrder]] = {}
    for line in _rows(folder, _ORDERS, out):
        f = line.record
        if not _known(line, _ORDERS, [f[5]], [f[0]], instance, out):
            continue
        if f[0] in kept:
            text = f"{f[0]} listed twice (first on line {kept[f[0]].number})"
            out.add(FORMAT, ORDERS, line.number, text)
            continue
        record = DeliveredOrder(f[0], int(f[1]), int(f[2]), int(f[3]), int(f[4]), f[5])
        kept[f[0]] = Line(line.number, record)
    return kept


def read_moves(
    folder: Path, instance: MdrpInstance, out: Violations
) -> dict[str, list[Line[CourierMove]]]:
    """Moves by courier, in file order; a courier's moves must form one block."""
    blocks: dict[str, list[Line[CourierMove]]] = {}
    previous = None
    for line in _rows(folder, _COURIERS, out):
        f = line.record
        if not _known(line, _COURIERS, [f[0]], [], instance, out):
            continue
        if f[0] != previous and f[0] in blocks:
            out.add(FORMAT, COURIERS, line.number, f"moves of {f[0]} resume after another's")
        previous = f[0]
        blocks.setdefault(f[0], []).append(Line(line.number, CourierMove(f[0], int(f[1]), *f[2:])))
    return blocks
