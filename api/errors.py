"""One place that turns errors into HTTP answers: ``{"error": ..., "detail": ...}``, plus
``code`` and ``params`` (traceability/messages.py) whenever the message has a code, which
is how the pages show it in the reader's language.

Every answer that is not a success has this shape, including the ones the framework
makes itself (unknown route, wrong method) and the ones nobody planned for (a bug): those
are logged with their traceback and answered 500 with a reference to the log line, never
with the exception's text.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.limits import BodyTooLarge
from traceability.errors import SunledgerError
from traceability.messages import Message, field_message, message
from traceability.storage.db import database_unreachable
from traceability.transparency.log import LogCorrupted

logger = logging.getLogger("sunledger.api")

RETRY_AFTER_SECONDS = 5
"""What a 503 for an unreachable database asks clients (devices, browsers) to wait."""

# Names for the statuses the framework raises, matching our own error classes where they
# mean the same thing.
_STATUS_NAMES = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
}


def _answer(
    status: int,
    error: str,
    detail: str | Message,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    content: dict[str, object] = {"error": error}
    if isinstance(detail, Message):
        content |= {"detail": detail.text, **detail.as_json()}
    else:
        content["detail"] = detail
    return JSONResponse(status_code=status, content=content | extra, headers=headers)


def error_name(status: int) -> str:
    """The ``error`` of an answer the framework (not our code) produced."""
    if status in _STATUS_NAMES:
        return _STATUS_NAMES[status]
    try:
        return HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
    except ValueError:
        return "HTTPError"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SunledgerError)
    async def _sunledger_error(_request: Request, exc: SunledgerError) -> JSONResponse:
        content = {
            "error": type(exc).__name__,
            "detail": exc.detail,
            **exc.coded(),
            **exc.extra(),
        }
        return JSONResponse(status_code=exc.status_code, content=content)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # Each field's problem with its own code (as a record's fields have them).
        fields = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ())) or "request"
            said = field_message(err)
            fields.append({"field": where, "reason": said.text, **said.as_json()})
        reasons = "; ".join(f"{f['field']}: {f['reason']}" for f in fields)
        return _answer(422, "Invalid", message("request.invalid", reasons=reasons), fields=fields)

    @app.exception_handler(LogCorrupted)
    async def _corrupted(_request: Request, exc: LogCorrupted) -> JSONResponse:
        # Stored data no longer matches the stored root: say so, loudly, rather than 500.
        return _answer(503, "LogCorrupted", message("log.corrupted", reason=str(exc)))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail: str | Message
        path = request.url.path
        if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
            detail = message("http.no_route", path=path)
        elif exc.status_code == 405 and exc.detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
            text = f"{request.method} is not allowed on {path}"
            if allowed:
                text += f" (allowed: {allowed})"
            detail = message("http.method_not_allowed", text=text, method=request.method, path=path)
        elif isinstance(exc, BodyTooLarge):
            detail = message("http.payload_too_large", max=exc.max_bytes)
        elif exc.status_code == 429:
            retry = (exc.headers or {}).get("Retry-After") or (exc.headers or {}).get("retry-after")
            detail = message(
                "http.too_many_requests", text=str(exc.detail), retry_after=retry or "?"
            )
        else:
            detail = str(exc.detail)
        return _answer(exc.status_code, error_name(exc.status_code), detail, exc.headers)

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # The database is down or restarting: nothing was stored, and trying again later
        # will work. Anything else from the database is a bug (500, below).
        if database_unreachable(exc):
            logger.warning(
                "database unreachable on %s %s: %s",
                request.method,
                request.url.path,
                type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__,
            )
            return _answer(
                503,
                "ServiceUnavailable",
                message("http.unavailable", retry_after=RETRY_AFTER_SECONDS),
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The last resort (Starlette runs it in its outermost middleware): the client gets a
        # reference, the log gets the traceback; internals never leave the server.
        reference = secrets.token_hex(6)
        logger.error(
            "unexpected error %s on %s %s",
            reference,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return _answer(500, "InternalError", message("http.internal", reference=reference))
