"""Email through Django's mail backend, absolute task links, personal channels, key rotation of channel secrets."""
import pytest
from django.core import mail

from apps.enforcement import services
from apps.notifications.models import Channel, Notification
from apps.notifications.services import channel_save, channels_rotate_keys

pytestmark = pytest.mark.django_db


def test_a_plan_that_says_email_mails_the_department_list(plans, make_warning, users, departments, wired, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PUBLIC_BASE_URL = "https://xs.example.gov.cn"
    channel_save(actor=users["commander"], name="公安值班邮箱", kind=Channel.Kind.EMAIL, department=departments["police"],
                 options={"to": ["duty@police.example.gov.cn"]})
    plan = next(p for p in (plans if isinstance(plans, list) else plans.values()) if p.kind == "any")
    plan.channels = {**plan.channels, "blue": {"notify": ["email"], "escalate": []}}
    plan.save()
    with django_capture_on_commit_callbacks(execute=True):
        dispatch = services.dispatch_subject(subject=make_warning(level="blue"), actor=users["duty"])
    task = dispatch.tasks.get()
    if task.department.code != "police":  # the blue plan goes to the township; send the police one by reassigning
        with django_capture_on_commit_callbacks(execute=True):
            services.task_reassign(task=task, actor=users["duty"], department=departments["police"])
    assert [m.to for m in mail.outbox] == [["duty@police.example.gov.cn"]]
    assert f"https://xs.example.gov.cn/enforcement/inbox/?task={task.pk}" in mail.outbox[0].body
    assert Notification.objects.get(route="email").state == "accepted"


def test_a_person_with_their_own_robot(users, gw, fast_retry, django_capture_on_commit_callbacks):
    from apps.core import notify

    channel_save(actor=users["police"], name="我的钉钉", kind=Channel.Kind.DINGTALK, user=users["police"],
                 secrets={"webhook": f"{gw.base}/robot/send?access_token={gw.dingtalk_token}", "secret": gw.dingtalk_secret})
    with django_capture_on_commit_callbacks(execute=True):
        notify.send(notify.Notification(recipient="user:police1", title="测试", body="个人通道"))
    assert len(gw.accepted("/robot/send")) == 1
    with pytest.raises(Exception):  # not someone else's
        channel_save(actor=users["police"], name="别人的", kind=Channel.Kind.WECOM, user=users["coastguard"],
                     secrets={"webhook": f"{gw.base}/cgi-bin/webhook/send?key=x"})


def test_channel_secrets_rotate_to_the_first_key(users, settings, gw):
    from cryptography.fernet import Fernet

    from apps.notifications import sealing

    ch = channel_save(actor=users["commander"], name="群", kind=Channel.Kind.WECOM, secrets={"webhook": f"{gw.base}/x?key=abc"})
    old = ch.secrets_sealed
    settings.TIPSTER_KEYS = [Fernet.generate_key().decode(), *settings.TIPSTER_KEYS]
    assert channels_rotate_keys() == 1
    ch.refresh_from_db()
    assert ch.secrets_sealed != old
    settings.TIPSTER_KEYS = settings.TIPSTER_KEYS[:1]  # the old key dropped
    assert sealing.resolve(ch.secrets_sealed)["webhook"].endswith("key=abc")


def test_gateway_hosts_can_be_limited(users, gw, settings, fast_retry, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    from apps.core import notify

    ch = channel_save(actor=users["commander"], name="群", kind=Channel.Kind.WECOM, department=users["police"].department,
                      secrets={"webhook": f"{gw.base}/cgi-bin/webhook/send?key={gw.wecom_key}"})
    settings.NOTIFY_ALLOWED_HOSTS = ["qyapi.weixin.qq.com"]
    with pytest.raises(ValidationError):
        channel_save(actor=users["commander"], name="内网", kind=Channel.Kind.WECOM, secrets={"webhook": "http://10.0.0.5/admin?key=x"})
    with django_capture_on_commit_callbacks(execute=True):
        notify.send(notify.Notification(recipient="dept:police", title="测试", body="主机名单"))
    n = Notification.objects.get(channel=ch)
    assert n.state == "failed" and "NOTIFY_ALLOWED_HOSTS" in n.last_error and gw.received == []
