"""Done means (issue 7): a real headless browser opens the cockpit; a warning raised by the
pipeline appears on the map and in the counters within seconds, without a reload; the
auto-dispatched tasks (real Celery worker) show in the task counters; screenshots of the
wall layout, the laptop layout and the evaluation table are written to tests/artifacts/.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.live, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SQUARE = {"type": "Polygon", "coordinates": [[[121.95, 29.05], [121.96, 29.05], [121.96, 29.06], [121.95, 29.06], [121.95, 29.05]]]}
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API keeps an event loop marked running in this thread; the ORM calls of
    this module (and the flush after each test) are plain synchronous ones, so Django's
    async-safety guard is lifted for this module only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _scene():
    from apps.elements.models import Geofence, StoredFix, Vessel

    now = timezone.now()
    pier = Geofence.objects.create(name="高塘岛闲置码头", kind="pier", status="idle", township="高塘岛乡", geometry=SQUARE,
                                   centroid_lon=121.955, centroid_lat=29.055)
    Geofence.objects.create(name="鹤浦南田岙口", kind="cove", status="active", township="鹤浦镇",
                            geometry={"type": "Polygon", "coordinates": [[[121.98, 29.18], [122.0, 29.18], [122.0, 29.2], [121.98, 29.2], [121.98, 29.18]]]},
                            centroid_lon=121.99, centroid_lat=29.19)
    boat = Vessel.objects.create(external_id="412440001", name="浙象渔运88", last_seen=now, last_lon=121.956, last_lat=29.054, last_sog_kn=0.1)
    for i in range(12):
        Vessel.objects.create(external_id=f"41244{i:04d}9", name=f"渔船{i}", last_seen=now - timedelta(minutes=i * 7),
                              last_lon=121.9 + i * 0.03, last_lat=29.0 + (i % 5) * 0.05, last_sog_kn=6.0)
    StoredFix.objects.bulk_create([
        StoredFix(vessel=boat, ts=now - timedelta(minutes=10 * i), lon_e7=1219560000 + i * 12000, lat_e7=290540000 - i * 9000, sog_dkn=30 if i > 3 else 1)
        for i in range(18)
    ])
    return pier, boat, now


def _pipeline_event(pier, boat, now):
    from apps.elements.domain.pipeline import WarningEvent

    return WarningEvent(
        action="new", episode_key=f"idle_pier_landing:{boat.external_id}:{pier.pk}:browser", kind="idle_pier_landing",
        level="red", score=91.5, vessels=(boat.external_id,), geofence_id=pier.pk, geofence_name=pier.name,
        start=now - timedelta(minutes=50), end=now, ongoing=True, factors={"dwell": 1.0}, contributions={"dwell": 0.4},
        rule={"min_dwell_min": 30}, tide_window=None, fixes=(), evidence={"dwell_min": 50},
    )


def _raise_in_pipeline_thread(pier, boat, now):
    """The pipeline's write, in a thread of its own as in a worker (this thread runs Playwright's
    event loop, where the synchronous live push cannot run): one atomic ``warning_upsert``; on
    commit the pushes go to Redis and the auto-dispatch to the real Celery worker."""
    import threading

    from django.db import connection, transaction

    from apps.elements.services import warning_upsert

    out: dict = {}

    def run():
        try:
            with transaction.atomic():
                out["warning"] = warning_upsert(event=_pipeline_event(pier, boat, now))
        except Exception as exc:  # surfaced below
            out["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    if "error" in out:
        raise out["error"]
    return out["warning"]


def _png_ok(path) -> None:
    assert path.exists(), path
    assert path.stat().st_size > 40_000, f"{path} looks empty ({path.stat().st_size} bytes)"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cockpit_live_warning_and_screenshots(users, login_page, live_server_url, celery_worker_process):
    from playwright.sync_api import expect

    from apps.enforcement.models import Task

    pier, boat, now = _scene()
    page = login_page(users["duty"], viewport={"width": 1920, "height": 1080})
    page.goto(f"{live_server_url}/cockpit/dashboard/?layout=wall")
    expect(page.locator("body.cockpit.wall")).to_have_count(1)
    expect(page.locator("#live-status.up")).to_have_count(1, timeout=TIMEOUT_MS)
    total = page.locator('[data-counter="warnings.open_total"]')
    expect(total).to_have_text("0", timeout=TIMEOUT_MS)
    expect(page.locator('[data-counter="tasks.open"]')).to_have_text("0", timeout=TIMEOUT_MS)
    expect(page.locator("#ck-map .leaflet-overlay-pane path").first).to_be_attached(timeout=TIMEOUT_MS)  # county + geofences
    page.evaluate("window.__sameDocument = true")

    # The pipeline's write: one red idle-pier landing (the worker auto-dispatches it to the departments).
    warning = _raise_in_pipeline_thread(pier, boat, now)

    marker = page.locator(f'.xs-lmark[data-warning-id="{warning.pk}"]')
    expect(marker).to_be_visible(timeout=TIMEOUT_MS)
    expect(marker).to_have_attribute("data-level", "red")
    expect(total).to_have_text("1", timeout=TIMEOUT_MS)
    expect(page.locator('[data-counter="warnings.open_by_level.red"]')).to_have_text("1", timeout=TIMEOUT_MS)
    # the real worker dispatched the warning: the task counter follows the "task.new" pushes
    page.wait_for_function(
        "() => Number(document.querySelector('[data-counter=\"tasks.open\"]').textContent) > 0", timeout=60_000
    )
    open_tasks = Task.objects.exclude(state__in=["closed", "rejected", "feedback_submitted"]).count()
    assert open_tasks > 0
    expect(page.locator('[data-counter="tasks.open"]')).to_have_text(str(open_tasks), timeout=TIMEOUT_MS)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened

    # Click the warning: the side panel loads its details and the tasks it produced.
    marker.click()
    side = page.locator("#ck-side")
    expect(side).to_be_visible()
    expect(side.locator("h3")).to_contain_text("红色预警", timeout=TIMEOUT_MS)
    expect(side).to_contain_text("高塘岛闲置码头")
    expect(side).to_contain_text("处置任务")
    page.locator("#ck-side-close").click()
    expect(page.locator("#ck-chart-tide canvas")).to_have_count(1, timeout=TIMEOUT_MS)
    page.wait_for_timeout(1200)  # let the charts finish their entry animation before the picture
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    wall = ARTIFACTS / "cockpit-wall-1920x1080.png"
    page.screenshot(path=str(wall))
    _png_ok(wall)
    # No page scroll on the wall screen: the document is exactly the viewport.
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080

    # The laptop layout.
    laptop_page = login_page(users["commander"], viewport={"width": 1366, "height": 768})
    laptop_page.goto(f"{live_server_url}/cockpit/dashboard/")
    expect(laptop_page.locator(f'.xs-lmark[data-warning-id="{warning.pk}"]')).to_be_visible(timeout=TIMEOUT_MS)
    expect(laptop_page.locator('[data-counter="warnings.open_total"]')).to_have_text("1", timeout=TIMEOUT_MS)
    assert laptop_page.evaluate("document.body.classList.contains('wall')") is False
    assert laptop_page.evaluate("document.documentElement.scrollHeight") <= 768
    laptop_page.wait_for_timeout(1200)
    laptop = ARTIFACTS / "cockpit-laptop-1366x768.png"
    laptop_page.screenshot(path=str(laptop))
    _png_ok(laptop)


def test_evaluation_table_screenshot(users, login_page, live_server_url, departments):
    from playwright.sync_api import expect

    from tests.cockpit.test_evaluation_fixture import END, START, Build

    b = Build(departments, users)
    tip = b.tip("TIP-B1")
    b.task("police", "03-01 00:30", ack="03-01 00:35", arrived="03-01 01:20", feedback="03-01 04:00",
           result="seized", text="查获冻品", state="closed", tip=tip)
    b.task("coastguard", "03-10 22:00", ack="03-10 22:30", arrived="03-10 22:50", feedback="03-11 01:00",
           result="intercepted", text="拦截盘查", state="closed")
    b.task("hepu", "03-15 03:00", ack="03-15 03:04", arrived="03-15 03:40", feedback="03-15 07:30",
           result="seized", text="查获白糖", state="closed")
    b.goods("hepu", "03-20 05:00", steps=7)
    page = login_page(users["auditor"], viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server_url}/cockpit/evaluation/?start={START}&end={END}")
    rows = page.locator("#ev-table tbody tr")
    expect(rows).to_have_count(14, timeout=TIMEOUT_MS)
    # police: everything on time, acknowledged in 5 min -> 99.1; hepu: fed back late -> second
    expect(rows.first).to_contain_text("县公安局")
    expect(rows.nth(1)).to_contain_text("鹤浦镇")
    expect(page.locator("#ev-weights input[name=on_time]")).to_be_disabled()  # the auditor only reads
    shot = ARTIFACTS / "cockpit-evaluation.png"
    page.screenshot(path=str(shot), full_page=True)
    _png_ok(shot)
    # the export links download real files
    with page.expect_download() as dl:
        page.click("#ev-xlsx")
    assert dl.value.suggested_filename == "department-evaluation-20260301-20260331.xlsx"
