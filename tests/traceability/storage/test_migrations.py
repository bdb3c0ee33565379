"""Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from traceability.storage.db import alembic_config, make_engine, migrate
from traceability.storage.models import Base
from traceability.storage.premises_search import described_by_models


def test_migrations_match_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    with engine.connect() as conn:
        # The search index's FTS5 table and trigram indexes are written in SQL (0013).
        context = MigrationContext.configure(conn, opts={"include_object": described_by_models})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine)
    config = alembic_config(engine)
    command.downgrade(config, "base")
    assert not set(Base.metadata.tables) & set(inspect(engine).get_table_names())
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrating_again_after_the_tables_were_dropped(postgres_url: str) -> None:
    """Emptying a schema (DROP TABLE ... CASCADE, as an operator or the deployment test
    does) leaves the record-version trigger functions behind; migrating again works."""
    from sqlalchemy import text

    from tests.deployment_kit import private_schema

    with private_schema(postgres_url) as url:
        engine = make_engine(url)
        migrate(engine)
        with engine.begin() as conn:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
            for table in list(tables):
                conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
        migrate(engine)
        assert "premises" in inspect(engine).get_table_names()
        engine.dispose()
