"""Inspection schemes: how a jurisdiction scores, rates and classifies inspections, kept as data.

A scheme is a packaged JSON file (``schemes/<name>.json``) validated by the
models below (unknown keys are refused). It names the inspection types (and
whether each is scored), the score (present or not, its range and direction),
the rating bands, what caps a rating (a failed key item), the risk categories of
violations (and which raise an alert), known violation codes, sub-scores, and
whether the published rating is derived from the score (``bands``) or is the
authority's own, taken as given (``authority``). Shipped: ``cn`` (today's rules),
``us-nyc``, ``us-lives`` and ``uk-fhrs``.

Pure: no database, no I/O beyond reading the packaged files.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from importlib import resources
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from traceability.errors import Invalid
from traceability.messages import message

SCHEMES = ("cn", "us-nyc", "us-lives", "uk-fhrs")
DEFAULT_SCHEME = "cn"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InspectionType(_Strict):
    scored: bool


class ScoreRule(_Strict):
    present: bool
    min: float = 0
    max: float
    direction: Literal["higher_is_better", "lower_is_better"]


class Band(_Strict):
    """A published rating; with a score range when the rating follows from the score."""

    rating: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=200)
    min: float | None = None
    """Inclusive lower end of the score range."""
    max: float | None = None
    """Inclusive upper end."""
    below: float | None = None
    """Exclusive upper end (for fractional scores)."""

    def holds(self, score: float) -> bool:
        if self.min is None and self.max is None and self.below is None:
            return False
        return (
            (self.min is None or score >= self.min)
            and (self.max is None or score <= self.max)
            and (self.below is None or score < self.below)
        )


class Cap(_Strict):
    """A condition that caps the rating at ``at_most`` (or worse)."""

    when: Literal["key_item_failed", "risk_category"]
    risk_category: str | None = None
    at_most: str


class RiskCategory(_Strict):
    alert_class: Literal[1, 2, 3] | None = None
    """The alert a recent inspection with such a violation opens (None: none)."""


class ViolationCode(_Strict):
    description: str
    risk_category: str | None = None


class SubScore(_Strict):
    min: float
    max: float
    source_field: str | None = None


class Scheme(_Strict):
    name: str
    timezone: str = "UTC"
    """The zone an imported premises is placed in unless the import says otherwise."""
    title: str
    sources: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    inspection_types: dict[str, InspectionType]
    accept_unlisted_types: bool = False
    score: ScoreRule
    sub_scores: dict[str, SubScore] = Field(default_factory=dict)
    rating_source: Literal["bands", "authority"]
    bands: list[Band] = Field(min_length=1)
    """Ratings from best to worst."""
    other_ratings: dict[str, str] = Field(default_factory=dict)
    """Ratings outside the scale (pending, exempt, awaiting inspection), with their meaning."""
    caps: list[Cap] = Field(default_factory=list)
    risk_categories: dict[str, RiskCategory] = Field(default_factory=dict)
    violation_codes: dict[str, ViolationCode] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ratings = [b.rating for b in self.bands]
        if len(set(ratings)) != len(ratings):
            raise ValueError(f"scheme {self.name}: a rating is listed twice")
        for cap in self.caps:
            if cap.at_most not in ratings:
                raise ValueError(f"scheme {self.name}: cap at {cap.at_most!r}, not a rating")
            if cap.when == "risk_category" and cap.risk_category not in self.risk_categories:
                raise ValueError(f"scheme {self.name}: cap names unknown risk category")
        for code, v in self.violation_codes.items():
            if v.risk_category is not None and v.risk_category not in self.risk_categories:
                raise ValueError(f"scheme {self.name}: code {code} has an unknown risk category")
        if self.rating_source == "bands" and not any(
            b.min is not None or b.max is not None or b.below is not None for b in self.bands
        ):
            raise ValueError(f"scheme {self.name}: rating from bands but no band has a range")
        return self

    # ------------------------------------------------------------------ judging

    @property
    def ratings(self) -> list[str]:
        """Every rating the scheme knows: the scale, best first, then the others."""
        return [b.rating for b in self.bands] + list(self.other_ratings)

    def is_scored_type(self, inspection_type: str | None) -> bool | None:
        """Whether the type is scored; None when the scheme does not list it."""
        if inspection_type is None:
            return None
        known = self.inspection_types.get(inspection_type)
        return None if known is None else known.scored

    def check_type(self, inspection_type: str | None) -> None:
        if (
            inspection_type is not None
            and inspection_type not in self.inspection_types
            and not self.accept_unlisted_types
        ):
            raise Invalid(
                message(
                    "inspection.type_unknown",
                    inspection_type=inspection_type[:80],
                    scheme=self.name,
                    choices=", ".join(self.inspection_types),
                )
            )

    def check_score(self, score: float) -> None:
        if not self.score.min <= score <= self.score.max:
            raise Invalid(
                message(
                    "inspection.score_out_of_range",
                    text=f"score {score:g} is outside scheme {self.name}'s range "
                    f"{self.score.min:g}-{self.score.max:g}",
                    score=score,
                    scheme=self.name,
                    min=self.score.min,
                    max=self.score.max,
                )
            )

    def check_sub_scores(self, sub_scores: dict[str, float]) -> None:
        for name, value in sub_scores.items():
            rule = self.sub_scores.get(name)
            if rule is None:
                raise Invalid(
                    message("inspection.sub_score_unknown", name=name[:80], scheme=self.name)
                )
            if not rule.min <= value <= rule.max:
                raise Invalid(
                    message(
                        "inspection.sub_score_out_of_range",
                        text=f"sub-score {name} {value:g} is outside {rule.min:g}-{rule.max:g} "
                        f"(scheme {self.name})",
                        name=name,
                        value=value,
                        min=rule.min,
                        max=rule.max,
                        scheme=self.name,
                    )
                )

    def check_rating(self, rating: str) -> None:
        if rating not in self.ratings:
            raise Invalid(
                message(
                    "inspection.rating_unknown",
                    rating=rating[:80],
                    scheme=self.name,
                    choices=", ".join(self.ratings),
                )
            )

    def band_of(self, score: float) -> str | None:
        """The rating whose score range holds ``score`` (the first listed, best first)."""
        for band in self.bands:
            if band.holds(score):
                return band.rating
        return None

    def risk_of(self, code: str | None, given: str | None) -> str | None:
        """A violation's risk category: as the source gives it, else from the code's entry."""
        if given:
            return given
        if code is None:
            return None
        known = self.violation_codes.get(code)
        return None if known is None else known.risk_category

    def alert_class_of(self, risk_category: str | None) -> int | None:
        if risk_category is None:
            return None
        known = self.risk_categories.get(risk_category)
        return None if known is None else known.alert_class

    def rating(
        self,
        *,
        score: float | None,
        key_item_failed: bool = False,
        risk_categories: Sequence[str | None] = (),
        authority_rating: str | None = None,
    ) -> str | None:
        """The published rating of an inspection under this scheme.

        ``authority``: the authority's own rating, as given (None when it gave none).
        ``bands``: the band the score falls in, then capped; None for an unscored
        inspection (a follow-up, a complaint visit).
        """
        if self.rating_source == "authority":
            if authority_rating is not None:
                self.check_rating(authority_rating)
            return authority_rating
        if score is None:
            return None
        derived = self.band_of(score)
        if derived is None:
            return None
        order = [b.rating for b in self.bands]
        for cap in self.caps:
            applies = (
                key_item_failed
                if cap.when == "key_item_failed"
                else (cap.risk_category in risk_categories)
            )
            if applies and order.index(derived) < order.index(cap.at_most):
                derived = cap.at_most
        return derived


@functools.cache
def load_scheme(name: str) -> Scheme:
    """The packaged scheme ``name``; ``Invalid`` naming the known ones otherwise."""
    if name not in SCHEMES:
        raise Invalid(f"inspection scheme {name!r} is not one of {', '.join(SCHEMES)}")
    text = (
        resources.files("traceability.rules")
        .joinpath(f"schemes/{name}.json")
        .read_text(encoding="utf-8")
    )
    try:
        scheme = Scheme.model_validate(json.loads(text))
    except ValidationError as exc:
        raise Invalid(f"scheme {name} is malformed: {exc}") from None
    if scheme.name != name:
        raise Invalid(f"scheme file {name}.json names itself {scheme.name!r}")
    return scheme
