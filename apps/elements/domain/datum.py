"""GCJ-02 <-> WGS84 conversion (China's offset "Mars" datum), vectorised with numpy.

Why this exists
---------------
Maps published in China (Aliyun DataV boundaries, AMap, Tencent) use GCJ-02: WGS84
positions pushed through an obfuscating, non-linear offset of a few hundred metres.
AIS and Beidou positions are WGS84. The platform works in WGS84 throughout, so every
GCJ-02 source is converted once, on import (see ``geodata/build.py``).

The transform
-------------
``wgs84_to_gcj02`` is the widely published reverse-engineered GCJ-02 forward formula
(Krasovsky-1940 ellipsoid constants ``a = 6378245 m``, ``e^2 = 0.00669342162296594323``;
polynomial+sine offset in x = lon-105, y = lat-35). It is identical, term for term, to
``googollee/eviltransform`` (MIT), file ``python/eviltransform/__init__.py``, functions
``transform``/``delta``/``wgs2gcj`` (that file uses ``earthR = 6378137`` for the
semi-major axis; other copies, e.g. wandergis/coordTransform, use 6378245; the
difference is 1.7e-5 relative in the *offset*, i.e. < 1 cm. We follow eviltransform so
that its published test vectors hold). Points outside mainland China's bounding box are returned unchanged,
as the published algorithm does.

``gcj02_to_wgs84`` has no closed form; it is solved by fixed-point iteration
``w <- w - (F(w) - g)`` starting from ``w = g`` (the "exact" inverse of eviltransform's
``gcj2wgs_exact``, here as a Newton-like fixed point that converges in ~5 steps because
the Jacobian of the offset is ~1e-5). We iterate until the correction is below 1e-10
degrees (~0.01 mm), so a WGS84 -> GCJ-02 -> WGS84 round trip is exact to well under 1 mm.

Units: longitudes/latitudes in decimal degrees; every function accepts scalars or
array-likes (any broadcastable shape) and returns numpy arrays of the broadcast shape
(0-d arrays for scalar input; use ``float()`` on them).
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["gcj02_to_wgs84", "wgs84_to_gcj02", "gcj02_offset_m", "out_of_china"]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]

# Constants exactly as in googollee/eviltransform python/eviltransform/__init__.py.
_A = 6378137.0  # semi-major axis used by eviltransform [m]
_EE = 0.00669342162296594323  # first eccentricity squared (Krasovsky 1940)

# Inverse iteration controls.
_INV_TOL_DEG = 1e-10
_INV_MAX_ITER = 30


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """True where (lon, lat) [deg] is outside the box where GCJ-02 applies (no offset)."""
    lon_a = np.asarray(lon, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    return ~((lon_a >= 72.004) & (lon_a <= 137.8347) & (lat_a >= 0.8293) & (lat_a <= 55.8271))


def _delta(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 offset (dlon, dlat) [deg] at a WGS84 position (lon, lat) [deg]."""
    x = lon - 105.0
    y = lat - 35.0
    x_pi = x * np.pi
    y_pi = y * np.pi
    abs_x = np.sqrt(np.abs(x))
    d = 20.0 * np.sin(6.0 * x_pi) + 20.0 * np.sin(2.0 * x_pi)

    dlat = d + 20.0 * np.sin(y_pi) + 40.0 * np.sin(y_pi / 3.0)
    dlon = d + 20.0 * np.sin(x_pi) + 40.0 * np.sin(x_pi / 3.0)
    dlat = dlat + 160.0 * np.sin(y_pi / 12.0) + 320.0 * np.sin(y_pi / 30.0)
    dlon = dlon + 150.0 * np.sin(x_pi / 12.0) + 300.0 * np.sin(x_pi / 30.0)
    dlat = dlat * (2.0 / 3.0)
    dlon = dlon * (2.0 / 3.0)
    dlat = dlat + (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * abs_x)
    dlon = dlon + (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * abs_x)

    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS84 (lon, lat) [deg] to GCJ-02 (lon, lat) [deg]. Vectorised.

    Outside China (see :func:`out_of_china`) the input is returned unchanged.
    """
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    dlon, dlat = _delta(lon_a, lat_a)
    outside = out_of_china(lon_a, lat_a)
    dlon = np.where(outside, 0.0, dlon)
    dlat = np.where(outside, 0.0, dlat)
    return lon_a + dlon, lat_a + dlat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 (lon, lat) [deg] to WGS84 (lon, lat) [deg] by iterative inversion.

    Accurate to < 1e-9 deg (sub-millimetre) against :func:`wgs84_to_gcj02`. Vectorised.
    """
    g_lon, g_lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    w_lon = g_lon.copy()
    w_lat = g_lat.copy()
    for _ in range(_INV_MAX_ITER):
        f_lon, f_lat = wgs84_to_gcj02(w_lon, w_lat)
        e_lon = f_lon - g_lon
        e_lat = f_lat - g_lat
        w_lon = w_lon - e_lon
        w_lat = w_lat - e_lat
        if e_lon.size == 0 or max(float(np.max(np.abs(e_lon))), float(np.max(np.abs(e_lat)))) < _INV_TOL_DEG:
            break
    return w_lon, w_lat


def gcj02_offset_m(lon: ArrayLike, lat: ArrayLike) -> FloatArray:
    """Magnitude [m] of the GCJ-02 offset at WGS84 (lon, lat) [deg] (local flat-earth metres)."""
    lon_a, lat_a = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    g_lon, g_lat = wgs84_to_gcj02(lon_a, lat_a)
    m_per_deg_lat = 111_320.0
    dx = (g_lon - lon_a) * m_per_deg_lat * np.cos(np.deg2rad(lat_a))
    dy = (g_lat - lat_a) * m_per_deg_lat
    return np.hypot(dx, dy)
