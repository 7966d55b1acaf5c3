"""Cockpit reads: indicators, trends, the map in one call, details, the department evaluation.

The cockpit owns almost no data; it reads the other modules' tables (read-only ORM queries
here, never writes) and aggregates in the database: counts and sums grouped in SQL,
medians with ``percentile_cont`` on PostgreSQL, the map from ``Vessel.last_lon/last_lat``
plus a bounded track query on the stored fixes (primary key ``(vessel_id, ts)``).
"""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Sum
from django.db.models.functions import TruncDay, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from apps.core.models import Department
from apps.elements.models import COORD_SCALE, Geofence, StoredFix, TideStation, Vessel, Warning
from apps.elements.selectors import radar_associations
from apps.enforcement.models import DISPOSAL_ORDER, Case, DisposalStep, SeizedGoods, Task
from apps.notifications.selectors import delivery_rates
from apps.reporting.models import Reward, Tip
from apps.sources.models import Checkin, Facility, GridTeam, PatrolPlan, RepairTask

from . import evaluation as scoring
from .sql import MinutesBetween, Percentile, durations_stats, grouped_median

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
OPEN_WARNING_STATUSES = (Warning.Status.OPEN, Warning.Status.DISPATCHED)
LEVELS = [c.value for c in Warning.Level]

# Bounds of the one-call map (the screen never asks for more than it can draw).
MAP_VESSEL_HOURS = 6
MAP_MAX_VESSELS = 2000
MAP_MAX_WARNINGS = 500
MAP_TRACK_VESSELS = 30
MAP_TRACK_POINTS = 240
DETAIL_TRACK_POINTS = 2000

BOUNDARY_FILE = Path(settings.BASE_DIR) / "geodata" / "xiangshan_county_wgs84.geojson"


def _choices(model, field: str) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in model._meta.get_field(field).choices or []}
    except Exception:
        return {}


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def local_day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end+1 00:00)`` in Asia/Shanghai as aware datetimes (end date inclusive)."""
    lo = datetime.combine(start, time.min, tzinfo=LOCAL_TZ)
    hi = datetime.combine(end + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)
    return lo, hi


# --------------------------------------------------------------------------- indicators
def _warnings_summary(*, now: datetime, since: datetime) -> dict[str, Any]:
    open_by_level = dict(
        Warning.objects.filter(status__in=OPEN_WARNING_STATUSES)
        .order_by()
        .values_list("level")
        .annotate(n=Count("id"))
        .values_list("level", "n")
    )
    by_kind: dict[str, int] = {}
    by_level: dict[str, int] = {}
    last_24h = 0
    day_ago = now - timedelta(hours=24)
    for r in (
        Warning.objects.filter(created_at__gte=min(since, day_ago))
        .order_by()
        .values("kind", "level")
        .annotate(n=Count("id", filter=Q(created_at__gte=since)), n24=Count("id", filter=Q(created_at__gte=day_ago)))
    ):
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["n"]
        by_level[r["level"]] = by_level.get(r["level"], 0) + r["n"]
        last_24h += r["n24"]
    by_kind = {k: n for k, n in by_kind.items() if n}
    kinds = _choices(Warning, "kind")
    return {
        "open_total": sum(open_by_level.values()),
        "open_by_level": {lv: open_by_level.get(lv, 0) for lv in LEVELS},
        "period_total": sum(by_level.values()),
        "period_by_level": {lv: by_level.get(lv, 0) for lv in LEVELS},
        "period_by_kind": [
            {"kind": k, "label": kinds.get(k, k), "count": by_kind[k]} for k in sorted(by_kind, key=lambda x: -by_kind[x])
        ],
        "last_24h": last_24h,
    }


def _task_overdue_q(now: datetime) -> Q:
    """An open task past a deadline it has not met."""
    return (
        Q(acknowledged_at__isnull=True, ack_due_at__lt=now)
        | Q(arrived_at__isnull=True, arrive_due_at__lt=now)
        | Q(feedback_at__isnull=True, feedback_due_at__lt=now)
    )


OPEN_TASK_STATES = ("new", "acknowledged", "in_progress", "escalated")  # the department still owes work


def tasks_assigned_between(Task, *, start: datetime, end: datetime | None = None):
    """Tasks assigned in ``[start, end)`` (served by the ``assigned_at`` index)."""
    qs = Task.objects.filter(assigned_at__gte=start)
    if end is not None:
        qs = qs.filter(assigned_at__lt=end)
    return qs.order_by()


def _tasks_summary(*, now: datetime, since: datetime) -> dict[str, Any]:
    open_agg = Task.objects.filter(state__in=OPEN_TASK_STATES).order_by().aggregate(
        open=Count("pk"), overdue=Count("pk", filter=_task_overdue_q(now)), escalated=Count("pk", filter=Q(state="escalated"))
    )
    period = tasks_assigned_between(Task, start=since)
    states = _choices(Task, "state")
    times = durations_stats(
        period,
        pairs={"ack_min": ("acknowledged_at", "assigned_at"), "arrive_min": ("arrived_at", "assigned_at")},
        extra={f"state_{s}": Count("pk", filter=Q(state=s)) for s in states},
    )
    by_state = {s: times.pop(f"state_{s}") for s in states}
    return {
        "available": True,
        **open_agg,
        "period_total": sum(by_state.values()),
        "period_by_state": [
            {"state": s, "label": label, "count": by_state.get(s, 0)} for s, label in states.items()
        ],
        **times,
    }


def _cases_summary(*, since: datetime) -> dict[str, Any]:
    kinds = _choices(SeizedGoods, "kind")
    goods = (
        SeizedGoods.objects.filter(seized_at__gte=since)
        .order_by()
        .values("kind")
        .annotate(n=Count("id"), value=Sum("estimated_value_yuan"))
    )
    by_kind = {g["kind"]: g for g in goods}
    return {
        "available": True,
        "open": Case.objects.filter(status="open").count(),
        "period_total": Case.objects.filter(created_at__gte=since).count(),
        "goods_by_kind": [
            {
                "kind": k,
                "label": label,
                "count": by_kind.get(k, {}).get("n", 0),
                "value_yuan": float(by_kind.get(k, {}).get("value") or 0),
            }
            for k, label in kinds.items()
        ],
        "goods_value_yuan": float(sum((g.get("value") or 0) for g in by_kind.values())),
    }


def _tips_summary(*, since: datetime) -> dict[str, Any]:
    by_state = dict(
        Tip.objects.filter(created_at__gte=since).order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    out: dict[str, Any] = {
        "available": True,
        "period_total": sum(by_state.values()),
        "pending": Tip.objects.filter(state="new").count(),
        "by_state": [{"state": s, "label": label, "count": by_state.get(s, 0)} for s, label in _choices(Tip, "state").items()],
    }
    paid = Reward.objects.filter(state="paid", paid_at__gte=since).aggregate(n=Count("id"), total=Sum("amount_yuan"))
    out["rewards_paid"] = {"count": paid["n"], "amount_yuan": float(paid["total"] or 0)}
    return out


def _patrol_summary(*, now: datetime, since: datetime) -> dict[str, Any]:
    """Patrol attendance: planned patrol shifts in the period and how many were checked in."""
    local_now = now.astimezone(LOCAL_TZ)
    tonight = (local_now - timedelta(hours=6)).date() if local_now.time() < time(6) else local_now.date()
    first_night = since.astimezone(LOCAL_TZ).date()
    agg = PatrolPlan.objects.order_by().aggregate(
        planned=Count("id", filter=Q(night__gte=first_night, night__lte=tonight)),
        checked_in=Count("id", filter=Q(night__gte=first_night, night__lte=tonight, status="checked_in")),
        missed=Count("id", filter=Q(night__gte=first_night, night__lte=tonight, status="missed")),
        tonight_planned=Count("id", filter=Q(night=tonight)),
        tonight_checked_in=Count("id", filter=Q(night=tonight, status="checked_in")),
        tonight_missed=Count("id", filter=Q(night=tonight, status="missed")),
    )
    due = agg["checked_in"] + agg["missed"]
    return {"available": True, "night": tonight.isoformat(), "rate": _pct(agg["checked_in"] / due) if due else None, **agg}


def _facilities_summary() -> dict[str, Any]:
    by_status = dict(Facility.objects.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    out: dict[str, Any] = {
        "available": True,
        "total": sum(by_status.values()),
        "by_status": [{"status": k, "label": v, "count": by_status.get(k, 0)} for k, v in _choices(Facility, "status").items()],
        "down": by_status.get("down", 0),
        "damaged": by_status.get("damaged", 0),
    }
    out["open_repairs"] = RepairTask.objects.exclude(state="closed").count()
    return out


def cockpit_summary(*, now: datetime | None = None, days: int = 30) -> dict[str, Any]:
    """Every counter of the cockpit in one dict (the ``/api/cockpit/summary/`` body)."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    return {
        "generated_at": now.isoformat(),
        "days": days,
        "warnings": _warnings_summary(now=now, since=since),
        "tasks": _tasks_summary(now=now, since=since),
        "cases": _cases_summary(since=since),
        "tips": _tips_summary(since=since),
        "patrol": _patrol_summary(now=now, since=since),
        "facilities": _facilities_summary(),
        "vessels": {"seen_6h": Vessel.objects.filter(last_seen__gte=now - timedelta(hours=MAP_VESSEL_HOURS)).count()},
        "notifications": delivery_rates(since=since, now=now),
    }


# --------------------------------------------------------------------------- trends
def _bucket_keys(*, start: datetime, end: datetime, bucket: str) -> list[date]:
    day = start.astimezone(LOCAL_TZ).date()
    last = (end - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
    if bucket == "week":
        day = day - timedelta(days=day.weekday())
    keys = []
    while day <= last:
        keys.append(day)
        day += timedelta(days=7 if bucket == "week" else 1)
    return keys


def _bucket_key(b) -> str:
    return (b.astimezone(LOCAL_TZ).date() if isinstance(b, datetime) else b).isoformat()


def _series(qs, *, field: str, bucket: str, split: str | None = None) -> dict:
    trunc = (TruncWeek if bucket == "week" else TruncDay)(field, tzinfo=LOCAL_TZ)
    values = ["b"] + ([split] if split else [])
    rows = qs.order_by().annotate(b=trunc).values(*values).annotate(n=Count("pk"))
    out: dict = {}
    for r in rows:
        key = _bucket_key(r["b"])
        if split:
            out.setdefault(r[split], {})[key] = r["n"]
        else:
            out[key] = r["n"]
    return out


def cockpit_trends(*, days: int = 30, bucket: str = "day", now: datetime | None = None) -> dict[str, Any]:
    """Counts per day or week (Asia/Shanghai) over the last ``days`` days, one list per series."""
    now = now or timezone.now()
    today = now.astimezone(LOCAL_TZ).date()
    start, end = local_day_bounds(today - timedelta(days=days - 1), today)
    keys = [k.isoformat() for k in _bucket_keys(start=start, end=end, bucket=bucket)]

    def fill(d: dict) -> list[int]:
        return [d.get(k, 0) for k in keys]

    series: dict[str, Any] = {}
    w = _series(Warning.objects.filter(created_at__gte=start, created_at__lt=end), field="created_at", bucket=bucket, split="level")
    series["warnings_by_level"] = {lv: fill(w.get(lv, {})) for lv in LEVELS}
    period = tasks_assigned_between(Task, start=start, end=end)
    late = Q(acknowledged_at__gt=F("ack_due_at")) | Q(acknowledged_at__isnull=True, ack_due_at__lt=now)
    trunc = (TruncWeek if bucket == "week" else TruncDay)("assigned_at", tzinfo=LOCAL_TZ)
    assigned: dict[str, int] = {}
    ack_late: dict[str, int] = {}
    closed: dict[str, int] = {}
    rows = period.annotate(b=trunc).values("b").annotate(
        n=Count("pk"), late=Count("pk", filter=late), closed=Count("pk", filter=Q(state="closed"))
    )
    for r in rows:
        key = _bucket_key(r["b"])
        assigned[key], ack_late[key], closed[key] = r["n"], r["late"], r["closed"]
    series["tasks_assigned"] = fill(assigned)
    series["tasks_ack_late"] = fill(ack_late)
    series["tasks_closed"] = fill(closed)  # of the tasks assigned in the bucket, those closed by now
    series["cases"] = fill(_series(Case.objects.filter(created_at__gte=start, created_at__lt=end), field="created_at", bucket=bucket))
    series["tips"] = fill(_series(Tip.objects.filter(created_at__gte=start, created_at__lt=end), field="created_at", bucket=bucket))
    series["patrol_rate"] = _attendance_series(PatrolPlan, start=start, end=end, bucket=bucket, keys=keys)
    return {"bucket": bucket, "days": days, "buckets": keys, "series": series}


# --------------------------------------------------------------------------- map
def _geometry_cached():
    """Geofences change rarely: cache their drawing keyed by the last change."""
    from django.core.cache import cache

    stamp = Geofence.objects.order_by().aggregate(m=Max("updated_at"), n=Count("id"))
    # the drawing carries translated labels: one copy per language
    key = f"cockpit:geofences:{get_language()}:{stamp['n']}:{stamp['m'].timestamp() if stamp['m'] else 0}"
    data = cache.get(key)
    if data is None:
        kinds, statuses = _choices(Geofence, "kind"), _choices(Geofence, "status")
        data = [
            {
                "id": g["id"],
                "name": g["name"],
                "kind": g["kind"],
                "kind_label": kinds.get(g["kind"], g["kind"]),
                "status": g["status"],
                "status_label": statuses.get(g["status"], g["status"]),
                "township": g["township"],
                "pier_chief": g["pier_chief"],
                "geometry": g["geometry"],
                "lon": g["centroid_lon"],
                "lat": g["centroid_lat"],
            }
            for g in Geofence.objects.order_by("id").values(
                "id", "name", "kind", "status", "township", "pier_chief", "geometry", "centroid_lon", "centroid_lat"
            )
        ]
        cache.set(key, data, 300)
    return data


def vessel_tracks(*, vessel_ids: list[int], since: datetime, max_points: int) -> dict[int, list[list]]:
    """The latest ``max_points`` stored fixes of each vessel since ``since``, oldest first: ``[lon, lat, iso time, sog]``.

    One query over the fix table's primary key ``(vessel_id, ts)``: a LATERAL join takes the
    newest rows of each vessel (index scan backwards, stops after ``max_points``).
    """
    if not vessel_ids:
        return {}
    out: dict[int, list[list]] = {vid: [] for vid in vessel_ids}
    if connection.vendor == "postgresql":
        sql = (
            "SELECT v.id, f.ts, f.lon_e7, f.lat_e7, f.sog_dkn FROM unnest(%s::bigint[]) AS v(id) "
            "CROSS JOIN LATERAL (SELECT ts, lon_e7, lat_e7, sog_dkn FROM elements_fix "
            "WHERE vessel_id = v.id AND ts >= %s ORDER BY ts DESC LIMIT %s) f"
        )
        with connection.cursor() as cur:
            cur.execute(sql, [list(vessel_ids), since, max_points])
            rows = cur.fetchall()
    else:  # SQLite (embedded default): the same bound with a window function, still one query
        from django.db.models import Window
        from django.db.models.functions import RowNumber

        rows = list(
            StoredFix.objects.filter(vessel_id__in=vessel_ids, ts__gte=since)
            .annotate(rn=Window(RowNumber(), partition_by=[F("vessel_id")], order_by=F("ts").desc()))
            .filter(rn__lte=max_points)
            .values_list("vessel_id", "ts", "lon_e7", "lat_e7", "sog_dkn")
        )
    for vid, ts, lon_e7, lat_e7, sog_dkn in rows:
        out[vid].append([lon_e7 / COORD_SCALE, lat_e7 / COORD_SCALE, ts.isoformat(), None if sog_dkn is None else sog_dkn / 10])
    for pts in out.values():
        pts.sort(key=lambda p: p[2])
    return out


WARNING_FIELDS = (
    "id", "kind", "level", "status", "score", "vessels", "geofence_id", "geofence__name", "lon", "lat", "start", "end", "created_at"
)


def _warning_rows(qs) -> list[dict[str, Any]]:
    """Warnings as the map and the side panel show them (plain values: no model instances, labels looked up once)."""
    labels = {f: _choices(Warning, f) for f in ("kind", "level", "status")}
    return [
        {
            "id": w["id"],
            "kind": w["kind"],
            "kind_label": labels["kind"].get(w["kind"], w["kind"]),
            "level": w["level"],
            "level_label": labels["level"].get(w["level"], w["level"]),
            "status": w["status"],
            "status_label": labels["status"].get(w["status"], w["status"]),
            "score": round(w["score"], 1),
            "vessels": w["vessels"],
            "geofence": w["geofence__name"],
            "geofence_id": w["geofence_id"],
            "lon": w["lon"],
            "lat": w["lat"],
            "start": _iso(w["start"]),
            "end": _iso(w["end"]),
            "created_at": _iso(w["created_at"]),
        }
        for w in qs.values(*WARNING_FIELDS)
    ]


def cockpit_map(*, hours: int = MAP_VESSEL_HOURS, now: datetime | None = None) -> dict[str, Any]:
    """Everything the map draws, in one bounded answer.

    * vessels seen in the last ``hours`` hours (``Vessel.last_*`` columns, at most
      ``MAP_MAX_VESSELS``, newest first);
    * tracks of the vessels in open warnings (at most ``MAP_TRACK_VESSELS`` vessels,
      ``MAP_TRACK_POINTS`` latest fixes each);
    * open warnings with a position (at most ``MAP_MAX_WARNINGS``, highest level first);
    * geofences (kind, status, whether an open warning sits on them);
    * facilities and the teams' last check-ins (from the source-governance module);
    * sensor coverage (radar ranges, camera sectors) and radar tracks associated with
      AIS/Beidou vessels (radar targets are vessels of source ``radar``).
    """
    now = now or timezone.now()
    since = now - timedelta(hours=hours)
    warnings = _warning_rows(
        Warning.objects.filter(status__in=OPEN_WARNING_STATUSES, lon__isnull=False, lat__isnull=False).order_by("-created_at")[
            :MAP_MAX_WARNINGS
        ]
    )
    warnings.sort(key=lambda w: -Warning.LEVEL_RANK.get(w["level"], 0))  # stable: newest first within a level
    warned_ids = list(dict.fromkeys(str(ext) for w in warnings for ext in (w["vessels"] or [])))
    vessels = list(
        Vessel.objects.filter(last_seen__gte=since, last_lon__isnull=False, last_lat__isnull=False)
        .order_by("-last_seen")
        .values("id", "name", "external_id", "source", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg", "last_seen", "watch_group", "registered")[
            :MAP_MAX_VESSELS
        ]
    )
    warned_set = set(warned_ids)
    track_vessel_ids = list(
        Vessel.objects.filter(external_id__in=warned_ids[: MAP_TRACK_VESSELS * 2]).values_list("id", flat=True)[:MAP_TRACK_VESSELS]
    )
    tracks = vessel_tracks(vessel_ids=track_vessel_ids, since=since, max_points=MAP_TRACK_POINTS)
    geofences = [dict(g) for g in _geometry_cached()]
    warned_geofences = {w["geofence_id"] for w in warnings if w["geofence_id"]}
    for g in geofences:
        g["warned"] = g["id"] in warned_geofences
    out: dict[str, Any] = {
        "generated_at": now.isoformat(),
        "hours": hours,
        "vessels": [
            {
                "id": v["id"],
                "name": v["name"] or v["external_id"],
                "external_id": v["external_id"],
                "source": v["source"],
                "lon": v["last_lon"],
                "lat": v["last_lat"],
                "sog_kn": v["last_sog_kn"],
                "cog_deg": v["last_cog_deg"],
                "last_seen": _iso(v["last_seen"]),
                "watch_group": v["watch_group"],
                "registered": v["registered"],
                "warned": v["external_id"] in warned_set,
            }
            for v in vessels
        ],
        "tracks": {str(k): v for k, v in tracks.items() if v},
        "warnings": warnings,
        "geofences": geofences,
        "facilities": _facilities_for_map(),
        "checkins": _last_checkins(now=now),
        "sensors": _sensor_coverage(),
        "associations": radar_associations(since=since),
    }
    return out


def _sensor_coverage() -> dict[str, Any]:
    """Radar ranges and camera/sentinel fields of view (GeoJSON), drawn under the targets."""
    from apps.elements.domain.sensors import sensors_geojson
    from apps.sources.sensors import sensors_domain

    return sensors_geojson(sensors_domain())


@lru_cache(maxsize=1)
def _boundary_text() -> str:
    return BOUNDARY_FILE.read_text(encoding="utf-8")


def county_boundary() -> dict[str, Any]:
    """The county outline (WGS84 GeoJSON) the map draws instead of tiles."""
    return json.loads(_boundary_text())


# --------------------------------------------------------------------------- details
def vessel_detail(*, vessel_id: int, hours: int = 24, now: datetime | None = None) -> dict[str, Any] | None:
    now = now or timezone.now()
    v = Vessel.objects.filter(pk=vessel_id).first()
    if v is None:
        return None
    track = vessel_tracks(vessel_ids=[v.id], since=now - timedelta(hours=hours), max_points=DETAIL_TRACK_POINTS)[v.id]
    history = Warning.objects.filter(vessels__contains=[v.external_id]) if connection.vendor == "postgresql" else None
    if history is None:  # SQLite JSON: no containment lookup
        history = Warning.objects.filter(vessels__icontains=f'"{v.external_id}"')
    return {
        "type": "vessel",
        "id": v.id,
        "title": v.name or v.external_id,
        "fields": {
            _("MMSI/终端号"): v.external_id,
            _("来源"): v.get_source_display(),
            _("呼号"): v.callsign,
            _("船主"): v.owner,
            _("船籍港"): v.home_port,
            _("布控分组"): v.watch_group,
            _("已登记"): _("是") if v.registered else _("否"),
            _("最后位置时间"): _iso(v.last_seen),
            _("航速(节)"): v.last_sog_kn,
            _("航向(度)"): v.last_cog_deg,
        },
        "track": track,
        "history": _warning_rows(history.order_by("-created_at")[:20]),
    }


def warning_detail(*, warning_id: int) -> dict[str, Any] | None:
    w = Warning.objects.select_related("geofence").filter(pk=warning_id).first()
    if w is None:
        return None
    tasks = [
        {
            "id": t.id,
            "department": t.department.name,
            "title": t.title,
            "state": t.state,
            "state_label": t.get_state_display(),
            "assigned_at": _iso(t.assigned_at),
            "acknowledged_at": _iso(t.acknowledged_at),
            "arrived_at": _iso(t.arrived_at),
            "feedback_at": _iso(t.feedback_at),
        }
        for t in Task.objects.filter(warning_id=w.id).select_related("department").order_by("assigned_at", "id")
    ]
    row = _warning_rows(Warning.objects.filter(pk=w.pk))[0]
    evidence = w.evidence if isinstance(w.evidence, dict) else {}
    rule = evidence.get("rule") if isinstance(evidence.get("rule"), dict) else {}
    detector = rule.get("detector") or evidence.get("detector") or w.kind
    case = Case.objects.filter(dispatch__warning_id=w.id).values("id", "number").first()
    return {
        "type": "warning",
        "id": w.id,
        "title": _("%(level)s预警 · %(kind)s") % {"level": w.get_level_display(), "kind": w.get_kind_display()},
        "warning": row,
        "fields": {
            _("状态"): w.get_status_display(),
            _("风险分"): round(w.score, 1),
            _("船舶"): "、".join(map(str, w.vessels or [])),
            _("围栏"): row["geofence"],
            _("开始"): _iso(w.start),
            _("结束"): _iso(w.end),
            _("规则"): Warning.Kind(detector).label if detector in Warning.Kind.values else str(detector),
        },
        "links": [{"label": _("预警详情与证据"), "url": f"/elements/warnings/{w.id}/"}]
        + ([{"label": _("案件 %(number)s") % {"number": case["number"]}, "url": f"/enforcement/cases/{case['id']}/"}] if case else []),
        "tasks": tasks,
    }


def geofence_detail(*, geofence_id: int) -> dict[str, Any] | None:
    g = Geofence.objects.filter(pk=geofence_id).first()
    if g is None:
        return None
    history = Warning.objects.filter(geofence_id=g.id).order_by("-created_at")[:20]
    return {
        "type": "geofence",
        "id": g.id,
        "title": g.name,
        "fields": {_("类型"): g.get_kind_display(), _("状态"): g.get_status_display(), _("所属镇乡"): g.township, _("码长"): g.pier_chief},
        "history": _warning_rows(history),
        "warnings_total": Warning.objects.filter(geofence_id=g.id).count(),
    }


def detail(*, kind: str, pk: int) -> dict[str, Any] | None:
    """The side panel of whatever was clicked on the map."""
    if kind == "vessel":
        return vessel_detail(vessel_id=pk)
    if kind == "warning":
        return warning_detail(warning_id=pk)
    if kind == "geofence":
        return geofence_detail(geofence_id=pk)
    if kind == "facility":
        return facility_detail(facility_id=pk)
    if kind == "team":
        return team_detail(team_id=pk)
    return None


# --------------------------------------------------------------------------- source governance
MAP_MAX_FACILITIES = 5000
CHECKIN_HOURS = 48


def _attendance_series(Plan, *, start: datetime, end: datetime, bucket: str, keys: list[str]) -> list[float | None]:
    """Attendance rate (checked in / due, %) per bucket of patrol nights."""
    first, last = start.astimezone(LOCAL_TZ).date(), (end - timedelta(microseconds=1)).astimezone(LOCAL_TZ).date()
    rows = (
        Plan.objects.filter(night__gte=first, night__lte=last)
        .order_by()
        .values("night")
        .annotate(ok=Count("id", filter=Q(status="checked_in")), missed=Count("id", filter=Q(status="missed")))
    )
    ok: dict[str, int] = {}
    due: dict[str, int] = {}
    for r in rows:
        night = r["night"]
        key = (night - timedelta(days=night.weekday()) if bucket == "week" else night).isoformat()
        ok[key] = ok.get(key, 0) + r["ok"]
        due[key] = due.get(key, 0) + r["ok"] + r["missed"]
    return [_pct(ok[k] / due[k]) if due.get(k) else None for k in keys]


def _facilities_for_map() -> list[dict[str, Any]]:
    rows = (
        Facility.objects.order_by("id")
        .values("id", "name", "kind", "status", "lon", "lat", "site__lon", "site__lat", "site__name", "last_heartbeat_at")[
            :MAP_MAX_FACILITIES
        ]
    )
    kinds = _choices(Facility, "kind")
    statuses = _choices(Facility, "status")
    out = []
    for r in rows:
        lon = r["lon"] if r["lon"] is not None else r["site__lon"]
        lat = r["lat"] if r["lat"] is not None else r["site__lat"]
        if lon is None or lat is None:
            continue
        out.append(
            {
                "id": r["id"],
                "name": r["name"],
                "site": r["site__name"],
                "kind": r["kind"],
                "kind_label": kinds.get(r["kind"], r["kind"]),
                "status": r["status"],
                "status_label": statuses.get(r["status"], r["status"]),
                "lon": lon,
                "lat": lat,
                "last_heartbeat_at": _iso(r["last_heartbeat_at"]),
            }
        )
    return out


def _last_checkins(*, now: datetime) -> list[dict[str, Any]]:
    """Each team's latest check-in of the last ``CHECKIN_HOURS`` hours (position, time, place)."""
    from django.db.models import Subquery

    recent = Checkin.objects.filter(at__gte=now - timedelta(hours=CHECKIN_HOURS))
    latest = recent.filter(plan__team_id=OuterRef("pk")).order_by("-at", "-id").values("id")[:1]
    ids = [
        i
        for i in GridTeam.objects.filter(active=True).annotate(last=Subquery(latest)).values_list("last", flat=True)
        if i is not None
    ]
    rows = (
        Checkin.objects.filter(id__in=ids)
        .order_by("-at")
        .values("id", "lon", "lat", "at", "plan__team_id", "plan__team__name", "plan__geofence__name", "plan__status")
    )
    return [
        {
            "id": r["id"],
            "team_id": r["plan__team_id"],
            "team": r["plan__team__name"],
            "place": r["plan__geofence__name"],
            "lon": r["lon"],
            "lat": r["lat"],
            "at": _iso(r["at"]),
        }
        for r in rows
    ]


def facility_detail(*, facility_id: int) -> dict[str, Any] | None:
    f = Facility.objects.select_related("site", "responsible_department").filter(pk=facility_id).first()
    if f is None:
        return None
    repairs = [
        {
            "id": r.id,
            "title": r.title,
            "state": r.state,
            "state_label": r.get_state_display(),
            "source_label": r.get_source_display(),
            "opened_at": _iso(r.opened_at),
            "closed_at": _iso(r.closed_at),
        }
        for r in f.repair_tasks.order_by("-opened_at")[:20]
    ]
    return {
        "type": "facility",
        "id": f.id,
        "title": f.name,
        "fields": {
            _("类型"): f.get_kind_display(),
            _("状态"): f.get_status_display(),
            _("点位"): f.site.name,
            _("编号"): f.code,
            _("维护责任部门"): f.responsible_department.name,
            _("最近心跳"): _iso(f.last_heartbeat_at),
        },
        "repairs": repairs,
    }


def team_detail(*, team_id: int) -> dict[str, Any] | None:
    t = GridTeam.objects.select_related("grid__township").filter(pk=team_id).first()
    if t is None:
        return None
    checkins = [
        {"id": c.id, "at": _iso(c.at), "place": c.plan.geofence.name, "lon": c.lon, "lat": c.lat}
        for c in Checkin.objects.filter(plan__team_id=t.id).select_related("plan__geofence").order_by("-at")[:20]
    ]
    plans = PatrolPlan.objects.filter(team_id=t.id).order_by().aggregate(
        planned=Count("id"), checked_in=Count("id", filter=Q(status="checked_in")), missed=Count("id", filter=Q(status="missed"))
    )
    return {
        "type": "team",
        "id": t.id,
        "title": t.name,
        "fields": {
            _("网格"): t.grid.name,
            _("镇乡街道"): t.grid.township.name,
            _("计划巡查"): plans["planned"],
            _("已打卡"): plans["checked_in"],
            _("未到岗"): plans["missed"],
        },
        "checkins": checkins,
    }


# --------------------------------------------------------------------------- tides
def tide_tonight(*, day: date | None = None) -> dict[str, Any]:
    """Tonight's tide curve (12:00 today to 12:00 tomorrow, Asia/Shanghai) and the patrol windows.

    From the default tide station's harmonic constants or, failing that, its imported
    high/low waters; with no station at all, from the regional reference constants in
    ``geodata/tides`` (marked as such on the screen).
    """
    from django.core.cache import cache

    from apps.elements.domain import tides

    day = day or timezone.now().astimezone(LOCAL_TZ).date()
    key = f"cockpit:tide:{get_language()}:{day.isoformat()}"  # the note is translated
    cached = cache.get(key)
    if cached is not None:
        return cached
    start = datetime.combine(day, time(12), tzinfo=LOCAL_TZ)
    end = start + timedelta(hours=24)
    before = timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN)
    after = timedelta(minutes=settings.PATROL_WINDOW_AFTER_MIN)
    station = TideStation.objects.order_by("-is_default", "code").first()
    note = ""
    points: list[list] = []
    events: list = []
    constants = None
    if station is not None and station.constants:
        try:
            constants = tides.constants_from_dict(station.constants)
        except Exception:
            constants = None
    if constants is None and station is not None:
        rows = station.events.filter(ts__gte=start - timedelta(hours=8), ts__lt=end + timedelta(hours=8)).order_by("ts")
        events = [tides.TideEvent(ts=r.ts, height_m=r.height_m, kind=r.kind, station=station.code) for r in rows]
        points = _curve_from_events(events, start=start, end=end)
        name = station.name
    if constants is None and not events:
        ref = sorted((Path(settings.BASE_DIR) / "geodata" / "tides").glob("*.json"))
        if ref:
            constants = tides.load_constants(ref[0])
            note = _("参考站潮位（非本县潮位站），仅供参考；请导入本县潮汐表。")
    if constants is not None:
        import numpy as np

        step = timedelta(minutes=10)
        times = [start + i * step for i in range(int((end - start) / step) + 1)]
        heights = tides.predict_heights(constants, times)
        points = [[t.isoformat(), round(float(h), 3)] for t, h in zip(times, np.asarray(heights), strict=True)]
        events = tides.high_low_waters(constants, start - timedelta(hours=8), end + timedelta(hours=8))
        name = station.name if station is not None and station.constants else constants.station
    if not points:
        result = {"available": False, "date": day.isoformat(), "note": _("未配置潮位站或潮汐表。")}
    else:
        windows = tides.patrol_windows(events, before=before, after=after, night_only=True)
        windows = [w for w in windows if w.end > start and w.start < end]
        result = {
            "available": True,
            "date": day.isoformat(),
            "station": name,
            "note": note,
            "points": points,
            "events": [
                {"ts": e.ts.astimezone(LOCAL_TZ).isoformat(), "height_m": round(e.height_m, 2), "kind": e.kind}
                for e in events
                if start <= e.ts < end
            ],
            "windows": [
                {"start": w.start.isoformat(), "peak": w.peak.isoformat(), "end": w.end.isoformat()} for w in windows
            ],
        }
    cache.set(key, result, 3600)
    return result


def _curve_from_events(events, *, start: datetime, end: datetime) -> list[list]:
    """A smooth curve through imported high/low waters (half-cosine between neighbours)."""
    import math

    evs = sorted(events, key=lambda e: e.ts)
    points: list[list] = []
    step = timedelta(minutes=10)
    t = start
    i = 0
    while t <= end:
        while i + 1 < len(evs) and evs[i + 1].ts <= t:
            i += 1
        if i + 1 < len(evs) and evs[i].ts <= t:
            a, b = evs[i], evs[i + 1]
            frac = (t - a.ts) / (b.ts - a.ts)
            h = a.height_m + (b.height_m - a.height_m) * (1 - math.cos(math.pi * frac)) / 2
            points.append([t.isoformat(), round(h, 3)])
        t += step
    return points


# --------------------------------------------------------------------------- evaluation
def evaluation_raw_metrics(*, start: datetime, end: datetime, now: datetime | None = None) -> list[scoring.RawMetrics]:
    """Per department, the counts the evaluation scores (see ``apps.cockpit.evaluation``).

    The period is ``[start, end)``: tasks assigned, goods seized in it. Definitions:

    * received: tasks assigned to the department;
    * ack median: median minutes from assignment to acknowledgement (acknowledged tasks);
    * deadline steps: for each task not rejected, each of acknowledge / arrive / feed back
      counts once it happened or its deadline has passed (by ``now``), and is on time
      when it happened no later than its deadline;
    * feedback: tasks not rejected that fed back or whose feedback deadline passed; done
      when fed back with a result and a text;
    * disposal: seized goods in the department's custody; done when the disposal chain's
      last step is signed;
    * tips: tasks dispatched from a public tip; done when the operations centre verified
      the task closed with a result.
    """
    now = now or timezone.now()
    departments = list(Department.objects.order_by("id").values_list("id", "name"))
    data: dict[int, dict[str, Any]] = {pk: {} for pk, _unused in departments}
    period = tasks_assigned_between(Task, start=start, end=end)
    live = ~Q(state="rejected")
    aggs: dict[str, Any] = dict(
        received=Count("pk"),
        ack_due=Count("pk", filter=live & (Q(acknowledged_at__isnull=False) | Q(ack_due_at__lte=now))),
        ack_ok=Count("pk", filter=live & Q(acknowledged_at__isnull=False, acknowledged_at__lte=F("ack_due_at"))),
        arr_due=Count("pk", filter=live & (Q(arrived_at__isnull=False) | Q(arrive_due_at__lte=now))),
        arr_ok=Count("pk", filter=live & Q(arrived_at__isnull=False, arrived_at__lte=F("arrive_due_at"))),
        fb_due=Count("pk", filter=live & (Q(feedback_at__isnull=False) | Q(feedback_due_at__lte=now))),
        fb_ok=Count("pk", filter=live & Q(feedback_at__isnull=False, feedback_at__lte=F("feedback_due_at"))),
        fb_done=Count("pk", filter=live & Q(feedback_at__isnull=False) & ~Q(feedback_result="") & ~Q(feedback_text="")),
    )
    medians: dict = {}
    if connection.vendor == "postgresql":  # the median in the same pass (NULLs are skipped)
        aggs["ack_med"] = Percentile(MinutesBetween("acknowledged_at", "assigned_at"), 0.5)
    else:
        medians = grouped_median(period, group="department_id", end="acknowledged_at", start="assigned_at")
    for r in period.values("department_id").annotate(**aggs):
        d = data.setdefault(r["department_id"], {})
        d["tasks_received"] = r["received"]
        d["steps_due"] = r["ack_due"] + r["arr_due"] + r["fb_due"]
        d["steps_on_time"] = r["ack_ok"] + r["arr_ok"] + r["fb_ok"]
        d["feedback_due"] = r["fb_due"]
        d["feedback_done"] = r["fb_done"]
        med = r.get("ack_med", medians.get(r["department_id"]))
        d["ack_median_min"] = None if med is None else round(med, 2)
    tip_type = ContentType.objects.get_for_model(Tip)
    tips = period.filter(dispatch__content_type=tip_type).values("department_id").annotate(
        total=Count("dispatch__object_id", distinct=True),
        closed=Count(
            "dispatch__object_id", distinct=True, filter=Q(state="closed") & ~Q(feedback_result="")
        ),
    )
    for r in tips:
        d = data.setdefault(r["department_id"], {})
        d["tips_total"], d["tips_closed"] = r["total"], r["closed"]
    final = DisposalStep.objects.filter(goods_id=OuterRef("pk"), step=DISPOSAL_ORDER[-1])
    goods = (
        SeizedGoods.objects.filter(seized_at__gte=start, seized_at__lt=end)
        .order_by()
        .annotate(done=Exists(final))
        .values("custodian_department_id")
        .annotate(total=Count("pk"), done_n=Count("pk", filter=Q(done=True)))
    )
    for r in goods:
        d = data.setdefault(r["custodian_department_id"], {})
        d["disposals_total"], d["disposals_done"] = r["total"], r["done_n"]
    names = dict(departments)
    return [scoring.RawMetrics(department_id=pk, department=names.get(pk, str(pk)), **data.get(pk, {})) for pk, _unused in departments]


def department_evaluation(
    *, start: date, end: date, weights: dict | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The ranked department evaluation for the local dates ``start..end`` (inclusive)."""
    from .services import evaluation_weights_get

    if end < start:
        from django.core.exceptions import ValidationError

        raise ValidationError(_("结束日期不能早于开始日期。"))
    lo, hi = local_day_bounds(start, end)
    weights_row = None
    if weights is None:
        weights_row = evaluation_weights_get()
        weights = weights_row.as_dict()
    raws = evaluation_raw_metrics(start=lo, end=hi, now=now)
    results = scoring.evaluate(raws, weights)
    rows = []
    for e in results:
        rows.append(
            {
                "rank": e.rank,
                "department_id": e.raw.department_id,
                "department": e.raw.department,
                "total": None if e.total is None else round(e.total, 2),
                "tasks_received": e.raw.tasks_received,
                "ack_median_min": e.raw.ack_median_min,
                "on_time_rate": _pct(e.rates["on_time"]),
                "steps_due": e.raw.steps_due,
                "steps_on_time": e.raw.steps_on_time,
                "feedback_rate": _pct(e.rates["feedback"]),
                "feedback_due": e.raw.feedback_due,
                "feedback_done": e.raw.feedback_done,
                "disposal_rate": _pct(e.rates["disposal"]),
                "disposals_total": e.raw.disposals_total,
                "disposals_done": e.raw.disposals_done,
                "tips_rate": _pct(e.rates["tips"]),
                "tips_total": e.raw.tips_total,
                "tips_closed": e.raw.tips_closed,
                "scores": {m: (None if s is None else round(s * 100, 2)) for m, s in e.scores.items()},
            }
        )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "weights": {m: float(w) for m, w in weights.items()},
        "weights_updated_at": _iso(weights_row.updated_at) if weights_row else None,
        "metrics": [{"key": m, "label": scoring.METRIC_LABELS[m]} for m in scoring.METRICS],
        "rows": rows,
    }


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 2)
