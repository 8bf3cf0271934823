"""The dead-letter queue: list, show and reprocess what the services could not handle.

:mod:`swifteats.dlq.queue` reads the DLQ topic (the source of truth) and sends
originals back; :mod:`swifteats.dlq.render` turns dead letters into text;
:mod:`swifteats.dlq.cli` is the ``swifteats dlq`` sub-command (``dlq_app``).
"""

from swifteats.dlq.queue import (
    DeadLetter,
    DeadLetterNotFoundError,
    DlqError,
    NotReprocessableError,
    Reprocessing,
    ReprocessOutcome,
    find,
    read_dead_letters,
    reprocess,
)

__all__ = [
    "DeadLetter",
    "DeadLetterNotFoundError",
    "DlqError",
    "NotReprocessableError",
    "ReprocessOutcome",
    "Reprocessing",
    "find",
    "read_dead_letters",
    "reprocess",
]
