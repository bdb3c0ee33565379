"""Tests of ``traceability.rules.limits``: the limit rules read from the profiles as data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from traceability.rules.limits import EpisodeFacts, Interval, Limit, Wording, limit_for
from traceability.rules.profiles import PROFILES, load_profile
from traceability.rules.verdicts import CHLORINE, TEMPERATURE

LIMIT_RULES = ("cold_holding", "frozen", "sample_retention", "hot_holding", "danger_zone")


@pytest.mark.parametrize("profile", PROFILES)
def test_every_limit_rule_of_every_profile_reads_as_a_limit(profile: str) -> None:
    rules = load_profile(profile).rules
    named = [name for name in LIMIT_RULES if getattr(rules, name) is not None]
    assert {"cold_holding", "frozen", "hot_holding", "danger_zone"} <= set(named)
    facts = EpisodeFacts(12.0, 40.0, 55.0, highest=9.5, lowest=1.0)
    for name in [*named, "chemical_sanitising"]:
        limit = limit_for(getattr(rules, name), "fridge")
        assert limit.quantity == (CHLORINE if name == "chemical_sanitising" else TEMPERATURE)
        breach, measured = limit.worded(limit.breach, facts)
        assert "{" not in breach and measured["minutes_out"] == 12.0
        recovery, measured = limit.worded(limit.recovery, facts)
        assert "{" not in recovery and measured["minutes_out"] == 40.0


def test_a_cold_limit_is_out_above_the_limit_and_clear_at_the_margin() -> None:
    rule = load_profile("cn").rules.cold_holding  # 8 °C, margin 1 °C
    limit = limit_for(rule, "fridge")
    assert not limit.is_out(8.0) and limit.is_out(8.01)
    assert limit.is_clear(7.0) and not limit.is_clear(7.01)
    assert limit.tolerance == timedelta(minutes=30) and limit.window == timedelta(minutes=60)


def test_the_danger_zone_is_out_only_between_its_bounds_and_clear_above() -> None:
    rule = load_profile("cn").rules.danger_zone
    lower, upper = rule.lower.value, rule.upper.value
    limit = limit_for(rule, "unused")
    assert not limit.is_out(lower) and limit.is_out(lower + 0.1)
    assert limit.is_out(upper - 0.1) and not limit.is_out(upper)
    # Below the zone is not out, and not back in either: the episode stays open.
    assert not limit.is_out(lower - 5) and not limit.is_clear(lower - 5)
    assert limit.tolerance == timedelta(seconds=rule.max_duration.seconds)
    assert limit.window is None


def test_a_chlorine_band_is_out_on_both_sides() -> None:
    limit = Limit(
        quantity=CHLORINE,
        out=(Interval(high=50.0), Interval(low=200.0)),
        clear=Interval(60.0, 190.0, closed=True),
        tolerance=timedelta(minutes=5),
        window=None,
        hysteresis=timedelta(minutes=10),
        breach=Wording("outside for {minutes_out:.0f} min", (("minutes_out", "minutes_out"),)),
        recovery=Wording("back", ()),
    )
    assert [limit.is_out(v) for v in (49.9, 50.0, 200.0, 200.1)] == [True, False, False, True]
    assert [limit.is_clear(v) for v in (59.9, 60.0, 190.0, 190.1)] == [False, True, True, False]


def test_the_wording_of_a_cold_breach_names_the_appliance_limit_and_peak() -> None:
    limit = limit_for(load_profile("cn").rules.cold_holding, "sample fridge")
    detail, measurements = limit.worded(limit.breach, EpisodeFacts(30.4, 30.4, 41.0, 9.26, 8.1))
    assert detail == "sample fridge above 8.0 °C for 30 min (max 9.3 °C)"
    assert list(measurements) == [
        "max_celsius",
        "minutes_out",
        "limit_celsius",
        "tolerance_minutes",
    ]
    assert measurements["max_celsius"] == 9.26 and measurements["limit_celsius"] == 8.0


def test_a_wording_naming_an_unknown_term_is_refused_when_the_limit_is_built() -> None:
    with pytest.raises(ValueError, match="limt"):
        Limit(
            quantity=TEMPERATURE,
            out=(Interval(low=8.0),),
            clear=Interval(high=7.0, closed=True),
            tolerance=timedelta(minutes=30),
            window=None,
            hysteresis=timedelta(minutes=15),
            breach=Wording("above {limt:.1f} °C", ()),
            recovery=Wording("back", ()),
            numbers={"limit": 8.0},
        )


def test_a_measurement_must_be_a_number_not_a_word() -> None:
    with pytest.raises(ValueError, match="label"):
        Limit(
            quantity=TEMPERATURE,
            out=(Interval(low=8.0),),
            clear=Interval(high=7.0, closed=True),
            tolerance=timedelta(minutes=30),
            window=None,
            hysteresis=timedelta(minutes=15),
            breach=Wording("{label} above", (("which", "label"),)),
            recovery=Wording("back", ()),
            words={"label": "fridge"},
        )
