"""Done means: the network view in a real headless Chromium against real daphne — start from a
warning's vessel, expand a node, filter by confidence, find the shortest path — with screenshots."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from apps.intel.models import Element
from apps.intel.services import link_add
from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.live]
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module", autouse=True)
def _orm_beside_playwright():
    """Playwright's sync API leaves an event loop marked running in this thread (see tests/reporting)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def _network():
    mk = lambda kind, key, label, **kw: Element.objects.create(kind=kind, key=key, label=label, **kw)  # noqa: E731
    boat = mk("vessel", "412440001", "浙象渔01233")
    lin = mk("person", "id:lin", "林某", watch_level="key", roles="船主")
    chen = mk("person", "id:chen", "陈某", watch_level="key", roles="组织者")
    truck = mk("vehicle", "浙B5K321", "浙B5K321", watch_level="control")
    store = mk("company", "9133", "石浦某冷库")
    phone = mk("phone", "13800000000", "13800000000")
    link_add(a=boat, b=lin, kind="owns", source="registry", confidence=0.95)
    link_add(a=lin, b=chen, kind="same_case", source="case", ref="case:1", label="3·12", confidence=0.9)
    link_add(a=chen, b=truck, kind="same_case", source="case", ref="case:1", label="3·12", confidence=0.9)
    link_add(a=truck, b=store, kind="goods_traced", source="market", confidence=0.7)
    link_add(a=boat, b=phone, kind="called", source="officer", confidence=0.2)
    return {"boat": boat, "lin": lin, "chen": chen, "truck": truck, "store": store, "phone": phone}


def _labels(page) -> set[str]:
    return set(page.evaluate("() => [...window.XSNetwork.nodes.values()].map(n => n.label)"))


@pytest.mark.django_db(transaction=True)
def test_network_view_expand_filter_and_path(live_server_url, users, login_page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    net = _network()
    page = login_page(users["duty"])
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live_server_url}/intel/network/?element={net['boat'].pk}")
    expect(page.locator("#net-status")).to_contain_text("4 个要素")
    assert _labels(page) == {"浙象渔01233", "林某", "陈某", "13800000000"}
    expect(page.locator("#net-chart canvas").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "intel-network-start.png"), full_page=True)

    # expand 陈某: the truck one link further comes in
    page.locator(f'#node-table button[data-expand="{net["chen"].pk}"]').click()
    expect(page.locator("#net-status")).to_contain_text("新增 1 个要素")
    assert "浙B5K321" in _labels(page)
    page.screenshot(path=str(ARTIFACTS / "intel-network-expanded.png"), full_page=True)

    # filter: links below 0.5 confidence go (the weak phone call), re-read from the API
    page.locator('#net-filter input[name="min_confidence"]').fill("0.5")
    page.click("#apply-filter")
    expect(page.locator("#net-status")).not_to_contain_text("5 个要素")
    page.wait_for_function("() => ![...window.XSNetwork.nodes.values()].some(n => n.label === '13800000000')")
    page.screenshot(path=str(ARTIFACTS / "intel-network-filtered.png"), full_page=True)

    # shortest path from the boat to the cold store (not on the page yet: four links away)
    page.goto(f"{live_server_url}/intel/network/?element={net['boat'].pk}")
    expect(page.locator("#net-status")).to_contain_text("4 个要素")
    page.evaluate(f"""() => {{ const s = document.getElementById('path-b');
        s.insertAdjacentHTML('beforeend', '<option value="{net['store'].pk}">石浦某冷库</option>'); s.value = '{net['store'].pk}'; }}""")
    page.select_option("#path-a", str(net["boat"].pk))
    page.click("#find-path")
    expect(page.locator("#path-result")).to_contain_text("路径 4 步")
    expect(page.locator("#path-result")).to_contain_text("浙象渔01233 → 林某 → 陈某 → 浙B5K321 → 石浦某冷库")
    assert page.locator("#node-table tr.on-path").count() == 5
    page.screenshot(path=str(ARTIFACTS / "intel-network-path.png"), full_page=True)

    # the element's detail and timeline; the person is masked
    page.locator(f'#node-table a[data-select="{net["lin"].pk}"]').click()
    expect(page.locator("#net-detail h2")).to_contain_text("林某")
    expect(page.locator("#timeline")).to_contain_text("暂无记录")
