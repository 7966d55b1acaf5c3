"""Patrol check-ins: inside the pier's geofence and the tide window, with photo and location,
refused with the reason otherwise; a replayed client UUID is kept once."""
import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from apps.sources import selectors, services
from apps.sources.models import Checkin, PatrolPlan

from .conftest import PIER_LAT, PIER_LON, new_uuid, upload, window_around

pytestmark = pytest.mark.django_db


def post_checkin(client, plan, *, lon=PIER_LON, lat=PIER_LAT, at=None, key=None, photo=True, accuracy=8):
    data = {
        "plan": plan.id,
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy,
        "at": (at or timezone.now()).isoformat(),
        "client_uuid": key or new_uuid(),
    }
    if photo:
        data["photo"] = upload()
    return client.post("/api/sources/checkins/", data, format="multipart")


def test_checkin_inside_fence_and_window_counts(api_for, users, open_plan):
    res = post_checkin(api_for(users["grid"]), open_plan)
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["replayed"] is False and body["place"] == open_plan.geofence.name
    open_plan.refresh_from_db()
    assert open_plan.status == PatrolPlan.Status.CHECKED_IN
    checkin = Checkin.objects.get()
    assert checkin.user == users["grid"] and checkin.photo.content_type == "image/jpeg"
    # the plan's state change is on the audit trail, with the old and new state
    entry = LogEntry.objects.get_for_object(open_plan).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["status"] == ["planned", "checked_in"]


def test_checkin_outside_the_fence_is_refused_with_the_distance(api_for, users, open_plan):
    # 0.01° east of the centre is ~970 m away; the fence edge is ~97 m from the centre
    res = post_checkin(api_for(users["grid"]), open_plan, lon=PIER_LON + 0.01)
    assert res.status_code == 400
    (reason,) = res.json()["detail"]
    m = re.fullmatch(r"不在码头围栏内（距离 (\d+) 米）", reason)
    assert m, reason
    assert 840 < int(m.group(1)) < 910
    assert not Checkin.objects.exists()
    open_plan.refresh_from_db()
    assert open_plan.status == PatrolPlan.Status.PLANNED


def test_checkin_outside_the_window_is_refused_with_the_window(api_for, users, patrol):
    now = timezone.now()
    start, peak, end = window_around(now - timedelta(hours=5))  # ended 4 h ago
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(peak), windows=[(start, peak, end)])
    res = post_checkin(api_for(users["grid"]), plan)
    assert res.status_code == 400
    expected = f"不在巡查时段内（时段 {selectors.fmt_window(start, end)}）"
    assert res.json()["detail"] == [expected]
    assert re.fullmatch(r"不在巡查时段内（时段 \d\d:\d\d–\d\d:\d\d）", expected)


def test_both_reasons_are_given_at_once(api_for, users, patrol):
    now = timezone.now()
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now - timedelta(hours=5))])
    res = post_checkin(api_for(users["grid"]), plan, lat=PIER_LAT + 0.02)
    reasons = res.json()["detail"]
    assert res.status_code == 400 and len(reasons) == 2
    assert reasons[0].startswith("不在巡查时段内") and reasons[1].startswith("不在码头围栏内")


def test_replayed_uuid_creates_one_checkin_and_answers_with_the_original(api_for, users, open_plan):
    client = api_for(users["grid"])
    key = new_uuid()
    first = post_checkin(client, open_plan, key=key)
    again = post_checkin(client, open_plan, key=key)
    third = post_checkin(client, open_plan, key=key, lon=PIER_LON + 0.5)  # even if the replay differs
    assert first.status_code == 201
    assert again.status_code == 200 and third.status_code == 200
    assert again.json()["id"] == third.json()["id"] == first.json()["id"]
    assert again.json()["replayed"] is True
    assert Checkin.objects.count() == 1
    # another user cannot take over that key
    res = post_checkin(api_for(users["pierchief"]), open_plan, key=key)
    assert res.status_code == 400 and "提交编号" in res.json()["detail"][0]
    assert Checkin.objects.count() == 1


def test_pier_chief_checks_in_at_his_pier(api_for, users, open_plan):
    assert post_checkin(api_for(users["pierchief"]), open_plan).status_code == 201


def test_only_the_team_and_the_pier_chief_check_in(api_for, make_user, users, open_plan):
    outsider = make_user("grid_hepu", "grid_worker", "hepu")
    res = post_checkin(api_for(outsider), open_plan)
    assert res.status_code == 400
    assert "不在该点位的巡查队伍中" in res.json()["detail"][0]
    # staff roles do not check in at all; anonymous is refused
    assert post_checkin(api_for(users["police"]), open_plan).status_code == 403
    assert post_checkin(api_for(users["commander"]), open_plan).status_code == 403
    assert post_checkin(api_for(), open_plan).status_code in (401, 403)
    assert not Checkin.objects.exists()


def test_missing_photo_location_or_bad_input_is_a_clear_400(api_for, users, open_plan):
    client = api_for(users["grid"])
    res = post_checkin(client, open_plan, photo=False)
    assert res.status_code == 400 and res.json()["detail"] == ["请拍摄现场照片。"]
    res = client.post("/api/sources/checkins/", {"plan": open_plan.id, "client_uuid": new_uuid(), "at": timezone.now().isoformat(), "photo": upload()}, format="multipart")
    assert res.status_code == 400 and "定位" in res.json()["detail"][0]
    res = client.post("/api/sources/checkins/", {"plan": open_plan.id, "lon": PIER_LON, "lat": PIER_LAT, "at": "yesterday", "client_uuid": new_uuid(), "photo": upload()}, format="multipart")
    assert res.status_code == 400 and "打卡时间格式无效" in res.json()["detail"][0]
    res = client.post("/api/sources/checkins/", {"plan": open_plan.id, "lon": PIER_LON, "lat": PIER_LAT, "at": timezone.now().isoformat(), "client_uuid": "not-a-uuid"}, format="multipart")
    assert res.status_code == 400 and "提交编号" in res.json()["detail"][0]
    res = client.post("/api/sources/checkins/", {"plan": "abc", "lon": PIER_LON, "lat": PIER_LAT, "at": timezone.now().isoformat(), "client_uuid": new_uuid()}, format="multipart")
    assert res.status_code == 400 and res.json()["detail"] == ["巡查计划不存在。"]
    res = post_checkin(client, open_plan, at=timezone.now() + timedelta(hours=1))
    assert res.status_code == 400 and "手机时间晚于服务器时间" in res.json()["detail"][0]
    res = post_checkin(client, open_plan, accuracy=900)
    assert res.status_code == 400 and "定位精度不足" in res.json()["detail"][0]
    assert not Checkin.objects.exists()


def test_a_queued_checkin_synced_after_the_window_still_counts(users, patrol):
    """Checked in offline at 23:00, synced at 02:30 after the plan was flagged missed."""
    now = timezone.now()
    start, peak, end = window_around(now - timedelta(hours=3))
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(peak), windows=[(start, peak, end)])
    assert services.patrol_plans_flag_missed(now=now) == [plan.id]
    checkin, created = services.checkin_record(
        actor=users["grid"], plan_id=plan.id, lon=PIER_LON, lat=PIER_LAT, at=peak, photo=upload(), client_uuid=new_uuid()
    )
    assert created
    plan.refresh_from_db()
    assert plan.status == PatrolPlan.Status.CHECKED_IN and plan.checked_in_at == peak
    # but not a day later
    with pytest.raises(Exception) as exc:
        services.checkin_record(
            actor=users["grid"], plan_id=plan.id, lon=PIER_LON, lat=PIER_LAT, at=peak, photo=upload(),
            client_uuid=new_uuid(), now=end + timedelta(hours=25),
        )
    assert "24 小时" in str(exc.value)


def test_checkins_are_scoped(api_for, users, make_user, open_plan):
    post_checkin(api_for(users["grid"]), open_plan)
    assert api_for(users["grid"]).get("/api/sources/checkins/").json()["count"] == 1
    assert api_for(users["pierchief"]).get("/api/sources/checkins/").json()["count"] == 0  # own only
    assert api_for(make_user("gt_officer", "dept_officer", "gaotang")).get("/api/sources/checkins/").json()["count"] == 1
    assert api_for(make_user("hp_officer", "dept_officer", "hepu")).get("/api/sources/checkins/").json()["count"] == 0
    assert api_for(users["police"]).get("/api/sources/checkins/").json()["count"] == 0
    assert api_for(users["duty"]).get("/api/sources/checkins/").json()["count"] == 1
