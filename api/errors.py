"""One place that turns errors into HTTP answers: ``{"error": ..., "detail": ...}``.

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

from traceability.errors import SunledgerError
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
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"error": error, "detail": detail}, headers=headers
    )


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
        content = {"error": type(exc).__name__, "detail": exc.detail, **exc.extra()}
        return JSONResponse(status_code=exc.status_code, content=content)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ())) or "request"
            reasons.append(f"{where}: {err.get('msg', 'invalid')}")
        return _answer(422, "Invalid", "; ".join(reasons))

    @app.exception_handler(LogCorrupted)
    async def _corrupted(_request: Request, exc: LogCorrupted) -> JSONResponse:
        # Stored data no longer matches the stored root: say so, loudly, rather than 500.
        return _answer(503, "LogCorrupted", str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404 and exc.detail == HTTPStatus.NOT_FOUND.phrase:
            detail = f"no route {request.url.path}"
        elif exc.status_code == 405 and exc.detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
            allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow")
            detail = f"{request.method} is not allowed on {request.url.path}"
            if allowed:
                detail += f" (allowed: {allowed})"
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
                "the database is unreachable; nothing was stored, try again later",
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
        return _answer(
            500,
            "InternalError",
            f"the server failed on this request; reference {reference} in its log",
        )
