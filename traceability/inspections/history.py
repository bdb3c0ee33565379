"""Importing inspection history: premises from the source's registry, inspections and
their violations as logged events, idempotently.

Each inspection's event id is a UUID5 of its source, business id, day, type,
inspection id, score, ratings and violations: importing the same file again finds
every id already stored and changes nothing; the same inspection twice in one file
is loaded once (the repeat is skipped, naming the first). A row that cannot be
stored is refused with its reason and text; a file-level problem raises before
anything is written, and the caller's transaction holds the rest (one file, one
commit).

Imported inspections are logged like any other (an ``inspection`` event through
the log's ingest), so they are provable. Only those inspected within the alert
window (``inspection_alert_window_days``, counted back from today) may open an
alert, when a violation's risk category raises one under the scheme; older ones
are ``historical``: they open no alert and so earn no escalation.

Services flush; the caller commits.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy.orm import Session

from traceability.alerts.raising import open_alert
from traceability.errors import Invalid
from traceability.inspections import history_repository as repo
from traceability.inspections.importers.parsed import (
    Business,
    InspectionIn,
    ParsedFile,
    Refusal,
)
from traceability.orgs import repository as org_repository
from traceability.orgs.registry import Directory
from traceability.rules.schemes import Scheme, load_scheme
from traceability.storage.models import InspectionRow, PremisesExternalIdRow, PremisesRow
from traceability.transparency.events import EventKind, Inspection, PreparedEvent, prepared, rfc3339
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

IMPORT_NAMESPACE = uuid.UUID("6f1c8d2e-5b1a-4f7e-9c3d-18a0e5b7c018")
VIOLATION_RULE = "inspection_violation"
BATCH = 2000
MAX_LISTED = 1000
EARLIEST = date(1970, 1, 1)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,39}$")


@dataclass(frozen=True)
class ImportOptions:
    scheme: str
    source: str
    """Names the registry the external ids belong to (default: the format)."""
    district: str
    org_id: str
    """The restaurant organisation that holds the imported premises (created if new)."""
    authority: str | None = None
    """The inspecting authority named in the events (default: the file's, else org_id)."""
    timezone: str | None = None
    alert_window_days: int = 30


@dataclass
class ImportReport:
    file: str
    format: str
    scheme: str
    source: str
    loaded: int = 0
    historical: int = 0
    alerts_opened: int = 0
    premises_added: int = 0
    businesses_refused: int = 0
    skipped: list[Refusal] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    def as_dict(self, max_listed: int = MAX_LISTED) -> dict[str, Any]:
        def listed(items: list[Refusal]) -> list[dict[str, str]]:
            return [
                {"where": r.where, "reason": r.reason, "row": r.row} for r in items[:max_listed]
            ]

        return {
            "file": self.file,
            "format": self.format,
            "scheme": self.scheme,
            "source": self.source,
            "loaded": self.loaded,
            "historical": self.historical,
            "alerts_opened": self.alerts_opened,
            "premises_added": self.premises_added,
            "skipped": len(self.skipped),
            "refused": len(self.refused),
            "skipped_rows": listed(self.skipped),
            "refused_rows": listed(self.refused),
            "rows_not_listed": max(0, len(self.skipped) - max_listed)
            + max(0, len(self.refused) - max_listed),
        }


@dataclass
class _Ready:
    source: InspectionIn
    event_id: str
    payload: dict[str, Any]
    alert_class: int | None
    alert_codes: list[str]


def _local_today(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def inspection_event_id(source: str, item: InspectionIn, violations: list[dict[str, Any]]) -> str:
    """The deterministic id of an imported inspection (same content, same id)."""
    key = json.dumps(
        [
            source,
            item.business_id,
            item.inspected_on.isoformat(),
            item.inspection_type,
            item.inspection_id,
            item.score,
            item.authority_rating,
            item.sub_scores,
            violations,
        ],
        sort_keys=True,
        ensure_ascii=False,
    )
    return str(uuid.uuid5(IMPORT_NAMESPACE, key))


def premises_id_for(source: str, external_id: str) -> str:
    """A readable premises id (``<source>-<external id>``) when it fits, else a digest."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{source}-{external_id}").strip("-.")
    if _ID.match(slug):
        return slug
    digest = hashlib.sha256(f"{source}\x00{external_id}".encode()).hexdigest()[:24]
    return f"{re.sub(r'[^A-Za-z0-9]+', '-', source)[:20].strip('-') or 'x'}-{digest}"


class HistoryImport:
    """Loads a parsed file of inspection history under one scheme."""

    def __init__(self, log: TransparencyLog) -> None:
        self._log = log
        self._ingest = Ingest(log)

    def run(
        self,
        session: Session,
        name: str,
        parsed: ParsedFile,
        options: ImportOptions,
        now: datetime,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        scheme = load_scheme(options.scheme)
        if not _SOURCE.match(options.source):
            raise Invalid(f"source {options.source!r} must be 1-40 of a-z, 0-9, '.', '_', ':', '-'")
        if not _ID.match(options.district):
            raise Invalid(f"district {options.district!r} is not a valid district code")
        zone_name = options.timezone or scheme.timezone
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"timezone {zone_name!r} is not an IANA time zone") from None
        if parsed.legend is not None:
            _check_legend(scheme, parsed.legend)
        authority = (options.authority or parsed.authority or options.org_id)[:64].strip()
        report = ImportReport(name, parsed.format, scheme.name, options.source)
        report.refused.extend(parsed.refused)
        report.skipped.extend(parsed.skipped)
        self._ensure_org(session, options.org_id, now)

        self._log.lock(session)  # one writer: the existence checks below hold until commit
        today = _local_today(zone, now)
        alerts_from = today - timedelta(days=options.alert_window_days)
        known = repo.external_ids(session, options.source)
        # A business imported before keeps its premises; an import into another district
        # may not add to it (a regulator imports into its own districts only).
        elsewhere = repo.districts_other_than(
            session,
            sorted({known[i.business_id] for i in parsed.inspections if i.business_id in known}),
            options.district,
        )
        ready: list[_Ready] = []
        first_seen: dict[str, str] = {}
        for item in parsed.inspections:
            held = known.get(item.business_id)
            if held is not None and held in elsewhere:
                report.refused.append(
                    Refusal(
                        item.where,
                        f"business {item.business_id} is premises {held} in district "
                        f"{elsewhere[held]}, not {options.district}",
                        item.row,
                    )
                )
                continue
            if item.business_id not in parsed.businesses and item.business_id not in known:
                report.refused.append(
                    Refusal(
                        item.where,
                        f"business {item.business_id} is not in the file's businesses "
                        "(or was refused) nor imported before from this source",
                        item.row,
                    )
                )
                continue
            try:
                prepared = self._judge(
                    scheme, item, options, authority, today, alerts_from, parsed.format
                )
            except Invalid as exc:
                report.refused.append(Refusal(item.where, exc.detail, item.row))
                continue
            if prepared.event_id in first_seen:
                report.skipped.append(
                    Refusal(item.where, f"duplicate of {first_seen[prepared.event_id]}", item.row)
                )
                continue
            first_seen[prepared.event_id] = item.where
            ready.append(prepared)

        stored = repo.existing_inspections(session, [r.event_id for r in ready])
        fresh = []
        for r in ready:
            if r.event_id in stored:
                report.skipped.append(
                    Refusal(r.source.where, f"already imported (event {r.event_id})", r.source.row)
                )
            else:
                fresh.append(r)

        premises = self._premises(session, parsed, options, scheme, zone_name, known, fresh, now)
        report.premises_added = premises.added
        total = len(fresh)
        recorded_text = rfc3339(now)
        for start in range(0, total, BATCH):
            batch = fresh[start : start + BATCH]
            events: list[PreparedEvent] = []
            rows: list[InspectionRow] = []
            for r in batch:
                premises_id = premises.ids[r.source.business_id]
                occurred_at = datetime.combine(r.source.inspected_on, time(0), zone).astimezone(UTC)
                event = _inspection_event(r, premises_id, occurred_at, now, recorded_text)
                events.append(event)
                if r.alert_class is not None:
                    opened = open_alert(
                        session,
                        premises_id=premises_id,
                        subject=f"premises:{premises_id}",
                        source="inspection",
                        rule=VIOLATION_RULE,
                        alert_class=r.alert_class,
                        detail=(
                            f"inspection on {r.source.inspected_on.isoformat()} by {authority} "
                            f"(event {r.event_id}, imported): violation(s) "
                            + "; ".join(r.alert_codes)
                        )[:2000],
                        started_at=occurred_at,
                        now=now,
                    )
                    events.append(opened.event)
                    report.alerts_opened += 1
                rows.append(_row(r, premises_id, now))
            repo.add_all(session, rows)
            self._ingest.append(session, events)
            report.loaded += len(batch)
            report.historical += sum(1 for r in batch if r.payload["historical"])
            if on_progress is not None:
                on_progress(min(start + BATCH, total), total)
        return report

    # ------------------------------------------------------------------ parts

    def _ensure_org(self, session: Session, org_id: str, now: datetime) -> None:
        org = org_repository.organisation(session, org_id)
        if org is None:
            Directory().create_organisation(
                session,
                org_id=org_id,
                name=f"Businesses imported as {org_id}",
                role="restaurant",
                now=now,
            )
        elif org.role != "restaurant":
            raise Invalid(
                f"imported premises belong to a restaurant organisation; {org_id} is a {org.role}"
            )

    def _judge(
        self,
        scheme: Scheme,
        item: InspectionIn,
        options: ImportOptions,
        authority: str,
        today: date,
        alerts_from: date,
        fmt: str,
    ) -> _Ready:
        if item.inspected_on > today:
            raise Invalid(f"inspected on {item.inspected_on.isoformat()}, after today ({today})")
        if item.inspected_on < EARLIEST:
            raise Invalid(f"inspected on {item.inspected_on.isoformat()}, before {EARLIEST}")
        scheme.check_type(item.inspection_type)
        if item.score is not None:
            scheme.check_score(item.score)
        if item.sub_scores:
            scheme.check_sub_scores(item.sub_scores)
        violations = []
        for cited in item.violations:
            violations.append(
                {
                    "code": cited.code,
                    "description": cited.description,
                    "risk_category": scheme.risk_of(cited.code, cited.risk_category),
                }
            )
        risks = [v["risk_category"] for v in violations]
        rating = scheme.rating(
            score=item.score, risk_categories=risks, authority_rating=item.authority_rating
        )
        event_id = inspection_event_id(options.source, item, violations)
        historical = item.inspected_on < alerts_from
        alert_class: int | None = None
        codes: list[str] = []
        if not historical:
            for v in violations:
                cls = scheme.alert_class_of(v["risk_category"])
                if cls is not None:
                    alert_class = cls if alert_class is None else min(alert_class, cls)
                    codes.append(str(v["code"] or v["description"] or "?")[:200])
        payload: dict[str, Any] = {
            "inspector_org": authority,
            "items": [],
            "score": item.score,
            "result": None,
            "inspected_on": item.inspected_on.isoformat(),
            "findings": None,
            "scheme": scheme.name,
            "inspection_type": item.inspection_type,
            "rating": rating,
            "authority_rating": item.authority_rating,
            "sub_scores": item.sub_scores,
            "violations": violations,
            "source": {
                "format": fmt,
                "business_id": item.business_id,
                "inspection_id": item.inspection_id,
            },
            "historical": historical,
        }
        if scheme.name == "cn" and rating is not None:
            payload["result"] = rating  # the cn result, as recorded inspections carry it
        try:
            payload = Inspection.model_validate(payload).model_dump(mode="json")
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"])
            raise Invalid(f"{where}: {problem['msg']}") from None
        return _Ready(item, event_id, payload, alert_class, codes)

    def _premises(
        self,
        session: Session,
        parsed: ParsedFile,
        options: ImportOptions,
        scheme: Scheme,
        zone_name: str,
        known: dict[str, str],
        fresh: list[_Ready],
        now: datetime,
    ) -> _Premises:
        ids = dict(known)
        wanted = sorted({r.source.business_id for r in fresh} - known.keys())
        # Businesses without any new inspection are registered too (an FHRS establishment
        # awaiting its first inspection is still a premises consumers look up).
        wanted = sorted(set(wanted) | (parsed.businesses.keys() - known.keys()))
        candidates = {b: premises_id_for(options.source, b) for b in wanted}
        taken = repo.existing_premises(session, list(candidates.values()))
        rows: list[object] = []
        external: list[object] = []
        for business_id in wanted:
            premises_id = candidates[business_id]
            if premises_id in taken:
                digest = hashlib.sha256(f"{options.source}\x00{business_id}".encode()).hexdigest()
                premises_id = f"imp-{digest[:32]}"
            business = parsed.businesses[business_id]
            rows.append(_premises_row(premises_id, business, options, scheme, zone_name, now))
            external.append(
                PremisesExternalIdRow(
                    source=options.source, external_id=business_id, premises_id=premises_id
                )
            )
            ids[business_id] = premises_id
        repo.add_all(session, rows)
        repo.add_all(session, external)
        return _Premises(ids, len(rows))


@dataclass(frozen=True)
class _Premises:
    ids: dict[str, str]
    added: int


def _inspection_event(
    r: _Ready, premises_id: str, occurred_at: datetime, now: datetime, recorded_text: str
) -> PreparedEvent:
    """The event of an imported inspection. Its payload was validated against the
    ``inspection`` schema (``_judge``); it has no personal fields, so its public form is
    the payload as validated (what ``prepare_event`` would log)."""
    return prepared(
        event_id=r.event_id,
        kind=EventKind.INSPECTION,
        subject=f"premises:{premises_id}",
        occurred_at=occurred_at,
        occurred_text=rfc3339(occurred_at),
        recorded_at=now,
        recorded_text=recorded_text,
        payload=r.payload,
    )


def _premises_row(
    premises_id: str,
    business: Business,
    options: ImportOptions,
    scheme: Scheme,
    zone_name: str,
    now: datetime,
) -> PremisesRow:
    return PremisesRow(
        premises_id=premises_id,
        org_id=options.org_id,
        name=business.name,
        kind="restaurant",
        licence_number=None,
        licence_status="valid",
        licence_issued_on=None,
        licence_expires_on=None,
        district=options.district,
        address=business.address or "",
        timezone=zone_name,
        first_shift="07:00",
        created_at=now,
        city=business.city,
        region=business.region,
        postal_code=business.postal_code,
        latitude=business.latitude,
        longitude=business.longitude,
        phone=business.phone,
        business_type=business.business_type,
        scheme=scheme.name,
        inspection_only=True,
    )


def _row(r: _Ready, premises_id: str, now: datetime) -> InspectionRow:
    p = r.payload
    return InspectionRow(
        event_id=r.event_id,
        premises_id=premises_id,
        regulator_org=p["inspector_org"],
        inspected_on=r.source.inspected_on,
        score=p["score"],
        result=p["result"],
        summary=json.dumps(
            {
                "items": [],
                "findings": None,
                "counts": {"items": 0, "failed": 0, "key_items": 0, "key_items_failed": 0},
            }
        ),
        recorded_at=now,
        scheme=p["scheme"],
        inspection_type=p["inspection_type"],
        rating=p["rating"],
        authority_rating=p["authority_rating"],
        sub_scores=None if p["sub_scores"] is None else json.dumps(p["sub_scores"]),
        violations=json.dumps(p["violations"], ensure_ascii=False),
        historical=p["historical"],
    )


def _check_legend(scheme: Scheme, legend: list[tuple[float, float, str]]) -> None:
    """A LIVES legend must be the scheme's bands, else the ratings would not be the feed's."""
    ours = sorted((b.min, b.max, b.rating) for b in scheme.bands if b.min is not None)
    theirs = sorted((low, high, text.strip()) for low, high, text in legend)
    if [(float(a or 0), float(b or 0), c) for a, b, c in ours] != [
        (float(a), float(b), c) for a, b, c in theirs
    ]:
        raise Invalid(
            f"legend.csv bands {theirs} differ from scheme {scheme.name}'s {ours}; "
            "import with a scheme that carries this legend"
        )
