"""Proof bundles are read from the log through its ``LogReader`` side: reading writes
nothing, and a checkpoint is published only when none covers the event yet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from traceability.platform import open_platform
from traceability.proofs.bundles import NotCheckpointed, build_bundle, read_bundle
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import CheckpointRow
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.transparency.log import TransparencyLog


def _event(seq: int) -> dict[str, object]:
    return {
        "id": f"00000000-0000-4000-8000-{seq:012d}",
        "kind": "probe_reading",
        "subject": "device:fr-1",
        "occurred_at": "2026-11-25T10:00:00Z",
        "payload": {
            "device_id": "fr-1",
            "seq": seq,
            "measured_at": "2026-11-25T10:00:00Z",
            "values": [{"type": "Temperature", "value": 3.0, "uom": "CEL"}],
        },
    }


Opened = tuple[sessionmaker[Session], TransparencyLog, NoteSigner]


@pytest.fixture
def opened(settings: Settings) -> Iterator[Opened]:
    engine, sessions, log, signer = open_platform(settings)
    yield sessions, log, signer
    engine.dispose()


def _ingest(sessions: sessionmaker[Session], log: TransparencyLog, start: int, count: int) -> None:
    with transaction(sessions) as session:
        Ingest(log).ingest(session, parse_batch([_event(start + i) for i in range(count)]))


def _checkpoints(session: Session) -> list[int]:
    return list(session.execute(select(CheckpointRow.tree_size).order_by("tree_size")).scalars())


def test_reading_a_bundle_writes_nothing(
    opened: Opened,
) -> None:
    sessions, log, signer = opened
    _ingest(sessions, log, 0, 3)
    first = _event(0)["id"]
    with transaction(sessions) as session:
        with pytest.raises(NotCheckpointed, match=r"leaf 0\) is not covered .*none is signed yet"):
            read_bundle(session, log, signer.verifier_key(), str(first))
        assert _checkpoints(session) == []
        log.checkpoint(session, signer)
    _ingest(sessions, log, 3, 2)  # the log grows past the checkpoint
    with transaction(sessions) as session:
        bundle = read_bundle(session, log, signer.verifier_key(), str(first))
        assert bundle["status"] == "logged" and bundle["inclusion"]["tree_size"] == 3
        with pytest.raises(NotCheckpointed, match="the newest covers 3 leaves"):
            read_bundle(session, log, signer.verifier_key(), str(_event(4)["id"]))
        assert _checkpoints(session) == [3]


def test_a_checkpoint_is_published_only_when_none_covers_the_event(
    opened: Opened,
) -> None:
    sessions, log, signer = opened
    _ingest(sessions, log, 0, 2)
    with transaction(sessions) as session:
        bundle = build_bundle(session, log, signer, str(_event(1)["id"]))
        assert bundle["inclusion"]["tree_size"] == 2 and _checkpoints(session) == [2]
    _ingest(sessions, log, 2, 2)
    with transaction(sessions) as session:
        again = build_bundle(session, log, signer, str(_event(1)["id"]))
        assert again == bundle and _checkpoints(session) == [2]  # still covered: no signature
        newer = build_bundle(session, log, signer, str(_event(3)["id"]))
        assert newer["inclusion"]["tree_size"] == 4 and _checkpoints(session) == [2, 4]
        count = session.execute(select(func.count()).select_from(CheckpointRow)).scalar_one()
        assert count == 2
