"""Red warnings reach phones: the right messages to the right gateways, retries on 5xx only, escalation to SMS."""
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.enforcement import services
from apps.enforcement.models import Task, TaskEvent
from apps.notifications import services as notify_services
from apps.notifications.models import Attempt, Notification

pytestmark = pytest.mark.django_db


def red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="red"):
    with django_capture_on_commit_callbacks(execute=True):
        return services.dispatch_subject(subject=make_warning(level=level), actor=users["duty"])


def test_a_red_warning_reaches_the_robots_and_the_phones(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks)
    police_tasks = list(dispatch.tasks.filter(department__code="police"))
    coast_tasks = list(dispatch.tasks.filter(department__code="coastguard"))

    # DingTalk: one signed markdown message per police task, linking to the task
    dingtalk = gw.accepted("/robot/send")
    assert len(dingtalk) == len(police_tasks) == 2
    texts = [r.body["markdown"]["text"] for r in dingtalk]
    for task in police_tasks:
        assert any(task.title in t and f"/enforcement/inbox/?task={task.pk}" in t for t in texts)
    assert all("红色" in r.body["markdown"]["title"] for r in dingtalk)
    # WeCom: the coast guard's group robot
    wecom = gw.accepted("/cgi-bin/webhook/send")
    assert len(wecom) == len(coast_tasks) == 1 and coast_tasks[0].title in wecom[0].body["markdown"]["content"]
    # SMS (TC3-signed): the police duty phone and the police head, for each police task; nobody else has a phone
    phones = sorted(p for r in gw.accepted("/") for p in r.body["PhoneNumberSet"])
    assert phones == sorted(["+8605746570011" + "0", "+8613800000001"] * 2)
    assert not [r for r in gw.received if not r.accepted]

    rows = Notification.objects.filter(task__dispatch=dispatch)
    assert rows.count() == 2 + 1 + 4 and set(rows.values_list("state", flat=True)) == {"accepted"}
    assert set(rows.values_list("reason", flat=True)) == {"dispatch"}
    assert all(n.attempts.count() == 1 and n.attempts.get().outcome == "accepted" for n in rows)

    # dispatching the same warning again sends nothing twice
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_subject(subject=dispatch.warning, actor=users["duty"], level="red")
    assert len(gw.received) == 2 + 1 + 4


def test_yellow_and_blue_stay_in_the_inbox(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="yellow")
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="blue")
    assert gw.received == [] and not Notification.objects.exists()


def test_orange_goes_to_the_robots_only(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    assert len(gw.accepted("/robot/send")) == 1 and len(gw.accepted("/cgi-bin/webhook/send")) == 1
    assert gw.accepted("/") == []


def test_a_gateway_500_is_retried_with_backoff_and_then_accepted(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.fail_next("/robot/send", 500)
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["dingtalk"])
    assert n.state == "accepted" and n.attempt_count == 2
    first, second = n.attempts.order_by("number")
    assert (first.outcome, first.http_status) == ("retry", 500) and "HTTP 500" in first.detail
    assert second.outcome == "accepted"
    assert len(gw.accepted("/robot/send")) == 1


def test_backoff_doubles_and_is_capped(settings):
    settings.NOTIFY_RETRY_BASE_S = 30
    assert [notify_services.retry_delay_s(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert notify_services.retry_delay_s(20) == 3600


def test_a_gateway_400_is_not_retried_and_shows_failed_without_the_token(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.fail_next("/robot/send", 400)
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["dingtalk"])
    assert n.state == "failed" and n.attempt_count == 1 and "HTTP 400" in n.last_error
    assert n.attempts.get().outcome == "failed" and n.attempts.get().http_status == 400
    assert gw.dingtalk_token not in n.last_error and gw.dingtalk_secret not in n.last_error
    assert len([r for r in gw.received if r.path == "/robot/send"]) == 1


def test_retries_stop_after_the_last_attempt(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.fail_next("/cgi-bin/webhook/send", 503, times=5)
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["wecom"])
    assert n.state == "failed" and n.attempt_count == 3  # NOTIFY_MAX_ATTEMPTS in these tests
    assert list(n.attempts.values_list("outcome", flat=True)) == ["retry", "retry", "failed"]


def test_a_refused_signature_is_final(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.dingtalk_secret = "SECsomething-else"  # the robot's secret was changed in DingTalk
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["dingtalk"])
    assert n.state == "failed" and n.attempt_count == 1 and n.attempts.get().gateway_code == "310000"


def test_a_wrong_sms_key_is_refused_by_the_gateway(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.tencent_key = "rotated-in-the-console"
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks)
    sms = Notification.objects.filter(route="sms")
    assert sms.count() == 4 and set(sms.values_list("state", flat=True)) == {"failed"}
    assert set(Attempt.objects.filter(notification__route="sms").values_list("gateway_code", flat=True)) == {"AuthFailure.SignatureFailure"}


def test_an_unacknowledged_red_task_escalates_to_sms_at_its_deadline(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks)
    task = dispatch.tasks.filter(department__code="police").first()
    other = dispatch.tasks.filter(department__code="police").exclude(pk=task.pk).get()
    services.task_acknowledge(task=other, actor=users["police"])
    gw.received.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.tasks_escalate_overdue(now=task.ack_due_at - timedelta(seconds=1)) == []
    assert gw.received == []
    with django_capture_on_commit_callbacks(execute=True):
        escalated = services.tasks_escalate_overdue(now=task.ack_due_at + timedelta(seconds=1))
    assert task.pk in escalated and other.pk not in escalated

    sms = [r for r in gw.accepted("/") if any(task.title in p for p in r.body["TemplateParamSet"])]
    assert sorted(p for r in sms for p in r.body["PhoneNumberSet"]) == ["+8605746570011" + "0", "+8613800000001"]
    assert all(r.body["TemplateParamSet"][0].startswith("任务超时升级") for r in sms)
    rows = Notification.objects.filter(task=task, reason="escalation", route="sms")
    assert rows.count() == 2 and set(rows.values_list("state", flat=True)) == {"accepted"}
    event = TaskEvent.objects.get(task=task, kind="escalated")
    assert event.note.startswith("未按时签收") and "短信" in event.note
    # the beat runs again a minute later: no second round
    gw.received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.tasks_escalate_overdue(now=task.ack_due_at + timedelta(minutes=1))
    assert gw.received == []


def test_a_redelivered_message_never_sends_twice(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    from apps.notifications.tasks import deliver

    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["dingtalk"])
    deliver.delay(n.pk)  # the broker hands the same message out again
    assert len(gw.received) == 2 and Notification.objects.get(pk=n.pk).attempt_count == 1

    # a worker died while sending: the claim stays, a redelivery does nothing, the sweep says "unknown"
    Notification.objects.filter(pk=n.pk).update(state="sending", sending_since=timezone.now())
    deliver.delay(n.pk)
    assert len(gw.received) == 2
    Notification.objects.filter(pk=n.pk).update(sending_since=timezone.now() - timedelta(minutes=11))
    assert notify_services.notifications_sweep()["unknown"] == 1
    n.refresh_from_db()
    assert n.state == "failed" and "未知" in n.last_error and len(gw.received) == 2


def test_an_operator_resends_a_failed_notification(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    gw.fail_next("/robot/send", 404)
    dispatch = red_dispatch(make_warning, users, django_capture_on_commit_callbacks, level="orange")
    n = Notification.objects.get(task__dispatch=dispatch, channel=wired["dingtalk"])
    assert n.state == "failed"
    with pytest.raises(Exception):
        notify_services.notification_resend(notification=n, actor=users["police"])
    with django_capture_on_commit_callbacks(execute=True):
        notify_services.notification_resend(notification=n, actor=users["duty"])
    n.refresh_from_db()
    assert n.state == "accepted" and n.attempt_count == 2


def test_no_sms_gateway_is_recorded_as_failed(plans, make_warning, users, wired, gw, django_capture_on_commit_callbacks):
    wired["sms"].delete()
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks)
    sms = Notification.objects.filter(route="sms")
    assert sms.count() == 4 and all(n.state == "failed" and "未配置短信网关" in n.last_error for n in sms)
    assert gw.accepted("/") == []


def test_a_county_sms_gateway_and_env_secrets(plans, make_warning, users, wired, gw, monkeypatch, django_capture_on_commit_callbacks):
    from apps.notifications.models import Channel
    from apps.notifications.services import channel_save

    wired["sms"].delete()
    monkeypatch.setenv("XS_COUNTY_SMS_TOKEN", gw.http_token)
    channel_save(actor=users["commander"], name="县自建短信网关", kind=Channel.Kind.SMS_HTTP,
                 secrets={"url": f"{gw.base}/county-sms", "token": "env:XS_COUNTY_SMS_TOKEN"})
    red_dispatch(make_warning, users, django_capture_on_commit_callbacks)
    got = gw.accepted("/county-sms")
    assert len(got) == 4 and {r.body["phone"] for r in got} == {"0574-65700110", "13800000001"}
    assert all("红色" in r.body["text"] for r in got)


def test_messages_about_a_tip_carry_no_tipster_identity(plans, users, wired, gw, django_capture_on_commit_callbacks):
    from apps.reporting import services as reporting

    receipt = reporting.tip_submit(
        category="boat_unloading", description="凌晨有船在高塘码头卸货，疑似走私冻品，请尽快核查", place_text="高塘岛乡码头",
        contact_name="王小明", contact_phone="13912345678",
    )
    reporting.tip_triage(tip=receipt.tip, actor=users["duty"], outcome="useful")
    with django_capture_on_commit_callbacks(execute=True):
        reporting.tip_dispatch(tip=receipt.tip, actor=users["duty"], level="red")
    sent = str([r.body for r in gw.received]) + str(list(Notification.objects.values_list("title", "body")))
    assert gw.accepted("/robot/send") and "王小明" not in sent and "13912345678" not in sent
