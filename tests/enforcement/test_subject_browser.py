"""Done means (issue 14, tasks that say where and who; safe forms), in a real headless Chromium:
a department officer's task card shows the place (name, township, coordinates, a small map, a
``geo:`` link), the boat with its registry details and the warning's level and time; the inbox
filters by level and place; the feedback form has no default outcome and fills the arrival
time in Beijing time on a phone set to another zone; a passed deadline says so plainly; the
case page shows the same. Screenshot: tests/artifacts/screenshots/inbox-1366x850.png.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 30_000
SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.19], [121.96, 29.19], [121.96, 29.2], [121.95, 29.2], [121.95, 29.19]]]}


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _scene(users):
    from apps.elements.models import Geofence, Vessel, Warning
    from apps.enforcement import services

    services.ensure_default_plans()
    pier = Geofence.objects.create(name="石浦老码头", kind="pier", status="idle", township="石浦镇", geometry=SQUARE,
                                   centroid_lon=121.955, centroid_lat=29.195)
    other = Geofence.objects.create(name="鹤浦渔港码头", kind="pier", township="鹤浦镇", geometry=SQUARE,
                                    centroid_lon=121.971, centroid_lat=29.102)
    Vessel.objects.create(external_id="412440777", name="浙象渔运88", owner="王某", home_port="石浦", callsign="BXYZ")
    now = timezone.now()

    def warn(level, g, key):
        return Warning.objects.create(kind="idle_pier_landing", level=level, score=80, episode_key=key, vessels=["412440777"],
                                      geofence=g, lon=g.centroid_lon, lat=g.centroid_lat, start=now - timedelta(minutes=50), end=now)

    red = services.dispatch_subject(subject=warn("red", pier, "b1"), actor=users["duty"])
    blue = services.dispatch_subject(subject=warn("orange", other, "b2"), actor=users["duty"])
    return pier, red, blue


def test_task_card_says_where_and_who_and_the_form_is_safe(users, login_page, live_server_url):
    from playwright.sync_api import expect

    from apps.enforcement.models import Task

    pier, red, blue = _scene(users)
    red_task = red.tasks.filter(department__code="police").order_by("id").first()
    blue_task = blue.tasks.filter(department__code="police").order_by("id").first()
    n_red, n_blue = red.tasks.filter(department__code="police").count(), blue.tasks.filter(department__code="police").count()
    Task.objects.filter(pk=blue_task.pk).update(ack_due_at=timezone.now() - timedelta(minutes=95))

    # a phone set to New York time: every time shown and entered is still Beijing time
    page = login_page(users["police"], timezone_id="America/New_York")
    page.goto(f"{live_server_url}/enforcement/inbox/")
    card = page.locator(f'article.task-card[data-task-id="{red_task.pk}"]')
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    place = card.locator("[data-role=place]")
    expect(place).to_contain_text("石浦老码头（码头 · 石浦镇）")
    expect(place).to_contain_text("北纬 29.19500° 东经 121.95500°")
    assert place.locator("a.geo-link").get_attribute("href").startswith("geo:29.195000,121.955000?q=")
    vessels = card.locator("[data-role=vessels]")
    expect(vessels).to_contain_text("浙象渔运88")
    expect(vessels).to_contain_text("船主 王某")
    expect(vessels).to_contain_text("船籍港 石浦")
    expect(card.locator(".t-warning")).to_contain_text("红色闲置码头夜间靠泊")
    expect(card.locator(".xs-mini")).to_have_attribute("data-ready", "1", timeout=TIMEOUT_MS)
    expect(card.locator(".xs-mini .xs-lmark.red")).to_have_count(1)
    # the passed deadline, plainly
    late = page.locator(f'article.task-card[data-task-id="{blue_task.pk}"]')
    expect(late.locator(".t-deadlines")).to_contain_text("已超时 1 小时 35 分钟")
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "inbox-1366x850.png"), full_page=True)

    # filter by level and by place
    page.select_option("#inbox-filters select[name=level]", "red")
    expect(page.locator("article.task-card")).to_have_count(n_red, timeout=TIMEOUT_MS)
    expect(page.locator("article.task-card.level-orange")).to_have_count(0)
    expect(card).to_be_visible()
    page.select_option("#inbox-filters select[name=level]", "")
    page.fill("#inbox-filters input[name=place]", "鹤浦")
    page.press("#inbox-filters input[name=place]", "Enter")
    expect(page.locator("article.task-card")).to_have_count(n_blue, timeout=TIMEOUT_MS)
    expect(late).to_be_visible()
    page.fill("#inbox-filters input[name=place]", "")
    page.press("#inbox-filters input[name=place]", "Enter")
    expect(page.locator("article.task-card")).to_have_count(n_red + n_blue, timeout=TIMEOUT_MS)

    # the feedback form: no outcome chosen until the officer chooses; arrival time in Beijing time
    card.get_by_role("button", name="签收").click()
    expect(card).to_have_attribute("data-state", "acknowledged", timeout=TIMEOUT_MS)
    card.get_by_role("button", name="开始处置").click()
    expect(card).to_have_attribute("data-state", "in_progress", timeout=TIMEOUT_MS)
    card.get_by_role("button", name="提交反馈").click()
    form = card.locator("form[data-form=feedback]")
    assert form.locator("select[name=result]").input_value() == ""
    beijing_now = timezone.localtime().strftime("%Y-%m-%dT%H:")
    assert form.locator("input[name=arrived_at]").input_value().startswith(beijing_now[:13])
    form.locator("textarea[name=text]").fill("到场未发现异常。")
    form.get_by_role("button", name="提交").click()  # the browser refuses: no outcome chosen
    assert form.locator("select[name=result]").evaluate("el => el.validity.valueMissing") is True
    expect(card).to_have_attribute("data-state", "in_progress")
    form.locator("select[name=result]").select_option("nothing_found")
    form.get_by_role("button", name="提交").click()
    expect(card).to_have_attribute("data-state", "feedback_submitted", timeout=TIMEOUT_MS)
    t = Task.objects.get(pk=red_task.pk)
    assert t.feedback_result == "nothing_found"
    assert abs((timezone.now() - t.arrived_at).total_seconds()) < 120  # not 12-13 hours off

    # the case page says where and who too
    page.goto(f"{live_server_url}/enforcement/cases/{red.case.pk}/")
    expect(page.locator("#case-subject [data-role=place]")).to_contain_text("石浦老码头", timeout=TIMEOUT_MS)
    expect(page.locator("#case-subject [data-role=vessels]")).to_contain_text("浙象渔运88")
