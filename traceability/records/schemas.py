"""One typed model per daily record a restaurant uploads (FOOD_SAFETY_RULES.md, cn).

Each model names the one field that holds a person (``PERSON_FIELD``); the
service logs that field, and staff names and exclusion reasons, only as salted
commitments. Everything else is public.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from traceability.errors import Invalid
from traceability.messages import CATALOG, Param
from traceability.records.gs1 import normalise_gtin

Text40 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Text80 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

EXCLUSION_REASONS = ("fever", "diarrhoea", "skin_wound", "throat_infection", "other")
MEALS = ("breakfast", "lunch", "dinner", "other")
DISINFECTION_METHODS = ("heat", "steam", "chemical", "uv")
EARLIEST, LATEST = 2000, 2200


def _problem(code: str, **params: Param) -> PydanticCustomError:
    """A validator's error with its catalog code: pydantic reports the code as the error's
    type and the parameters as its context (traceability/messages.py)."""
    text = CATALOG[code].format_map(params)
    return PydanticCustomError(code, text.replace("{", "{{").replace("}", "}}"), dict(params))


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    record_type: ClassVar[str]
    PERSON_FIELD: ClassVar[str | None] = None

    date: dt.date
    """The day the record is about, in the premises' local time."""

    @field_validator("*")
    @classmethod
    def _plausible_year(cls, value: object) -> object:
        # Dates near year 1 or 9999 overflow once moved between zones or given a shelf life.
        if isinstance(value, dt.date) and not EARLIEST <= value.year <= LATEST:
            raise _problem(
                "record.year_out_of_range", year=value.year, earliest=EARLIEST, latest=LATEST
            )
        return value


class StaffCheck(BaseModel):
    """One handler at the morning check. ``excluded_reason`` set: sent home, not on shift."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Person
    health_certificate_expiry: dt.date | None = None
    excluded_reason: (
        Literal["fever", "diarrhoea", "skin_wound", "throat_infection", "other"] | None
    ) = None


class MorningCheck(_Record):
    """晨检: every handler checked before the first shift."""

    record_type: ClassVar[str] = "morning_check"
    PERSON_FIELD: ClassVar[str | None] = "checked_by"

    staff: list[StaffCheck] = Field(min_length=1, max_length=500)
    checked_at: dt.datetime | None = None
    checked_by: Person | None = None


class PurchaseInspection(_Record):
    """进货查验: one lot received; ``date`` is the day it was received."""

    record_type: ClassVar[str] = "purchase_inspection"
    PERSON_FIELD: ClassVar[str | None] = "receiver"

    supplier: Text200
    supplier_licence: Text80
    supplier_certificate_expiry: dt.date
    product: Text200
    gtin: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")] | None = None
    lot_code: Text80
    quantity: float = Field(gt=0, le=1e9)
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    production_date: dt.date | None = None
    shelf_life_days: int | None = Field(default=None, ge=0, le=36500)
    certificate_sha256: Sha256Hex | None = None
    reference_document_type: Text40 | None = None
    reference_document_number: Text80 | None = Field(default=None, validate_default=True)
    receiver: Person

    @field_validator("gtin")
    @classmethod
    def _gtin_check_digit(cls, value: str | None) -> str | None:
        # A lot with a wrong check digit could never be found at its /01/{gtin}/10/{lot} page.
        if value is not None:
            try:
                normalise_gtin(value)
            except Invalid as exc:
                if exc.message is None:
                    raise ValueError(exc.detail) from None
                raise PydanticCustomError(
                    exc.message.code,
                    exc.detail.replace("{", "{{").replace("}", "}}"),
                    dict(exc.message.params),
                ) from None
        return value

    @field_validator("lot_code")
    @classmethod
    def _lot_code_is_a_path_segment(cls, value: str) -> str:
        # Any character may be percent-encoded in the lot's /01/{gtin}/10/{lot} path ("/" as
        # %2F), but "." and ".." are path steps: browsers and clients resolve them away.
        if value in (".", ".."):
            raise _problem("record.lot_code_path_segment", value=value)
        return value

    # Cross-field rules sit on the later field so that errors name it (and its CSV column).
    @field_validator("production_date")
    @classmethod
    def _produced_before_received(
        cls, value: dt.date | None, info: ValidationInfo
    ) -> dt.date | None:
        received = info.data.get("date")
        if value is not None and received is not None and value > received:
            raise _problem("record.produced_after_received")
        return value

    @field_validator("reference_document_number")
    @classmethod
    def _reference_is_whole(cls, value: str | None, info: ValidationInfo) -> str | None:
        if (info.data.get("reference_document_type") is None) != (value is None):
            raise _problem("record.reference_incomplete")
        return value


class SampleRetention(_Record):
    """留样: a sample of one dish of one meal, kept in the sample fridge."""

    record_type: ClassVar[str] = "sample_retention"
    PERSON_FIELD: ClassVar[str | None] = "person"

    dish: Text200
    meal: Literal["breakfast", "lunch", "dinner", "other"]
    weight_g: float = Field(gt=0, le=100_000)
    time_in: dt.datetime
    removed_at: dt.datetime | None = None
    fridge: Text80
    person: Person

    @field_validator("removed_at")
    @classmethod
    def _removed_after_in(
        cls, value: dt.datetime | None, info: ValidationInfo
    ) -> dt.datetime | None:
        time_in = info.data.get("time_in")
        if value is not None and time_in is not None:
            if (value.tzinfo is None) == (time_in.tzinfo is None) and value < time_in:
                raise _problem("record.removed_before_in")
        return value


class Disinfection(_Record):
    """消毒: items, method, and the temperature or concentration held for a duration."""

    record_type: ClassVar[str] = "disinfection"
    PERSON_FIELD: ClassVar[str | None] = "person"

    items: list[Text80] = Field(min_length=1, max_length=100)
    method: Literal["heat", "steam", "chemical", "uv"]
    temperature_c: float | None = Field(default=None, ge=-50, le=400, validate_default=True)
    concentration_mg_l: float | None = Field(default=None, gt=0, le=100_000, validate_default=True)
    duration_min: float = Field(gt=0, le=24 * 60)
    started_at: dt.datetime | None = None
    person: Person | None = None

    @field_validator("temperature_c")
    @classmethod
    def _heat_has_a_temperature(cls, value: float | None, info: ValidationInfo) -> float | None:
        method = info.data.get("method")
        if value is None and method in ("heat", "steam"):
            raise _problem("record.temperature_required", method=method)
        return value

    @field_validator("concentration_mg_l")
    @classmethod
    def _chemical_has_a_concentration(
        cls, value: float | None, info: ValidationInfo
    ) -> float | None:
        if value is None and info.data.get("method") == "chemical":
            raise _problem("record.concentration_required")
        return value


class AdditiveUse(_Record):
    """添加剂: an additive weighed into a food (``max_g``: the limit for that batch, if any)."""

    record_type: ClassVar[str] = "additive_use"
    PERSON_FIELD: ClassVar[str | None] = "person"

    additive: Text200
    batch: Text80
    food: Text200
    amount_g: float = Field(gt=0, le=1_000_000)
    max_g: float | None = Field(default=None, gt=0, le=1_000_000)
    weighed: bool
    used_at: dt.datetime
    person: Person

    @field_validator("weighed")
    @classmethod
    def _weighed_under_a_maximum(cls, value: bool, info: ValidationInfo) -> bool:
        if info.data.get("max_g") is not None and not value:
            raise _problem("record.additive_not_weighed")
        return value


class WasteOil(_Record):
    """废弃油脂: waste oil handed to a licensed collector."""

    record_type: ClassVar[str] = "waste_oil"
    PERSON_FIELD: ClassVar[str | None] = "person"

    oil_type: Literal["frying_oil", "grease_trap", "other"]
    quantity: float = Field(gt=0, le=1e6)
    unit: Literal["kg", "L"]
    collector: Text200
    collector_licence: Text80
    collected_at: dt.datetime
    person: Person | None = None


class ChecklistItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    item: Text200
    ok: bool
    finding: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None


class SelfInspection(_Record):
    """自查: the daily checklist; a clean day is recorded too, as "no risk found"."""

    record_type: ClassVar[str] = "self_inspection"
    PERSON_FIELD: ClassVar[str | None] = "person"

    items: list[ChecklistItem] = Field(min_length=1, max_length=200)
    no_risk_found: bool
    person: Person | None = None

    @field_validator("no_risk_found")
    @classmethod
    def _no_risk_means_all_ok(cls, value: bool, info: ValidationInfo) -> bool:
        items: list[ChecklistItem] | None = info.data.get("items")
        if items is None:
            return value
        failed = [i.item for i in items if not i.ok]
        if value and failed:
            raise _problem("record.no_risk_but_failed", items=", ".join(failed))
        if not value and not failed:
            raise _problem("record.risk_but_all_ok")
        return value


RecordModel = (
    MorningCheck
    | PurchaseInspection
    | SampleRetention
    | Disinfection
    | AdditiveUse
    | WasteOil
    | SelfInspection
)
RECORD_TYPES: dict[str, type[_Record]] = {
    m.record_type: m
    for m in (
        MorningCheck,
        PurchaseInspection,
        SampleRetention,
        Disinfection,
        AdditiveUse,
        WasteOil,
        SelfInspection,
    )
}
