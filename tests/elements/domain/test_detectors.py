"""Each detector on a track that should fire and one that should not; local-time rules;
stop and dark-gap detection at scale on a real AIS file (Suez, March 2021)."""
from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import shapely
from pyproj import Geod, Transformer

from apps.elements.domain.detectors import (
    AreaSeasonRule,
    DarkVessel,
    DetectorConfig,
    DetectorSet,
    Finding,
    IdlePierLanding,
    LocalClock,
    tide_proximity,
)
from apps.elements.domain.geometry import Geofence, buffer_point_m
from apps.elements.domain.model import PositionFix, TideWindow, VehicleCapture
from apps.elements.domain.pipeline import TrackPipeline

SH = ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
SUEZ = Path(__file__).resolve().parents[2] / "fixtures" / "positions" / "suez_boat_positions_2021.csv"

# --------------------------------------------------------------------------- helpers

PIER = (121.95, 29.10)  # an idle pier on Gaotang island (synthetic position)
HARBOUR = (121.95, 28.95)  # an active fishing harbour
COVE = (122.05, 29.25)  # an idle cove in Hepu
OPEN_SEA = (122.15, 29.05)  # ~20 km from every geofence below

IDLE_PIER = Geofence("gt-01", "高塘闲置码头", "pier", "idle", "高塘", buffer_point_m(*PIER, radius_m=150))
ACTIVE_PIER = Geofence("sp-01", "石浦渔港", "pier", "active", "石浦", buffer_point_m(*HARBOUR, radius_m=300))
IDLE_COVE = Geofence("hp-01", "鹤浦岙口", "cove", "idle", "鹤浦", buffer_point_m(*COVE, radius_m=200))
WORLD = [IDLE_PIER, ACTIVE_PIER, IDLE_COVE]
LANDING = "idle_pier_landing"


def sh(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    """A Shanghai wall-clock time, returned in UTC (what ingest produces)."""
    return datetime(y, mo, d, h, mi, tzinfo=SH).astimezone(UTC)


def moved(lon: float, lat: float, *, east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90.0, east_m)
    lon3, lat3, _ = GEOD.fwd(lon2, lat2, 0.0, north_m)
    return lon3, lat3


def stay(
    vid: str,
    start: datetime,
    at: tuple[float, float],
    *,
    minutes: float,
    every_min: float = 2.0,
    sog_kn: float | None = 0.2,
) -> list[PositionFix]:
    """Fixes every ``every_min`` at one spot from ``start`` for ``minutes`` (ends included)."""
    n = int(minutes // every_min)
    return [
        PositionFix("ais", vid, start + timedelta(minutes=k * every_min), at[0], at[1], sog_kn) for k in range(n + 1)
    ]


def sail(
    vid: str,
    start: datetime,
    frm: tuple[float, float],
    to: tuple[float, float],
    *,
    minutes: float,
    every_min: float = 1.0,
    sog_kn: float | None = 8.0,
) -> list[PositionFix]:
    """Straight-line fixes from ``frm`` to ``to``; excludes the end point."""
    n = max(int(minutes // every_min), 1)
    return [
        PositionFix(
            "ais",
            vid,
            start + timedelta(minutes=k * every_min),
            frm[0] + (to[0] - frm[0]) * k / n,
            frm[1] + (to[1] - frm[1]) * k / n,
            sog_kn,
        )
        for k in range(n)
    ]


def landing(vid: str, arrive: datetime, at: tuple[float, float] = PIER, *, stop_min: float = 70.0) -> list[PositionFix]:
    """Sail in for 10 min from 2 km east, stop ``stop_min``, sail out for 20 min (the
    visit ends after 10 min outside)."""
    off = moved(*at, east_m=2_000)
    track = sail(vid, arrive - timedelta(minutes=10), off, at, minutes=10)
    track += stay(vid, arrive, at, minutes=stop_min)
    track += sail(vid, arrive + timedelta(minutes=stop_min + 1), at, moved(*at, east_m=4_000), minutes=20)
    return track


def pipeline(**kw: object) -> TrackPipeline:
    kw.setdefault("geofences", WORLD)
    return TrackPipeline(**kw)  # type: ignore[arg-type]


def kinds(findings: list[Finding]) -> set[str]:
    return {f.kind for f in findings}


def of_kind(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


def high_water_at(peak: datetime, hours: float = 2.0) -> Callable[[datetime], TideWindow | None]:
    w = TideWindow(peak - timedelta(hours=hours), peak, peak + timedelta(hours=hours))
    return lambda ts: w if w.contains(ts) else None


# --------------------------------------------------------------------------- local time


def test_local_clock_judges_night_in_shanghai_from_utc() -> None:
    clock = LocalClock()
    t = datetime(2021, 3, 20, 17, 30, tzinfo=UTC).timestamp()  # 01:30 in Shanghai
    assert clock.local_date(t) == date(2021, 3, 21)
    assert clock.in_window(t, start=time(22), end=time(5))
    assert not clock.in_window(t + 6 * 3600, start=time(22), end=time(5))  # 07:30
    # 21:00-03:00 local overlaps the 22:00-05:00 window for 5 h.
    t0 = sh(2021, 3, 20, 21).timestamp()
    assert clock.window_overlap_s(t0, t0 + 6 * 3600, start=time(22), end=time(5)) == 5 * 3600
    # Two nights in one interval.
    assert clock.window_overlap_s(t0, t0 + 30 * 3600, start=time(22), end=time(5)) == 12 * 3600
    assert clock.window_overlap_s(t0, t0 + 3600, start=time(0), end=time(0)) == 3600  # whole day


def test_tide_proximity_peaks_at_high_water() -> None:
    peak = sh(2021, 3, 21, 2)
    lookup = high_water_at(peak)
    p = peak.timestamp()
    assert tide_proximity(p - 1800, p + 1800, tide_window_at=lookup)[0] == 1.0
    f, w = tide_proximity(p - 3600 - 1800, p - 3600, tide_window_at=lookup)
    assert f == pytest.approx(0.5) and w is not None and w.peak == peak
    assert tide_proximity(p + 5 * 3600, p + 6 * 3600, tide_window_at=lookup) == (0.0, None)
    assert tide_proximity(p, p, tide_window_at=None) == (0.0, None)


# --------------------------------------------------------------------------- idle-pier landing


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


# --------------------------------------------------------------------------- dark vessel


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


# --------------------------------------------------------------------------- repeat visits


def test_repeat_visit_same_vessel_within_three_days() -> None:
    p = pipeline()
    first = p.detect(landing("4134", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(first)
    again = p.detect(landing("4134", sh(2021, 3, 23, 2, 0)))  # 49 h later
    rep = of_kind(again, "repeat_visit")
    assert len(rep) == 1 and rep[0].vessels == ("4134",)
    assert rep[0].evidence["intervals_h"] == [pytest.approx(49)]
    third = of_kind(p.detect(landing("4134", sh(2021, 3, 25, 1, 30))), "repeat_visit")
    assert third[0].episode_key == rep[0].episode_key  # the same burst
    assert third[0].factors["behaviour"] > rep[0].factors["behaviour"]


def test_repeat_visit_by_a_watch_list_group_but_not_strangers_or_after_a_week() -> None:
    group = {"4135": "舟山帮", "4136": "舟山帮"}
    p = pipeline(watchlist=group)
    p.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    rep = of_kind(p.detect(landing("4136", sh(2021, 3, 23, 1, 0))), "repeat_visit")
    assert rep and rep[0].vessels == ("4135", "4136") and rep[0].factors["watchlist"] == 1.0
    strangers = pipeline()
    strangers.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(strangers.detect(landing("4136", sh(2021, 3, 23, 1, 0))))
    late = pipeline()
    late.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(late.detect(landing("4135", sh(2021, 3, 28, 1, 0))))


# --------------------------------------------------------------------------- rendezvous


def _pair(
    start: datetime, at: tuple[float, float], *, apart_m: float, minutes: float, sog_kn: float = 0.5
) -> list[PositionFix]:
    other = moved(*at, east_m=apart_m)
    a = stay("4137", start, at, minutes=minutes, every_min=1, sog_kn=sog_kn)
    b = stay("4138", start + timedelta(seconds=20), other, minutes=minutes, every_min=1, sog_kn=sog_kn)
    return sorted(a + b, key=lambda f: f.ts)


def test_rendezvous_two_slow_vessels_close_for_a_while_at_sea() -> None:
    found = of_kind(pipeline().detect(_pair(sh(2021, 3, 21, 2), OPEN_SEA, apart_m=80, minutes=45)), "rendezvous")
    assert found and found[0].vessels == ("4137", "4138") and found[0].geofence_id is None
    assert found[-1].evidence["duration_min"] >= 40
    assert found[-1].evidence["min_distance_m"] == pytest.approx(80, abs=1)
    assert len({f.episode_key for f in found}) == 1


def test_rendezvous_quiet_cases() -> None:
    t = sh(2021, 3, 21, 2)
    assert "rendezvous" not in kinds(pipeline().detect(_pair(t, OPEN_SEA, apart_m=2_000, minutes=45)))  # not close
    assert "rendezvous" not in kinds(pipeline().detect(_pair(t, OPEN_SEA, apart_m=80, minutes=12)))  # too short
    fast = _pair(t, OPEN_SEA, apart_m=80, minutes=45, sog_kn=9.0)
    assert "rendezvous" not in kinds(pipeline().detect(fast))  # not slow
    near_port = moved(*HARBOUR, east_m=1_500)
    assert "rendezvous" not in kinds(pipeline().detect(_pair(t, near_port, apart_m=80, minutes=45)))  # at a port


# --------------------------------------------------------------------------- scout boat


def _probe(vid: str, start: datetime, *, sog_kn: float) -> list[PositionFix]:
    """In through the pier at ``sog_kn`` for ~8 minutes, and out again."""
    off = moved(*PIER, east_m=2_000)
    return (
        sail(vid, start, off, PIER, minutes=10, sog_kn=sog_kn)
        + stay(vid, start + timedelta(minutes=10), PIER, minutes=6, sog_kn=sog_kn)
        + sail(vid, start + timedelta(minutes=18), PIER, off, minutes=10, sog_kn=sog_kn)
    )


def test_scout_boat_then_a_follower_that_stops() -> None:
    scout = _probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=3.0)
    follower = landing("4140", sh(2021, 3, 21, 1, 15))
    found = of_kind(pipeline().detect(sorted(scout + follower, key=lambda f: f.ts)), "scout_boat")
    assert len(found) == 1
    f = found[0]
    assert f.vessels == ("4139", "4140") and f.geofence_id == "gt-01"
    assert f.evidence["scout"] == "4139" and 30 < f.evidence["lag_min"] < 70
    # The follower's landing is corroborated by the scout.
    follow = of_kind(pipeline().detect(sorted(scout + follower, key=lambda f: f.ts)), "idle_pier_landing")
    assert follow[-1].factors["corroboration"] == pytest.approx(0.8)


def test_scout_boat_quiet_cases() -> None:
    late = _probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=3.0) + landing("4140", sh(2021, 3, 21, 6, 0))
    assert "scout_boat" not in kinds(pipeline().detect(sorted(late, key=lambda f: f.ts)))
    passing = _probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=12.0) + landing("4140", sh(2021, 3, 21, 1, 15))
    assert "scout_boat" not in kinds(pipeline().detect(sorted(passing, key=lambda f: f.ts)))


# --------------------------------------------------------------------------- vehicle-vessel


CHECKPOINT = moved(*PIER, north_m=1_200)


def _capture(plate: str, at: datetime, where: tuple[float, float] = CHECKPOINT) -> VehicleCapture:
    return VehicleCapture("kk-07", plate, at, where[0], where[1])


def test_vehicle_capture_during_a_stop_corroborates_the_landing() -> None:
    p = pipeline(vehicle_watchlist={"浙B12345"}, known_vehicles={"浙B99999"})
    p.detect(landing("4141", sh(2021, 3, 21, 1, 0))[:40])  # still stopped at the pier
    found = p.detect_vehicle_captures([_capture("浙B12345", sh(2021, 3, 21, 1, 20))])
    veh = of_kind(found, "vehicle_vessel")
    assert veh and veh[0].vessels == ("4141",) and veh[0].factors["behaviour"] == 1.0
    assert veh[0].evidence["captures"][0]["plate"] == "浙B12345"
    land = of_kind(found, "idle_pier_landing")
    assert land and land[-1].factors["corroboration"] == 1.0


def test_vehicle_capture_before_the_stop_counts_when_the_stop_begins() -> None:
    p = pipeline(known_vehicles={"浙B99999"})
    assert p.detect_vehicle_captures([_capture("浙BX0001", sh(2021, 3, 21, 0, 30))]) == []
    veh = of_kind(p.detect(landing("4141", sh(2021, 3, 21, 1, 0))), "vehicle_vessel")
    assert veh and veh[0].factors["behaviour"] == 0.7  # unknown, not watched


def test_vehicle_capture_quiet_cases() -> None:
    p = pipeline(vehicle_watchlist={"浙B12345"}, known_vehicles={"浙B99999"})
    p.detect(landing("4141", sh(2021, 3, 21, 1, 0))[:40])
    assert p.detect_vehicle_captures([_capture("浙B99999", sh(2021, 3, 21, 1, 20))]) == []  # registered
    far = moved(*PIER, north_m=10_000)
    assert p.detect_vehicle_captures([_capture("浙B12345", sh(2021, 3, 21, 1, 20), far)]) == []  # too far
    assert p.detect_vehicle_captures([_capture("浙B12345", sh(2021, 3, 21, 5, 0))]) == []  # hours later
    assert p.detect_vehicle_captures([VehicleCapture("kk-unknown", "浙B12345", sh(2021, 3, 21, 1, 20))]) == []
    assert p.stats["captures_skipped"] == 1


# --------------------------------------------------------------------------- configuration


def test_detector_config_differs_per_area_and_season() -> None:
    summer_gaotang = DetectorSet(idle_pier_landing=IdlePierLanding(min_dwell_min=10))
    cfg = DetectorConfig(rules=(AreaSeasonRule(detectors=summer_gaotang, area="高塘", months=(6, 9)),))
    assert cfg.for_area(area="高塘", month=7).idle_pier_landing.min_dwell_min == 10
    assert cfg.for_area(area="高塘", month=3).idle_pier_landing.min_dwell_min == 30
    assert cfg.for_area(area="鹤浦", month=7).idle_pier_landing.min_dwell_min == 30
    july = pipeline(config=cfg).detect(landing("4142", sh(2021, 7, 21, 1, 0), stop_min=20))
    march = pipeline(config=cfg).detect(landing("4142", sh(2021, 3, 21, 1, 0), stop_min=20))
    cove_july = pipeline(config=cfg).detect(landing("4142", sh(2021, 7, 21, 1, 0), at=COVE, stop_min=20))
    assert "idle_pier_landing" in kinds(july)
    assert "idle_pier_landing" not in kinds(march) | kinds(cove_july)
    winter = AreaSeasonRule(detectors=DetectorSet(), months=(11, 2))
    assert winter.matches(area="x", month=12) and winter.matches(area="x", month=1)
    assert not winter.matches(area="x", month=3)


def test_detector_config_round_trips_through_a_dict() -> None:
    cfg = DetectorConfig(
        default=DetectorSet(dark_vessel=DarkVessel(min_gap_min=45, night_start=time(21, 30))),
        rules=(
            AreaSeasonRule(
                detectors=DetectorSet(idle_pier_landing=IdlePierLanding(kinds=("pier",))), area="定山", months=(5, 8)
            ),
        ),
        reeval_min=3,
    )
    again = DetectorConfig.from_dict(cfg.to_dict())
    assert again.default == cfg.default and again.reeval_min == 3
    assert again.rules[0].area == "定山" and again.rules[0].months == (5, 8)
    # Rule detector sets are partial overrides of the default.
    partial = DetectorConfig.from_dict({"default": {"dark_vessel": {"min_gap_min": 90}}, "rules": [
        {"area": "高塘", "months": [1, 12], "detectors": {"idle_pier_landing": {"min_dwell_min": 15}}}]})
    rule_set = partial.rules[0].detectors
    assert rule_set.dark_vessel.min_gap_min == 90 and rule_set.idle_pier_landing.min_dwell_min == 15
    with pytest.raises(ValueError):
        DetectorConfig.from_dict({"default": {"dark_vessel": {"min_gap": 5}}})


# --------------------------------------------------------------------------- real data: Suez


ANCHORAGE_BOX = (32.43, 29.70, 32.62, 29.90)  # the southern (Suez Bay) anchorage


def _suez_fixes() -> list[PositionFix]:
    out = []
    with SUEZ.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            ts = datetime.strptime(row["ais_pos_timestamp"], "%d/%m/%Y %H:%M").replace(tzinfo=UTC)
            out.append(PositionFix("ais", row["ID"], ts, float(row["longitude"]), float(row["latitude"])))
    return out


@pytest.fixture(scope="module")
def suez() -> dict[str, object]:
    """Run the whole file once; compute the expectations independently (UTM 36N, numpy)."""
    fixes = _suez_fixes()
    anchorage = Geofence("suez-south", "Suez Bay anchorage", "anchorage", "active", "suez", shapely.box(*ANCHORAGE_BOX))
    config = DetectorConfig(
        default=DetectorSet(
            idle_pier_landing=IdlePierLanding(
                kinds=("anchorage",), statuses=("active",), require_night=False, min_dwell_min=120, mooring_min=1e9
            ),
            dark_vessel=DarkVessel(min_gap_min=180, max_gap_min=10_000, near_coast_m=5_000, ignore_in_port=False),
        )
    )
    pipe = TrackPipeline(geofences=[anchorage], config=config)
    findings = pipe.detect(fixes)

    # Independent expectations.
    to_utm = Transformer.from_crs(4326, 32636, always_xy=True)
    box_m = shapely.transform(
        shapely.box(*ANCHORAGE_BOX), lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))
    )
    by_vessel: dict[str, list[tuple[float, float, float]]] = {}
    seen: set[tuple[str, float]] = set()
    duplicates = 0
    for f in fixes:
        key = (f.vessel_id, f.ts.timestamp())
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        by_vessel.setdefault(f.vessel_id, []).append((key[1], f.lon, f.lat))
    slow_h: dict[str, float] = {}
    inside_any: set[str] = set()
    gaps: set[tuple[str, float]] = set()
    for vid, rows in by_vessel.items():
        arr = np.array(sorted(rows))
        t, lon, lat = arr[:, 0], arr[:, 1], arr[:, 2]
        x, y = to_utm.transform(lon, lat)
        d_box = shapely.distance(box_m, shapely.points(x, y))
        inside = d_box == 0
        if inside.any():
            inside_any.add(vid)
        dt = np.diff(t)
        speed_kn = np.hypot(np.diff(x), np.diff(y)) / np.where(dt > 0, dt, np.nan) / 0.514444
        both_in_slow = inside[:-1] & inside[1:] & (speed_kn <= 1.0)
        slow_h[vid] = float(dt[both_in_slow].sum() / 3600)
        for k in np.flatnonzero(dt >= 3 * 3600):
            if min(d_box[k], d_box[k + 1]) <= 5_000:
                gaps.add((vid, float(t[k])))
    return {
        "pipe": pipe,
        "findings": findings,
        "slow_h": slow_h,
        "inside_any": inside_any,
        "gaps": gaps,
        "duplicates": duplicates,
    }


def test_suez_waiting_vessels_are_found_stopped_and_passers_are_not(suez: dict) -> None:
    stopped = {f.vessels[0] for f in of_kind(suez["findings"], "idle_pier_landing")}
    slow_h = suez["slow_h"]
    waited = {v for v, h in slow_h.items() if h >= 4.0}
    passed = {v for v in suez["inside_any"] if slow_h[v] == 0.0}
    assert len(waited) >= 80 and len(passed) >= 60  # the file: ~90 waited, ~75 only passed
    assert waited <= stopped
    assert not (passed & stopped)
    assert {"44", "60", "72", "94"} <= stopped and not ({"1", "7", "14", "12"} & stopped)
    # Long waits: dwell grows to days.
    longest = max(f.evidence["dwell_min"] for f in of_kind(suez["findings"], "idle_pier_landing"))
    assert longest > 100 * 60


def test_suez_dark_gaps_near_the_anchorage_are_exactly_the_long_silences(suez: dict) -> None:
    dark = of_kind(suez["findings"], "dark_vessel")
    found = {(f.vessels[0], f.start.timestamp()) for f in dark}
    assert found == suez["gaps"]
    assert len(found) >= 40
    # Every vessel that went silent by the anchorage had waited there; passers never did.
    assert {v for v, _ in found} <= {v for v, h in suez["slow_h"].items() if h > 0}


def test_suez_duplicate_timestamps_are_ignored(suez: dict) -> None:
    assert suez["pipe"].stats["ignored_out_of_order"] == suez["duplicates"] > 0
