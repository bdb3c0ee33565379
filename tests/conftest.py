"""Fixtures shared by the whole suite: settings on SQLite and on the real PostgreSQL.

Under ``CI=true`` a test that needs a service fails when the service is
missing; elsewhere it is skipped with the reason.

The clock: ``SUNLEDGER_TEST_CLOCK=<RFC 3339 instant>`` pins this process's
clock (time-machine, ticking) to that instant at collection and again at the
start of every test, so the time-sensitive modules can be run just after local
midnight, at 23:59, on the last day of a month... (``make test`` does: see
``tests/clocks.py``). Tests that need "now" take the ``clock`` fixture.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
import time_machine
from clocks import PINNED_CLOCK_ENV, TestClock
from fastapi.testclient import TestClient
from local_ports import free_port
from seeded_city import CITY_ORGS, CITY_PREMISES, City
from sqlalchemy import text

from api.app import create_app
from traceability.settings import Settings
from traceability.storage.db import make_engine, migrate
from traceability.storage.models import Base
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get(
    "SUNLEDGER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TABLES = tuple(table.name for table in Base.metadata.sorted_tables)


def _pinned_instant() -> datetime | None:
    value = os.environ.get(PINNED_CLOCK_ENV)
    if not value:
        return None
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise pytest.UsageError(f"{PINNED_CLOCK_ENV}={value!r} needs a UTC offset")
    return instant


_PINNED = _pinned_instant()
_session_travel: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Pin the clock before collection, so module-level instants are pinned ones too."""
    global _session_travel
    if _PINNED is not None and _session_travel is None:
        _session_travel = time_machine.travel(_PINNED.timestamp(), tick=True)
        _session_travel.start()


# Processes these fixtures start or talk to (a Celery worker, a Hardhat node, the broker's
# other clients) run on the wall clock, not the pinned one: a pinned run leaves their tests
# to the main run, which also keeps it off the shared Redis and Mosquitto.
_WALL_CLOCK_FIXTURES = frozenset({"redis_url", "mosquitto", "hardhat_url", "postgres_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _PINNED is None:
        return
    kept, dropped = [], []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        on_wall_clock = names & _WALL_CLOCK_FIXTURES or "postgresql" in item.name
        (dropped if on_wall_clock else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_unconfigure(config: pytest.Config) -> None:
    global _session_travel
    if _session_travel is not None:
        _session_travel.stop()
        _session_travel = None


def pytest_report_header(config: pytest.Config) -> str:
    pinned = f"pinned at {_PINNED.isoformat()}" if _PINNED else "the wall clock"
    return f"sunledger test clock: {pinned}; TZ={os.environ.get('TZ', '(unset)')}"


@pytest.fixture(autouse=True)
def _pinned_clock_per_test() -> Iterator[None]:
    """Every test starts at the pinned instant (when one is pinned), not minutes after it."""
    if _PINNED is None:
        yield
        return
    with time_machine.travel(_PINNED.timestamp(), tick=True):
        yield


@pytest.fixture
def clock() -> TestClock:
    """The one "now" of a test (pinned when SUNLEDGER_TEST_CLOCK is set)."""
    return TestClock()


def service_missing(name: str, reason: str) -> None:
    """Fail under CI, skip elsewhere: a missing service is never a silent pass in CI."""
    message = f"{name} is not reachable: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: service-backed tests must not skip)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """A private schema in the ``test`` database for this run, dropped at the end."""
    plain = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        conn = psycopg.connect(plain, connect_timeout=3, autocommit=True)
    except psycopg.Error as exc:
        service_missing("PostgreSQL", str(exc).strip())
        raise AssertionError("unreachable") from exc
    schema = f"sl_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()


def _postgres_url(schema: str) -> str:
    sep = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def postgres_url(postgres_schema: str) -> str:
    url = _postgres_url(postgres_schema)
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each persistence test runs on an empty SQLite file and on an emptied PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sunledger.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
    engine.dispose()
    yield url


@pytest.fixture
def signer() -> NoteSigner:
    return NoteSigner.generate("test-log")


@pytest.fixture
def settings(database_url: str, tmp_path: Path, signer: NoteSigner) -> Settings:
    key_file = tmp_path / "log.key"
    write_signer_key_file(key_file, signer)
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        log_origin="test.sunledger/log",
        signing_key_file=key_file,
    )


@pytest.fixture(scope="session")
def hardhat_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Hardhat node for this test run, started and stopped by its PID."""
    from traceability.chain import hardhat_node
    from traceability.errors import SunledgerError

    if not hardhat_node.HARDHAT_BIN.exists():
        service_missing("Hardhat", f"{hardhat_node.HARDHAT_BIN} is missing (npm ci)")
    pid_file = tmp_path_factory.mktemp("hardhat") / "node.pid"
    try:
        node = hardhat_node.start(pid_file, port=free_port())
    except SunledgerError as exc:
        service_missing("Hardhat", exc.detail)
        raise AssertionError("unreachable") from exc
    try:
        yield node.url
    finally:
        hardhat_node.stop(pid_file)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The local Redis (database 7 is the tests'); fail under CI, skip elsewhere, when down."""
    import redis

    url = os.environ.get("SUNLEDGER_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        service_missing("Redis", str(exc))
    return url


@pytest.fixture(scope="session")
def mosquitto() -> tuple[str, int]:
    """The local Mosquitto broker; fail under CI, skip elsewhere, when it is down."""
    import socket

    host = os.environ.get("SUNLEDGER_TEST_MQTT_HOST", "127.0.0.1")
    port = int(os.environ.get("SUNLEDGER_TEST_MQTT_PORT", "1883"))
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as exc:
        service_missing("Mosquitto", str(exc))
    return host, port


@pytest.fixture
def city(settings: Settings) -> Iterator[City]:
    from traceability.orgs.registry import Directory
    from traceability.storage.db import transaction

    app = create_app(settings)
    directory = Directory()
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    key_ids: dict[str, str] = {}
    sessions = app.state.platform.sessions
    with transaction(sessions) as session:
        for org_id, (role, districts) in CITY_ORGS.items():
            directory.create_organisation(
                session,
                org_id=org_id,
                name=f"{org_id} org",
                role=role,
                districts=districts,
                now=now,
            )
            issued = directory.issue_key(session, org_id, label="test", now=now)
            keys[org_id], key_ids[org_id] = issued.token, issued.key_id
        for premises_id, (owner, district) in CITY_PREMISES.items():
            directory.add_premises(
                session,
                premises_id=premises_id,
                org_id=owner,
                name=f"Restaurant {premises_id}",
                kind="restaurant",
                licence_number=f"JY1{premises_id.replace('-', '')}0000",
                licence_issued_on=date(2024, 1, 1),
                district=district,
                address=f"1 {premises_id} Road",
                now=now,
            )
    with TestClient(app) as client:
        yield City(app, client, keys, key_ids)
    app.state.engine.dispose()
