"""Opening the platform's stores from settings: database, log and signing key."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from traceability.checkpoints import NoteSigner
from traceability.db import engine_for, session_factory, transaction
from traceability.keys import load_signer
from traceability.log import TransparencyLog
from traceability.settings import Settings


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
