"""Synthetic tracks for the tracker and pipeline tests: a small Xiangshan world (an idle pier,
an active harbour, an idle cove, open sea) and vessels that sail, stay, land, probe and meet."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pyproj import Geod

from apps.elements.domain.detectors import Finding
from apps.elements.domain.geometry import Geofence, buffer_point_m
from apps.elements.domain.model import PositionFix, TideWindow, VehicleCapture
from apps.elements.domain.pipeline import TrackPipeline

SH = ZoneInfo("Asia/Shanghai")
GEOD = Geod(ellps="WGS84")
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


def pair(
    start: datetime, at: tuple[float, float], *, apart_m: float, minutes: float, sog_kn: float = 0.5
) -> list[PositionFix]:
    other = moved(*at, east_m=apart_m)
    a = stay("4137", start, at, minutes=minutes, every_min=1, sog_kn=sog_kn)
    b = stay("4138", start + timedelta(seconds=20), other, minutes=minutes, every_min=1, sog_kn=sog_kn)
    return sorted(a + b, key=lambda f: f.ts)


def probe(vid: str, start: datetime, *, sog_kn: float) -> list[PositionFix]:
    """In through the pier at ``sog_kn`` for ~8 minutes, and out again."""
    off = moved(*PIER, east_m=2_000)
    return (
        sail(vid, start, off, PIER, minutes=10, sog_kn=sog_kn)
        + stay(vid, start + timedelta(minutes=10), PIER, minutes=6, sog_kn=sog_kn)
        + sail(vid, start + timedelta(minutes=18), PIER, off, minutes=10, sog_kn=sog_kn)
    )


CHECKPOINT = moved(*PIER, north_m=1_200)
def capture(plate: str, at: datetime, where: tuple[float, float] = CHECKPOINT) -> VehicleCapture:
    return VehicleCapture("kk-07", plate, at, where[0], where[1])




class FixStore:
    """Stored fixes for the pipeline's history callbacks (what the fix store does on the Django side)."""

    def __init__(self) -> None:
        self.fixes: list[PositionFix] = []

    def add(self, fixes: list[PositionFix]) -> list[PositionFix]:
        self.fixes.extend(fixes)
        return fixes

    def near(self, lon0: float, lat0: float, lon1: float, lat1: float, t0: float, t1: float) -> list[PositionFix]:
        return [
            f for f in self.fixes if lon0 <= f.lon <= lon1 and lat0 <= f.lat <= lat1 and t0 <= f.ts.timestamp() <= t1
        ]

    def track(self, vessel_id: str, t0: float, t1: float) -> list[PositionFix]:
        return sorted(
            (f for f in self.fixes if f.vessel_id == vessel_id and t0 <= f.ts.timestamp() <= t1), key=lambda f: f.ts
        )


def every(
    source: str, vid: str, start: datetime, at: tuple[float, float], *, minutes: float, every_s: float, sog_kn: float = 0.5
) -> list[PositionFix]:
    """Fixes of one source every ``every_s`` seconds at one spot for ``minutes``."""
    n = int(minutes * 60 // every_s)
    return [PositionFix(source, vid, start + timedelta(seconds=k * every_s), at[0], at[1], sog_kn) for k in range(n + 1)]
