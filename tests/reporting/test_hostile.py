"""A battery of hostile submissions: each refused cleanly (4xx, Chinese message, never 500), and
afterwards nothing is stored — no Tip row, no attachment row, no file under MEDIA_ROOT."""
import io
import re
import time
import zipfile

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.reporting import protection
from apps.reporting.models import Tip, TipAttachment

from .conftest import jpeg_with_gps, png_bytes, tip_post_data

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u4e00-\u9fff]")


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("evil.txt", "x" * 100)
    return out.getvalue()


def _files_under(path) -> list:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


class Hostile:
    """One client per case, each from its own address, so the submit rate limit stays out of the way."""

    def __init__(self):
        self.n = 0

    def client(self) -> tuple[Client, str]:
        self.n += 1
        return Client(), f"10.66.0.{self.n}"

    def fresh(self, c: Client, addr: str) -> tuple[str, str]:
        from .conftest import challenge_from

        return challenge_from(c.get("/public/tip/", REMOTE_ADDR=addr).content.decode())

    def post(self, files=(), challenge=True, **fields):
        c, addr = self.client()
        token, answer = self.fresh(c, addr) if challenge else ("", "")
        data = tip_post_data(token, answer, **fields)
        if files:
            data["files"] = [SimpleUploadedFile(n, b, content_type=t) for n, b, t in files]
        return c.post("/public/tip/", data, REMOTE_ADDR=addr)


def _refused(res, fragment: str) -> None:
    body = res.content.decode()
    assert 400 <= res.status_code < 500, (res.status_code, fragment)
    assert fragment in body, (fragment, re.findall(r'<li>([^<]+)</li>', body))
    assert CJK.search(body)
    assert 'id="tip-code"' not in body


def test_hostile_battery_is_refused_and_leaves_nothing(media_root):
    h = Hostile()
    jpeg = jpeg_with_gps()
    big_jpeg = jpeg + b"\x00" * (8 * 1024 * 1024 + 10)

    # uploads: size, disguised types, mismatches, corrupt content, too many
    _refused(h.post(files=[("big.jpg", big_jpeg, "image/jpeg")]), "超过 8 MB")
    _refused(h.post(files=[("a.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 300 + b"This program cannot be run in DOS mode", "image/jpeg")]), "不是允许的格式")
    _refused(h.post(files=[("b.jpg", b"\x7fELF\x02\x01\x01" + b"\x00" * 300, "image/jpeg")]), "不是允许的格式")
    _refused(h.post(files=[("c.jpg", b"<html><body><script>alert(document.cookie)</script></body></html>", "image/jpeg")]), "不是允许的格式")
    _refused(h.post(files=[("d.jpg", _zip(), "image/jpeg")]), "不是允许的格式")
    _refused(h.post(files=[("e.png", png_bytes(), "video/mp4")]), "与实际内容不符")  # declared type disagrees
    _refused(h.post(files=[("clip.mp4", jpeg, "video/mp4")]), "与实际内容不符")  # name says video, bytes say JPEG
    _refused(h.post(files=[("f.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x13\x37" * 500, "image/jpeg")]), "已损坏")
    _refused(h.post(files=[("g.jpg", b"", "image/jpeg")]), "是空的")
    _refused(h.post(files=[(f"{i}.jpg", jpeg, "image/jpeg") for i in range(6)]), "最多上传 5 个文件")
    # the whole body too large: refused before it is parsed
    _refused(h.post(files=[("huge.mp4", b"\x00" * (46 * 1024 * 1024), "video/mp4")]), "提交的内容过大")

    # the local challenge: missing, wrong, forged, expired, reused
    _refused(h.post(challenge=False), "缺少验证题")
    _refused(h.post(challenge_answer="999"), "答案不正确")
    c, addr = h.client()
    token, answer = h.fresh(c, addr)
    _refused(c.post("/public/tip/", tip_post_data(token[:-3] + "abc", answer), REMOTE_ADDR=addr), "验证题无效")

    class PastSigner(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - protection.CHALLENGE_MAX_AGE_S - 60)

    old = PastSigner(salt=protection.CHALLENGE_SALT).sign_object({"n": "old-nonce", "h": "0" * 32})
    _refused(c.post("/public/tip/", tip_post_data(old, "1"), REMOTE_ADDR=addr), "已过期")
    c, addr = h.client()
    token, answer = h.fresh(c, addr)
    _refused(c.post("/public/tip/", tip_post_data(token, answer, description=""), REMOTE_ADDR=addr), "情况描述")
    _refused(c.post("/public/tip/", tip_post_data(token, answer), REMOTE_ADDR=addr), "已使用过")

    # the honeypot, and bad fields
    _refused(h.post(website="http://spam.example"), "未通过校验")
    _refused(h.post(description="走" * 2001), "不能超过 2000")
    _refused(h.post(lon="139.69", lat="35.68"), "不在象山县范围内")
    _refused(h.post(lon="abc", lat="29.1"), "地图位置无效")
    _refused(h.post(lon="", lat="", place_text=""), "请在地图上点选位置")
    _refused(h.post(category="<script>"), "请选择看到的情况类别")
    _refused(h.post(seen_at="2099-01-01T02:00"), "不能晚于现在")
    _refused(h.post(seen_at="昨天晚上"), "发现时间格式不正确")
    _refused(h.post(contact_phone="1" * 61), "不能超过 60 字")
    c, addr = h.client()
    _refused(c.post("/public/tip/", b"\x00\xff garbage", content_type="application/octet-stream", REMOTE_ADDR=addr), "缺少验证题")

    # a flood from one address: refused once past the limit, even a well-formed tip
    flood, addr = Client(), "10.77.0.1"
    for _ in range(5):
        _refused(flood.post("/public/tip/", tip_post_data("", "", website="x"), REMOTE_ADDR=addr), "未通过校验")
    token, answer = h.fresh(flood, addr)
    res = flood.post("/public/tip/", tip_post_data(token, answer), REMOTE_ADDR=addr)
    assert res.status_code == 429
    _refused(res, "提交过于频繁")

    assert Tip.objects.count() == 0
    assert TipAttachment.objects.count() == 0
    assert _files_under(media_root) == []


def test_a_failure_while_storing_removes_the_files_already_written(media_root, monkeypatch):
    """Nothing is left on disk when the database refuses the tip halfway (e.g. a lost connection)."""
    from apps.reporting import services
    from apps.reporting.uploads import upload_clean

    clean = [upload_clean(name="a.jpg", data=jpeg_with_gps()), upload_clean(name="b.png", data=png_bytes())]
    original_save = TipAttachment.save
    calls = {"n": 0}

    def flaky_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(TipAttachment, "save", flaky_save)
    with pytest.raises(RuntimeError):
        services.tip_submit(category="other", description="测试中途失败的提交", place_text="某处", files=clean)
    assert Tip.objects.count() == 0 and _files_under(media_root) == []


def test_script_injection_is_stored_inert_and_rendered_escaped(client, submit_tip, users, api_for):
    evil = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
    res, code, _ = submit_tip(description=f"看到船 {evil}\x00 卸货")  # a NUL byte: refused, in Chinese
    assert res.status_code == 400 and code is None and CJK.search(res.content.decode()) and Tip.objects.count() == 0
    res, code, secret = submit_tip(description=f"看到船 {evil} 卸货", place_text=evil[:100], contact_name=evil[:40])
    assert res.status_code == 200
    tip = Tip.objects.get(code=code)
    assert evil in tip.description  # kept as plain text

    client.post("/public/tip/status/", {"action": "lookup", "code": code, "secret": secret})
    client.post("/public/tip/status/", {"action": "reply", "body": evil})
    status_page = client.get("/public/tip/status/").content.decode()
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in status_page
    assert "<script>alert(" not in status_page and "<img src=x" not in status_page

    staff = Client()
    staff.force_login(users["duty"])
    page = staff.get(f"/public/manage/tips/{tip.pk}/").content.decode()
    assert "&lt;script&gt;alert(&quot;xss&quot;)&lt;/script&gt;" in page and "<script>alert(" not in page and "<img src=x" not in page
    listing = staff.get("/public/manage/tips/").content.decode()
    assert "<script>alert(" not in listing

    res = api_for(users["duty"]).get(f"/api/reporting/tips/{tip.pk}/")
    assert res["Content-Type"].startswith("application/json")
    assert evil in res.json()["description"]
