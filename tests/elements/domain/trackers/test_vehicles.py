"""Vehicles tracker: checkpoint captures near a vessel stop."""
from __future__ import annotations

from apps.elements.domain.model import VehicleCapture

from ..tracks import PIER, capture, landing, moved, of_kind, pipeline, sh


def test_vehicle_capture_during_a_stop_corroborates_the_landing() -> None:
    p = pipeline(vehicle_watchlist={"浙B12345"}, known_vehicles={"浙B99999"})
    p.detect(landing("4141", sh(2021, 3, 21, 1, 0))[:40])  # still stopped at the pier
    found = p.detect_vehicle_captures([capture("浙B12345", sh(2021, 3, 21, 1, 20))])
    veh = of_kind(found, "vehicle_vessel")
    assert veh and veh[0].vessels == ("4141",) and veh[0].factors["behaviour"] == 1.0
    assert veh[0].evidence["captures"][0]["plate"] == "浙B12345"
    land = of_kind(found, "idle_pier_landing")
    assert land and land[-1].factors["corroboration"] == 1.0

def test_vehicle_capture_before_the_stop_counts_when_the_stop_begins() -> None:
    p = pipeline(known_vehicles={"浙B99999"})
    assert p.detect_vehicle_captures([capture("浙BX0001", sh(2021, 3, 21, 0, 30))]) == []
    veh = of_kind(p.detect(landing("4141", sh(2021, 3, 21, 1, 0))), "vehicle_vessel")
    assert veh and veh[0].factors["behaviour"] == 0.7  # unknown, not watched

def test_vehicle_capture_quiet_cases() -> None:
    p = pipeline(vehicle_watchlist={"浙B12345"}, known_vehicles={"浙B99999"})
    p.detect(landing("4141", sh(2021, 3, 21, 1, 0))[:40])
    assert p.detect_vehicle_captures([capture("浙B99999", sh(2021, 3, 21, 1, 20))]) == []  # registered
    far = moved(*PIER, north_m=10_000)
    assert p.detect_vehicle_captures([capture("浙B12345", sh(2021, 3, 21, 1, 20), far)]) == []  # too far
    assert p.detect_vehicle_captures([capture("浙B12345", sh(2021, 3, 21, 5, 0))]) == []  # hours later
    assert p.detect_vehicle_captures([VehicleCapture("kk-unknown", "浙B12345", sh(2021, 3, 21, 1, 20))]) == []
    assert p.stats["captures_skipped"] == 1
