"""Geofence tests for check-ins and reports (pure shapely + pyproj; WGS84 lon/lat, metres)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry


def geometry_of(geojson: dict[str, Any]) -> BaseGeometry | None:
    """A shapely geometry from a GeoJSON geometry, Feature or single-feature FeatureCollection."""
    if not isinstance(geojson, dict):
        return None
    if geojson.get("type") == "Feature":
        geojson = geojson.get("geometry") or {}
    elif geojson.get("type") == "FeatureCollection":
        feats = geojson.get("features") or []
        if not feats:
            return None
        geojson = feats[0].get("geometry") or {}
    try:
        geom = shape(geojson)
    except Exception:  # noqa: BLE001 - a broken geofence must not break a check-in request
        return None
    return None if geom.is_empty else geom


@lru_cache(maxsize=256)
def _to_local_m(lon0: float, lat0: float) -> Transformer:
    crs = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True)


def distance_outside_m(geom: BaseGeometry, *, lon: float, lat: float) -> float:
    """0 when (lon, lat) is inside or on ``geom``; else the distance in metres to its edge.

    Measured in an azimuthal equidistant plane centred on the point: exact for the
    distances that matter here (metres to a few kilometres).
    """
    point = Point(lon, lat)
    if geom.covers(point):
        return 0.0
    proj = _to_local_m(round(lon, 6), round(lat, 6))
    local = shapely.transform(geom, lambda xy: np.column_stack(proj.transform(xy[:, 0], xy[:, 1])))
    return float(local.distance(Point(*proj.transform(lon, lat))))
