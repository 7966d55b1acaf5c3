"""Done means (issue 14, pages that read like Chinese, not like code), in a real Chromium:
warning evidence in labelled words with units and Beijing times; the cockpit side panel links
to the warning and its case (no "[object Object]"); each page loads its data once; the
warnings list's "更多" appends only new rows and hides when there are no more; a favicon; a
403 page with a way back; the English menu does not wrap.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]
TIMEOUT_MS = 30_000
SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.19], [121.96, 29.19], [121.96, 29.2], [121.95, 29.2], [121.95, 29.19]]]}


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _pier():
    from apps.elements.models import Geofence

    return Geofence.objects.create(name="石浦老码头", kind="pier", status="idle", township="石浦镇", geometry=SQUARE,
                                   centroid_lon=121.955, centroid_lat=29.195)


def _warnings(pier, n):
    from apps.elements.models import Warning

    now = timezone.now()
    return Warning.objects.bulk_create([
        Warning(kind="idle_pier_landing", level="orange", score=70 + i * 0.1, episode_key=f"pages:{i}", vessels=[f"4124400{i:02d}"],
                geofence=pier, lon=121.955, lat=29.195, start=now - timedelta(minutes=i), end=now) for i in range(n)])


def _api_counter(page, pattern):
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if re.search(pattern, r.url) else None)
    return seen


def test_warnings_list_more_appends_new_rows_only_and_loads_once(users, login_page, live_server_url):
    from playwright.sync_api import expect

    _warnings(_pier(), 60)
    page = login_page(users["duty"])
    calls = _api_counter(page, r"/api/elements/warnings/\?")
    page.goto(f"{live_server_url}/elements/warnings/")
    rows = page.locator("#warnings tbody tr[data-id]")
    expect(rows).to_have_count(50, timeout=TIMEOUT_MS)
    expect(page.locator("#live-status.up")).to_have_count(1, timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)  # a reload after the first connection would come within this
    assert len(calls) == 1, calls
    more = page.locator("#more")
    expect(more).to_be_visible()
    more.click()
    expect(rows).to_have_count(60, timeout=TIMEOUT_MS)
    ids = page.eval_on_selector_all("#warnings tbody tr[data-id]", "els => els.map(e => e.dataset.id)")
    assert len(set(ids)) == 60
    expect(more).to_be_hidden()

    # the favicon: asked for and found
    favicon = page.request.get(f"{live_server_url}/favicon.ico")
    assert favicon.ok and favicon.headers["content-type"].startswith("image/svg")
    assert page.locator("link[rel=icon]").count() == 1


def test_warning_evidence_reads_as_words(users, login_page, live_server_url):
    from playwright.sync_api import expect

    from apps.elements.models import Warning

    pier = _pier()
    start = timezone.now() - timedelta(hours=2)
    w = Warning.objects.create(
        kind="idle_pier_landing", level="red", score=88.123456789012, episode_key="ev:1", vessels=["412440777"], geofence=pier,
        lon=121.955, lat=29.195, start=start, end=timezone.now(),
        evidence={"factors": {"behaviour": 0.912345678901234}, "contributions": {"behaviour": 40.123456789},
                  "rule": {"detector": "idle_pier_landing", "month": 12, "thresholds": {"red": 85, "orange": 70},
                           "weights": {"behaviour": 0.44},
                           "params": {"enabled": True, "kinds": ["pier", "cove"], "min_dwell_min": 30.0, "max_speed_kn": 1.0,
                                      "night_start": "22:00:00"}},
                  "details": {"dwell_min": 47.33333333333333, "stop_start": start.isoformat(), "silent_at_pier": True,
                              "longest_silence_min": 75.5}})
    page = login_page(users["duty"])
    page.goto(f"{live_server_url}/elements/warnings/{w.pk}/")
    rule = page.locator("#rule")
    details = page.locator("#details")
    expect(rule).to_contain_text("闲置码头夜间靠泊")
    expect(rule).to_contain_text("红色 ≥ 85 分")
    expect(rule).to_contain_text("触发所需夜间停留30 分钟")
    expect(rule).to_contain_text("适用点位类型码头、岙口")
    expect(rule).to_contain_text("启用是")
    expect(details).to_contain_text("停留时长47.3 分钟")
    expect(details).to_contain_text("在码头关闭信号是")
    expect(details).to_contain_text(f"停靠开始{timezone.localtime(start).strftime('%Y-%m-%d %H:%M')}")
    text = page.locator(".evidence").inner_text()
    for raw in ("True", "min_dwell_min", "['pier'", "T0", "+00:00", "47.3333", "0.91234567"):
        assert raw not in text, raw


def test_cockpit_panel_links_and_single_load(users, login_page, live_server_url):
    from playwright.sync_api import expect

    from apps.enforcement import services

    services.ensure_default_plans()
    (w,) = _warnings(_pier(), 1)
    d = services.dispatch_subject(subject=w, actor=users["duty"])
    page = login_page(users["duty"], viewport={"width": 1366, "height": 768})
    calls = _api_counter(page, r"/api/cockpit/(summary|map)/")
    page.goto(f"{live_server_url}/cockpit/dashboard/")
    expect(page.locator("#live-status.up")).to_have_count(1, timeout=TIMEOUT_MS)
    marker = page.locator(f'.xs-lmark[data-warning-id="{w.pk}"]')
    expect(marker).to_be_visible(timeout=TIMEOUT_MS)
    page.wait_for_timeout(1500)
    assert sorted(re.search(r"/api/cockpit/(\w+)/", u).group(1) for u in calls) == ["map", "summary"], calls
    marker.click()
    side = page.locator("#ck-side-body")
    expect(side).to_contain_text("闲置码头夜间靠泊", timeout=TIMEOUT_MS)
    assert "[object Object]" not in side.inner_text()
    links = side.locator("[data-role=detail-link]")
    expect(links.nth(0)).to_have_attribute("href", f"/elements/warnings/{w.pk}/")
    expect(links.nth(1)).to_have_attribute("href", f"/enforcement/cases/{d.case.pk}/")


def test_forbidden_page_has_a_way_back_and_english_menu_fits(users, login_page, live_server_url):
    from playwright.sync_api import expect

    page = login_page(users["grid"], viewport={"width": 390, "height": 844})
    response = page.goto(f"{live_server_url}/cockpit/dashboard/")
    assert response.status == 403
    expect(page.locator("h1")).to_have_text("无权访问")
    page.get_by_role("link", name="返回我的工作台").click()
    expect(page).to_have_url(re.compile(r"/sources/mobile/$"), timeout=TIMEOUT_MS)

    commander = login_page(users["commander"], viewport={"width": 1366, "height": 768})
    commander.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server_url}])
    commander.goto(f"{live_server_url}/elements/warnings/")
    links = commander.locator(".nav a")
    assert links.count() >= 8
    heights = commander.eval_on_selector_all(".nav a", "els => els.map(e => e.getBoundingClientRect().height)")
    line = commander.eval_on_selector(".nav a", "e => parseFloat(getComputedStyle(e).lineHeight) || e.getBoundingClientRect().height")
    assert max(heights) <= line * 1.5, heights  # no link broken over two lines
