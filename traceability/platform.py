"""The platform: what a process opens once from its settings and hands down.

``Platform.open`` is for the processes that run the platform (the API app, the
worker, the commands that write): it migrates the database and creates what is
missing. ``Platform.open_existing`` is for the read-only and auditing commands and
creates nothing: an auditor who mistypes a path is told so, never handed a brand
new, empty and "valid" log. Each process builds one platform and passes it down;
its chain, anchoring, witnessing and intake services are opened on first use, once.

``open_platform`` and ``open_existing_platform`` open the stores alone (engine,
sessions, log, signer), for commands and tests that need no service on top.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.anchoring import Anchoring, AnchorPolicy
from traceability.chain.client import AnchorChain
from traceability.chain.embedded import EmbeddedChain
from traceability.chain.factory import open_chain
from traceability.devices.intake import IntakePolicy, ProbeIntake
from traceability.errors import Invalid, NotFound
from traceability.public_record.version import RecordBodies
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
from traceability.witnessing.collection import Witnessing

_Service = TypeVar("_Service")


@dataclass(eq=False)
class Platform:
    """One process's stores and services, built once at process start and passed down.

    The API app keeps it in its state, the worker builds its Celery tasks on it, a
    command opens it for its run. The services on top (the chain, anchoring,
    witnessing, probe intake) are opened on first use and then shared by every
    request and task of the process: in the embedded mode one process has one
    database engine and one chain.
    """

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    log: TransparencyLog
    signer: NoteSigner
    _services: dict[str, object] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, settings: Settings) -> Platform:
        """Migrate the database, load the signer and make sure the log exists."""
        engine, sessions, log, signer = open_platform(settings)
        return cls(settings, engine, sessions, log, signer)

    @classmethod
    def open_existing(cls, settings: Settings) -> Platform:
        """The stores that already exist (``open_existing_platform``): creates nothing."""
        engine, sessions, log, signer = open_existing_platform(settings)
        return cls(settings, engine, sessions, log, signer)

    def close(self) -> None:
        """Close the database connections (the engine stays usable: it reconnects)."""
        self.engine.dispose()

    def _once(self, name: str, make: Callable[[], _Service]) -> _Service:
        with self._lock:
            if name not in self._services:
                self._services[name] = make()
            service: _Service = self._services[name]  # type: ignore[assignment]
            return service

    @property
    def chain(self) -> AnchorChain:
        """The anchor chain of the settings, opened on first use (the embedded one deploys
        its contract then; each call to it replays what other processes journalled)."""
        return self._once("chain", lambda: open_chain(self.settings, self.sessions))

    @property
    def embedded_chain(self) -> EmbeddedChain:
        """The chain, which must be the embedded one (the API serves its JSON-RPC)."""
        chain = self.chain
        if not isinstance(chain, EmbeddedChain):
            raise TypeError(f"the configured chain is {self.settings.chain}, not embedded")
        return chain

    @property
    def anchor_policy(self) -> AnchorPolicy:
        return AnchorPolicy(
            every_events=self.settings.anchor_every_events,
            interval=timedelta(seconds=self.settings.anchor_interval_seconds),
            confirmations=self.settings.anchor_confirmations,
        )

    @property
    def anchoring(self) -> Anchoring:
        """The anchoring service on the platform's chain."""
        return self._once(
            "anchoring", lambda: Anchoring(self.log, self.signer, self.chain, self.anchor_policy)
        )

    @property
    def witnessing(self) -> Witnessing:
        """The witness policy of the settings, and the cosignatures collected under it."""
        return self._once("witnessing", lambda: Witnessing.from_settings(self.log, self.settings))

    @property
    def probe_intake(self) -> ProbeIntake:
        """The probe intake service, with the settings' limits on reading times."""

        def make() -> ProbeIntake:
            policy = IntakePolicy(
                max_future=timedelta(seconds=self.settings.reading_max_future_seconds),
                max_age=timedelta(seconds=self.settings.reading_max_age_seconds),
            )
            return ProbeIntake(self.log, self.signer, policy)

        return self._once("probe_intake", make)

    @property
    def record_bodies(self) -> RecordBodies:
        """The public records this process built, by version (``public_record.version``)."""
        return self._once("record_bodies", RecordBodies)

    def served_checkpoint(self, session: Session) -> str:
        """The checkpoint readers get: the newest one that met the witness policy (or the
        newest), with the witnesses' cosignature lines after the log's signature."""
        return self.witnessing.served_checkpoint(session)


def open_platform(
    settings: Settings,
) -> tuple[Engine, sessionmaker[Session], TransparencyLog, NoteSigner]:
    """The stores alone (``Platform.open`` builds the platform on them): migrate the
    database, load the signer and make sure the log exists."""
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
