"""Reading geography files (GeoJSON, GeoPackage, Shapefile) into checked geofence features.

Reading only: no database writes (those are in ``services.geofence_import``). Every
feature either becomes a :class:`GeofenceFeature` or a :class:`FeatureError` with a clear
Chinese message; one bad feature never stops the others.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry

from .domain.geometry import GEOFENCE_KINDS, GEOFENCE_STATUSES, buffer_point_m

DEFAULT_POINT_RADIUS_M = 150.0
#: Coordinates are stored to 1e-7 degree (about 1 cm).
_DECIMALS = 7

KIND_ALIASES = {
    "码头": "pier", "闲置码头": "pier", "pier": "pier", "wharf": "pier", "jetty": "pier",
    "岙口": "cove", "cove": "cove", "bay": "cove",
    "沙滩": "beach", "beach": "beach",
    "登陆点": "landing_point", "冲滩点": "landing_point", "landing_point": "landing_point", "landing": "landing_point",
    "锚地": "anchorage", "anchorage": "anchorage",
}
STATUS_ALIASES = {"闲置": "idle", "idle": "idle", "在用": "active", "active": "active", "使用": "active", "": "active"}
#: Property names read into model fields; every other property is kept in ``properties``.
FIELD_PROPS = ("name", "kind", "status", "township", "pier_chief")


@dataclass
class GeofenceFeature:
    name: str
    kind: str
    status: str
    township: str
    pier_chief: str
    geometry: dict[str, Any]  # GeoJSON (Multi)Polygon, WGS84
    centroid_lon: float
    centroid_lat: float
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class FeatureError:
    index: int  # 1-based feature number in the file
    name: str
    message: str


@dataclass
class GeofenceFile:
    features: list[GeofenceFeature]
    errors: list[FeatureError]
    total: int
    source_crs: str
    notes: list[str] = field(default_factory=list)


class GeoFileError(ValueError):
    """The file as a whole cannot be read (not a geography file, unknown CRS ...)."""


def _clean(value: Any) -> Any:
    """JSON-friendly property values (numpy scalars, NaN, timestamps)."""
    if value is None:
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.replace("\x00", "")  # PostgreSQL text and jsonb refuse NUL
    if isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    return str(value)


def _text(value: Any) -> str:
    value = _clean(value)
    return "" if value is None else str(value).strip()


def _polygonal(geom: BaseGeometry, radius_m: float) -> BaseGeometry:
    """A (Multi)Polygon for the feature: points buffered by ``radius_m`` metres, polygons repaired."""
    gtype = geom.geom_type
    if gtype == "Point":
        return buffer_point_m(geom.x, geom.y, radius_m=radius_m)
    if gtype == "MultiPoint":
        return shapely.union_all([buffer_point_m(p.x, p.y, radius_m=radius_m) for p in geom.geoms])
    if gtype in ("Polygon", "MultiPolygon"):
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
            if geom.geom_type == "GeometryCollection":
                polys = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
                geom = shapely.union_all(polys) if polys else Polygon()
        return geom
    raise ValueError(_("不支持的几何类型 %(type)s（只接受点或面）") % {"type": gtype})


def _radius(props: dict[str, Any], default_m: float) -> float:
    raw = props.get("radius_m")
    try:
        r = float(raw) if raw not in (None, "") else default_m
    except (TypeError, ValueError):
        return default_m
    return r if math.isfinite(r) and 1.0 <= r <= 20_000.0 else default_m


def read_geofence_file(
    path: str | Path,
    *,
    point_radius_m: float = DEFAULT_POINT_RADIUS_M,
    progress: Callable[[int, int], None] | None = None,
) -> GeofenceFile:
    """Read a GeoJSON / GeoPackage / Shapefile of geofences, reprojected to WGS84.

    ``point_radius_m`` buffers point features (a feature's own ``radius_m`` property wins).
    ``progress(done, total)`` is called as features are checked.
    """
    import geopandas as gpd

    path = Path(path)
    if not path.exists():
        raise GeoFileError(f"文件不存在：{path}")
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises its own error types per driver
        raise GeoFileError(f"无法读取地理数据文件 {path.name}：{exc}") from exc
    notes: list[str] = []
    if gdf.crs is None:
        notes.append("文件未声明坐标系，按 WGS84 (EPSG:4326) 处理")
        source_crs = "EPSG:4326 (assumed)"
    else:
        source_crs = gdf.crs.to_string()
        if gdf.crs.to_epsg() != 4326:
            try:
                gdf = gdf.to_crs(4326)
            except Exception as exc:
                raise GeoFileError(f"无法从坐标系 {source_crs} 转换到 WGS84：{exc}") from exc
            notes.append(f"已从 {source_crs} 转换到 WGS84")
    total = len(gdf)
    features: list[GeofenceFeature] = []
    errors: list[FeatureError] = []
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    for i, (geom, row) in enumerate(zip(gdf.geometry, gdf[columns].itertuples(index=False, name=None)), start=1):
        props = {col: _clean(v) for col, v in zip(columns, row)}
        name = _text(props.get("name"))
        try:
            features.append(_feature(props, geom, name=name, point_radius_m=point_radius_m))
        except ValueError as exc:
            errors.append(FeatureError(i, name, str(exc)))
        if progress is not None and (i % 50 == 0 or i == total):
            progress(i, total)
    if progress is not None and total == 0:
        progress(0, 0)
    return GeofenceFile(features=features, errors=errors, total=total, source_crs=source_crs, notes=notes)


def _feature(props: dict[str, Any], geom: BaseGeometry | None, *, name: str, point_radius_m: float) -> GeofenceFeature:
    if not name:
        raise ValueError(_("缺少名称 (name)"))
    if len(name) > 120:
        raise ValueError(_("名称超过 120 字"))
    kind_raw = _text(props.get("kind"))
    kind = KIND_ALIASES.get(kind_raw.lower(), KIND_ALIASES.get(kind_raw))
    if kind is None or kind not in GEOFENCE_KINDS:
        raise ValueError(_("类型 (kind) “%(kind)s” 无效，应为 %(allowed)s") % {"kind": kind_raw, "allowed": ", ".join(GEOFENCE_KINDS)})
    status_raw = _text(props.get("status"))
    status = STATUS_ALIASES.get(status_raw.lower(), STATUS_ALIASES.get(status_raw))
    if status is None or status not in GEOFENCE_STATUSES:
        raise ValueError(_("状态 (status) “%(status)s” 无效，应为 active 或 idle") % {"status": status_raw})
    if geom is None or geom.is_empty:
        raise ValueError(_("缺少几何图形"))
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError(_("坐标超出经纬度范围 (%(bounds)s)") % {"bounds": f"{minx:.4f}, {miny:.4f}, {maxx:.4f}, {maxy:.4f}"})
    poly = _polygonal(geom, _radius(props, point_radius_m))
    if poly.is_empty or not isinstance(poly, (Polygon, MultiPolygon)):
        raise ValueError(_("几何图形无效，无法修复为面"))
    poly = shapely.set_precision(poly, 10**-_DECIMALS)
    if poly.is_empty:
        raise ValueError(_("几何图形面积为零"))
    centroid = poly.centroid
    extra = {k: v for k, v in props.items() if k not in FIELD_PROPS and v is not None}
    if geom.geom_type in ("Point", "MultiPoint"):
        extra.setdefault("radius_m", _radius(props, point_radius_m))
        extra["source_geometry"] = mapping(geom)
    return GeofenceFeature(
        name=name,
        kind=kind,
        status=status,
        township=_text(props.get("township"))[:60],
        pier_chief=_text(props.get("pier_chief"))[:60],
        geometry=_round_mapping(mapping(poly)),
        centroid_lon=round(centroid.x, _DECIMALS),
        centroid_lat=round(centroid.y, _DECIMALS),
        properties=extra,
    )


def _round_mapping(geo: dict[str, Any]) -> dict[str, Any]:
    def rnd(c: Any) -> Any:
        if isinstance(c, (list, tuple)) and c and isinstance(c[0], (int, float)):
            return [round(float(x), _DECIMALS) for x in c]
        return [rnd(x) for x in c]

    return {"type": geo["type"], "coordinates": rnd(geo["coordinates"])}


def iter_point_features(path: str | Path) -> Iterator[tuple[int, dict[str, Any], float | None, float | None]]:
    """(index, properties, lon, lat) of each point feature of a GeoJSON file (checkpoints)."""
    import json

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    for i, feat in enumerate(data.get("features", []), start=1):
        geom = feat.get("geometry") or {}
        props = dict(feat.get("properties") or {})
        if feat.get("id") is not None:
            props.setdefault("code", feat["id"])
        coords = geom.get("coordinates") if geom.get("type") == "Point" else None
        lon, lat = (coords[0], coords[1]) if coords and len(coords) >= 2 else (None, None)
        yield i, props, lon, lat
