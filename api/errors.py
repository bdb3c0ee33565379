"""One place that turns errors into HTTP answers: ``{"error": ..., "detail": ...}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from traceability.errors import SunledgerError
from traceability.log import LogCorrupted


def _answer(status: int, error: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": error, "detail": detail})


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
