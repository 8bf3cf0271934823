"""``POST /decisions``: an external decision clock (lockstep replays) says "decide now".

Only with ``SWIFTEATS_DECISION_CLOCK=external``. The caller says how many request records
the Order Service has published in all; the route waits until the service has read that
many, so every request due at the instant is held before anything is decided. The drivers
whose shifts started or ended since the last call come with it (``shifts``), applied in
turn before the decision, each reported as its own route would have answered: one HTTP
round trip per instant instead of one per driver.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from swifteats.domain.drivers import DriverIndex
from swifteats.domain.events import format_instant
from swifteats.services.assignment.core import AnswersNotPublishedError, AssignmentCore
from swifteats.services.assignment.schemas import ShiftIn
from swifteats.services.assignment.shifts import apply_shifts
from swifteats.services.http import HttpSecurity

_WAIT_FOR_REQUESTS_S = 30.0


MAX_SHIFT_CHANGES = 10_000
"""Shift changes one ``POST /decisions`` may carry."""


class DecideIn(BaseModel):
    """The instant to decide at, the requests published until then (running total), and
    the shift changes to apply first."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: AwareDatetime
    after_requests: int = Field(0, ge=0, alias="afterRequests")
    shifts: list[ShiftIn] = Field(default_factory=list, max_length=MAX_SHIFT_CHANGES)


def decision_routes(
    core: AssignmentCore, *, drivers: DriverIndex, security: HttpSecurity
) -> APIRouter:
    """The router of ``POST /decisions``."""
    router = security.router(tags=["replay"])

    @router.post(
        "/decisions",
        responses={
            404: {"description": "this service decides on its own clock"},
            503: {"description": "the broker did not acknowledge the answers; sent again later"},
            504: {"description": "the requests published were not all read in time"},
        },
    )
    def decide(body: DecideIn) -> dict[str, Any]:
        if not core.external:
            raise HTTPException(404, "this service decides on its own clock")
        if not core.wait_for_requests(body.after_requests, timeout_s=_WAIT_FOR_REQUESTS_S):
            raise HTTPException(
                504, f"read {core.requests_seen} of {body.after_requests} requests in time"
            )
        shifts = apply_shifts(drivers, body.shifts, core.clock())
        try:
            report = core.decide(body.at)
        except AnswersNotPublishedError as error:
            raise HTTPException(503, str(error)) from error
        return {
            "shifts": shifts,
            "answersPublished": report.answers_published,
            "held": report.held,
            "nextDecisionAt": (
                format_instant(report.next_decision_at) if report.next_decision_at else None
            ),
            "queuedDrivers": list(report.queued),
        }

    return router
