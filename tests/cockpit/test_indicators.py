"""Cockpit indicators, trends, the one-call map and the tide curve, on real PostgreSQL rows."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.elements.models import Geofence, StoredFix, Vessel, Warning

pytestmark = pytest.mark.django_db

SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.05], [121.96, 29.05], [121.96, 29.06], [121.95, 29.06], [121.95, 29.05]]]}


def _warning(n, *, level="red", kind="idle_pier_landing", status="open", created=None, geofence=None, vessels=(), lon=121.955):
    w = Warning.objects.create(
        kind=kind, level=level, score=80, status=status, episode_key=f"ind-{n}", vessels=list(vessels),
        geofence=geofence, lon=lon, lat=29.055, start=timezone.now(), end=timezone.now(),
    )
    if created:
        Warning.objects.filter(pk=w.pk).update(created_at=created)
    return w


@pytest.fixture
def scene(departments, users):
    now = timezone.now()
    pier = Geofence.objects.create(name="高塘闲置码头", kind="pier", status="idle", township="高塘岛乡", geometry=SQUARE,
                                   centroid_lon=121.955, centroid_lat=29.055)
    seen = Vessel.objects.create(external_id="412000001", name="浙象渔01", last_seen=now - timedelta(minutes=5),
                                 last_lon=121.97, last_lat=29.04, last_sog_kn=0.2)
    Vessel.objects.create(external_id="412000002", name="久未出现", last_seen=now - timedelta(days=3), last_lon=122.0, last_lat=29.0)
    # the seen vessel's last two hours: 13 fixes every 10 minutes, plus one from yesterday (outside the map window)
    StoredFix.objects.bulk_create(
        [StoredFix(vessel=seen, ts=now - timedelta(minutes=10 * i), lon_e7=1219700000 + i * 1000, lat_e7=290400000, sog_dkn=2)
         for i in range(13)]
        + [StoredFix(vessel=seen, ts=now - timedelta(hours=30), lon_e7=1219000000, lat_e7=290000000, sog_dkn=50)]
    )
    _warning(1, level="red", geofence=pier, vessels=["412000001"])
    _warning(2, level="orange", status="dispatched")
    _warning(3, level="yellow", kind="dark_vessel")
    _warning(4, level="blue", status="closed")  # closed: not on the map, not open
    _warning(5, level="blue", status="false_alarm", created=now - timedelta(days=40))  # outside the 30 days
    return {"now": now, "pier": pier, "vessel": seen}


def _tasks(departments, now):
    """Four tasks with acknowledgement after 2, 4, 6 and 20 minutes; the last one also overdue on arrival."""
    from django.contrib.contenttypes.models import ContentType

    from apps.enforcement.models import Dispatch, Task

    w = Warning.objects.first()
    d = Dispatch.objects.create(content_type=ContentType.objects.get_for_model(Warning), object_id=w.pk, warning=w, title="派发", level="red")
    out = []
    for i, (ack_min, state) in enumerate([(2, "closed"), (4, "in_progress"), (6, "acknowledged"), (20, "acknowledged")]):
        at = now - timedelta(hours=3)
        out.append(Task.objects.create(
            dispatch=d, warning=w, department=departments["police"], slot=f"s{i}", sector="shore", level="red", title="码头布控",
            state=state, ack_minutes=5, arrive_minutes=30, feedback_minutes=600 if i != 3 else 60, assigned_at=at,
            ack_due_at=at + timedelta(minutes=5), arrive_due_at=at + timedelta(minutes=30), feedback_due_at=at + timedelta(minutes=600 if i != 3 else 60),
            acknowledged_at=at + timedelta(minutes=ack_min), arrived_at=at + timedelta(minutes=25) if i < 2 else None,
            closed_at=now if state == "closed" else None,
        ))
    return out


def test_summary_counts_warnings_tasks_and_times(api_for, users, scene, departments):
    _tasks(departments, scene["now"])
    s = api_for(users["commander"]).get("/api/cockpit/summary/").json()
    w = s["warnings"]
    assert w["open_by_level"] == {"red": 1, "orange": 1, "yellow": 1, "blue": 0}
    assert w["open_total"] == 3
    assert w["period_total"] == 4  # the 40-day-old one is outside the 30 days
    assert {k["kind"]: k["count"] for k in w["period_by_kind"]} == {"idle_pier_landing": 3, "dark_vessel": 1}
    t = s["tasks"]
    # open = still owing work (3: the closed one is out). Overdue = a deadline passed with the step not done:
    # task 2 arrived on time and its feedback is not due yet; tasks 3 and 4 never arrived (due after 30 min) -> 2
    assert t["open"] == 3 and t["overdue"] == 2
    # acknowledgement minutes 2, 4, 6, 20: median (4+6)/2 = 5, p90 = 6 + 0.7*(20-6) = 15.8
    assert t["ack_min"] == {"n": 4, "p50": 5.0, "p90": 15.8}
    # arrival minutes 25, 25
    assert t["arrive_min"] == {"n": 2, "p50": 25.0, "p90": 25.0}
    assert s["vessels"]["seen_6h"] == 1


def test_cases_goods_and_tips(api_for, users, scene, departments):
    from apps.enforcement.models import Case, SeizedGoods
    from apps.reporting.models import Tip

    case = Case.objects.create(number="XS-1", title="走私成品油案")
    for kind, value in [("refined_oil", "120000.50"), ("refined_oil", "30000"), ("tobacco", "88000")]:
        SeizedGoods.objects.create(case=case, kind=kind, description="x", quantity=1, unit="吨", estimated_value_yuan=Decimal(value),
                                   custodian_department=departments["customs"], seized_at=timezone.now())
    Tip.objects.create(code="T1", secret_hash="x", category="other", description="线索", state="new")
    Tip.objects.create(code="T2", secret_hash="x", category="other", description="线索", state="closed")
    s = api_for(users["auditor"]).get("/api/cockpit/summary/").json()
    goods = {g["kind"]: g for g in s["cases"]["goods_by_kind"]}
    assert goods["refined_oil"]["count"] == 2 and goods["refined_oil"]["value_yuan"] == 150000.5
    assert goods["tobacco"]["value_yuan"] == 88000.0 and goods["frozen_goods"]["count"] == 0
    assert s["cases"]["open"] == 1 and s["cases"]["goods_value_yuan"] == 238000.5
    assert s["tips"]["pending"] == 1 and {x["state"]: x["count"] for x in s["tips"]["by_state"]}["closed"] == 1
    text = str(s)
    assert "secret" not in text and "contact" not in text  # nothing of a tipster in the cockpit


def test_patrol_attendance_and_facilities(api_for, users, scene, departments, make_user):
    from apps.sources.models import Checkin, Facility, Grid, GridTeam, PatrolPlan, Photo, ProtectedSite

    grid = Grid.objects.create(township=departments["gaotang"], code="gt-1", name="高塘一网格")
    team = GridTeam.objects.create(grid=grid, name="高塘一队")
    now = scene["now"]
    local = timezone.localtime(now)
    night = (local - timedelta(hours=6)).date() if local.hour < 6 else local.date()
    plans = []
    for i, status in enumerate(["checked_in", "checked_in", "checked_in", "missed", "planned"]):
        day = night - timedelta(days=i + 1)
        plans.append(PatrolPlan.objects.create(team=team, geofence=scene["pier"], night=day, status=status,
                                               window_start=now - timedelta(days=i + 1, hours=2), peak=now - timedelta(days=i + 1),
                                               window_end=now - timedelta(days=i + 1) + timedelta(hours=2)))
    photo = Photo.objects.create(file="x.jpg", content_type="image/jpeg", size_bytes=1, width=1, height=1, sha256="0")
    import uuid

    Checkin.objects.create(plan=plans[0], user=users["grid"], lon=121.955, lat=29.055, at=now - timedelta(hours=20), photo=photo, client_uuid=uuid.uuid4())
    site = ProtectedSite.objects.create(name="高塘码头点位", site_type="unmanned_pier", lon=121.95, lat=29.05, township=departments["gaotang"])
    Facility.objects.create(site=site, kind="cctv", code="cam-1", name="1号摄像头", status="down", responsible_department=departments["gaotang"])
    Facility.objects.create(site=site, kind="height_bar", code="bar-1", name="限高杆", status="ok", responsible_department=departments["gaotang"], lon=121.951, lat=29.051)
    s = api_for(users["duty"]).get("/api/cockpit/summary/").json()
    # attendance: 3 checked in, 1 missed (the planned one is not due): 3/4 = 75 %
    assert s["patrol"]["checked_in"] == 3 and s["patrol"]["missed"] == 1 and s["patrol"]["rate"] == 75.0
    assert s["facilities"]["down"] == 1 and s["facilities"]["total"] == 2
    m = api_for(users["duty"]).get("/api/cockpit/map/").json()
    fac = {f["name"]: f for f in m["facilities"]}
    assert fac["1号摄像头"]["status"] == "down" and fac["1号摄像头"]["lon"] == 121.95  # the site's position
    assert fac["限高杆"]["lon"] == 121.951
    assert [(c["team"], c["place"]) for c in m["checkins"]] == [("高塘一队", "高塘闲置码头")]
    tr = api_for(users["duty"]).get("/api/cockpit/trends/?days=7").json()
    rates = [r for r in tr["series"]["patrol_rate"] if r is not None]
    assert sorted(rates) == [0.0, 100.0, 100.0, 100.0]
    d = api_for(users["duty"]).get(f"/api/cockpit/detail/team/{team.pk}/").json()
    assert d["fields"]["已打卡"] == 3 and d["checkins"][0]["place"] == "高塘闲置码头"
    d = api_for(users["duty"]).get(f"/api/cockpit/detail/facility/{fac['1号摄像头']['id']}/").json()
    assert d["fields"]["状态"] == "离线"


def test_map_is_one_bounded_call(api_for, users, scene, django_assert_max_num_queries):
    c = api_for(users["commander"])
    c.get("/api/cockpit/map/")  # warm the geofence cache
    with django_assert_max_num_queries(14):
        m = c.get("/api/cockpit/map/").json()
    assert [v["external_id"] for v in m["vessels"]] == ["412000001"]  # the 3-day-old one is not on the map
    assert m["vessels"][0]["warned"] is True
    assert {w["level"] for w in m["warnings"]} == {"red", "orange", "yellow"}
    assert m["warnings"][0]["level"] == "red"  # highest level first (drawn on top)
    track = m["tracks"][str(scene["vessel"].pk)]
    assert len(track) == 13 and track[0][2] < track[-1][2]  # the last 6 hours only, oldest first
    assert track[-1][:2] == [121.97, 29.04]
    g = m["geofences"][0]
    assert g["name"] == "高塘闲置码头" and g["status"] == "idle" and g["warned"] is True


def test_map_query_count_does_not_grow_with_rows(api_for, users, scene, django_assert_max_num_queries):
    now = scene["now"]
    vs = Vessel.objects.bulk_create(
        [Vessel(external_id=f"4130000{i:02d}", last_seen=now, last_lon=122 + i / 100, last_lat=29) for i in range(60)]
    )
    for i in range(40):
        _warning(100 + i, level="orange", vessels=[vs[i].external_id])
    c = api_for(users["commander"])
    c.get("/api/cockpit/map/")
    with django_assert_max_num_queries(14):
        m = c.get("/api/cockpit/map/").json()
    assert len(m["vessels"]) == 61 and len(m["warnings"]) == 43


def test_vessel_detail_has_track_and_warning_history(api_for, users, scene):
    d = api_for(users["commander"]).get(f"/api/cockpit/detail/vessel/{scene['vessel'].pk}/").json()
    assert d["title"] == "浙象渔01"
    assert len(d["track"]) == 13  # 24 h: the 30-hour-old fix is not included
    assert [h["level"] for h in d["history"]] == ["red"]
    w = Warning.objects.get(episode_key="ind-1")
    wd = api_for(users["commander"]).get(f"/api/cockpit/detail/warning/{w.pk}/").json()
    assert wd["warning"]["geofence"] == "高塘闲置码头" and wd["tasks"] == []


def test_trends_by_day_and_week(api_for, users, scene):
    tr = api_for(users["commander"]).get("/api/cockpit/trends/?days=30&bucket=day").json()
    assert len(tr["buckets"]) == 30
    assert sum(sum(v) for v in tr["series"]["warnings_by_level"].values()) == 4
    assert tr["series"]["warnings_by_level"]["red"][-1] == 1  # today
    wk = api_for(users["commander"]).get("/api/cockpit/trends/?days=84&bucket=week").json()
    from datetime import date

    assert all(date.fromisoformat(b).weekday() == 0 for b in wk["buckets"])  # weeks start on Monday
    assert sum(sum(v) for v in wk["series"]["warnings_by_level"].values()) == 5


def test_tide_curve_with_patrol_windows(api_for, users):
    d = api_for(users["commander"]).get("/api/cockpit/tide/?date=2026-07-01").json()
    assert d["available"] is True and len(d["points"]) == 145  # every 10 minutes for 24 h
    assert d["windows"], "a night with a high water has a patrol window"
    from datetime import datetime

    for w in d["windows"]:
        start, peak, end = (datetime.fromisoformat(w[k]) for k in ("start", "peak", "end"))
        assert end - peak == peak - start == timedelta(hours=2)
        assert peak.hour >= 18 or peak.hour < 6  # night windows only
