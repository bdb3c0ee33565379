"""The restaurants' records of the week (morning checks, purchases, food samples,
additives, disinfection, waste oil, self-inspections) through the record book, names
only as commitments; the story's expired supplier certificate and underweight sample
open alerts the restaurant answers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from traceability.demo.alerts import AlertStory
from traceability.demo.scenario import Premises
from traceability.demo.seeding import Seeding
from traceability.demo.timeline import Action
from traceability.demo.variation import stable
from traceability.records.service import RecordBook
from traceability.storage.db import transaction


class RecordWeek:
    """Schedules every premises' records of the week, each submitted at its time."""

    def __init__(self, seeding: Seeding, alerts: AlertStory) -> None:
        self.seeding = seeding
        self.alerts = alerts
        self.records = RecordBook(seeding.log)

    def plan(self) -> None:
        s = self.seeding
        for p in s.scenario.premises:
            for day in range(-7, 1):
                for when, record_type, raw in self._day_of_records(p, day):
                    s.timeline.schedule(
                        when, f"{record_type} of {p.id}", self._recorder(p, record_type, raw)
                    )

    def _recorder(self, p: Premises, record_type: str, raw: dict[str, Any]) -> Action:
        s = self.seeding
        story = s.scenario.story

        def submit(now: datetime) -> None:
            with transaction(s.sessions) as session:
                premises = s.directory.premises(session, p.id)
                who = s.principal(session, p.org, now)
                logged = self.records.submit(
                    session, premises, record_type, raw, actor=who.actor, now=now
                )
            s.summary.records += 1
            for alert_id in logged.alerts_opened:
                if (
                    record_type == "purchase_inspection"
                    and p.id == story.expired_supplier_certificate.premises
                ):
                    self.alerts.answer(
                        alert_id,
                        p,
                        now,
                        acknowledge_after=timedelta(hours=2),
                        evidence=(
                            "Supplier certificate renewed",
                            [
                                f"Supplier: {raw['supplier']}",
                                f"Licence: {raw['supplier_licence']}",
                                "Renewed certificate valid for 3 years",
                                f"Lot {raw['lot_code']} returned to supplier",
                            ],
                        ),
                        submit_after=timedelta(hours=5),
                        close_after=timedelta(hours=26),
                    )
                elif record_type == "sample_retention":
                    self.alerts.answer(alert_id, p, now, acknowledge_after=timedelta(hours=3))

        return submit

    def _day_of_records(
        self, p: Premises, day: int
    ) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
        """One premises' records of one day: (when logged, record type, JSON as submitted)."""
        s = self.seeding
        story = s.scenario.story
        on = s.timeline.today + timedelta(days=day)
        staff = p.staff
        person = staff[(day + 7) % len(staff)]
        first = datetime.combine(on, time.fromisoformat(p.first_shift), s.timeline.zone)
        checked = first - timedelta(minutes=25)
        certificate = (s.timeline.today + timedelta(days=200 + stable(p.id) % 300)).isoformat()
        roster = [
            {"name": name, "health_certificate_expiry": certificate}
            for k, name in enumerate(staff)
            if (k + day) % 5 != 0 or len(staff) < 3
        ]
        if day == -4 and len(staff) >= 4:
            roster.append({"name": staff[0], "excluded_reason": "fever"})
            roster = [
                r for r in roster if not (r["name"] == staff[0] and "excluded_reason" not in r)
            ]
        yield (
            checked,
            "morning_check",
            {
                "date": on.isoformat(),
                "staff": roster,
                "checked_at": checked.isoformat(),
                "checked_by": person,
            },
        )
        yield from self._purchases(p, day, on, first, person)
        if p.kind not in ("bakery", "street_stall"):
            for meal, hhmm in (("lunch", "12:40"), ("dinner", "18:40")):
                when = datetime.combine(on, time.fromisoformat(hhmm), s.timeline.zone)
                light = (
                    p.id == story.underweight_sample.premises
                    and day == story.underweight_sample.day
                    and meal == "lunch"
                )
                dish = p.dishes[(day + (meal == "dinner")) % len(p.dishes)]
                yield (
                    when,
                    "sample_retention",
                    {
                        "date": on.isoformat(),
                        "dish": dish,
                        "meal": meal,
                        "weight_g": 95.0 if light else 150.0 + stable(p.id, day, meal) % 60,
                        "time_in": when.isoformat(),
                        "fridge": "Sample-retention fridge",
                        "person": person,
                    },
                )
        if p.kind == "bakery":
            used = first + timedelta(hours=1)
            yield (
                used,
                "additive_use",
                {
                    "date": on.isoformat(),
                    "additive": "Calcium propionate (E282)",
                    "batch": f"B{on:%m%d}",
                    "food": p.dishes[0],
                    "amount_g": 48.0,
                    "max_g": 75.0,
                    "weighed": True,
                    "used_at": used.isoformat(),
                    "person": person,
                },
            )
        cleaned = datetime.combine(on, time(21, 30), s.timeline.zone)
        chemical = stable(p.id, day) % 3 == 0
        disinfection: dict[str, Any] = {
            "date": on.isoformat(),
            "items": ["tableware", "chopping boards", "knives"],
            "method": "chemical" if chemical else "heat",
            "duration_min": 10.0 if chemical else 15.0,
            "started_at": cleaned.isoformat(),
            "person": person,
        }
        if chemical:
            disinfection["concentration_mg_l"] = 250.0
        else:
            disinfection["temperature_c"] = 100.0
        yield cleaned, "disinfection", disinfection
        if p.kind in ("restaurant", "street_stall", "canteen") and (day + stable(p.id)) % 3 == 0:
            collected = datetime.combine(on, time(20, 15), s.timeline.zone)
            collector = s.scenario.waste_oil_collector
            yield (
                collected,
                "waste_oil",
                {
                    "date": on.isoformat(),
                    "oil_type": "frying_oil" if day % 2 else "grease_trap",
                    "quantity": float(8 + stable(p.id, day) % 12),
                    "unit": "kg",
                    "collector": collector.name,
                    "collector_licence": collector.licence,
                    "collected_at": collected.isoformat(),
                    "person": person,
                },
            )
        inspected = datetime.combine(on, time(16, 5), s.timeline.zone)
        finding = stable(p.id, day, "self") % 9 == 0
        items = [
            {"item": "Fridges at 0-8 C, freezers at or below -12 C", "ok": True},
            {"item": "Raw and cooked food kept apart", "ok": True},
            {"item": "Bins covered, pest traps in place", "ok": not finding},
            {"item": "Hand-washing station stocked", "ok": True},
        ]
        if finding:
            items[2]["finding"] = "One bin lid broken; replaced the same day."
        yield (
            inspected,
            "self_inspection",
            {
                "date": on.isoformat(),
                "items": items,
                "no_risk_found": not finding,
                "person": person,
            },
        )

    def _purchases(
        self, p: Premises, day: int, on: date, first: datetime, person: str
    ) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
        s = self.seeding
        story = s.scenario.story.expired_supplier_certificate
        valid = [s for s in s.scenario.suppliers if s.certificate_valid_days > 7]
        received = first + timedelta(minutes=40)
        chosen = []
        if (day + stable(p.id)) % 2 == 0:
            supplier = valid[stable(p.id, day, "supplier") % len(valid)]
            chosen.append((supplier, supplier.products[stable(p.id, day) % len(supplier.products)]))
        if p.id == story.premises and day == story.day:
            supplier = s.scenario.supplier(story.supplier)
            chosen.append((supplier, supplier.products[0]))
        for k, (supplier, product) in enumerate(chosen):
            produced = on - timedelta(days=min(product.shelf_life_days - 1, 1 + day % 3))
            yield (
                received + timedelta(minutes=5 * k),
                "purchase_inspection",
                {
                    "date": on.isoformat(),
                    "supplier": supplier.name,
                    "supplier_licence": supplier.licence,
                    "supplier_certificate_expiry": (
                        s.timeline.today + timedelta(days=supplier.certificate_valid_days)
                    ).isoformat(),
                    "product": product.product,
                    "gtin": product.gtin,
                    "lot_code": f"L{produced:%y%m%d}-{stable(supplier.name, on) % 1000:03d}",
                    "quantity": float(5 + stable(p.id, on, k) % 40),
                    "unit": product.unit,
                    "production_date": produced.isoformat(),
                    "shelf_life_days": product.shelf_life_days,
                    "reference_document_type": "delivery_note",
                    "reference_document_number": f"DN-{on:%Y%m%d}-{stable(p.id, k) % 10000:04d}",
                    "receiver": person,
                },
            )
