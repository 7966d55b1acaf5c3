"""Industry supervision: 6 kinds of market entity, 4 regulated processes, inspections with
findings; goods without a legal source are flagged into the warning flow and dispatchable."""
import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from apps.sources import services
from apps.sources.models import MarketEntity, MarketFinding, RegulatedRecord

from .conftest import RecordingBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(make_user):
    return make_user("market1", "dept_officer", "market")


@pytest.fixture
def cold_store(market, departments):
    return services.market_entity_register(
        actor=market, kind="cold_store", name="石浦某冷链仓储", township=departments["gaotang"], lon=121.94, lat=29.2
    )


def test_the_six_kinds_and_four_processes():
    assert set(MarketEntity.Kind.values) == {"shipyard", "freight_station", "cold_store", "fuel_station", "oil_depot", "cigarette_shop"}
    assert set(RegulatedRecord.Process.values) == {"ship_repair", "special_vehicle", "frozen_goods", "cigarette_trade"}
    assert set(services.PROCESS_ENTITY_KINDS) == set(RegulatedRecord.Process.values)


def test_entities_and_records_through_the_api(api_for, market, cold_store):
    client = api_for(market)
    res = client.post("/api/sources/market-entities/", {"kind": "cigarette_shop", "name": "定塘某烟酒店", "license_no": "330225100123"}, format="json")
    assert res.status_code == 201 and res.json()["kind_label"] == "香烟销售点"
    assert client.post("/api/sources/market-entities/", {"kind": "casino", "name": "x"}, format="json").status_code == 400
    res = client.post(
        "/api/sources/records/",
        {"process": "frozen_goods", "entity": cold_store.id, "subject": "冷藏车 浙B12345 批次 0715", "goods": "冻牛肉",
         "quantity": "12.5", "unit": "吨", "source_document": "报关单 310120260001", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    assert res.status_code == 201, res.json()
    assert res.json()["legal_source"] is True and not MarketFinding.objects.exists()
    # ship repair registration is for shipyards only
    res = client.post(
        "/api/sources/records/",
        {"process": "ship_repair", "entity": cold_store.id, "subject": "浙象渔 01234", "occurred_at": timezone.now().isoformat()},
        format="json",
    )
    assert res.status_code == 400 and "不适用于存储冷库" in res.json()["detail"][0]


def test_goods_without_a_legal_source_are_flagged_into_the_warning_flow(api_for, market, cold_store, users, django_capture_on_commit_callbacks):
    from apps.elements.models import FieldSignal
    from apps.enforcement.models import Dispatch

    with django_capture_on_commit_callbacks(execute=True):
        res = api_for(market).post(
            "/api/sources/records/",
            {"process": "frozen_goods", "entity": cold_store.id, "subject": "无单据冻品", "goods": "冻鸡爪", "quantity": 3, "unit": "吨",
             "occurred_at": timezone.now().isoformat()},
            format="json",
        )
    assert res.status_code == 201 and res.json()["legal_source"] is False
    finding = MarketFinding.objects.get()
    assert finding.kind == "no_legal_source" and finding.flagged and finding.goods == "冻鸡爪"
    signal = FieldSignal.objects.get(ref=f"sources.marketfinding:{finding.id}")
    assert signal.kind == "illegal_goods" and (signal.lon, signal.lat) == (121.94, 29.2)
    assert [n.recipient for n in RecordingBackend.sent] == ["dept:antismuggling"]
    # dispatched through enforcement by the operations centre
    assert api_for(market).post(f"/api/sources/findings/{finding.id}/dispatch/").status_code == 403
    assert api_for(users["customs"]).post(f"/api/sources/findings/{finding.id}/dispatch/").status_code == 403
    res = api_for(users["duty"]).post(f"/api/sources/findings/{finding.id}/dispatch/", {"level": "orange"}, format="json")
    assert res.status_code == 201, res.json()
    dispatch = Dispatch.objects.get(pk=res.json()["dispatch"])
    assert dispatch.kind == "illegal_goods" and dispatch.township == "高塘岛乡"
    finding.refresh_from_db()
    assert finding.status == "dispatched"
    assert api_for(users["duty"]).post(f"/api/sources/findings/{finding.id}/dispatch/").status_code == 400


def test_an_inspection_with_findings(api_for, market, cold_store, django_capture_on_commit_callbacks):
    from apps.elements.models import FieldSignal

    with django_capture_on_commit_callbacks(execute=True):
        res = api_for(market).post(
            "/api/sources/inspections/",
            {"entity": cold_store.id, "at": timezone.now().isoformat(), "summary": "冷链专项检查",
             "findings": [{"kind": "no_legal_source", "goods": "冻猪蹄", "quantity": "800", "unit": "公斤"},
                          {"kind": "unregistered", "description": "出入库台账缺 3 天"}]},
            format="json",
        )
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["department_name"] == "县市场监管局" and len(body["findings"]) == 2
    assert [f["flagged"] for f in body["findings"]].count(True) == 1
    assert FieldSignal.objects.count() == 1
    bad = api_for(market).post("/api/sources/inspections/", {"entity": cold_store.id, "at": "x", "findings": [{"kind": "?"}]}, format="json")
    assert bad.status_code == 400


def test_industry_is_for_market_tobacco_commerce_and_command(api_for, client, users, make_user, market, cold_store):
    tobacco = make_user("tobacco1", "dept_officer", "tobacco")
    for user, code in [(market, 200), (tobacco, 200), (users["commander"], 200), (users["auditor"], 200)]:
        assert api_for(user).get("/api/sources/market-entities/").json()["count"] == 1, user.username
        client.force_login(user)
        assert client.get("/sources/industry/").status_code == code
    for user in (users["police"], make_user("gt_officer", "dept_officer", "gaotang")):
        assert api_for(user).get("/api/sources/market-entities/").json()["count"] == 0
        client.force_login(user)
        assert client.get("/sources/industry/").status_code == 403
    assert api_for(users["grid"]).get("/api/sources/market-entities/").status_code == 403
    # writes: the police may not register entities, the auditor writes nothing
    res = api_for(users["police"]).post("/api/sources/market-entities/", {"kind": "shipyard", "name": "x"}, format="json")
    assert res.status_code == 403 and "市场监管" in res.json()["detail"]
    assert api_for(users["police"]).post("/api/sources/inspections/", {}, format="json").status_code == 403
    assert api_for(users["auditor"]).post("/api/sources/market-entities/", {"kind": "shipyard", "name": "x"}, format="json").status_code == 403
    assert MarketEntity.objects.count() == 1
    assert LogEntry.objects.get_for_object(cold_store).filter(action=LogEntry.Action.CREATE).exists()
