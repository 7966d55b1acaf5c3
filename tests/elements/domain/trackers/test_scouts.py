"""Scouts tracker: a probe through an idle pier, then a follower that stops."""
from __future__ import annotations

import pytest

from ..tracks import kinds, landing, of_kind, pipeline, probe, sh


def test_scout_boat_then_a_follower_that_stops() -> None:
    scout = probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=3.0)
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
    late = probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=3.0) + landing("4140", sh(2021, 3, 21, 6, 0))
    assert "scout_boat" not in kinds(pipeline().detect(sorted(late, key=lambda f: f.ts)))
    passing = probe("4139", sh(2021, 3, 21, 0, 0), sog_kn=12.0) + landing("4140", sh(2021, 3, 21, 1, 15))
    assert "scout_boat" not in kinds(pipeline().detect(sorted(passing, key=lambda f: f.ts)))
