"""Foundation: role and department checks with real requests, and the audit trail."""
import pytest
from auditlog.models import LogEntry
from django.db import DatabaseError, connection, transaction
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def test_anonymous_is_refused_and_staff_reads_departments(api_for, users):
    assert api_for().get("/api/core/departments/").status_code in (401, 403)
    res = api_for(users["police"]).get("/api/core/departments/")
    assert res.status_code == 200
    assert res.json()["count"] == 14
    names = {d["name"] for d in res.json()["results"]}
    assert {"海警工作站", "海关", "县烟草专卖局", "县市场监管局", "县纪委监委"} <= names


def test_audit_trail_is_for_auditors_and_commander_only(api_for, users):
    assert api_for(users["police"]).get("/api/core/audit/").status_code == 403
    assert api_for(users["grid"]).get("/api/core/audit/").status_code == 403
    assert api_for(users["auditor"]).get("/api/core/audit/").status_code == 200
    assert api_for(users["commander"]).get("/api/core/audit/").status_code == 200
    # nobody writes it through the API
    assert api_for(users["auditor"]).post("/api/core/audit/", {}).status_code in (403, 405)
    assert api_for(users["commander"]).delete("/api/core/audit/").status_code in (403, 405)


def test_auditor_cannot_write_anything(api_for, users):
    res = api_for(users["auditor"]).post("/api/core/departments/", {"code": "x"})
    assert res.status_code == 403


def test_a_change_is_audited_with_who_where_and_before_after(client, users, departments, api_for):
    dept = departments["customs"]
    client.force_login(users["commander"])
    # a change made through a real request carries the actor and the address
    from apps.core.models import Department

    client.get("/")  # establish session
    with transaction.atomic():
        from auditlog.context import set_actor

        with set_actor(users["commander"], remote_addr="10.1.2.3"):
            dept.phone = "0574-65700000"
            dept.save()
    entry = LogEntry.objects.get_for_object(dept).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == users["commander"]
    assert entry.remote_addr == "10.1.2.3"
    assert entry.changes_dict["phone"] == ["", "0574-65700000"]

    found = api_for(users["auditor"]).get("/api/core/audit/", {"model": "core.department", "object_pk": dept.pk}).json()
    assert any(r["changes"].get("phone") == ["", "0574-65700000"] and r["actor"] == "commander" for r in found["results"])
    assert Department.objects.get(pk=dept.pk).phone == "0574-65700000"


def test_token_requests_are_audited_with_the_token_user(client, users):
    token = Token.objects.create(user=users["commander"])
    res = client.get("/api/core/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert res.status_code == 200
    assert res.json()["role"] == "commander"


def test_audit_entries_cannot_be_edited(users, departments):
    dept = departments["port"]
    dept.phone = "1"
    dept.save()
    entry = LogEntry.objects.get_for_object(dept).latest("timestamp")
    with pytest.raises(DatabaseError):
        with transaction.atomic():
            LogEntry.objects.filter(pk=entry.pk).update(changes_text="tampered")
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError):
            with transaction.atomic():
                LogEntry.objects.filter(pk=entry.pk).delete()


def test_pages_check_roles(client, users):
    client.force_login(users["police"])
    assert client.get("/audit/").status_code == 403
    client.force_login(users["auditor"])
    assert client.get("/audit/").status_code == 200
    client.logout()
    assert client.get("/audit/").status_code == 302


def test_openapi_schema_and_docs_are_served_locally(client, users):
    client.force_login(users["duty"])
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()
