"""``import_geofences`` from GeoJSON, GeoPackage and Shapefile (written here with geopandas)."""
from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from shapely.geometry import Point, Polygon, shape

from apps.elements.domain.geo_units import haversine_m
from apps.elements.models import Geofence

from .conftest import GEODATA

pytestmark = pytest.mark.django_db

PIER = (121.8033, 29.0402)  # near 花岙 (demo, illustrative)


def frame(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Three good features (a point pier, a polygon cove, a point anchorage) and three bad ones."""
    cove = Polygon([(121.81, 29.05), (121.815, 29.05), (121.815, 29.054), (121.81, 29.054)])
    rows = [
        {"name": "测试闲置码头", "kind": "pier", "status": "idle", "township": "高塘岛乡", "pier_chief": "码长 甲",
         "owner_note": "村集体", "geometry": Point(*PIER)},
        {"name": "测试岙口", "kind": "岙口", "status": "闲置", "township": "高塘岛乡", "pier_chief": "",
         "owner_note": "", "geometry": cove},
        {"name": "测试锚地", "kind": "anchorage", "status": "active", "township": "", "pier_chief": "",
         "owner_note": "", "geometry": Point(121.90, 29.00)},
        {"name": "", "kind": "pier", "status": "idle", "township": "", "pier_chief": "", "owner_note": "",
         "geometry": Point(121.7, 29.1)},  # no name
        {"name": "坏类型", "kind": "harbour?", "status": "idle", "township": "", "pier_chief": "", "owner_note": "",
         "geometry": Point(121.7, 29.1)},
        {"name": "坏状态", "kind": "pier", "status": "abandoned", "township": "", "pier_chief": "", "owner_note": "",
         "geometry": Point(121.7, 29.1)},
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    return gdf.to_crs(crs) if crs != "EPSG:4326" else gdf


def import_file(path, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_geofences", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def check_imported(out: str, err: str, *, with_cove: bool = True) -> None:
    good = 3 if with_cove else 2
    assert f"created: {good}" in out and "refused: 3" in out
    assert "缺少名称" in out and "harbour?" in out and "abandoned" in out  # every bad feature named, with why
    assert f"{good + 3}/{good + 3}" in err  # progress shown
    pier = Geofence.objects.get(name="测试闲置码头")
    assert (pier.kind, pier.status, pier.township, pier.pier_chief) == ("pier", "idle", "高塘岛乡", "码长 甲")
    assert pier.properties["owner_note"] == "村集体"  # other properties kept
    poly = shape(pier.geometry)
    assert poly.geom_type == "Polygon"
    # the point became a circle of about 150 m (default radius), in WGS84
    ring = list(poly.exterior.coords)
    radii = [haversine_m(PIER[0], PIER[1], x, y) for x, y in ring]
    assert all(abs(r - 150) < 2 for r in radii), (min(radii), max(radii))
    assert abs(pier.centroid_lon - PIER[0]) < 1e-5 and abs(pier.centroid_lat - PIER[1]) < 1e-5
    if not with_cove:
        assert not Geofence.objects.filter(name="测试岙口").exists()
        return
    cove = Geofence.objects.get(name="测试岙口")
    assert (cove.kind, cove.status) == ("cove", "idle")  # Chinese kind/status accepted
    expected = Polygon([(121.81, 29.05), (121.815, 29.05), (121.815, 29.054), (121.81, 29.054)])
    assert shapely.hausdorff_distance(shape(cove.geometry), expected) < 1e-6  # same polygon, back in WGS84


def test_geojson(tmp_path):
    path = tmp_path / "fences.geojson"
    frame().to_file(path, driver="GeoJSON")
    check_imported(*import_file(path))


def test_geopackage_in_a_projected_crs_is_reprojected_to_wgs84(tmp_path):
    path = tmp_path / "fences.gpkg"
    frame("EPSG:32651").to_file(path, driver="GPKG", layer="fences")  # UTM 51N metres
    out, err = import_file(path)
    assert "EPSG:32651" in out
    check_imported(out, err)


def test_shapefile(tmp_path):
    # a shapefile holds one geometry type: the point layer here, in Web Mercator
    points = frame("EPSG:3857")
    points = points[points.geometry.geom_type == "Point"]
    path = tmp_path / "fences.shp"
    points.to_file(path, driver="ESRI Shapefile", encoding="utf-8")
    check_imported(*import_file(path), with_cove=False)
    polys = frame()
    polys = polys[polys.geometry.geom_type == "Polygon"]
    polys.to_file(tmp_path / "coves.shp", driver="ESRI Shapefile", encoding="utf-8")
    out, _ = import_file(tmp_path / "coves.shp")
    assert "created: 1" in out
    assert Geofence.objects.get(name="测试岙口").kind == "cove"


def test_radius_option_and_reimport_updates_in_place(tmp_path):
    path = tmp_path / "fences.geojson"
    frame().to_file(path, driver="GeoJSON")
    import_file(path, "--radius", "300")
    pier = Geofence.objects.get(name="测试闲置码头")
    x, y = shape(pier.geometry).exterior.coords[0]
    assert abs(haversine_m(PIER[0], PIER[1], x, y) - 300) < 3
    out, _ = import_file(path)
    assert "created: 0" in out and "updated: 3" in out
    assert Geofence.objects.filter(name="测试闲置码头").count() == 1


def test_the_demo_geofences_of_geodata_import_whole():
    out, _ = import_file(GEODATA / "demo_geofences.geojson")
    assert "created: 22" in out and "refused: 0" in out
    assert Geofence.objects.filter(status="idle", kind="pier").exists()
    assert Geofence.objects.filter(kind="anchorage").count() == 2


def test_a_file_that_is_not_geography_is_a_clear_error(tmp_path):
    path = tmp_path / "nope.geojson"
    path.write_text("this is not json")
    with pytest.raises(CommandError, match="无法读取"):
        import_file(path)
    with pytest.raises(CommandError, match="文件不存在"):
        import_file(tmp_path / "missing.gpkg")
    assert Geofence.objects.count() == 0
