"""Done means (issue 4), in a real headless Chromium against daphne, Redis and a real Celery worker:

a warning arrives → the police officer's already open inbox shows the task within seconds
without a reload (sound + visual cue) → acknowledge → start → feedback with a photo → the
duty officer verifies on the board → the board shows it closed; a task left alone goes
overdue and is escalated by the scheduled job (run by the worker); a disposal step signed
out of order on the case page is refused with a clear message.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS

from .conftest import png_bytes

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 30_000
SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.2], [121.96, 29.2], [121.96, 29.21], [121.95, 29.21], [121.95, 29.2]]]}


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop marked running in this thread; the ORM calls here
    (the test's own and the flush after it) are plain synchronous ones, so Django's async-safety
    guard is lifted for this module only (module scope: it outlives the flush)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _arrive(pier):
    """The pipeline's write (elements): a new orange idle-pier landing; on commit it hands over to our worker task."""
    from apps.elements.domain.pipeline import WarningEvent
    from apps.elements.services import warning_upsert

    now = timezone.now()
    event = WarningEvent(
        action="new", episode_key=f"idle_pier_landing:412440777:{pier.pk}:enf-browser", kind="idle_pier_landing",
        level="orange", score=76.0, vessels=("412440777",), geofence_id=pier.pk, geofence_name=pier.name,
        start=now - timedelta(minutes=45), end=now, ongoing=True, factors={"dwell": 1.0}, contributions={"dwell": 0.4},
        rule={"min_dwell_min": 30}, tide_window=None, fixes=(), evidence={"dwell_min": 45},
    )
    from django.db import transaction

    with transaction.atomic():  # as the pipeline's batch step calls it
        return warning_upsert(event=event)


def test_done_means(users, login_page, live_server_url, celery_worker_process):
    from playwright.sync_api import expect

    from apps.elements.models import Geofence
    from apps.enforcement import services
    from apps.enforcement.models import DisposalStep, Task
    from apps.enforcement.tasks import escalate_overdue

    services.ensure_default_plans()
    pier = Geofence.objects.create(name="高塘岛闲置码头乙", kind="pier", status="idle", township="高塘岛乡", geometry=SQUARE,
                                   centroid_lon=121.955, centroid_lat=29.205)

    # --- the officer's inbox is already open, and empty --------------------------------------------
    officer = login_page(users["police"])
    officer.goto(f"{live_server_url}/enforcement/inbox/")
    expect(officer.locator("#live-status.up")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(officer.locator("#no-tasks")).to_be_visible(timeout=TIMEOUT_MS)
    officer.evaluate("window.__sameDocument = true; window.__beeps = 0;"
                     "const b = XS.beep; XS.beep = () => { window.__beeps += 1; b(); };")

    # --- a warning arrives: elements → Celery worker → dispatch → Redis → daphne → this page -----------
    warning = _arrive(pier)
    card = officer.locator("article.task-card")
    expect(card).to_have_count(1, timeout=TIMEOUT_MS)
    task = Task.objects.get(warning=warning, department__code="police")
    assert card.get_attribute("data-task-id") == str(task.pk)
    expect(card).to_contain_text("码头布控")
    expect(officer.locator("#toast")).to_contain_text("新任务到达")
    assert officer.evaluate("window.__sameDocument") is True         # no reload
    assert officer.evaluate("window.__beeps") >= 1                    # the sound cue
    assert Task.objects.filter(warning=warning).count() == 4          # sea, shore, road, market

    # --- acknowledge → start → feedback with a photo ------------------------------------------------
    card.get_by_role("button", name="签收").click()
    expect(card).to_have_attribute("data-state", "acknowledged", timeout=TIMEOUT_MS)
    card.get_by_role("button", name="开始处置").click()
    expect(card).to_have_attribute("data-state", "in_progress", timeout=TIMEOUT_MS)
    card.get_by_role("button", name="提交反馈").click()
    form = card.locator("form[data-form=feedback]")
    form.locator("select[name=result]").select_option("seized")
    form.locator("textarea[name=text]").fill("到场查获走私卷烟 80 箱，控制嫌疑人 2 名，货车 1 辆。")
    form.locator("input[name=attachments]").set_input_files(
        files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes((200, 120))}])
    officer.screenshot(path=str(ARTIFACTS / "enforcement-inbox-feedback.png"), full_page=True)
    form.get_by_role("button", name="提交").click()
    expect(card).to_have_attribute("data-state", "feedback_submitted", timeout=TIMEOUT_MS)
    assert officer.evaluate("window.__sameDocument") is True
    task = Task.objects.get(pk=task.pk)
    assert task.state == "feedback_submitted" and task.arrived_at and task.attachments.count() == 1

    # --- the duty officer verifies on the board; the board shows it closed --------------------------
    duty = login_page(users["duty"])
    duty.goto(f"{live_server_url}/enforcement/board/")
    expect(duty.locator("#live-status.up")).to_have_count(1, timeout=TIMEOUT_MS)
    row = duty.locator(f'#open-tasks tr[data-task-id="{task.pk}"]')
    expect(row).to_contain_text("已反馈", timeout=TIMEOUT_MS)
    expect(row).to_contain_text("到场查获走私卷烟")
    row.get_by_role("button", name="核实办结").click()
    closed = duty.locator(f'#closed-tasks tr[data-task-id="{task.pk}"]')
    expect(closed).to_contain_text("已办结", timeout=TIMEOUT_MS)
    expect(duty.locator(f'#open-tasks tr[data-task-id="{task.pk}"]')).to_have_count(0)
    assert Task.objects.get(pk=task.pk).state == "closed"
    # the officer's inbox follows live: the task moves to the closed list
    expect(officer.locator(f'#closed-tasks tr[data-task-id="{task.pk}"]')).to_have_count(1, timeout=TIMEOUT_MS)

    # --- a task left alone goes overdue and is escalated by the scheduled job -------------------------
    coast = Task.objects.get(warning=warning, department__code="coastguard")
    Task.objects.filter(pk=coast.pk).update(ack_due_at=timezone.now() - timedelta(minutes=2))  # its time ran out
    duty.evaluate("window.__sameDocument = true")
    escalated = escalate_overdue.delay().get(timeout=60)   # the beat job's task, run by the real worker
    assert coast.pk in escalated
    coast_row = duty.locator(f'#open-tasks tr[data-task-id="{coast.pk}"]')
    expect(coast_row.locator("[data-role=state]")).to_have_text("超时升级", timeout=TIMEOUT_MS)
    expect(coast_row).to_have_class(re.compile(r"\boverdue\b"))
    assert duty.evaluate("window.__sameDocument") is True
    assert Task.objects.get(pk=coast.pk).state == "escalated"
    duty.screenshot(path=str(ARTIFACTS / "enforcement-board.png"), full_page=True)

    # --- a disposal step out of order is refused on the case page --------------------------------------
    case = task.dispatch.case
    goods = services.goods_add(case=case, actor=users["duty"], kind="tobacco", description="走私卷烟（多品牌）",
                               quantity="80", unit="箱", estimated_value_yuan="240000")
    duty.goto(f"{live_server_url}/enforcement/cases/{case.pk}/")
    block = duty.locator(f'[data-goods-id="{goods.pk}"]')
    expect(block).to_be_visible(timeout=TIMEOUT_MS)
    block.locator('li[data-step="count_confirm"]').get_by_role("button", name="签署").click()
    step_form = block.locator('form[data-sign="count_confirm"]')
    step_form.locator("input[name=quantity_confirmed]").fill("80")
    step_form.get_by_role("button", name="签署").click()
    expect(block.locator(".chain-error")).to_contain_text("请先完成「物品交接」", timeout=TIMEOUT_MS)
    assert not DisposalStep.objects.filter(goods=goods).exists()
    block.locator('li[data-step="handover"]').get_by_role("button", name="签署").click()
    block.locator('form[data-sign="handover"]').get_by_role("button", name="签署").click()
    expect(block.locator('li[data-step="handover"]')).to_have_class(re.compile(r"\bsigned\b"), timeout=TIMEOUT_MS)
    expect(block.locator('li[data-step="receiving_site"]')).to_have_class(re.compile(r"\bnext\b"))
    expect(duty.locator("#timeline")).to_contain_text("码头布控：核实办结", timeout=TIMEOUT_MS)
    duty.screenshot(path=str(ARTIFACTS / "enforcement-case.png"), full_page=True)
    step = DisposalStep.objects.get(goods=goods)
    assert step.step == "handover" and step.signed_by == users["duty"] and step.department.code == "antismuggling"
