"""ASGI middleware refusing request bodies over a size limit (413) before anything parses them.

A declared ``Content-Length`` over the limit is refused without reading the body; a
body without one (chunked) is counted as it streams and refused once it passes the limit.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """Wraps an ASGI app; HTTP requests whose body exceeds ``max_bytes`` get 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a declared oversize body at once; count a streamed one as it arrives."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await JSONResponse({"detail": self._reason()}, 413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app: FastAPI passes it on to its exception handler.
                    raise HTTPException(413, self._reason())
            return message

        await self.app(scope, counted, send)

    def _reason(self) -> str:
        return f"request body larger than {self.max_bytes} bytes (SWIFTEATS_MAX_BODY_BYTES)"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
