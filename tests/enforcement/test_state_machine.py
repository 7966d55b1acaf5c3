"""The task state machine: every legal path, every illegal transition refused, audited with before/after."""
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from apps.core.models import Department
from apps.enforcement import services
from apps.enforcement.models import Task, TaskEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatch(plans, users, make_warning):
    return services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"])


@pytest.fixture
def police_task(dispatch):
    return dispatch.tasks.get(department__code="police")


def fresh(task):
    return Task.objects.get(pk=task.pk)


def feedback(task, actor, **kw):
    return services.task_submit_feedback(task=task, actor=actor, text=kw.get("text", "到场核查，查获走私卷烟 120 箱，控制嫌疑人 2 名。"),
                                         arrived_at=kw.get("arrived_at", timezone.now()), result=kw.get("result", "seized"))


def test_happy_path_records_every_timestamp_and_event(police_task, users):
    police, duty = users["police"], users["duty"]
    t = services.task_acknowledge(task=police_task, actor=police)
    assert t.state == "acknowledged" and t.acknowledged_at and t.acknowledged_by == police
    assert police_task.state == "acknowledged"  # the caller's instance is refreshed too
    t = services.task_start(task=t, actor=police)
    assert t.state == "in_progress" and t.started_at
    arrived = timezone.now() - timedelta(minutes=1)
    t = feedback(t, police, arrived_at=arrived)
    assert t.state == "feedback_submitted" and t.feedback_at and t.arrived_at == arrived
    assert t.feedback_result == "seized" and t.feedback_by == police
    t = services.task_verify(task=t, actor=duty)
    assert t.state == "closed" and t.closed_at and t.closed_by == duty
    kinds = list(TaskEvent.objects.filter(task=t).values_list("kind", "from_state", "to_state"))
    assert kinds == [("created", "", "new"), ("acknowledged", "new", "acknowledged"), ("started", "acknowledged", "in_progress"),
                     ("feedback", "in_progress", "feedback_submitted"), ("verified", "feedback_submitted", "closed")]


def test_transitions_are_on_the_audit_trail_with_before_and_after(police_task, users, api_for):
    services.task_acknowledge(task=police_task, actor=users["police"])
    services.task_start(task=police_task, actor=users["police"])
    entries = LogEntry.objects.get_for_object(police_task).filter(action=LogEntry.Action.UPDATE).order_by("timestamp", "id")
    states = [e.changes_dict["state"] for e in entries if "state" in e.changes_dict]
    assert states == [["new", "acknowledged"], ["acknowledged", "in_progress"]]
    assert all(e.actor == users["police"] for e in entries)
    # and the auditor finds them through the audit API
    found = api_for(users["auditor"]).get("/api/core/audit/", {"model": "enforcement.task", "object_pk": police_task.pk}).json()
    assert any(r["changes"].get("state") == ["new", "acknowledged"] and r["actor"] == "police1" for r in found["results"])


def test_last_transition_by_api_names_the_request_user_and_address(police_task, users, client):
    client.force_login(users["police"])
    res = client.post(f"/api/enforcement/tasks/{police_task.pk}/acknowledge/", REMOTE_ADDR="10.9.8.7")
    assert res.status_code == 200, res.content
    entry = LogEntry.objects.get_for_object(police_task).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["state"] == ["new", "acknowledged"]
    assert entry.actor == users["police"] and entry.remote_addr == "10.9.8.7"


def test_state_cannot_be_set_by_hand(police_task):
    with pytest.raises(AttributeError):
        police_task.state = "closed"


def to_state(task, state, users):
    """Bring a task into ``state`` through the services only."""
    police, duty = users["police"], users["duty"]
    if state == "new":
        return fresh(task)
    if state == "escalated":
        Task.objects.filter(pk=task.pk).update(ack_due_at=timezone.now() - timedelta(minutes=1))
        services.tasks_escalate_overdue()
        return fresh(task)
    if state == "rejected":
        return services.task_reject(task=task, actor=police, reason="不属于本部门职责")
    t = services.task_acknowledge(task=task, actor=police)
    if state == "acknowledged":
        return t
    t = services.task_start(task=t, actor=police)
    if state == "in_progress":
        return t
    t = feedback(t, police)
    if state == "feedback_submitted":
        return t
    return services.task_verify(task=t, actor=duty)


def attempt(task, action, users):
    police, duty, dept = users["police"], users["duty"], Department.objects.get(code="hepu")
    calls = {
        "acknowledge": lambda: services.task_acknowledge(task=task, actor=police),
        "start": lambda: services.task_start(task=task, actor=police),
        "feedback": lambda: feedback(task, police),
        "verify": lambda: services.task_verify(task=task, actor=duty),
        "send_back": lambda: services.task_send_back(task=task, actor=duty, reason="反馈不完整"),
        "reject": lambda: services.task_reject(task=task, actor=police, reason="非本部门职责"),
        "reassign": lambda: services.task_reassign(task=task, actor=duty, department=dept),
    }
    return calls[action]()


LEGAL = {
    "new": {"acknowledge", "reject", "reassign"},
    "acknowledged": {"start", "reject"},
    "in_progress": {"feedback"},
    "feedback_submitted": {"verify", "send_back"},
    "closed": set(),
    "rejected": {"reassign"},
    "escalated": {"acknowledge", "reject", "reassign"},  # escalated before acknowledging
}
ACTIONS = ["acknowledge", "start", "feedback", "verify", "send_back", "reject", "reassign"]
TARGET = {"acknowledge": "acknowledged", "start": "in_progress", "feedback": "feedback_submitted", "verify": "closed",
          "send_back": "in_progress", "reject": "rejected", "reassign": "new"}


@pytest.mark.parametrize("state", list(LEGAL))
@pytest.mark.parametrize("action", ACTIONS)
def test_every_transition_from_every_state(state, action, police_task, users):
    task = to_state(police_task, state, users)
    assert task.state == state
    if action in LEGAL[state]:
        done = attempt(task, action, users)
        assert done.state == TARGET[action]
        assert fresh(task).state == TARGET[action]
    else:
        with pytest.raises(services.TransitionRefused) as exc:
            attempt(task, action, users)
        assert exc.value.state == state
        assert "任务当前状态为" in exc.value.messages[0] and "不能执行" in exc.value.messages[0]
        assert fresh(task).state == state  # nothing changed


def test_escalated_task_continues_where_it_stopped(police_task, users):
    police = users["police"]
    t = services.task_acknowledge(task=police_task, actor=police)
    Task.objects.filter(pk=t.pk).update(feedback_due_at=timezone.now() - timedelta(minutes=1))
    assert services.tasks_escalate_overdue() == [t.pk]
    t = fresh(t)
    assert t.state == "escalated" and t.escalated_for == ["feedback"]
    with pytest.raises(services.TransitionRefused):  # already acknowledged
        services.task_acknowledge(task=t, actor=police)
    t = services.task_start(task=t, actor=police)
    assert t.state == "in_progress"
    t = feedback(t, police)
    assert t.state == "feedback_submitted"


def test_reject_then_reassign_moves_the_task_to_another_department(police_task, users, api_for):
    t = services.task_reject(task=police_task, actor=users["police"], reason="该码头由边防派出所负责")
    assert t.state == "rejected" and t.reject_reason
    hepu = Department.objects.get(code="hepu")
    t = services.task_reassign(task=t, actor=users["duty"], department=hepu, note="属地镇处置")
    assert t.state == "new" and t.department == hepu and t.reassign_count == 1
    assert t.acknowledged_at is None and t.reject_reason == ""
    assert t.ack_due_at > timezone.now()
    assert hepu in t.dispatch.case.departments.all()
    # the police no longer see it; the new department does
    assert api_for(users["police"]).get(f"/api/enforcement/tasks/{t.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.task_acknowledge(task=t, actor=users["police"])


def test_reassign_to_the_same_department_is_refused(police_task, users):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="不能与当前部门相同"):
        services.task_reassign(task=police_task, actor=users["duty"], department=police_task.department)


def test_send_back_and_feedback_again(police_task, users):
    t = to_state(police_task, "feedback_submitted", users)
    t = services.task_send_back(task=t, actor=users["duty"], reason="请补充现场照片")
    assert t.state == "in_progress"
    t = feedback(t, users["police"], text="补充：现场照片已上传，货物已移交海关。")
    assert t.state == "feedback_submitted"


def test_feedback_input_is_checked_in_chinese(police_task, users):
    from django.core.exceptions import ValidationError

    t = to_state(police_task, "in_progress", users)
    with pytest.raises(ValidationError) as exc:
        services.task_submit_feedback(task=t, actor=users["police"], text=" ", arrived_at="", result="bogus")
    errors = exc.value.message_dict
    assert "请填写处置反馈内容。" in errors["text"] and "请选择处置结果。" in errors["result"]
    assert "请填写到场时间。" in errors["arrived_at"]
    with pytest.raises(ValidationError, match="不能晚于当前时间"):
        feedback(t, users["police"], arrived_at=timezone.now() + timedelta(hours=2))
    with pytest.raises(ValidationError, match="不能早于任务派发时间"):
        feedback(t, users["police"], arrived_at=timezone.now() - timedelta(days=2))
    assert fresh(t).state == "in_progress"


def test_illegal_transition_over_the_api_is_409_with_state_and_allowed(police_task, users, api_for):
    police = api_for(users["police"])
    res = police.post(f"/api/enforcement/tasks/{police_task.pk}/start/")
    assert res.status_code == 409
    body = res.json()
    assert body["state"] == "new" and body["state_label"] == "待签收"
    assert {a["name"] for a in body["allowed"]} == {"acknowledge", "reject"}
    assert "不能执行「开始处置」" in body["detail"]
    assert police.post(f"/api/enforcement/tasks/{police_task.pk}/acknowledge/").status_code == 200
    again = police.post(f"/api/enforcement/tasks/{police_task.pk}/acknowledge/")
    assert again.status_code == 409 and again.json()["state"] == "acknowledged"


def test_api_full_path_with_feedback_form(police_task, users, api_for, media, png):
    police, duty = api_for(users["police"]), api_for(users["duty"])
    base = f"/api/enforcement/tasks/{police_task.pk}/"
    assert police.post(base + "acknowledge/").json()["state"] == "acknowledged"
    assert police.post(base + "start/").json()["state"] == "in_progress"
    res = police.post(base + "feedback/", {"text": "查获走私冻品 20 吨", "result": "seized",
                                           "arrived_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                                           "attachments": [png("scene.png")]}, format="multipart")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["state"] == "feedback_submitted" and len(body["attachments"]) == 1
    assert body["attachments"][0]["content_type"] == "image/png"
    assert duty.post(base + "verify/").json()["state"] == "closed"


def test_the_warning_closes_when_all_its_tasks_are_verified(dispatch, users, more_users):
    from apps.elements.models import Warning

    actors = {"police": users["police"], "coastguard": users["coastguard"], "customs": users["customs"], "gaotang": more_users["gaotang"]}
    tasks = list(dispatch.tasks.select_related("department"))
    for i, task in enumerate(tasks):
        actor = actors[task.department.code]
        t = services.task_acknowledge(task=task, actor=actor)
        t = services.task_start(task=t, actor=actor)
        t = feedback(t, actor, result="nothing_found", text="到场核查，未发现异常情况。")
        services.task_verify(task=t, actor=users["duty"])
        expected = Warning.Status.CLOSED if i == len(tasks) - 1 else Warning.Status.DISPATCHED
        assert Warning.objects.get(pk=dispatch.warning_id).status == expected
    entry = LogEntry.objects.get_for_object(dispatch.warning).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["status"] == ["dispatched", "closed"] and entry.actor == users["duty"]
