"""What a regulator submits for an official inspection."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from traceability.transparency.events import InspectionItem, InspectionViolation


class InspectionSubmission(BaseModel):
    """An inspection as a regulator records it, under its premises' scheme. Under ``cn``
    the result follows from score and key items, and the items are required; a follow-up
    or complaint visit may have no score (then it has no result and no rating)."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    items: list[InspectionItem] = Field(default_factory=list, max_length=200)
    findings: str | None = Field(default=None, max_length=4000)
    score: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    inspection_type: str | None = Field(default=None, min_length=1, max_length=200)
    violations: list[InspectionViolation] = Field(default_factory=list, max_length=500)
    rating: str | None = Field(default=None, min_length=1, max_length=40)
    """The authority's own rating, for schemes whose rating is taken as given."""
