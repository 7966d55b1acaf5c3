"""The base map (apps.core.basemap): offline geography, places by viewer, the tile setting."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.2], [121.96, 29.2], [121.96, 29.21], [121.95, 29.21], [121.95, 29.2]]]}


@pytest.fixture
def places(departments):
    from apps.core.models import Department
    from apps.elements.models import Checkpoint, Geofence
    from apps.sources.models import Facility, ProtectedSite

    Geofence.objects.create(name="石浦老码头", kind="pier", township="石浦镇", geometry=SQUARE, centroid_lon=121.955, centroid_lat=29.205)
    Checkpoint.objects.create(code="KK-1", name="石浦卡口", lon=121.94, lat=29.21, township="石浦镇")
    site = ProtectedSite.objects.create(name="石浦老码头点位", site_type="pier", lon=121.955, lat=29.205)
    Facility.objects.create(site=site, kind="infrared", code="ir-1", name="老码头红外哨兵", lon=121.956, lat=29.206,
                            responsible_department=Department.objects.first())


def test_public_gets_geography_and_public_places_only(client, places):
    data = client.get("/api/core/basemap/").json()
    assert data["tiles"] is None
    assert data["land"]["features"][0]["properties"]["name"] == "象山县"
    assert {f["properties"]["name"] for f in data["districts"]["features"]} >= {"宁海县", "奉化区"}
    assert "象山县" not in {f["properties"]["name"] for f in data["districts"]["features"]}
    assert {"石浦镇", "鹤浦镇", "高塘岛乡", "丹东街道"} <= {t["name"] for t in data["townships"]}
    names = {p["name"]: p for p in data["places"]}
    assert names["石浦老码头"]["kind_label"] == "码头" and names["石浦老码头"]["township"] == "石浦镇"
    assert "石浦卡口" not in names and "老码头红外哨兵" not in names  # positions of checkpoints and sensors stay inside


def test_staff_get_checkpoints_and_sensors(api_for, users, places):
    data = api_for(users["duty"]).get("/api/core/basemap/").json()
    kinds = {p["name"]: p["kind"] for p in data["places"]}
    assert kinds == {"石浦老码头": "pier", "石浦卡口": "checkpoint", "老码头红外哨兵": "sensor"}


def test_township_labels_lie_on_the_county_land():
    import json
    from pathlib import Path

    from shapely.geometry import Point, shape

    geo = Path(__file__).resolve().parents[2] / "geodata"
    land = shape(json.loads((geo / "xiangshan_county_wgs84.geojson").read_text())["features"][0]["geometry"])
    towns = json.loads((geo / "townships_labels.geojson").read_text())["features"]
    assert len(towns) == 18
    for f in towns:
        assert land.contains(Point(f["geometry"]["coordinates"])), f["properties"]["name"]
        assert f["properties"]["illustrative"] is True


def test_tile_setting_reaches_pages_and_api(client, settings):
    settings.MAP_TILES = {"url": "http://gis.county.example/xyz/{z}/{x}/{y}.png", "attribution": "县 GIS", "max_zoom": 17, "subdomains": ""}
    assert client.get("/api/core/basemap/").json()["tiles"] == {
        "url": "http://gis.county.example/xyz/{z}/{x}/{y}.png", "attribution": "县 GIS", "max_zoom": 17, "subdomains": ""}
    page = client.get("/public/tip/").content.decode()
    assert 'id="xs-map-config"' in page and "gis.county.example" in page
