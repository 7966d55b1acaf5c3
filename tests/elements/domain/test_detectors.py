"""Rules shared by the trackers (local time, tide proximity, per-area/season configuration) and
stop and dark-gap detection at scale on a real AIS file (Suez, March 2021). Each tracker's own
cases are in ``trackers/``."""
from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from apps.elements.domain.detectors import (
    AreaSeasonRule,
    DarkVessel,
    DetectorConfig,
    DetectorSet,
    IdlePierLanding,
    LocalClock,
    tide_proximity,
)
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.model import PositionFix
from apps.elements.domain.pipeline import TrackPipeline

from .tracks import COVE, high_water_at, kinds, landing, of_kind, pipeline, sh

SUEZ = Path(__file__).resolve().parents[2] / "fixtures" / "positions" / "suez_boat_positions_2021.csv"

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
