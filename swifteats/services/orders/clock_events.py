"""Lifecycle events carried by ``PUT /clock``: a lockstep replay's instants in one call.

A replay harness moving the simulated clock sends, with the new instant, what happened
since the last call — orders placed, picked up, delivered — each with its own instant
(``at``, default the new one), in the order it happened. The service moves its clock to
each event's instant and applies it, as if it had come in its own request
(``POST /orders``, ``…/picked-up``, ``…/delivered``) then, and reports each one's status;
what is due is published once the clock reached the new instant. One HTTP round trip and
one database transaction per decision instant instead of one per event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from swifteats.domain.order_store import DuplicateOrderError, OrderNotFoundError
from swifteats.domain.orders import InvalidTransitionError, OrderRecord
from swifteats.services.http import HttpSecurity, StorableId
from swifteats.services.orders.core import OrderCore, PaymentDeclinedError
from swifteats.services.orders.schemas import OrderIn

MAX_CLOCK_EVENTS = 10_000
"""Events one ``PUT /clock`` may carry."""
MAX_LOOKUP = 100_000
"""Orders one ``POST /orders/lookup`` may name."""


class LookupIn(BaseModel):
    """Orders wanted at once."""

    model_config = ConfigDict(extra="forbid")

    order_ids: list[StorableId] = Field(alias="orderIds", max_length=MAX_LOOKUP)


class ClockEvent(BaseModel):
    """Exactly one of: an order placed, an order picked up, an order delivered."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    at: AwareDatetime | None = None
    """When it happened (not after the call's ``now``); None: at ``now``."""
    placed: OrderIn | None = None
    picked_up: StorableId | None = Field(None, alias="pickedUp")
    delivered: StorableId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockEvent:
        given = [v for v in (self.placed, self.picked_up, self.delivered) if v is not None]
        if len(given) != 1:
            raise ValueError("an event is exactly one of placed, pickedUp, delivered")
        return self


def apply_events(core: OrderCore, events: list[ClockEvent], now: datetime) -> list[dict[str, Any]]:
    """Apply each event in turn at its instant; per event ``{"status": <HTTP status>,
    "detail"?: why}`` with the status its own route would have answered (201, 200, 402,
    404, 409), all in one transaction of the store. The clock is at ``now`` afterwards."""
    results = []
    with core.batch():
        for event in events:
            core.move_clock(min(event.at or now, now))
            results.append(_apply(core, event))
    core.move_clock(now)
    return results


def lookup_routes(
    core: OrderCore, security: HttpSecurity, order_json: Callable[[OrderRecord], dict[str, Any]]
) -> APIRouter:
    """``POST /orders/lookup``: the orders named, as ``GET /orders/{id}`` shows each
    (unknown ones left out), in one call: a replay reads its final orders so."""
    router = security.router(tags=["orders"])

    @router.post("/orders/lookup")
    def lookup(body: LookupIn) -> dict[str, Any]:
        found = core.get_many(list(dict.fromkeys(body.order_ids)))
        return {"orders": [order_json(order) for order in found]}

    return router


def _apply(core: OrderCore, event: ClockEvent) -> dict[str, Any]:
    try:
        if event.placed is not None:
            new = event.placed.to_new_order()
            try:
                core.place(new)
            except DuplicateOrderError:
                return {"status": 409, "detail": f"order {new.order_id!r} exists already"}
            return {"status": 201}
        if event.picked_up is not None:
            core.picked_up(event.picked_up)
        elif event.delivered is not None:
            core.delivered(event.delivered)
    except PaymentDeclinedError as declined:
        return {"status": 402, "detail": str(declined)}
    except OrderNotFoundError as missing:
        return {"status": 404, "detail": f"order {missing} does not exist"}
    except InvalidTransitionError as error:
        return {"status": 409, "detail": str(error)}
    return {"status": 200}
