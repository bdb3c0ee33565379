"""Request dependencies: one database transaction per request."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.embedded import EmbeddedChain
from traceability.chain.factory import open_chain
from traceability.devices.intake import IntakePolicy, ProbeIntake
from traceability.entrypoints.worker import (
    request_anchor_tick,
    request_day_summaries,
    request_webhook_delivery,
)
from traceability.errors import SunledgerError
from traceability.public_record.version import RecordBodies
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog
from traceability.witnessing.collection import Witnessing

logger = logging.getLogger("sunledger.api")


@dataclass(frozen=True)
class Platform:
    """What the app built at start-up and every request shares."""

    settings: Settings
    sessions: sessionmaker[Session]
    log: TransparencyLog
    signer: NoteSigner

    @cached_property
    def probe_intake(self) -> ProbeIntake:
        """The intake service, built once per app."""
        policy = IntakePolicy(
            max_future=timedelta(seconds=self.settings.reading_max_future_seconds),
            max_age=timedelta(seconds=self.settings.reading_max_age_seconds),
        )
        return ProbeIntake(self.log, self.signer, policy)

    @cached_property
    def record_bodies(self) -> RecordBodies:
        """The public records this process built, by version (see ``public_record.version``)."""
        return RecordBodies()

    def after_commit(
        self, background: BackgroundTasks, *, alerts: bool = False, readings: bool = False
    ) -> None:
        """Work that must follow a commit, done after the answer has been sent (ingest never
        waits on the chain or on webhook receivers): after probe readings, the embedded
        mode logs the probe day summaries that are due; then ask for an anchoring tick
        (queued, or eager: one at a time, so a stalled chain holds at most one thread), and
        when the transaction opened or moved alerts, for webhook delivery (class 1 alerts
        are "immediate notice"; the beat would otherwise send them within 15 s)."""
        background.add_task(self.run_after_commit, alerts=alerts, readings=readings)

    def run_after_commit(self, *, alerts: bool = False, readings: bool = False) -> None:
        if readings:
            try:
                request_day_summaries(self.settings)
            except (SunledgerError, SQLAlchemyError) as exc:
                logger.warning("probe day summaries postponed: %s", exc)
        try:
            request_anchor_tick(self.settings)
        except Exception as exc:  # committed already: the next tick (or the beat) anchors it
            logger.warning("anchoring postponed: %s", getattr(exc, "detail", exc))
        if alerts:
            try:
                request_webhook_delivery(self.settings)
            except (SunledgerError, SQLAlchemyError, OSError) as exc:
                # The transaction is committed; deliveries wait in the outbox for the beat.
                logger.warning("webhook delivery postponed: %s", exc)

    @cached_property
    def witnessing(self) -> Witnessing:
        """The witness policy of the settings, and the cosignatures collected under it."""
        return Witnessing.from_settings(self.log, self.settings)

    def served_checkpoint(self, session: Session) -> str:
        """The checkpoint readers get: the newest one that met the witness policy (or the
        newest), with the witnesses' cosignature lines after the log's signature."""
        return self.witnessing.served_checkpoint(session)

    @cached_property
    def embedded_chain(self) -> EmbeddedChain:
        """The embedded chain, deployed on first use; each call to it replays what other
        processes added to its journal."""
        chain = open_chain(self.settings, self.sessions)
        if not isinstance(chain, EmbeddedChain):
            raise TypeError(f"the configured chain is {self.settings.chain}, not embedded")
        return chain


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_session(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Session]:
    """Commit when the endpoint returns, roll back when it raises.

    Its scope is the endpoint function (``SessionDep``): the commit happens before the
    response is sent, so a client that gets its 201 and asks again (on another
    connection, to another server process) reads what it wrote, and a failed commit is
    an error answer, never a 201 for something that was not stored."""
    session = platform.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
