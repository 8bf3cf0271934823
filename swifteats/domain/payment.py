"""The payment port and the simulated provider used by default."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """Whether a charge went through, and why not."""

    approved: bool
    reason: str = ""


class PaymentProvider(Protocol):
    """Charges a customer for an order."""

    def charge(self, *, order_id: str, customer_id: str, amount: float) -> PaymentResult:
        """Try to take ``amount`` from the customer."""
        ...


@dataclass(frozen=True, slots=True)
class SimulatedPayments:
    """Approves every charge except those of the customers it is told to decline."""

    declined_customers: frozenset[str] = frozenset()

    @classmethod
    def from_setting(cls, text: str) -> SimulatedPayments:
        """Build from a comma-separated list of customer ids."""
        return cls(frozenset(part.strip() for part in text.split(",") if part.strip()))

    def charge(self, *, order_id: str, customer_id: str, amount: float) -> PaymentResult:
        """Approve, unless the customer is on the decline list."""
        if customer_id in self.declined_customers:
            return PaymentResult(False, f"payment declined for customer {customer_id}")
        return PaymentResult(True)
