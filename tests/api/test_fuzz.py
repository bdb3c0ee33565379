"""Bad input never yields a 500: schemathesis fuzzes every operation of the OpenAPI schema.

The app runs in process (ASGI), on SQLite, in the small ``city`` of the test suite. Each
case is sent with the key of the first role the operation lets through (admin, then a
restaurant, a regulator, the auditor), so generated input reaches the endpoint instead of
stopping at the role check; a case naming a premises (in its path or query) is sent a
second time naming p-1, which those roles own or supervise, so that it gets past the
lookup. Endpoints that read their body themselves (no schema to generate from) get raw
bytes and JSON values.

Bounded: a fixed number of derandomized examples per operation, no shrinking, streams
capped to a fraction of a second, and generation stops once the time budget is spent.
Every operation with a server error is reported, not just the first.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case
from schemathesis.openapi import from_asgi
from schemathesis.schemas import APIOperation
from seeded_city import City

EXAMPLES_PER_OPERATION = 25
TIME_BUDGET_SECONDS = 400.0
ROLES_TO_TRY = ("admin", "rest-1", "reg-1", "auditor")
STREAM_SECONDS = 0.2
KNOWN_PREMISES = "p-1"

pytestmark = pytest.mark.slow

BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the fuzz run is long, and the export tests cover both databases."""
    return f"sqlite:///{tmp_path / 'fuzz.db'}"


def fuzz(operation: APIOperation, city: City, deadline: float) -> None:
    role_that_worked = ROLES_TO_TRY[0]

    def send(case: Case) -> None:
        nonlocal role_that_worked
        first = role_that_worked
        for role in (first, *[r for r in ROLES_TO_TRY if r != first]):
            response = case.call(headers=city.headers(role))
            case.validate_response(response, checks=[not_a_server_error])
            if response.status_code not in (401, 403):
                role_that_worked = role
                return

    @BOUNDED
    @given(case=operation.as_strategy())
    def check(case: Case) -> None:
        if time.monotonic() > deadline:
            return
        if case.path.endswith("/stream"):
            # An event stream stays open until its bound: keep each one short.
            case.query = {**(case.query or {}), "max_seconds": STREAM_SECONDS, "max_events": 1}
        send(case)
        if case.path_parameters and "premises_id" in case.path_parameters:
            case.path_parameters = {**case.path_parameters, "premises_id": KNOWN_PREMISES}
            send(case)
        elif case.query and "premises_id" in case.query:
            case.query = {**case.query, "premises_id": KNOWN_PREMISES}
            send(case)

    check()


def test_no_operation_answers_a_server_error(city: City) -> None:
    schema = from_asgi("/openapi.json", city.app)
    deadline = time.monotonic() + TIME_BUDGET_SECONDS
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10
    failures = []
    for operation in operations:
        try:
            fuzz(operation, city, deadline)
        except Exception as exc:  # every failing operation is reported, then the test fails
            failures.append(f"{operation.label}: {type(exc).__name__}: {exc}")
    assert time.monotonic() <= deadline, "the fuzz run spent its whole time budget"
    assert not failures, "server errors:\n" + "\n\n".join(failures)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
RAW_BODIES = st.binary(max_size=512) | JSON_VALUES.map(lambda v: json.dumps(v).encode())
# Endpoints whose body has no schema in the OpenAPI document: they parse it themselves.
RAW_BODY_ENDPOINTS = [
    ("/v1/probes/readings", None, "application/json"),
    ("/v1/chain/rpc", None, "application/json"),
    (f"/v1/premises/{KNOWN_PREMISES}/records/csv?record_type=disinfection", "rest-1", "text/csv"),
    (f"/v1/premises/{KNOWN_PREMISES}/attachments", "rest-1", "image/jpeg"),
]


@pytest.mark.parametrize(("path", "role", "media_type"), RAW_BODY_ENDPOINTS)
def test_raw_bodies_never_answer_a_server_error(
    city: City, path: str, role: str | None, media_type: str
) -> None:
    headers: dict[str, Any] = {"content-type": media_type}
    if role is not None:
        headers.update(city.headers(role))

    @BOUNDED
    @given(body=RAW_BODIES)
    def check(body: bytes) -> None:
        answer = city.client.post(path, content=body, headers=headers)
        assert answer.status_code < 500, (body, answer.status_code, answer.text)
        if answer.status_code >= 400:
            assert set(answer.json()) >= {"error", "detail"}

    check()
