"""Photos lose all metadata before anyone sees them; videos lose their metadata boxes; staff-only serving."""
import io
import struct

import pytest
from django.core.exceptions import ValidationError
from PIL import Image

from apps.reporting.models import Tip
from apps.reporting.uploads import mp4_metadata_strip, upload_clean

from .conftest import jpeg_with_gps, png_bytes

pytestmark = pytest.mark.django_db


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def small_mp4() -> bytes:
    """A structurally valid MP4 with a GPS atom (©xyz) in moov/udta and an Apple location key in moov/meta."""
    ftyp = _box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
    udta = _box(b"udta", _box(b"\xa9xyz", b"\x00\x12\x15\xc7+29.1000+121.9000/"))
    meta = _box(b"meta", b"\x00\x00\x00\x00" + _box(b"keys", b"com.apple.quicktime.location.ISO6709"))
    mvhd = _box(b"mvhd", bytes(100))
    trak = _box(b"trak", _box(b"tkhd", bytes(84)) + _box(b"udta", _box(b"name", b"track-by-phone")))
    moov = _box(b"moov", mvhd + trak + udta + meta)
    mdat = _box(b"mdat", b"\x00" * 64)
    return ftyp + moov + mdat


def test_gps_and_exif_are_gone_from_a_stored_photo(submit_tip, users, client):
    original = jpeg_with_gps()
    res, code, _ = submit_tip(files=[("IMG_0001.JPG", original, "image/jpeg")])
    assert res.status_code == 200
    attachment = Tip.objects.get(code=code).attachments.get()
    stored = attachment.file.read()
    attachment.file.close()
    img = Image.open(io.BytesIO(stored))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert len(img.getexif()) == 0 and not img.getexif().get_ifd(0x8825)
    assert "exif" not in img.info and "comment" not in img.info and "icc_profile" not in img.info
    for marker in [b"Exif", b"SpyCam", b"Model-X", b"secret-comment", b"GPS"]:
        assert marker not in stored
    assert abs(img.getpixel((10, 10))[0] - 200) < 8  # the picture itself survives

    # served to the operations centre only, still without metadata
    url = f"/public/manage/attachments/{attachment.pk}/"
    assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(users["police"])
    assert client.get(url).status_code == 403
    client.force_login(users["duty"])
    res = client.get(url)
    assert res.status_code == 200 and res["Content-Type"] == "image/jpeg"
    served = b"".join(res.streaming_content)
    assert served == stored and not Image.open(io.BytesIO(served)).getexif()
    assert "private" in res["Cache-Control"]
    assert f"/media/{attachment.file.name}" not in str(client.get(f"/public/manage/tips/{attachment.tip_id}/").content)


def test_png_text_chunks_are_dropped():
    clean = upload_clean(name="p.png", data=png_bytes(), declared_type="image/png")
    img = Image.open(io.BytesIO(clean.data))
    assert clean.kind == "image" and img.format == "PNG" and img.mode == "RGBA"
    assert "Location" not in img.info and b"29.1N" not in clean.data


def test_exif_orientation_is_applied_before_the_exif_is_dropped():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    clean = Image.open(io.BytesIO(upload_clean(name="r.jpg", data=out.getvalue()).data))
    assert clean.size == (20, 40) and not clean.getexif()


def test_video_metadata_boxes_are_blanked_in_place():
    data = small_mp4()
    clean = upload_clean(name="clip.mp4", data=data, declared_type="video/mp4")
    assert clean.kind == "video" and clean.content_type == "video/mp4"
    assert len(clean.data) == len(data)  # same size: chunk offsets stay valid
    for marker in [b"+29.1000+121.9000", b"com.apple.quicktime.location", b"track-by-phone", b"udta", b"meta"]:
        assert marker in data and marker not in clean.data
    assert clean.data[:4 + 4] == data[:8] and clean.data.endswith(b"\x00" * 64)
    with pytest.raises(ValidationError) as exc:
        mp4_metadata_strip(data=data[:32] + struct.pack(">I", 9999) + b"moov" + bytes(20), label="bad.mp4")
    assert "损坏" in exc.value.messages[0]
