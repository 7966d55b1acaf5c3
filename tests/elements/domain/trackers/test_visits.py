"""Visits tracker: idle-pier landings (night, dwell, place, tide, holiday, local time)."""
from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from apps.elements.domain.trackers import VisitTracker

from ..tracks import COVE, HARBOUR, LANDING, high_water_at, kinds, landing, of_kind, pipeline, sh


def test_idle_pier_landing_fires_at_night_not_by_day() -> None:
    night = pipeline().detect(landing("413000001", sh(2021, 3, 21, 1, 0)))
    hits = of_kind(night, "idle_pier_landing")
    assert hits and hits[-1].geofence_id == "gt-01" and not hits[-1].ongoing
    assert hits[-1].factors["night"] == 1.0 and hits[-1].factors["location"] == 1.0
    assert hits[-1].evidence["dwell_min"] == pytest.approx(70, abs=2.5)
    assert len({f.episode_key for f in hits}) == 1
    # Same track at 13:00 Shanghai (05:00 UTC): no landing.
    day = pipeline().detect(landing("413000001", sh(2021, 3, 21, 13, 0)))
    assert "idle_pier_landing" not in kinds(day)

def test_idle_pier_landing_needs_an_idle_pier_and_enough_dwell() -> None:
    at_harbour = pipeline().detect(landing("413000001", sh(2021, 3, 21, 1), at=HARBOUR))
    assert "idle_pier_landing" not in kinds(at_harbour)
    short = pipeline().detect(landing("413000001", sh(2021, 3, 21, 1), stop_min=20))
    assert "idle_pier_landing" not in kinds(short)
    at_cove = pipeline().detect(landing("413000001", sh(2021, 3, 21, 1), at=COVE))
    assert of_kind(at_cove, "idle_pier_landing")[-1].factors["location"] == 0.9

def test_night_is_judged_locally_whatever_zone_the_input_uses() -> None:
    track = landing("413000001", sh(2021, 3, 21, 1, 0))
    in_new_york = [replace(f, ts=f.ts.astimezone(ZoneInfo("America/New_York"))) for f in track]
    a = of_kind(pipeline().detect(track), "idle_pier_landing")
    b = of_kind(pipeline().detect(in_new_york), "idle_pier_landing")
    assert [(f.episode_key, f.factors) for f in a] == [(f.episode_key, f.factors) for f in b]

def test_landing_near_high_water_scores_the_tide() -> None:
    arrive = sh(2021, 3, 21, 1, 0)
    track = landing("4131", arrive)
    at_peak = of_kind(pipeline(tide_window_at=high_water_at(arrive + timedelta(minutes=35))).detect(track), LANDING)
    low_water = of_kind(pipeline(tide_window_at=high_water_at(arrive + timedelta(hours=6))).detect(track), LANDING)
    assert at_peak[-1].factors["tide"] == 1.0 and at_peak[-1].tide_window is not None
    assert low_water[-1].factors["tide"] == 0.0 and low_water[-1].tide_window is None

def test_holiday_night_is_judged_on_the_evening_date() -> None:
    # 01:00 on 2 October belongs to the night of 1 October (National Day).
    findings = pipeline(holidays={date(2021, 10, 1)}).detect(landing("4131", sh(2021, 10, 2, 1, 0)))
    assert of_kind(findings, "idle_pier_landing")[-1].factors["holiday"] == 1.0
    findings = pipeline(holidays={date(2021, 10, 1)}).detect(landing("4131", sh(2021, 10, 3, 1, 0)))
    assert of_kind(findings, "idle_pier_landing")[-1].factors["holiday"] == 0.0


def test_the_visits_tracker_alone_judges_landings_and_nothing_else() -> None:
    track = landing("413000001", sh(2021, 3, 21, 1, 0))
    found = pipeline(trackers=(VisitTracker,)).detect(track)
    assert kinds(found) == {LANDING}
