"""Element-control test helpers: a clean pipeline per test, demo geography, synthetic tracks.

The tracks here are built with the same small generator the demo uses (``apps.elements.demo.Track``)
relative to the real demo geofences of ``geodata/``; everything else runs for real (PostgreSQL,
Redis state and locks, Celery tasks in-process or on a real worker for ``live`` tests).
"""
from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
AIS = ROOT / "tests" / "fixtures" / "ais"
POSITIONS = ROOT / "tests" / "fixtures" / "positions"
GEODATA = ROOT / "geodata"
LOCAL = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def clean_pipeline():
    """Every test starts with no pipeline state in Redis and a freshly built pipeline context."""
    from apps.elements import fixstore, runtime, state

    state.state_clear()
    runtime.reset()
    runtime.context_changed()
    # the process's memo of day partitions: a test that ran on-commit callbacks inside its
    # rolled-back transaction (django_capture_on_commit_callbacks) leaves days in it whose
    # partitions are gone
    fixstore._known_partitions.clear()
    yield
    state.state_clear()
    runtime.reset()


@pytest.fixture
def demo_geo(db):
    """The illustrative demo geofences and checkpoints of geodata/ (real import path)."""
    from apps.elements import services
    from apps.elements.models import Geofence

    services.geofence_import(path=GEODATA / "demo_geofences.geojson")
    services.checkpoint_import(path=GEODATA / "demo_checkpoints.geojson")
    return {g.properties["code"]: g for g in Geofence.objects.all()}


def run_command(*args, **kwargs) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue()


def run_json(*args) -> dict:
    return json.loads(run_command(*args, "--json"))


def landing_fixes(geofence, *, vessel_id: str, night: datetime, stay_min: float = 80, source: str = "beidou"):
    """A boat comes in from the sea, stops ``stay_min`` minutes inside the geofence, and leaves."""
    from shapely.geometry import shape

    from apps.elements.demo import Track, _offset, _seaward_bearing
    from apps.elements.selectors import county_boundary

    land = shape(county_boundary()["features"][0]["geometry"])
    b = _seaward_bearing(geofence.centroid_lon, geofence.centroid_lat, land)
    lon0, lat0 = _offset(geofence.centroid_lon, geofence.centroid_lat, bearing_deg=b, distance_m=3000)
    tr = Track(vessel_id, source, night, lon0, lat0)
    tr.sail(geofence.centroid_lon, geofence.centroid_lat, 7.0).stay(stay_min).sail(lon0, lat0, 7.0)
    return tr.fixes


def positions_csv(fixes) -> str:
    from apps.elements.domain.positions import format_fix_csv

    return "source,vessel_id,timestamp,lat,lon,sog,cog\n" + "\n".join(format_fix_csv(f) for f in fixes) + "\n"


def local_night(days_ago: int, hour: int = 1, minute: int = 0) -> datetime:
    day = (datetime.now(LOCAL) - timedelta(days=days_ago)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _nmea_checksum(text: str) -> str:
    x = 0
    for ch in text.encode("ascii"):
        x ^= ch
    return f"{x:02X}"


def ais_lines(fixes, *, static: dict | None = None) -> list[str]:
    """Fixes as real AIS type 1 sentences (encoded with pyais) behind NMEA 4.10 tag blocks (c: unix time)."""
    from pyais.encode import encode_dict

    lines = []
    for f in fixes:
        msg = {"type": 1, "mmsi": int(f.vessel_id), "lon": f.lon, "lat": f.lat, "speed": f.sog_kn or 0.0,
               "course": f.cog_deg or 0.0, "status": 0}
        tag = f"c:{int(f.ts.timestamp())}"
        for sentence in encode_dict(msg, talker_id="AI", radio_channel="A"):
            body = "AIVDM" + sentence[6 : sentence.rindex("*")]  # received, not own-ship: !AIVDM
            lines.append(f"\\{tag}*{_nmea_checksum(tag)}\\!{body}*{_nmea_checksum(body)}")
    if static:
        for sentence in encode_dict({"type": 5, **static}, talker_id="AI", radio_channel="B"):
            lines.append(sentence)
    return lines
