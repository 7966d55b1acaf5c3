"""The dark-target tracker on its own: unmatched radar tracks, radar-confirmed gaps, coverage."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from apps.elements.domain.pipeline import InMemoryStateStore, TrackPipeline
from apps.elements.domain.sensors import Sensor
from apps.elements.domain.dark_rule import DarkTargetRule

from ..tracks import PIER, WORLD, kinds, landing, moved, of_kind, sh

RADAR = Sensor("R2", "radar", *moved(*PIER, north_m=3_000), range_m=15_000)
RID = "radar:R2:17@20210320T170000"


class _Pipeline(TrackPipeline):
    def __init__(self, *, sensors=(RADAR,), dark_rule=None, **kw):
        self.sensors, self.dark_rule = sensors, dark_rule
        super().__init__(geofences=WORLD, state_store=InMemoryStateStore(serialise=True), **kw)


def _radar(fixes, target=RID, north_m=40.0):
    out = []
    for f in fixes:
        lon, lat = moved(f.lon, f.lat, north_m=north_m)
        out.append(replace(f, source="radar", vessel_id=target, ts=f.ts + timedelta(seconds=5), lon=lon, lat=lat))
    return out


def _run(p, fixes, *, batches=3):
    fixes = sorted(fixes, key=lambda f: f.ts)
    n = len(fixes) // batches + 1
    found = []
    for i in range(0, len(fixes), n):  # several batches: the state goes through JSON in between
        found += p.detect(fixes[i:i + n])
    return found


def test_a_radar_only_boat_heading_for_the_pier_is_a_dark_target_and_a_landing():
    boat = _radar(landing("x", sh(2021, 3, 21, 2)), north_m=0.0)
    found = _run(_Pipeline(), boat)
    dark = of_kind(found, "dark_target")
    assert dark and {f.vessels for f in dark} == {(RID,)}
    assert dark[0].evidence["sensors"] == ["R2"] and dark[0].evidence["unmatched_min"] >= 10
    assert "idle_pier_landing" in kinds(found)


def test_a_radar_track_that_is_an_ais_vessel_is_not_dark():
    ais = landing("412440001", sh(2021, 3, 21, 2))
    found = _run(_Pipeline(), ais + _radar(ais))
    assert "dark_target" not in kinds(found)


def test_without_radars_nothing_changes():
    boat = _radar(landing("x", sh(2021, 3, 21, 2)), north_m=0.0)
    assert "dark_target" not in kinds(_run(_Pipeline(sensors=()), boat))


def test_switched_off_inside_coverage_is_confirmed_outside_it_is_a_coverage_gap():
    ais = landing("412440001", sh(2021, 3, 21, 2), stop_min=120)
    silent = ais[:15] + ais[60:]  # 90 minutes without AIS at the pier
    p = _Pipeline()
    [gap] = of_kind(_run(p, silent + _radar(ais)), "dark_vessel")
    assert gap.evidence["confirmed_by_radar"]["radar_target"] == RID and gap.factors["corroboration"] == 1.0
    far = Sensor("R9", "radar", *moved(*PIER, north_m=60_000), range_m=10_000)
    p2 = _Pipeline(sensors=(far,))
    [gap2] = of_kind(_run(p2, silent), "dark_vessel")
    assert gap2.evidence["coverage"] == "outside"
    [plain] = of_kind(_run(_Pipeline(sensors=()), silent), "dark_vessel")
    assert abs(gap2.factors["behaviour"] - plain.factors["behaviour"] * 0.5) < 1e-3


def test_the_rule_can_be_changed():
    boat = _radar(landing("x", sh(2021, 3, 21, 2)), north_m=0.0)
    strict = DarkTargetRule(min_unmatched_min=240)
    assert "dark_target" not in kinds(_run(_Pipeline(dark_rule=strict), boat))
    assert DarkTargetRule.from_dict({"min_unmatched_min": 5, "bogus": 1}).min_unmatched_min == 5


def test_the_rule_is_per_area_and_season_from_the_detector_settings():
    from apps.elements.domain.detectors import AreaSeasonRule, DetectorConfig, DetectorSet

    boat = _radar(landing("x", sh(2021, 3, 21, 2)), north_m=0.0)
    lenient_here = DetectorSet.from_dict({"dark_target": {"min_unmatched_min": 240}})
    config = DetectorConfig(default=DetectorSet(), rules=(AreaSeasonRule(detectors=lenient_here, area="高塘"),))
    assert "dark_target" not in kinds(_run(_Pipeline(config=config), boat))
    elsewhere = DetectorConfig(default=DetectorSet(), rules=(AreaSeasonRule(detectors=lenient_here, area="鹤浦"),))
    found = of_kind(_run(_Pipeline(config=elsewhere), boat), "dark_target")
    assert found and found[0].rule["params"]["min_unmatched_min"] == 10.0
    assert DetectorSet().to_dict()["dark_target"]["meet_m"] == 200.0
