"""Patrol plans from the tide windows, missed check-ins flagged, attendance statistics."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone

from apps.core import live
from apps.sources import events, selectors, services, tasks
from apps.sources.models import PatrolPlan

from .conftest import PIER_LAT, PIER_LON, LiveListener, RecordingBackend, new_uuid, upload, window_around

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_tide_windows_are_nightly_high_waters_plus_minus_two_hours():
    night = date(2026, 7, 15)
    windows = selectors.tide_windows_for(date=night)
    night_start, night_end = selectors.night_bounds(date=night)
    assert 1 <= len(windows) <= 2
    for start, peak, end in windows:
        assert night_start <= peak < night_end
        assert peak - start == timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN) == timedelta(hours=2)
        assert end - peak == timedelta(hours=2)


def test_tide_windows_come_from_the_imported_tide_table_when_there_is_one():
    from apps.elements.models import TideEventRecord, TideStation

    station = TideStation.objects.create(code="shipu", name="石浦", is_default=True)
    peak = datetime(2026, 7, 15, 23, 40, tzinfo=SH)
    TideEventRecord.objects.create(station=station, ts=peak, height_m=2.1, kind="high", origin="table")
    TideEventRecord.objects.create(station=station, ts=peak + timedelta(hours=6, minutes=12), height_m=-1.0, kind="low", origin="table")
    assert selectors.tide_windows_for(date=date(2026, 7, 15)) == [(peak - timedelta(hours=2), peak, peak + timedelta(hours=2))]


def test_plans_are_generated_per_team_place_and_window_idempotently(patrol, departments):
    from apps.elements.models import Geofence

    from .conftest import square

    cove = Geofence.objects.create(
        name="高塘岛乡 测试岙口", kind="cove", status="idle", township="高塘岛乡",
        geometry=square(121.96, 29.11), centroid_lon=121.96, centroid_lat=29.11,
    )
    patrol.team.geofences.add(cove)
    night = date(2026, 7, 15)
    w1 = (datetime(2026, 7, 15, 20, 0, tzinfo=SH), datetime(2026, 7, 15, 22, 0, tzinfo=SH), datetime(2026, 7, 16, 0, 0, tzinfo=SH))
    created = services.patrol_plans_generate(date=night, windows=[w1])
    assert {(p.geofence.name, p.window_start, p.window_end) for p in created} == {
        (patrol.pier.name, w1[0], w1[2]),
        (cove.name, w1[0], w1[2]),
    }
    assert services.patrol_plans_generate(date=night, windows=[w1]) == []
    assert PatrolPlan.objects.count() == 2
    # from the real tide windows: nothing doubled either
    first = services.patrol_plans_generate(date=night)
    assert len(first) == 2 * len(selectors.tide_windows_for(date=night))
    assert services.patrol_plans_generate(date=night) == []


def test_beat_generates_tomorrows_plans_and_the_jobs_are_scheduled(patrol):
    tasks.generate_patrol_plans.delay().get()
    tomorrow = selectors.night_of(timezone.now()) + timedelta(days=1)
    assert PatrolPlan.objects.filter(night=tomorrow).exists()
    schedule = settings.CELERY_BEAT_SCHEDULE
    for name in ("sources.generate_patrol_plans", "sources.flag_missed_checkins", "sources.check_device_heartbeats"):
        assert schedule[name]["task"] == name


def test_plan_generation_api_is_for_the_operations_centre(api_for, users, patrol):
    assert api_for(users["grid"]).post("/api/sources/plans/generate/", {"date": "2026-07-15"}).status_code == 403
    assert api_for(users["police"]).post("/api/sources/plans/generate/", {"date": "2026-07-15"}).status_code == 403
    res = api_for(users["duty"]).post("/api/sources/plans/generate/", {"date": "2026-07-15"})
    assert res.status_code == 201 and res.json()["created"] >= 1
    assert api_for(users["duty"]).post("/api/sources/plans/generate/", {"date": "15/07"}).status_code == 400


def test_missed_checkins_are_flagged_to_the_township_and_the_operations_centre(patrol, django_capture_on_commit_callbacks):
    now = timezone.now()
    (missed,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now - timedelta(hours=3))])
    (running,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now)])
    listener = LiveListener(live.GROUP_COMMAND, live.group_department(patrol.township.id))
    with django_capture_on_commit_callbacks(execute=True):
        flagged = tasks.flag_missed_checkins.delay().get()
    assert flagged == 1
    missed.refresh_from_db()
    running.refresh_from_db()
    assert missed.status == PatrolPlan.Status.MISSED and missed.flagged_at is not None
    assert running.status == PatrolPlan.Status.PLANNED
    pushed = [m for m in listener.events() if m["event"] == events.CHECKIN_MISSED]
    assert len(pushed) == 2  # the operations centre's group and the township's group
    assert pushed[0]["payload"]["plans"] == [missed.id]
    assert {n.recipient for n in RecordingBackend.sent} == {"dept:gaotang", "dept:antismuggling"}
    assert all(patrol.pier.name in n.body for n in RecordingBackend.sent)
    # idempotent: nothing new the next time
    with django_capture_on_commit_callbacks(execute=True):
        assert services.patrol_plans_flag_missed() == []


def test_attendance_per_team_and_township(api_for, users, make_user, patrol):
    now = timezone.now()
    night = selectors.night_of(now)
    plans = [services.patrol_plans_generate(date=night, windows=[window_around(now - timedelta(hours=h))])[0] for h in (6, 12)]
    (current,) = services.patrol_plans_generate(date=night, windows=[window_around(now)])
    services.checkin_record(actor=users["grid"], plan_id=current.id, lon=PIER_LON, lat=PIER_LAT, at=now, photo=upload(), client_uuid=new_uuid())
    services.checkin_record(actor=users["grid"], plan_id=plans[0].id, lon=PIER_LON, lat=PIER_LAT, at=plans[0].peak, photo=upload(), client_uuid=new_uuid())
    services.patrol_plans_flag_missed(now=now)  # plans[1] missed
    params = {"date_from": (night - timedelta(days=2)).isoformat(), "date_to": (night + timedelta(days=1)).isoformat()}
    res = api_for(users["commander"]).get("/api/sources/attendance/", {**params, "by": "team"})
    assert res.status_code == 200
    (row,) = res.json()["results"]
    assert row["team_name"] == "花岙微网格"
    assert (row["planned"], row["checked_in"], row["missed"], row["pending"]) == (3, 2, 1, 0)
    assert row["rate"] == pytest.approx(0.667, abs=0.001)
    (town,) = api_for(users["commander"]).get("/api/sources/attendance/", {**params, "by": "township"}).json()["results"]
    assert town["township_name"] == "高塘岛乡" and town["planned"] == 3
    # department scoping: the township sees its own, another township and other departments nothing
    assert len(api_for(make_user("gt_head", "dept_head", "gaotang")).get("/api/sources/attendance/", params).json()["results"]) == 1
    assert api_for(make_user("hp_head", "dept_head", "hepu")).get("/api/sources/attendance/", params).json()["results"] == []
    assert api_for(users["police"]).get("/api/sources/attendance/", params).json()["results"] == []
    assert api_for(users["commander"]).get("/api/sources/attendance/", {"by": "vessel"}).status_code == 400
    assert api_for(users["commander"]).get("/api/sources/attendance/", {"date_from": "x"}).status_code == 400


def test_plans_are_scoped_to_the_township(api_for, users, make_user, open_plan):
    assert api_for(users["grid"]).get("/api/sources/plans/").json()["count"] == 1
    assert api_for(make_user("grid_hepu", "grid_worker", "hepu")).get("/api/sources/plans/").json()["count"] == 0
    assert api_for(users["customs"]).get("/api/sources/plans/").json()["count"] == 0
    today = api_for(users["pierchief"]).get("/api/sources/mobile/today/").json()
    assert [p["id"] for p in today["plans"]] == [open_plan.id]
    assert today["places"][0]["name"] == open_plan.geofence.name
    assert api_for(users["police"]).get("/api/sources/mobile/today/").status_code == 403
