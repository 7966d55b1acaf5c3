"""The operations centre handles tips: triage (FSM), links, dispatch, close — command roles only, all audited."""
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.elements.models import Warning
from apps.enforcement.models import Task
from apps.reporting import services
from apps.reporting.models import Tip

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt(media_root):
    return services.tip_submit(category="boat_unloading", description="夜里有船靠岸卸货，搬了很多箱子。", lon=121.905, lat=29.097)


def _warning() -> Warning:
    now = timezone.now()
    return Warning.objects.create(kind="idle_pier_landing", level="orange", score=71.5, episode_key="test-ep-1", start=now - timedelta(hours=1), end=now)


def test_triage_pages_are_for_the_operations_centre_only(client, users, receipt):
    tip = receipt.tip
    for url in ["/public/manage/tips/", f"/public/manage/tips/{tip.pk}/"]:
        client.logout()
        assert client.get(url).status_code == 302
        for who in ["police", "police_head", "grid", "auditor"]:
            client.force_login(users[who])
            assert client.get(url).status_code == 403, (who, url)
            assert client.post(url, {"action": "triage", "outcome": "false"}).status_code in (403, 405)
        client.force_login(users["duty"])
        res = client.get(url)
        assert res.status_code == 200 and tip.code in res.content.decode()
    assert Tip.objects.get(pk=tip.pk).state == Tip.State.NEW
    with pytest.raises(PermissionDenied):
        services.tip_triage(tip=tip, actor=users["police"], outcome="useful")
    # the staff API: command roles and auditors read, departments do not
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(users["auditor"])
    assert api.get("/api/reporting/tips/").json()["count"] == 1
    indicators = api.get("/api/reporting/indicators/").json()
    assert indicators["total"] == 1 and indicators["by_state"]["new"] == 1
    api.force_authenticate(users["police"])
    assert api.get("/api/reporting/tips/").status_code == 403
    assert api.get("/api/reporting/indicators/").status_code == 403


def test_triage_link_dispatch_close_through_the_page_with_the_audit_trail(client, users, receipt):
    tip = receipt.tip
    url = f"/public/manage/tips/{tip.pk}/"
    client.force_login(users["duty"])
    # duplicate needs the original's code
    res = client.post(url, {"action": "triage", "outcome": "duplicate", "duplicate_of": "XS-ZZZZ-ZZZZ"})
    assert res.status_code == 400 and "原举报编码" in res.content.decode()
    res = client.post(url, {"action": "triage", "outcome": "useful", "level": "red", "note": "与雷达轨迹吻合"})
    assert res.status_code == 302
    tip.refresh_from_db()
    assert tip.state == Tip.State.USEFUL and tip.level == "red" and tip.triaged_by == users["duty"]
    entry = LogEntry.objects.get_for_object(tip).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["state"] == ["new", "useful"] and entry.actor == users["duty"]
    # a second triage is refused
    res = client.post(url, {"action": "triage", "outcome": "false"})
    assert res.status_code == 400 and "已研判" in res.content.decode()

    warning = _warning()
    assert client.post(url, {"action": "link", "warning": "999999"}).status_code == 400
    assert client.post(url, {"action": "link", "warning": "abc"}).status_code == 400
    assert client.post(url, {"action": "link", "warning": str(warning.pk)}).status_code == 302
    assert Tip.objects.get(pk=tip.pk).warning == warning and warning.tips.get() == tip
    res = client.post(url, {"action": "link", "case": "999999"})
    assert res.status_code == 400 and "不存在" in res.content.decode()

    # one-click dispatch through enforcement: department tasks and a case file
    res = client.post(url, {"action": "dispatch", "level": "red", "note": "请海警、公安联合核查"})
    assert res.status_code == 302
    tip.refresh_from_db()
    assert tip.state == Tip.State.DISPATCHED and tip.dispatch is not None and tip.case is not None
    tasks = list(Task.objects.filter(dispatch=tip.dispatch))
    assert tasks and {t.level for t in tasks} == {"red"}
    assert tip.dispatch.title.startswith(f"群众举报 {tip.code}") and "13" not in tip.dispatch.title
    assert client.post(url, {"action": "link", "case": str(tip.case.pk)}).status_code == 302
    public = services.tip_authenticate(code=receipt.code, secret=receipt.secret)
    from apps.reporting.selectors import tip_public_view

    view = tip_public_view(tip=public)
    assert view.status == "正在处置" and view.step == 2
    departments = {t.department.name for t in tasks}
    assert not any(name in str(view) for name in departments) and users["duty"].username not in str(view)
    # when every task has fed back or closed, the tipster sees that the work is done — still no names
    Task.objects.filter(dispatch=tip.dispatch).update(state=Task.State.FEEDBACK_SUBMITTED)
    assert tip_public_view(tip=Tip.objects.get(pk=tip.pk)).status == "处置完毕"

    assert client.post(url, {"action": "close", "note": "已查获"}).status_code == 302
    tip.refresh_from_db()
    assert tip.state == Tip.State.CLOSED and tip.closed_at
    assert tip_public_view(tip=tip).status == "已办结"
    assert client.post(url, {"action": "close"}).status_code == 400
    assert client.post(url, {"action": "nonsense"}).status_code == 400


def test_transitions_follow_the_state_machine(users, receipt):
    tip = receipt.tip
    with pytest.raises(ValidationError):
        services.tip_close(tip=tip, actor=users["duty"])  # a new tip is triaged first
    with pytest.raises(ValidationError):
        services.tip_dispatch(tip=tip, actor=users["duty"])  # only useful tips are dispatched
    services.tip_triage(tip=tip, actor=users["duty"], outcome="false", note="正常作业")
    with pytest.raises(ValidationError):
        services.tip_dispatch(tip=Tip.objects.get(pk=tip.pk), actor=users["duty"])
    other = services.tip_submit(category="other", description="另一条相同的情况反映", place_text="同一码头").tip
    services.tip_triage(tip=other, actor=users["commander"], outcome="duplicate", duplicate_of_code=receipt.code.lower())
    other.refresh_from_db()
    assert other.state == Tip.State.DUPLICATE and other.duplicate_of_id == tip.pk
    # the dispatch contract enforcement reads carries nothing of the tipster
    assert tip.dispatch_title().startswith(f"群众举报 {tip.code}") and tip.dispatch_kind() == "tip" and tip.dispatch_level() == "orange"
