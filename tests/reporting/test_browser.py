"""Done means, in a real headless Chromium against real daphne: an anonymous tip with a photo is
submitted through the page (the tipster solves the local challenge), the page shows the code and
secret; a handler replies on the staff page; the tip code later shows the reply; the photo served
to staff carries no GPS metadata."""
import io

import pytest
from playwright.sync_api import expect
from PIL import Image

from apps.reporting.models import Tip

from .conftest import ARTIFACTS, jpeg_with_gps, solve

pytestmark = [pytest.mark.browser, pytest.mark.live]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API leaves an event loop marked running in this thread; the ORM calls made
    here (the test's and the database flush after it) are plain synchronous ones, so Django's
    async-safety guard is lifted for this module only (module scope: it outlives the flush)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.mark.django_db(transaction=True)
def test_anonymous_tip_with_photo_then_handler_reply_then_status(live_server_url, users, login_page, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # --- the tipster, on a phone, with no account ---
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server_url}/public/tip/")
    expect(page.locator("h1")).to_contain_text("我要举报")
    page.get_by_label("船只靠岸卸货").check()
    page.fill("#id_description", "凌晨两点有一艘没开灯的船靠在闲置码头，十几个人往货车上搬箱子。")
    # pick the place on the county map (drawn from the local outline, no tiles)
    page.wait_for_selector("#map svg path")
    point = page.evaluate("() => { const m = document.getElementById('map')._xsMap; const p = m.latLngToContainerPoint([29.097, 121.905]); return {x: p.x, y: p.y}; }")
    page.locator("#map").click(position=point)
    expect(page.locator("#picked")).to_contain_text("已选位置")
    assert abs(float(page.input_value("#id_lon")) - 121.905) < 0.01
    page.set_input_files("#id_files", files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps(size=(320, 240))}])
    page.fill("#id_challenge_answer", solve(page.inner_text("#challenge-question")))
    page.screenshot(path=str(ARTIFACTS / "reporting-tip-form.png"), full_page=True)
    page.click("#submit-tip")
    expect(page.locator("#tip-code")).to_be_visible()
    code, secret = page.inner_text("#tip-code").strip(), page.inner_text("#tip-secret").strip()
    expect(page.locator("body")).to_contain_text("只显示这一次")
    page.screenshot(path=str(ARTIFACTS / "reporting-tip-receipt.png"), full_page=True)
    ctx.close()

    tip = Tip.objects.get(code=code)
    assert tip.lon and abs(tip.lon - 121.905) < 0.01 and tip.attachments.count() == 1 and not tip.has_contact

    # --- the handler, on the staff page ---
    staff = login_page(users["duty"])
    staff.set_default_timeout(TIMEOUT_MS)
    staff.goto(f"{live_server_url}/public/manage/tips/")
    staff.click(f"text={code}")
    expect(staff.locator("h1")).to_contain_text(code)
    image = staff.locator(".attachments img")
    expect(image).to_be_visible()
    staff.wait_for_function("() => { const i = document.querySelector('.attachments img'); return i && i.complete && i.naturalWidth > 0; }")
    served = staff.request.get(live_server_url + image.get_attribute("src"))
    assert served.status == 200 and served.headers["content-type"] == "image/jpeg"
    photo = Image.open(io.BytesIO(served.body()))
    assert photo.size == (320, 240) and not photo.getexif() and not photo.getexif().get_ifd(0x8825)
    assert b"GPS" not in served.body() and b"Exif" not in served.body() and b"SpyCam" not in served.body()
    staff.fill("#reply-form textarea[name=body]", "您好，已安排海上巡查力量核查，请注意自身安全。")
    staff.click("#reply-form button")
    expect(staff.locator("#thread")).to_contain_text("已安排海上巡查力量核查")
    staff.screenshot(path=str(ARTIFACTS / "reporting-triage-detail.png"), full_page=True)
    # an anonymous browser cannot fetch the photo
    anon = browser.new_context()
    assert anon.request.get(live_server_url + image.get_attribute("src"), max_redirects=0).status in (302, 403)
    anon.close()

    # --- later, the tipster again, with the code and secret only ---
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server_url}/public/tip/status/")
    page.fill("#id_code", code)
    page.fill("#id_secret", secret)
    page.click("#lookup button[type=submit]")
    expect(page.locator("#tip-status")).to_contain_text(code)
    expect(page.locator("#thread")).to_contain_text("您好，已安排海上巡查力量核查，请注意自身安全。")
    expect(page.locator("#thread")).to_contain_text("办理人员")
    assert users["duty"].display_name not in page.inner_text("#thread")
    page.screenshot(path=str(ARTIFACTS / "reporting-tip-status.png"), full_page=True)
    ctx.close()
