"""Radar ↔ AIS association: gate, one-to-one assignment, confirmation, end."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apps.elements.domain.association import AssociationConfig, Associator
from apps.elements.domain.model import PositionFix
from apps.elements.domain.sensors import destination

T0 = datetime(2021, 3, 20, 15, 0, tzinfo=UTC)


def _track(vid, source, lon, lat, *, minutes, bearing=90.0, kn=10.0, offset_m=0.0, step_s=10):
    out = []
    for k in range(int(minutes * 60 / step_s)):
        x, y = destination(lon, lat, bearing, kn * 1852 / 3600 * k * step_s)
        if offset_m:
            x, y = destination(x, y, 0.0, offset_m)
        out.append(PositionFix(source, vid, T0 + timedelta(seconds=k * step_s), x, y, kn, bearing))
    return out


def _run(assoc, *tracks):
    fixes = sorted([f for t in tracks for f in t], key=lambda f: (f.ts, f.vessel_id))
    return assoc.observe(fixes)


def test_a_radar_track_is_associated_one_to_one_with_the_right_vessel():
    a = Associator(AssociationConfig())
    ais = _track("412440001", "ais", 122.0, 29.2, minutes=5)
    near = _track("412440002", "ais", 122.0, 29.2, minutes=5, offset_m=250)  # inside the gate, but further
    r1 = _track("radar:R2:17@x", "radar", 122.0, 29.2, minutes=5, offset_m=60)
    r2 = _track("radar:R2:18@x", "radar", 122.0, 29.2, minutes=5, offset_m=240)
    changes = _run(a, ais, near, r1, r2)
    assert a.match_of("radar:R2:17@x") == "412440001"
    assert a.match_of("radar:R2:18@x") == "412440002"  # one-to-one: not both to the nearest
    [c] = [c for c in changes if c.radar_target == "radar:R2:17@x"]
    assert c.active and c.sensor == "R2" and c.number == 17 and 40 < c.mean_distance_m < 80
    assert T0.timestamp() <= c.since_s < T0.timestamp() + 30  # the first scan (30 s) it was seen in


def test_speed_and_course_gate_and_the_end_of_an_association():
    a = Associator(AssociationConfig())
    ais = _track("412440001", "ais", 122.0, 29.2, minutes=3)
    crossing = _track("radar:R2:5@x", "radar", 122.0, 29.2, minutes=3, bearing=0.0, kn=10)  # same place, other course
    _run(a, ais, crossing)
    assert a.match_of("radar:R2:5@x") is None
    r = _track("radar:R2:6@x", "radar", 122.0, 29.2, minutes=3, offset_m=50)
    a2 = Associator(AssociationConfig())
    _run(a2, ais, r)
    assert a2.match_of("radar:R2:6@x") == "412440001"
    # AIS goes silent, the radar keeps seeing the boat: the association ends, remembered
    later = [PositionFix("radar", "radar:R2:6@x", f.ts + timedelta(minutes=3), f.lon, f.lat, f.sog_kn, f.cog_deg)
             for f in _track("radar:R2:6@x", "radar", 122.05, 29.2, minutes=10)]
    changes = a2.observe(later)
    assert [c.active for c in changes] == [False]
    assert a2.targets_of("412440001") == ["radar:R2:6@x"]
    again = Associator.from_dict(a2.to_dict())
    assert again.targets_of("412440001") == ["radar:R2:6@x"] and again.radar_last.keys() == a2.radar_last.keys()
