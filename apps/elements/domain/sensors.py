"""Sensors that see targets (coastal radar, cameras, infrared sentinels) and what they cover.

Pure code: the Django side builds :class:`Sensor` values from the facility registry
(``apps.sources``: kind radar / cctv / infrared, position, range, bearing and field of view).

* A **radar** covers a circle of ``range_m`` around it.
* A **camera** covers a sector: ``bearing_deg`` (true, the optical axis) ± ``fov_deg``/2,
  out to ``range_m`` (default :data:`DEFAULT_CAMERA_RANGE_M`).
* An **infrared sentinel** covers a circle of ``range_m`` (default :data:`DEFAULT_INFRARED_RANGE_M`).

Geodesy (distances, bearings, the point at a range and bearing from a radar) is WGS84 with
pyproj's ``Geod``.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyproj import Geod

RADAR: Final = "radar"
CAMERA: Final = "camera"
INFRARED: Final = "infrared"
KINDS: Final = (RADAR, CAMERA, INFRARED)

DEFAULT_RADAR_RANGE_M: Final = 24_000.0
DEFAULT_CAMERA_RANGE_M: Final = 800.0
DEFAULT_INFRARED_RANGE_M: Final = 150.0
NM_M: Final = 1852.0

_GEOD = Geod(ellps="WGS84")


def destination(lon: float, lat: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    """The point ``distance_m`` from (lon, lat) along the true bearing ``bearing_deg``."""
    lon2, lat2, _back = _GEOD.fwd(lon, lat, bearing_deg, distance_m)
    return float(lon2), float(lat2)


def range_bearing(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float]:
    """(distance metres, true bearing in [0, 360)) from point 1 to point 2."""
    az, _back, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(dist), float(az) % 360.0


def _angle_diff(a: float, b: float) -> float:
    """Smallest absolute difference of two bearings, degrees in [0, 180]."""
    d = abs(a - b) % 360.0
    return 360.0 - d if d > 180.0 else d


@dataclass(frozen=True, slots=True)
class Sensor:
    sensor_id: str
    kind: str
    lon: float
    lat: float
    range_m: float | None = None
    bearing_deg: float | None = None
    fov_deg: float | None = None
    geofence: str | None = None

    @property
    def reach_m(self) -> float:
        if self.range_m:
            return float(self.range_m)
        return {RADAR: DEFAULT_RADAR_RANGE_M, CAMERA: DEFAULT_CAMERA_RANGE_M}.get(self.kind, DEFAULT_INFRARED_RANGE_M)

    @property
    def is_sector(self) -> bool:
        return self.kind == CAMERA and self.bearing_deg is not None and self.fov_deg is not None and self.fov_deg < 360

    def covers(self, lon: float, lat: float) -> bool:
        dist, az = range_bearing(self.lon, self.lat, lon, lat)
        if dist > self.reach_m:
            return False
        if self.is_sector and dist > 1.0:
            return _angle_diff(az, float(self.bearing_deg)) <= float(self.fov_deg) / 2.0
        return True

    def coverage_geojson(self, *, steps: int = 64) -> dict[str, Any]:
        """The covered area as a GeoJSON Polygon (a circle, or a camera's sector)."""
        reach = self.reach_m
        if self.is_sector:
            half = float(self.fov_deg) / 2.0
            n = max(4, int(steps * float(self.fov_deg) / 360.0))
            start = float(self.bearing_deg) - half
            arc = [destination(self.lon, self.lat, start + 2 * half * i / n, reach) for i in range(n + 1)]
            ring = [(self.lon, self.lat), *arc, (self.lon, self.lat)]
        else:
            ring = [destination(self.lon, self.lat, 360.0 * i / steps, reach) for i in range(steps)]
            ring.append(ring[0])
        return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


class Coverage:
    """Which radars see a point (the radars only: cameras and sentinels watch places, not the sea)."""

    def __init__(self, sensors: Iterable[Sensor]) -> None:
        self.radars: tuple[Sensor, ...] = tuple(s for s in sensors if s.kind == RADAR)
        # a cheap box test first: degrees of latitude/longitude around each radar
        self._boxes = [
            (s, s.reach_m / 111_000.0, s.reach_m / (111_000.0 * max(0.05, math.cos(math.radians(s.lat)))))
            for s in self.radars
        ]

    def __bool__(self) -> bool:
        return bool(self.radars)

    def radars_seeing(self, lon: float, lat: float) -> list[str]:
        out: list[str] = []
        for s, dlat, dlon in self._boxes:
            if abs(lat - s.lat) <= dlat and abs(lon - s.lon) <= dlon and s.covers(lon, lat):
                out.append(s.sensor_id)
        return out

    def covered(self, lon: float, lat: float) -> bool:
        return bool(self.radars_seeing(lon, lat))


def sensors_geojson(sensors: Sequence[Sensor]) -> dict[str, Any]:
    """A FeatureCollection of every sensor's coverage (for the maps)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": s.coverage_geojson(),
                "properties": {"sensor_id": s.sensor_id, "kind": s.kind, "lon": s.lon, "lat": s.lat,
                               "range_m": s.reach_m, "geofence": s.geofence},
            }
            for s in sensors
        ],
    }
