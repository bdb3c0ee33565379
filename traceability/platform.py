"""Opening the platform's stores from settings: database, log and signing key.

``open_platform`` is for the commands that run the platform (serve, append, the
worker): it migrates the database and creates what is missing. The read-only and
auditing commands use ``open_existing_platform``, which creates nothing: an auditor
who mistypes a path is told so, never handed a brand new, empty and "valid" log.
"""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from traceability.errors import Invalid, NotFound
from traceability.settings import Settings
from traceability.storage.db import (
    alembic_config,
    engine_for,
    make_engine,
    session_factory,
    transaction,
)
from traceability.transparency import log_repository
from traceability.transparency.checkpoints import NoteSigner, read_signer_key_file
from traceability.transparency.keys import load_signer
from traceability.transparency.log import TransparencyLog


def open_platform(
    settings: Settings,
) -> tuple[Engine, sessionmaker[Session], TransparencyLog, NoteSigner]:
    """Migrate the database, load the signer and make sure the log exists."""
    signer = load_signer(settings)
    engine = engine_for(settings)
    sessions = session_factory(engine)
    log = TransparencyLog(settings.log_origin)
    with transaction(sessions) as session:
        log.initialise(session)
    return engine, sessions, log, signer


def database_name(settings: Settings) -> str:
    """The database as an error message may name it (a URL's password hidden)."""
    if settings.is_embedded:
        return settings.resolved_database_url.split(":///", 1)[-1]
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


def open_existing_platform(
    settings: Settings,
) -> tuple[Engine, sessionmaker[Session], TransparencyLog, NoteSigner]:
    """The data directory, database, schema, log and signing key that already exist.

    Creates, migrates and initialises nothing. ``NotFound`` names the missing data
    directory, database file, signing key or log; ``Invalid`` a schema that is not the
    one this version reads (``sunledger db upgrade``) or a database of another log.
    """
    where = database_name(settings)
    if settings.is_embedded:
        if not settings.data_dir.is_dir():
            raise NotFound(f"the data directory {settings.data_dir} does not exist")
        if where != ":memory:" and not Path(where).is_file():
            raise NotFound(f"there is no database {where} (nothing was ever logged there)")
    key_file = settings.resolved_signing_key_file
    if not key_file.is_file():
        setting = (
            "SUNLEDGER_SIGNING_KEY_FILE"
            if settings.signing_key_file is not None
            else "SUNLEDGER_SIGNING_KEY_FILE (unset: the data directory's key)"
        )
        raise NotFound(f"the log's signing key file {key_file} does not exist ({setting})")
    signer = read_signer_key_file(key_file)
    engine = make_engine(settings.resolved_database_url)
    try:
        _check_schema(engine, where)
        sessions = session_factory(engine)
        with sessions() as session:
            state = log_repository.read_state(session)
            origin = None if state is None else state.origin
            session.rollback()
    except SQLAlchemyError as exc:
        engine.dispose()
        raise Invalid(f"the database {where} cannot be read: {exc.__class__.__name__}") from exc
    except (NotFound, Invalid):
        engine.dispose()
        raise
    if origin is None:
        engine.dispose()
        raise NotFound(f"the database {where} holds no log")
    if origin != settings.log_origin:
        engine.dispose()
        raise Invalid(
            f"the database {where} holds the log {origin!r}, not {settings.log_origin!r} "
            "(check SUNLEDGER_LOG_ORIGIN)"
        )
    return engine, sessions, TransparencyLog(settings.log_origin), signer


def _check_schema(engine: Engine, where: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current is None:
        raise NotFound(f"the database {where} holds no sunledger schema")
    if current != head:
        raise Invalid(
            f"the database {where} is at schema revision {current}, this sunledger reads "
            f"{head}: run `sunledger db upgrade` first"
        )
