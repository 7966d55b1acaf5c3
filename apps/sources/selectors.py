"""Reads of source governance: tide windows, tonight's plans, attendance, compliance."""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date as Date
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from apps.core.models import Department
from apps.core.roles import READ_ALL_ROLES
from apps.elements.models import TideEventRecord, TideStation

from .models import (
    Facility,
    GridTeam,
    PatrolPlan,
    PierChief,
    ProtectedSite,
    SiteStandard,
    TeamMember,
)

log = logging.getLogger(__name__)
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NIGHT_START = time(18)  # a patrol night runs 18:00 to 06:00 next morning (Asia/Shanghai)

Window = tuple[datetime, datetime, datetime]  # (start, peak, end), aware


# --------------------------------------------------------------------------- tide windows


def night_bounds(*, date: Date) -> tuple[datetime, datetime]:
    """The night of ``date``: [date 18:00, date+1 06:00) in Asia/Shanghai, as aware datetimes."""
    start = datetime.combine(date, NIGHT_START, tzinfo=LOCAL_TZ)
    return start, start + timedelta(hours=12)


def night_of(ts: datetime) -> Date:
    """The patrol night an instant belongs to (before 06:00 counts as the previous evening's night)."""
    local = ts.astimezone(LOCAL_TZ)
    return (local - timedelta(hours=6)).date() if local.time() < time(6) else local.date()


def _tide_events_between(start: datetime, end: datetime) -> list[Any]:
    """High/low waters around the night, as ``apps.elements.domain.tides.TideEvent``.

    The single adapter to the element module's tide data: the default tide station's
    rows (``elements.TideEventRecord``: imported tide table or stored predictions) when
    there are any for the span; else a prediction from that station's harmonic constants;
    else from the constants file ``settings.TIDE_CONSTANTS_PATH`` (default
    ``geodata/tides/kanmen.json``).
    """
    from apps.elements.domain.tides import TideEvent, constants_from_dict, high_low_waters, load_constants

    station = TideStation.objects.filter(is_default=True).first() or TideStation.objects.first()
    if station is not None:
        rows = TideEventRecord.objects.filter(station=station, ts__gte=start, ts__lt=end).order_by("ts")
        events = [TideEvent(ts=ts, height_m=h, kind=k, station=station.code) for ts, h, k in rows.values_list("ts", "height_m", "kind")]
        if any(e.kind == "high" for e in events):
            return events
        if station.constants:
            try:
                return high_low_waters(constants_from_dict(station.constants), start, end)
            except (KeyError, TypeError, ValueError):
                log.warning("tide station %s has unusable constants; trying the constants file", station.code)
    path = Path(getattr(settings, "TIDE_CONSTANTS_PATH", settings.BASE_DIR / "geodata" / "tides" / "kanmen.json"))
    if not path.exists():
        log.warning("no tide rows, no station constants and no constants file at %s: no patrol windows", path)
        return []
    return high_low_waters(load_constants(path), start, end)


def tide_windows_for(*, date: Date) -> list[Window]:
    """Patrol windows of the night of ``date``: each high water whose peak falls in the night,
    from ``PATROL_WINDOW_BEFORE_MIN`` before to ``PATROL_WINDOW_AFTER_MIN`` after, to the minute."""
    from apps.elements.domain.tides import patrol_windows

    night_start, night_end = night_bounds(date=date)
    events = _tide_events_between(night_start - timedelta(hours=6), night_end + timedelta(hours=6))
    windows = patrol_windows(
        events,
        before=timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN),
        after=timedelta(minutes=settings.PATROL_WINDOW_AFTER_MIN),
        night_only=False,
    )
    out: list[Window] = []
    for w in windows:
        if not night_start <= w.peak < night_end:
            continue
        peak = w.peak.replace(second=0, microsecond=0)
        out.append(
            (
                peak - timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN),
                peak,
                peak + timedelta(minutes=settings.PATROL_WINDOW_AFTER_MIN),
            )
        )
    return out


def fmt_window(start: datetime, end: datetime) -> str:
    """'22:10–02:10' in Asia/Shanghai."""
    return f"{start.astimezone(LOCAL_TZ):%H:%M}–{end.astimezone(LOCAL_TZ):%H:%M}"


# --------------------------------------------------------------------------- the field worker


def teams_of(*, user) -> list[GridTeam]:
    return list(GridTeam.objects.filter(members__user=user, active=True).select_related("grid__township"))


def plan_checkin_allowed(*, plan: PatrolPlan, user) -> bool:
    """A member of the plan's team, or the pier chief of the plan's place."""
    return (
        TeamMember.objects.filter(team_id=plan.team_id, user=user).exists()
        or PierChief.objects.filter(geofence_id=plan.geofence_id, user=user).exists()
    )


def plans_for_worker(*, user, now: datetime | None = None):
    """The plans a grid worker or pier chief may check in to, from last night to tomorrow night."""
    now = now or timezone.now()
    return (
        PatrolPlan.objects.filter(Q(team__members__user=user) | Q(geofence__chief__user=user))
        .filter(window_end__gte=now - timedelta(hours=18), window_start__lte=now + timedelta(hours=30))
        .select_related("team__grid__township", "geofence")
        .distinct()
        .order_by("window_start", "geofence__name")
    )


def report_places_for(*, user) -> list[dict[str, Any]]:
    """Places (and their facilities) a field worker reports on: their teams' and piers' geofences."""
    from apps.elements.models import Geofence

    fences = (
        Geofence.objects.filter(Q(patrol_teams__members__user=user) | Q(chief__user=user))
        .distinct()
        .order_by("name")
    )
    facilities = defaultdict(list)
    for f in Facility.objects.filter(site__geofence__in=fences).select_related("site").order_by("kind", "code"):
        facilities[f.site.geofence_id].append(
            {"id": f.id, "name": f.name, "kind": f.kind, "kind_label": f.get_kind_display(), "status": f.status}
        )
    return [
        {
            "id": g.id,
            "name": g.name,
            "kind": g.kind,
            "lon": g.centroid_lon,
            "lat": g.centroid_lat,
            "facilities": facilities.get(g.id, []),
        }
        for g in fences
    ]


# --------------------------------------------------------------------------- attendance


def _attendance_rows(qs, key_fields: list[str]) -> list[dict[str, Any]]:
    rows = qs.values(*key_fields).annotate(
        planned=Count("id"),
        checked_in=Count("id", filter=Q(status=PatrolPlan.Status.CHECKED_IN)),
        missed=Count("id", filter=Q(status=PatrolPlan.Status.MISSED)),
        pending=Count("id", filter=Q(status=PatrolPlan.Status.PLANNED)),
    )
    out = []
    for r in rows.order_by(*key_fields):
        due = r["checked_in"] + r["missed"]
        r["rate"] = round(r["checked_in"] / due, 3) if due else None
        out.append(r)
    return out


def attendance_by_team(*, user, date_from: Date, date_to: Date) -> list[dict[str, Any]]:
    """Per team: plans, checked in, missed, pending and the attendance rate (checked in / due)."""
    qs = PatrolPlan.objects.visible_to(user).filter(night__gte=date_from, night__lte=date_to)
    rows = _attendance_rows(qs, ["team_id", "team__name", "team__grid__township_id", "team__grid__township__name"])
    return [
        {
            "team": r["team_id"],
            "team_name": r["team__name"],
            "township": r["team__grid__township_id"],
            "township_name": r["team__grid__township__name"],
            **{k: r[k] for k in ("planned", "checked_in", "missed", "pending", "rate")},
        }
        for r in rows
    ]


def attendance_by_township(*, user, date_from: Date, date_to: Date) -> list[dict[str, Any]]:
    qs = PatrolPlan.objects.visible_to(user).filter(night__gte=date_from, night__lte=date_to)
    rows = _attendance_rows(qs, ["team__grid__township_id", "team__grid__township__name"])
    return [
        {
            "township": r["team__grid__township_id"],
            "township_name": r["team__grid__township__name"],
            **{k: r[k] for k in ("planned", "checked_in", "missed", "pending", "rate")},
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- facilities


def site_compliance(*, user, township_id: int | None = None, only_lacking: bool = False) -> list[dict[str, Any]]:
    """Each visible site against its type's standard: what is required, installed, working and lacking.

    ``lacking`` lists, per facility kind, how many are missing (``missing``: not installed)
    and how many are installed but not working (``not_working``: damaged or down). A site
    is ``compliant`` when every required kind has at least ``min_count`` working.
    """
    standards: dict[str, dict[str, int]] = defaultdict(dict)
    for s in SiteStandard.objects.all():
        standards[s.site_type][s.facility_kind] = s.min_count
    sites = ProtectedSite.objects.visible_to(user).select_related("township", "geofence")
    if township_id:
        sites = sites.filter(township_id=township_id)
    counts: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: {"installed": 0, "working": 0}))
    for row in (
        Facility.objects.filter(site__in=sites)
        .values("site_id", "kind")
        .annotate(installed=Count("id"), working=Count("id", filter=Q(status=Facility.Status.OK)))
    ):
        counts[row["site_id"]][row["kind"]] = {"installed": row["installed"], "working": row["working"]}
    from .models import FacilityKind, SiteType

    labels = dict(FacilityKind.choices)
    out = []
    for site in sites:
        required = standards.get(site.site_type, {})
        lacking = []
        for kind, need in sorted(required.items()):
            have = counts[site.id].get(kind, {"installed": 0, "working": 0})
            missing = max(0, need - have["installed"])
            not_working = max(0, min(need, have["installed"]) - have["working"])
            if missing or not_working:
                lacking.append(
                    {
                        "kind": kind,
                        "kind_label": str(labels.get(kind, kind)),
                        "required": need,
                        "installed": have["installed"],
                        "working": have["working"],
                        "missing": missing,
                        "not_working": not_working,
                    }
                )
        if only_lacking and not lacking:
            continue
        out.append(
            {
                "site": site.id,
                "name": site.name,
                "site_type": site.site_type,
                "site_type_label": str(dict(SiteType.choices).get(site.site_type, site.site_type)),
                "township": site.township_id,
                "township_name": site.township.name if site.township_id else "",
                "lon": site.lon,
                "lat": site.lat,
                "required": dict(required),
                "compliant": not lacking,
                "lacking": lacking,
            }
        )
    return out


def township_for_name(name: str) -> Department | None:
    if not name:
        return None
    return Department.objects.filter(kind=Department.Kind.TOWNSHIP, name=name).first()


def overview_counts(*, user, now: datetime | None = None) -> dict[str, Any]:
    """Headline numbers for the source-governance page."""
    from .models import GridReport, RepairTask

    now = now or timezone.now()
    tonight = night_of(now)
    plans = PatrolPlan.objects.visible_to(user).filter(night=tonight)
    return {
        "night": tonight.isoformat(),
        "plans": plans.count(),
        "checked_in": plans.filter(status=PatrolPlan.Status.CHECKED_IN).count(),
        "missed": plans.filter(status=PatrolPlan.Status.MISSED).count(),
        "open_repairs": RepairTask.objects.visible_to(user).exclude(state=RepairTask.State.CLOSED).count(),
        "devices_down": Facility.objects.visible_to(user).filter(status=Facility.Status.DOWN).count(),
        "reports_24h": GridReport.objects.visible_to(user).filter(received_at__gte=now - timedelta(hours=24)).count(),
    }


def missed_plans(*, user, since: datetime):
    return (
        PatrolPlan.objects.visible_to(user)
        .filter(status=PatrolPlan.Status.MISSED, window_end__gte=since)
        .select_related("team__grid__township", "geofence")
        .order_by("-window_end")[:50]
    )


def entity_counts(*, user) -> list[dict[str, Any]]:
    """The 6 kinds of market entity with how many of each the user may see."""
    from .models import MarketEntity

    counts = dict(MarketEntity.objects.visible_to(user).values_list("kind").annotate(n=Count("id")))
    return [{"kind": k, "label": str(label), "count": counts.get(k, 0)} for k, label in MarketEntity.Kind.choices]


def photo_visible_to(*, user, photo) -> bool:
    """A photo is visible to whoever may see a record it belongs to (or who uploaded it)."""
    from .models import Checkin, GridReport, MarketFinding, RepairTask, SensorEvent

    if not user.is_authenticated:
        return False
    if user.role in READ_ALL_ROLES or photo.uploaded_by_id == user.pk:
        return True
    return (
        Checkin.objects.visible_to(user).filter(photo=photo).exists()
        or GridReport.objects.visible_to(user).filter(photos=photo).exists()
        or RepairTask.objects.visible_to(user).filter(Q(before_photos=photo) | Q(after_photos=photo)).exists()
        or MarketFinding.objects.visible_to(user).filter(photos=photo).exists()
        or SensorEvent.objects.visible_to(user).filter(snapshot=photo).exists()
    )
