"""Geofences, the spatial index, metric buffers and the GCJ-02 datum shift."""
from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from apps.elements.domain.geometry import (
    GEOFENCE_KINDS,
    Geofence,
    GeofenceIndex,
    buffer_point_m,
    gcj02_to_wgs84,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")


def fence(gid: str, lon: float, lat: float, radius_m: float, *, kind: str = "pier", status: str = "idle") -> Geofence:
    return Geofence(gid, f"name-{gid}", kind, status, "高塘", buffer_point_m(lon, lat, radius_m=radius_m))


# --------------------------------------------------------------------------- Geofence


def test_geofence_validates_kind_status_and_geometry() -> None:
    poly = buffer_point_m(121.9, 29.2, radius_m=100)
    for kind in GEOFENCE_KINDS:
        Geofence("a", "A", kind, "active", "高塘", poly)
    with pytest.raises(ValueError, match="kind"):
        Geofence("a", "A", "harbour", "idle", "高塘", poly)
    with pytest.raises(ValueError, match="status"):
        Geofence("a", "A", "pier", "closed", "高塘", poly)
    with pytest.raises(ValueError, match="Polygon"):
        Geofence("a", "A", "pier", "idle", "高塘", shapely.Point(121.9, 29.2))
    with pytest.raises(ValueError, match="Polygon"):
        Geofence("a", "A", "pier", "idle", "高塘", shapely.Polygon())


# --------------------------------------------------------------------------- buffer_point_m


@pytest.mark.parametrize(
    ("lon", "lat", "radius_m"), [(121.9, 29.2, 150.0), (32.55, 29.8, 5_000.0), (10.0, 65.0, 800.0)]
)
def test_buffer_point_m_vertices_are_radius_metres_away(lon: float, lat: float, radius_m: float) -> None:
    circle = buffer_point_m(lon, lat, radius_m=radius_m)
    xs, ys = np.asarray(circle.exterior.coords).T
    _, _, dist = GEOD.inv(np.full(xs.size, lon), np.full(xs.size, lat), xs, ys)
    assert np.allclose(dist, radius_m, rtol=1e-6)
    assert circle.is_valid
    assert circle.contains(shapely.Point(lon, lat))


def test_buffer_point_m_rejects_non_positive_radius() -> None:
    with pytest.raises(ValueError):
        buffer_point_m(121.9, 29.2, radius_m=0)


# --------------------------------------------------------------------------- GeofenceIndex.locate


def test_locate_inside_outside_and_overlap_prefers_smallest() -> None:
    big = fence("big", 121.90, 29.20, 1_000)
    small = fence("small", 121.90, 29.20, 200)
    other = fence("other", 122.00, 29.30, 300)
    index = GeofenceIndex([big, small, other])
    lon = np.array([121.90, 121.905, 121.95, 122.00])
    lat = np.array([29.20, 29.20, 29.20, 29.30])
    assert index.locate(lon, lat).tolist() == [1, 0, -1, 2]
    assert index.locate(np.array([]), np.array([])).tolist() == []
    pts, gfs = index.locate_all(lon, lat)
    assert sorted(zip(pts.tolist(), gfs.tolist())) == [(0, 0), (0, 1), (1, 0), (3, 2)]


def test_locate_counts_the_boundary_as_inside() -> None:
    square = Geofence("sq", "sq", "beach", "idle", "鹤浦", shapely.box(121.0, 29.0, 121.01, 29.01))
    index = GeofenceIndex([square])
    assert index.locate([121.0, 121.005, 121.0100001], [29.005, 29.01, 29.005]).tolist() == [0, 0, -1]


def test_locate_matches_shapely_point_by_point() -> None:
    rng = np.random.default_rng(3)
    fences = [fence(f"g{i}", *rng.uniform([121.6, 28.9], [122.2, 29.6]), rng.uniform(200, 3000)) for i in range(300)]
    index = GeofenceIndex(fences)
    lon = rng.uniform(121.57, 122.27, 5_000)
    lat = rng.uniform(28.85, 29.66, 5_000)
    got = index.locate(lon, lat)
    areas = np.array([f.geometry.area for f in fences])
    for k in range(0, 5_000, 7):
        p = shapely.Point(lon[k], lat[k])
        hits = [i for i, f in enumerate(fences) if f.geometry.intersects(p)]
        expect = min(hits, key=lambda i: (areas[i], i)) if hits else -1
        assert got[k] == expect


def test_empty_index_and_duplicate_ids() -> None:
    empty = GeofenceIndex([])
    assert empty.locate([121.9], [29.2]).tolist() == [-1]
    assert empty.nearest_within(121.9, 29.2, distance_m=1e6) is None
    with pytest.raises(ValueError, match="duplicate"):
        GeofenceIndex([fence("x", 121.9, 29.2, 100), fence("x", 122.0, 29.2, 100)])


# --------------------------------------------------------------------------- metric queries


def test_nearest_within_distance_is_metric() -> None:
    pier = fence("p", 121.90, 29.20, 500)
    index = GeofenceIndex([pier, fence("far", 122.20, 29.50, 300)])
    # A point 3 km due east of the pier centre is 2.5 km from its edge.
    lon, lat, _ = GEOD.fwd(121.90, 29.20, 90.0, 3_000.0)
    hit = index.nearest_within(lon, lat, distance_m=5_000)
    assert hit is not None and hit[0] == 0
    assert hit[1] == pytest.approx(2_500.0, rel=2e-3)
    assert index.nearest_within(lon, lat, distance_m=2_000) is None
    assert index.nearest_within(121.90, 29.20, distance_m=1) == (0, 0.0)


def test_nearest_within_filters_kinds_and_statuses() -> None:
    index = GeofenceIndex(
        [
            fence("near-active", 121.90, 29.20, 100, status="active"),
            fence("farther-idle-cove", 121.93, 29.20, 100, kind="cove"),
        ]
    )
    assert index.nearest_within(121.91, 29.20, distance_m=5_000)[0] == 0  # type: ignore[index]
    assert index.nearest_within(121.91, 29.20, distance_m=5_000, statuses=("idle",))[0] == 1  # type: ignore[index]
    assert index.nearest_within(121.91, 29.20, distance_m=5_000, kinds=("beach",)) is None


def test_nearest_within_many_agrees_with_scalar_and_within_lists_all() -> None:
    rng = np.random.default_rng(5)
    index = GeofenceIndex([fence(f"g{i}", *rng.uniform([121.8, 29.0], [122.0, 29.2]), 150) for i in range(40)])
    lon = rng.uniform(121.78, 122.02, 200)
    lat = rng.uniform(28.98, 29.22, 200)
    idx, dist = index.nearest_within_many(lon, lat, distance_m=2_000)
    for k in range(200):
        one = index.nearest_within(float(lon[k]), float(lat[k]), distance_m=2_000)
        if one is None:
            assert idx[k] == -1 and np.isnan(dist[k])
        else:
            assert (idx[k], dist[k]) == pytest.approx(one)
            within = index.geofences_within(float(lon[k]), float(lat[k]), distance_m=2_000)
            assert within[0] == pytest.approx(one)
            assert [d for _, d in within] == sorted(d for _, d in within)
    mask = index.within_distance_mask(lon, lat, distance_m=2_000)
    _, d_all = index.nearest_within_many(lon, lat, distance_m=2_100)
    clear = ~(np.abs(d_all - 2_000) < 5)  # the buffer polygon is exact to a few metres
    assert mask[clear].tolist() == (idx >= 0)[clear].tolist()


def test_locate_with_a_huge_geofence_among_small_ones() -> None:
    sea = Geofence("sea", "whole bay", "anchorage", "active", "x", shapely.box(121.0, 28.0, 123.0, 30.0))
    small = [fence(f"p{i}", 121.5 + 0.01 * i, 29.0, 100) for i in range(50)]
    index = GeofenceIndex([sea, *small])
    lon = np.array([121.5, 121.7, 122.9, 124.0])
    lat = np.array([29.0, 29.0, 29.9, 29.0])
    assert index.locate(lon, lat).tolist() == [1, 21, 0, -1]


# --------------------------------------------------------------------------- GCJ-02

# googollee/eviltransform (MIT), python/test.py: (wgs lat, wgs lon, gcj lat, gcj lon).
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVILTRANSFORM_VECTORS)
def test_wgs84_to_gcj02_published_vectors(wlat: float, wlon: float, glat: float, glon: float) -> None:
    lon, lat = wgs84_to_gcj02(wlon, wlat)
    assert float(lon) == pytest.approx(glon, abs=1e-6)
    assert float(lat) == pytest.approx(glat, abs=1e-6)
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    _, _, err_m = GEOD.inv(float(back_lon), float(back_lat), wlon, wlat)
    assert err_m < 0.5  # eviltransform's own bound for its exact inverse


def test_gcj02_vectorised_and_outside_china_unchanged() -> None:
    lon = np.array([121.6, 121.9, 122.2, 2.35])
    lat = np.array([28.9, 29.3, 29.6, 48.85])
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert glon.shape == (4,)
    offsets = np.hypot((glon - lon) * 97_000, (glat - lat) * 111_000)[:3]
    assert np.all((offsets > 100) & (offsets < 1_000))  # a few hundred metres in Xiangshan
    assert (glon[3], glat[3]) == (2.35, 48.85)  # Paris: no offset
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert np.allclose(wlon, lon, atol=1e-9) and np.allclose(wlat, lat, atol=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=73.0, max_value=135.0), st.floats(min_value=18.0, max_value=53.0))
def test_gcj02_round_trip_is_sub_millimetre(lon: float, lat: float) -> None:
    glon, glat = wgs84_to_gcj02(lon, lat)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(float(wlon) - lon) < 1e-8 and abs(float(wlat) - lat) < 1e-8
