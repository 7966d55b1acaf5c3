"""Element control's part of ``manage.py load_demo`` (idempotent).

Loads the illustrative geofences and checkpoints of ``geodata/``, the tide data (the
predicted Kanmen table as the imported table of the patrol windows, plus Kanmen's published
harmonic constants for reference — no published constants exist for a Xiangshan station,
see geodata/tides/SOURCES.md), a few registered vessels and a watch-list group, and runs a
short synthetic set of tracks over the past few nights through the real pipeline so that
the demo county has warnings of several kinds. The tracks are generated relative to the
demo geofences; they are invented and marked so (vessel owner "演示数据").
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .domain.geo_units import haversine_m
from .domain.model import PositionFix, VehicleCapture

GEODATA = Path(settings.BASE_DIR) / "geodata"
LOCAL = ZoneInfo("Asia/Shanghai")
DEMO_OWNER = "演示数据"
WATCH_GROUP = "高塘夜航组"

# (MMSI / Beidou id, source, name, watch group, registered)
DEMO_VESSELS = [
    ("412440001", "ais", "浙象渔 01233（示意）", WATCH_GROUP, True),
    ("412440002", "ais", "浙象渔 05871（示意）", WATCH_GROUP, True),
    ("412440003", "ais", "浙象运 00318（示意）", "", True),
    ("412440004", "ais", "浙岱渔 11020（示意）", "", True),
    ("BD-3302251007", "beidou", "浙象渔 30107（示意）", "", True),
]


def _offset(lon: float, lat: float, *, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """A point ``distance_m`` metres from (lon, lat) on ``bearing_deg`` (flat-earth, fine for a few km)."""
    b = math.radians(bearing_deg)
    dlat = distance_m * math.cos(b) / 111_320.0
    dlon = distance_m * math.sin(b) / (111_320.0 * math.cos(math.radians(lat)))
    return lon + dlon, lat + dlat


def _seaward_bearing(lon: float, lat: float, land) -> float:
    """The bearing whose points 1-4 km out are at sea (outside the county polygon)."""
    from shapely.geometry import Point

    best, best_score = 0.0, -1
    for b in range(0, 360, 15):
        score = sum(
            0 if land.contains(Point(*_offset(lon, lat, bearing_deg=b, distance_m=d))) else 1
            for d in (600, 1500, 3000, 4500)
        )
        if score > best_score:
            best, best_score = float(b), score
    return best


class Track:
    """A synthetic track: legs of steady motion and stops, one fix every ``step_s`` seconds."""

    def __init__(self, vessel_id: str, source: str, start: datetime, lon: float, lat: float, step_s: int = 60) -> None:
        self.vessel_id, self.source, self.step_s = vessel_id, source, step_s
        self.t, self.lon, self.lat = start, lon, lat
        self.fixes: list[PositionFix] = []

    def _fix(self, sog: float, cog: float) -> None:
        self.fixes.append(PositionFix(self.source, self.vessel_id, self.t.astimezone(UTC), self.lon, self.lat,
                                      round(sog, 1), round(cog % 360, 1)))

    def sail(self, lon: float, lat: float, speed_kn: float) -> Track:
        dist = haversine_m(self.lon, self.lat, lon, lat)
        dur_s = dist / (speed_kn * 1852 / 3600)
        n = max(1, int(dur_s // self.step_s))
        lon0, lat0 = self.lon, self.lat
        cog = math.degrees(math.atan2((lon - lon0) * math.cos(math.radians(lat0)), lat - lat0))
        for i in range(1, n + 1):
            self.t += timedelta(seconds=dur_s / n)
            self.lon = lon0 + (lon - lon0) * i / n
            self.lat = lat0 + (lat - lat0) * i / n
            self._fix(speed_kn, cog)
        return self

    def stay(self, minutes: float, *, jitter_m: float = 8.0) -> Track:
        lon0, lat0 = self.lon, self.lat
        for i in range(int(minutes * 60 // self.step_s)):
            self.t += timedelta(seconds=self.step_s)
            self.lon, self.lat = _offset(lon0, lat0, bearing_deg=(i * 47) % 360, distance_m=jitter_m * ((i % 3) / 2))
            self._fix(0.2, (i * 47) % 360)
        self.lon, self.lat = lon0, lat0
        return self

    def silent(self, minutes: float) -> Track:
        self.t += timedelta(minutes=minutes)
        return self


def _night_high_waters(now: datetime, nights: int) -> list[datetime]:
    """Local night high waters (22:00-05:00) of the last ``nights`` nights, from the tide table."""
    from .models import TideEventRecord, TideStation

    station = TideStation.objects.filter(is_default=True).first()
    out: list[datetime] = []
    if station is not None:
        for ts in TideEventRecord.objects.filter(
            station=station, kind="high", ts__gte=now - timedelta(days=nights + 1), ts__lt=now - timedelta(hours=3)
        ).order_by("ts").values_list("ts", flat=True):
            h = ts.astimezone(LOCAL).hour
            if h >= 22 or h < 5:
                out.append(ts)
    return out


def _night(now: datetime, nights_ago: int, hour: int = 1, minute: int = 30) -> datetime:
    day = (now.astimezone(LOCAL) - timedelta(days=nights_ago)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


def demo_tracks(now: datetime | None = None) -> tuple[list[PositionFix], list[VehicleCapture]]:
    """The synthetic demo tracks and checkpoint captures (relative to the demo geofences)."""
    from shapely.geometry import shape

    from .models import Checkpoint, Geofence
    from .selectors import county_boundary

    now = now or timezone.now()
    land = shape(county_boundary()["features"][0]["geometry"])
    gf = {g.properties.get("code"): g for g in Geofence.objects.all()}
    highs = _night_high_waters(now, 6)

    def when(nights_ago: int) -> datetime:
        """Near a night high water of that night if the tide table has one, else 01:30."""
        target = _night(now, nights_ago)
        near = [h for h in highs if abs((h - target).total_seconds()) < 8 * 3600]
        return (min(near, key=lambda h: abs((h - target).total_seconds())) - timedelta(minutes=50)) if near else target

    def approach(code: str, vessel: str, source: str, start: datetime, *, stay_min: float, speed_kn: float = 7.0,
                 out_m: float = 3500) -> Track:
        g = gf[code]
        bearing = _seaward_bearing(g.centroid_lon, g.centroid_lat, land)
        lon0, lat0 = _offset(g.centroid_lon, g.centroid_lat, bearing_deg=bearing, distance_m=out_m)
        tr = Track(vessel, source, start, lon0, lat0)
        tr.sail(g.centroid_lon, g.centroid_lat, speed_kn)
        if stay_min:
            tr.stay(stay_min)
        return tr.sail(lon0, lat0, speed_kn)

    fixes: list[PositionFix] = []
    # 1-2. Idle-pier landings at 花岙 by the watch-list group, three nights apart: landing + repeat visit.
    fixes += approach("demo-gt-01", "412440001", "ais", when(4), stay_min=95).fixes
    fixes += approach("demo-gt-01", "412440002", "ais", when(1), stay_min=80).fixes
    # 3. An unregistered boat (unknown to the registry) lands at the 定山 idle pier.
    fixes += approach("demo-ds-01", "412449901", "ais", when(2), stay_min=70).fixes
    # 4. Dark vessel near 南田岛: silent for 2.5 hours close to the idle pier, then back.
    g = gf["demo-hp-01"]
    b = _seaward_bearing(g.centroid_lon, g.centroid_lat, land)
    lon0, lat0 = _offset(g.centroid_lon, g.centroid_lat, bearing_deg=b, distance_m=6000)
    lon1, lat1 = _offset(g.centroid_lon, g.centroid_lat, bearing_deg=b, distance_m=900)
    tr = Track("412440003", "ais", _night(now, 3, 0, 10), lon0, lat0)
    tr.sail(lon1, lat1, 6.0).silent(150)
    lon2, lat2 = _offset(g.centroid_lon, g.centroid_lat, bearing_deg=b + 20, distance_m=1200)
    tr.lon, tr.lat = lon2, lat2
    tr.sail(lon0, lat0, 6.0)
    fixes += tr.fixes
    # 5. Rendezvous at sea (transshipment): two vessels side by side, slow, 45 minutes, 8 km off 石浦.
    g = gf["demo-sp-01"]
    b = _seaward_bearing(g.centroid_lon, g.centroid_lat, land)
    mlon, mlat = _offset(g.centroid_lon, g.centroid_lat, bearing_deg=b, distance_m=9000)
    for vid, side in (("412440004", 0.0), ("BD-3302251007", 90.0)):
        src = "beidou" if vid.startswith("BD") else "ais"
        slon, slat = _offset(mlon, mlat, bearing_deg=side + 200, distance_m=5000)
        tr = Track(vid, src, _night(now, 2, 23, 0) - timedelta(minutes=50), slon, slat, step_s=30)
        here = _offset(mlon, mlat, bearing_deg=side, distance_m=40)
        tr.sail(*here, 6.0).stay(45, jitter_m=5).sail(slon, slat, 6.0)
        fixes += tr.fixes
    # 6. Scout boat at 高塘岛东岙: a quick probe, then another boat comes in and stops.
    t_scout = _night(now, 1, 0, 20)
    fixes += approach("demo-gt-02", "412449902", "ais", t_scout, stay_min=6, speed_kn=8, out_m=2500).fixes
    fixes += approach("demo-gt-02", "412449903", "ais", t_scout + timedelta(minutes=70), stay_min=60).fixes
    # 7. Vehicle-vessel cross-check: a boat stops at the 南田岛东岸 idle pier while trucks pass the checkpoint nearby.
    t_land = _night(now, 5, 2, 0)
    fixes += approach("demo-hp-01", "412449904", "ais", t_land, stay_min=75).fixes
    captures: list[VehicleCapture] = []
    cp = Checkpoint.objects.filter(code="demo-kk-02").first()
    if cp is not None:
        arrive = t_land + timedelta(minutes=30)
        for k, plate in enumerate(("浙B7K2Q1", "皖K33821", "浙B7K2Q1")):
            captures.append(VehicleCapture(cp.code, plate, (arrive + timedelta(minutes=20 + 25 * k)).astimezone(UTC)))
    return fixes, captures


def load(stdout) -> None:
    from . import services
    from .models import StoredFix, TideStation, Vessel, WatchEntry
    from .runtime import context_changed

    report = services.geofence_import(path=GEODATA / "demo_geofences.geojson")
    stdout.write(f"geofences: {report.created} created, {report.updated} updated, {len(report.errors)} refused")
    saved, errors = services.checkpoint_import(path=GEODATA / "demo_checkpoints.geojson")
    stdout.write(f"checkpoints: {saved}")

    table = GEODATA / "tides" / "kanmen_predicted_demo.csv"
    if table.exists():
        tr = services.tide_table_import(text=table.read_bytes(), default_station=True)
        TideStation.objects.filter(code__in=tr.stations).update(
            name="坎门（由公开调和常数推算的潮汐表，非象山实测）",
            datum="MSL",
            source="geodata/tides/kanmen_predicted_demo.csv: predicted from TICON-4 constants of Kanmen (CC-BY-4.0); "
            "not an official table and not a Xiangshan station, see geodata/tides/SOURCES.md",
        )
        stdout.write(f"tide table: {tr.created} new events ({', '.join(tr.stations)})")
    constants = GEODATA / "tides" / "kanmen.json"
    if constants.exists():
        services.tide_station_from_constants(path=constants, default_station=False)

    for ext, source, name, group, registered in DEMO_VESSELS:
        vessel, _ = Vessel.objects.get_or_create(source=source, external_id=ext)
        if vessel.owner != DEMO_OWNER:
            vessel.name, vessel.watch_group, vessel.registered, vessel.owner = name, group, registered, DEMO_OWNER
            vessel.home_port = "石浦"
            vessel.save()
    services.watch_entry_add(kind=WatchEntry.Kind.VESSEL_GROUP, value=WATCH_GROUP, reason="演示：多次夜间靠泊闲置码头")
    services.watch_entry_add(kind=WatchEntry.Kind.PLATE, value="浙B·7K2Q1", reason="演示：涉冻品运输车辆")
    for day, name in ((datetime.now(LOCAL).date().replace(month=10, day=1), "国庆节"),):
        services.holiday_add(day=day, name=name)
    context_changed()

    if StoredFix.objects.filter(vessel__external_id=DEMO_VESSELS[0][0]).exists():
        stdout.write("demo tracks already loaded")
        return
    # After commit: in production the workers must see the geofences and vessels loaded above.
    transaction.on_commit(lambda: _run_tracks(stdout))


def _run_tracks(stdout) -> None:
    from . import services
    from .convert import capture_to_wire
    from .ingest import Dispatcher, Totals

    fixes, captures = demo_tracks()
    run = services.ingest_run_start(kind="positions", name="demo tracks (synthetic)")
    totals = Totals()
    dispatcher = Dispatcher(run_id=run.pk, totals=totals, batch_size=20_000)
    for f in sorted(fixes, key=lambda f: f.ts):
        dispatcher.add_fix(f)
    dispatcher.finish()
    if captures:
        from .services import vehicle_capture_batch_ingest

        totals.add_result(vehicle_capture_batch_ingest(run_id=run.pk, captures=[capture_to_wire(c) for c in captures]))
    services.ingest_run_progress(run_id=run.pk, read=len(fixes), decoded=len(fixes), batches_sent=dispatcher.sent,
                                 final=True, error="\n".join(totals.errors))
    kinds = ", ".join(f"{k}: {n}" for k, n in sorted(_kinds().items()))
    stdout.write(f"demo tracks: {len(fixes)} fixes, {totals.stored} stored; warnings {kinds}")


def _kinds() -> dict[str, int]:
    from collections import Counter

    from .models import Warning

    return dict(Counter(Warning.objects.values_list("kind", flat=True)))
