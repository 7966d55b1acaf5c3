"""Great-circle distance and unit conversions shared by ingest, geometry and detectors.

Conventions used across the platform: longitudes/latitudes in decimal degrees (WGS 84),
distances in metres, speeds in knots unless the name says otherwise, times in seconds.
Argument order is always ``lon`` before ``lat`` (x before y), like shapely and GeoJSON.
"""
from __future__ import annotations

import math
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "EARTH_RADIUS_M",
    "METRES_PER_NM",
    "MS_PER_KNOT",
    "haversine_m",
    "haversine_m_np",
    "implied_speed_kn",
    "knots_to_ms",
    "ms_to_knots",
]

#: IUGG mean Earth radius (metres). Haversine on this sphere is within ~0.5 % of the
#: WGS 84 ellipsoid distance, far below AIS/Beidou position noise at the scales we use.
EARTH_RADIUS_M: Final[float] = 6_371_008.8
#: One international nautical mile, in metres.
METRES_PER_NM: Final[float] = 1852.0
#: One knot in metres per second (1852 m / 3600 s).
MS_PER_KNOT: Final[float] = METRES_PER_NM / 3600.0

_RAD: Final[float] = math.pi / 180.0
_TWO_R: Final[float] = 2.0 * EARTH_RADIUS_M


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two points given in decimal degrees.

    Returns ``nan`` if any input is ``nan``. Antipodal points are handled (the
    intermediate value is clamped to [0, 1] against rounding).
    """
    p1 = lat1 * _RAD
    p2 = lat2 * _RAD
    s_dlat = math.sin((p2 - p1) * 0.5)
    s_dlon = math.sin((lon2 - lon1) * _RAD * 0.5)
    a = s_dlat * s_dlat + math.cos(p1) * math.cos(p2) * s_dlon * s_dlon
    a = min(a, 1.0)
    return _TWO_R * math.asin(math.sqrt(a))


def haversine_m_np(
    lon1: npt.ArrayLike,
    lat1: npt.ArrayLike,
    lon2: npt.ArrayLike,
    lat2: npt.ArrayLike,
) -> npt.NDArray[np.float64]:
    """Vectorised :func:`haversine_m`: metres between arrays of points (decimal degrees).

    Inputs broadcast against each other (e.g. one point against an array of points, or
    ``lon[:-1], lat[:-1], lon[1:], lat[1:]`` for consecutive legs of a track). Always
    returns a float64 ndarray (0-d for scalar inputs).
    """
    p1 = np.radians(np.asarray(lat1, dtype=np.float64))
    p2 = np.radians(np.asarray(lat2, dtype=np.float64))
    dlon = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    s_dlat = np.sin((p2 - p1) * 0.5)
    s_dlon = np.sin(dlon * 0.5)
    a = s_dlat * s_dlat + np.cos(p1) * np.cos(p2) * s_dlon * s_dlon
    return np.asarray(_TWO_R * np.arcsin(np.sqrt(np.minimum(a, 1.0))), dtype=np.float64)


def knots_to_ms(kn: float) -> float:
    """Convert a speed in knots to metres per second."""
    return kn * MS_PER_KNOT


def ms_to_knots(ms: float) -> float:
    """Convert a speed in metres per second to knots."""
    return ms / MS_PER_KNOT


def implied_speed_kn(distance_m: float, dt_s: float) -> float:
    """Speed in knots needed to cover ``distance_m`` metres in ``dt_s`` seconds.

    ``dt_s`` is taken in absolute value; ``dt_s == 0`` gives ``inf`` for a non-zero
    distance and ``0.0`` for a zero distance.
    """
    dt = abs(dt_s)
    if dt == 0.0:
        return 0.0 if distance_m == 0.0 else math.inf
    return distance_m / dt / MS_PER_KNOT
