"""Sensors as registered facilities (radar sites, cameras, infrared sentinels) and their events.

The services of the sensor part of source governance (``services.py`` holds the rest):

* :func:`sensors_import` — ``manage.py import_sensors FILE``: GeoJSON points, upserted into the
  facility registry by ``sensor_id`` (the facility code), so tokens, heartbeats, "down" and the
  repair flow are the facilities' own.
* :func:`sensors_data_seen` — radar data counts as a sign of life (one UPDATE per batch).
* :func:`sensor_event_record` — a camera or sentinel event (``POST /api/sources/devices/events/``,
  ``manage.py ingest_sensor_events``): stored once, its snapshot content-checked like every photo;
  ``damage``/``occlusion`` open a repair task; a sighting becomes a field signal that corroborates
  a vessel stop at that place; a sighting at an idle pier at night with no vessel there raises
  its own ``sensor_alert`` warning.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import live
from apps.core.models import Department
from apps.elements.domain.sensors import KINDS, Sensor

from . import events
from .models import SENSOR_KINDS, Facility, FacilityKind, ProtectedSite, RepairTask, SensorEvent, SiteType
from .services import _token_hash, photo_store, protected_site_for_geofence, repair_task_open

log = logging.getLogger(__name__)

#: Facility kind -> the sensor kind of the domain code.
FACILITY_SENSOR_KIND = {v: k for k, v in SENSOR_KINDS.items()}
#: Events that say something is there (corroborate a vessel stop, or need explaining).
SIGHTINGS = frozenset({"vessel", "person", "vehicle", "line_crossing", "ir_trigger"})
#: Events that say the device itself is impaired: a repair task for its department.
IMPAIRMENTS = frozenset({"damage", "occlusion"})
#: Weight of a sighting in the warning score (times the event's confidence).
SIGHTING_WEIGHT = {"vessel": 1.0, "person": 0.8, "vehicle": 0.8, "line_crossing": 0.7, "ir_trigger": 0.6}
#: A sighting is "unexplained" when no vessel was inside this distance of the place (metres)
#: within this time of the event.
EXPLAIN_RADIUS_M = 600.0
EXPLAIN_WINDOW = timedelta(minutes=30)
#: Night at a pier (local time, Asia/Shanghai): from NIGHT_START_H to NIGHT_END_H.
NIGHT_START_H, NIGHT_END_H = 20, 6
LOCAL = ZoneInfo("Asia/Shanghai")


# --------------------------------------------------------------------------- registry
@dataclass
class SensorImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


def _num(props: Mapping[str, Any], key: str, *, lo: float, hi: float) -> float | None:
    v = props.get(key)
    if v in (None, ""):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise ValidationError(_("%(key)s 不是数字：%(value)s") % {"key": key, "value": v}) from None
    if not (lo <= x <= hi):
        raise ValidationError(_("%(key)s 超出范围（%(lo)s–%(hi)s）：%(value)s") % {"key": key, "lo": lo, "hi": hi, "value": v})
    return x


def sensor_register(*, props: Mapping[str, Any], lon: float, lat: float, default_department: Department) -> tuple[Facility, bool]:
    """One sensor from its GeoJSON properties (validated); upsert by ``sensor_id``."""
    from django.utils.text import slugify

    from apps.elements.models import Geofence

    sensor_id = str(props.get("sensor_id") or "").strip()
    if not sensor_id or slugify(sensor_id) != sensor_id.lower() or len(sensor_id) > 20:
        raise ValidationError(_("sensor_id 须为不超过 20 位的字母、数字、-、_：%(v)r") % {"v": sensor_id})
    kind = str(props.get("kind") or "").strip().lower()
    if kind not in KINDS:
        raise ValidationError(_("kind 须为 radar、camera 或 infrared：%(v)r") % {"v": kind})
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(_("经纬度超出范围。"))
    name = str(props.get("name") or sensor_id).strip()[:120]
    range_m = _num(props, "range_m", lo=1, hi=200_000)
    bearing = _num(props, "bearing_deg", lo=0, hi=360)
    fov = _num(props, "fov_deg", lo=1, hi=360)
    if kind == "radar" and range_m is None:
        raise ValidationError(_("雷达须给出 range_m（作用距离，米）。"))
    if kind == "camera" and (bearing is None or fov is None):
        raise ValidationError(_("摄像机须给出 bearing_deg（朝向）和 fov_deg（视场角）。"))
    department = default_department
    if props.get("department"):
        department = Department.objects.filter(code=str(props["department"]).strip()).first()
        if department is None:
            raise ValidationError(_("未知的部门编码：%(v)s") % {"v": props["department"]})
    geofence_name = str(props.get("geofence") or "").strip()
    if geofence_name:
        geofence = Geofence.objects.filter(name=geofence_name).first()
        if geofence is None:
            raise ValidationError(_("未知的电子围栏：%(v)s") % {"v": geofence_name})
        site = protected_site_for_geofence(geofence=geofence)
    else:
        site, _unused = ProtectedSite.objects.get_or_create(
            name=name, defaults={"site_type": SiteType.SENSOR_STATION, "lon": lon, "lat": lat}
        )
    existing = Facility.objects.filter(code=sensor_id).first()
    if existing is not None and existing.kind != SENSOR_KINDS[kind]:
        raise ValidationError(_("编号 %(v)s 已登记为其他类型的设施。") % {"v": sensor_id})
    facility, created = Facility.objects.update_or_create(
        code=sensor_id,
        defaults={
            "site": site, "kind": SENSOR_KINDS[kind], "name": name, "responsible_department": department,
            "lon": lon, "lat": lat, "range_m": range_m, "bearing_deg": bearing, "fov_deg": fov,
        },
    )
    return facility, created


def sensors_import(*, path: str | Path, default_department: Department) -> SensorImportReport:
    """GeoJSON points with ``sensor_id``, ``kind``, ``name``, ``range_m`` / ``bearing_deg`` + ``fov_deg``,
    optional ``geofence`` and ``department``. Bad features are reported and skipped."""
    from apps.elements.runtime import context_changed

    try:
        doc = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(_("无法读取 GeoJSON：%(e)s") % {"e": exc}) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise ValidationError(_("不是 GeoJSON FeatureCollection。"))
    report = SensorImportReport(total=len(features))
    for i, feat in enumerate(features, start=1):
        props = (feat or {}).get("properties") or {} if isinstance(feat, dict) else {}
        name = str(props.get("sensor_id") or "")
        try:
            geom = feat.get("geometry") or {}
            if geom.get("type") != "Point":
                raise ValidationError(_("须为点（Point）要素。"))
            lon, lat = (float(c) for c in geom["coordinates"][:2])
            with transaction.atomic():
                _facility, created = sensor_register(props=props, lon=lon, lat=lat, default_department=default_department)
        except (ValidationError, KeyError, TypeError, ValueError, AttributeError) as exc:
            msg = "；".join(exc.messages) if isinstance(exc, ValidationError) else _("要素格式错误：%(e)s") % {"e": exc}
            report.errors.append((i, name, msg))
            continue
        if created:
            report.created += 1
        else:
            report.updated += 1
    if report.created or report.updated:
        context_changed()
    return report


def sensors_domain(*, kinds: Iterable[str] = KINDS) -> list[Sensor]:
    """The registered sensors as domain values (those with a position)."""
    wanted = [SENSOR_KINDS[k] for k in kinds]
    rows = (
        Facility.objects.filter(kind__in=wanted, lon__isnull=False, lat__isnull=False)
        .select_related("site__geofence")
        .order_by("code")
    )
    return [
        Sensor(f.code, FACILITY_SENSOR_KIND[f.kind], f.lon, f.lat, f.range_m, f.bearing_deg, f.fov_deg,
               f.site.geofence.name if f.site and f.site.geofence_id else None)
        for f in rows
    ]


def radar_positions() -> dict[str, tuple[float, float]]:
    """Registered radars: sensor id -> (lon, lat)."""
    return {
        code: (lon, lat)
        for code, lon, lat in Facility.objects.filter(kind=FacilityKind.RADAR, lon__isnull=False, lat__isnull=False)
        .values_list("code", "lon", "lat")
    }


def sensors_data_seen(*, last_by_code: Mapping[str, datetime]) -> int:
    """Radar data counts as a heartbeat: ``last_data_at`` / ``last_heartbeat_at`` moved on, a
    radar that was down is up again (one UPDATE per radar of the batch; not audited)."""
    now = timezone.now()
    n = 0
    for code, at in last_by_code.items():
        n += Facility.objects.filter(code=code).filter(Q(last_data_at__isnull=True) | Q(last_data_at__lt=at)).update(
            last_data_at=at, last_heartbeat_at=now
        )
    for f in Facility.objects.filter(code__in=list(last_by_code), status=Facility.Status.DOWN):
        f.status = Facility.Status.OK
        f.save(update_fields=["status"])
        live.push([live.GROUP_COMMAND, live.group_department(f.responsible_department_id)], events.FACILITY_UP,
                  {"facility": f.id})
    return n


# --------------------------------------------------------------------------- events
def _aware(value: Any) -> datetime:
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ValidationError(_("timestamp 须为带时区的 ISO 8601 时间：%(v)r") % {"v": value}) from None
    if timezone.is_naive(at):
        raise ValidationError(_("timestamp 须带时区（如 +08:00）。"))
    return at


def _snapshot_upload(value: Any):
    """A snapshot as an upload: a file, base64 text or a ``data:`` URI."""
    if value in (None, ""):
        return None
    if hasattr(value, "read"):
        return value
    text = str(value)
    if text.startswith("data:"):
        text = text.split(",", 1)[-1]
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("snapshot 须为图片文件或 base64 编码的图片。")) from None
    return ContentFile(raw, name="snapshot")


def _is_night(at: datetime) -> bool:
    h = timezone.localtime(at, LOCAL).hour
    return h >= NIGHT_START_H or h < NIGHT_END_H


def _vessels_near(*, lon: float, lat: float, at: datetime) -> list[str]:
    """Vessels (any source) with a stored fix near the place around the time of an event."""
    from apps.elements.domain.geo_units import haversine_m
    from apps.elements.models import COORD_SCALE, StoredFix, Vessel

    dlat = EXPLAIN_RADIUS_M / 111_000.0
    dlon = dlat * 1.2 / max(0.2, abs(math.cos(math.radians(lat))))
    # vessels seen since shortly before the event and last seen within ~20 km: their fixes are
    # then read by primary key (vessel, time), never by a scan of the day's fixes
    reach = 0.2
    candidates = list(
        Vessel.objects.filter(last_seen__gte=at - EXPLAIN_WINDOW, last_lat__range=(lat - reach, lat + reach),
                              last_lon__range=(lon - reach, lon + reach)).values_list("pk", flat=True)[:2000]
    )
    if not candidates:
        return []
    rows = (
        StoredFix.objects.filter(
            vessel_id__in=candidates, ts__gte=at - EXPLAIN_WINDOW, ts__lte=at + EXPLAIN_WINDOW,
            lat_e7__gte=round((lat - dlat) * COORD_SCALE), lat_e7__lte=round((lat + dlat) * COORD_SCALE),
            lon_e7__gte=round((lon - dlon) * COORD_SCALE), lon_e7__lte=round((lon + dlon) * COORD_SCALE),
        )
        .values_list("vessel__external_id", "lon_e7", "lat_e7")[:500]
    )
    return sorted({v for v, x, y in rows if haversine_m(lon, lat, x / COORD_SCALE, y / COORD_SCALE) <= EXPLAIN_RADIUS_M})


@dataclass
class EventResult:
    event: SensorEvent
    created: bool


def sensor_event_record(*, data: Mapping[str, Any], facility: Facility | None = None, actor=None) -> EventResult:
    """Store one camera/sentinel event (once per device, kind and time) and act on it.

    ``facility`` is the device that authenticated (token); without it ``data["sensor_id"]`` names it
    (file ingest). A snapshot is checked and re-encoded like every photo; a bad one refuses the event.
    """
    sensor_id = str(data.get("sensor_id") or "").strip()
    if facility is None:
        facility = Facility.objects.select_related("site__geofence", "responsible_department").filter(code=sensor_id).first()
        if facility is None:
            raise ValidationError(_("未登记的设备：%(v)s") % {"v": sensor_id or "?"})
    elif sensor_id and sensor_id != facility.code:
        raise ValidationError(_("sensor_id 与设备令牌不符。"))
    if facility.kind not in (FacilityKind.CCTV, FacilityKind.INFRARED):
        raise ValidationError(_("只有摄像机和红外哨兵上报事件（雷达目标请用 ingest_radar）。"))
    kind = str(data.get("kind") or "").strip()
    if kind not in SensorEvent.Kind.values:
        raise ValidationError(_("未知的事件类型：%(v)s") % {"v": kind or "?"})
    at = _aware(data.get("timestamp"))
    if at > timezone.now() + timedelta(minutes=5):
        raise ValidationError(_("事件时间在未来。"))
    try:
        confidence = float(data.get("confidence", 1.0))
    except (TypeError, ValueError):
        raise ValidationError(_("confidence 须为 0–1 的数字。")) from None
    if not (0.0 <= confidence <= 1.0):
        raise ValidationError(_("confidence 须为 0–1 的数字。"))
    video_url = str(data.get("video_url") or "").strip()[:500]
    if video_url and not video_url.startswith(("http://", "https://", "rtsp://")):
        raise ValidationError(_("video_url 须为视频平台的链接。"))
    existing = SensorEvent.objects.filter(facility=facility, kind=kind, at=at).first()
    if existing is not None:
        return EventResult(existing, False)
    upload = _snapshot_upload(data.get("snapshot"))
    try:
        with transaction.atomic():
            snapshot = photo_store(upload=upload, actor=actor) if upload is not None else None
            event = SensorEvent.objects.create(facility=facility, kind=kind, at=at, confidence=confidence,
                                               snapshot=snapshot, video_url=video_url)
            Facility.objects.filter(pk=facility.pk).filter(Q(last_data_at__isnull=True) | Q(last_data_at__lt=at)).update(
                last_data_at=at)
            if kind in IMPAIRMENTS:
                _impaired(event)
            elif kind in SIGHTINGS:
                _sighting(event)
    except IntegrityError:  # the same event arrived twice at once
        return EventResult(SensorEvent.objects.get(facility=facility, kind=kind, at=at), False)
    return EventResult(event, True)


def _impaired(event: SensorEvent) -> None:
    facility = event.facility
    label = event.get_kind_display()
    if facility.status != Facility.Status.DAMAGED:
        facility.status = Facility.Status.DAMAGED
        facility.save(update_fields=["status"])
    task = facility.repair_tasks.exclude(state=RepairTask.State.CLOSED).first()
    if task is None:
        task = repair_task_open(
            title=f"{label}：{facility.name}",
            description=f"设备于 {timezone.localtime(event.at, LOCAL):%Y-%m-%d %H:%M} 自报{label}（置信度 {event.confidence:.2f}）。",
            source=RepairTask.Source.SENSOR_ALARM,
            department=facility.responsible_department,
            facility=facility,
            before_photos=[event.snapshot] if event.snapshot_id else (),
        )
    event.repair_task = task
    event.save(update_fields=["repair_task"])


def _snapshot_url(event: SensorEvent) -> str:
    """The snapshot's address (served to whoever may see the device's events)."""
    from django.urls import reverse

    return reverse("sources:photo", args=[event.snapshot_id]) if event.snapshot_id else ""


def _sighting(event: SensorEvent) -> None:
    """A sighting corroborates a vessel stop at the place; unexplained at an idle pier at night it is a warning."""
    from apps.elements.services import field_signal_record

    facility = event.facility
    lon = facility.lon if facility.lon is not None else facility.site.lon
    lat = facility.lat if facility.lat is not None else facility.site.lat
    details = {"sensor": facility.code, "sensor_name": facility.name, "event": event.pk, "event_kind": event.kind,
               "confidence": event.confidence, "snapshot": _snapshot_url(event), "video_url": event.video_url}
    field_signal_record(
        kind=f"sensor_{event.kind}", lon=lon, lat=lat, at=event.at,
        weight=round(SIGHTING_WEIGHT.get(event.kind, 0.5) * event.confidence, 3),
        ref=f"sources.sensorevent:{event.pk}", details=details,
    )
    event.signalled_at = timezone.now()
    fields = ["signalled_at"]
    geofence = facility.site.geofence if facility.site_id else None
    if geofence is not None and geofence.status == geofence.Status.IDLE and _is_night(event.at):
        if not _vessels_near(lon=geofence.centroid_lon, lat=geofence.centroid_lat, at=event.at):
            warning = _unexplained_warning(event, geofence, details)
            if warning is not None:
                event.warning_id = warning.pk
                fields.append("warning_id")
    event.save(update_fields=fields)


def _unexplained_warning(event: SensorEvent, geofence, details: dict[str, Any]):
    """``sensor_alert``: something seen at an idle pier at night that no vessel track explains."""
    from apps.elements.sensing import sensor_alert_upsert

    return sensor_alert_upsert(
        sensor=event.facility.code, geofence=geofence, at=event.at, confidence=event.confidence,
        evidence={**details, "explained_by": [], "rule": {
            "night_local": f"{NIGHT_START_H:02d}:00–{NIGHT_END_H:02d}:00",
            "explain_radius_m": EXPLAIN_RADIUS_M, "explain_window_min": EXPLAIN_WINDOW.total_seconds() / 60}},
    )


def device_for_token(token: str) -> Facility | None:
    if not token:
        return None
    return Facility.objects.select_related("site__geofence", "responsible_department").filter(
        token_hash=_token_hash(token)).first()
