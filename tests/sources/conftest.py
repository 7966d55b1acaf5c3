"""Fixtures of the source-governance tests: a pier with its geofence, a "1+3+N" team, a plan
whose window is open now, real JPEGs (with GPS EXIF) and a notification gateway stand-in."""
from __future__ import annotations

import asyncio
import io
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image

# A pier off 高塘岛 (illustrative): a ~200 m square around this point.
PIER_LON, PIER_LAT = 121.9500, 29.1000
HALF_DEG = 0.001


def square(lon: float, lat: float, half: float = HALF_DEG) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [[[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half], [lon - half, lat - half]]],
    }


def jpeg_bytes(*, color=(200, 40, 40), size=(64, 48), gps: bool = True) -> bytes:
    """A real JPEG; with ``gps`` it carries the phone's position and make in its EXIF."""
    img = Image.new("RGB", size, color)
    exif = Image.Exif()
    if gps:
        exif[ExifTags.Base.Make] = "SpyPhone"
        exif[ExifTags.Base.Model] = "X1-SERIAL-0042"
        exif[ExifTags.IFD.GPSInfo] = {
            ExifTags.GPS.GPSLatitudeRef: "N",
            ExifTags.GPS.GPSLatitude: (29.0, 6.0, 0.0),
            ExifTags.GPS.GPSLongitudeRef: "E",
            ExifTags.GPS.GPSLongitude: (121.0, 57.0, 0.0),
        }
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    return buf.getvalue()


def upload(name: str = "photo.jpg", data: bytes | None = None, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_bytes() if data is None else data, content_type=content_type)


class RecordingBackend:
    """The SMS/DingTalk gateway is an outside border: tests record what would be sent."""

    sent: list = []

    def send(self, notification) -> None:
        RecordingBackend.sent.append(notification)


@pytest.fixture(autouse=True)
def _media_and_gateway(settings, tmp_path_factory):
    settings.MEDIA_ROOT = str(tmp_path_factory.getbasetemp() / "media")
    settings.NOTIFICATION_BACKENDS = ["tests.sources.conftest.RecordingBackend"]
    RecordingBackend.sent = []
    yield


@pytest.fixture
def pier(db):
    from apps.elements.models import Geofence

    return Geofence.objects.create(
        name="高塘岛乡 测试闲置码头",
        kind="pier",
        status="idle",
        township="高塘岛乡",
        pier_chief="码长 张伟",
        geometry=square(PIER_LON, PIER_LAT),
        centroid_lon=PIER_LON,
        centroid_lat=PIER_LAT,
    )


@dataclass
class Setup:
    grid: object
    team: object
    pier: object
    township: object


@pytest.fixture
def patrol(pier, users, departments):
    """Gaotang's grid and team: grid1 leads it, pierchief1 is core member and the pier's chief."""
    from apps.sources import services

    township = departments["gaotang"]
    grid = services.grid_create(township=township, code="gt-1", name="高塘一网格")
    team = services.grid_team_create(grid=grid, name="花岙微网格", geofences=[pier])
    services.team_member_add(team=team, user=users["grid"], role="leader")
    services.team_member_add(team=team, user=users["pierchief"], role="core")
    services.pier_chief_assign(geofence=pier, user=users["pierchief"])
    return Setup(grid=grid, team=team, pier=pier, township=township)


def window_around(now, *, before_min: int = 60, after_min: int = 60):
    peak = now.replace(second=0, microsecond=0)
    return (peak - timedelta(minutes=before_min), peak, peak + timedelta(minutes=after_min))


@pytest.fixture
def open_plan(patrol):
    """A plan for ``patrol``'s pier whose window is open now."""
    from django.utils import timezone

    from apps.sources import selectors, services

    now = timezone.now()
    (plan,) = services.patrol_plans_generate(date=selectors.night_of(now), windows=[window_around(now)])
    return plan


def new_uuid() -> str:
    return str(uuid.uuid4())


class LiveListener:
    """Joins channel-layer groups like a page would, to assert what was pushed live."""

    def __init__(self, *groups: str) -> None:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        for g in groups:
            async_to_sync(self.layer.group_add)(g, self.channel)

    def events(self, timeout_s: float = 10.0) -> list[dict]:
        from asgiref.sync import async_to_sync

        async def drain():
            out = []
            try:
                out.append(await asyncio.wait_for(self.layer.receive(self.channel), timeout_s))
                while True:
                    out.append(await asyncio.wait_for(self.layer.receive(self.channel), 0.5))
            except asyncio.TimeoutError:
                pass
            return out

        return async_to_sync(drain)()
