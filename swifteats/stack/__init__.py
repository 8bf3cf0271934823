"""The local stack: reuse the Kafka broker, Redis and PostgreSQL that answer, start the rest."""

from swifteats.stack.errors import StackError
from swifteats.stack.kafka_broker import start_tansu
from swifteats.stack.network import free_port, wait_for_port
from swifteats.stack.postgres_server import drop_database, ensure_database, skip_commit_flush
from swifteats.stack.records import Component, StackState
from swifteats.stack.stack import ComponentStatus, stack_down, stack_status, stack_up

__all__ = [
    "Component",
    "ComponentStatus",
    "StackError",
    "StackState",
    "drop_database",
    "ensure_database",
    "skip_commit_flush",
    "free_port",
    "stack_down",
    "stack_status",
    "stack_up",
    "start_tansu",
    "wait_for_port",
]
