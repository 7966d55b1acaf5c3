"""Element control: reads that are more than a filter (exports, tracks, maps, tide windows, replay)."""
from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .domain.radar import describe_target, is_radar_target
from .evidence_text import evidence_rows
from .models import COORD_SCALE, Geofence, StoredFix, VehicleCaptureRecord, Vessel, Warning

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
#: A replay also takes the vessels seen this close to the warning in the days before it.
REPLAY_NEAR_M = 5000.0


# ------------------------------------------------------------------------------ warnings
def warning_export_row(w: Warning) -> dict[str, Any]:
    """The export shape: exactly id, kind, level, score, vessels, geofence, start, end, evidence."""
    return {
        "id": w.pk,
        "kind": w.kind,
        "level": w.level,
        "score": round(float(w.score), 2),
        "vessels": list(w.vessels),
        "geofence": w.geofence.name if w.geofence_id and w.geofence else None,
        "start": w.start.isoformat(),
        "end": w.end.isoformat(),
        "evidence": w.evidence,
    }


def warnings_export(*, kind: str | None = None, level: str | None = None, since: datetime | None = None,
                    queryset: QuerySet | None = None) -> list[dict[str, Any]]:
    qs = (queryset if queryset is not None else Warning.objects.all()).select_related("geofence").order_by("start", "id")
    if kind:
        qs = qs.filter(kind=kind)
    if level:
        qs = qs.filter(level=level)
    if since:
        qs = qs.filter(start__gte=since)
    return [warning_export_row(w) for w in qs.iterator(chunk_size=500)]


# ------------------------------------------------------------------------------ vessels and tracks
def vessel_positions(*, bbox: tuple[float, float, float, float] | None = None, since: datetime | None = None) -> QuerySet:
    """Vessels with a last known position (optionally inside ``bbox`` = minlon, minlat, maxlon, maxlat)."""
    qs = Vessel.objects.exclude(last_seen=None)
    if bbox is not None:
        minlon, minlat, maxlon, maxlat = bbox
        qs = qs.filter(last_lon__gte=minlon, last_lon__lte=maxlon, last_lat__gte=minlat, last_lat__lte=maxlat)
    if since is not None:
        qs = qs.filter(last_seen__gte=since)
    return qs.order_by("-last_seen")


def vessel_track(*, vessel: Vessel, start: datetime, end: datetime, limit: int = 20_000) -> list[dict[str, Any]]:
    rows = (
        StoredFix.objects.filter(vessel=vessel, ts__gte=start, ts__lte=end)
        .order_by("ts")
        .values_list("ts", "lon_e7", "lat_e7", "sog_dkn", "cog_ddeg")[:limit]
    )
    return [
        {
            "ts": ts.isoformat(),
            "lon": lon / COORD_SCALE,
            "lat": lat / COORD_SCALE,
            "sog_kn": None if sog is None else sog / 10,
            "cog_deg": None if cog is None else cog / 10,
        }
        for ts, lon, lat, sog, cog in rows
    ]


# ------------------------------------------------------------------------------ geography
def geofence_feature(g: Geofence) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": g.pk,
        "geometry": g.geometry,
        "properties": {
            "id": g.pk,
            "name": g.name,
            "kind": g.kind,
            "kind_display": str(g.get_kind_display()),
            "status": g.status,
            "status_display": str(g.get_status_display()),
            "township": g.township,
            "pier_chief": g.pier_chief,
            "centroid": [g.centroid_lon, g.centroid_lat],
            **{k: v for k, v in g.properties.items() if k not in ("source_geometry",)},
        },
    }


def geofences_feature_collection(*, queryset: Iterable[Geofence] | None = None) -> dict[str, Any]:
    rows = queryset if queryset is not None else Geofence.objects.all()
    return {"type": "FeatureCollection", "features": [geofence_feature(g) for g in rows]}


@lru_cache(maxsize=1)
def county_boundary() -> dict[str, Any]:
    """The county boundary (WGS84) from ``geodata/``, for maps."""
    base = Path(settings.BASE_DIR) / "geodata"
    for name in ("xiangshan_county_wgs84.geojson", "xiangshan_county.geojson"):
        path = base / name
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    return {"type": "FeatureCollection", "features": []}


# ------------------------------------------------------------------------------ tides
def tide_windows(*, day: date, points: int = 97) -> dict[str, Any]:
    """Tonight's joint-patrol windows (high water ± configured minutes) and the height curve.

    "Tonight" is the local evening of ``day`` to the next morning (12:00 to 12:00 Asia/Shanghai).
    The curve is predicted from the default station's constants where it has them; otherwise
    the imported high/low waters are returned as points.
    """
    from .domain.tides import constants_from_dict, patrol_windows, predict_heights
    from .models import TideEventRecord, TideStation

    start = datetime.combine(day, time(12), LOCAL_TZ)
    end = start + timedelta(days=1)
    station = TideStation.objects.filter(is_default=True).first() or TideStation.objects.first()
    out: dict[str, Any] = {
        "date": day.isoformat(),
        "from": start.isoformat(),
        "to": end.isoformat(),
        "station": None,
        "windows": [],
        "events": [],
        "curve": [],
        "before_min": settings.PATROL_WINDOW_BEFORE_MIN,
        "after_min": settings.PATROL_WINDOW_AFTER_MIN,
    }
    if station is None:
        return out
    out["station"] = {"code": station.code, "name": station.name, "datum": station.datum, "source": station.source,
                      "has_constants": bool(station.constants)}
    rows = list(
        TideEventRecord.objects.filter(station=station, ts__gte=start - timedelta(hours=6), ts__lt=end + timedelta(hours=6))
        .order_by("ts")
    )
    from .domain.tides import TideEvent

    events = [TideEvent(ts=r.ts, height_m=r.height_m, kind=r.kind, station=station.code) for r in rows]
    for r in rows:
        if start <= r.ts < end:
            out["events"].append({"ts": r.ts.astimezone(LOCAL_TZ).isoformat(), "height_m": round(r.height_m, 2),
                                  "kind": r.kind, "origin": r.origin})
    windows = patrol_windows(
        events,
        before=timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN),
        after=timedelta(minutes=settings.PATROL_WINDOW_AFTER_MIN),
        night_only=True,
    )
    out["windows"] = [
        {"start": w.start.isoformat(), "peak": w.peak.isoformat(), "end": w.end.isoformat()}
        for w in windows if start <= w.peak < end
    ]
    if station.constants:
        try:
            constants = constants_from_dict(station.constants)
            step = (end - start) / (points - 1)
            times = [start + i * step for i in range(points)]
            heights = predict_heights(constants, times)
            out["curve"] = [{"ts": t.isoformat(), "height_m": round(float(h), 3)} for t, h in zip(times, heights)]
        except (ValueError, KeyError, TypeError):
            out["curve"] = []
    if not out["curve"] and len(rows) >= 2:
        out["curve"] = _cosine_curve(rows, start, end, points)
    return out


def _cosine_curve(rows, start: datetime, end: datetime, points: int) -> list[dict[str, Any]]:
    """A tide curve from a table of high and low waters: half-cosine between consecutive extremes
    (the usual way to draw a tide table; marked as interpolated)."""
    import math

    pts = []
    step = (end - start) / (points - 1)
    k = 0
    for i in range(points):
        t = start + i * step
        while k + 1 < len(rows) - 1 and rows[k + 1].ts <= t:
            k += 1
        a, b = rows[k], rows[k + 1]
        if not (a.ts <= t <= b.ts):
            continue
        span = (b.ts - a.ts).total_seconds() or 1.0
        x = (t - a.ts).total_seconds() / span
        h = a.height_m + (b.height_m - a.height_m) * (1 - math.cos(math.pi * x)) / 2
        pts.append({"ts": t.isoformat(), "height_m": round(h, 3), "interpolated": True})
    return pts


# ------------------------------------------------------------------------------ replay
def warning_replay(*, warning: Warning) -> dict[str, Any]:
    """Re-run the pipeline, in memory, on the stored fixes of the warning's vessels and time.

    The replay takes the warning's vessels from early enough for the history factor
    (``history_days`` + 4 days before the warning), the other vessels seen within
    ``REPLAY_NEAR_M`` of its place in the 4.5 days before (a group's earlier landings, a scout
    boat), the checkpoint captures and field signals the live run could have seen, and the
    weights and thresholds recorded in the warning's rule. It reproduces when the last event
    of the same episode has the same kind, level and score. Nothing is written.
    """
    from .convert import stored_to_fix
    from .domain.model import VehicleCapture
    from .runtime import context_load

    ctx = context_load()
    rule = (warning.evidence or {}).get("rule") or {}
    weights = rule.get("weights") or None
    thresholds = rule.get("thresholds") or None
    signals = [s for s in ctx.signals if s.created_s <= warning.updated_at.timestamp()]
    pipeline = ctx.pipeline(store=None, weights=weights, thresholds=thresholds, signals=signals)
    lookback = timedelta(days=float(ctx.config.history_days) + 4)
    t0 = warning.start - lookback
    t1 = warning.end + timedelta(hours=6)
    own = {v.pk: v for v in Vessel.objects.filter(external_id__in=list(warning.vessels))}
    # vessels that were near the place in the days before (a group's earlier landings, a scout
    # boat, a partner vessel): the rules that pair vessels need them to see the same episode
    near_from = warning.start - timedelta(days=4.5)
    others: dict[int, Vessel] = {}
    if warning.lon is not None and warning.lat is not None:
        import math

        dlat = REPLAY_NEAR_M / 111_320.0
        dlon = dlat / max(math.cos(math.radians(warning.lat)), 0.01)
        near_ids = (
            StoredFix.objects.filter(
                ts__gte=near_from, ts__lte=t1,
                lon_e7__gte=round((warning.lon - dlon) * COORD_SCALE), lon_e7__lte=round((warning.lon + dlon) * COORD_SCALE),
                lat_e7__gte=round((warning.lat - dlat) * COORD_SCALE), lat_e7__lte=round((warning.lat + dlat) * COORD_SCALE),
            ).exclude(vessel_id__in=list(own)).values_list("vessel_id", flat=True).distinct()
        )
        others = {v.pk: v for v in Vessel.objects.filter(pk__in=list(near_ids))}
    vessels = {**own, **others}
    rows = list(
        StoredFix.objects.filter(vessel_id__in=list(own), ts__gte=t0, ts__lte=t1)
        .values_list("vessel_id", "ts", "lon_e7", "lat_e7", "sog_dkn", "cog_ddeg")
        .iterator(chunk_size=5000)
    )
    if others:
        rows += list(
            StoredFix.objects.filter(vessel_id__in=list(others), ts__gte=near_from, ts__lte=t1)
            .values_list("vessel_id", "ts", "lon_e7", "lat_e7", "sog_dkn", "cog_ddeg")
            .iterator(chunk_size=5000)
        )
    rows.sort(key=lambda r: (r[1], r[0]))
    fixes = [
        stored_to_fix(source=vessels[vid].source, vessel_id=vessels[vid].external_id, ts=ts, lon_e7=lon, lat_e7=lat,
                      sog_dkn=sog, cog_ddeg=cog)
        for vid, ts, lon, lat, sog, cog in rows
    ]
    captures: list[VehicleCapture] = []
    if warning.kind == Warning.Kind.VEHICLE_VESSEL or (warning.evidence or {}).get("details", {}).get("vehicle_captures"):
        captures = [
            VehicleCapture(c.checkpoint_code, c.plate, c.ts, c.lon, c.lat)
            for c in VehicleCaptureRecord.objects.filter(ts__gte=t0, ts__lte=t1).order_by("ts")
        ]
    events = []
    i = 0
    for cap in captures:  # interleave captures with the fixes by time, as they arrived live
        j = i
        while j < len(fixes) and fixes[j].ts <= cap.ts:
            j += 1
        if j > i:
            events.extend(pipeline.process(fixes[i:j]))
            i = j
        events.extend(pipeline.process_vehicle_captures([cap]))
    for k in range(i, len(fixes), 5000):
        events.extend(pipeline.process(fixes[k : k + 5000]))
    same_episode = [e for e in events if e.episode_key == warning.episode_key]
    stored_level = warning.evidence.get("level_raw", warning.level) if warning.evidence else warning.level
    stored = {"kind": warning.kind, "level": stored_level, "score": round(float(warning.score), 3)}
    if not same_episode:
        return {"reproduced": False, "stored": stored, "replayed": None, "fixes": len(fixes),
                "captures": len(captures), "detail": _("重放未产生同一事件的预警")}
    last = same_episode[-1]
    replayed = {"kind": last.kind, "level": last.level, "score": round(float(last.score), 3)}
    reproduced = (
        replayed["kind"] == stored["kind"]
        and replayed["level"] == stored["level"]
        and abs(replayed["score"] - stored["score"]) < 0.01
    )
    return {
        "reproduced": reproduced,
        "stored": stored,
        "replayed": replayed,
        "fixes": len(fixes),
        "captures": len(captures),
        "detail": _("重放结果与预警一致") if reproduced else _("重放结果与预警不一致"),
    }


FACTOR_LABELS = {
    "behaviour": gettext_lazy("行为特征（规则吻合度）"),
    "location": gettext_lazy("地点敏感度"),
    "watchlist": gettext_lazy("布控名单命中"),
    "corroboration": gettext_lazy("旁证（卡口车辆、线索、关闭信号）"),
    "night": gettext_lazy("夜间"),
    "tide": gettext_lazy("潮汐窗口（临近高潮）"),
    "history": gettext_lazy("近期同类记录"),
    "unknown_vessel": gettext_lazy("未登记船舶"),
    "holiday": gettext_lazy("节假日"),
}


def warning_sensors(*, warning: Warning) -> list[dict[str, Any]]:
    """Every sensor that saw a warning's episode: radars (radar tracks, confirmations), cameras and
    sentinels (their sightings corroborating it), with the registry's name and kind."""
    from apps.sources.models import Facility

    details = (warning.evidence or {}).get("details", {}) or {}
    codes = list(details.get("sensors", []) or [])
    codes += [s.get("sensor") for s in details.get("field_signals", []) or [] if s.get("sensor")]
    codes = list(dict.fromkeys(c for c in codes if c))
    if not codes:
        return []
    known = {f.code: f for f in Facility.objects.filter(code__in=codes)}
    out = []
    for c in codes:
        f = known.get(c)
        out.append({"code": c, "name": f.name if f else c, "kind": f.get_kind_display() if f else ""})
    return out


def radar_associations(*, since: datetime, limit: int = 500) -> list[dict[str, Any]]:
    """Radar tracks associated with AIS/Beidou vessels, seen since ``since`` (for the maps)."""
    from .models import RadarAssociation

    return [
        {"radar_target": a.radar_target, "vessel_id": a.vessel_id, "active": a.active, "text": a.describe()}
        for a in RadarAssociation.objects.filter(last__gte=since).order_by("-last")[:limit]
    ]


def warning_evidence_view(*, warning: Warning) -> dict[str, Any]:
    """What the detail page shows of a warning's evidence (plain data for the template and map)."""
    ev = warning.evidence or {}
    factors = ev.get("factors", {}) or {}
    contributions = ev.get("contributions", {}) or {}
    weights = (ev.get("rule", {}) or {}).get("weights", {}) or {}
    rows = [
        {
            "name": name,
            "label": FACTOR_LABELS.get(name, name),
            "value": factors.get(name, 0.0),
            "weight": weights.get(name),
            "points": contributions.get(name, 0.0),
        }
        for name in sorted(set(factors) | set(contributions), key=lambda n: -float(contributions.get(n, 0.0)))
    ]
    rule = ev.get("rule", {}) or {}
    params = rule.get("params", {}) or {}
    map_data = {
        "fixes": [
            {"ts": f.get("ts"), "lon": f.get("lon"), "lat": f.get("lat"), "sog": f.get("sog_kn"), "vessel": f.get("vessel_id")}
            for f in ev.get("fixes", []) or []
        ],
        "geofence": geofence_feature(warning.geofence) if warning.geofence_id and warning.geofence else None,
        "point": [warning.lon, warning.lat] if warning.lon is not None else None,
    }
    tw = ev.get("tide_window")
    return {
        "seen_by": warning_sensors(warning=warning),
        "vessel_labels": [describe_target(v) if is_radar_target(v) else v for v in warning.vessels or []],
        "factor_rows": rows,
        "score_total": sum(r["points"] for r in rows),
        "rule": {"detector": Warning.Kind(rule["detector"]).label if rule.get("detector") in Warning.Kind.values else rule.get("detector"),
                 "area": rule.get("area"), "month": rule.get("month"),
                 "thresholds": [(Warning.Level(k).label if k in Warning.Level.values else k, v)
                                for k, v in (rule.get("thresholds", {}) or {}).items()]},
        "rule_params": evidence_rows(params),  # labelled, with units and Beijing times (evidence_text.py)
        "tide_window": tw,
        "details": evidence_rows(ev.get("details", {}) or {}),
        "map_data": map_data,
        "level_raw": ev.get("level_raw", warning.level),
        "ongoing": ev.get("ongoing"),
    }
