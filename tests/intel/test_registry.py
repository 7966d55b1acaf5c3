"""The registry through the API: import with a per-row report, identities for custodians only, scoping."""
from __future__ import annotations

import io

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.intel.models import Element
from apps.reporting import crypto

from .conftest import ID_ZHANG

pytestmark = pytest.mark.django_db

CSV = f"""类别,名称,标识,证件号码,电话,身份,关注等级,列管理由,到期日期
人员,李四,,{ID_ZHANG},13805741234,船主,重点,多次夜间靠泊,2027-12-31
车辆,冷藏车,浙B·54321,,,,布控,3·12案涉案车辆,
船舶,浙象渔05678,412405678,,,,关注,,
飞机,无名,,,,,,,
人员,王五,,330225198001010011,,司机,,,
车辆,坏车牌,ABC,,,,,,
场所,石浦冷库,,,,,重点,,2027-13-01
企业,象山某冷链公司,91330225MA2XXXXXX,,,,,,
"""


def _upload(api, text: str, name: str = "registry.csv"):
    return api.post("/api/intel/elements/import/", {"file": SimpleUploadedFile(name, text.encode("utf-8"))},
                    format="multipart")


def test_import_saves_the_good_rows_and_reports_each_bad_row_with_its_number(api_for, users):
    res = _upload(api_for(users["police"]), CSV)
    assert res.status_code == 200, res.content
    report = res.json()
    assert report["rows"] == 8 and report["created"] == 4
    bad = {e["row"]: e["message"] for e in report["errors"]}
    assert set(bad) == {5, 6, 7, 8}
    assert "类别" in bad[5] and "证件号码" in bad[6] and "车牌" in bad[7] and "到期" in bad[8]
    person = Element.objects.get(kind="person")
    assert person.label == "李某" and person.id_masked == "330225********0018"
    assert ID_ZHANG not in person.identity_ciphertext and "李四" not in person.identity_ciphertext
    assert crypto.unseal(person.identity_ciphertext)["id_number"] == ID_ZHANG
    assert person.department.code == "police"
    assert Element.objects.get(kind="vehicle").key == "浙B54321"
    assert Element.objects.filter(kind="phone", key="13805741234").exists()
    # importing the same file again updates, never duplicates
    again = _upload(api_for(users["police"]), CSV).json()
    assert again["created"] == 0 and again["updated"] == 4
    assert Element.objects.filter(kind="person").count() == 1


def test_import_of_an_xlsx_and_of_an_unreadable_file(api_for, users):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["类别", "名称", "标识", "关注等级"])
    wb.active.append(["车辆", "", "浙B·66666", "重点"])
    wb.active.append(["车辆", "", "", "重点"])
    buf = io.BytesIO()
    wb.save(buf)
    res = api_for(users["duty"]).post("/api/intel/elements/import/",
                                      {"file": SimpleUploadedFile("r.xlsx", buf.getvalue())}, format="multipart")
    assert res.status_code == 200 and res.json()["created"] == 1 and res.json()["errors"][0]["row"] == 3
    broken = api_for(users["duty"]).post("/api/intel/elements/import/",
                                         {"file": SimpleUploadedFile("r.xlsx", b"not a workbook")}, format="multipart")
    assert broken.status_code == 400 and "无法读取" in str(broken.json())
    assert api_for(users["grid"]).post("/api/intel/elements/import/", {"file": SimpleUploadedFile("r.csv", b"x")},
                                       format="multipart").status_code == 403


def test_a_department_officer_without_the_right_never_sees_the_id_number(api_for, users, departments):
    from apps.intel.services import custodian_group_ensure

    _upload(api_for(users["police"]), CSV)
    person = Element.objects.get(kind="person")
    police = api_for(users["police"])
    body = police.get(f"/api/intel/elements/{person.pk}/").json()
    assert body["id_masked"] == "330225********0018" and ID_ZHANG not in str(body) and "李四" not in str(body)
    assert ID_ZHANG not in str(police.get("/api/intel/elements/").json())
    res = police.post(f"/api/intel/elements/{person.pk}/identity/", {"reason": "核查身份"}, format="json")
    assert res.status_code == 403
    # a custodian reads it; the read is an ACCESS entry on the audit trail naming the reader
    users["police"].groups.add(custodian_group_ensure())
    reader = type(users["police"]).objects.get(pk=users["police"].pk)  # no cached permissions
    police = api_for(reader)
    res = police.post(f"/api/intel/elements/{person.pk}/identity/", {"reason": "核查身份"}, format="json")
    assert res.status_code == 200 and res.json()["identity"] == {"name": "李四", "id_number": ID_ZHANG}
    assert res["Cache-Control"] == "no-store"
    entry = LogEntry.objects.filter(object_pk=str(person.pk), action=LogEntry.Action.ACCESS).get()
    assert entry.actor == reader
    # no reason, no read
    assert police.post(f"/api/intel/elements/{person.pk}/identity/", {}, format="json").status_code == 400


def test_departments_see_their_own_and_shared_elements_field_roles_nothing(api_for, users):
    _upload(api_for(users["police"]), CSV)
    Element.objects.create(kind="vehicle", key="浙B00001", label="浙B00001")  # shared (no department)
    assert api_for(users["police"]).get("/api/intel/elements/").json()["count"] == 6  # 4 imported + the person's phone + the shared one
    customs = api_for(users["customs"]).get("/api/intel/elements/").json()
    assert [e["key"] for e in customs["results"]] == ["浙B00001"]
    person = Element.objects.get(kind="person")
    assert api_for(users["customs"]).get(f"/api/intel/elements/{person.pk}/").status_code == 404
    assert api_for(users["grid"]).get("/api/intel/elements/").status_code == 403
    assert api_for(users["auditor"]).get("/api/intel/elements/").json()["count"] == 6
    assert api_for(users["auditor"]).post("/api/intel/elements/", {"kind": "vehicle", "name": "浙B1"},
                                          format="json").status_code == 403


def test_the_import_command_reports_bad_rows(tmp_path, departments):
    from tests.elements.conftest import run_json

    (tmp_path / "r.csv").write_text(CSV, encoding="utf-8")
    report = run_json("import_key_elements", str(tmp_path / "r.csv"), "--department", "customs")
    assert report["created"] == 4 and [e["row"] for e in report["errors"]] == [5, 6, 7, 8]
    assert Element.objects.get(kind="vehicle").department.code == "customs"


def test_key_rotation_re_seals_identities(api_for, users, settings):
    from cryptography.fernet import Fernet

    from apps.intel.services import person_identities_rotate
    from tests.elements.conftest import run_command

    _upload(api_for(users["police"]), CSV)
    old = Element.objects.get(kind="person").identity_ciphertext
    settings.TIPSTER_KEYS = [Fernet.generate_key().decode(), *settings.TIPSTER_KEYS]
    assert "re-encrypted key persons: 1" in run_command("rotate_tipster_keys")
    new = Element.objects.get(kind="person").identity_ciphertext
    assert new != old and crypto.unseal(new)["name"] == "李四"
    settings.TIPSTER_KEYS = settings.TIPSTER_KEYS[:1]  # the old key dropped: still readable
    assert crypto.unseal(new)["id_number"] == ID_ZHANG
    assert person_identities_rotate() == 1
