"""Encounters tracker: rendezvous at sea."""
from __future__ import annotations

import pytest

from apps.elements.domain.trackers import EncounterTracker

from ..tracks import HARBOUR, OPEN_SEA, kinds, moved, of_kind, pair, pipeline, sh


def test_rendezvous_two_slow_vessels_close_for_a_while_at_sea() -> None:
    found = of_kind(pipeline().detect(pair(sh(2021, 3, 21, 2), OPEN_SEA, apart_m=80, minutes=45)), "rendezvous")
    assert found and found[0].vessels == ("4137", "4138") and found[0].geofence_id is None
    assert found[-1].evidence["duration_min"] >= 40
    assert found[-1].evidence["min_distance_m"] == pytest.approx(80, abs=1)
    assert len({f.episode_key for f in found}) == 1

def test_rendezvous_quiet_cases() -> None:
    t = sh(2021, 3, 21, 2)
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, OPEN_SEA, apart_m=2_000, minutes=45)))  # not close
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, OPEN_SEA, apart_m=80, minutes=12)))  # too short
    fast = pair(t, OPEN_SEA, apart_m=80, minutes=45, sog_kn=9.0)
    assert "rendezvous" not in kinds(pipeline().detect(fast))  # not slow
    near_port = moved(*HARBOUR, east_m=1_500)
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, near_port, apart_m=80, minutes=45)))  # at a port


def test_the_encounters_tracker_alone_keeps_its_grid_in_the_shared_state() -> None:
    p = pipeline(trackers=(EncounterTracker,))
    found = p.detect(pair(sh(2021, 3, 21, 2), OPEN_SEA, apart_m=80, minutes=45))
    assert kinds(found) == {"rendezvous"}
    assert "rendezvous" in p.store.keys() and not any(k.startswith("site:") for k in p.store.keys())
