"""The checks restaurant records trigger, and the ones the clock triggers.

A record's own content can break a rule (a handler without a valid health
certificate, a light sample, an expired supplier certificate, a lot past its
shelf life, a disinfection under its method's minimum): ``record_findings``
says which, and the record book opens the alerts in the record's transaction.

Missing records are found by ``RecordChecks.tick``, which a scheduler calls:
no morning check before the first shift, a served meal without retained
samples. Each is raised once per premises and day: the alert's ``started_at``
is the deadline that was missed, and a later tick finds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.alerts import repository as alerts_repo
from traceability.alerts.raising import open_alert
from traceability.records import repository as repo
from traceability.records.schemas import (
    Disinfection,
    MorningCheck,
    PurchaseInspection,
    RecordModel,
    SampleRetention,
)
from traceability.storage.models import PremisesRow
from traceability.transparency.events import PreparedEvent
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

# Minimums per disinfection method. heat/steam: boiling or steam at 100 °C for
# 10 min (GB 14934 style); chemical: 250 mg/L available chlorine for 5 min
# (FOOD_SAFETY_RULES.md, marked (?) there); uv: 30 min of exposure is common
# practice, not a confirmed norm (?).
DISINFECTION_MINIMUMS: dict[str, tuple[float | None, float | None, float]] = {
    # method: (min temperature °C, min concentration mg/L, min duration minutes)
    "heat": (100.0, None, 10.0),
    "steam": (100.0, None, 10.0),
    "chemical": (None, 250.0, 5.0),
    "uv": (None, None, 30.0),
}

# Which meals a premises serves, and the local time by which that meal's
# samples must be in the log. Premises have no column for this; lunch and
# dinner are the default, and a deployment passes other schedules per premises.
DEFAULT_MEALS: dict[str, time] = {"lunch": time(14, 0), "dinner": time(21, 0)}


@dataclass(frozen=True)
class RecordPolicy:
    """The adjustable numbers of the record checks (local rules differ)."""

    sample_min_grams: float = 125.0
    sample_min_grams_by_premises: Mapping[str, float] = field(default_factory=dict)
    sample_min_hours: float = 48.0
    meals: Mapping[str, time] = field(default_factory=lambda: dict(DEFAULT_MEALS))
    meals_by_premises: Mapping[str, Mapping[str, time]] = field(default_factory=dict)

    def sample_minimum(self, premises_id: str) -> float:
        return self.sample_min_grams_by_premises.get(premises_id, self.sample_min_grams)

    def meals_of(self, premises_id: str) -> Mapping[str, time]:
        return self.meals_by_premises.get(premises_id, self.meals)


@dataclass(frozen=True)
class Finding:
    """A rule a record breaks, as an alert will carry it (never a person's name)."""

    rule: str
    alert_class: int
    detail: str
    measurements: Mapping[str, float] = field(default_factory=dict)
    evidence_sha256: tuple[str, ...] = ()


def meets_disinfection_minimum(record: Disinfection) -> bool:
    min_temp, min_conc, min_minutes = DISINFECTION_MINIMUMS[record.method]
    if record.duration_min < min_minutes:
        return False
    if min_temp is not None and (record.temperature_c is None or record.temperature_c < min_temp):
        return False
    return min_conc is None or (
        record.concentration_mg_l is not None and record.concentration_mg_l >= min_conc
    )


def uncertified_handlers(record: MorningCheck) -> list[int]:
    """Positions (1-based) of handlers on shift without a certificate valid that day."""
    return [
        i
        for i, s in enumerate(record.staff, start=1)
        if s.excluded_reason is None
        and (s.health_certificate_expiry is None or s.health_certificate_expiry < record.date)
    ]


def lot_expired_on(record: PurchaseInspection) -> date | None:
    """The day the lot's shelf life ended, when it ended before it was received."""
    if record.production_date is None or record.shelf_life_days is None:
        return None
    end = record.production_date + timedelta(days=record.shelf_life_days)
    return end if end < record.date else None


def record_findings(record: RecordModel, premises_id: str, policy: RecordPolicy) -> list[Finding]:
    findings: list[Finding] = []
    if isinstance(record, MorningCheck):
        missing = uncertified_handlers(record)
        if missing:
            findings.append(
                Finding(
                    "health_certificate_invalid",
                    2,
                    f"{len(missing)} handler(s) on shift on {record.date} without a health "
                    f"certificate valid that day (staff entries {', '.join(map(str, missing))})",
                    {"handlers_without_certificate": float(len(missing))},
                )
            )
    elif isinstance(record, SampleRetention):
        minimum = policy.sample_minimum(premises_id)
        if record.weight_g < minimum:
            findings.append(
                Finding(
                    "sample_underweight",
                    2,
                    f"{record.meal} sample of {record.dish!r} on {record.date} weighs "
                    f"{record.weight_g:g} g; at least {minimum:g} g must be kept",
                    {"weight_g": record.weight_g, "minimum_g": minimum},
                )
            )
        if record.removed_at is not None:
            kept = (record.removed_at - record.time_in).total_seconds() / 3600
            if kept < policy.sample_min_hours:
                findings.append(
                    Finding(
                        "sample_kept_too_short",
                        2,
                        f"{record.meal} sample of {record.dish!r} on {record.date} was kept "
                        f"{kept:.1f} h; at least {policy.sample_min_hours:g} h are required",
                        {"kept_hours": round(kept, 3), "minimum_hours": policy.sample_min_hours},
                    )
                )
    elif isinstance(record, PurchaseInspection):
        evidence = () if record.certificate_sha256 is None else (record.certificate_sha256,)
        if record.supplier_certificate_expiry < record.date:
            # The pages word their sentence from this text (mobile_web/static/js/messages.js,
            # ``SUPPLIER``): change both together.
            findings.append(
                Finding(
                    "supplier_certificate_expired",
                    2,
                    f"lot {record.lot_code} of {record.product!r} was received on {record.date} "
                    f"from {record.supplier!r}, whose certificate expired on "
                    f"{record.supplier_certificate_expiry}",
                    evidence_sha256=evidence,
                )
            )
        ended = lot_expired_on(record)
        if ended is not None:
            findings.append(
                Finding(
                    "lot_past_shelf_life",
                    2,
                    f"lot {record.lot_code} of {record.product!r} was received on {record.date}; "
                    f"its shelf life ended on {ended}",
                    {"days_past": float((record.date - ended).days)},
                    evidence,
                )
            )
    elif isinstance(record, Disinfection) and not meets_disinfection_minimum(record):
        min_temp, min_conc, min_minutes = DISINFECTION_MINIMUMS[record.method]
        need = [f"{min_minutes:g} min"]
        if min_temp is not None:
            need.insert(0, f"{min_temp:g} °C")
        if min_conc is not None:
            need.insert(0, f"{min_conc:g} mg/L")
        # Class 3: a routine finding; the issue lists no class for it.
        findings.append(
            Finding(
                "disinfection_below_minimum",
                3,
                f"{record.method} disinfection on {record.date} is under the minimum of "
                f"{' and '.join(need)}",
                {"duration_min": record.duration_min},
            )
        )
    return findings


def _at(day: date, local: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, local, tzinfo=zone)


@dataclass(frozen=True)
class _Missed:
    premises_id: str
    rule: str
    deadline: datetime
    detail: str


class RecordChecks:
    """The time-driven record checks; ``tick`` is meant for a periodic scheduler."""

    def __init__(self, policy: RecordPolicy | None = None) -> None:
        self.policy = policy or RecordPolicy()

    def tick(self, session: Session, log: TransparencyLog, now: datetime) -> list[str]:
        """Open the alerts for deadlines missed today or yesterday (local time) that are not
        open yet; return their ids. The caller commits."""
        log.lock(session)  # serialise with uploads: decide and append atomically
        events: list[PreparedEvent] = []
        opened: list[str] = []
        for premises in repo.premises_to_check(session):
            for missed in self._missed(session, premises, now):
                alert = open_alert(
                    session,
                    premises_id=missed.premises_id,
                    subject=f"premises:{missed.premises_id}",
                    source="record",
                    rule=missed.rule,
                    alert_class=2,
                    detail=missed.detail,
                    started_at=missed.deadline,
                    now=now,
                )
                events.append(alert.event)
                opened.append(alert.alert.alert_id)
        if events:
            Ingest(log).append(session, events)
        return opened

    def _missed(self, session: Session, premises: PremisesRow, now: datetime) -> list[_Missed]:
        zone = ZoneInfo(premises.timezone)
        today = now.astimezone(zone).date()
        hour, minute = (int(part) for part in premises.first_shift.split(":"))
        missed: list[_Missed] = []
        pid = premises.premises_id
        for day in (today - timedelta(days=1), today):
            deadlines: list[tuple[str, str | None, datetime]] = [
                ("morning_check_missing", None, _at(day, time(hour, minute), zone))
            ]
            deadlines += [
                ("sample_retention_missing", meal, _at(day, due, zone))
                for meal, due in sorted(self.policy.meals_of(pid).items())
            ]
            sampled: set[str] | None = None
            for rule, meal, deadline in deadlines:
                # A premises registered after a deadline could not have met it.
                if deadline > now or deadline < premises.created_at:
                    continue
                if alerts_repo.alert_raised(session, pid, rule, deadline):
                    continue
                if meal is None:
                    if repo.morning_check_recorded(session, pid, day, deadline):
                        continue
                    detail = f"no morning check for {day} was recorded before the first shift "
                    detail += f"at {premises.first_shift} ({premises.timezone})"
                else:
                    if sampled is None:
                        sampled = repo.meals_sampled(session, pid, day)
                    if meal in sampled:
                        continue
                    detail = f"no {meal} samples were retained on {day} (due by "
                    detail += f"{deadline.astimezone(zone):%H:%M} {premises.timezone})"
                missed.append(_Missed(pid, rule, deadline, detail))
        return missed
