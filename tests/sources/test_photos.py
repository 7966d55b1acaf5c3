"""Photos: real content type and size checked, EXIF (GPS, phone) stripped before storing,
served only to users who may see a record they belong to."""
import io

import pytest
from django.utils import timezone
from PIL import ExifTags, Image

from apps.sources import services
from apps.sources.models import Checkin, Photo

from .conftest import PIER_LAT, PIER_LON, jpeg_bytes, new_uuid, upload

pytestmark = pytest.mark.django_db


def checkin(user, plan, photo):
    return services.checkin_record(
        actor=user, plan_id=plan.id, lon=PIER_LON, lat=PIER_LAT, at=timezone.now(), photo=photo, client_uuid=new_uuid()
    )[0]


def test_exif_gps_is_stripped_from_the_stored_photo(users, open_plan):
    raw = jpeg_bytes()
    original = Image.open(io.BytesIO(raw)).getexif()
    assert original.get_ifd(ExifTags.IFD.GPSInfo)  # the upload does carry a position
    assert b"SpyPhone" in raw

    stored = checkin(users["grid"], open_plan, upload(data=raw)).photo
    with stored.file.open("rb") as fh:
        data = fh.read()
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and img.size == (64, 48)
    exif = img.getexif()
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert ExifTags.Base.Make not in exif and ExifTags.Base.Model not in exif
    assert b"SpyPhone" not in data and b"X1-SERIAL" not in data and b"Exif" not in data
    assert stored.sha256 and stored.size_bytes == len(data)


def test_png_and_webp_are_kept_in_their_format(users):
    for fmt, mime in (("PNG", "image/png"), ("WEBP", "image/webp")):
        buf = io.BytesIO()
        Image.new("RGBA", (20, 10), (1, 2, 3, 128)).save(buf, fmt)
        photo = services.photo_store(upload=upload(f"x.{fmt.lower()}", buf.getvalue(), mime), actor=users["grid"])
        assert photo.content_type == mime
        assert Image.open(photo.file.path).format == fmt


@pytest.mark.parametrize(
    "data, message",
    [
        (b"GIF89a" + b"\0" * 100, "照片格式不支持"),
        (b"%PDF-1.7 not a photo", "照片格式不支持"),
        (b"<script>alert(1)</script>", "照片格式不支持"),
        (jpeg_bytes()[:200], "照片已损坏"),
        (b"", "照片为空"),
    ],
)
def test_not_a_photo_is_refused_whatever_its_name_says(users, data, message):
    with pytest.raises(Exception) as exc:
        services.photo_store(upload=upload("evil.jpg", data, "image/jpeg"), actor=users["grid"])
    assert message in " ".join(exc.value.messages)
    assert not Photo.objects.exists()


def test_too_large_a_photo_is_refused(settings, api_for, users, open_plan):
    settings.UPLOAD_MAX_BYTES = 500
    res = api_for(users["grid"]).post(
        "/api/sources/checkins/",
        {"plan": open_plan.id, "lon": PIER_LON, "lat": PIER_LAT, "at": timezone.now().isoformat(), "client_uuid": new_uuid(), "photo": upload()},
        format="multipart",
    )
    assert res.status_code == 400 and "照片过大" in res.json()["detail"][0]
    assert not Checkin.objects.exists()


def test_photos_are_served_only_to_authorised_users(client, users, make_user, open_plan):
    photo = checkin(users["grid"], open_plan, upload()).photo
    url = f"/sources/photos/{photo.id}/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for user, code in [
        (users["grid"], 200),  # the one who took it
        (users["commander"], 200),  # operations centre
        (users["auditor"], 200),
        (make_user("gt_officer", "dept_officer", "gaotang"), 200),  # the township's staff
        (users["pierchief"], 403),  # not his check-in
        (users["police"], 403),  # another department
        (make_user("grid_hepu", "grid_worker", "hepu"), 403),
    ]:
        client.force_login(user)
        res = client.get(url)
        assert res.status_code == code, user.username
        if code == 200:
            assert res["Content-Type"] == "image/jpeg"
            assert res["X-Content-Type-Options"] == "nosniff"
            assert b"".join(res.streaming_content)[:3] == b"\xff\xd8\xff"
