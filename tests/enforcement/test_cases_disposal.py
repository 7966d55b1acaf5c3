"""Case files and the seized-goods disposal chain: in order, signed by a person and a department, no step skipped."""
import json
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from apps.enforcement import services
from apps.enforcement.models import DISPOSAL_ORDER, Case, DisposalStep
from apps.enforcement.selectors import case_timeline

from .conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(plans, users, make_warning):
    return services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"]).case


@pytest.fixture
def tobacco_goods(case, users):
    return services.goods_add(case=case, actor=users["police"], kind="tobacco", description="走私卷烟（利群）",
                              quantity="500", unit="条", estimated_value_yuan="150000")


def sign_all(goods, signer, evidence):
    values = {
        "handover": {"note": "现场移交"},
        "receiving_site": {"site": "县烟草专卖局仓库"},
        "count_confirm": {"quantity_confirmed": "500"},
        "evidence_fixed": {"evidence": evidence},
        "storage": {"site": "县烟草专卖局仓库 A 区"},
        "harmless_disposal": {"method": "粉碎后焚烧"},
        "cost_settlement": {"cost_bearer": "县财政", "cost_yuan": "3200", "subsidy_rate_pct": "50"},
    }
    return [services.disposal_step_sign(goods=goods, actor=signer, step=step, **values[step]) for step in DISPOSAL_ORDER]


def test_case_number_and_custodian_joins(case, tobacco_goods, more_users):
    assert case.number.startswith(f"XS{timezone.localtime().year}-")
    assert tobacco_goods.custodian_department.code == "tobacco"
    assert case.departments.filter(code="tobacco").exists()
    assert Case.objects.visible_to(more_users["tobacco"]).filter(pk=case.pk).exists()


def test_the_whole_chain_in_order(case, tobacco_goods, more_users, media):
    tobacco = more_users["tobacco"]
    photo = services.evidence_add(case=case, actor=tobacco, upload=SimpleUploadedFile("p.png", png_bytes()), note="销毁前拍照")
    steps = sign_all(tobacco_goods, tobacco, photo)
    assert [s.order for s in steps] == [1, 2, 3, 4, 5, 6, 7]
    assert all(s.signed_by == tobacco and s.department.code == "tobacco" for s in steps)
    last = steps[-1]
    assert last.cost_bearer == "县财政" and last.cost_yuan == Decimal("3200") and last.subsidy_rate_pct == Decimal("50")
    assert services.disposal_next_step(goods=tobacco_goods) is None
    with pytest.raises(ValidationError, match="已全部完成"):
        services.disposal_step_sign(goods=tobacco_goods, actor=tobacco, step="handover")


def test_a_step_out_of_order_is_refused(case, tobacco_goods, users):
    with pytest.raises(ValidationError) as exc:
        services.disposal_step_sign(goods=tobacco_goods, actor=users["police"], step="count_confirm", quantity_confirmed="500")
    assert "请先完成「物品交接」" in exc.value.message_dict["step"][0]
    assert not DisposalStep.objects.exists()
    services.disposal_step_sign(goods=tobacco_goods, actor=users["police"], step="handover")
    with pytest.raises(ValidationError, match="请先完成「指定场所接收」"):
        services.disposal_step_sign(goods=tobacco_goods, actor=users["police"], step="storage", site="仓库")
    with pytest.raises(ValidationError, match="已经签署过"):
        services.disposal_step_sign(goods=tobacco_goods, actor=users["police"], step="handover")
    assert list(DisposalStep.objects.values_list("step", flat=True)) == ["handover"]


def test_each_step_needs_its_details(case, tobacco_goods, users):
    police = users["police"]
    services.disposal_step_sign(goods=tobacco_goods, actor=police, step="handover")
    with pytest.raises(ValidationError, match="指定接收场所"):
        services.disposal_step_sign(goods=tobacco_goods, actor=police, step="receiving_site")
    services.disposal_step_sign(goods=tobacco_goods, actor=police, step="receiving_site", site="烟草仓库")
    with pytest.raises(ValidationError, match="不一致"):
        services.disposal_step_sign(goods=tobacco_goods, actor=police, step="count_confirm", quantity_confirmed="480")
    services.disposal_step_sign(goods=tobacco_goods, actor=police, step="count_confirm", quantity_confirmed="480", note="20 条破损")
    with pytest.raises(ValidationError, match="销毁前必须固定证据"):
        services.disposal_step_sign(goods=tobacco_goods, actor=police, step="evidence_fixed")


def test_only_participants_sign(case, tobacco_goods, users, make_user):
    outsider = make_user("fish9", "dept_officer", "fisheries")
    with pytest.raises(PermissionDenied):
        services.disposal_step_sign(goods=tobacco_goods, actor=outsider, step="handover")
    with pytest.raises(PermissionDenied):
        services.disposal_step_sign(goods=tobacco_goods, actor=users["auditor"], step="handover")


def test_sign_over_the_api(case, tobacco_goods, users, api_for):
    url = f"/api/enforcement/goods/{tobacco_goods.pk}/sign/"
    police = api_for(users["police"])
    res = police.post(url, {"step": "receiving_site", "site": "仓库"}, format="json")
    assert res.status_code == 400 and "请先完成「物品交接」" in str(res.json())
    ok = police.post(url, {"step": "handover"}, format="json")
    assert ok.status_code == 201 and ok.json()["signed_by"] == "police1" and ok.json()["department"] == "县公安局"
    detail = police.get(f"/api/enforcement/cases/{case.pk}/").json()
    chain = detail["goods"][0]["chain"]
    assert [c["signed"] for c in chain] == [True] + [False] * 6
    assert chain[1]["next"] is True
    assert api_for(users["grid"]).post(url, {"step": "receiving_site", "site": "x"}, format="json").status_code == 403


def test_goods_input_is_checked(case, users):
    with pytest.raises(ValidationError) as exc:
        services.goods_add(case=case, actor=users["police"], kind="refined_oil", description="柴油", quantity="-3",
                           unit="吨", estimated_value_yuan="abc")
    assert "数量不能小于" in exc.value.message_dict["quantity"][0]
    assert "估值必须是数字" in exc.value.message_dict["estimated_value_yuan"][0]
    oil = services.goods_add(case=case, actor=users["police"], kind="refined_oil", description="走私柴油", quantity="12.5",
                             unit="吨", estimated_value_yuan="95000")
    assert oil.custodian_department.code == "commerce"


def test_timeline_joins_task_events_and_the_audit_trail(case, tobacco_goods, users):
    task = case.dispatch.tasks.get(department__code="police")
    services.task_acknowledge(task=task, actor=users["police"])
    services.disposal_step_sign(goods=tobacco_goods, actor=users["police"], step="handover")
    services.case_add_vehicle(case=case, actor=users["duty"], plate="浙b12345", seized=True)
    items = case_timeline(case=case)
    titles = [i["title"] for i in items]
    assert titles[0].startswith("产生预警")
    assert any("县公安局·码头布控：签收" == t for t in titles)
    assert any(t.startswith("新增涉案物品") for t in titles)
    assert any(t.startswith("新增处置环节") for t in titles)
    assert any(t.startswith("新增涉案车辆：浙B12345") for t in titles)
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)


def test_case_close_requires_closed_tasks_and_finished_disposal(case, tobacco_goods, more_users, media):
    with pytest.raises(ValidationError) as exc:
        services.case_close(case=case, actor=more_users["duty"])
    assert "仍有未办结的任务" in exc.value.messages[0] and "处置流程未完成" in exc.value.messages[0]
    with pytest.raises(PermissionDenied):
        services.case_close(case=case, actor=more_users["police"])


def test_track_snapshot_geojson_is_accepted(case, users, media):
    doc = {"type": "LineString", "coordinates": [[121.9, 29.2], [121.95, 29.205]]}
    ev = services.evidence_add(case=case, actor=users["duty"], kind="track_snapshot",
                               upload=SimpleUploadedFile("track.geojson", json.dumps(doc).encode(), content_type="application/json"))
    assert ev.content_type == "application/geo+json" and ev.kind == "track_snapshot"
