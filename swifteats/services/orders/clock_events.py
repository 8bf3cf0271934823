"""Lifecycle events carried by ``PUT /clock``: a lockstep replay's instant in one call.

A replay harness moving the simulated clock sends, with the new instant, what happened at
it — orders placed, picked up, delivered — in the order it happened. The service applies
them in turn after the clock moves and before it publishes what is due, as if each had
come in its own request (``POST /orders``, ``…/picked-up``, ``…/delivered``), and reports
each one's status: one HTTP round trip per instant instead of one per event.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from swifteats.domain.order_store import DuplicateOrderError, OrderNotFoundError
from swifteats.domain.orders import InvalidTransitionError
from swifteats.services.http import StorableId
from swifteats.services.orders.core import OrderCore, PaymentDeclinedError
from swifteats.services.orders.schemas import OrderIn

MAX_CLOCK_EVENTS = 10_000
"""Events one ``PUT /clock`` may carry."""


class ClockEvent(BaseModel):
    """Exactly one of: an order placed, an order picked up, an order delivered."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    placed: OrderIn | None = None
    picked_up: StorableId | None = Field(None, alias="pickedUp")
    delivered: StorableId | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ClockEvent:
        given = [v for v in (self.placed, self.picked_up, self.delivered) if v is not None]
        if len(given) != 1:
            raise ValueError("an event is exactly one of placed, pickedUp, delivered")
        return self


def apply_events(core: OrderCore, events: list[ClockEvent]) -> list[dict[str, Any]]:
    """Apply each event in turn; per event ``{"status": <HTTP status>, "detail"?: why}``
    with the status its own route would have answered (201, 200, 402, 404, 409)."""
    return [_apply(core, event) for event in events]


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
