"""What the windowed matching policies share: their travel legs, their window, and one
decision with or without explanations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

from swifteats.domain.policies.base import Assignment, DriverView, OpenOrder, PolicyContext
from swifteats.domain.policies.support.bundles import Legs
from swifteats.domain.policies.support.explain import Explanation


class WindowParams(Protocol):
    """Parameters that name a decision window."""

    @property
    def window_minutes(self) -> float:
        """Minutes between decisions."""
        ...


class WindowedMatching(ABC):
    """Base of a dataclass policy with ``context`` and ``params`` fields that decides a
    window's orders at once in :meth:`_decide`."""

    context: PolicyContext
    params: WindowParams
    _legs: Legs

    def __post_init__(self) -> None:
        self._legs = Legs(self.context.eta)

    @property
    def window_minutes(self) -> float | None:
        """Minutes between decisions."""
        return self.params.window_minutes

    def decide(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> list[Assignment]:
        """The window's assignments (see the policy's module)."""
        return self._decide(orders, drivers, now, explain=False)[0]

    def decide_explained(
        self, orders: Sequence[OpenOrder], drivers: Sequence[DriverView], now: float
    ) -> tuple[list[Assignment], list[Explanation]]:
        """:meth:`decide`, with every matched pair's cost terms and runners-up."""
        return self._decide(orders, drivers, now, explain=True)

    @abstractmethod
    def _decide(
        self,
        orders: Sequence[OpenOrder],
        drivers: Sequence[DriverView],
        now: float,
        *,
        explain: bool,
    ) -> tuple[list[Assignment], list[Explanation]]:
        """The assignments, and their explanations when ``explain``."""
