"""The tipster's identity: encrypted at rest, readable only by the custodian, every read audited."""
import pytest
from auditlog.models import LogEntry
from cryptography.fernet import Fernet
from django.db import connection

from apps.reporting import crypto, services
from apps.reporting.models import IdentityRead, Tip

pytestmark = pytest.mark.django_db


@pytest.fixture
def tip_with_contact(media_root):
    return services.tip_submit(
        category="stored_goods", description="冷库半夜进出冷链车，冻品没有中文标签。", place_text="鹤浦镇",
        contact_name="李四", contact_phone="13700001111",
    ).tip


@pytest.fixture
def custodian(users):
    users["commander"].groups.add(services.custodian_group_ensure())
    return users["commander"]


def test_the_raw_column_holds_no_contact(tip_with_contact):
    with connection.cursor() as cur:
        cur.execute("SELECT contact_ciphertext FROM reporting_tip WHERE id = %s", [tip_with_contact.pk])
        raw = cur.fetchone()[0]
    assert raw and "13700001111" not in raw and "李四" not in raw and "1370" not in raw
    assert crypto.unseal(raw) == {"name": "李四", "phone": "13700001111"}


def test_keys_rotate_first_encrypts_all_decrypt(tip_with_contact, settings):
    old_keys = list(settings.TIPSTER_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.TIPSTER_KEYS = [new_key, *old_keys]
    assert crypto.unseal(Tip.objects.get(pk=tip_with_contact.pk).contact_ciphertext)["phone"] == "13700001111"
    assert services.tip_contacts_rotate() == 1
    settings.TIPSTER_KEYS = [new_key]  # the old key is gone: the rotated value still opens
    assert crypto.unseal(Tip.objects.get(pk=tip_with_contact.pk).contact_ciphertext)["phone"] == "13700001111"
    settings.TIPSTER_KEYS = old_keys  # and the old key alone no longer does
    with pytest.raises(crypto.InvalidToken):
        crypto.unseal(Tip.objects.get(pk=tip_with_contact.pk).contact_ciphertext)


def test_only_the_custodian_reads_the_contact_and_the_auditor_sees_who(api_for, users, custodian, tip_with_contact):
    url = f"/api/reporting/tips/{tip_with_contact.pk}/identity/"
    # officers without the designated permission are refused: a duty officer of the centre, a department officer
    for who in ["duty", "police", "coastguard"]:
        res = api_for(users[who]).post(url, {"reason": "核实线索"}, format="json")
        assert res.status_code == 403, who
    assert api_for().post(url, {"reason": "x"}, format="json").status_code in (401, 403)
    assert api_for(users["auditor"]).post(url, {"reason": "审计"}, format="json").status_code == 403
    assert IdentityRead.objects.count() == 0
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()
    # the tip as staff see it never carries the contact
    detail = api_for(users["duty"]).get(f"/api/reporting/tips/{tip_with_contact.pk}/").json()
    assert "13700001111" not in str(detail) and detail["has_contact"] is True
    # a reason is required
    assert api_for(custodian).post(url, {}, format="json").status_code == 400

    res = api_for(custodian, remote_addr="10.20.30.40").post(url, {"reason": "发放奖励前核实身份"}, format="json")
    assert res.status_code == 200
    assert res.json()["contact"] == {"name": "李四", "phone": "13700001111"}
    read = IdentityRead.objects.get()
    assert read.reader == custodian and read.reason == "发放奖励前核实身份"

    audit = api_for(users["auditor"]).get("/api/core/audit/", {"model": "reporting.tip", "object_pk": tip_with_contact.pk, "action": LogEntry.Action.ACCESS}).json()
    assert audit["count"] == 1
    assert audit["results"][0]["actor"] == custodian.username
    assert audit["results"][0]["remote_addr"] == "10.20.30.40"
    assert "13700001111" not in str(audit)
    reads = api_for(users["auditor"]).get("/api/core/audit/", {"model": "reporting.identityread"}).json()
    assert any(r["actor"] == custodian.username and "发放奖励前核实身份" in str(r["changes"]) for r in reads["results"])


def test_the_staff_page_offers_the_read_only_to_the_custodian(client, users, custodian, tip_with_contact):
    client.force_login(users["duty"])
    page = client.get(f"/public/manage/tips/{tip_with_contact.pk}/").content.decode()
    assert "只有举报人信息保管员可以查看" in page and 'id="identity-form"' not in page and "13700001111" not in page
    client.force_login(custodian)
    page = client.get(f"/public/manage/tips/{tip_with_contact.pk}/").content.decode()
    assert 'id="identity-form"' in page and "13700001111" not in page  # shown only after an audited read


def test_demo_gives_the_permission_to_the_commander_only(users):
    import io

    from apps.core import demo as core_demo
    from apps.core.models import User
    from apps.reporting import demo

    out = io.StringIO()
    core_demo.load(out)
    demo.load(out)
    demo.load(out)  # idempotent
    holders = [u.username for u in User.objects.all() if u.has_perm(services.IDENTITY_PERMISSION)]
    assert holders == ["commander"]
    assert Tip.objects.filter(has_contact=True).count() == 1
    assert Tip.objects.count() == 4 and set(Tip.objects.values_list("state", flat=True)) == {"new", "dispatched", "closed", "duplicate"}
