"""Every cockpit endpoint and page: the operations centre and the auditor read, everyone else is refused."""
import pytest

pytestmark = pytest.mark.django_db

READ_ENDPOINTS = [
    "/api/cockpit/summary/",
    "/api/cockpit/trends/?days=14&bucket=week",
    "/api/cockpit/map/",
    "/api/cockpit/boundary/",
    "/api/cockpit/tide/?date=2026-07-01",
    "/api/cockpit/evaluation/?start=2026-01-01&end=2026-01-31",
    "/api/cockpit/weights/",
]
PAGES = [
    "/cockpit/dashboard/",
    "/cockpit/dashboard/?layout=wall",
    "/cockpit/evaluation/",
    "/cockpit/evaluation/export.xlsx",
    "/cockpit/evaluation/export.pdf",
]


@pytest.mark.parametrize("url", READ_ENDPOINTS)
@pytest.mark.parametrize("who", ["police", "police_head", "customs", "grid", "pierchief"])
def test_department_and_field_staff_are_refused(api_for, users, url, who):
    assert api_for(users[who]).get(url).status_code == 403


@pytest.mark.parametrize("url", READ_ENDPOINTS)
def test_anonymous_is_refused(api_for, users, url):
    assert api_for().get(url).status_code in (401, 403)


@pytest.mark.parametrize("url", READ_ENDPOINTS)
@pytest.mark.parametrize("who", ["commander", "duty", "auditor"])
def test_operations_centre_and_auditor_read(api_for, users, url, who):
    res = api_for(users[who]).get(url)
    assert res.status_code == 200, res.content[:300]
    assert res.json()


def test_detail_endpoint_roles_and_missing_objects(api_for, users):
    from apps.elements.models import Geofence

    g = Geofence.objects.create(
        name="测试码头", kind="pier", status="idle", geometry={"type": "Polygon", "coordinates": [[[121.9, 29.1], [121.91, 29.1], [121.91, 29.11], [121.9, 29.1]]]},
        centroid_lon=121.905, centroid_lat=29.105,
    )
    url = f"/api/cockpit/detail/geofence/{g.pk}/"
    assert api_for(users["police"]).get(url).status_code == 403
    res = api_for(users["duty"]).get(url)
    assert res.status_code == 200 and res.json()["title"] == "测试码头"
    assert api_for(users["duty"]).get("/api/cockpit/detail/geofence/999999/").status_code == 404
    bad = api_for(users["duty"]).get("/api/cockpit/detail/spaceship/1/")
    assert bad.status_code == 404 and "未知的对象类型" in bad.json()["detail"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_for_command_and_auditor_only(client, users, url):
    for who in ("police", "police_head", "grid"):
        client.force_login(users[who])
        assert client.get(url).status_code == 403, (who, url)
    for who in ("commander", "duty", "auditor"):
        client.force_login(users[who])
        assert client.get(url).status_code == 200, (who, url)
    client.logout()
    assert client.get(url).status_code == 302  # to the login page


def test_dashboard_is_offline_and_wall_layout_is_selectable(client, users):
    client.force_login(users["duty"])
    html = client.get("/cockpit/dashboard/?layout=wall").content.decode()
    assert "cockpit wall" in html
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/vendor/echarts/echarts.min.js" in html
    assert "cdn" not in html.lower() and "https://" not in html and "http://" not in html
    assert '"tiles": null' in html  # no tile service configured: the local base map only
    assert "warning.new" in html and "task.changed" in html  # the live events the page listens to


@pytest.mark.parametrize(
    "url, message",
    [
        ("/api/cockpit/trends/?bucket=month", "bucket 只能是"),
        ("/api/cockpit/trends/?days=abc", "须为整数"),
        ("/api/cockpit/summary/?days=0", "不能小于"),
        ("/api/cockpit/map/?hours=1000", "不能大于"),
        ("/api/cockpit/evaluation/?start=2026-02-01&end=2026-01-01", "结束日期不能早于开始日期"),
        ("/api/cockpit/evaluation/?start=yesterday", "日期格式"),
        ("/api/cockpit/evaluation/?start=2020-01-01&end=2026-01-01", "最长"),
        ("/api/cockpit/tide/?date=2026-13-45", "日期格式"),
    ],
)
def test_bad_parameters_get_a_clear_chinese_400(api_for, users, url, message):
    res = api_for(users["commander"]).get(url)
    assert res.status_code == 400
    assert message in res.content.decode()


def test_bad_export_period_is_a_400_not_a_crash(client, users):
    client.force_login(users["commander"])
    res = client.get("/cockpit/evaluation/export.pdf?start=2026-02-01&end=2026-01-01")
    assert res.status_code == 400 and "结束日期" in res.content.decode()
    page = client.get("/cockpit/evaluation/?start=garbage")
    assert page.status_code == 200 and "日期格式" in page.content.decode()


def test_etag_makes_an_unchanged_answer_a_304(api_for, users):
    c = api_for(users["commander"])
    first = c.get("/api/cockpit/summary/")
    etag = first["ETag"]
    assert etag and "private" in first["Cache-Control"]
    # the summary carries its generation time: the boundary is the stable one
    b1 = c.get("/api/cockpit/boundary/")
    b2 = c.get("/api/cockpit/boundary/", HTTP_IF_NONE_MATCH=b1["ETag"])
    assert b2.status_code == 304 and not b2.content
