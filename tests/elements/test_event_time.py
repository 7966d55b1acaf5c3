"""Event time with real worker processes (production mode): sparse reporters meeting at sea,
files in either order, late and interleaved producers (issue #11's done-means)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apps.elements.domain.model import PositionFix
from apps.elements.models import Warning

from .conftest import ais_lines, local_night, positions_csv, run_json

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SEA = (122.30, 29.02)  # open sea east of the county, kilometres from every demo geofence


@pytest.fixture(autouse=True)
def worker_idle_after(celery_worker_process):
    """Let the worker finish what the warnings set off before the test database is flushed."""
    yield
    import time

    from xiangshan.celery import app

    deadline = time.monotonic() + 90
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        inspect = app.control.inspect(timeout=1.0)
        busy = any((inspect.active() or {}).values()) or any((inspect.reserved() or {}).values())
        quiet = 0 if busy else quiet + 1


def _every(source: str, vid: str, start, at, *, minutes: float, every_s: float, sog_kn: float = 0.5) -> list:
    n = int(minutes * 60 // every_s)
    return [PositionFix(source, vid, start + timedelta(seconds=k * every_s), at[0], at[1], sog_kn) for k in range(n + 1)]


def _far_from_every_geofence(demo_geo, at, *, min_m: float) -> None:
    from apps.elements.domain.geo_units import haversine_m

    assert min(haversine_m(at[0], at[1], g.centroid_lon, g.centroid_lat) for g in demo_geo.values()) > min_m


@pytest.mark.parametrize("ais_first", [True, False], ids=["ais-file-first", "beidou-file-first"])
def test_ais_every_10_s_and_beidou_every_180_s_meeting_at_sea_raise_one_rendezvous(
    celery_worker_process, demo_geo, tmp_path, ais_first
):
    _far_from_every_geofence(demo_geo, SEA, min_m=8_000)
    night = local_night(2, 1, 0)
    # A mother ship on AIS every 10 s, slow at sea for six hours; a Beidou fishing boat every
    # 3 minutes lies 90 m east of it from 02:00 to 02:45.
    ship = _every("ais", "412447100", night, SEA, minutes=360, every_s=10)
    boat_at = (SEA[0] + 90 / (111_320 * 0.874), SEA[1])
    boat = _every("beidou", "BD-88001", night + timedelta(hours=1), boat_at, minutes=45, every_s=180)
    ais_path = tmp_path / "ship.nmea"
    ais_path.write_text("\n".join(ais_lines(ship)) + "\n")
    bd_path = tmp_path / "boat.csv"
    bd_path.write_text(positions_csv(boat))

    steps = [("ingest_ais", str(ais_path)), ("ingest_positions", str(bd_path))]
    for command, path in steps if ais_first else reversed(steps):
        totals = run_json(command, path)
        assert not totals["errors"]

    rv = list(Warning.objects.filter(kind="rendezvous"))
    assert len(rv) == 1
    w = rv[0]
    assert sorted(w.vessels) == ["412447100", "BD-88001"]
    details = w.evidence["details"]
    assert 40 <= details["duration_min"] <= 50 and set(details["sources"]) == {"ais", "beidou"}
