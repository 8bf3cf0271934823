"""The local stack: reuse the Kafka broker, Redis and PostgreSQL that answer, start the rest."""

from swifteats.stack.network import free_port, wait_for_port
from swifteats.stack.servers import ensure_database, start_tansu
from swifteats.stack.stack import (
    ComponentStatus,
    StackError,
    StackState,
    stack_down,
    stack_status,
    stack_up,
)

__all__ = [
    "ComponentStatus",
    "StackError",
    "StackState",
    "ensure_database",
    "free_port",
    "stack_down",
    "stack_status",
    "stack_up",
    "start_tansu",
    "wait_for_port",
]
