"""The tipster's side: submit anonymously, get a code and secret, follow the tip and talk to the handler."""
import re

import pytest
from asgiref.sync import async_to_sync
from auditlog.models import LogEntry
from channels.layers import get_channel_layer

from apps.core.live import GROUP_COMMAND
from apps.reporting import services
from apps.reporting.models import Tip, TipMessage

from .conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


def test_the_public_pages_need_no_login(client, departments):
    for url in ["/public/", "/public/tip/", "/public/tip/status/", "/public/bulletins/", "/public/geo/county.geojson"]:
        res = client.get(url)
        assert res.status_code == 200, url
    page = client.get("/public/tip/").content.decode()
    assert "我要举报" in page and "船只靠岸卸货" in page and "验证题" in page
    assert "vendor/leaflet/leaflet.js" in page and "unpkg" not in page and "cdn" not in page.lower()
    assert client.get("/public/geo/county.geojson").json()["features"][0]["properties"]["name"] == "象山县"


def test_submit_gives_a_code_and_secret_then_status_and_thread(client, submit_tip, users, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(GROUP_COMMAND, channel)
    with django_capture_on_commit_callbacks(execute=True):
        res, code, secret = submit_tip(files=[("boat.jpg", jpeg_with_gps(), "image/jpeg")])
    assert res.status_code == 200
    assert "no-store" in res["Cache-Control"]
    assert re.fullmatch(r"XS-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code)
    assert len(secret.replace("-", "")) == 20
    assert "只显示这一次" in res.content.decode()

    tip = Tip.objects.get(code=code)
    assert tip.state == Tip.State.NEW and tip.attachments.count() == 1
    assert secret not in tip.secret_hash and secret.replace("-", "") not in tip.secret_hash
    assert not tip.has_contact and tip.contact_ciphertext == ""
    # the operations centre hears of it live; the push carries nothing of the tipster
    message = async_to_sync(layer.receive)(channel)
    assert message["event"] == "tip.new" and message["payload"]["code"] == code
    async_to_sync(layer.group_discard)(GROUP_COMMAND, channel)
    # no address on the audit trail for the anonymous submission
    entry = LogEntry.objects.get_for_object(tip).get(action=LogEntry.Action.CREATE)
    assert entry.remote_addr is None and entry.actor is None
    assert "secret_hash" not in entry.changes_dict and "contact_ciphertext" not in entry.changes_dict

    # with the code and secret (typed in lower case, without dashes) the tipster sees the status
    fresh = client.__class__()
    res = fresh.post("/public/tip/status/", {"action": "lookup", "code": code.lower().replace("-", " "), "secret": secret.replace("-", "").lower()})
    assert res.status_code == 302
    page = fresh.get("/public/tip/status/").content.decode()
    assert code in page and "已受理" in page and "您的举报已收到" in page

    # tipster adds a detail; the handler replies; the status page shows it — without the handler's name
    assert fresh.post("/public/tip/status/", {"action": "reply", "body": "船身有一条红色油漆线。"}).status_code == 302
    services.tip_reply(tip=tip, actor=users["duty"], body="已安排核查，请注意自身安全。")
    services.tip_triage(tip=tip, actor=users["duty"], outcome="useful", note="有效")
    page = fresh.get("/public/tip/status/").content.decode()
    assert "船身有一条红色油漆线。" in page and "已安排核查，请注意自身安全。" in page
    assert "办理人员" in page and "线索有效" in page
    assert users["duty"].username not in page and "反走私" not in page.split("沟通记录")[1].split("退出查询")[0]
    assert list(tip.messages.values_list("author", flat=True)) == [TipMessage.Author.TIPSTER, TipMessage.Author.HANDLER]

    # leaving ends the access: a later visit asks for the code again
    fresh.post("/public/tip/status/", {"action": "leave"})
    assert "举报编码" in fresh.get("/public/tip/status/").content.decode()
    assert fresh.post("/public/tip/status/", {"action": "reply", "body": "x"}).status_code == 403


def test_wrong_secret_is_refused_then_the_code_locks(client, submit_tip):
    _, code, secret = submit_tip()
    for _ in range(5):
        res = client.post("/public/tip/status/", {"action": "lookup", "code": code, "secret": "AAAA-BBBB-CCCC-DDDD-EEEE"})
        assert res.status_code == 403
        assert "举报编码或查询密钥不正确" in res.content.decode()
    # locked: even the right secret is refused for a while
    res = client.post("/public/tip/status/", {"action": "lookup", "code": code, "secret": secret})
    assert res.status_code == 429 and "次数过多" in res.content.decode()
    # an unknown code gets the same answer as a wrong secret
    res = client.post("/public/tip/status/", {"action": "lookup", "code": "XS-2222-3333", "secret": secret})
    assert res.status_code == 403 and "举报编码或查询密钥不正确" in res.content.decode()


def test_status_lookups_are_rate_limited_per_address(client, submit_tip):
    _, code, secret = submit_tip()
    statuses = [
        client.post("/public/tip/status/", {"action": "lookup", "code": f"XS-2222-{i:04d}", "secret": "x"}, REMOTE_ADDR="10.9.9.9").status_code
        for i in range(21)
    ]
    assert statuses[:20] == [403] * 20 and statuses[20] == 429
    # the limit is per address: another address still gets through with the right pair
    assert client.post("/public/tip/status/", {"action": "lookup", "code": code, "secret": secret}, REMOTE_ADDR="10.9.9.10").status_code == 302


def test_contact_given_is_kept_encrypted_and_the_form_keeps_anonymity_by_default(submit_tip):
    res, code, _ = submit_tip(contact_name="张三", contact_phone="13912345678")
    assert res.status_code == 200
    tip = Tip.objects.get(code=code)
    assert tip.has_contact and "13912345678" not in tip.contact_ciphertext and "张三" not in tip.contact_ciphertext


def test_a_closed_tip_takes_no_more_messages(client, submit_tip, users):
    _, code, secret = submit_tip()
    tip = Tip.objects.get(code=code)
    services.tip_triage(tip=tip, actor=users["duty"], outcome="false")
    services.tip_close(tip=Tip.objects.get(pk=tip.pk), actor=users["duty"])
    client.post("/public/tip/status/", {"action": "lookup", "code": code, "secret": secret})
    page = client.get("/public/tip/status/").content.decode()
    assert "已办结" in page
    res = client.post("/public/tip/status/", {"action": "reply", "body": "还有新情况"})
    assert res.status_code == 400 and "已办结" in res.content.decode()
