"""Helpers for the public-participation tests: a clean cache (rate limits, challenges), a
private MEDIA_ROOT, a real challenge solved as a person would, and photos made with Pillow."""
from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DIGITS = "零一二三四五六七八九"


def chinese_number(text: str) -> int:
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (DIGITS.index(tens) if tens else 1) * 10 + (DIGITS.index(ones) if ones else 0)
    return DIGITS.index(text)


def solve(question: str) -> str:
    """Answer the page's sum the way a person reading it would."""
    m = re.search(r"(.+?)(加|减)(.+?)等于几", question)
    a, b = chinese_number(m.group(1)), chinese_number(m.group(3))
    return str(a + b if m.group(2) == "加" else a - b)


def challenge_from(html: str) -> tuple[str, str]:
    token = re.search(r'name="challenge_token" value="([^"]+)"', html).group(1)
    question = re.search(r'id="challenge-question"[^>]*>([^<]+)<', html).group(1)
    return token, solve(question)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate-limit counters, lockouts and burnt challenges live in this test run's own Redis db."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def challenge(client):
    """``challenge(client=...)`` → (token, answer) read from the real tip page."""

    def make(c=None, **extra):
        res = (c or client).get("/public/tip/", **extra)
        assert res.status_code == 200
        return challenge_from(res.content.decode())

    return make


def jpeg_with_gps(size=(64, 48), color=(200, 30, 30)) -> bytes:
    """A JPEG carrying EXIF with a GPS block (lat 29.1, lon 121.9), camera make and a comment."""
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0110] = "Model-X"  # Model
    exif[0x0132] = "2024:01:01 02:03:04"  # DateTime
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (29.0, 6.0, 0.0)
    gps[3] = "E"
    gps[4] = (121.0, 54.0, 0.0)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif, comment=b"secret-comment")
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825), "fixture must really carry GPS"
    return data


def png_bytes(size=(20, 20)) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "29.1N 121.9E")
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 255, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def tip_post_data(token: str, answer: str, **overrides) -> dict:
    data = {
        "category": "boat_unloading",
        "description": "凌晨有船在闲置码头卸货，岸上有两辆货车接应。",
        "place_text": "高塘岛西侧闲置码头",
        "lon": "121.905",
        "lat": "29.097",
        "seen_at": "",
        "contact_name": "",
        "contact_phone": "",
        "challenge_token": token,
        "challenge_answer": answer,
        "website": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def submit_tip(client, challenge, media_root):
    """Submit a tip through the real page; returns (response, code, secret)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    def submit(files=(), c=None, **fields):
        c = c or client
        token, answer = challenge(c)
        data = tip_post_data(token, answer, **fields)
        if files:
            data["files"] = [SimpleUploadedFile(n, b, content_type=t) for n, b, t in files]
        res = c.post("/public/tip/", data)
        html = res.content.decode()
        code = re.search(r'id="tip-code">([^<]+)<', html)
        secret = re.search(r'id="tip-secret">([^<]+)<', html)
        return res, code and code.group(1), secret and secret.group(1)

    return submit
