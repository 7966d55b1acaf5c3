"""Gaps tracker: dark vessels (a silence near the coast)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apps.elements.domain.trackers import GapTracker

from ..tracks import HARBOUR, PIER, kinds, landing, moved, of_kind, pipeline, sail, sh, stay


def test_dark_vessel_fires_for_a_silence_that_ends_at_a_pier() -> None:
    start = sh(2021, 3, 21, 0, 0)
    near = moved(*PIER, east_m=1_000)
    track = sail("4132", start, moved(*PIER, east_m=6_000), near, minutes=20)
    track += stay("4132", start + timedelta(minutes=140), PIER, minutes=10)  # 2 h silent, back at the pier
    dark = of_kind(pipeline().detect(track), "dark_vessel")
    assert len(dark) == 1
    f = dark[0]
    assert f.evidence["gap_min"] == pytest.approx(121, abs=1)
    assert f.factors["location"] == 1.0  # ends inside the idle pier
    assert f.evidence["went_nowhere"] is False and f.evidence["too_far"] is False
    assert f.factors["night"] == 1.0
    assert len(f.fixes) == 2 and f.fixes[0].ts < f.fixes[1].ts

def test_dark_vessel_quiet_cases() -> None:
    start = sh(2021, 3, 21, 0, 0)
    # A 30-minute silence is below the 60-minute threshold.
    off = moved(*PIER, east_m=3_000)
    short = stay("4132", start, off, minutes=10) + stay("4132", start + timedelta(minutes=40), off, minutes=10)
    assert "dark_vessel" not in kinds(pipeline().detect(short))
    # Far from the coast (> 20 km from any geofence).
    far = (122.60, 29.60)
    offshore = stay("4132", start, far, minutes=10) + stay("4132", start + timedelta(hours=3), far, minutes=10)
    assert "dark_vessel" not in kinds(pipeline().detect(offshore))
    # Moored inside an active harbour with AIS off overnight: in port, not dark.
    moored = stay("4132", start, HARBOUR, minutes=10) + stay("4132", start + timedelta(hours=6), HARBOUR, minutes=10)
    assert "dark_vessel" not in kinds(pipeline().detect(moored))

def test_dark_vessel_odd_displacement_raises_behaviour() -> None:
    start = sh(2021, 3, 21, 9, 0)
    a = moved(*PIER, east_m=5_000)
    before = stay("4133", start, a, minutes=4)
    normal = before + stay("4133", start + timedelta(hours=2), moved(*a, north_m=20_000), minutes=4)
    nowhere = before + stay("4133", start + timedelta(hours=2), moved(*a, north_m=200), minutes=4)
    teleport = before + stay("4133", start + timedelta(hours=1, minutes=4), moved(*a, north_m=90_000), minutes=4)
    b_normal = of_kind(pipeline().detect(normal), "dark_vessel")[0]
    b_nowhere = of_kind(pipeline().detect(nowhere), "dark_vessel")[0]
    b_teleport = of_kind(pipeline().detect(teleport), "dark_vessel")[0]
    assert b_nowhere.evidence["went_nowhere"] and b_teleport.evidence["too_far"]
    assert b_nowhere.factors["behaviour"] > b_normal.factors["behaviour"]
    assert b_teleport.factors["behaviour"] > b_normal.factors["behaviour"]


def test_the_gaps_tracker_alone_judges_silences_only() -> None:
    start = sh(2021, 3, 21, 0, 0)
    track = stay("4132", start, moved(*PIER, east_m=1_000), minutes=10)
    track += landing("4132", start + timedelta(minutes=150))  # back after 2 h 20 min, then lands
    alone = pipeline(trackers=(GapTracker,)).detect(track)
    assert kinds(alone) == {"dark_vessel"}
    assert kinds(pipeline().detect(track)) >= {"dark_vessel", "idle_pier_landing"}
