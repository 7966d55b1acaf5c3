"""Per-vessel plausibility checks and the haversine helpers."""
from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.elements.domain.geo_units import (
    EARTH_RADIUS_M,
    MS_PER_KNOT,
    haversine_m,
    haversine_m_np,
    implied_speed_kn,
    knots_to_ms,
    ms_to_knots,
)
from apps.elements.domain.model import PositionFix, Quarantined
from apps.elements.domain.positions import parse_positions_csv
from apps.elements.domain.sanity import FixSanity, is_newer
from tests.elements.domain.suez_fixture import HEADER, suez_as_batch

CST = timezone(timedelta(hours=8))
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
# Shipu harbour, Xiangshan (approx.)
LON0, LAT0 = 121.95, 29.20


def fix(minutes: float = 0.0, dlon: float = 0.0, dlat: float = 0.0, vessel: str = "412000001", ts: datetime | None = None) -> PositionFix:
    return PositionFix("ais", vessel, ts or T0 + timedelta(minutes=minutes), LON0 + dlon, LAT0 + dlat, None, None)


# ---------------------------------------------------------------------- geo_units


def test_haversine_known_distances() -> None:
    one_degree = EARTH_RADIUS_M * math.pi / 180
    assert haversine_m(0, 0, 0, 1) == pytest.approx(one_degree)
    assert haversine_m(0, 0, 1, 0) == pytest.approx(one_degree)
    assert haversine_m(0, 0, 180, 0) == pytest.approx(math.pi * EARTH_RADIUS_M)
    assert haversine_m(10, 89.9999, -170, 89.9999) == pytest.approx(2 * 0.0001 * one_degree, rel=1e-6)
    assert haversine_m(179.9, 0, -179.9, 0) == pytest.approx(0.2 * one_degree, rel=1e-9)
    # 1 minute of latitude is about one nautical mile
    assert haversine_m(LON0, LAT0, LON0, LAT0 + 1 / 60) == pytest.approx(1852, rel=0.001)
    # these two points are 0.4 deg of longitude and 0.67 deg of latitude apart: ~84 km
    assert 83_500 < haversine_m(121.95, 29.20, 121.55, 29.87) < 84_500
    assert haversine_m(LON0, LAT0, LON0, LAT0) == 0.0
    assert math.isnan(haversine_m(float("nan"), 0, 0, 0))


@settings(max_examples=200, deadline=None, database=None)
@given(
    st.floats(-180, 180), st.floats(-90, 90), st.floats(-180, 180), st.floats(-90, 90)
)
def test_haversine_scalar_matches_numpy_and_is_symmetric(lon1: float, lat1: float, lon2: float, lat2: float) -> None:
    d = haversine_m(lon1, lat1, lon2, lat2)
    assert 0.0 <= d <= math.pi * EARTH_RADIUS_M + 1e-6
    assert d == pytest.approx(haversine_m(lon2, lat2, lon1, lat1), abs=1e-6)
    assert float(haversine_m_np(lon1, lat1, lon2, lat2)) == pytest.approx(d, abs=1e-6)


def test_haversine_np_broadcasts_over_a_track() -> None:
    lon = np.array([121.90, 121.91, 121.93, 121.93])
    lat = np.array([29.20, 29.21, 29.21, 29.25])
    legs = haversine_m_np(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert legs.shape == (3,) and legs.dtype == np.float64
    assert legs.tolist() == pytest.approx([haversine_m(lon[i], lat[i], lon[i + 1], lat[i + 1]) for i in range(3)])
    from_point = haversine_m_np(LON0, LAT0, lon, lat)
    assert from_point.shape == (4,)
    assert haversine_m_np(0, 0, 0, 1).shape == ()


def test_unit_conversions() -> None:
    assert MS_PER_KNOT == pytest.approx(0.514444, rel=1e-5)
    assert ms_to_knots(knots_to_ms(12.5)) == pytest.approx(12.5)
    assert implied_speed_kn(1852, 3600) == pytest.approx(1.0)
    assert implied_speed_kn(0, 0) == 0.0 and implied_speed_kn(1, 0) == math.inf


# ---------------------------------------------------------------------- time


def test_first_fix_is_accepted() -> None:
    assert FixSanity().check(None, fix(), now=NOW) is None


@pytest.mark.parametrize(
    "ts, ok",
    [
        (NOW + timedelta(seconds=299), True),
        (NOW + timedelta(seconds=301), False),
        (NOW + timedelta(days=400), False),
        (datetime(2000, 1, 1, tzinfo=UTC), True),
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(2000, 1, 1, 7, 59, tzinfo=CST), False),  # 1999-12-31T23:59Z
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (datetime(2024, 5, 1, 20, 4, tzinfo=CST), True),  # NOW + 4 min, written in Beijing time
        (datetime(2024, 5, 1, 20, 6, tzinfo=CST), False),
        (datetime(2024, 5, 1, 10, 0), False),  # naive
    ],
)
def test_impossible_time(ts: datetime, ok: bool) -> None:
    q = FixSanity().check(None, fix(ts=ts), now=NOW)
    if ok:
        assert q is None
    else:
        assert isinstance(q, Quarantined) and q.reason == "impossible_time"


def test_thresholds_are_configurable() -> None:
    lenient = FixSanity(max_future_s=3600, min_year=1990, max_speed_kn=400)
    assert lenient.check(None, fix(ts=NOW + timedelta(minutes=30)), now=NOW) is None
    assert lenient.check(None, fix(ts=datetime(1995, 1, 1, tzinfo=UTC)), now=NOW) is None
    assert lenient.check(fix(0), fix(10, dlon=1.0), now=NOW) is None  # ~97 km in 10 min = 315 kn


def test_now_defaults_to_the_clock() -> None:
    assert FixSanity().check(None, fix(ts=datetime.now(UTC) + timedelta(hours=1))).reason == "impossible_time"
    assert FixSanity().check(None, fix(ts=datetime.now(UTC))) is None


# ---------------------------------------------------------------------- speed


@pytest.mark.parametrize(
    "minutes, dlat, ok",
    [
        (30, 0.09, True),  # 10.0 km in 30 min: 10.7 kn
        (10, 0.15, True),  # 16.7 km in 10 min: 53.8 kn, a fast speedboat
        (10, 0.18, False),  # 20.0 km in 10 min: 64.6 kn
        (10, 0.9, False),  # 100 km in 10 min
        (0, 0.0003, True),  # 33 m jitter within the same second
        (0, 0.002, False),  # 222 m within the same second
    ],
)
def test_speed_jump(minutes: float, dlat: float, ok: bool) -> None:
    last = fix(0)
    new = fix(minutes, dlat=dlat)
    sanity = FixSanity()
    assert (sanity.implied_speed_kn(last, new) <= sanity.max_speed_kn) == ok
    q = sanity.check(last, new, now=NOW)
    assert (q is None) == ok
    if q is not None:
        assert q.reason == "speed_jump" and q.ts == new.ts and "kn implied" in q.detail


def test_long_gap_allows_long_distance() -> None:
    """Dark-vessel case: silent for a day, reappears 1100 km away (25 kn average) -> plausible."""
    later = T0 + timedelta(days=2)
    assert FixSanity().check(fix(0), fix(24 * 60, dlat=10.0), now=later) is None


def test_quarantined_raw_is_a_reparsable_csv_row() -> None:
    new = replace(fix(5, dlat=1.0), sog_kn=12.5, cog_deg=270.0)
    q = FixSanity().check(fix(0), new, now=NOW)
    assert q is not None and q.source == "ais"
    (back,) = parse_positions_csv(HEADER + "\n" + q.raw)
    assert back == new


def test_duplicate_is_accepted_caller_dedups() -> None:
    assert FixSanity().check(fix(3), fix(3), now=NOW) is None


def test_out_of_order_fix_is_checked_but_not_newer() -> None:
    sanity = FixSanity()
    last = fix(30)
    older_plausible = fix(20, dlat=-0.01)
    older_jump = fix(29, dlat=-1.0)
    assert sanity.check(last, older_plausible, now=NOW) is None
    assert not is_newer(last, older_plausible)
    assert sanity.check(last, older_jump, now=NOW).reason == "speed_jump"
    assert is_newer(last, fix(31)) and is_newer(None, last) and not is_newer(last, fix(30))


def test_recovery_from_a_bad_anchor() -> None:
    """A wrong first fix must not lock out every true fix after it."""
    sanity = FixSanity()
    bad_anchor = fix(0, dlon=2.0)  # ~190 km off
    true1, true2, true3 = fix(1), fix(2, dlat=0.001), fix(3, dlat=0.002)
    q1 = sanity.check(bad_anchor, true1, now=NOW)
    assert q1 is not None and q1.reason == "speed_jump"
    # without the hint, the next true fix is refused too; with it, accepted
    assert sanity.check(bad_anchor, true2, now=NOW) is not None
    assert sanity.check(bad_anchor, true2, now=NOW, last_rejected=true1) is None
    accepted, refused = sanity.screen([bad_anchor, true1, true2, true3], now=NOW)
    assert accepted == [bad_anchor, true2, true3]
    assert [q.reason for q in refused] == ["speed_jump"]


def test_duplicated_spike_does_not_move_the_anchor() -> None:
    """The same bad message heard by two receivers must not vouch for itself."""
    track = [fix(m, dlat=0.001 * m) for m in range(6)]
    spike = fix(2.5, dlon=0.5)
    accepted, refused = FixSanity().screen([*track[:3], spike, spike, *track[3:]], now=NOW)
    assert accepted == track
    assert len(refused) == 2


def test_single_spike_is_refused_and_track_continues() -> None:
    track = [fix(m, dlat=0.001 * m) for m in range(10)]
    spike = fix(4.5, dlon=0.5)
    accepted, refused = FixSanity().screen(track[:5] + [spike] + track[5:], now=NOW)
    assert accepted == track
    assert len(refused) == 1 and refused[0].raw.startswith("ais,412000001,")


def test_screen_keeps_vessels_apart() -> None:
    a = [fix(m, dlat=0.001 * m, vessel="A") for m in range(5)]
    b = [fix(m, dlon=1.0 + 0.001 * m, vessel="B") for m in range(5)]
    mixed = [x for pair in zip(a, b) for x in pair]
    accepted, refused = FixSanity().screen(mixed, now=NOW)
    assert accepted == mixed and refused == []


# ---------------------------------------------------------------------- real data


def test_suez_tracks_pass_with_the_feed_time_resolution() -> None:
    """22,287 real positions, minute-resolution timestamps: nothing implausible."""
    text, _ = suez_as_batch(UTC)
    fixes = parse_positions_csv(text)
    now = datetime(2021, 4, 1, tzinfo=UTC)
    accepted, refused = FixSanity(time_slack_s=60).screen(fixes, now=now)
    assert len(accepted) == 22_287 and refused == []
    # with 1 s slack, fixes within the same minute fake high speeds: the slack is needed
    _, refused_1s = FixSanity(time_slack_s=1).screen(fixes, now=now)
    assert refused_1s and all(q.reason == "speed_jump" for q in refused_1s)


def test_suez_teleport_injected_into_a_real_track_is_caught() -> None:
    text, _ = suez_as_batch(UTC)
    fixes = [f for f in parse_positions_csv(text) if f.vessel_id == "suez-1"]
    assert len(fixes) > 30
    i = len(fixes) // 2
    a, b = fixes[i], fixes[i + 1]
    teleport = replace(a, ts=a.ts + (b.ts - a.ts) / 2, lat=a.lat + 1.0)
    sanity = FixSanity(time_slack_s=60)
    accepted, refused = sanity.screen(fixes[: i + 1] + [teleport] + fixes[i + 1 :], now=datetime(2021, 4, 1, tzinfo=UTC))
    assert accepted == fixes
    assert [q.reason for q in refused] == ["speed_jump"]
