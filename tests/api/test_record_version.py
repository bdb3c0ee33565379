"""The public record's version: its ETag costs one query, and a body built for one version
is never served for another (SQLite and PostgreSQL, through the `city` fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from seeded_city import City
from sqlalchemy import inspect, text
from test_public import kitchen, post_readings, register, seed_without_anchoring

from api.routers import public as public_router
from traceability.public_record.version import (
    WATCHED,
    RecordBodies,
    RecordVersion,
    current_version,
)
from traceability.storage.db import make_engine, transaction

pytestmark = pytest.mark.clock_sensitive

__all__ = ["kitchen"]  # the fixture, imported for the tests below
URL = "/v1/public/restaurants/p-1"


def _get(city: City, etag: str | None = None, premises_id: str = "p-1") -> Any:
    headers = {} if etag is None else {"If-None-Match": etag}
    return city.client.get(f"/v1/public/restaurants/{premises_id}", headers=headers)


def _record_version(etag: str) -> int:
    """The premises' record version an ETag names (``"r{version}-{final}-{on chain}-{min}"``)."""
    return int(etag.strip('"').removeprefix("r").split("-")[0])


def _execute(city: City, sql: str, **params: Any) -> None:
    with transaction(city.app.state.platform.sessions) as session:
        assert session.execute(text(sql), params).rowcount >= 1  # type: ignore[attr-defined]


@pytest.fixture
def no_building(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Counts the records the endpoint builds."""
    built: list[str] = []
    real = public_router.sunshine_record

    def counting(session: Any, premises_id: str, now: datetime) -> dict[str, Any]:
        built.append(premises_id)
        return real(session, premises_id, now)

    monkeypatch.setattr(public_router, "sunshine_record", counting)
    yield built


def test_a_revalidation_and_a_repeat_are_answered_without_building(
    kitchen: City, no_building: list[str]
) -> None:
    first = _get(kitchen)
    assert first.status_code == 200 and no_building == ["p-1"]
    etag = first.headers["etag"]
    again, repeat = _get(kitchen, etag), _get(kitchen)
    if repeat.headers["etag"] != etag:  # a minute turned in between: once more
        first, etag = repeat, repeat.headers["etag"]
        no_building.clear()
        again, repeat = _get(kitchen, etag), _get(kitchen)
        assert repeat.headers["etag"] == etag
    assert again.status_code == 304 and again.content == b""
    assert repeat.status_code == 200 and repeat.content == first.content
    assert no_building in ([], ["p-1"])  # built once at most (the retried first request)
    assert _get(kitchen, premises_id="p-404").status_code == 404


def test_a_new_event_of_the_premises_changes_the_tag_and_the_body(kitchen: City) -> None:
    first = _get(kitchen)
    seed_without_anchoring(kitchen)
    after = _get(kitchen, first.headers["etag"])
    assert after.status_code == 200
    assert _record_version(after.headers["etag"]) > _record_version(first.headers["etag"])
    body = after.json()
    assert any(r["record_type"] == "morning_check" for r in body["self_checks"])
    assert not any(r["record_type"] == "morning_check" for r in first.json()["self_checks"])


def test_another_premises_event_leaves_the_version_alone(kitchen: City) -> None:
    before = _get(kitchen).headers["etag"]
    other = _get(kitchen, premises_id="p-2").headers["etag"]
    probe = register(kitchen, "fr-9", "fridge")
    with transaction(kitchen.app.state.platform.sessions) as session:
        session.execute(text("UPDATE devices SET premises_id = 'p-2' WHERE device_id = 'fr-9'"))
    post_readings(kitchen, [probe.reading(3.0, 1)])
    after = _get(kitchen).headers["etag"]
    assert _record_version(after) == _record_version(before) + 2  # the registration, the move
    assert _record_version(_get(kitchen, premises_id="p-2").headers["etag"]) > _record_version(
        other
    )
    post_readings(kitchen, [probe.reading(3.5, 0)])
    assert _record_version(_get(kitchen).headers["etag"]) == _record_version(after)


@pytest.mark.parametrize(
    ("change", "sql", "shown"),
    [
        (
            "registry",
            "UPDATE premises SET name = 'Renamed' WHERE premises_id = 'p-1'",
            lambda b: b["premises"]["name"] == "Renamed",
        ),
        (
            "alert status",
            "UPDATE alerts SET status = 'closed' WHERE premises_id = 'p-1'",
            lambda b: b["alerts"]["items"][0]["status"] == "closed",
        ),
        (
            "device",
            "UPDATE devices SET location = 'cellar' WHERE device_id = 'fr-1'",
            lambda b: "cellar" in [p["location"] for p in b["live"]["probes"]["probes"]],
        ),
        (
            "transition",
            "UPDATE alert_transitions SET actor = 'reg-1/k' WHERE id = "
            "(SELECT MIN(id) FROM alert_transitions)",
            lambda b: "reg-1" in [s["by_org"] for s in b["alerts"]["items"][0]["rectification"]],
        ),
        (
            "day summary deleted",
            "DELETE FROM probe_day_summaries WHERE device_id = 'fz-1'",
            lambda b: (
                not any(
                    d["count"]
                    for p in b["temperatures"]["probes"]
                    if p["device_id"] == "fz-1"
                    for d in p["days"]
                )
            ),
        ),
    ],
)
def test_no_cached_body_outlives_a_change_however_it_is_written(
    kitchen: City, change: str, sql: str, shown: Any
) -> None:
    if change == "transition":
        seed_without_anchoring(kitchen)
        assert kitchen.client.get(URL).json()["alerts"]["items"][0]["rectification"]
    first = _get(kitchen)
    assert first.status_code == 200 and not shown(first.json())
    assert _get(kitchen).content == first.content  # cached now
    _execute(kitchen, sql)
    after = _get(kitchen, first.headers["etag"])
    assert after.status_code == 200, change
    assert shown(after.json()), change
    assert _record_version(after.headers["etag"]) > _record_version(first.headers["etag"])


def test_every_watched_table_has_its_trigger(database_url: str) -> None:
    from traceability.storage.db import migrate

    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.execute(
                text(
                    "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                    "WHERE t.tgname = 'record_version' AND c.relnamespace = "
                    "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
                )
            ).scalars()
            tables = {str(name): 3 for name in rows}
        else:
            tables = {}
            names = conn.execute(
                text(
                    "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                    "AND name LIKE 'record_version_%'"
                )
            ).scalars()
            for name in names:
                tables[str(name)] = tables.get(str(name), 0) + 1
            tables["premises"] = 3 if tables.get("premises") == 1 else 0
    assert set(inspect(engine).get_table_names()) >= set(WATCHED)
    engine.dispose()
    assert {t: tables.get(t) for t in WATCHED} == dict.fromkeys(WATCHED, 3)


def _version(minute: datetime, version: int = 1, premises: str = "p-1") -> RecordVersion:
    return RecordVersion(premises, version, 10, 12, minute)


def test_the_tag_names_every_input_and_bodies_only_answer_their_own_version() -> None:
    minute = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    base = _version(minute)
    others = [
        _version(minute + timedelta(minutes=1)),
        _version(minute, version=2),
        RecordVersion("p-1", 1, 11, 12, minute),
        RecordVersion("p-1", 1, 10, 13, minute),
    ]
    assert len({base.etag, *(v.etag for v in others)}) == 5
    bodies = RecordBodies(max_entries=2, max_bytes=10)
    bodies.put(base, b"abc")
    assert bodies.get(base) == b"abc"
    assert all(bodies.get(v) is None for v in others)
    bodies.put(others[0], b"def")  # the next minute replaces the premises' body
    assert bodies.get(base) is None and bodies.get(others[0]) == b"def"
    bodies.put(_version(minute, premises="p-2"), b"123456")
    bodies.put(_version(minute, premises="p-3"), b"78")  # p-1 is the least recently used
    assert len(bodies) == 2 and bodies.get(others[0]) is None
    bodies.put(_version(minute, premises="p-4"), b"x" * 11)  # larger than all: not kept
    assert bodies.get(_version(minute, premises="p-4")) is None
    bodies.put(_version(minute, premises="p-5"), b"y" * 9)  # over max_bytes with the rest
    assert len(bodies) == 1 and bodies.get(_version(minute, premises="p-5")) == b"y" * 9


def test_a_version_is_of_a_whole_minute_and_of_a_known_premises(city: City) -> None:
    from traceability.errors import NotFound

    with transaction(city.app.state.platform.sessions) as session:
        minute = datetime.now(UTC).replace(second=0, microsecond=0)
        assert current_version(session, "p-1", minute).premises_id == "p-1"
        with pytest.raises(ValueError, match="whole minute"):
            current_version(session, "p-1", minute + timedelta(seconds=1))
        with pytest.raises(NotFound, match="p-404"):
            current_version(session, "p-404", minute)
