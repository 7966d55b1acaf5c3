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
