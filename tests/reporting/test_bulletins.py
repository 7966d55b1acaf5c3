"""Education and bulletins: drafted and published by authorised staff only; public, searchable pages."""
import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied

from apps.reporting import services
from apps.reporting.models import Bulletin

pytestmark = pytest.mark.django_db

FORM = {"kind": "typical_case", "title": "高塘岛走私冻品案", "summary": "探路船与凌晨卸货", "source": "县公安局", "body": "走私团伙先派探路船吸引执法力量，主船凌晨靠泊闲置码头卸货。<script>alert(1)</script>"}


def test_only_command_roles_draft_and_publish(client, users):
    client.logout()
    assert client.get("/public/manage/bulletins/").status_code == 302
    for who in ["police", "grid", "auditor"]:
        client.force_login(users[who])
        assert client.get("/public/manage/bulletins/").status_code == 403
        assert client.post("/public/manage/bulletins/", FORM).status_code == 403
    assert Bulletin.objects.count() == 0
    with pytest.raises(PermissionDenied):
        services.bulletin_create(actor=users["police"], kind="law", title="非法草稿", body="不应保存的内容")

    client.force_login(users["duty"])
    res = client.post("/public/manage/bulletins/", FORM)
    assert res.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.state == Bulletin.State.DRAFT and bulletin.author == users["duty"]
    # a draft is not public
    anon = client.__class__()
    assert "高塘岛走私冻品案" not in anon.get("/public/bulletins/").content.decode()
    assert anon.get(f"/public/bulletins/{bulletin.pk}/").status_code == 404
    with pytest.raises(PermissionDenied):
        services.bulletin_publish(bulletin=bulletin, actor=users["police"])

    assert client.post(f"/public/manage/bulletins/{bulletin.pk}/", {"action": "publish"}).status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.state == Bulletin.State.PUBLISHED and bulletin.published_by == users["duty"] and bulletin.published_at
    entry = LogEntry.objects.get_for_object(bulletin).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert entry.changes_dict["state"] == ["draft", "published"] and entry.actor == users["duty"]

    page = anon.get(f"/public/bulletins/{bulletin.pk}/").content.decode()
    assert "探路船" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "高塘岛走私冻品案" in anon.get("/public/bulletins/", {"q": "探路船"}).content.decode()
    assert "高塘岛走私冻品案" in anon.get("/public/bulletins/", {"q": "冻品 凌晨", "kind": "typical_case"}).content.decode()
    assert "高塘岛走私冻品案" not in anon.get("/public/bulletins/", {"q": "冻品", "kind": "law"}).content.decode()
    assert "没有找到相关内容" in anon.get("/public/bulletins/", {"q": "成品油"}).content.decode()
    assert "高塘岛走私冻品案" in anon.get("/public/").content.decode()

    assert client.post(f"/public/manage/bulletins/{bulletin.pk}/", {"action": "withdraw"}).status_code == 302
    assert anon.get(f"/public/bulletins/{bulletin.pk}/").status_code == 404
    assert client.post(f"/public/manage/bulletins/{bulletin.pk}/", {"action": "withdraw"}).status_code == 400


def test_bulletin_form_errors_are_clear(client, users):
    client.force_login(users["commander"])
    res = client.post("/public/manage/bulletins/", {**FORM, "title": "", "kind": "nonsense"})
    assert res.status_code == 400
    assert Bulletin.objects.count() == 0
    res = client.get("/public/bulletins/", {"q": "x" * 500, "page": "abc"})
    assert res.status_code == 200
