"""Pages check roles; the phone page installs (manifest, service worker); every write is on
the audit trail with its actor; the demo loads twice without doubling anything."""
import io
import json

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from apps.sources.models import Checkin, GridReport, PatrolPlan

from .conftest import PIER_LAT, PIER_LON, new_uuid, upload

pytestmark = pytest.mark.django_db


def test_phone_page_is_for_grid_workers_and_pier_chiefs(client, users):
    assert client.get("/sources/mobile/").status_code == 302
    for user, code in [(users["grid"], 200), (users["pierchief"], 200), (users["police"], 403), (users["commander"], 403), (users["auditor"], 403)]:
        client.force_login(user)
        assert client.get("/sources/mobile/").status_code == code, user.username
    client.force_login(users["grid"])
    page = client.get("/sources/mobile/").content.decode()
    assert 'rel="manifest"' in page and "/sources/mobile/manifest.webmanifest" in page
    assert 'capture="environment"' in page and "提交打卡" in page and 'id="queue-count"' in page
    assert "cdn" not in page.lower()


def test_manifest_and_service_worker_cover_the_phone_page(client):
    res = client.get("/sources/mobile/manifest.webmanifest")
    assert res.status_code == 200 and res["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(res.content)
    assert manifest["start_url"] == manifest["scope"] == "/sources/mobile/"
    assert manifest["display"] == "standalone" and manifest["lang"] == "zh-CN"
    assert {i["sizes"] for i in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
    sw = client.get("/sources/mobile/sw.js")
    assert sw.status_code == 200 and sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/sources/mobile/"
    body = sw.content.decode()
    for cached in ("/sources/mobile/", "/static/sources/mobile.js", "/static/js/app.js", "/static/css/app.css", "/static/sources/icons/icon-192.png"):
        assert f'"{cached}"' in body
    assert 'request.method !== "GET"' in body  # never intercepts uploads


def test_repairs_page_roles(client, users):
    for user, code in [(users["police"], 200), (users["commander"], 200), (users["auditor"], 200), (users["grid"], 403)]:
        client.force_login(user)
        assert client.get("/sources/repairs/").status_code == code, user.username


def test_writes_through_requests_are_audited_with_the_actor(client, users, open_plan):
    client.force_login(users["grid"])
    res = client.post(
        "/api/sources/checkins/",
        {"plan": open_plan.id, "lon": PIER_LON, "lat": PIER_LAT, "at": timezone.now().isoformat(), "client_uuid": new_uuid(), "photo": upload()},
        REMOTE_ADDR="10.9.8.7",
    )
    assert res.status_code == 201
    checkin = Checkin.objects.get()
    created = LogEntry.objects.get_for_object(checkin).get(action=LogEntry.Action.CREATE)
    assert created.actor == users["grid"] and created.remote_addr == "10.9.8.7"
    plan_entry = LogEntry.objects.get_for_object(PatrolPlan.objects.get()).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert plan_entry.actor == users["grid"] and plan_entry.changes_dict["status"] == ["planned", "checked_in"]
    res = client.post(
        "/api/sources/reports/",
        {"kind": "strangers", "lon": PIER_LON, "lat": PIER_LAT, "at": timezone.now().isoformat(), "client_uuid": new_uuid(), "photos": [upload()]},
    )
    assert res.status_code == 201
    report = GridReport.objects.get()
    entries = LogEntry.objects.get_for_object(report)
    assert entries.filter(action=LogEntry.Action.CREATE, actor=users["grid"]).exists()
    # the auditor reads it through the core audit API
    found = client.get("/api/core/audit/", {"model": "sources.gridreport", "object_pk": report.pk})
    assert found.status_code == 403  # a grid worker may not read the audit trail
    client.force_login(users["auditor"])
    found = client.get("/api/core/audit/", {"model": "sources.gridreport", "object_pk": report.pk}).json()
    assert found["count"] >= 1


def test_demo_loads_idempotently(users, departments, pier, settings):
    from apps.sources import demo
    from apps.sources.models import Facility, Grid, GridTeam, MarketEntity, MarketFinding, RepairTask, TeamMember

    market = users["police"].__class__.objects.create_user("market1", password="pw-for-tests-1", role="dept_officer", department=departments["market"])
    out = io.StringIO()
    demo.load(out)
    counts = [Grid.objects.count(), GridTeam.objects.count(), Facility.objects.count(), RepairTask.objects.count(),
              MarketEntity.objects.count(), MarketFinding.objects.count(), PatrolPlan.objects.count()]
    demo.load(io.StringIO())
    assert counts == [Grid.objects.count(), GridTeam.objects.count(), Facility.objects.count(), RepairTask.objects.count(),
                      MarketEntity.objects.count(), MarketFinding.objects.count(), PatrolPlan.objects.count()]
    assert TeamMember.objects.filter(user=users["grid"], role="leader").exists()
    assert Facility.objects.filter(status="down").count() == 1 and RepairTask.objects.filter(source="device_down").count() == 1
    assert MarketEntity.objects.count() == 6 and MarketFinding.objects.filter(kind="no_legal_source").count() == 2
    assert PatrolPlan.objects.exists()
    assert "device token" in out.getvalue() and market.pk
