"""On a REAL Celery worker (Redis broker, PostgreSQL): a red dispatch is delivered, a 500 retried, an overdue red task escalated by SMS."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.enforcement import services
from apps.enforcement.models import Task
from apps.notifications.models import Notification

from .conftest import until

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_idle_after")]

FINAL = {"accepted", "failed"}


def wait_final(qs, count: int) -> list[Notification]:
    """Block until ``count`` notifications of ``qs`` are accepted or failed."""
    until(lambda: qs.filter(state__in=FINAL).count() >= count, lambda: list(qs.values_list("state", flat=True)))
    return list(qs.filter(state__in=FINAL))


def test_red_dispatch_retry_and_escalation_on_the_worker(celery_worker_process, plans, make_warning, users, wired, gw):
    from django.conf import settings

    assert not settings.CELERY_TASK_ALWAYS_EAGER and celery_worker_process is not None
    gw.fail_next("/robot/send", 500)  # the first DingTalk request meets an outage
    dispatch = services.dispatch_subject(subject=make_warning(level="red"), actor=users["duty"])

    rows = wait_final(Notification.objects.filter(task__dispatch=dispatch), 7)
    assert {n.state for n in rows} == {"accepted"}
    robot = [n for n in rows if n.channel_kind == "dingtalk"]
    assert sorted(n.attempt_count for n in robot) == [1, 2]
    retried = next(n for n in robot if n.attempt_count == 2)
    assert list(retried.attempts.values_list("outcome", "http_status")) == [("retry", 500), ("accepted", 200)]
    assert len(gw.accepted("/robot/send")) == 2 and len(gw.accepted("/")) == 4

    # the ack deadline of one police task passes unanswered: the beat job (on the worker) escalates it by SMS
    task = dispatch.tasks.filter(department__code="police").first()
    Task.objects.filter(pk=task.pk).update(ack_due_at=timezone.now() - timedelta(seconds=5))
    from apps.enforcement.tasks import escalate_overdue

    escalated = escalate_overdue.delay().get(timeout=60)
    assert task.pk in escalated
    sms = wait_final(Notification.objects.filter(task=task, reason="escalation", route="sms"), 2)
    assert {n.state for n in sms} == {"accepted"}
    texts = [r.body["TemplateParamSet"][0] for r in gw.accepted("/")]
    assert sum(t.startswith("任务超时升级") and task.title in t for t in texts) == 2
