"""Running a service: its threads plus uvicorn, until SIGINT or SIGTERM."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Protocol

import uvicorn
from fastapi import FastAPI

log = logging.getLogger("swifteats.service")

UVICORN_LOGGING: dict[str, Any] = {"log_config": None, "log_level": None, "access_log": False}
"""uvicorn installs no handler of its own: its lines go through the root logger, in the
service's format and at its level (``configure_logging``); no line per request."""

UVICORN_SPEED: dict[str, Any] = {"loop": "uvloop", "http": "httptools"}
"""uvloop's event loop and httptools' HTTP parser (both compiled), named rather than left to
uvicorn's ``auto``, which quietly falls back to pure-Python h11 and asyncio's loop when
they are missing."""


class RunnableService(Protocol):
    """A service with background threads and an HTTP API."""

    api: FastAPI

    def start(self) -> None:
        """Start the background threads."""
        ...

    def stop(self) -> None:
        """Stop the background threads."""
        ...


def serve(service: RunnableService, *, host: str, port: int) -> None:
    """Serve HTTP on ``host:port`` with the threads running; stop them on the way out.

    The threads stop in the application's shutdown (lifespan), while uvicorn still runs:
    on SIGTERM uvicorn re-raises the signal once it is done, which would end the process
    before any code after ``uvicorn.run``.
    """
    _stop_on_shutdown(service)
    service.start()
    uvicorn.run(service.api, host=host, port=port, **UVICORN_SPEED, **UVICORN_LOGGING)


def _stop_on_shutdown(service: RunnableService) -> None:
    inner = service.api.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            yield state
        service.stop()  # finishes the batch in hand, commits, closes clients
        log.info("stopped after finishing the work in hand")

    service.api.router.lifespan_context = lifespan
