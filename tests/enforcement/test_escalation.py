"""Overdue tasks are escalated by the scheduled job to the department head and the operations centre."""
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone

from apps.core import live
from apps.enforcement import services
from apps.enforcement.models import Task, TaskEvent
from apps.enforcement.tasks import escalate_overdue

pytestmark = pytest.mark.django_db


def listen(group):
    """Subscribe to a live group; returns a function giving the next pushed message (at most 10 s wait).

    With Redis (production) the push reaches the channel layer; on the embedded default a
    process without the web server writes it to the core outbox, which is read instead.
    """
    import asyncio

    from channels.layers import InMemoryChannelLayer

    from apps.core.models import LiveEvent

    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):
        def from_outbox():
            row = LiveEvent.objects.filter(group=group).order_by("id").first()
            assert row is not None, f"nothing pushed to {group}"
            row.delete()
            return {"event": row.event, "payload": row.payload}

        return from_outbox
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), timeout=10)

    return lambda: async_to_sync(receive)()


@pytest.fixture
def dispatch(plans, users, make_warning):
    return services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"])


def test_the_job_is_on_the_beat_schedule():
    from xiangshan.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["enforcement.escalate_overdue"]
    assert entry["task"] == "enforcement.escalate_overdue" and entry["schedule"] == 60.0
    assert app.conf.beat_schedule["enforcement.escalate_overdue"]["task"] == "enforcement.escalate_overdue"
    assert "enforcement.escalate_overdue" in app.tasks


def test_the_beat_scheduler_writes_the_periodic_task(db):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from xiangshan.celery import app

    # what DatabaseScheduler.update_from_dict does for each settings entry when beat starts
    DatabaseScheduler.Entry.from_entry("enforcement.escalate_overdue", app=app,
                                       **app.conf.beat_schedule["enforcement.escalate_overdue"])
    row = PeriodicTask.objects.get(name="enforcement.escalate_overdue")
    assert row.task == "enforcement.escalate_overdue" and row.enabled
    assert row.interval.every == 60 and row.interval.period == "seconds"


def test_overdue_tasks_are_escalated_once_and_notified(dispatch, users, recorder, django_capture_on_commit_callbacks, make_user):
    head = make_user("police_head2", "dept_head", "police")
    head.phone = "13800000000"
    head.save()
    police_task = dispatch.tasks.get(department__code="police")
    coast_task = dispatch.tasks.get(department__code="coastguard")
    Task.objects.filter(pk=police_task.pk).update(ack_due_at=timezone.now() - timedelta(minutes=3))

    dept_next = listen(live.group_department(police_task.department_id))
    head_next = listen(live.group_user(head.pk))

    with django_capture_on_commit_callbacks(execute=True):
        escalated = escalate_overdue.delay().get()  # the beat job's task (eager in unit tests)
    assert escalated == [police_task.pk]

    t = Task.objects.get(pk=police_task.pk)
    assert t.state == "escalated" and t.escalated_at and t.escalated_for == ["ack"]
    assert Task.objects.get(pk=coast_task.pk).state == "new"   # not overdue: untouched
    event = TaskEvent.objects.get(task=t, kind="escalated")
    assert event.from_state == "new" and event.note.startswith("未按时签收") and event.actor is None
    assert "短信" in event.note  # orange: the plan re-notifies an unanswered task by SMS

    recipients = {n.recipient for n in recorder if n.title.startswith("任务超时升级")}
    assert {"user:police_head2", "user:police_head", "dept:antismuggling", "dept:police"} <= recipients
    assert all(n.channels == ("sms",) for n in recorder if n.recipient.startswith("user:"))
    assert all("码头布控" in n.title for n in recorder if n.title.startswith("任务超时升级"))

    for next_message in (dept_next, head_next):
        msg = next_message()
        assert msg["event"] == "task.escalated" and msg["payload"]["id"] == t.pk and msg["payload"]["state"] == "escalated"

    # run again: nothing more (once per missed deadline)
    recorder.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.tasks_escalate_overdue() == []
    assert recorder == []


def test_a_missed_feedback_deadline_escalates_an_acknowledged_task(dispatch, users):
    task = dispatch.tasks.get(department__code="police")
    services.task_acknowledge(task=task, actor=users["police"])
    services.task_start(task=task, actor=users["police"])
    now = timezone.now()
    assert services.tasks_escalate_overdue(now=now) == []
    escalated = services.tasks_escalate_overdue(now=task.feedback_due_at + timedelta(seconds=1))
    assert task.pk in escalated and len(escalated) == 4  # the other three never acknowledged
    t = Task.objects.get(pk=task.pk)
    assert t.state == "escalated" and t.escalated_for == ["feedback"]
    others = Task.objects.filter(dispatch=dispatch).exclude(pk=task.pk)
    assert {tuple(o.escalated_for) for o in others} == {("ack",)}


def test_closed_and_rejected_tasks_never_escalate(dispatch, users):
    police = dispatch.tasks.get(department__code="police")
    coast = dispatch.tasks.get(department__code="coastguard")
    services.task_reject(task=coast, actor=users["coastguard"], reason="无可用艇")
    services.task_acknowledge(task=police, actor=users["police"])
    services.task_start(task=police, actor=users["police"])
    services.task_submit_feedback(task=police, actor=users["police"], text="未发现异常", arrived_at=timezone.now(), result="nothing_found")
    services.task_verify(task=police, actor=users["duty"])
    later = timezone.now() + timedelta(days=3)
    escalated = services.tasks_escalate_overdue(now=later)
    assert police.pk not in escalated and coast.pk not in escalated
    assert len(escalated) == 2  # the township's and customs' tasks left alone


def test_new_task_is_pushed_and_notified(plans, users, make_warning, recorder, django_capture_on_commit_callbacks):
    next_message = listen(live.group_department(users["police"].department_id))
    with django_capture_on_commit_callbacks(execute=True):
        dispatch = services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"])
    task = dispatch.tasks.get(department__code="police")
    msg = next_message()
    assert msg["event"] == "task.new" and msg["payload"]["id"] == task.pk
    assert any(n.recipient == "dept:police" and "码头布控" in n.title for n in recorder)
