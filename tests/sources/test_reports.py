"""Field reports: suspicious activity feeds the warning score and can be dispatched; facility
damage opens a repair task for the responsible department; replays are kept once."""
import pytest
from django.utils import timezone

from apps.sources import services
from apps.sources.models import Facility, GridReport, RepairTask

from .conftest import PIER_LAT, PIER_LON, RecordingBackend, new_uuid, upload

pytestmark = pytest.mark.django_db


def post_report(client, *, kind="unloading", key=None, photos=1, **extra):
    data = {
        "kind": kind,
        "lon": PIER_LON + 0.0002,
        "lat": PIER_LAT,
        "at": timezone.now().isoformat(),
        "client_uuid": key or new_uuid(),
        "description": "两条小船靠泊卸货，岸上有冷藏车",
        **extra,
    }
    if photos:
        data["photos"] = [upload() for _ in range(photos)]
    return client.post("/api/sources/reports/", data, format="multipart")


@pytest.fixture
def camera(pier, departments):
    services.site_standards_ensure_defaults()
    site = services.protected_site_for_geofence(geofence=pier)
    return services.facility_register(site=site, kind="cctv", code="gt-cam-1", name="花岙码头 1 号摄像机", responsible_department=departments["police"])


def test_suspicious_report_feeds_the_warning_score_once(api_for, users, patrol, django_capture_on_commit_callbacks):
    from apps.elements.models import FieldSignal

    client = api_for(users["grid"])
    key = new_uuid()
    with django_capture_on_commit_callbacks(execute=True):
        res = post_report(client, key=key)
    assert res.status_code == 201, res.json()
    report = GridReport.objects.get()
    assert report.geofence == patrol.pier and report.township == patrol.township
    signal = FieldSignal.objects.get()
    assert signal.ref == f"sources.gridreport:{report.id}" and signal.weight == 1.0
    assert (signal.lon, signal.lat) == (report.lon, report.lat)
    assert users["grid"].username not in signal.ref  # the reporter is not named to the score
    report.refresh_from_db()
    assert report.signalled_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        again = post_report(client, key=key)
    assert again.status_code == 200 and again.json()["id"] == report.id and again.json()["replayed"] is True
    assert GridReport.objects.count() == 1 and FieldSignal.objects.count() == 1
    assert services.pending_signals_retry() == 0
    assert {n.recipient for n in RecordingBackend.sent} == {"dept:gaotang", "dept:antismuggling"}


def test_a_suspicious_report_is_dispatched_with_one_click(api_for, users, patrol, django_capture_on_commit_callbacks):
    from apps.enforcement.models import Dispatch

    with django_capture_on_commit_callbacks(execute=True):
        rid = post_report(api_for(users["grid"])).json()["id"]
    assert api_for(users["police"]).post(f"/api/sources/reports/{rid}/dispatch/").status_code == 403
    assert api_for(users["grid"]).post(f"/api/sources/reports/{rid}/dispatch/").status_code == 403
    res = api_for(users["duty"]).post(f"/api/sources/reports/{rid}/dispatch/", {"note": "请核实"}, format="json")
    assert res.status_code == 201, res.json()
    dispatch = Dispatch.objects.get(pk=res.json()["dispatch"])
    assert dispatch.object_id == rid and dispatch.kind == "field_report" and dispatch.level == "orange"
    assert dispatch.township == "高塘岛乡"
    assert dispatch.tasks.exists()
    assert GridReport.objects.get(pk=rid).dispatched_at is not None


def test_damage_report_becomes_a_repair_task_for_the_responsible_department(api_for, users, patrol, camera):
    res = post_report(api_for(users["grid"]), kind="damage", photos=2, facility=camera.id, description="摄像机被砸坏")
    assert res.status_code == 201, res.json()
    report = GridReport.objects.get()
    task = RepairTask.objects.get(report=report)
    assert res.json()["repair_task"] == task.id
    assert task.department.code == "police" and task.facility == camera and task.source == "damage_report"
    assert task.before_photos.count() == 2 and set(task.before_photos.all()) == set(report.photos.all())
    camera.refresh_from_db()
    assert camera.status == Facility.Status.DAMAGED
    # the police see the task (and the report it came from); customs see neither
    assert api_for(users["police"]).get("/api/sources/repairs/").json()["count"] == 1
    assert api_for(users["police"]).get(f"/api/sources/reports/{report.id}/").status_code == 200
    assert api_for(users["customs"]).get("/api/sources/repairs/").json()["count"] == 0
    assert api_for(users["customs"]).get(f"/api/sources/reports/{report.id}/").status_code == 404
    # repaired with an after photo: the camera is fine again
    services.repair_task_start(task=task, actor=users["police"])
    services.repair_task_close(task=task, actor=users["police"], after_photos=[upload()])
    camera.refresh_from_db()
    assert camera.status == Facility.Status.OK
    assert not services.grid_report_signal(report_id=report.id)  # damage is not a smuggling signal


def test_damage_without_photo_or_with_someone_elses_facility_is_refused(api_for, users, make_user, patrol, camera, departments):
    client = api_for(users["grid"])
    res = post_report(client, kind="damage", photos=0, facility=camera.id)
    assert res.status_code == 400 and res.json()["detail"] == ["设施损坏上报须附现场照片。"]
    other = make_user("grid_hepu", "grid_worker", "hepu")
    res = post_report(api_for(other), kind="damage", facility=camera.id)
    assert res.status_code == 400 and res.json()["detail"] == ["所选设施不在您的辖区内。"]
    assert post_report(client, kind="smuggling").json()["detail"] == ["上报类型无效。"]
    assert post_report(client, facility="x", kind="damage").json()["detail"] == ["所选设施不存在。"]
    assert not GridReport.objects.exists() and not RepairTask.objects.exists()


def test_reports_are_scoped(api_for, users, make_user, patrol):
    post_report(api_for(users["grid"]))
    assert api_for(users["grid"]).get("/api/sources/reports/").json()["count"] == 1
    assert api_for(users["pierchief"]).get("/api/sources/reports/").json()["count"] == 0
    assert api_for(make_user("gt_officer", "dept_officer", "gaotang")).get("/api/sources/reports/").json()["count"] == 1
    assert api_for(users["police"]).get("/api/sources/reports/").json()["count"] == 0
    assert api_for(users["commander"]).get("/api/sources/reports/").json()["count"] == 1
    assert api_for(users["police"]).post("/api/sources/reports/", {}, format="multipart").status_code == 403
