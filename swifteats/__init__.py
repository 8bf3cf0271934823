"""swifteats: order-to-driver assignment for food delivery — live services, replay, research."""

__version__ = "0.1.0"
