"""Enforcement fixtures: default plans, warnings at a pier of a township, the recording gateway."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone


@pytest.fixture
def plans(departments):
    from apps.enforcement.services import ensure_default_plans

    return ensure_default_plans()


@pytest.fixture
def pier(db):
    from apps.elements.models import Geofence

    square = {"type": "Polygon", "coordinates": [[[121.95, 29.2], [121.96, 29.2], [121.96, 29.21], [121.95, 29.21], [121.95, 29.2]]]}
    return Geofence.objects.create(
        name="高塘岛闲置码头甲", kind="pier", status="idle", township="高塘岛乡", geometry=square,
        centroid_lon=121.955, centroid_lat=29.205,
    )


@pytest.fixture
def make_warning(pier):
    from apps.elements.models import Warning

    counter = {"n": 0}

    def make(level="orange", kind="idle_pier_landing", geofence=pier, **extra):
        counter["n"] += 1
        now = timezone.now()
        extra.setdefault("lon", 121.955)
        extra.setdefault("lat", 29.205)
        return Warning.objects.create(
            kind=kind, level=level, score={"red": 90, "orange": 75, "yellow": 60, "blue": 40}[level],
            episode_key=f"test:{kind}:{counter['n']}:{now.timestamp()}", geofence=geofence,
            start=now - timedelta(minutes=40), end=now, evidence={"rule": kind}, **extra,
        )

    return make


@pytest.fixture
def more_users(users, make_user):
    """The test users plus the departments the default plans reach."""
    return {
        **users,
        "tobacco": make_user("tobacco1", "dept_officer", "tobacco"),
        "gaotang": make_user("gaotang1", "dept_officer", "gaotang"),
        "fisheries": make_user("fisheries1", "dept_officer", "fisheries"),
        "coastguard_head": make_user("coastguard_head", "dept_head", "coastguard"),
    }


@pytest.fixture
def recorder(settings):
    from .recording import RecordingBackend

    settings.NOTIFICATION_BACKENDS = ["tests.enforcement.recording.RecordingBackend"]
    RecordingBackend.sent = []
    return RecordingBackend.sent


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return tmp_path


def png_bytes(size=(40, 30)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def png():
    def make(name="photo.png"):
        return SimpleUploadedFile(name, png_bytes(), content_type="image/png")

    return make
