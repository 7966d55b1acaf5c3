"""Facilities: heartbeats mark a silent device down and open a repair task; a repair closes
only with an after photo; the compliance view lists what each site lacks."""
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from apps.core import live
from apps.sources import events, services, tasks
from apps.sources.models import Facility, RepairTask, SiteStandard

from .conftest import LiveListener, RecordingBackend, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(pier):
    services.site_standards_ensure_defaults()
    return services.protected_site_for_geofence(geofence=pier)


@pytest.fixture
def camera(site, departments):
    return services.facility_register(
        site=site, kind="cctv", code="gt-cam-1", name="花岙码头 1 号摄像机",
        responsible_department=departments["police"], heartbeat_timeout_min=10,
    )


def beat(client, token):
    return client.post("/api/sources/devices/heartbeat/", HTTP_X_DEVICE_TOKEN=token)


def test_heartbeat_needs_the_devices_own_token(client, camera):
    token = services.facility_issue_token(facility=camera)
    camera.refresh_from_db()
    assert camera.token_hash and token not in camera.token_hash  # only the hash is stored
    res = beat(client, token)
    assert res.status_code == 200 and res.json()["status"] == "ok"
    assert client.post("/api/sources/devices/heartbeat/", HTTP_AUTHORIZATION=f"Device {token}").status_code == 200
    assert beat(client, "forged-token").status_code == 401
    assert beat(client, "forged-token").json()["detail"] == "设备令牌无效。"
    assert client.post("/api/sources/devices/heartbeat/").status_code == 401
    # a session is no substitute for a device token
    assert client.get("/api/sources/devices/heartbeat/").status_code in (401, 405)


def test_issuing_a_token_is_for_the_operations_centre_or_the_responsible_head(api_for, users, make_user, camera):
    assert api_for(users["grid"]).post(f"/api/sources/facilities/{camera.id}/token/").status_code == 403
    assert api_for(users["police"]).post(f"/api/sources/facilities/{camera.id}/token/").status_code == 403
    assert api_for(make_user("customs_head", "dept_head", "customs")).post(f"/api/sources/facilities/{camera.id}/token/").status_code in (403, 404)
    assert api_for(users["police_head"]).post(f"/api/sources/facilities/{camera.id}/token/").status_code == 200
    assert len(api_for(users["commander"]).post(f"/api/sources/facilities/{camera.id}/token/").json()["token"]) > 30


def test_a_silent_camera_goes_down_and_gets_one_repair_task(client, camera, django_capture_on_commit_callbacks):
    token = services.facility_issue_token(facility=camera)
    assert beat(client, token).status_code == 200
    later = timezone.now() + timedelta(minutes=11)
    assert services.facilities_check_heartbeats(now=timezone.now() + timedelta(minutes=5)) == []  # still in time
    listener = LiveListener(live.GROUP_COMMAND, live.group_department(camera.responsible_department_id))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.facilities_check_heartbeats(now=later) == [camera.id]
    camera.refresh_from_db()
    assert camera.status == Facility.Status.DOWN
    task = RepairTask.objects.get(facility=camera)
    assert task.source == RepairTask.Source.DEVICE_DOWN and task.state == RepairTask.State.OPEN
    assert task.department.code == "police" and "未收到心跳" in task.description
    assert {m["event"] for m in listener.events()} >= {events.FACILITY_DOWN, events.REPAIR_CHANGED}
    assert [n.recipient for n in RecordingBackend.sent] == ["dept:police"]
    # the next checks add nothing; the down state is on the audit trail
    assert services.facilities_check_heartbeats(now=later + timedelta(minutes=30)) == []
    assert RepairTask.objects.filter(facility=camera).count() == 1
    entry = LogEntry.objects.get_for_object(camera).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["status"] == ["ok", "down"]
    # it comes back: "ok" again, the task stays open until the department closes it
    assert beat(client, token).json()["status"] == "ok"
    task.refresh_from_db()
    assert task.state == RepairTask.State.OPEN


def test_devices_without_a_token_are_not_judged(site, departments):
    services.facility_register(site=site, kind="cctv", code="cam-x", name="未接入", responsible_department=departments["police"])
    assert services.facilities_check_heartbeats(now=timezone.now() + timedelta(days=3)) == []


def test_repair_closes_only_with_an_after_photo(api_for, users, make_user, camera):
    services.facility_issue_token(facility=camera)
    Facility.objects.filter(pk=camera.pk).update(last_heartbeat_at=timezone.now() - timedelta(hours=1))
    services.facilities_check_heartbeats()
    task = RepairTask.objects.get(facility=camera)
    officer = api_for(users["police"])
    url = f"/api/sources/repairs/{task.id}"
    # other departments do not even see it; field workers and auditors cannot act
    assert api_for(users["customs"]).post(f"{url}/start/").status_code == 404
    assert api_for(users["grid"]).post(f"{url}/start/").status_code == 403
    assert api_for(users["auditor"]).post(f"{url}/start/").status_code == 403
    assert officer.post(f"{url}/close/", {}, format="multipart").json()["detail"] == ["只有维修中的任务可以关闭（请先开始维修）。"]
    assert officer.post(f"{url}/start/").json()["state"] == "in_repair"
    res = officer.post(f"{url}/close/", {"note": "已更换"}, format="multipart")
    assert res.status_code == 400
    assert res.json()["detail"] == ["关闭维修任务前必须上传修复后的照片。"]
    task.refresh_from_db()
    assert task.state == RepairTask.State.IN_REPAIR
    # a "before" photo is not an "after" photo
    officer.post(f"{url}/photos/", {"stage": "before", "photos": [upload()]}, format="multipart")
    assert officer.post(f"{url}/close/", {}, format="multipart").status_code == 400
    res = officer.post(f"{url}/close/", {"note": "已更换摄像机", "photos": [upload()]}, format="multipart")
    assert res.status_code == 200, res.json()
    body = res.json()
    assert body["state"] == "closed" and len(body["after_photos"]) == 1 and len(body["before_photos"]) == 1
    task.refresh_from_db()
    assert task.closed_by == users["police"] and task.close_note == "已更换摄像机"
    assert [e.changes_dict.get("state") for e in LogEntry.objects.get_for_object(task).filter(action=LogEntry.Action.UPDATE).order_by("timestamp") if "state" in e.changes_dict] == [
        ["open", "in_repair"],
        ["in_repair", "closed"],
    ]
    assert officer.post(f"{url}/close/", {"photos": [upload()]}, format="multipart").status_code == 400


def test_compliance_lists_what_each_site_lacks(api_for, users, make_user, site, camera, departments, client):
    d = departments["police"]
    services.facility_register(site=site, kind="cctv", code="gt-cam-2", name="2 号摄像机", responsible_department=d)
    services.facility_register(site=site, kind="height_bar", code="gt-bar", name="限高杆", responsible_department=departments["gaotang"])
    services.facility_register(site=site, kind="sign", code="gt-sign", name="警示牌", responsible_department=departments["gaotang"])
    Facility.objects.filter(pk=camera.pk).update(status=Facility.Status.DOWN)
    res = api_for(users["commander"]).get("/api/sources/compliance/")
    assert res.status_code == 200
    (row,) = res.json()["results"]
    assert row["name"] == site.name and row["site_type"] == "unmanned_pier" and row["compliant"] is False
    lacking = {x["kind"]: (x["missing"], x["not_working"]) for x in row["lacking"]}
    # standard for an unmanned pier: bar 1, cctv 2, infrared 1, light 1, barrier 1, sign 1
    assert lacking == {"cctv": (0, 1), "infrared": (1, 0), "light": (1, 0), "barrier": (1, 0)}
    # the overview page shows it to the operations centre
    client.force_login(users["duty"])
    page = client.get("/sources/overview/").content.decode()
    assert site.name in page and "红外哨兵 缺 1" in page and "视频监控 故障 1" in page
    # after the standard changes, the view follows
    assert api_for(users["police"]).post("/api/sources/standards/", {"site_type": "unmanned_pier", "facility_kind": "infrared", "min_count": 0}).status_code == 403
    assert api_for(users["commander"]).post("/api/sources/standards/", {"site_type": "unmanned_pier", "facility_kind": "infrared", "min_count": 0}).status_code == 201
    assert SiteStandard.objects.get(site_type="unmanned_pier", facility_kind="infrared").min_count == 0
    (row,) = api_for(users["commander"]).get("/api/sources/compliance/").json()["results"]
    assert "infrared" not in {x["kind"] for x in row["lacking"]}
    # scoping: the township sees its site; another township, field workers and customs do not
    assert api_for(make_user("gt_officer", "dept_officer", "gaotang")).get("/api/sources/compliance/").json()["count"] == 1
    assert api_for(make_user("hp_officer", "dept_officer", "hepu")).get("/api/sources/compliance/").json()["count"] == 0
    assert api_for(users["customs"]).get("/api/sources/compliance/").json()["count"] == 0
    assert api_for(users["grid"]).get("/api/sources/compliance/").status_code == 403


def test_overview_page_is_for_command_roles(client, users):
    for user, code in [(users["commander"], 200), (users["duty"], 200), (users["auditor"], 200), (users["police"], 403), (users["grid"], 403)]:
        client.force_login(user)
        assert client.get("/sources/overview/").status_code == code, user.username
