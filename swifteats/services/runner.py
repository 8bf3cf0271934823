"""Running a service: its threads plus uvicorn, until SIGINT or SIGTERM."""

from __future__ import annotations

from typing import Protocol

import uvicorn
from fastapi import FastAPI


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
    """Serve HTTP on ``host:port`` with the threads running; stop them on the way out."""
    service.start()
    try:
        uvicorn.run(service.api, host=host, port=port, log_level="warning", access_log=False)
    finally:
        service.stop()
