"""The warnings pages: role checks, and in a real headless Chromium against a real daphne, a new
warning appearing in the list without reload and the evidence page with its map and replay."""
from __future__ import annotations

import pytest

from apps.elements.models import Warning

from .conftest import landing_fixes, local_night, positions_csv, run_json


@pytest.mark.django_db
def test_pages_check_roles(client, users):
    for who in ("commander", "duty", "police", "police_head", "auditor"):
        client.force_login(users[who])
        assert client.get("/elements/warnings/").status_code == 200, who
    for who in ("grid", "pierchief"):
        client.force_login(users[who])
        assert client.get("/elements/warnings/").status_code == 403, who
    client.logout()
    assert client.get("/elements/warnings/").status_code == 302


@pytest.mark.django_db
def test_a_department_cannot_open_a_warning_it_was_not_tasked_with(client, users, demo_geo, tmp_path):
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-6601", night=local_night(2), stay_min=90)
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    run_json("ingest_positions", str(tmp_path / "t.csv"))
    w = Warning.objects.get()
    client.force_login(users["customs"])
    assert client.get(f"/elements/warnings/{w.pk}/").status_code == 404
    client.force_login(users["duty"])
    page = client.get(f"/elements/warnings/{w.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "风险因子与贡献" in html and w.geofence.name in html and "BD-6601" in html


@pytest.mark.browser
@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_a_new_warning_appears_live_and_its_evidence_page_shows_map_and_replay(
    live_server_url, users, demo_geo, tmp_path, login_page  # the database before the browser's event loop
):
    from playwright.sync_api import expect

    page = login_page(users["duty"])
    page.goto(f"{live_server_url}/elements/warnings/")
    expect(page.locator("#live-status.up")).to_be_visible(timeout=30_000)
    expect(page.locator("#warnings tbody")).to_contain_text("暂无预警", timeout=30_000)

    # a landing is ingested while the page is open (tasks in this process; the push goes through Redis)
    from xiangshan.celery import app

    app.conf.task_always_eager = True
    try:
        fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-6602", night=local_night(2), stay_min=90)
        (tmp_path / "t.csv").write_text(positions_csv(fixes))
        run_json("ingest_positions", str(tmp_path / "t.csv"))
    finally:
        app.conf.task_always_eager = False
    w = Warning.objects.get()

    row = page.locator(f'#warnings tr[data-id="{w.pk}"]')
    expect(row).to_be_visible(timeout=30_000)  # no reload: pushed, then read from the API
    expect(row).to_contain_text("闲置码头夜间靠泊")
    expect(row).to_contain_text("BD-6602")

    row.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text(f"#{w.pk}", timeout=30_000)
    expect(page.locator('#factors tr[data-factor="behaviour"]')).to_be_visible()
    expect(page.locator("#evidence-map[data-ready='1'] path.leaflet-interactive").first).to_be_visible(timeout=30_000)
    page.locator("#replay").click()
    expect(page.locator("#replay-result")).to_contain_text("一致", timeout=60_000)
    expect(page.locator("#replay-result")).not_to_contain_text("不一致")
