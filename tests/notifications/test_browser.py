"""In a real headless Chromium (daphne, Redis, a real Celery worker): the delivery line on task cards, the
operations page with attempts and resend, a channel saved from the page without its secret shown, the cockpit panel."""
from __future__ import annotations

import pytest

from .conftest import until

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("worker_idle_after")]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _settled(qs):
    until(lambda: not qs.exclude(state__in=["accepted", "failed"]).exists(), lambda: list(qs.values_list("state", flat=True)))


def test_deliveries_on_cards_and_the_operations_page(users, wired, gw, plans, make_warning, login_page, live_server_url, celery_worker_process):
    from playwright.sync_api import expect

    from apps.enforcement import services
    from apps.notifications.models import Notification

    gw.fail_next("/robot/send", 400)  # one DingTalk message is refused
    dispatch = services.dispatch_subject(subject=make_warning(level="red"), actor=users["duty"])
    rows = Notification.objects.filter(task__dispatch=dispatch)
    _settled(rows)
    assert rows.filter(state="failed").count() == 1

    officer = login_page(users["police"])
    officer.goto(f"{live_server_url}/enforcement/inbox/")
    card = officer.locator("article.task-card .t-notify").first
    expect(card).to_contain_text("短信", timeout=TIMEOUT_MS)
    expect(card).to_contain_text("网关已接收")

    duty = login_page(users["duty"])
    duty.goto(f"{live_server_url}/notifications/")
    expect(duty.locator("#notifications tbody tr")).to_have_count(rows.count(), timeout=TIMEOUT_MS)
    failed_row = duty.locator("#notifications tbody tr", has_text="发送失败")
    expect(failed_row).to_contain_text("HTTP 400")
    expect(duty.locator("#rates tbody")).to_contain_text("钉钉/浙政钉群机器人")
    failed_row.locator("button[data-resend]").click()
    until(lambda: rows.filter(state="accepted").count() == rows.count(), lambda: list(rows.values_list("state", flat=True)))
    duty.reload()
    expect(duty.locator("#notifications tbody tr", has_text="发送失败")).to_have_count(0, timeout=TIMEOUT_MS)

    # a channel saved on the page: the secret is sealed, the table says only that it is set
    duty.fill("#channel-form [name=name]", "海事处工作群")
    duty.select_option("#channel-form [name=kind]", "wecom")
    duty.select_option("#channel-form [name=department]", label="海事处")
    duty.fill("#channel-form [name='secret:webhook']", f"{gw.base}/cgi-bin/webhook/send?key=page-secret-key-77")
    duty.click("#channel-form button.btn:not(.secondary)")
    row = duty.locator("#channels tbody tr", has_text="海事处工作群")
    expect(row).to_contain_text("webhook", timeout=TIMEOUT_MS)
    assert "page-secret-key-77" not in duty.content()

    duty.goto(f"{live_server_url}/cockpit/dashboard/")
    expect(duty.locator("#ck-notify-rates")).to_contain_text("%", timeout=TIMEOUT_MS)
