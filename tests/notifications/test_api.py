"""Channels (secrets write-only), notifications per task and department, delivery rates, the pages."""
import logging

import pytest

from apps.notifications.models import Channel, Notification

pytestmark = pytest.mark.django_db


def test_channel_secrets_are_sealed_and_never_shown(api_for, users, departments, gw):
    client = api_for(users["commander"])
    token, secret = "dt-token-never-shown-123", "SECnever-shown-secret-456"
    r = client.post("/api/notifications/channels/", {
        "name": "公安值班群", "kind": "dingtalk", "department": departments["police"].pk,
        "secrets": {"webhook": f"{gw.base}/robot/send?access_token={token}", "secret": secret},
    }, format="json")
    assert r.status_code == 201, r.content
    assert token not in r.content.decode() and secret not in r.content.decode()
    assert r.json()["secrets_set"] == ["secret", "webhook"]
    row = Channel.objects.get(pk=r.json()["id"])
    assert token not in row.secrets_sealed and secret not in row.secrets_sealed
    listed = client.get("/api/notifications/channels/").content.decode()
    assert token not in listed and secret not in listed
    # a change without secrets keeps them
    r = client.patch(f"/api/notifications/channels/{row.pk}/", {"name": "公安局值班群"}, format="json")
    assert r.status_code == 200 and r.json()["secrets_set"] == ["secret", "webhook"]
    from apps.notifications import sealing

    assert sealing.resolve(Channel.objects.get(pk=row.pk).secrets_sealed)["secret"] == secret
    # the audit trail does not hold the sealed value either
    from auditlog.models import LogEntry

    assert all("secrets_sealed" not in (e.changes or {}) for e in LogEntry.objects.get_for_object(row))


def test_channel_input_is_checked_in_chinese(api_for, users, departments):
    client = api_for(users["commander"])
    r = client.post("/api/notifications/channels/", {"name": "x", "kind": "wecom", "department": departments["police"].pk}, format="json")
    assert r.status_code == 400 and "请填写" in str(r.json())
    r = client.post("/api/notifications/channels/", {"name": "x", "kind": "wecom", "secrets": {"webhook": "ftp://x"}}, format="json")
    assert r.status_code == 400 and "http(s)" in str(r.json())


def test_who_may_configure_channels(api_for, users, departments, gw):
    body = {"name": "群", "kind": "wecom", "secrets": {"webhook": f"{gw.base}/cgi-bin/webhook/send?key=k"}}
    assert api_for(users["police"]).post("/api/notifications/channels/", {**body, "department": departments["police"].pk}, format="json").status_code == 403
    head = api_for(users["police_head"])
    assert head.post("/api/notifications/channels/", {**body, "department": departments["coastguard"].pk}, format="json").status_code == 403
    assert head.post("/api/notifications/channels/", body, format="json").status_code == 403  # county-wide: command only
    assert head.post("/api/notifications/channels/", {**body, "department": departments["police"].pk}, format="json").status_code == 201
    assert api_for(users["auditor"]).post("/api/notifications/channels/", body, format="json").status_code == 403
    # nor may a head take the county's channel over by moving it to their department
    county = api_for(users["commander"]).post("/api/notifications/channels/", body, format="json").json()
    r = head.patch(f"/api/notifications/channels/{county['id']}/", {"department": departments["police"].pk}, format="json")
    assert r.status_code == 403 and Channel.objects.get(pk=county["id"]).department_id is None


def test_notifications_by_task_and_department_with_rates(plans, make_warning, users, wired, gw, api_for, django_capture_on_commit_callbacks):
    from apps.enforcement import services

    gw.fail_next("/cgi-bin/webhook/send", 400)
    with django_capture_on_commit_callbacks(execute=True):
        dispatch = services.dispatch_subject(subject=make_warning(level="red"), actor=users["duty"])
    police_task = dispatch.tasks.filter(department__code="police").first()

    r = api_for(users["police"]).get(f"/api/notifications/notifications/?task={police_task.pk}")
    rows = r.json()["results"]
    assert {n["route"] for n in rows} == {"robot", "sms"} and all(n["state"] == "accepted" for n in rows)
    assert all(n["attempts"][0]["outcome"] == "accepted" for n in rows)
    assert {n["address"] for n in rows if n["route"] == "sms"} == {"057****0110", "138****0001"}
    # the police see their own department's notifications only
    assert {n["department"] for n in api_for(users["police"]).get("/api/notifications/notifications/").json()["results"]} == {police_task.department_id}
    assert api_for(users["customs"]).get(f"/api/notifications/notifications/?task={police_task.pk}").json()["count"] == 0

    rates = {r["channel_kind"]: r for r in api_for(users["duty"]).get("/api/notifications/delivery-rates/").json()}
    assert rates["dingtalk"]["rate_pct"] == 100.0 and rates["dingtalk"]["accepted"] == 2
    assert rates["wecom"]["failed"] == 1 and rates["wecom"]["rate_pct"] == 0.0
    assert rates["sms_tencent"]["accepted"] == 4

    summary = api_for(users["police"]).get(f"/api/notifications/task-summary/?tasks={police_task.pk}").json()
    assert {(i["route"], i["state"]) for i in summary[str(police_task.pk)]} == {("robot", "accepted"), ("sms", "accepted")}

    cockpit = api_for(users["duty"]).get("/api/cockpit/summary/").json()
    assert {r["channel_kind"] for r in cockpit["notifications"]} == {"dingtalk", "wecom", "sms_tencent"}

    failed = Notification.objects.get(state="failed")
    assert api_for(users["police"]).post(f"/api/notifications/notifications/{failed.pk}/resend/").status_code in (403, 404)
    with django_capture_on_commit_callbacks(execute=True):
        r = api_for(users["duty"]).post(f"/api/notifications/notifications/{failed.pk}/resend/")
    assert r.status_code == 200
    failed.refresh_from_db()
    assert failed.state == "accepted" and failed.attempt_count == 2


def test_secrets_never_reach_the_log(plans, make_warning, users, wired, gw, caplog, django_capture_on_commit_callbacks):
    from apps.enforcement import services

    gw.fail_next("/robot/send", 502)
    gw.fail_next("/robot/send", 403)
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        services.dispatch_subject(subject=make_warning(level="red"), actor=users["duty"])
    text = caplog.text + str(list(Notification.objects.values_list("last_error", flat=True)))
    assert "HTTP 403" in text
    for secret in (gw.dingtalk_token, gw.dingtalk_secret, gw.tencent_key, gw.wecom_key):
        assert secret not in text


def test_the_operations_page(client, users):
    client.force_login(users["duty"])
    r = client.get("/notifications/")
    assert r.status_code == 200 and "通知运维" in r.content.decode()
    client.force_login(users["police"])
    assert client.get("/notifications/").status_code == 403


def test_plan_channels_are_validated(api_for, users, plans):
    plan = plans[0] if isinstance(plans, list) else next(iter(plans.values()))
    client = api_for(users["duty"])
    r = client.patch(f"/api/enforcement/plans/{plan.pk}/", {"channels": {"red": {"notify": ["fax"]}}}, format="json")
    assert r.status_code == 400 and "robot" in str(r.json())
    r = client.patch(f"/api/enforcement/plans/{plan.pk}/", {"channels": {"red": {"notify": ["robot"], "escalate": ["sms", "email"]}}}, format="json")
    assert r.status_code == 200 and r.json()["channels"]["red"]["escalate"] == ["sms", "email"]
