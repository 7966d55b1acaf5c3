"""Notification fixtures: local gateways (DingTalk, WeCom, Tencent SMS, a county SMS gateway) and channels to them."""
from __future__ import annotations

import os
import time

import pytest

from tests.enforcement.conftest import make_warning, pier, plans  # noqa: F401  (shared fixtures)

from .gateways import Gateways, start

# the real worker (started once per session) must retry quickly: its settings come from the environment
os.environ.setdefault("NOTIFY_RETRY_BASE_S", "0.2")


def until(check, what, timeout_s: float = 90) -> None:
    """Wait for the real worker (its pace, not a timing assertion); ``what()`` explains a time-out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(what())


@pytest.fixture
def worker_idle_after(celery_worker_process):
    """Live tests: let the worker finish the deliveries a test set off before the database is flushed."""
    yield
    from tests.conftest import wait_worker_idle

    wait_worker_idle(60)


@pytest.fixture
def gw():
    gateways = Gateways()
    server = start(gateways)
    yield gateways
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_retry(settings):
    settings.NOTIFY_RETRY_BASE_S = 0.01
    settings.NOTIFY_MAX_ATTEMPTS = 3


@pytest.fixture
def wired(gw, users, departments, fast_retry):
    """Police on DingTalk (加签), coast guard on WeCom, the county's Tencent SMS account; phones on file."""
    from apps.notifications.models import Channel
    from apps.notifications.services import channel_save

    commander = users["commander"]
    police, coastguard = departments["police"], departments["coastguard"]
    police.phone = "0574-65700110"
    police.save()
    head = users["police_head"]
    head.phone = "13800000001"
    head.save()
    dt = channel_save(actor=commander, name="公安值班群", kind=Channel.Kind.DINGTALK, department=police,
                      secrets={"webhook": f"{gw.base}/robot/send?access_token={gw.dingtalk_token}", "secret": gw.dingtalk_secret})
    wc = channel_save(actor=commander, name="海警工作群", kind=Channel.Kind.WECOM, department=coastguard,
                      secrets={"webhook": f"{gw.base}/cgi-bin/webhook/send?key={gw.wecom_key}"})
    sms = channel_save(actor=commander, name="全县短信", kind=Channel.Kind.SMS_TENCENT,
                       options={"endpoint": f"{gw.base}/", "sdk_app_id": "1400000001", "sign_name": "象山打私", "template_id": "100001"},
                       secrets={"secret_id": gw.tencent_id, "secret_key": gw.tencent_key})
    return {"dingtalk": dt, "wecom": wc, "sms": sms, "head": head, "police": police}
