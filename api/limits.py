"""A request size limit, as pure ASGI middleware (no buffering).

A declared ``Content-Length`` over the limit is refused before the body is read; a body
sent without one (chunked) is counted as it streams, and the request is refused the
moment it passes the limit. Either way the answer is 413 in the one error shape.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from traceability.messages import message

DEFAULT_MAX_BYTES = 16 * 1024 * 1024


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit. It is an HTTP 413, so
    whichever layer catches it (FastAPI's body parsing re-raises HTTP errors, the error
    handlers answer them) the client gets the same answer."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body is over the limit of {max_bytes} bytes")
        self.max_bytes = max_bytes


def _contains_too_large(exc: BaseException) -> bool:
    if isinstance(exc, BodyTooLarge):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return any(_contains_too_large(inner) for inner in exc.exceptions)
    return False


class RequestSizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
        if declared:
            text = declared[0].decode("latin-1").strip()
            if len(declared) > 1 or not text.isdigit():
                await _refuse(send, 400, "BadRequest", "http.bad_content_length")
                return
            if int(text) > self.max_bytes:
                await _refuse(
                    send,
                    413,
                    "PayloadTooLarge",
                    "http.payload_too_large",
                    text=f"the request body ({text} bytes) is over the limit of "
                    f"{self.max_bytes} bytes",
                    max=self.max_bytes,
                    size=int(text),
                )
                return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Exception as exc:
            if started or not _contains_too_large(exc):
                raise
            await _refuse(
                send, 413, "PayloadTooLarge", "http.payload_too_large", max=self.max_bytes
            )


async def _refuse(
    send: Send, status: int, error: str, code: str, *, text: str | None = None, **params: Any
) -> None:
    said = message(code, text=text, **params)
    body = json.dumps({"error": error, "detail": said.text, **said.as_json()}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def install_size_limit(app: FastAPI, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse request bodies over ``max_bytes`` (default 16 MiB) with 413."""
    app.add_middleware(RequestSizeLimit, max_bytes=max_bytes)
