"""Done means (issue 5), in a real headless Chromium on a phone-sized viewport against daphne:

a grid worker goes offline, checks in and files a damage report with a photo, comes back
online, and both arrive exactly once (also when the server's answer is lost on the way and
the phone sends again, and when it syncs twice more); a check-in outside the fence or the
window is refused with the reason on the page; the damage report becomes a repair task
that the responsible department can close only with an after photo.
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


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop running in this thread; the ORM calls here are
    plain synchronous ones, so Django's async-safety guard is lifted for this module."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/jpeg", "buffer": jpeg_bytes()}


def sync_until_empty(page, *, rounds: int = 6) -> None:
    """What the phone does on its own on a timer: sync (twice at once, as a double tap would)."""
    for _ in range(rounds):
        page.evaluate("Promise.all([XSMobile.sync(), XSMobile.sync()])")
        if page.evaluate("XSMobile.queueCount()") == 0:
            return
    raise AssertionError("the phone's queue did not empty")


def test_done_means(users, patrol, departments, login_page, live_server_url, transactional_db):
    from playwright.sync_api import expect

    from apps.sources import selectors, services
    from apps.sources.models import Checkin, GridReport, RepairTask

    # --- tonight: one plan open now, one whose window ended; a camera at the pier ---------------
    now = timezone.now()
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now)])
    past_window = window_around(now - timedelta(hours=6))
    (past_plan,) = services.patrol_plans_generate(date=selectors.night_of(past_window[1]), windows=[past_window])
    services.site_standards_ensure_defaults()
    site = services.protected_site_for_geofence(geofence=patrol.pier)
    camera = services.facility_register(
        site=site, kind="cctv", code="gt-cam-b", name="花岙码头 1 号摄像机", responsible_department=departments["police"]
    )

    # --- the grid worker's phone: 390×844, touch, location at the pier ---------------------------
    page = login_page(
        users["grid"],
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"longitude": PIER_LON, "latitude": PIER_LAT, "accuracy": 10},
        permissions=["geolocation"],
    )
    context = page.context
    page.goto(f"{live_server_url}/sources/mobile/")
    expect(page.locator("html[data-mobile-ready='1']")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator(f".m-plan[data-plan-id='{plan.id}']")).to_be_visible(timeout=TIMEOUT_MS)
    # installable: the manifest is linked and the service worker controls the page
    assert page.locator("link[rel=manifest]").get_attribute("href") == "/sources/mobile/manifest.webmanifest"
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=TIMEOUT_MS)
    # big touch targets
    box = page.locator(f".checkin-btn[data-plan-id='{plan.id}']").bounding_box()
    assert box["height"] >= 48 and box["width"] >= 48

    # --- no connection: the page itself still opens (service worker shell + IndexedDB) ----------
    context.set_offline(True)
    page.reload()
    expect(page.locator("html[data-mobile-ready='1']")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.locator("#net-state")).to_have_text("离线", timeout=TIMEOUT_MS)
    expect(page.locator(f".m-plan[data-plan-id='{plan.id}']")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator("#plans-note")).to_have_text("（离线数据）")

    # check in, offline
    page.locator(f".checkin-btn[data-plan-id='{plan.id}']").tap()
    page.set_input_files("#checkin-photo", files=[photo("checkin.jpg")])
    page.locator("#checkin-submit").tap()
    expect(page.locator("#queue-count")).to_have_text("1", timeout=TIMEOUT_MS)
    expect(page.locator("#result")).to_contain_text("联网后自动上传")

    # a damage report with a photo, offline
    page.locator(".m-chip", has_text="设施损坏").tap()
    page.select_option("#report-facility", str(camera.id))
    page.fill("#report-description", "摄像机镜头被砸坏")
    page.set_input_files("#report-photos", files=[photo("damage.jpg")])
    page.locator("#report-submit").tap()
    expect(page.locator("#queue-count")).to_have_text("2", timeout=TIMEOUT_MS)
    expect(page.locator("#sync-state")).to_have_text("等待网络，恢复后自动上传")
    page.screenshot(path=str(ARTIFACTS / "sources-mobile-offline-queue.png"), full_page=True)
    assert not Checkin.objects.exists() and not GridReport.objects.exists()

    # --- back online; the first answer from the server for each item is lost on the way ----------
    posts: dict[str, int] = {"checkins": 0, "reports": 0}

    def lose_first_answer(route):
        which = "checkins" if "/checkins/" in route.request.url else "reports"
        posts[which] += 1
        if posts[which] == 1:
            route.fetch()  # the server gets it and stores it ...
            route.abort("connectionreset")  # ... but the phone never hears back
        else:
            route.continue_()

    context.route(re.compile(r".*/api/sources/(checkins|reports)/$"), lose_first_answer)
    context.set_offline(False)
    expect(page.locator("#net-state")).to_have_text("在线", timeout=TIMEOUT_MS)
    sync_until_empty(page)
    expect(page.locator("#queue-count")).to_have_text("0", timeout=TIMEOUT_MS)
    assert posts == {"checkins": 2, "reports": 2}  # each sent twice with the same UUID ...
    assert Checkin.objects.count() == 1  # ... and kept once
    assert GridReport.objects.count() == 1
    expect(page.locator("#done-list")).to_contain_text("服务器已有此记录")
    # and syncing again changes nothing
    sync_until_empty(page)
    sync_until_empty(page)
    assert Checkin.objects.count() == 1 and GridReport.objects.count() == 1
    checkin = Checkin.objects.get()
    assert checkin.plan == plan and checkin.user == users["grid"]
    plan.refresh_from_db()
    assert plan.status == "checked_in"
    report = GridReport.objects.get()
    assert report.kind == "damage" and report.facility == camera and report.photos.count() == 1
    context.unroute(re.compile(r".*/api/sources/(checkins|reports)/$"))

    # --- refused check-ins show the reason on the page -----------------------------------------------
    # (a check-in outside the fence, refused with its reasons on screen: tests/sources/test_phone_truth_browser.py)

    # a window that has ended: the button says so and cannot be pressed (the server would refuse it)
    context.set_geolocation({"longitude": PIER_LON, "latitude": PIER_LAT, "accuracy": 10})
    past_button = page.locator(f".checkin-btn[data-plan-id='{past_plan.id}']")
    expect(past_button).to_be_disabled()
    expect(past_button).to_have_text("时段已结束")
    expect(page.locator("#queue-count")).to_have_text("0")
    page.screenshot(path=str(ARTIFACTS / "sources-mobile-refused.png"), full_page=True)
    assert Checkin.objects.count() == 1

    # --- the damage report is a repair task: closed only with an after photo --------------------------
    task = RepairTask.objects.get(report=report)
    assert task.department.code == "police" and task.before_photos.count() == 1
    officer = login_page(users["police"])
    officer.goto(f"{live_server_url}/sources/repairs/")
    card = officer.locator(f".repair[data-task='{task.id}']")
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    expect(card.locator("img.thumb")).to_have_count(1)  # the grid worker's photo, as the "before"
    card.locator(".start-btn").click()
    card = officer.locator(f".repair[data-task='{task.id}'][data-state='in_repair']")
    expect(card).to_be_visible(timeout=TIMEOUT_MS)
    card.locator(".close-btn").click()
    expect(card.locator(".repair-error")).to_have_text("关闭维修任务前必须上传修复后的照片。", timeout=TIMEOUT_MS)
    task.refresh_from_db()
    assert task.state == "in_repair"
    card.locator("input[name=photos]").set_input_files(files=[photo("fixed.jpg")])
    card.locator("input[name=note]").fill("已更换摄像机")
    card.locator(".close-btn").click()
    expect(officer.locator(f"tr[data-task='{task.id}'][data-state='closed']")).to_be_visible(timeout=TIMEOUT_MS)
    task.refresh_from_db()
    assert task.state == "closed" and task.after_photos.count() == 1 and task.closed_by == users["police"]
    camera.refresh_from_db()
    assert camera.status == "ok"
