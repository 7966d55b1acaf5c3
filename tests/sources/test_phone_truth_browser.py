"""Done means (issue 14, the phone page tells the truth), in Chromium at 390×844: a check-in made
offline and refused when it syncs shows its reasons where the worker is looking (a banner fixed
on screen, whatever the scroll), the status bar says it was refused (not "all uploaded"), the
queue tells pending, sent and refused apart; an accepted check-in says so with its time; the
button is disabled outside the window with a countdown; plans are grouped by night with dates.
Screenshots: tests/artifacts/screenshots/phone-390x844*.png.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS

from .conftest import PIER_LAT, PIER_LON, jpeg_bytes, window_around

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 30_000
PHONE = {"width": 390, "height": 844}
SHOTS = ARTIFACTS / "screenshots"


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes()}


def test_refused_offline_checkin_is_shown_on_screen_and_accepted_one_with_its_time(users, patrol, login_page, live_server_url):
    from playwright.sync_api import expect

    from apps.sources import selectors, services
    from apps.sources.models import Checkin

    now = timezone.now()
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now)])
    later = window_around(now + timedelta(hours=24, minutes=30))
    (tomorrow,) = services.patrol_plans_generate(date=selectors.night_of(later[1]), windows=[later])

    # the worker is 1 km from the pier (outside its fence), on a phone set to another time zone
    page = login_page(users["grid"], viewport=PHONE, is_mobile=True, has_touch=True, timezone_id="Europe/London",
                      geolocation={"longitude": PIER_LON + 0.01, "latitude": PIER_LAT, "accuracy": 10}, permissions=["geolocation"])
    context = page.context
    page.goto(f"{live_server_url}/sources/mobile/")
    expect(page.locator("html[data-mobile-ready='1']")).to_have_count(1, timeout=TIMEOUT_MS)

    # plans grouped by night, with dates; tomorrow's cannot be checked in yet and counts down
    nights = page.locator(".m-night")
    expect(nights).to_have_count(2)
    expect(nights.nth(0).locator(".m-night-title")).to_contain_text(re.compile(r"^今晚 · \d+月\d+日（周.）$"))
    expect(nights.nth(1).locator(".m-night-title")).to_contain_text(re.compile(r"^明晚 · \d+月\d+日（周.）$"))
    later_btn = page.locator(f".checkin-btn[data-plan-id='{tomorrow.id}']")
    expect(later_btn).to_be_disabled()
    expect(later_btn).to_have_text("未到时段")
    expect(page.locator(f".m-plan[data-plan-id='{tomorrow.id}'] [data-role=plan-note]")).to_contain_text(
        re.compile(r"距巡查时段开始还有 2\d 小时 \d+ 分钟"))
    open_btn = page.locator(f".checkin-btn[data-plan-id='{plan.id}']")
    expect(open_btn).to_be_enabled()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-390x844.png"))

    # offline: check in; it waits on the phone, marked pending
    context.set_offline(True)
    open_btn.tap()
    page.set_input_files("#checkin-photo", files=[photo("far.jpg")])
    page.locator("#checkin-submit").tap()
    expect(page.locator("#queue-count")).to_have_text("1", timeout=TIMEOUT_MS)
    expect(page.locator("#queue-list [data-qstate=pending]")).to_have_count(1)
    expect(open_btn).to_have_text("待上传")

    # the worker scrolls down to the report form; the connection comes back and the queue syncs
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    held = []
    context.route(re.compile(r".*/api/sources/checkins/$"), lambda route: held.append(route))
    context.set_offline(False)
    page.evaluate("() => { XSMobile.sync(); }")  # not awaited: the answer is held back below
    page.wait_for_function("document.querySelector('#queue-list [data-qstate=sent]') !== null", timeout=TIMEOUT_MS)  # sent, not answered
    assert held  # the request left the phone; unrouting lets it through to the server
    context.unroute(re.compile(r".*/api/sources/checkins/$"))
    banner = page.locator("#result")
    expect(banner).to_contain_text("打卡未通过", timeout=TIMEOUT_MS)
    expect(banner).to_contain_text(re.compile(r"不在码头围栏内（距离 \d+ 米）"))
    expect(banner).to_be_in_viewport()  # where the worker is looking, not 900 px above
    expect(page.locator("#sync-state")).to_have_text("1 条被拒绝，原因见下方")
    expect(page.locator("#queue-list [data-qstate=refused]")).to_have_count(1)
    expect(page.locator(f".m-plan[data-plan-id='{plan.id}'] [data-role=plan-refused]")).to_contain_text("不在码头围栏内")
    page.screenshot(path=str(SHOTS / "phone-390x844-refused.png"))
    assert not Checkin.objects.exists()
    page.wait_for_timeout(9000)  # the refusal stays until the worker dismisses it
    expect(banner).to_be_visible()
    banner.locator(".m-result-close").tap()
    expect(banner).to_be_hidden()

    # at the pier: accepted, and it says so with the time (Beijing time, not the phone's London time)
    context.set_geolocation({"longitude": PIER_LON, "latitude": PIER_LAT, "accuracy": 10})
    page.evaluate("window.scrollTo(0, 0)")
    open_btn.tap()
    page.set_input_files("#checkin-photo", files=[photo("ok.jpg")])
    page.locator("#checkin-submit").tap()
    expect(banner).to_contain_text("打卡已受理", timeout=TIMEOUT_MS)
    checkin = Checkin.objects.get()
    beijing = timezone.localtime(checkin.received_at)
    expect(banner).to_contain_text(f"{beijing.hour}:{beijing.minute:02d}")
    expect(banner).to_contain_text("北京时间")
    expect(page.locator("#done-list [data-qstate=accepted]").first).to_contain_text("受理时间")
    expect(open_btn).to_have_text("已打卡", timeout=TIMEOUT_MS)
    expect(open_btn).to_be_disabled()
    page.screenshot(path=str(SHOTS / "phone-390x844-accepted.png"), full_page=True)
