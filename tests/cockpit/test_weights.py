"""The evaluation weighting: the commander edits it, weights sum to 1, every change is audited."""
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError

from apps.cockpit.models import EvaluationWeights
from apps.cockpit.services import evaluation_weights_get, evaluation_weights_update

pytestmark = pytest.mark.django_db

GOOD = {"received": "0.1", "ack_time": "0.3", "on_time": "0.2", "feedback": "0.2", "disposal": "0.1", "tips": "0.1"}


def test_defaults_sum_to_one():
    w = evaluation_weights_get()
    assert sum(w.as_dict().values()) == 1


def test_commander_changes_weights_and_the_audit_trail_keeps_before_and_after(users):
    row = evaluation_weights_update(actor=users["commander"], weights=GOOD, note="加重签收时效")
    assert row.ack_time == Decimal("0.300") and row.updated_by == users["commander"]
    entry = LogEntry.objects.get_for_object(row).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.actor == users["commander"]
    assert entry.changes_dict["ack_time"] == ["0.200", "0.300"]
    assert EvaluationWeights.objects.count() == 1


@pytest.mark.parametrize("who", ["duty", "auditor", "police_head", "grid"])
def test_only_the_commander_may_change_weights(users, who):
    with pytest.raises(PermissionDenied):
        evaluation_weights_update(actor=users[who], weights=GOOD)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"tips": "0.2"}, "之和须为 1"),
        ({"tips": "-0.1", "received": "0.3"}, "0 到 1"),
        ({"tips": "x"}, "不是数字"),
        ({"tips": "0.0999", "received": "0.1001"}, "三位小数"),
    ],
)
def test_bad_weights_are_refused_and_nothing_changes(users, change, message):
    before = evaluation_weights_get().as_dict()
    with pytest.raises(ValidationError, match=message):
        evaluation_weights_update(actor=users["commander"], weights={**GOOD, **change})
    assert evaluation_weights_get().as_dict() == before


def test_database_refuses_weights_that_do_not_sum_to_one():
    from django.db import IntegrityError, transaction

    w = evaluation_weights_get()
    w.tips = Decimal("0.5")
    with pytest.raises(IntegrityError), transaction.atomic():
        w.save()


def test_weights_api_roles_and_validation(api_for, users):
    for who in ("commander", "duty", "auditor"):
        assert api_for(users[who]).get("/api/cockpit/weights/").status_code == 200
    for who in ("police", "police_head", "grid"):
        assert api_for(users[who]).get("/api/cockpit/weights/").status_code == 403
    for who in ("duty", "auditor", "police_head"):
        assert api_for(users[who]).put("/api/cockpit/weights/", GOOD, format="json").status_code == 403
    bad = api_for(users["commander"]).put("/api/cockpit/weights/", {**GOOD, "tips": "0.3"}, format="json")
    assert bad.status_code == 400 and "之和须为 1" in bad.content.decode()
    missing = api_for(users["commander"]).put("/api/cockpit/weights/", {"tips": "1"}, format="json")
    assert missing.status_code == 400 and "请填写" in missing.content.decode()
    ok = api_for(users["commander"]).put("/api/cockpit/weights/", GOOD, format="json")
    assert ok.status_code == 200 and ok.json()["weights"]["ack_time"] == "0.300"


def test_weights_form_on_the_evaluation_page(client, users):
    client.force_login(users["duty"])
    assert client.post("/cockpit/evaluation/", GOOD).status_code == 403
    client.force_login(users["commander"])
    res = client.post("/cockpit/evaluation/", {**GOOD, "tips": "0.5"}, follow=True)
    assert res.status_code == 200 and "之和须为 1" in res.content.decode()
    res = client.post("/cockpit/evaluation/", GOOD, follow=True)
    assert "考核权重已更新" in res.content.decode()
    assert evaluation_weights_get().ack_time == Decimal("0.300")
