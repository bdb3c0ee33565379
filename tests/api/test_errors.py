"""One error shape everywhere, and request size limits that store nothing."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from seeded_city import City
from sqlalchemy import func, select

from api.app import create_app
from api.limits import DEFAULT_MAX_BYTES, RequestSizeLimit
from traceability.messages import CATALOG
from traceability.settings import Settings
from traceability.storage.models import EventRow


def assert_shape(answer: Any, status: int, error: str) -> str:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert {"error", "detail"} <= set(body) <= {"error", "detail", "code", "params", "fields"}
    assert body["error"] == error
    assert isinstance(body["detail"], str) and body["detail"]
    # A coded message names a code of the catalog, with its parameters beside it.
    assert ("code" in body) == ("params" in body)
    if "code" in body:
        assert body["code"] in CATALOG and isinstance(body["params"], dict)
    return str(body["detail"])


def test_unknown_route_and_wrong_method_have_the_error_shape(city: City) -> None:
    detail = assert_shape(city.client.get("/v1/no-such-thing"), 404, "NotFound")
    assert "/v1/no-such-thing" in detail
    wrong = city.client.delete("/v1/exports/epcis", headers=city.headers("admin"))
    detail = assert_shape(wrong, 405, "MethodNotAllowed")
    assert "DELETE" in detail and wrong.headers["allow"] == "GET"
    post = city.client.post("/v1/public/open-data/inspections.csv")
    assert_shape(post, 405, "MethodNotAllowed")


def test_validation_and_auth_errors_have_the_error_shape(city: City) -> None:
    detail = assert_shape(
        city.client.get("/v1/public/open-data/inspections.json?limit=0"), 422, "Invalid"
    )
    assert "limit" in detail
    assert_shape(city.client.get("/v1/exports/fsma204.csv"), 401, "Unauthenticated")
    bad_json = city.client.post(
        "/v1/probes/readings", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad_json.status_code == 422 and bad_json.json()["error"]


def test_unexpected_errors_answer_500_without_internals(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    @app.get("/v1/test-boom")
    def boom() -> None:
        raise RuntimeError("database password is hunter2")

    with TestClient(app, raise_server_exceptions=False) as client, caplog.at_level(logging.ERROR):
        answer = client.get("/v1/test-boom")
    detail = assert_shape(answer, 500, "InternalError")
    assert "hunter2" not in answer.text and "RuntimeError" not in answer.text
    reference = detail.split("reference ")[1].split()[0]
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "hunter2" in str(logged[0].exc_info[1])  # the traceback stays in the log
    app.state.engine.dispose()


def events_logged(city: City) -> int:
    with city.app.state.platform.sessions() as session:
        return int(session.execute(select(func.count()).select_from(EventRow)).scalar_one())


def test_declared_oversized_body_is_refused_with_413(city: City) -> None:
    before = events_logged(city)
    answer = city.client.post(
        "/v1/probes/readings",
        content=b" " * (DEFAULT_MAX_BYTES + 1),
        headers={"content-type": "application/json"},
    )
    detail = assert_shape(answer, 413, "PayloadTooLarge")
    assert str(DEFAULT_MAX_BYTES) in detail
    assert events_logged(city) == before


def test_streamed_oversized_body_is_refused_with_413(city: City) -> None:
    before = events_logged(city)

    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * (1024 * 1024)

    answer = city.client.post(
        "/v1/probes/readings", content=chunks(), headers={"content-type": "application/json"}
    )
    assert "content-length" not in answer.request.headers
    assert_shape(answer, 413, "PayloadTooLarge")
    assert events_logged(city) == before
    # A body under the limit goes through to the endpoint as usual.
    ok = city.client.post("/v1/probes/readings", content=b'{"readings": []}')
    assert ok.status_code == 422 and ok.json()["error"] != "PayloadTooLarge"


class BodyReader:
    """A tiny ASGI app that reads the body message by message, as an endpoint does."""

    def __init__(self) -> None:
        self.seen: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            self.seen.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


def call(
    limit: int, chunks: list[bytes], headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[BodyReader, list[dict[str, Any]]]:
    inner = BodyReader()
    app = RequestSizeLimit(inner, max_bytes=limit)
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers or []}
    # On a thread of its own: a test before it in the same process (Playwright's sync API)
    # may have left an event loop running on this one, where asyncio.run refuses.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    return inner, sent


def test_the_limit_counts_streamed_bytes_without_buffering() -> None:
    inner, sent = call(10, [b"abcd"] * 5)
    # The app saw the first two chunks as they came; the third passed the limit.
    assert inner.seen == [b"abcd", b"abcd"]
    assert sent[0]["status"] == 413
    assert b'"PayloadTooLarge"' in sent[1]["body"]
    inner, sent = call(12, [b"abcd"] * 3)
    assert inner.seen == [b"abcd"] * 3 and sent[0]["status"] == 200
    inner, sent = call(10, [b"x"], headers=[(b"content-length", b"11")])
    assert inner.seen == [] and sent[0]["status"] == 413
    inner, sent = call(10, [b"x"], headers=[(b"content-length", b"-1")])
    assert inner.seen == [] and sent[0]["status"] == 400
    inner, sent = call(10, [b"x"], headers=[(b"content-length", b"1"), (b"content-length", b"2")])
    assert inner.seen == [] and sent[0]["status"] == 400


def test_sign_in_errors_carry_a_code_the_pages_translate(city: City) -> None:
    missing = city.client.get("/v1/me")
    assert_shape(missing, 401, "Unauthenticated")
    assert (missing.json()["code"], missing.json()["params"]) == ("auth.header_missing", {})
    unknown = city.client.get(
        "/v1/me", headers={"Authorization": "Bearer slk_0123456789abcdef_" + "x" * 43}
    )
    assert_shape(unknown, 401, "Unauthenticated")
    body = unknown.json()
    assert (body["code"], body["params"]) == ("auth.key_unknown", {"key_id": "0123456789abcdef"})
    assert body["detail"] == "API key 0123456789abcdef is not valid"
    wrong_role = city.client.get("/v1/admin/orgs", headers=city.headers("rest-1"))
    assert_shape(wrong_role, 403, "Forbidden")
    assert wrong_role.json()["code"] == "auth.role_required"


def test_framework_errors_carry_codes_too(city: City) -> None:
    body = city.client.get("/v1/no-such-thing").json()
    assert (body["code"], body["params"]) == ("http.no_route", {"path": "/v1/no-such-thing"})
    invalid = city.client.get("/v1/public/open-data/inspections.json?limit=0").json()
    assert invalid["code"] == "request.invalid"
    [field] = invalid["fields"]
    assert field["field"] == "query.limit" and field["code"] == "field.greater_than_equal"
