"""The sunshine record (阳光餐厅): what a consumer sees of a premises, with no personal data.

Every item that stands on a logged event carries its anchoring status and the
path of its proof bundle. Staff are never named: records are shown by their
public summaries (counts), alert transitions by the acting organisation only
(not the key, not a person), and free-text notes of transitions are left out
because nothing checks them for names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from traceability.alerts import repository as alerts_repo
from traceability.cameras.registry import CameraRegistry, latest_snapshots
from traceability.errors import NotFound
from traceability.inspections import repository as inspections_repo
from traceability.inspections.grades import RESULT_LABELS
from traceability.orgs import repository as org_repository
from traceability.public_record import repository as repo
from traceability.public_record.coverage import AnchorCoverage
from traceability.public_record.probes import SUMMARY_DAYS, probe_sections
from traceability.records.gs1 import digital_link_path
from traceability.storage.models import AlertRow, AlertTransitionRow, InspectionRow, LotRow
from traceability.transparency.events import rfc3339

ALERT_DAYS = 90
MAX_ALERTS = 100
MAX_TRANSITIONS = 1000
MAX_RECORDS = 20
MAX_LOTS = 30
# Keys that name or describe a person in a record's fields (FOOD_SAFETY_RULES.md daily
# records): dropped from summaries even if a summary carried one by mistake.
PERSONAL_KEYS = frozenset(
    {"name", "names", "staff", "person", "receiver", "recorded_by", "excluded_reason", "phone"}
)


def _without_personal(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_personal(v) for k, v in value.items() if k not in PERSONAL_KEYS}
    if isinstance(value, list):
        return [_without_personal(v) for v in value]
    return value


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _org_of(actor: str) -> str:
    """``org/key`` names a key; the public sees only the organisation."""
    return actor.split("/", 1)[0]


def _day(value: Any) -> str | None:
    return None if value is None else str(value.isoformat())


def _moment(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def _inspection(row: InspectionRow, coverage: AnchorCoverage) -> dict[str, Any]:
    label = RESULT_LABELS.get(row.result or "", {})
    return {
        "inspected_on": row.inspected_on.isoformat(),
        "inspector_org": row.regulator_org,
        "score": row.score,
        "result": row.result,
        "result_zh": label.get("zh"),
        "face": label.get("face"),
        "scheme": row.scheme,
        "inspection_type": row.inspection_type,
        "rating": row.rating,
        "violations": _json(row.violations),
        "summary": _json(row.summary),
        "event": coverage.proof(row.event_id),
    }


def _alert(
    row: AlertRow, steps: list[AlertTransitionRow], coverage: AnchorCoverage
) -> dict[str, Any]:
    return {
        "alert_id": row.alert_id,
        "class": row.alert_class,
        "rule": row.rule,
        "source": row.source,
        "subject": row.subject,
        "description": row.detail,
        "status": row.status,
        "escalation": row.escalation,
        "started_at": _moment(row.started_at),
        "opened_at": _moment(row.opened_at),
        "due_at": _moment(row.due_at),
        "recovered_at": _moment(row.recovered_at),
        "closed_at": _moment(row.closed_at),
        "event": coverage.proof(row.breach_event_id),
        "rectification": [
            {
                "from_status": step.from_status,
                "to_status": step.to_status,
                "at": _moment(step.at),
                "by_org": _org_of(step.actor),
                "evidence_count": len(_json(step.evidence) or []),
                "event": coverage.proof(step.event_id),
            }
            for step in steps
        ],
    }


def lot_json(row: LotRow, coverage: AnchorCoverage) -> dict[str, Any]:
    return {
        "product": row.product,
        "lot_code": row.lot_code,
        "gtin": row.gtin,
        "supplier": row.supplier,
        "supplier_licence": row.supplier_licence,
        "production_date": _day(row.production_date),
        "shelf_life_days": row.shelf_life_days,
        "received_on": row.received_on.isoformat(),
        "quantity": row.quantity,
        "unit": row.unit,
        "lot_page": None if row.gtin is None else digital_link_path(row.gtin, row.lot_code),
        "event": coverage.proof(row.event_id),
    }


def sunshine_record(session: Session, premises_id: str, now: datetime) -> dict[str, Any]:
    """The public record of a premises; ``NotFound`` for an unknown one."""
    premises = org_repository.premises(session, premises_id)
    if premises is None:
        raise NotFound(f"no premises {premises_id}")
    grade = inspections_repo.current_grade(session, premises_id)
    inspection = inspections_repo.latest_inspection(session, premises_id)
    alerts = alerts_repo.alerts_since(
        session, premises_id, now - timedelta(days=ALERT_DAYS), limit=MAX_ALERTS
    )
    steps: dict[str, list[AlertTransitionRow]] = {a.alert_id: [] for a in alerts}
    for step in alerts_repo.transitions_of(session, list(steps), limit=MAX_TRANSITIONS):
        steps[step.alert_id].append(step)
    records = repo.latest_records(session, premises_id, limit=MAX_RECORDS)
    lots = repo.latest_lots(session, premises_id, limit=MAX_LOTS)
    cameras = CameraRegistry().counts(session, premises_id, now)
    snapshots = latest_snapshots(session, premises_id, now)

    event_ids = [r.event_id for r in records] + [lot.event_id for lot in lots]
    event_ids += [a.breach_event_id for a in alerts]
    event_ids += [s.event_id for group in steps.values() for s in group]
    event_ids += [row.event_id for row in (grade, inspection) if row is not None]
    event_ids += [s["latest"]["event_id"] for s in snapshots if s["latest"] is not None]
    compliance, temperatures, coverage = probe_sections(
        session, premises_id, premises.timezone, now, also=event_ids
    )
    for snap in snapshots:
        if snap["latest"] is not None:
            snap["latest"]["event"] = coverage.proof(snap["latest"].pop("event_id"))

    return {
        "premises": {
            "premises_id": premises.premises_id,
            "name": premises.name,
            "kind": premises.kind,
            "address": premises.address,
            "district": premises.district,
            # The premises' IANA zone: the page shows every time in it, with the zone named.
            "timezone": premises.timezone,
            "licence": {
                "number": premises.licence_number,
                "status": premises.licence_status,
                "issued_on": _day(premises.licence_issued_on),
                "expires_on": _day(premises.licence_expires_on),
            },
        },
        "grade": (
            {"year": None, "grade": None, "reason": "no grade has been decided yet"}
            if grade is None
            else {
                "year": grade.year,
                "grade": grade.grade,
                "reason": grade.reason,
                "decided_at": rfc3339(grade.decided_at),
                "decided_by": grade.decided_by,
                "event": coverage.proof(grade.event_id),
            }
        ),
        "latest_inspection": None if inspection is None else _inspection(inspection, coverage),
        "live": {
            "as_of": rfc3339(now),
            "probes": compliance,
            # Online: a frame within CameraRegistry's ONLINE_WITHIN (five minutes).
            "cameras": {"registered": cameras.registered, "online": cameras.online},
        },
        # 可视: each publishing camera's latest kitchen snapshot (faces blurred).
        "snapshots": {"timezone": premises.timezone, "cameras": snapshots},
        "temperatures": {"days": SUMMARY_DAYS, "probes": temperatures},
        "alerts": {
            "days": ALERT_DAYS,
            "items": [_alert(a, steps[a.alert_id], coverage) for a in alerts],
        },
        "self_checks": [
            {
                "record_type": r.record_type,
                "record_date": r.record_date.isoformat(),
                "occurred_at": rfc3339(r.occurred_at),
                "summary": _without_personal(_json(r.summary)),
                "event": coverage.proof(r.event_id),
            }
            for r in records
        ],
        "ingredients": [lot_json(lot, coverage) for lot in lots],
        "anchoring": {
            "anchored_tree_size": coverage.final_size,
            "statuses": ["pending", "confirmed", "anchored"],
            "newest_leaf_index": max(coverage.leaves.values(), default=None),
        },
        # What no logged event states: a page shows these as "not proven", never ticked.
        "not_proven": {
            "premises": "from the registry, not proven",
            "live": "the platform's view at as_of, not proven",
        },
    }
