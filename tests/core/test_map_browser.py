"""Done means (issue 14, maps), in a real headless Chromium against daphne: every map draws the
offline base map (land, sea, township names, registered places labelled by name once zoomed
in), clusters warnings with a count, shows a legend, and falls back to the local base map when
the configured tile service is unreachable (a local HTTP tile server stands in for 天地图 / the
county GIS). Screenshots go to tests/artifacts/screenshots/.
"""
from __future__ import annotations

import http.server
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 30_000
SHOTS = ARTIFACTS / "screenshots"


def _square(lon, lat, d=0.004):
    return {"type": "Polygon", "coordinates": [[[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d], [lon - d, lat - d]]]}


def _places():
    from apps.elements.models import Checkpoint, Geofence

    pier = Geofence.objects.create(name="石浦老码头", kind="pier", status="idle", township="石浦镇", geometry=_square(121.955, 29.196),
                                   centroid_lon=121.955, centroid_lat=29.196)
    cove = Geofence.objects.create(name="鹤浦南岙口", kind="cove", township="鹤浦镇", geometry=_square(121.958, 29.056),
                                   centroid_lon=121.958, centroid_lat=29.056)
    Checkpoint.objects.create(code="KK-9", name="石浦港卡口", lon=121.93, lat=29.205, township="石浦镇")
    return pier, cove


def _warnings(pier, cove, n_at_pier=3):
    from apps.elements.models import Warning

    now = timezone.now()
    rows = [Warning(kind="idle_pier_landing", level=level, score=80.0, episode_key=f"map-test:{i}", vessels=["412440001"],
                    geofence=pier, lon=pier.centroid_lon + i * 0.003, lat=pier.centroid_lat, start=now - timedelta(hours=1), end=now)
            for i, level in enumerate(["orange", "red", "yellow"][:n_at_pier])]
    rows.append(Warning(kind="dark_vessel", level="blue", score=40.0, episode_key="map-test:cove", vessels=["412440002"],
                        geofence=cove, lon=cove.centroid_lon, lat=cove.centroid_lat, start=now - timedelta(hours=2), end=now))
    return Warning.objects.bulk_create(rows)


def test_cockpit_map_labels_places_and_clusters_warnings(users, login_page, live_server_url):
    from playwright.sync_api import expect

    pier, cove = _places()
    _warnings(pier, cove)
    page = login_page(users["duty"], viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_server_url}/cockpit/dashboard/?layout=wall")
    mapel = page.locator("#ck-map")
    expect(mapel).to_have_attribute("data-ready", "1", timeout=TIMEOUT_MS)
    expect(mapel).to_have_attribute("data-base", "local")
    # three warnings at one pier: one marker with the count, coloured by the worst level (red)
    cluster = page.locator("#ck-map .xs-cluster.xs-l-red .xs-cluster-count")
    expect(cluster).to_have_text("3", timeout=TIMEOUT_MS)
    expect(page.locator('#ck-map .xs-lmark[data-level="blue"]')).to_have_count(1)
    expect(page.locator("#ck-map .xs-legend")).to_contain_text("红色预警")
    expect(page.locator("#ck-map .xs-legend")).to_contain_text("卡口")
    expect(page.locator("#ck-map .xs-district-label", has_text="宁海县")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "cockpit-1920x1080.png"))

    # zoomed in on 石浦: township name and every place labelled by name (the checkpoint too, for staff)
    page.evaluate("document.getElementById('ck-map')._xsMap.setView([29.2, 121.945], 13, {animate: false})")
    expect(page.locator("#ck-map .xs-town-label", has_text="石浦镇")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#ck-map .xs-place-label", has_text="石浦老码头")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#ck-map .xs-place-label", has_text="石浦港卡口")).to_be_visible()
    # closer still, the cluster opens into its markers
    page.evaluate("document.getElementById('ck-map')._xsMap.setView([29.196, 121.958], 16, {animate: false})")
    expect(page.locator("#ck-map .xs-lmark[data-warning-id]")).to_have_count(3, timeout=TIMEOUT_MS)


def test_public_tip_map_places_pier_by_name_without_internal_places(browser, live_server_url):
    from playwright.sync_api import expect

    _places()
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    requests: list[str] = []
    ctx.on("request", lambda r: requests.append(r.url))
    page = ctx.new_page()
    page.goto(f"{live_server_url}/public/tip/")
    mapel = page.locator("#map")
    expect(mapel).to_have_attribute("data-ready", "1", timeout=TIMEOUT_MS)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tip-form-390x844.png"), full_page=True)
    page.evaluate("document.getElementById('map')._xsMap.setView([29.196, 121.95], 13, {animate: false})")
    expect(page.locator("#map .xs-place-label", has_text="石浦老码头")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#map .xs-place-label", has_text="石浦港卡口")).to_have_count(0)  # not for the public
    expect(page.locator("#map .xs-town-label", has_text="石浦镇")).to_be_visible()
    assert all(u.startswith(live_server_url) for u in requests), [u for u in requests if not u.startswith(live_server_url)]
    ctx.close()


class _Tiles(http.server.BaseHTTPRequestHandler):
    """A stand-in for a county XYZ tile service: any /z/x/y.png is a small PNG."""

    body = b""
    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tile_server(monkeypatch):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (220, 230, 210)).save(buf, format="PNG")
    _Tiles.body, _Tiles.hits = buf.getvalue(), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("MAP_TILE_URL", f"http://127.0.0.1:{server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png")
    monkeypatch.setenv("MAP_TILE_ATTRIBUTION", "县 GIS 测试")
    yield _Tiles
    server.shutdown()
    server.server_close()


def test_configured_tiles_are_used(tile_server, live_server_url, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 800, "height": 700}, locale="zh-CN")
    page.goto(f"{live_server_url}/public/tip/")
    expect(page.locator("#map")).to_have_attribute("data-base", "tiles", timeout=TIMEOUT_MS)
    expect(page.locator("#map .leaflet-control-attribution")).to_contain_text("县 GIS 测试")
    assert any(h.startswith("/tiles/") for h in tile_server.hits)
    page.close()


@pytest.fixture
def unreachable_tiles(monkeypatch):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    monkeypatch.setenv("MAP_TILE_URL", f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png")


def test_unreachable_tiles_fall_back_to_the_local_base_map(unreachable_tiles, live_server_url, browser):
    from playwright.sync_api import expect

    _places()
    page = browser.new_page(viewport={"width": 800, "height": 700}, locale="zh-CN")
    page.goto(f"{live_server_url}/public/tip/")
    mapel = page.locator("#map")
    expect(mapel).to_have_attribute("data-base", "local", timeout=TIMEOUT_MS)
    expect(mapel).to_have_attribute("data-ready", "1", timeout=TIMEOUT_MS)
    expect(page.locator("#map .leaflet-tile-pane img")).to_have_count(0)
    page.evaluate("document.getElementById('map')._xsMap.setView([29.196, 121.95], 13, {animate: false})")
    expect(page.locator("#map .xs-place-label", has_text="石浦老码头")).to_be_visible(timeout=TIMEOUT_MS)
    page.close()
