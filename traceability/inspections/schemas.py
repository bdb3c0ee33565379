"""What a regulator submits for an official inspection."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from traceability.transparency.events import InspectionItem


class InspectionSubmission(BaseModel):
    """An inspection as a regulator records it; the result follows from score and key items."""

    model_config = ConfigDict(extra="forbid")

    inspected_on: date
    items: list[InspectionItem] = Field(min_length=1, max_length=200)
    findings: str | None = Field(default=None, max_length=4000)
    score: float = Field(ge=0, le=100, allow_inf_nan=False)
