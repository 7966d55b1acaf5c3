"""GCJ-02 <-> WGS84 conversion and the derived geography in geodata/."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from apps.elements.domain.datum import gcj02_offset_m, gcj02_to_wgs84, out_of_china, wgs84_to_gcj02

REPO = Path(__file__).resolve().parents[3]
GEO = REPO / "geodata"
_to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)


def _metres(lon1: Any, lat1: Any, lon2: Any, lat2: Any) -> np.ndarray:
    x1, y1 = _to_utm.transform(lon1, lat1)
    x2, y2 = _to_utm.transform(lon2, lat2)
    return np.hypot(np.asarray(x1) - x2, np.asarray(y1) - y2)


def _utm(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: np.column_stack(_to_utm.transform(c[:, 0], c[:, 1])))


# ------------------------------------------------------------------ transform


def test_published_test_vector() -> None:
    # googollee/eviltransform python/test.py, "shanghai": WGS84 -> GCJ-02 to 1e-6 deg.
    lon, lat = wgs84_to_gcj02(121.5272106, 31.1774276)
    assert float(lon) == pytest.approx(121.531541859215, abs=1e-6)
    assert float(lat) == pytest.approx(31.17530398364597, abs=1e-6)
    back = gcj02_to_wgs84(121.531541859215, 31.17530398364597)
    assert _metres(back[0], back[1], 121.5272106, 31.1774276) < 0.5


def test_round_trip_under_half_a_metre_over_xiangshan() -> None:
    rng = np.random.default_rng(42)
    lon = rng.uniform(121.5, 122.4, 2000)
    lat = rng.uniform(28.8, 29.8, 2000)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    err = _metres(lon, lat, w_lon, w_lat)
    assert err.max() < 0.5
    assert err.max() < 0.001  # in fact sub-millimetre


def test_offset_near_xiangshan_is_a_few_hundred_metres() -> None:
    lon = np.array([121.95, 121.82, 121.97, 121.72])  # Shipu, Gaotang, Hepu, Xizhou (approx.)
    lat = np.array([29.20, 29.08, 29.10, 29.53])
    off = gcj02_offset_m(lon, lat)
    assert np.all(off > 200) and np.all(off < 800)
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    # GCJ-02 here is shifted east and (slightly) south of WGS84.
    assert np.all(g_lon > lon)


def test_outside_china_is_unchanged_and_shapes_broadcast() -> None:
    assert bool(out_of_china(2.35, 48.85))
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert float(lon) == 2.35 and float(lat) == 48.85
    lon, lat = gcj02_to_wgs84(np.array([[121.9, 122.0]]), 29.3)
    assert lon.shape == lat.shape == (1, 2)
    lon, lat = gcj02_to_wgs84([], [])
    assert lon.shape == (0,)


# ------------------------------------------------------------ derived geodata


@pytest.fixture(scope="module")
def county_wgs() -> Any:
    doc = json.loads((GEO / "xiangshan_county_wgs84.geojson").read_text(encoding="utf-8"))
    return shape(doc["features"][0]["geometry"])


def _features(name: str) -> list[dict[str, Any]]:
    return json.loads((GEO / name).read_text(encoding="utf-8"))["features"]


def test_gcj_copy_is_byte_identical_to_the_shared_source() -> None:
    shared = REPO.parent / "shared" / "data" / "geo" / "xiangshan_county.geojson"
    if not shared.exists():
        pytest.skip("shared/ not beside the repository")
    assert (GEO / "xiangshan_county_gcj02.geojson").read_bytes() == shared.read_bytes()


def test_wgs84_county_is_the_converted_gcj_county(county_wgs: Any) -> None:
    gcj = json.loads((GEO / "xiangshan_county_gcj02.geojson").read_text(encoding="utf-8"))
    g = shape(gcj["features"][0]["geometry"])
    gc = np.array(shapely.get_coordinates(g))
    wc = np.array(shapely.get_coordinates(county_wgs))
    assert gc.shape == wc.shape
    e_lon, e_lat = gcj02_to_wgs84(gc[:, 0], gc[:, 1])
    assert _metres(e_lon, e_lat, wc[:, 0], wc[:, 1]).max() < 0.2  # rounding to 1e-6 deg only
    shift = _metres(gc[:, 0], gc[:, 1], wc[:, 0], wc[:, 1])
    assert 400 < shift.min() and shift.max() < 600  # ~0.5 km over the county


def test_demo_geofences_sit_on_the_coast_and_anchorages_at_sea(county_wgs: Any) -> None:
    feats = _features("demo_geofences.geojson")
    assert 18 <= len(feats) <= 30
    land = _utm(county_wgs)
    edge = land.boundary
    kinds = {f["properties"]["kind"] for f in feats}
    assert {"pier", "cove", "beach", "landing_point", "anchorage"} <= kinds
    for f in feats:
        p = f["properties"]
        assert p["illustrative"] is True and p["note"] == "示意位置，非实测"
        assert p["status"] in {"active", "idle"} and p["township"] and p["name"]
        pt = _utm(shape(f["geometry"]))
        if p["kind"] == "anchorage":
            assert not land.contains(pt), p["name"]
            assert edge.distance(pt) > 500, p["name"]
        else:
            assert edge.distance(pt) <= 300, p["name"]
            assert p["pier_chief"].startswith("码长 ")
    piers = [f for f in feats if f["properties"]["kind"] == "pier"]
    assert sum(f["properties"]["status"] == "idle" for f in piers) > len(piers) / 2
    townships = {f["properties"]["township"] for f in feats}
    assert {"高塘岛乡", "鹤浦镇", "定塘镇", "石浦镇", "爵溪街道"} <= townships


def test_demo_checkpoints_are_inland_near_their_pier(county_wgs: Any) -> None:
    fences = {f["id"]: f for f in _features("demo_geofences.geojson")}
    land = _utm(county_wgs)
    for f in _features("demo_checkpoints.geojson"):
        p = f["properties"]
        assert p["kind"] == "checkpoint" and p["illustrative"] is True
        pt = _utm(shape(f["geometry"]))
        assert land.contains(pt), p["name"]
        assert land.boundary.distance(pt) >= 400, p["name"]
        pier = _utm(shape(fences[p["near_geofence"]]["geometry"]))
        assert pt.distance(pier) < 3500, p["name"]


def test_build_is_idempotent() -> None:
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, str(GEO / "build.py"), "--check"], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
