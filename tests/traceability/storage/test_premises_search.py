"""The premises text index (migration 0013): the same answers as a plain substring filter,
through the index, kept in step with the premises table, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import psycopg
import pytest
from alembic import command
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.public_record import listing_repository
from traceability.storage.db import alembic_config, make_engine, migrate
from traceability.storage.models import OrganisationRow, PremisesRow
from traceability.storage.premises_search import premises_matching, search_text

# (id, name, address, district): Chinese, mixed case, LIKE's wildcards, FTS5's syntax.
PREMISES = [
    ("p-01", "饺子馆", "人民路 12号", "西湖区"),
    ("p-02", "老王饺子", "中山路 3号", "上城区"),
    ("p-03", "Noodle House", "12 Riverside Road", "Harbour"),
    ("p-04", "NOODLE bar 面馆", "5 Station Street", "西湖区"),
    ("p-05", "Green Bowl", "人民路 200号", "Old Town"),
    ("p-06", "面包坊", "8 Harbour Lane", "上城区"),
    ("p-07", "Dim Sum 点心", "1 High St", "Old Town"),
    ("p-08", "Café 50%_off", "3 Rue", "d1"),
    ("p-09", 'Say "Hi" OR Bar*', "NEAR(a b) Lane", "d2"),
    ("p-10", "ab", "x", "饺"),
]
QUERIES = [
    "饺子",  # two characters: the scan
    "饺",
    "饺子馆",
    "老王饺子",
    "NOODLE",
    "noodle house",
    "oodl",
    "人民路",
    "人民路 1",
    "西湖",
    "西湖区",
    "old town",
    "OLD",
    "harbour",
    "12",
    "1 High",
    "CAFÉ",
    "50%_",
    "%",
    "_",
    '"hi"',
    '"',
    "or bar*",
    "noodle OR bowl",
    "NEAR(a",
    "house*",
    "-",
    "ab",
    "a",
    "面",
    "面馆",
    "zzz-nothing",
    "z",
]


def reference(query: str, district: str | None = None) -> list[str]:
    """The answer by definition: the query in any field, any case."""
    needle = query.lower()
    return sorted(
        pid
        for pid, *fields in PREMISES
        if any(needle in f.lower() for f in fields) and district in (None, fields[2])
    )


def _row(pid: str, name: str, address: str, district: str) -> dict[str, object]:
    return {
        "premises_id": pid,
        "org_id": "org-1",
        "name": name,
        "kind": "restaurant",
        "licence_number": None,
        "licence_status": "valid",
        "licence_issued_on": date(2024, 1, 1),
        "licence_expires_on": None,
        "district": district,
        "address": address,
        "timezone": "Asia/Shanghai",
        "first_shift": "07:00",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }


def seed(engine: Engine, premises: list[tuple[str, str, str, str]]) -> None:
    with Session(engine) as session, session.begin():
        session.execute(
            insert(OrganisationRow),
            [
                {
                    "org_id": "org-1",
                    "name": "org",
                    "role": "restaurant",
                    "districts": "[]",
                    "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                }
            ],
        )
        session.execute(insert(PremisesRow), [_row(*p) for p in premises])


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine)
    seed(engine, PREMISES)
    yield engine
    engine.dispose()


def found(engine: Engine, query: str, district: str | None = None) -> tuple[int, list[str]]:
    with Session(engine) as session:
        total, rows = listing_repository.search(
            session, text=query, district=district, offset=0, limit=100
        )
    return total, [row.premises_id for row in rows]


def test_the_search_answers_what_a_substring_filter_answers(engine: Engine) -> None:
    wrong = {}
    for query in QUERIES:
        total, ids = found(engine, query)
        if (total, sorted(ids)) != (len(reference(query)), reference(query)):
            wrong[query] = (total, sorted(ids), reference(query))
    assert wrong == {}
    # The seeded set is not trivial: matches and misses, short and long.
    assert {len(reference(q)) for q in QUERIES} >= {0, 1, 2, 3}


@pytest.mark.parametrize(
    ("query", "district"), [("饺子", "西湖区"), ("noodle", "西湖区"), ("路", "上城区")]
)
def test_text_and_district_together(engine: Engine, query: str, district: str) -> None:
    total, ids = found(engine, query, district)
    assert (total, sorted(ids)) == (len(reference(query, district)), reference(query, district))
    assert ids  # each case finds something


def test_pages_are_in_name_order_and_the_total_counts_every_match(engine: Engine) -> None:
    with Session(engine) as session:
        total, rows = listing_repository.search(
            session, text="路", district=None, offset=1, limit=2
        )
        _, every = listing_repository.search(session, text="路", district=None, offset=0, limit=100)
    names = [r.name for r in every]
    assert names == sorted(names) and total == len(reference("路")) == 3
    assert [r.premises_id for r in rows] == [r.premises_id for r in every[1:3]]


def _plan(engine: Engine, query: str) -> str:
    statement = select(PremisesRow.premises_id).where(premises_matching(engine.dialect.name, query))
    compiled = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Ten rows: the planner would rightly read the table; the test asks whether
            # it can use the index at all.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(conn.execute(text(f"EXPLAIN {compiled}")).scalars())
        return "\n".join(
            str(row[3]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))
        )


def test_a_query_of_three_characters_or_more_uses_the_index(engine: Engine) -> None:
    for query in ("饺子馆", "noodle house", "人民路"):
        plan = _plan(engine, query)
        if engine.dialect.name == "postgresql":
            assert "Bitmap Index Scan on ix_premises_text_trgm" in plan, plan
            assert "Seq Scan" not in plan, plan
        else:
            # M: the FTS5 table answers a MATCH (not a scan of its rows).
            assert "SCAN premises_search VIRTUAL TABLE INDEX 0:M" in plan, plan
            assert "SCAN premises " not in plan + " ", plan
    if engine.dialect.name == "sqlite":
        # One or two characters: no trigram to look up, the premises are scanned.
        assert "premises_search" not in _plan(engine, "饺子")


def _ids(engine: Engine, query: str) -> list[str]:
    return sorted(found(engine, query)[1])


def test_adding_renaming_moving_and_removing_a_premises_keeps_the_index_in_step(
    engine: Engine,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(PremisesRow(**_row("p-20", "Sichuan Pepper", "9 Canal Walk", "Eastside")))
    assert _ids(engine, "pepper") == ["p-20"] and _ids(engine, "canal w") == ["p-20"]
    with Session(engine) as session, session.begin():
        row = session.get(PremisesRow, "p-20")
        assert row is not None
        row.name = "川味小馆"
    assert _ids(engine, "pepper") == [] and _ids(engine, "川味小") == ["p-20"]
    assert _ids(engine, "canal w") == ["p-20"]  # the other columns are still there
    with engine.begin() as conn:  # Core, as an operator's UPDATE would
        conn.execute(
            update(PremisesRow)
            .where(PremisesRow.premises_id == "p-20")
            .values(address="77 Mill Road", district="Westside")
        )
        # An update of another column (as record_version's triggers make) changes nothing.
        conn.execute(
            update(PremisesRow).where(PremisesRow.premises_id == "p-01").values(kind="canteen")
        )
    assert _ids(engine, "canal w") == [] and _ids(engine, "mill road") == ["p-20"]
    assert _ids(engine, "westside") == ["p-20"] and _ids(engine, "eastside") == []
    assert _ids(engine, "饺子馆") == ["p-01"]
    with engine.begin() as conn:
        conn.execute(delete(PremisesRow).where(PremisesRow.premises_id == "p-20"))
    assert _ids(engine, "川味小") == [] and _ids(engine, "mill road") == []
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            held = conn.execute(text("SELECT count(*) FROM premises_search")).scalar_one()
            rows = conn.execute(select(func.count()).select_from(PremisesRow)).scalar_one()
        assert held == rows == len(PREMISES)


def test_migrating_down_and_up_again_rebuilds_the_index_from_the_premises(
    engine: Engine,
) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0012")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            kept = conn.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'premises_search%'")
            ).all()
        else:
            kept = conn.execute(
                text(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                    "AND indexname LIKE '%_trgm'"
                )
            ).all()
    assert kept == []
    command.upgrade(config, "head")
    assert _ids(engine, "饺子馆") == ["p-01"] and _ids(engine, "noodle") == ["p-03", "p-04"]
    assert "premises_search" in _plan(engine, "饺子馆") or engine.dialect.name == "postgresql"


@pytest.mark.parametrize("bad", ["x" * 101, "noodle\x00", "a\nb", "\x7f"])
def test_a_bad_query_is_invalid(bad: str) -> None:
    with pytest.raises(Invalid):
        search_text(bad)


def test_a_blank_query_is_no_query() -> None:
    assert search_text("  ") is None and search_text(None) is None
    assert search_text(" 饺子 ") == "饺子"


def test_without_pg_trgm_and_no_right_to_create_it_the_migration_says_what_to_do(
    postgres_url: str,
) -> None:
    """A database where pg_trgm is not installed and a role that may not create it: the
    migration stops at 0013 naming the extension and the fix."""
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
    database, role = f"sl_trgm_{suffix}", f"sl_trgm_{suffix}"
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    engine = None
    try:
        with psycopg.connect(plain.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as db:
            db.execute(f'CREATE SCHEMA app AUTHORIZATION "{role}"')
        base = postgres_url.split("?")[0].rsplit("/", 1)[0].replace("postgres@", f"{role}@")
        engine = make_engine(f"{base}/{database}?options=-csearch_path%3Dapp")
        with pytest.raises(RuntimeError) as raised:
            migrate(engine)
        message = str(raised.value)
        assert "pg_trgm" in message and "CREATE EXTENSION pg_trgm" in message
        assert "permission denied" in message and "docs/deploy.md" in message
        with engine.connect() as conn:  # one transaction: nothing is left half migrated
            tables = conn.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'app'"))
            assert tables.scalar_one() == 0
    finally:
        if engine is not None:
            engine.dispose()
        with psycopg.connect(plain, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_at_a_citys_size_postgresql_chooses_the_index_by_itself(postgres_url: str) -> None:
    """Without enable_seqscan off: on 5,000 premises the planner must prefer the trigram
    index for a selective query (with an index per column and an OR, it read the table)."""
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE premises, organisations CASCADE"))
    seed(
        engine,
        [
            (
                f"p-{n:05d}",
                f"{['饺子馆', 'Noodle House', '面包坊'][n % 3]} {n}",
                f"{n} 人民路",
                f"d{n % 16}",
            )
            for n in range(5_000)
        ],
    )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE premises"))
    try:
        for query in ("Noodle House 1234", "zzzz", "4321 人民"):
            statement = (
                select(func.count())
                .select_from(PremisesRow)
                .where(premises_matching("postgresql", query))
            )
            compiled = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
            with engine.connect() as conn:
                plan = "\n".join(conn.execute(text(f"EXPLAIN {compiled}")).scalars())
            assert "Bitmap Index Scan on ix_premises_text_trgm" in plan, plan
        assert found(engine, "Noodle House 1234") == (1, ["p-01234"])
    finally:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE premises, organisations CASCADE"))
        engine.dispose()
