"""Ingest on SQLite and PostgreSQL: receipts, idempotency, atomic batches, personal data."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from traceability import merkle
from traceability.errors import Conflict, Invalid, VerificationError
from traceability.settings import Settings
from traceability.storage.db import engine_for, session_factory, transaction
from traceability.storage.models import EventRow, LogTile, PersonalValue
from traceability.transparency import personal_data
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.transparency.log import TransparencyLog
from traceability.transparency.receipts import verify_receipt


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = engine_for(settings)
    factory = session_factory(engine)
    with transaction(factory) as session:
        TransparencyLog(settings.log_origin).initialise(session)
    yield factory
    engine.dispose()


@pytest.fixture
def ingest(settings: Settings) -> Ingest:
    return Ingest(TransparencyLog(settings.log_origin))


def reading(seq: int, value: float = 4.2, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "probe_reading",
        "subject": "device:fr-0042",
        "occurred_at": "2026-11-25T10:00:00Z",
        "payload": {
            "device_id": "fr-0042",
            "seq": seq,
            "measured_at": "2026-11-25T10:00:00Z",
            "values": [{"type": "Temperature", "value": value, "uom": "CEL"}],
        },
        **extra,
    }


def morning_check(event_id: str, names: list[str]) -> dict[str, Any]:
    return {
        "id": event_id,
        "kind": "restaurant_record",
        "subject": "premises:p-001",
        "occurred_at": "2026-11-25T06:30:00+08:00",
        "payload": {
            "record_type": "morning_check",
            "staff": [
                {"name": n, "health_certificate_expiry": "2027-01-31", "excluded_reason": None}
                for n in names
            ],
        },
    }


def run(sessions: sessionmaker[Session], ingest: Ingest, raw: list[dict[str, Any]]) -> Any:
    with transaction(sessions) as session:
        return ingest.ingest(session, parse_batch(raw))


def counts(sessions: sessionmaker[Session]) -> tuple[int, int, int]:
    with sessions() as session:
        return (
            session.execute(select(func.count()).select_from(EventRow)).scalar_one(),
            session.execute(select(func.count()).select_from(PersonalValue)).scalar_one(),
            session.execute(select(func.count()).select_from(LogTile)).scalar_one(),
        )


def test_receipts_are_signed_and_match_the_log(
    sessions: sessionmaker[Session], ingest: Ingest, signer: NoteSigner
) -> None:
    result = run(sessions, ingest, [reading(1), reading(2), reading(3)])
    assert [r.leaf_index for r in result.receipts] == [0, 1, 2]
    with sessions() as session:
        for receipt in result.receipts:
            signed = receipt.signed(signer)
            assert verify_receipt(json.loads(json.dumps(signed)), signer.verifier()) == receipt
            row = session.get(EventRow, receipt.leaf_index)
            assert row is not None and row.event_id == receipt.event_id
            assert merkle.leaf_hash(row.body) == receipt.leaf_hash == row.leaf_hash
            proof = ingest.log.inclusion_proof(session, receipt.leaf_index, 3)
            merkle.verify_inclusion(
                receipt.leaf_index, 3, receipt.leaf_hash, proof.hashes, ingest.log.root(session)
            )


def test_forged_receipts_fail(
    sessions: sessionmaker[Session], ingest: Ingest, signer: NoteSigner
) -> None:
    receipt = run(sessions, ingest, [reading(1)]).receipts[0].signed(signer)
    for field, value in [("leaf_index", 7), ("leaf_hash", "00" * 32), ("event_id", "x")]:
        with pytest.raises(VerificationError):
            verify_receipt({**receipt, field: value}, signer.verifier())
    with pytest.raises(VerificationError, match="another key"):
        verify_receipt(receipt, NoteSigner.generate("test-log").verifier())
    with pytest.raises(VerificationError, match="malformed"):
        verify_receipt({k: v for k, v in receipt.items() if k != "signature"}, signer.verifier())


def test_the_same_event_id_is_stored_once(sessions: sessionmaker[Session], ingest: Ingest) -> None:
    event_id = str(uuid.uuid4())
    first = run(sessions, ingest, [morning_check(event_id, ["张三", "李四"])])
    again = run(sessions, ingest, [morning_check(event_id, ["张三", "李四"]), reading(9)])
    assert again.appended == 1
    assert again.receipts[0] == first.receipts[0]
    twice_in_batch = run(sessions, ingest, [reading(5, id=event_id[:-4] + "beef")] * 2)
    assert twice_in_batch.appended == 1
    assert twice_in_batch.receipts[0] == twice_in_batch.receipts[1]
    assert counts(sessions)[0] == 3


def test_same_id_other_content_rejects_the_whole_batch(
    sessions: sessionmaker[Session], ingest: Ingest
) -> None:
    event_id = str(uuid.uuid4())
    run(sessions, ingest, [morning_check(event_id, ["张三"])])
    before = counts(sessions)
    with pytest.raises(Conflict, match=f"event 1: id {event_id} is already logged"):
        run(sessions, ingest, [reading(2), morning_check(event_id, ["王五"])])
    other = str(uuid.uuid4())
    with pytest.raises(Conflict, match="repeats with other content"):
        run(sessions, ingest, [reading(3, id=other), reading(4, id=other)])
    assert counts(sessions) == before


def test_a_bad_event_rejects_the_batch_and_names_it(
    sessions: sessionmaker[Session], ingest: Ingest
) -> None:
    bad = reading(2)
    bad["payload"]["values"][0]["value"] = "warm"
    with pytest.raises(Invalid, match=r"event 1: payload.*|event 1: values.0.value"):
        run(sessions, ingest, [reading(1), bad, reading(3)])
    with pytest.raises(Invalid, match="event 0: occurred_at"):
        run(sessions, ingest, [{**reading(1), "occurred_at": "2026-11-25T10:00:00"}])
    with pytest.raises(Invalid, match="event 0: subject"):
        run(sessions, ingest, [{**reading(1), "subject": "restaurant 12"}])
    with pytest.raises(Invalid, match="event 0: kind"):
        run(sessions, ingest, [{**reading(1), "kind": "gossip"}])
    assert counts(sessions) == (0, 0, 0)


def test_personal_data_is_only_committed_and_can_be_erased(
    sessions: sessionmaker[Session], ingest: Ingest
) -> None:
    event_id = str(uuid.uuid4())
    receipt = run(sessions, ingest, [morning_check(event_id, ["张三", "李四"])]).receipts[0]
    with sessions() as session:
        row = session.get(EventRow, receipt.leaf_index)
        assert row is not None
        body = row.body.decode()
        assert "张三" not in body and "李四" not in body
        staff = json.loads(body)["payload"]["staff"]
        assert set(staff[0]["name"]) == {"commitment"}
        assert personal_data.reveal(session, event_id) == {
            "/payload/staff/0/name": "张三",
            "/payload/staff/1/name": "李四",
        }
    with transaction(sessions) as session:
        assert personal_data.erase(session, event_id) == 2
    with sessions() as session:
        assert personal_data.reveal(session, event_id) == {
            "/payload/staff/0/name": None,
            "/payload/staff/1/name": None,
        }
        # The leaf and its proof are untouched by the erasure.
        row = session.get(EventRow, receipt.leaf_index)
        assert row is not None and merkle.leaf_hash(row.body) == receipt.leaf_hash
        proof = ingest.log.inclusion_proof(session, receipt.leaf_index, 1)
        merkle.verify_inclusion(0, 1, receipt.leaf_hash, proof.hashes, ingest.log.root(session))
    with pytest.raises(Conflict, match="personal data erased"):
        run(sessions, ingest, [morning_check(event_id, ["张三", "李四"])])


def test_two_commitments_to_the_same_name_differ(
    sessions: sessionmaker[Session], ingest: Ingest
) -> None:
    result = run(
        sessions,
        ingest,
        [morning_check(str(uuid.uuid4()), ["张三"]), morning_check(str(uuid.uuid4()), ["张三"])],
    )
    with sessions() as session:
        names = []
        for receipt in result.receipts:
            row = session.get(EventRow, receipt.leaf_index)
            assert row is not None
            names.append(json.loads(row.body)["payload"]["staff"][0]["name"]["commitment"])
    assert names[0] != names[1]


def test_batch_limit(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(Invalid, match="over the limit"):
        parse_batch([reading(i) for i in range(10_001)])
