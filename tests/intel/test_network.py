"""The link graph through the API: automatic co-occurrence links, two hops, paths, manual links, exports."""
from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry

from apps.intel.models import Element, Link, NetworkExport
from tests.elements.conftest import landing_fixes, local_night, positions_csv

pytestmark = pytest.mark.django_db


def _landing_with_truck(api, pier, vessel: str, plate: str, night: int) -> None:
    fixes = landing_fixes(pier, vessel_id=vessel, night=local_night(night, 1, 0), stay_min=90)
    assert api.post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv").status_code in (200, 202)
    during = fixes[len(fixes) // 2].ts
    body = f"checkpoint_id,plate,timestamp,lat,lon\ndemo-kk-02,{plate},{during.isoformat()},,\n"
    assert api.post("/api/elements/captures/", body, content_type="text/csv").status_code in (200, 202)


def test_a_truck_captured_near_the_pier_during_a_stop_is_linked_to_the_boat_and_twice_is_stronger(api_for, users, demo_geo):
    duty = api_for(users["duty"])
    pier = demo_geo["demo-hp-01"]  # checkpoint demo-kk-02 is about 1.5 km away
    _landing_with_truck(duty, pier, "BD-5504", "皖K·33821", night=5)
    link = Link.objects.get(kind="seen_together", source="checkpoint")
    ends = {e.kind: e.key for e in (link.src, link.dst)}
    assert ends == {"vessel": "BD-5504", "vehicle": "皖K33821"}
    assert link.seen_count == 1 and link.confidence == pytest.approx(0.5)
    _landing_with_truck(duty, pier, "BD-5504", "皖K33821", night=3)
    link.refresh_from_db()
    assert Link.objects.filter(kind="seen_together").count() == 1
    assert link.seen_count == 2 and link.confidence == pytest.approx(0.8)
    assert link.end - link.start > timedelta(hours=24)


@pytest.fixture
def chain(db, departments):
    """boat —owns— 张某 —same case— truck —goods traced— 冷库; plus a weak link boat—phone."""
    mk = lambda kind, key, **kw: Element.objects.create(kind=kind, key=key, label=kw.pop("label", key), **kw)  # noqa: E731
    boat = mk("vessel", "412400001", label="浙象渔00001")
    zhang = mk("person", "id:x", label="张某", watch_level="key", roles="船主")
    truck = mk("vehicle", "浙B12345")
    store = mk("company", "91330225", label="石浦某冷库", department=departments["customs"])
    phone = mk("phone", "13800000000")
    from apps.intel.services import link_add

    link_add(a=boat, b=zhang, kind="owns", source="registry", confidence=0.95)
    link_add(a=zhang, b=truck, kind="same_case", source="case", ref="case:1", label="3·12", confidence=0.9)
    link_add(a=truck, b=store, kind="goods_traced", source="market", confidence=0.7)
    link_add(a=boat, b=phone, kind="called", source="officer", confidence=0.2)
    return {"boat": boat, "zhang": zhang, "truck": truck, "store": store, "phone": phone}


def test_the_network_api_answers_a_two_hop_neighbourhood_with_filters(api_for, users, chain):
    duty = api_for(users["duty"])
    res = duty.get("/api/intel/network/", {"elements": chain["boat"].pk})
    assert res.status_code == 200
    got = {n["label"] for n in res.json()["nodes"]}
    assert got == {"浙象渔00001", "张某", "浙B12345", "13800000000"}  # the cold store is three links away
    assert len(res.json()["links"]) == 3
    three = duty.get("/api/intel/network/", {"elements": chain["boat"].pk, "hops": 3}).json()
    assert "石浦某冷库" in {n["label"] for n in three["nodes"]}
    strong = duty.get("/api/intel/network/", {"elements": chain["boat"].pk, "min_confidence": 0.5}).json()
    assert "13800000000" not in {n["label"] for n in strong["nodes"]}
    only = duty.get("/api/intel/network/", {"elements": chain["boat"].pk, "kinds": "owns"}).json()
    assert {lk["kind"] for lk in only["links"]} == {"owns"}
    # a person's record in the graph is masked like everywhere else
    assert "id:x" not in str(res.json())


def test_the_shortest_path_between_two_elements(api_for, users, chain):
    res = api_for(users["duty"]).get("/api/intel/path/", {"a": chain["boat"].pk, "b": chain["store"].pk})
    assert res.status_code == 200
    body = res.json()
    assert body["path"] == [chain[k].pk for k in ("boat", "zhang", "truck", "store")]
    assert [lk["kind"] for lk in body["links"]] == ["owns", "same_case", "goods_traced"]
    lonely = Element.objects.create(kind="phone", key="1", label="1")
    none = api_for(users["duty"]).get("/api/intel/path/", {"a": chain["boat"].pk, "b": lonely.pk})
    assert none.status_code == 404 and "没有关联" in none.json()["detail"]


def test_a_department_sees_only_the_links_between_elements_it_may_see(api_for, users, chain):
    police = api_for(users["police"])
    three = police.get("/api/intel/network/", {"elements": chain["boat"].pk, "hops": 3}).json()
    assert "石浦某冷库" not in {n["label"] for n in three["nodes"]}  # the customs department's entry
    assert police.get("/api/intel/path/", {"a": chain["boat"].pk, "b": chain["store"].pk}).status_code == 404


def test_links_are_added_and_retired_by_hand_on_the_audit_trail(api_for, users, chain):
    police = api_for(users["police"])
    res = police.post("/api/intel/links/", {"a": chain["phone"].pk, "b": chain["truck"].pk, "kind": "uses",
                                            "confidence": 0.6, "note": "司机手机"}, format="json")
    assert res.status_code == 201
    link = Link.objects.get(pk=res.json()["id"])
    assert link.source == "officer" and link.created_by == users["police"]
    bad = police.post("/api/intel/links/", {"a": chain["phone"].pk, "b": chain["phone"].pk, "kind": "uses"}, format="json")
    assert bad.status_code == 400 and "自身" in str(bad.json())
    assert police.post(f"/api/intel/links/{link.pk}/retire/", {}, format="json").status_code == 400
    res = police.post(f"/api/intel/links/{link.pk}/retire/", {"reason": "核实为误关联"}, format="json")
    assert res.status_code == 200 and res.json()["active"] is False
    entries = LogEntry.objects.get_for_object(link).order_by("timestamp")
    assert [e.action for e in entries] == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE]
    assert all(e.actor == users["police"] for e in entries)
    net = police.get("/api/intel/network/", {"elements": chain["phone"].pk}).json()
    assert link.pk not in {lk["id"] for lk in net["links"]}


def test_the_export_is_for_command_roles_only_and_audited(api_for, users, chain):
    q = {"elements": chain["boat"].pk, "fmt": "graphml"}
    assert api_for(users["police"]).get("/api/intel/network/export/", q).status_code == 403
    assert api_for(users["auditor"]).get("/api/intel/network/export/", q).status_code == 403
    res = api_for(users["commander"]).get("/api/intel/network/export/", q)
    assert res.status_code == 200 and res["Content-Type"] == "application/graphml+xml"
    import io

    import networkx as nx

    g = nx.read_graphml(io.BytesIO(res.content))
    assert g.number_of_nodes() == 4 and {d["kind"] for _a, _b, d in g.edges(data=True)} == {"owns", "same_case", "called"}
    res = api_for(users["duty"]).get("/api/intel/network/export/", {**q, "fmt": "xlsx"})
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(res.content))
    assert wb.worksheets[1].max_row == 4  # header + three links
    exports = NetworkExport.objects.order_by("created_at")
    assert [(e.actor, e.fmt, e.nodes) for e in exports] == [(users["commander"], "graphml", 4), (users["duty"], "xlsx", 4)]
    assert LogEntry.objects.get_for_object(exports[0]).get().actor == users["commander"]
    assert api_for(users["commander"]).get("/api/intel/network/export/", {**q, "fmt": "pdf"}).status_code == 400


def test_the_timeline_of_a_vehicle_lists_its_captures_and_cases(api_for, users, closed_case):
    from datetime import UTC, datetime

    from apps.elements.models import VehicleCaptureRecord

    VehicleCaptureRecord.objects.create(checkpoint_code="demo-kk-02", plate="浙B12345", ts=datetime(2026, 11, 20, tzinfo=UTC))
    truck = Element.objects.get(kind="vehicle", key="浙B12345")
    items = api_for(users["duty"]).get(f"/api/intel/elements/{truck.pk}/timeline/").json()["items"]
    assert [i["kind"] for i in items] == ["capture", "case"]
    assert "3·12" in items[1]["text"]
