"""Every write of source governance: validated first, atomic, pushed and notified after commit.

Replays: a check-in or report from the phone carries a client-generated UUID; the
first arrival creates the record, every later arrival of the same UUID gets the same
record back (``created=False``) — the phone may send it as often as its connection
forces it to, the server keeps it once.
"""
from __future__ import annotations

import hashlib
import logging
import math
import secrets
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date as Date
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import live, notify
from apps.core.models import Department, User
from apps.core.roles import COMMAND_ROLES, FIELD_ROLES
from apps.elements.models import Geofence

from . import events, geo, selectors
from apps.core.photos import PhotoRejected, sanitise_photo
from .models import (
    DEVICE_KINDS,
    Checkin,
    Facility,
    FacilityKind,
    GridReport,
    GridTeam,
    Grid,
    Inspection,
    MarketEntity,
    MarketFinding,
    PatrolPlan,
    Photo,
    PierChief,
    ProtectedSite,
    RegulatedRecord,
    RepairTask,
    SiteStandard,
    SiteType,
    TeamMember,
    is_industry_user,
)

log = logging.getLogger(__name__)

#: How far in the future a phone's clock may be before a check-in is refused.
CLOCK_SKEW = timedelta(minutes=5)
#: A queued (offline) check-in must reach the server within this time after its window.
LATE_SYNC_LIMIT = timedelta(hours=24)
#: Locations less precise than this are refused for check-ins (metres).
CHECKIN_MAX_ACCURACY_M = 300.0
#: Weight of a field report as an input to the warning score (elements' field_signal_record).
REPORT_SIGNAL_WEIGHT = {
    GridReport.Kind.UNLOADING: 1.0,
    GridReport.Kind.TRUCKS: 0.8,
    GridReport.Kind.STRANGERS: 0.6,
    GridReport.Kind.SUSPICIOUS_OTHER: 0.5,
}


# --------------------------------------------------------------------------- helpers


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValidationError(message)


def _coords(lon: Any, lat: Any) -> tuple[float, float]:
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationError(_("未获取到手机定位，请开启定位后重试。")) from None
    if not (math.isfinite(lon_f) and math.isfinite(lat_f) and -180 <= lon_f <= 180 and -90 <= lat_f <= 90):
        raise ValidationError(_("定位坐标无效，请重新定位。"))
    return lon_f, lat_f


def _aware(at: Any, what: str | None = None) -> datetime:
    what = what or _("时间")
    if isinstance(at, str):
        try:
            at = datetime.fromisoformat(at.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(_("%(what)s格式无效。") % {"what": what}) from None
    if not isinstance(at, datetime):
        raise ValidationError(_("缺少%(what)s。") % {"what": what})
    if timezone.is_naive(at):
        raise ValidationError(_("%(what)s缺少时区。") % {"what": what})
    return at


def _uuid(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        raise ValidationError(_("缺少或无效的提交编号（client_uuid）。")) from None


def _accuracy(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        acc = float(value)
    except (TypeError, ValueError):
        raise ValidationError(_("定位精度无效。")) from None
    return acc if math.isfinite(acc) and acc >= 0 else None


def _is_command(user) -> bool:
    return user.role in COMMAND_ROLES


def _ops_centre_codes() -> list[str]:
    return list(Department.objects.filter(hosts_operations_centre=True).values_list("code", flat=True))


def _notify_after_commit(recipients: Iterable[str], title: str, body: str, link: str = "") -> None:
    """Notify departments (by code; sent as ``dept:<code>``, as the enforcement module does) after commit."""
    recips = [f"dept:{r}" for r in dict.fromkeys(recipients) if r]

    def send() -> None:
        for r in recips:
            notify.send(notify.Notification(recipient=r, title=title, body=body, link=link))

    transaction.on_commit(send, robust=True)


# --------------------------------------------------------------------------- photos


def photo_store(*, upload, actor: User | None) -> Photo:
    """Validate an uploaded photo (real type JPEG/PNG/WebP, size ≤ UPLOAD_MAX_BYTES), strip its
    metadata by re-encoding, and store it. Raises ``ValidationError`` with a Chinese message."""
    if upload is None:
        raise ValidationError(_("请拍摄或选择现场照片。"))
    max_bytes = settings.UPLOAD_MAX_BYTES
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(_("照片过大（%(size).1f MB），上限 %(limit).0f MB。") % {"size": size / 1048576, "limit": max_bytes / 1048576})
    raw = upload.read(max_bytes + 1)
    try:
        clean = sanitise_photo(raw, max_bytes=max_bytes)
    except PhotoRejected as exc:
        raise ValidationError(str(exc)) from None
    photo = Photo(
        content_type=clean.content_type,
        size_bytes=len(clean.data),
        width=clean.width,
        height=clean.height,
        sha256=clean.sha256,
        uploaded_by=actor if actor is not None and actor.pk else None,
    )
    photo.file.save("photo", ContentFile(clean.data), save=False)
    photo.save()
    return photo


def _photos_store(*, uploads: Sequence, actor) -> list[Photo]:
    uploads = [u for u in uploads if u is not None]
    _require(len(uploads) <= 6, _("一次最多上传 6 张照片。"))
    return [photo_store(upload=u, actor=actor) for u in uploads]


def _discard_files(photos: Iterable[Photo]) -> None:
    for p in photos:
        try:
            p.file.delete(save=False)
        except Exception:  # noqa: BLE001 - best effort clean-up of an orphan file
            log.warning("could not delete orphan photo file %s", p.file.name)


# --------------------------------------------------------------------------- grid structure


@transaction.atomic
def grid_create(*, township: Department, code: str, name: str, note: str = "") -> Grid:
    _require(township.kind == Department.Kind.TOWNSHIP, _("网格只能属于镇乡街道。"))
    grid, _unused = Grid.objects.update_or_create(code=code, defaults={"township": township, "name": name, "note": note})
    return grid


@transaction.atomic
def grid_team_create(*, grid: Grid, name: str, geofences: Iterable[Geofence] = ()) -> GridTeam:
    team, _unused = GridTeam.objects.get_or_create(grid=grid, name=name)
    fences = list(geofences)
    if fences:
        team.geofences.add(*fences)
    return team


@transaction.atomic
def team_member_add(*, team: GridTeam, user: User, role: str) -> TeamMember:
    """Add a grid worker or pier chief of the team's township to a "1+3+N" team."""
    _require(role in TeamMember.Role.values, _("队内角色无效。"))
    _require(user.role in FIELD_ROLES, _("只有网格员或码长可以加入微网格队伍。"))
    _require(user.department_id == team.grid.township_id, _("队员必须属于本镇乡街道。"))
    existing = TeamMember.objects.filter(team=team, user=user).first()
    if role == TeamMember.Role.LEADER:
        _require(
            not TeamMember.objects.filter(team=team, role=role).exclude(user=user).exists(), _("每支队伍只有 1 名队长。")
        )
    if role == TeamMember.Role.CORE:
        _require(
            TeamMember.objects.filter(team=team, role=role).exclude(user=user).count() < 3, _("每支队伍最多 3 名骨干。")
        )
    if existing:
        existing.role = role
        existing.save()
        return existing
    return TeamMember.objects.create(team=team, user=user, role=role)


@transaction.atomic
def pier_chief_assign(*, geofence: Geofence, user: User) -> PierChief:
    _require(geofence.kind != Geofence.Kind.ANCHORAGE, _("锚地不设码长。"))
    _require(user.role in FIELD_ROLES, _("码长须为网格员或码长账号。"))
    chief, _unused = PierChief.objects.update_or_create(geofence=geofence, defaults={"user": user})
    return chief


# --------------------------------------------------------------------------- patrol plans


@transaction.atomic
def patrol_plans_generate(*, date: Date, windows: Sequence[tuple[datetime, datetime, datetime]] | None = None) -> list[PatrolPlan]:
    """Plans for the night of ``date``: every active team at each of its places, for each
    nightly high-water window. Idempotent: an existing (team, place, peak) is left alone.
    ``windows`` defaults to :func:`selectors.tide_windows_for`. Returns the plans created."""
    if windows is None:
        windows = selectors.tide_windows_for(date=date)
    created: list[PatrolPlan] = []
    teams = GridTeam.objects.filter(active=True).prefetch_related("geofences")
    for start, peak, end in windows:
        _require(start <= peak <= end, _("潮汐时段无效。"))
        for team in teams:
            for fence in team.geofences.all():
                plan, was_created = PatrolPlan.objects.get_or_create(
                    team=team,
                    geofence=fence,
                    peak=peak,
                    defaults={"night": date, "window_start": start, "window_end": end},
                )
                if was_created:
                    created.append(plan)
    if created:
        live.push([live.GROUP_COMMAND], events.PLANS_GENERATED, {"night": date.isoformat(), "count": len(created)})
    return created


@transaction.atomic
def patrol_plans_flag_missed(*, now: datetime | None = None) -> list[int]:
    """Plans whose window has ended with no check-in become "missed"; the township and the
    operations centre are told (live push + notification). Idempotent. Returns plan ids."""
    now = now or timezone.now()
    plans = list(
        PatrolPlan.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=PatrolPlan.Status.PLANNED, window_end__lt=now)
        .select_related("team__grid__township", "geofence")
    )
    by_township: dict[Department, list[PatrolPlan]] = defaultdict(list)
    for plan in plans:
        plan.mark_missed(at=now)
        plan.save()
        by_township[plan.team.grid.township].append(plan)
    ops = _ops_centre_codes()
    for township, items in by_township.items():
        names = [f"{p.team.name}@{p.geofence.name}（{selectors.fmt_window(p.window_start, p.window_end)}）" for p in items]
        payload = {"plans": [p.id for p in items], "township": township.id, "names": names}
        live.push([live.GROUP_COMMAND, live.group_department(township.id)], events.CHECKIN_MISSED, payload)
        _notify_after_commit(
            [township.code, *ops],
            f"巡查未到岗：{township.name} {len(items)} 个点位",
            "；".join(names),
            "/sources/overview/",
        )
    return [p.id for p in plans]


# --------------------------------------------------------------------------- check-ins


def _replayed(model, client_uuid: uuid.UUID, actor: User):
    existing = model.objects.filter(client_uuid=client_uuid).first()
    if existing is None:
        return None
    owner = existing.user_id if model is Checkin else existing.reporter_id
    if owner != actor.pk:
        raise ValidationError(_("提交编号已被他人使用，请重新提交。"))
    return existing


def checkin_record(
    *,
    actor: User,
    plan_id: int,
    lon: Any,
    lat: Any,
    at: Any,
    photo,
    client_uuid: Any,
    accuracy_m: Any = None,
    note: str = "",
    now: datetime | None = None,
) -> tuple[Checkin, bool]:
    """Record a patrol check-in; returns ``(checkin, created)``.

    Counts only inside the plan's geofence and within its window (``at``, the phone's
    time of the check-in, judged against the window; it may reach the server later from
    an offline queue, up to 24 h after the window). A replay of ``client_uuid`` returns
    the original check-in. Refusals raise ``ValidationError`` listing every reason.
    """
    key = _uuid(client_uuid)
    existing = _replayed(Checkin, key, actor)
    if existing:
        return existing, False
    now = now or timezone.now()
    _require(actor.role in FIELD_ROLES, _("只有网格员和码长可以巡查打卡。"))
    plan = PatrolPlan.objects.select_related("geofence", "team").filter(pk=plan_id).first() if str(plan_id).isdigit() else None
    _require(plan is not None, _("巡查计划不存在。"))
    _require(selectors.plan_checkin_allowed(plan=plan, user=actor), _("您不在该点位的巡查队伍中，也不是该码头的码长。"))
    lon_f, lat_f = _coords(lon, lat)
    at_dt = _aware(at, _("打卡时间"))
    acc = _accuracy(accuracy_m)
    _require(at_dt <= now + CLOCK_SKEW, _("手机时间晚于服务器时间，请校准手机时间后重试。"))
    reasons: list[str] = []
    if not plan.window_start <= at_dt <= plan.window_end:
        reasons.append(_("不在巡查时段内（时段 %(window)s）") % {"window": selectors.fmt_window(plan.window_start, plan.window_end)})
    elif now > plan.window_end + LATE_SYNC_LIMIT:
        reasons.append(_("离线打卡须在巡查时段结束后 24 小时内上传。"))
    shape = geo.geometry_of(plan.geofence.geometry)
    if shape is None:
        reasons.append(_("该点位的电子围栏数据缺失，无法核验位置，请联系镇乡管理员。"))
    else:
        distance_m = geo.distance_outside_m(shape, lon=lon_f, lat=lat_f)
        if distance_m > 0:
            reasons.append(_("不在码头围栏内（距离 %(m).0f 米）") % {"m": distance_m})
    if acc is not None and acc > CHECKIN_MAX_ACCURACY_M:
        reasons.append(_("定位精度不足（±%(m).0f 米），请到开阔处重新定位。") % {"m": acc})
    if photo is None:
        reasons.append(_("请拍摄现场照片。"))
    if reasons:
        raise ValidationError(reasons)
    stored = photo_store(upload=photo, actor=actor)
    try:
        with transaction.atomic():
            checkin = Checkin.objects.create(
                plan=plan,
                user=actor,
                lon=lon_f,
                lat=lat_f,
                accuracy_m=acc,
                at=at_dt,
                photo=stored,
                client_uuid=key,
                note=(note or "")[:200],
            )
            plan = PatrolPlan.objects.select_for_update().get(pk=plan.pk)
            if plan.status != PatrolPlan.Status.CHECKED_IN:
                plan.mark_checked_in(at=at_dt)
                plan.save()
            township_id = plan.team.grid.township_id
            payload = {"plan": plan.id, "checkin": checkin.id, "township": township_id}
            live.push([live.GROUP_COMMAND, live.group_department(township_id), live.group_user(actor.pk)], events.CHECKIN_RECORDED, payload)
    except IntegrityError:
        # the same UUID arrived twice at once: the other request won; answer with its record
        _discard_files([stored])
        stored.delete()
        existing = _replayed(Checkin, key, actor)
        if existing is None:
            raise
        return existing, False
    return checkin, True


# --------------------------------------------------------------------------- field reports


def _place_near(lon: float, lat: float, *, within_m: float = 300.0) -> Geofence | None:
    """The geofence containing the point, else the nearest one within ``within_m``."""
    pad = 0.02
    best: tuple[float, Geofence] | None = None
    for fence in Geofence.objects.filter(
        centroid_lon__range=(lon - pad, lon + pad), centroid_lat__range=(lat - pad, lat + pad)
    ):
        shape = geo.geometry_of(fence.geometry)
        if shape is None:
            continue
        d = geo.distance_outside_m(shape, lon=lon, lat=lat)
        if d <= within_m and (best is None or d < best[0]):
            best = (d, fence)
    return best[1] if best else None


def _facility_reportable(facility: Facility, actor: User) -> bool:
    if facility.site.township_id and facility.site.township_id == actor.department_id:
        return True
    return any(facility.id in {f["id"] for f in p["facilities"]} for p in selectors.report_places_for(user=actor))


def grid_report_file(
    *,
    actor: User,
    kind: str,
    lon: Any,
    lat: Any,
    at: Any,
    client_uuid: Any,
    photos: Sequence = (),
    description: str = "",
    facility_id: Any = None,
    accuracy_m: Any = None,
    now: datetime | None = None,
) -> tuple[GridReport, bool]:
    """File a field report (suspicious activity or facility damage); returns ``(report, created)``.

    A suspicious-activity report becomes an input to the warning score (sent to the
    element module after commit) and can be dispatched (:func:`grid_report_dispatch`).
    A damage report opens a repair task for the facility's responsible department with
    the report's photos as the "before" photos. Replays return the original report.
    """
    key = _uuid(client_uuid)
    existing = _replayed(GridReport, key, actor)
    if existing:
        return existing, False
    now = now or timezone.now()
    _require(actor.role in FIELD_ROLES, _("只有网格员和码长可以上报。"))
    _require(kind in GridReport.Kind.values, _("上报类型无效。"))
    lon_f, lat_f = _coords(lon, lat)
    at_dt = _aware(at, _("发现时间"))
    _require(at_dt <= now + CLOCK_SKEW, _("手机时间晚于服务器时间，请校准手机时间后重试。"))
    facility = None
    if facility_id not in (None, ""):
        facility = Facility.objects.select_related("site").filter(pk=facility_id).first() if str(facility_id).isdigit() else None
        _require(facility is not None, _("所选设施不存在。"))
        _require(_facility_reportable(facility, actor), _("所选设施不在您的辖区内。"))
    description = (description or "").strip()[:2000]
    if kind == GridReport.Kind.DAMAGE:
        _require(bool([p for p in photos if p is not None]), _("设施损坏上报须附现场照片。"))
        _require(facility is not None or bool(description), _("请选择损坏的设施，或写明损坏情况。"))
    stored = _photos_store(uploads=photos, actor=actor)
    place = facility.site.geofence if facility and facility.site.geofence_id else _place_near(lon_f, lat_f)
    township = actor.department if actor.department and actor.department.kind == Department.Kind.TOWNSHIP else None
    if township is None and place is not None:
        township = selectors.township_for_name(place.township)
    try:
        with transaction.atomic():
            report = GridReport.objects.create(
                kind=kind,
                description=description,
                lon=lon_f,
                lat=lat_f,
                accuracy_m=_accuracy(accuracy_m),
                at=at_dt,
                reporter=actor,
                township=township,
                geofence=place,
                facility=facility,
                client_uuid=key,
            )
            if stored:
                report.photos.add(*stored)
            if kind == GridReport.Kind.DAMAGE:
                _repair_for_damage(report=report, photos=stored)
            groups = [live.GROUP_COMMAND, live.group_user(actor.pk)]
            if township:
                groups.append(live.group_department(township.id))
            live.push(groups, events.REPORT_FILED, {"report": report.id, "kind": kind, "township": township.id if township else None})
            if report.is_suspicious:
                from .tasks import signal_grid_report

                rid = report.id
                transaction.on_commit(lambda: signal_grid_report.delay(rid), robust=True)
                _notify_after_commit(
                    [township.code if township else "", *_ops_centre_codes()],
                    f"网格上报：{report.get_kind_display()}",
                    f"{report.dispatch_title()} · {description[:60]}",
                    "/sources/overview/",
                )
    except IntegrityError:
        _discard_files(stored)
        for p in stored:
            p.delete()
        existing = _replayed(GridReport, key, actor)
        if existing is None:
            raise
        return existing, False
    return report, True


def _repair_for_damage(*, report: GridReport, photos: Sequence[Photo]) -> RepairTask:
    facility = report.facility
    site = facility.site if facility else ProtectedSite.objects.filter(geofence=report.geofence).first() if report.geofence_id else None
    if facility is not None:
        department = facility.responsible_department
        facility.status = Facility.Status.DAMAGED
        facility.save(update_fields=["status"])
    else:
        department = report.township
    if department is None:
        department = Department.objects.filter(hosts_operations_centre=True).first()
    _require(department is not None, _("找不到设施的维护责任部门。"))
    what = facility.name if facility else (report.geofence.name if report.geofence_id else "现场设施")
    return repair_task_open(
        title=f"设施损坏：{what}",
        description=report.description,
        source=RepairTask.Source.DAMAGE_REPORT,
        department=department,
        facility=facility,
        site=site,
        report=report,
        before_photos=photos,
    )


def grid_report_signal(*, report_id: int) -> bool:
    """Send a suspicious report to the element module's warning score (idempotent)."""
    report = GridReport.objects.filter(pk=report_id).first()
    if report is None or not report.is_suspicious or report.signalled_at:
        return False
    from apps.elements.services import field_signal_record

    with transaction.atomic():
        report = GridReport.objects.select_for_update().get(pk=report_id)
        if report.signalled_at:
            return False
        field_signal_record(
            kind=GridReport.Kind(report.kind).value,
            lon=report.lon,
            lat=report.lat,
            at=report.at,
            weight=REPORT_SIGNAL_WEIGHT.get(report.kind, 0.5),
            ref=f"sources.gridreport:{report.pk}",
        )
        report.signalled_at = timezone.now()
        report.signal_error = ""
        report.save(update_fields=["signalled_at", "signal_error"])
    return True


def _dispatch_subject(*, subject, actor: User, level: str | None, note: str):
    from apps.enforcement.services import dispatch_subject  # imported late: enforcement builds on every module

    return dispatch_subject(subject=subject, actor=actor, level=level, note=note)


@transaction.atomic
def grid_report_dispatch(*, report: GridReport, actor: User, level: str | None = None, note: str = ""):
    """One-click dispatch of a suspicious report through the enforcement module."""
    _require(_is_command(actor), _("只有联合作战中心可以派发网格上报。"))
    _require(report.is_suspicious, _("设施损坏上报已转为维修任务，无需派发执法。"))
    dispatch = _dispatch_subject(subject=report, actor=actor, level=level, note=note)
    report.dispatched_at = timezone.now()
    report.save(update_fields=["dispatched_at"])
    return dispatch


# --------------------------------------------------------------------------- facilities


DEFAULT_STANDARDS: dict[str, dict[str, int]] = {
    # 无人码头: the full set (seed 003: 426 height bars, 2,200 CCTV channels, "sentinels")
    SiteType.UNMANNED_PIER: {
        FacilityKind.HEIGHT_BAR: 1,
        FacilityKind.CCTV: 2,
        FacilityKind.INFRARED: 1,
        FacilityKind.LIGHT: 1,
        FacilityKind.BARRIER: 1,
        FacilityKind.SIGN: 1,
    },
    # 冲滩点: no road to bar; watch the beach and warn
    SiteType.BEACH_LANDING: {FacilityKind.CCTV: 1, FacilityKind.INFRARED: 2, FacilityKind.LIGHT: 1, FacilityKind.SIGN: 2},
    # 重要道路卡口: stop the trucks
    SiteType.ROAD_CHECKPOINT: {FacilityKind.HEIGHT_BAR: 1, FacilityKind.CCTV: 2, FacilityKind.LIGHT: 1, FacilityKind.SIGN: 1},
}


@transaction.atomic
def site_standards_ensure_defaults() -> int:
    """Create the default standard rows that do not exist yet (edited values are kept)."""
    n = 0
    for site_type, kinds in DEFAULT_STANDARDS.items():
        for kind, count in kinds.items():
            _unused, created = SiteStandard.objects.get_or_create(site_type=site_type, facility_kind=kind, defaults={"min_count": count})
            n += created
    return n


@transaction.atomic
def site_standard_set(*, actor: User, site_type: str, facility_kind: str, min_count: int) -> SiteStandard:
    _require(_is_command(actor), _("只有联合作战中心可以修改防范设施标准。"))
    _require(site_type in SiteType.values and facility_kind in FacilityKind.values, _("点位或设施类型无效。"))
    _require(0 <= int(min_count) <= 99, _("数量须在 0–99 之间。"))
    std, _unused = SiteStandard.objects.update_or_create(
        site_type=site_type, facility_kind=facility_kind, defaults={"min_count": int(min_count)}
    )
    return std


def site_type_for(geofence: Geofence) -> str:
    return SiteType.UNMANNED_PIER if geofence.kind == Geofence.Kind.PIER else SiteType.BEACH_LANDING


@transaction.atomic
def protected_site_for_geofence(*, geofence: Geofence, site_type: str | None = None) -> ProtectedSite:
    """The protected site of a geofence (created on first use)."""
    site = ProtectedSite.objects.filter(geofence=geofence).first()
    if site:
        return site
    return ProtectedSite.objects.create(
        name=geofence.name,
        site_type=site_type or site_type_for(geofence),
        geofence=geofence,
        township=selectors.township_for_name(geofence.township),
        lon=geofence.centroid_lon,
        lat=geofence.centroid_lat,
    )


@transaction.atomic
def facility_register(
    *,
    site: ProtectedSite,
    kind: str,
    code: str,
    name: str,
    responsible_department: Department,
    lon: float | None = None,
    lat: float | None = None,
    heartbeat_timeout_min: int = 10,
) -> Facility:
    _require(kind in FacilityKind.values, _("设施类型无效。"))
    facility, _unused = Facility.objects.update_or_create(
        code=code,
        defaults={
            "site": site,
            "kind": kind,
            "name": name,
            "responsible_department": responsible_department,
            "lon": lon,
            "lat": lat,
            "heartbeat_timeout_min": heartbeat_timeout_min,
        },
    )
    return facility


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def facility_issue_token(*, facility: Facility) -> str:
    """A new device token (shown once; only its hash is stored). Replaces the previous one."""
    _require(facility.kind in DEVICE_KINDS, _("只有视频监控和红外哨兵等联网设备需要令牌。"))
    token = secrets.token_urlsafe(32)
    facility.token_hash = _token_hash(token)
    facility.save(update_fields=["token_hash"])
    if facility.last_heartbeat_at is None:
        Facility.objects.filter(pk=facility.pk).update(last_heartbeat_at=timezone.now())
    return token


@transaction.atomic
def facility_heartbeat(*, token: str, now: datetime | None = None) -> Facility:
    """A device says it is alive. A device that was down comes back to "ok" (its repair task
    stays open until the department closes it with an after photo)."""
    now = now or timezone.now()
    _require(bool(token), _("缺少设备令牌。"))
    facility = Facility.objects.select_for_update().filter(token_hash=_token_hash(token)).first()
    if facility is None:
        raise PermissionError(_("设备令牌无效。"))
    Facility.objects.filter(pk=facility.pk).update(last_heartbeat_at=now)  # not audited: one row per minute
    facility.last_heartbeat_at = now
    if facility.status == Facility.Status.DOWN:
        facility.status = Facility.Status.OK
        facility.save(update_fields=["status"])
        live.push([live.GROUP_COMMAND, live.group_department(facility.responsible_department_id)], events.FACILITY_UP, {"facility": facility.id})
    return facility


@transaction.atomic
def facilities_check_heartbeats(*, now: datetime | None = None) -> list[int]:
    """Devices silent for longer than their timeout are marked down and get a repair task
    for their responsible department (one open task per device). Returns the facility ids."""
    now = now or timezone.now()
    down: list[int] = []
    candidates = (
        Facility.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(kind__in=list(DEVICE_KINDS), token_hash__isnull=False, last_heartbeat_at__isnull=False)
        .exclude(status=Facility.Status.DOWN)
        .select_related("site", "responsible_department")
    )
    for facility in candidates:
        if facility.last_heartbeat_at >= now - timedelta(minutes=facility.heartbeat_timeout_min):
            continue
        facility.status = Facility.Status.DOWN
        facility.save(update_fields=["status"])
        down.append(facility.id)
        silent_min = int((now - facility.last_heartbeat_at).total_seconds() // 60)
        if not facility.repair_tasks.exclude(state=RepairTask.State.CLOSED).exists():
            repair_task_open(
                title=f"设备离线：{facility.name}",
                description=f"{silent_min} 分钟未收到心跳（超时阈值 {facility.heartbeat_timeout_min} 分钟）。",
                source=RepairTask.Source.DEVICE_DOWN,
                department=facility.responsible_department,
                facility=facility,
                site=facility.site,
            )
        live.push(
            [live.GROUP_COMMAND, live.group_department(facility.responsible_department_id)],
            events.FACILITY_DOWN,
            {"facility": facility.id, "site": facility.site_id},
        )
    return down


# --------------------------------------------------------------------------- repair tasks


def repair_task_open(
    *,
    title: str,
    source: str,
    department: Department,
    description: str = "",
    facility: Facility | None = None,
    site: ProtectedSite | None = None,
    report: GridReport | None = None,
    before_photos: Sequence[Photo] = (),
) -> RepairTask:
    with transaction.atomic():
        task = RepairTask.objects.create(
            title=title[:200],
            description=description,
            source=source,
            department=department,
            facility=facility,
            site=site or (facility.site if facility else None),
            report=report,
        )
        if before_photos:
            task.before_photos.add(*before_photos)
        _repair_changed(task)
        _notify_after_commit([department.code], f"维修任务：{task.title}", task.description[:120], "/sources/repairs/")
    return task


def _repair_changed(task: RepairTask) -> None:
    live.push(
        [live.GROUP_COMMAND, live.group_department(task.department_id)],
        events.REPAIR_CHANGED,
        {"task": task.id, "state": task.state, "department": task.department_id},
    )


def _may_work_on(task: RepairTask, actor: User) -> bool:
    return _is_command(actor) or (actor.is_department_staff and actor.department_id == task.department_id)


@transaction.atomic
def repair_task_add_photos(*, task: RepairTask, actor: User, stage: str, uploads: Sequence) -> list[Photo]:
    _require(_may_work_on(task, actor), _("只有责任部门或联合作战中心可以处理该维修任务。"))
    _require(stage in ("before", "after"), _("照片阶段须为 before 或 after。"))
    _require(task.state != RepairTask.State.CLOSED, _("维修任务已关闭。"))
    photos = _photos_store(uploads=uploads, actor=actor)
    _require(bool(photos), _("请选择照片。"))
    (task.before_photos if stage == "before" else task.after_photos).add(*photos)
    _repair_changed(task)
    return photos


@transaction.atomic
def repair_task_start(*, task: RepairTask, actor: User, before_photos: Sequence = ()) -> RepairTask:
    task = RepairTask.objects.select_for_update().get(pk=task.pk)
    _require(_may_work_on(task, actor), _("只有责任部门或联合作战中心可以处理该维修任务。"))
    _require(task.state == RepairTask.State.OPEN, _("只有待维修的任务可以开始维修。"))
    if before_photos:
        task.before_photos.add(*_photos_store(uploads=before_photos, actor=actor))
    task.start(by=actor, at=timezone.now())
    task.save()
    _repair_changed(task)
    return task


@transaction.atomic
def repair_task_close(*, task: RepairTask, actor: User, after_photos: Sequence = (), note: str = "") -> RepairTask:
    """Close a repair: refused without at least one "after" photo. The facility is back to "ok"."""
    task = RepairTask.objects.select_for_update().get(pk=task.pk)
    _require(_may_work_on(task, actor), _("只有责任部门或联合作战中心可以处理该维修任务。"))
    _require(task.state == RepairTask.State.IN_REPAIR, _("只有维修中的任务可以关闭（请先开始维修）。"))
    if after_photos:
        task.after_photos.add(*_photos_store(uploads=after_photos, actor=actor))
    _require(task.has_after_photo(), _("关闭维修任务前必须上传修复后的照片。"))
    task.close(by=actor, at=timezone.now(), note=(note or "")[:500])
    task.save()
    facility = task.facility
    if facility and not facility.repair_tasks.exclude(state=RepairTask.State.CLOSED).exists():
        if facility.status == Facility.Status.DAMAGED or (facility.status == Facility.Status.DOWN and not facility.is_device):
            facility.status = Facility.Status.OK
            facility.save(update_fields=["status"])
    _repair_changed(task)
    return task


# --------------------------------------------------------------------------- industry supervision


#: Which entity kinds each regulated process applies to.
PROCESS_ENTITY_KINDS: dict[str, frozenset[str]] = {
    RegulatedRecord.Process.SHIP_REPAIR: frozenset({MarketEntity.Kind.SHIPYARD}),
    RegulatedRecord.Process.SPECIAL_VEHICLE: frozenset(
        {MarketEntity.Kind.FREIGHT_STATION, MarketEntity.Kind.FUEL_STATION, MarketEntity.Kind.OIL_DEPOT, MarketEntity.Kind.COLD_STORE}
    ),
    RegulatedRecord.Process.FROZEN_GOODS: frozenset({MarketEntity.Kind.COLD_STORE, MarketEntity.Kind.FREIGHT_STATION}),
    RegulatedRecord.Process.CIGARETTE_TRADE: frozenset({MarketEntity.Kind.CIGARETTE_SHOP}),
}
#: Processes about goods, where a missing legal-source document is itself a finding.
GOODS_PROCESSES = frozenset({RegulatedRecord.Process.FROZEN_GOODS, RegulatedRecord.Process.CIGARETTE_TRADE})


def _require_industry(actor: User) -> None:
    _require(_is_command(actor) or is_industry_user(actor), _("只有市场监管、烟草、商务部门或联合作战中心可以办理行业监管。"))


def _quantity(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        q = Decimal(str(value))
    except Exception:  # noqa: BLE001
        raise ValidationError(_("数量须为数字。")) from None
    _require(q.is_finite() and q >= 0, _("数量须为非负数。"))
    return q


@transaction.atomic
def market_entity_register(
    *,
    actor: User,
    kind: str,
    name: str,
    license_no: str = "",
    address: str = "",
    township: Department | None = None,
    supervising_department: Department | None = None,
    lon: float | None = None,
    lat: float | None = None,
    contact_name: str = "",
    contact_phone: str = "",
) -> MarketEntity:
    _require_industry(actor)
    _require(kind in MarketEntity.Kind.values, _("市场主体类型无效（修造船厂、货运站、存储冷库、加油站、油库储运点、香烟销售点）。"))
    _require(bool((name or "").strip()), _("请填写市场主体名称。"))
    if lon is not None or lat is not None:
        _coords(lon, lat)
    entity, _unused = MarketEntity.objects.update_or_create(
        kind=kind,
        name=name.strip(),
        defaults={
            "license_no": license_no,
            "address": address,
            "township": township,
            "supervising_department": supervising_department or (actor.department if is_industry_user(actor) else None),
            "lon": lon,
            "lat": lat,
            "contact_name": contact_name,
            "contact_phone": contact_phone,
        },
    )
    return entity


@transaction.atomic
def regulated_record_create(
    *,
    actor: User,
    process: str,
    entity: MarketEntity,
    subject: str,
    occurred_at: Any,
    goods: str = "",
    quantity: Any = None,
    unit: str = "",
    source_document: str = "",
    legal_source: bool | None = None,
    details: dict | None = None,
) -> RegulatedRecord:
    """An entry in one of the 4 regulated processes. Goods recorded without a legal source
    (no source document, or ``legal_source=False``) become a flagged finding."""
    _require_industry(actor)
    _require(process in RegulatedRecord.Process.values, _("监管流程无效。"))
    allowed = PROCESS_ENTITY_KINDS[process]
    _require(
        entity.kind in allowed,
        _("“%(process)s”不适用于%(kind)s。") % {"process": RegulatedRecord.Process(process).label, "kind": entity.get_kind_display()},
    )
    _require(bool((subject or "").strip()), _("请填写登记对象（船名、车牌或货物批次）。"))
    source_document = (source_document or "").strip()
    if legal_source is None:
        legal_source = bool(source_document) or process not in GOODS_PROCESSES
    record = RegulatedRecord.objects.create(
        process=process,
        entity=entity,
        subject=subject.strip()[:120],
        goods=(goods or "")[:120],
        quantity=_quantity(quantity),
        unit=(unit or "")[:20],
        source_document=source_document[:120],
        legal_source=legal_source,
        occurred_at=_aware(occurred_at, _("发生时间")),
        recorded_by=actor,
        details=details or {},
    )
    if not legal_source:
        _finding_create(
            actor=actor,
            entity=entity,
            record=record,
            kind=MarketFinding.Kind.NO_LEGAL_SOURCE,
            goods=record.goods or record.subject,
            quantity=record.quantity,
            unit=record.unit,
            description=f"{record.get_process_display()}：{record.subject} 无合法来源凭证。",
        )
    return record


def _finding_create(*, actor: User, entity: MarketEntity, kind: str, inspection=None, record=None, goods="", quantity=None, unit="", description="", photos: Sequence[Photo] = ()) -> MarketFinding:
    _require(kind in MarketFinding.Kind.values, _("问题类型无效。"))
    finding = MarketFinding.objects.create(
        entity=entity,
        inspection=inspection,
        record=record,
        kind=kind,
        goods=(goods or "")[:120],
        quantity=_quantity(quantity),
        unit=(unit or "")[:20],
        description=description or "",
        created_by=actor,
    )
    if photos:
        finding.photos.add(*photos)
    if finding.flagged:
        from .tasks import signal_market_finding

        fid = finding.id
        transaction.on_commit(lambda: signal_market_finding.delay(fid), robust=True)
        live.push([live.GROUP_COMMAND], events.FINDING_FLAGGED, {"finding": finding.id, "entity": entity.id})
        _notify_after_commit(_ops_centre_codes(), f"无合法来源货物：{entity.name}", finding.dispatch_title(), "/sources/industry/")
    return finding


@transaction.atomic
def inspection_record(
    *, actor: User, entity: MarketEntity, at: Any, summary: str = "", findings: Sequence[dict[str, Any]] = ()
) -> Inspection:
    """An inspection with its findings (each: kind, goods, quantity, unit, description, photos)."""
    _require_industry(actor)
    _require(actor.department_id is not None, _("检查人员须属于一个部门。"))
    inspection = Inspection.objects.create(
        entity=entity, department=actor.department, inspector=actor, at=_aware(at, _("检查时间")), summary=summary or ""
    )
    for item in findings:
        photos = _photos_store(uploads=item.get("photos") or (), actor=actor)
        _finding_create(
            actor=actor,
            entity=entity,
            inspection=inspection,
            kind=item.get("kind", ""),
            goods=item.get("goods", ""),
            quantity=item.get("quantity"),
            unit=item.get("unit", ""),
            description=item.get("description", ""),
            photos=photos,
        )
    return inspection


def market_finding_signal(*, finding_id: int) -> bool:
    """Send a flagged finding (goods without a legal source) to the warning score (idempotent)."""
    finding = MarketFinding.objects.select_related("entity").filter(pk=finding_id).first()
    if finding is None or not finding.flagged or finding.signalled_at:
        return False
    if finding.entity.lon is None or finding.entity.lat is None:
        MarketFinding.objects.filter(pk=finding_id).update(signal_error="市场主体没有坐标，无法送入预警模型。")
        return False
    from apps.elements.services import field_signal_record

    with transaction.atomic():
        finding = MarketFinding.objects.select_for_update().select_related("entity").get(pk=finding_id)
        if finding.signalled_at:
            return False
        field_signal_record(
            kind="illegal_goods",
            lon=finding.entity.lon,
            lat=finding.entity.lat,
            at=finding.created_at,
            weight=1.0,
            ref=f"sources.marketfinding:{finding.pk}",
        )
        finding.signalled_at = timezone.now()
        finding.signal_error = ""
        finding.save(update_fields=["signalled_at", "signal_error"])
    return True


@transaction.atomic
def market_finding_dispatch(*, finding: MarketFinding, actor: User, level: str | None = None, note: str = ""):
    """One-click dispatch of a finding through the enforcement module."""
    _require(_is_command(actor), _("只有联合作战中心可以派发行业监管发现。"))
    _require(finding.status == MarketFinding.Status.OPEN, _("该问题已派发或已整改。"))
    dispatch = _dispatch_subject(subject=finding, actor=actor, level=level, note=note)
    finding.status = MarketFinding.Status.DISPATCHED
    finding.save(update_fields=["status"])
    return dispatch


def pending_signals_retry() -> int:
    """Send reports and findings whose signal task never ran (broker down at commit time)."""
    n = 0
    for rid in GridReport.objects.filter(signalled_at__isnull=True, kind__in=list(GridReport.SUSPICIOUS_KINDS)).values_list("id", flat=True)[:200]:
        n += grid_report_signal(report_id=rid)
    for fid in MarketFinding.objects.filter(signalled_at__isnull=True, kind=MarketFinding.Kind.NO_LEGAL_SOURCE).values_list("id", flat=True)[:200]:
        n += market_finding_signal(finding_id=fid)
    return n

