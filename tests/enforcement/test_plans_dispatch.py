"""Plans → the right departments get the right subtasks; one-click and automatic dispatch; idempotency."""
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.elements.models import Warning
from apps.enforcement import services
from apps.enforcement.models import Case, Dispatch, DispatchPlan, PlanSubtask, Task, TaskEvent
from apps.enforcement.plan_defaults import ANY_PLAN, DEFAULT_PLANS, LEVEL_DEADLINES
from apps.enforcement.subjects import _REGISTRY, register_subject_type
from apps.enforcement.tasks import auto_dispatch_warning

pytestmark = pytest.mark.django_db


def slots(dispatch):
    return {(t.sector, t.department.code) for t in dispatch.tasks.select_related("department")}


def test_default_plans_follow_the_four_levels(plans):
    general = plans["any"]
    assert general.auto_dispatch_min_level == "orange"
    by_level = {lvl: list(general.subtasks.filter(level=lvl)) for lvl in ("red", "orange", "yellow", "blue")}
    # red sends every force, blue only the township check
    assert len(by_level["red"]) > len(by_level["orange"]) > len(by_level["blue"]) == 1
    assert {s.sector for s in by_level["red"]} == {"sea", "shore", "road", "market"}
    assert by_level["blue"][0].department_rule == PlanSubtask.DepartmentRule.TOWNSHIP
    # the higher the level, the shorter every deadline
    acks = [LEVEL_DEADLINES[lvl][0] for lvl in ("red", "orange", "yellow", "blue")]
    assert acks == sorted(acks) and len(set(acks)) == 4
    for lvl, subs in by_level.items():
        assert {(s.ack_minutes, s.arrive_minutes, s.feedback_minutes) for s in subs} == {LEVEL_DEADLINES[lvl]}
    # idempotent, and an edited plan is not overwritten
    general.auto_dispatch_min_level = "red"
    general.save()
    again = services.ensure_default_plans()
    assert DispatchPlan.objects.count() == len(again) == len(DEFAULT_PLANS)
    assert DispatchPlan.objects.get(kind="any").auto_dispatch_min_level == "red"
    assert PlanSubtask.objects.filter(plan=general).count() == sum(len(v) for v in ANY_PLAN.values())


def test_orange_landing_goes_to_coast_guard_police_township_and_customs(plans, more_users, make_warning):
    users = more_users
    warning = make_warning(level="orange")
    before = timezone.now()
    dispatch = services.dispatch_subject(subject=warning, actor=users["duty"], note="立即处置")
    assert slots(dispatch) == {("sea", "coastguard"), ("shore", "police"), ("road", "gaotang"), ("market", "customs")}
    police_task = dispatch.tasks.get(department__code="police")
    assert police_task.state == Task.State.NEW
    assert police_task.warning_id == warning.pk
    assert police_task.title == "码头布控"
    ack, arrive, feedback = LEVEL_DEADLINES["orange"]
    assert timedelta(minutes=ack) <= police_task.ack_due_at - before < timedelta(minutes=ack, seconds=30)
    assert police_task.arrive_due_at - police_task.assigned_at == timedelta(minutes=arrive)
    assert police_task.feedback_due_at - police_task.assigned_at == timedelta(minutes=feedback)
    assert TaskEvent.objects.filter(task=police_task, kind="created").exists()
    # the warning is dispatched, its case file opened with the tasked departments
    warning.refresh_from_db()
    assert warning.status == Warning.Status.DISPATCHED
    case = Case.objects.get(dispatch=dispatch)
    assert set(case.departments.values_list("code", flat=True)) == {"coastguard", "police", "gaotang", "customs"}
    assert case.warning_id == warning.pk
    # Warning.visible_to works through Task.warning(related_name="tasks")
    assert Warning.objects.visible_to(users["police"]).filter(pk=warning.pk).exists()
    assert not Warning.objects.visible_to(users["fisheries"]).filter(pk=warning.pk).exists()


def test_red_sends_all_forces_with_the_shortest_deadlines(plans, users, make_warning):
    dispatch = services.dispatch_subject(subject=make_warning(level="red"), actor=users["commander"])
    codes = {code for _, code in slots(dispatch)}
    assert {"coastguard", "maritime", "police", "gaotang", "fisheries", "customs", "tobacco", "market"} <= codes
    assert ("road", "police") in slots(dispatch) and ("shore", "police") in slots(dispatch)
    assert set(dispatch.tasks.values_list("ack_minutes", flat=True)) == {5}


def test_blue_is_a_township_check_only(plans, users, make_warning):
    dispatch = services.dispatch_subject(subject=make_warning(level="blue"), actor=users["duty"])
    assert slots(dispatch) == {("shore", "gaotang")}


def test_a_kind_with_its_own_plan_uses_it(plans, users, make_warning):
    dispatch = services.dispatch_subject(subject=make_warning(level="orange", kind="dark_vessel"), actor=users["duty"])
    assert slots(dispatch) == {("sea", "coastguard"), ("sea", "maritime"), ("shore", "fisheries")}
    assert dispatch.plan.kind == "dark_vessel"


def test_unknown_township_goes_to_the_operations_centre_for_reassignment(plans, users, make_warning):
    from apps.elements.models import Geofence

    far = Geofence.objects.create(name="无属地锚地", kind="anchorage", township="", geometry={}, centroid_lon=122.1, centroid_lat=29.1)
    dispatch = services.dispatch_subject(subject=make_warning(level="blue", geofence=far, lon=122.1, lat=29.1), actor=users["duty"])
    task = dispatch.tasks.get()
    assert task.department.code == "antismuggling"
    assert "改派" in task.instructions


def test_only_the_operations_centre_dispatches(plans, users, make_warning):
    warning = make_warning()
    with pytest.raises(PermissionDenied):
        services.dispatch_subject(subject=warning, actor=users["police"])
    with pytest.raises(PermissionDenied):
        services.dispatch_subject(subject=warning, actor=users["auditor"])
    assert not Dispatch.objects.exists()


def test_auto_dispatch_respects_the_plan_level_and_is_idempotent(plans, users, make_warning):
    blue = make_warning(level="blue")
    assert services.warning_auto_dispatch(warning_id=blue.pk) is None
    assert not Task.objects.filter(warning=blue).exists()

    warning = make_warning(level="orange")
    dispatch_id = auto_dispatch_warning.delay(warning.pk).get()  # the Celery task (eager in unit tests)
    dispatch = Dispatch.objects.get(pk=dispatch_id)
    assert dispatch.auto and dispatch.created_by is None
    first = set(Task.objects.filter(warning=warning).values_list("pk", flat=True))
    assert len(first) == 4

    # the same episode goes on: the warning is updated, the task is called again → nothing new
    warning.score = 78
    warning.end = timezone.now()
    warning.save()
    auto_dispatch_warning.delay(warning.pk)
    services.warning_auto_dispatch(warning_id=warning.pk)
    assert set(Task.objects.filter(warning=warning).values_list("pk", flat=True)) == first
    assert Dispatch.objects.filter(warning=warning).count() == 1

    # escalated to red: red's extra subtasks are added, the existing ones are not duplicated
    warning.level = "red"
    warning.save()
    services.warning_auto_dispatch(warning_id=warning.pk)
    tasks = Task.objects.filter(warning=warning)
    assert first < set(tasks.values_list("pk", flat=True))
    assert tasks.count() == len(ANY_PLAN["red"])  # orange's four slots are all among red's
    per_slot = {}
    for t in tasks:
        per_slot[t.slot] = per_slot.get(t.slot, 0) + 1
    assert max(per_slot.values()) == 1
    dispatch.refresh_from_db()
    assert dispatch.level == "red"


def test_auto_dispatch_ignores_missing_closed_and_false_alarm_warnings(plans, make_warning):
    assert services.warning_auto_dispatch(warning_id=987654) is None
    w = make_warning(level="red", status=Warning.Status.FALSE_ALARM)
    assert services.warning_auto_dispatch(warning_id=w.pk) is None
    assert not Dispatch.objects.exists()


def test_any_model_can_be_dispatched_with_the_duty_officers_level(plans, users, pier):
    # a subject with no dispatch_* protocol: str(subject) and the chosen level
    with pytest.raises(ValidationError) as exc:
        services.dispatch_subject(subject=pier, actor=users["duty"])
    assert "等级" in str(exc.value)
    dispatch = services.dispatch_subject(subject=pier, actor=users["duty"], level="yellow")
    assert dispatch.title == "高塘岛闲置码头甲"
    assert dispatch.warning_id is None and dispatch.subject == pier
    assert dispatch.tasks.count() == len(ANY_PLAN["yellow"])
    assert not dispatch.tasks.filter(warning__isnull=False).exists()


def test_subject_protocol_is_used(plans, users, pier, monkeypatch):
    from apps.elements.models import Geofence

    monkeypatch.setattr(Geofence, "dispatch_title", lambda self: f"冷库发现来源不明冻品（{self.name}）", raising=False)
    monkeypatch.setattr(Geofence, "dispatch_level", lambda self: "orange", raising=False)
    monkeypatch.setattr(Geofence, "dispatch_kind", lambda self: "illegal_goods", raising=False)
    monkeypatch.setattr(Geofence, "dispatch_township", lambda self: "鹤浦", raising=False)
    dispatch = services.dispatch_subject(subject=pier, actor=users["duty"])
    assert dispatch.title.startswith("冷库发现来源不明冻品")
    assert dispatch.level == "orange" and dispatch.kind == "illegal_goods"
    assert {code for _, code in slots(dispatch)} == {"market", "customs", "police"}


def test_dispatch_api(plans, users, make_warning, api_for):
    warning = make_warning(level="yellow")
    url = "/api/enforcement/dispatch/"
    assert api_for(users["police"]).post(url, {"subject_type": "warning", "subject_id": warning.pk}).status_code == 403
    assert api_for(users["auditor"]).post(url, {"subject_type": "warning", "subject_id": warning.pk}).status_code == 403
    assert api_for().post(url, {"subject_type": "warning", "subject_id": warning.pk}).status_code in (401, 403)

    bad = api_for(users["duty"]).post(url, {"subject_type": "boat", "subject_id": 1}, format="json")
    assert bad.status_code == 400 and "不支持的派发对象类型" in str(bad.json())
    missing = api_for(users["duty"]).post(url, {"subject_type": "warning", "subject_id": 999999}, format="json")
    assert missing.status_code == 400 and "找不到" in str(missing.json())
    nonsense = api_for(users["duty"]).post(url, {"subject_type": "warning", "subject_id": "abc"}, format="json")
    assert nonsense.status_code == 400

    ok = api_for(users["duty"]).post(url, {"subject_type": "warning", "subject_id": warning.pk, "level": "orange"}, format="json")
    assert ok.status_code == 201, ok.content
    body = ok.json()
    assert body["level"] == "orange" and body["subject_type"] == "warning"
    assert {t["department"] for t in body["tasks"]} == {"海警工作站", "县公安局", "高塘岛乡", "海关"}
    assert body["case"]["number"].startswith("XS")
    # the same click again changes nothing
    again = api_for(users["duty"]).post(url, {"subject_type": "warning", "subject_id": warning.pk, "level": "orange"}, format="json")
    assert again.status_code == 201 and len(again.json()["tasks"]) == 4
    # dispatched warnings leave the board's one-click list
    listed = api_for(users["duty"]).get("/api/enforcement/dispatchable/").json()
    assert warning.pk not in [w["id"] for w in listed]


def test_registered_subject_types_are_dispatchable_through_the_api(plans, users, pier, api_for):
    register_subject_type("pier", "elements.Geofence", label="码头")
    try:
        types = api_for(users["duty"]).get("/api/enforcement/subject-types/").json()
        assert {"warning", "pier"} <= {t["name"] for t in types}
        res = api_for(users["duty"]).post("/api/enforcement/dispatch/", {"subject_type": "pier", "subject_id": pier.pk, "level": "blue"}, format="json")
        assert res.status_code == 201
        assert res.json()["subject_type"] == "pier"
    finally:
        _REGISTRY.pop("pier", None)


def test_plans_api_edit_and_validation(plans, users, api_for, departments):
    plan = plans["any"]
    assert api_for(users["police"]).get("/api/enforcement/plans/").status_code == 200
    payload = {"plan": plan.pk, "level": "yellow", "sector": "market", "department": departments["market"].pk,
               "title": "冷库排查", "ack_minutes": 30, "arrive_minutes": 120, "feedback_minutes": 720}
    assert api_for(users["police"]).post("/api/enforcement/plan-subtasks/", payload, format="json").status_code == 403
    bad = api_for(users["duty"]).post("/api/enforcement/plan-subtasks/", {**payload, "ack_minutes": 500}, format="json")
    assert bad.status_code == 400 and "签收 ≤ 到场 ≤ 反馈" in str(bad.json())
    res = api_for(users["duty"]).post("/api/enforcement/plan-subtasks/", payload, format="json")
    assert res.status_code == 201, res.content
    assert plan.subtasks.filter(level="yellow", department__code="market").exists()
    changed = api_for(users["commander"]).patch(f"/api/enforcement/plans/{plan.pk}/", {"auto_dispatch_min_level": "yellow"}, format="json")
    assert changed.status_code == 200
    assert DispatchPlan.objects.get(pk=plan.pk).auto_dispatch_min_level == "yellow"
    bad_level = api_for(users["commander"]).patch(f"/api/enforcement/plans/{plan.pk}/", {"auto_dispatch_min_level": "purple"}, format="json")
    assert bad_level.status_code == 400


def test_a_subject_with_only_a_position_goes_to_the_township_of_the_nearest_place(plans, users, pier, monkeypatch):
    from apps.elements.models import Geofence

    far = Geofence.objects.create(name="远处锚地", kind="anchorage", township="", geometry={}, centroid_lon=122.5, centroid_lat=29.5)
    near_lon, near_lat = 121.957, 29.207  # ~300 m from the Gaotang pier's centroid
    monkeypatch.setattr(Geofence, "lon", near_lon, raising=False)
    monkeypatch.setattr(Geofence, "lat", near_lat, raising=False)
    dispatch = services.dispatch_subject(subject=far, actor=users["duty"], level="blue")
    assert dispatch.township == "高塘岛乡"
    assert dispatch.tasks.get().department.code == "gaotang"
