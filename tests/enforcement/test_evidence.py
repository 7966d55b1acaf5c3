"""Evidence uploads: real content type and size checked; files served only to authorised users, never a public URL."""
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.enforcement import services
from apps.enforcement.models import Evidence

from .conftest import png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(plans, users, make_warning):
    return services.dispatch_subject(subject=make_warning(level="orange"), actor=users["duty"]).case


def upload(api, case, name, content, kind="photo"):
    return api.post(f"/api/enforcement/cases/{case.pk}/evidence/",
                    {"kind": kind, "file": SimpleUploadedFile(name, content), "note": "现场"}, format="multipart")


def test_a_real_photo_is_stored_privately_and_served_to_participants(case, users, api_for, client, make_user, media):
    res = upload(api_for(users["police"]), case, "scene.jpg", png_bytes())  # named .jpg, really a PNG
    assert res.status_code == 201, res.content
    body = res.json()
    assert body["content_type"] == "image/png" and body["original_name"] == "scene.jpg"
    ev = Evidence.objects.get(pk=body["id"])
    path = ev.file.path
    assert not path.startswith(str(settings.MEDIA_ROOT))           # outside the media root
    assert path.endswith(".png")                                    # stored under its real type
    with pytest.raises(ValueError):
        ev.file.url                                                 # no public URL at all
    client.force_login(users["police"])
    got = client.get(body["url"])
    assert got.status_code == 200 and got["Content-Type"] == "image/png"
    assert b"".join(got.streaming_content) == png_bytes()
    assert got["X-Content-Type-Options"] == "nosniff"
    client.force_login(make_user("fish3", "dept_officer", "fisheries"))
    assert client.get(body["url"]).status_code == 404
    client.logout()
    assert client.get(body["url"]).status_code == 302


def test_a_disguised_file_is_refused_with_a_clear_message(case, users, api_for, media):
    api = api_for(users["police"])
    res = upload(api, case, "photo.jpg", b"<html><script>alert(1)</script></html>")
    assert res.status_code == 400 and "实际格式" in str(res.json())
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    res = upload(api, case, "report.pdf", pdf, kind="photo")
    assert res.status_code == 400 and "不允许作为该类证据" in str(res.json())
    assert upload(api, case, "report.pdf", pdf, kind="document").status_code == 201
    broken = png_bytes()[:40] + b"\x00" * 50
    res = upload(api, case, "broken.png", broken)
    assert res.status_code == 400 and "已损坏" in str(res.json())
    res = upload(api, case, "empty.png", b"")
    assert res.status_code == 400
    assert Evidence.objects.count() == 1


def test_size_is_limited(case, users, api_for, settings, media):
    settings.UPLOAD_MAX_BYTES = 100
    res = upload(api_for(users["police"]), case, "big.png", png_bytes(size=(400, 400)))
    assert res.status_code == 400 and "过大" in str(res.json())


def test_feedback_attachments_are_checked_before_anything_changes(case, users, api_for, media):
    from django.utils import timezone

    task = case.dispatch.tasks.get(department__code="police")
    api = api_for(users["police"])
    api.post(f"/api/enforcement/tasks/{task.pk}/acknowledge/")
    api.post(f"/api/enforcement/tasks/{task.pk}/start/")
    res = api.post(f"/api/enforcement/tasks/{task.pk}/feedback/", {
        "text": "查获", "result": "seized", "arrived_at": timezone.now().isoformat(),
        "attachments": [SimpleUploadedFile("a.png", png_bytes()), SimpleUploadedFile("b.png", b"not an image")],
    }, format="multipart")
    assert res.status_code == 400 and "b.png" in str(res.json())
    task.refresh_from_db()
    assert task.state == "in_progress" and not Evidence.objects.exists()
