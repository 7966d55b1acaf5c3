"""Geofences and the spatial index the track pipeline uses (pure shapely 2 + pyproj).

Conventions (see ``apps/elements/domain/__init__.py``): coordinates are WGS84 longitude /
latitude in decimal degrees, ``lon`` before ``lat``; distances in metres (``_m``).

* :class:`Geofence` is the record the Django side converts its ``Pier``/``Geofence`` rows
  into (no Django types here).
* :class:`GeofenceIndex` answers "which geofence is this point in" for whole batches of
  fixes at once without creating a geometry per fix: a uniform grid over the geofences'
  bounding boxes gives candidate (fix, geofence) pairs in numpy, and one vectorised
  ``shapely.intersects_xy`` over prepared polygons settles them. (Creating a shapely
  Point per fix costs little by itself, but each is a GC-tracked Python object, and in a
  worker holding 100,000 vessels' state the garbage collector's full passes made that
  the most expensive step; see ``bench/bench_pipeline.py``.) An ``STRtree`` over the same
  polygons in local metres answers "which geofence is within N metres of here" for the
  rarer questions the detectors ask (gap start/end, checkpoint captures).
* :func:`buffer_point_m` draws a true-metre circle around a point (local azimuthal
  equidistant projection), e.g. for a checkpoint or a pier given as a single point.
* GCJ-02 ("Mars" offset) conversions live in :mod:`apps.elements.domain.datum` and are
  re-exported here; see that module for the published transform it follows
  (googollee/eviltransform, MIT; same formula as wandergis/coordTransform_py).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from apps.elements.domain.datum import gcj02_to_wgs84, wgs84_to_gcj02

__all__ = [
    "GEOFENCE_KINDS",
    "GEOFENCE_STATUSES",
    "Geofence",
    "GeofenceIndex",
    "buffer_point_m",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
]

#: What a geofence outlines. ``landing_point`` is an unofficial landing spot (冲滩点/岙口).
GEOFENCE_KINDS: Final[tuple[str, ...]] = ("pier", "cove", "beach", "landing_point", "anchorage")
#: ``idle`` piers (闲置码头) are the ones the seed's landings used.
GEOFENCE_STATUSES: Final[tuple[str, ...]] = ("active", "idle")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class Geofence:
    """One watched place: a polygon in WGS84 with what the rules need to know about it.

    ``id`` is the caller's key (the Django primary key, as given); ``township`` (镇乡街道)
    doubles as the *area* that per-area detector settings are keyed by. ``props`` carries
    anything else (pier chief, photo, ...); it is not read by the domain code.
    Instances compare by identity (geometries do not have a cheap, meaningful ``==``).
    """

    id: str | int
    name: str
    kind: str
    status: str
    township: str
    geometry: BaseGeometry
    props: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in GEOFENCE_KINDS:
            raise ValueError(f"geofence {self.id!r}: kind {self.kind!r} not in {GEOFENCE_KINDS}")
        if self.status not in GEOFENCE_STATUSES:
            raise ValueError(f"geofence {self.id!r}: status {self.status!r} not in {GEOFENCE_STATUSES}")
        if not isinstance(self.geometry, (Polygon, MultiPolygon)) or self.geometry.is_empty:
            raise ValueError(f"geofence {self.id!r}: geometry must be a non-empty (Multi)Polygon")


class GeofenceIndex:
    """Spatial index over many geofences: a cell grid in degrees, an STRtree in metres.

    ``locate`` works on degrees directly (containment does not care about the
    projection) through the grid and ``shapely.intersects_xy``. Metric questions
    (``nearest_within*``, ``geofences_within``, ``within_distance_mask``) use the same
    polygons projected to an azimuthal equidistant plane centred on the index's extent;
    within a few hundred km of that centre (a county, a canal) distances are right to
    better than 0.1 %. Build once per geofence-table version; it is read-only afterwards.
    """

    __slots__ = (
        "_area_rank",
        "_by_id",
        "_geoms",
        "_geoms_m",
        "_grid",
        "_kinds",
        "_near_zones",
        "_rank_to_index",
        "_statuses",
        "_to_m",
        "_tree_m",
        "geofences",
    )

    def __init__(self, geofences: Iterable[Geofence]) -> None:
        self.geofences: tuple[Geofence, ...] = tuple(geofences)
        self._by_id: dict[str | int, int] = {}
        for i, g in enumerate(self.geofences):
            if g.id in self._by_id:
                raise ValueError(f"duplicate geofence id {g.id!r}")
            self._by_id[g.id] = i
        self._kinds = np.array([g.kind for g in self.geofences], dtype=object)
        self._statuses = np.array([g.status for g in self.geofences], dtype=object)
        geoms = np.array([g.geometry for g in self.geofences], dtype=object)
        shapely.prepare(geoms)
        self._geoms = geoms
        self._grid = _CellGrid(geoms)
        self._near_zones: dict[float, BaseGeometry] = {}
        # Overlaps resolve to the smallest polygon (the most specific place).
        areas = shapely.area(geoms) if len(geoms) else np.zeros(0)
        order = np.argsort(areas, kind="stable").astype(np.int64)
        self._rank_to_index = order
        self._area_rank = np.empty_like(order)
        self._area_rank[order] = np.arange(order.size, dtype=np.int64)
        if len(geoms):
            xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
            lon0, lat0 = (xmin + xmax) / 2.0, (ymin + ymax) / 2.0
        else:
            lon0, lat0 = 0.0, 0.0
        self._to_m = _aeqd_forward(round(lon0, 6), round(lat0, 6))
        to_m = self._to_m
        self._geoms_m = shapely.transform(
            geoms, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1]))
        )
        shapely.prepare(self._geoms_m)
        self._tree_m = shapely.STRtree(self._geoms_m)

    def __len__(self) -> int:
        return len(self.geofences)

    def __getitem__(self, i: int) -> Geofence:
        return self.geofences[i]

    def index_of(self, geofence_id: str | int) -> int:
        """Position of the geofence with this id (``KeyError`` if unknown)."""
        return self._by_id[geofence_id]

    def locate(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> IntArray:
        """Index of the geofence containing each point (boundary counts), or -1.

        Vectorised over the whole batch (grid candidates, then ``shapely.intersects_xy``);
        no geometry is created per point. Where geofences overlap, the smallest one wins.
        """
        lon_a = np.asarray(lons, dtype=np.float64).ravel()
        lat_a = np.asarray(lats, dtype=np.float64).ravel()
        out = np.full(lon_a.size, -1, dtype=np.int64)
        if lon_a.size == 0 or not self.geofences:
            return out
        pts_idx, gf_idx = self._grid.hits(lon_a, lat_a)
        if pts_idx.size == 0:
            return out
        big = np.iinfo(np.int64).max
        best = np.full(lon_a.size, big, dtype=np.int64)
        np.minimum.at(best, pts_idx, self._area_rank[gf_idx])
        hit = best != big
        out[hit] = self._rank_to_index[best[hit]]
        return out

    def locate_all(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[IntArray, IntArray]:
        """Every (point index, geofence index) containment pair, overlaps included."""
        lon_a = np.asarray(lons, dtype=np.float64).ravel()
        lat_a = np.asarray(lats, dtype=np.float64).ravel()
        if lon_a.size == 0 or not self.geofences:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty.copy()
        return self._grid.hits(lon_a, lat_a)

    def project_m(self, lons: npt.ArrayLike, lats: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Lon/lat (degrees) to the index's local metric plane (x_m, y_m)."""
        x, y = self._to_m.transform(np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64))
        return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)

    def nearest_within(
        self,
        lon: float,
        lat: float,
        *,
        distance_m: float,
        kinds: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> tuple[int, float] | None:
        """Nearest geofence within ``distance_m`` of the point: ``(index, distance_m)`` or None.

        A point inside a geofence is at distance 0. ``kinds``/``statuses`` restrict the
        candidates (e.g. ``kinds=("pier",)``); ties resolve to the lower index.
        """
        idx, dist = self.nearest_within_many(
            np.array([lon]), np.array([lat]), distance_m=distance_m, kinds=kinds, statuses=statuses
        )
        if idx[0] < 0:
            return None
        return int(idx[0]), float(dist[0])

    def nearest_within_many(
        self,
        lons: npt.ArrayLike,
        lats: npt.ArrayLike,
        *,
        distance_m: float,
        kinds: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> tuple[IntArray, FloatArray]:
        """Vectorised :meth:`nearest_within`: arrays of geofence index (-1: none) and metres (nan)."""
        lon_a = np.asarray(lons, dtype=np.float64).ravel()
        lat_a = np.asarray(lats, dtype=np.float64).ravel()
        n = lon_a.size
        out_idx = np.full(n, -1, dtype=np.int64)
        out_dist = np.full(n, np.nan, dtype=np.float64)
        if n == 0 or not self.geofences:
            return out_idx, out_dist
        x, y = self.project_m(lon_a, lat_a)
        pts = shapely.points(x, y)
        p_idx, g_idx = self._tree_m.query(pts, predicate="dwithin", distance=float(distance_m))
        if p_idx.size == 0:
            return out_idx, out_dist
        keep = np.ones(p_idx.size, dtype=bool)
        if kinds is not None:
            keep &= np.isin(self._kinds[g_idx], np.array(list(kinds), dtype=object))
        if statuses is not None:
            keep &= np.isin(self._statuses[g_idx], np.array(list(statuses), dtype=object))
        p_idx, g_idx = p_idx[keep], g_idx[keep]
        if p_idx.size == 0:
            return out_idx, out_dist
        d = shapely.distance(self._geoms_m[g_idx], pts[p_idx])
        # Sort by (point, distance, geofence index) and keep the first row of each point.
        order = np.lexsort((g_idx, d, p_idx))
        p_sorted = p_idx[order]
        first = np.ones(p_sorted.size, dtype=bool)
        first[1:] = p_sorted[1:] != p_sorted[:-1]
        sel = order[first]
        out_idx[p_idx[sel]] = g_idx[sel]
        out_dist[p_idx[sel]] = d[sel]
        return out_idx, out_dist

    def geofences_within(self, lon: float, lat: float, *, distance_m: float) -> list[tuple[int, float]]:
        """Every geofence within ``distance_m`` of the point, as (index, metres), nearest first."""
        if not self.geofences:
            return []
        x, y = self.project_m(np.array([lon]), np.array([lat]))
        pt = shapely.points(x[0], y[0])
        g_idx = self._tree_m.query(pt, predicate="dwithin", distance=float(distance_m))
        if g_idx.size == 0:
            return []
        d = shapely.distance(self._geoms_m[g_idx], pt)
        order = np.lexsort((g_idx, d))
        return [(int(g_idx[k]), float(d[k])) for k in order]

    def within_distance_mask(
        self, lons: npt.ArrayLike, lats: npt.ArrayLike, *, distance_m: float
    ) -> npt.NDArray[np.bool_]:
        """True where a point is within ``distance_m`` of any geofence (vectorised).

        Tested against the union of all geofences buffered by ``distance_m`` in the metric
        plane (built once per distance, then prepared), so a batch costs one
        ``intersects_xy`` call. The buffer is drawn with 16 segments per quarter circle:
        exact to ~0.1 % of ``distance_m`` at rounded corners.
        """
        lon_a = np.asarray(lons, dtype=np.float64).ravel()
        lat_a = np.asarray(lats, dtype=np.float64).ravel()
        if lon_a.size == 0 or not self.geofences:
            return np.zeros(lon_a.size, dtype=bool)
        zone = self._near_zones.get(float(distance_m))
        if zone is None:
            to_m = self._to_m
            merged = shapely.union_all(shapely.buffer(self._geoms_m, float(distance_m), quad_segs=16))
            zone = shapely.transform(
                merged, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1], direction="INVERSE"))
            )
            shapely.prepare(zone)
            self._near_zones[float(distance_m)] = zone
        return np.asarray(shapely.intersects_xy(zone, lon_a, lat_a), dtype=bool)


class _CellGrid:
    """Uniform grid over polygon bounding boxes: candidate (point, polygon) pairs for
    coordinate arrays, settled by ``shapely.intersects_xy`` (no Point objects).

    The cell is about twice the median geofence size; a polygon spanning more than
    ``_MAX_CELLS_PER_POLYGON`` cells is kept apart and tested against every point.
    """

    __slots__ = ("_big", "_cell", "_geoms", "_members", "_nx", "_ny", "_ptr", "_x0", "_y0")

    _MAX_CELLS_PER_POLYGON: Final[int] = 1024
    _MAX_CELLS: Final[int] = 1 << 22

    def __init__(self, geoms: npt.NDArray[np.object_]) -> None:
        self._geoms = geoms
        n = len(geoms)
        self._big = np.zeros(0, dtype=np.int64)
        if n == 0:
            self._x0 = self._y0 = 0.0
            self._cell = 1.0
            self._nx = self._ny = 1
            self._ptr = np.zeros(2, dtype=np.int64)
            self._members = np.zeros(0, dtype=np.int64)
            return
        b = shapely.bounds(geoms)
        x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
        x1, y1 = float(b[:, 2].max()), float(b[:, 3].max())
        extent = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
        cell = max(2.0 * float(np.median(extent)), 1e-6)
        while True:
            nx = int((x1 - x0) // cell) + 1
            ny = int((y1 - y0) // cell) + 1
            if nx * ny <= self._MAX_CELLS:
                break
            cell *= 2.0
        ix0 = ((b[:, 0] - x0) // cell).astype(np.int64)
        ix1 = ((b[:, 2] - x0) // cell).astype(np.int64)
        iy0 = ((b[:, 1] - y0) // cell).astype(np.int64)
        iy1 = ((b[:, 3] - y0) // cell).astype(np.int64)
        width = ix1 - ix0 + 1
        counts = width * (iy1 - iy0 + 1)
        big = counts > self._MAX_CELLS_PER_POLYGON
        self._big = np.flatnonzero(big).astype(np.int64)
        counts = np.where(big, 0, counts)
        total = int(counts.sum())
        owner = np.repeat(np.arange(n, dtype=np.int64), counts)
        local = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        w = np.repeat(width, counts)
        cid = (np.repeat(iy0, counts) + local // w) * nx + (np.repeat(ix0, counts) + local % w)
        order = np.argsort(cid, kind="stable")
        self._members = owner[order]
        self._ptr = np.searchsorted(cid[order], np.arange(nx * ny + 1, dtype=np.int64)).astype(np.int64)
        self._x0, self._y0, self._cell, self._nx, self._ny = x0, y0, cell, nx, ny

    def hits(self, x: FloatArray, y: FloatArray) -> tuple[IntArray, IntArray]:
        """(point index, polygon index) for every point inside (or on) a polygon."""
        ix = np.floor((x - self._x0) / self._cell)
        iy = np.floor((y - self._y0) / self._cell)
        ok = (ix >= 0) & (ix < self._nx) & (iy >= 0) & (iy < self._ny)
        pid = np.flatnonzero(ok)
        cid = iy[pid].astype(np.int64) * self._nx + ix[pid].astype(np.int64)
        start = self._ptr[cid]
        cnt = self._ptr[cid + 1] - start
        keep = cnt > 0
        pid, start, cnt = pid[keep], start[keep], cnt[keep]
        rep_p = np.repeat(pid, cnt)
        off = np.arange(rep_p.size, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        cand = self._members[np.repeat(start, cnt) + off]
        inside = shapely.intersects_xy(self._geoms[cand], x[rep_p], y[rep_p])
        p_out, g_out = rep_p[inside], cand[inside]
        for g in self._big:
            m = np.flatnonzero(shapely.intersects_xy(self._geoms[g], x, y))
            if m.size:
                p_out = np.concatenate([p_out, m])
                g_out = np.concatenate([g_out, np.full(m.size, g, dtype=np.int64)])
        return p_out.astype(np.int64), g_out.astype(np.int64)


def buffer_point_m(lon: float, lat: float, *, radius_m: float, quad_segs: int = 16) -> Polygon:
    """A circle of ``radius_m`` metres around (lon, lat), as a WGS84 lon/lat polygon.

    Drawn in an azimuthal equidistant projection centred on the point, so every vertex is
    exactly ``radius_m`` (geodesic) from the centre, then unprojected to degrees.
    """
    if radius_m <= 0:
        raise ValueError("radius_m must be > 0")
    circle = shapely.Point(0.0, 0.0).buffer(radius_m, quad_segs=quad_segs)
    inv = _aeqd_inverse(float(lon), float(lat))
    out = shapely.transform(circle, lambda xy: np.column_stack(inv.transform(xy[:, 0], xy[:, 1])))
    assert isinstance(out, Polygon)
    return out


def _aeqd_crs(lon0: float, lat0: float) -> str:
    return f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"


@lru_cache(maxsize=64)
def _aeqd_forward(lon0: float, lat0: float) -> Transformer:
    return Transformer.from_crs("EPSG:4326", _aeqd_crs(lon0, lat0), always_xy=True)


@lru_cache(maxsize=256)
def _aeqd_inverse(lon0: float, lat0: float) -> Transformer:
    return Transformer.from_crs(_aeqd_crs(lon0, lat0), "EPSG:4326", always_xy=True)

