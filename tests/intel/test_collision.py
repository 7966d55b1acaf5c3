"""Collision on the live flow: a warning whose vessel's owner was in a closed case."""
from __future__ import annotations

import pytest

from apps.elements.models import Warning
from apps.intel.models import Element, Link
from tests.elements.conftest import landing_fixes, local_night, positions_csv

pytestmark = pytest.mark.django_db


def _owner_of(vessel_key: str, api, person_id: int) -> None:
    vessel = api.post("/api/intel/elements/", {"kind": "vessel", "name": "浙象渔01234", "key": vessel_key}, format="json")
    assert vessel.status_code == 201, vessel.content
    res = api.post("/api/intel/links/", {"a": person_id, "b": vessel.json()["id"], "kind": "owns", "confidence": 0.9},
                   format="json")
    assert res.status_code == 201, res.content


def test_a_warning_whose_vessel_owner_was_in_a_closed_case_names_the_chain_and_scores_higher(
        api_for, users, demo_geo, closed_case):
    duty = api_for(users["duty"])
    zhang = Element.objects.get(kind="person", roles__contains="组织者")
    _owner_of("BD-9101", duty, zhang.pk)
    # the same landing, by the linked boat and by a boat nobody knows
    for vessel, night in (("BD-9101", 2), ("BD-9102", 3)):
        fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id=vessel, night=local_night(night), stay_min=90)
        assert duty.post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv").status_code in (200, 202)
    linked = Warning.objects.get(kind="idle_pier_landing", vessels=["BD-9101"])
    plain = Warning.objects.get(kind="idle_pier_landing", vessels=["BD-9102"])
    assert linked.score > plain.score
    factors = linked.evidence["factors"]
    assert factors["history"] == pytest.approx(0.7)  # one link away from the closed case
    chain = linked.evidence["details"]["key_elements"]
    assert any("3·12案" in c["text"] and "张某" in c["text"] for c in chain), chain
    assert "3·12" in linked.evidence["details"]["key_element_cases"]
    assert "key_elements" not in plain.evidence["details"]
    # and the API shows it to the operations centre
    body = duty.get(f"/api/elements/warnings/{linked.pk}/").json()
    assert "3·12案" in str(body["evidence"])
    from django.test import Client

    browser = Client()
    browser.force_login(users["duty"])
    page = browser.get(f"/elements/warnings/{linked.pk}/").content.decode()
    assert 'id="w-key-elements"' in page and "3·12案" in page and f"/intel/network/?warning={linked.pk}" in page


def test_a_new_link_to_a_closed_case_raises_a_live_warning_one_level(
        api_for, users, demo_geo, closed_case, django_capture_on_commit_callbacks):
    duty = api_for(users["duty"])
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-9201", night=local_night(2), stay_min=90)
    duty.post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv")
    w = Warning.objects.get(kind="idle_pier_landing", vessels=["BD-9201"])
    before = w.level
    vessel = Element.objects.create(kind="vessel", key="BD-9201", label="BD-9201")
    truck = Element.objects.get(kind="vehicle", key="浙B12345")
    with django_capture_on_commit_callbacks(execute=True):
        res = duty.post("/api/intel/links/", {"a": vessel.pk, "b": truck.pk, "kind": "seen_together"}, format="json")
    assert res.status_code == 201
    w.refresh_from_db()
    order = ["blue", "yellow", "orange", "red"]
    assert order.index(w.level) == min(order.index(before) + 1, 3)
    assert w.evidence["level_raised_by"]["cases"] == ["3·12"]
    # the same case again (another link) does not raise it twice
    person = Element.objects.get(kind="person", roles__contains="组织者")
    level = w.level
    with django_capture_on_commit_callbacks(execute=True):
        duty.post("/api/intel/links/", {"a": vessel.pk, "b": person.pk, "kind": "owns"}, format="json")
    w.refresh_from_db()
    assert w.level == level


def test_links_from_a_case_join_its_people_vessels_and_vehicles(closed_case):
    links = Link.objects.filter(case=closed_case)
    assert links.count() == 3 and {lk.kind for lk in links} == {"same_case"}
    kinds = set(Element.objects.filter(pk__in=[*links.values_list("src", flat=True), *links.values_list("dst", flat=True)])
                .values_list("kind", flat=True))
    assert kinds == {"person", "vessel", "vehicle"}
    # idempotent
    from apps.intel.services import links_from_case

    links_from_case(case=closed_case)
    assert Link.objects.filter(case=closed_case).count() == 3


def test_a_market_finding_traced_to_a_truck_links_the_cold_store_and_collides(
        api_for, make_user, closed_case, django_capture_on_commit_callbacks):
    from datetime import UTC, datetime

    from apps.intel.models import Hit
    from apps.sources.models import MarketEntity

    inspector = make_user("market1", "dept_officer", "market")
    store = MarketEntity.objects.create(kind="cold_store", name="石浦某冷库", license_no="91330225TEST")
    with django_capture_on_commit_callbacks(execute=True):
        res = api_for(inspector).post("/api/sources/records/", {
            "process": "frozen_goods", "entity": store.pk, "subject": "浙B·12345 冷链车", "goods": "冻品（外文包装）",
            "occurred_at": datetime(2026, 11, 20, 2, tzinfo=UTC).isoformat()}, format="json")
    assert res.status_code == 201, res.content
    link = Link.objects.get(kind="goods_traced")
    assert {link.src.kind, link.dst.kind} == {"company", "vehicle"} and link.source == "market"
    company = Element.objects.get(kind="company")
    assert company.entity == store and company.label == "石浦某冷库"
    # the truck was in the closed case 3·12: the finding is recorded as a hit with the chain
    hits = Hit.objects.filter(subject="finding")
    assert hits.exists() and any("3·12案" in h.summary for h in hits)


def test_a_tip_naming_a_plate_of_the_registry_is_a_hit(closed_case, django_capture_on_commit_callbacks):
    from apps.intel.models import Hit
    from apps.reporting import services as reporting

    with django_capture_on_commit_callbacks(execute=True):
        receipt = reporting.tip_submit(category="trucks_at_pier", description="凌晨码头边停着一辆浙B·12345的厢式货车在接货。",
                                         place_text="高塘岛西侧闲置码头")
    from apps.reporting.models import Tip

    tip = Tip.objects.get(code=receipt.code)
    hit = Hit.objects.get(subject="tip", subject_id=tip.pk, hops=0)  # and the elements one link on
    assert hit.element.key == "浙B12345" and "3·12案" in hit.summary


def test_adding_a_person_to_a_case_links_them_after_commit(api_for, users, closed_case, django_capture_on_commit_callbacks):
    from apps.enforcement.models import CasePerson

    with django_capture_on_commit_callbacks(execute=True):
        CasePerson.objects.create(case=closed_case, role="escort", name="赵六")
    assert Link.objects.filter(case=closed_case).count() == 6  # four members pairwise
