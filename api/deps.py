"""Request dependencies: one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.embedded import EmbeddedChain, embedded_chain
from traceability.chain.factory import EMBEDDED_JOURNAL, open_chain
from traceability.checkpoints import NoteSigner
from traceability.log import TransparencyLog
from traceability.settings import Settings


@dataclass(frozen=True)
class Platform:
    """What the app built at start-up and every request shares."""

    settings: Settings
    sessions: sessionmaker[Session]
    log: TransparencyLog
    signer: NoteSigner

    def embedded_chain(self) -> EmbeddedChain:
        """The embedded chain, replayed from its journal (and deployed on first use)."""
        open_chain(self.settings, self.sessions)
        return embedded_chain(
            self.settings.data_dir / EMBEDDED_JOURNAL, gas_limit=self.settings.anchor_gas_limit
        )


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_session(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Session]:
    """Commit when the endpoint returns, roll back when it raises."""
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
SessionDep = Annotated[Session, Depends(get_session)]
