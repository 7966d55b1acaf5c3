"""Element control: every write (registry, geography, tides, risk model, warnings, ingest bookkeeping).

Functions are named ``<entity>_<action>``, take keyword-only arguments, validate first and
raise ``django.core.exceptions.ValidationError`` with a Chinese message. Side effects
(live pushes, the enforcement hand-off) are scheduled with ``transaction.on_commit``.
"""
from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import audit_actor

from .domain import ahp
from .domain.model import Quarantined, VehicleCapture
from .domain.text import escaped
from .models import (
    Checkpoint,
    DetectorSetting,
    FieldSignal,
    Geofence,
    Holiday,
    IngestRun,
    QuarantineRecord,
    RiskModel,
    TideEventRecord,
    TideStation,
    VehicleCaptureRecord,
    Vessel,
    WatchEntry,
)
from .registry import VesselRef, vessel_positions_update, vessel_source, vessel_static_update, vessels_resolve  # noqa: F401

log = logging.getLogger(__name__)

#: Longest raw input kept per quarantine record.
RAW_MAX_CHARS = 4000


_audit_actor = audit_actor  # one implementation, in apps/core/audit.py


# ------------------------------------------------------------------------------ ingest runs
def ingest_run_start(*, kind: str, name: str, actor=None) -> IngestRun:
    if kind not in IngestRun.Kind.values:
        raise ValidationError(_("未知的接入类型：%(kind)s") % {"kind": kind})
    return IngestRun.objects.create(kind=kind, name=name[:255], actor=actor)


def ingest_run_abort(*, run_id: int, error: str) -> None:
    """A run whose producer stopped before the end (exception, Ctrl-C, stop signal): failed, with the reason."""
    with transaction.atomic():
        run = IngestRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status != IngestRun.Status.RUNNING:
            return
        run.status = IngestRun.Status.FAILED
        run.error = (run.error + "\n" + error).strip()[:10000]
        run.finished_at = timezone.now()
        run.save()


def ingest_run_progress(
    *, run_id: int, read: int = 0, decoded: int = 0, quarantined: Mapping[str, int] | None = None,
    batches_sent: int = 0, stats: Mapping[str, Any] | None = None, final: bool = False, error: str = "",
) -> IngestRun:
    """Add what the reading side of a run saw (lines read, decoded, refused, batches sent).

    With ``final=True`` the run is sealed: it is done once every batch sent has been
    processed (at once if they all have; otherwise the last batch task closes it).
    """
    with transaction.atomic():
        run = IngestRun.objects.select_for_update().get(pk=run_id)
        run.read += int(read)
        run.decoded += int(decoded)
        if quarantined:
            q = Counter(run.quarantined)
            q.update({k: int(v) for k, v in quarantined.items() if v})
            run.quarantined = dict(q)
        st = dict(run.stats)
        st.update(stats or {})
        st["batches_sent"] = int(st.get("batches_sent", 0)) + int(batches_sent)
        if final:
            st["sealed"] = True
        run.stats = st
        if error:
            run.error = (run.error + "\n" + error).strip()[:10000]
        if final and (error or int(st.get("batches_done", 0)) >= st["batches_sent"]):
            run.status = IngestRun.Status.FAILED if run.error else IngestRun.Status.DONE
            run.finished_at = timezone.now()
        run.save()
    return run


def _storable(text: object, limit: int) -> str:
    """Text a database column takes: NUL bytes (refused by PostgreSQL), other controls and
    undecodable bytes (surrogates, refused by every driver's UTF-8 encoder) written as ``\\xNN``."""
    return escaped(str(text), limit)[:limit]


def quarantine_record_many(*, run_id: int | None, items: Iterable[Quarantined]) -> Counter[str]:
    """Keep refused input with its reason; returns the count per reason."""
    rows: list[QuarantineRecord] = []
    counts: Counter[str] = Counter()
    for q in items:
        counts[q.reason] += 1
        rows.append(
            QuarantineRecord(
                run_id=run_id,
                source=_storable(q.source, 40),
                raw=_storable(q.raw, RAW_MAX_CHARS),
                reason=_storable(q.reason, 40),
                detail=_storable(q.detail, RAW_MAX_CHARS),
                data_ts=q.ts,
            )
        )
    if rows:
        QuarantineRecord.objects.bulk_create(rows, batch_size=1000)
    return counts


# ------------------------------------------------------------------------------ vessel registry
# (the hot-path registry writes — look-up / create, static data, last positions — are in registry.py)
def vessel_register(
    *, source: str, external_id: str, name: str = "", watch_group: str = "", owner: str = "", home_port: str = "",
    registered: bool = True,
) -> Vessel:
    """Add (or complete) a vessel in the registry."""
    if source not in Vessel.Source.values:
        raise ValidationError(_("未知的船舶数据来源：%(source)s") % {"source": source})
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationError(_("请填写 MMSI 或北斗终端号。"))
    vessel, _unused = Vessel.objects.get_or_create(source=source, external_id=external_id)
    vessel.name = name or vessel.name
    vessel.watch_group = watch_group or vessel.watch_group
    vessel.owner = owner or vessel.owner
    vessel.home_port = home_port or vessel.home_port
    vessel.registered = registered
    vessel.save()
    return vessel


def watch_entry_add(*, kind: str, value: str, reason: str = "", actor=None) -> WatchEntry:
    from .domain.positions import normalise_plate

    if kind not in WatchEntry.Kind.values:
        raise ValidationError(_("未知的布控类型：%(kind)s") % {"kind": kind})
    value = (value or "").strip()
    if kind == WatchEntry.Kind.PLATE:
        value = normalise_plate(value)
    if not value:
        raise ValidationError(_("布控对象不能为空。"))
    with _audit_actor(actor):
        entry, _unused = WatchEntry.objects.update_or_create(kind=kind, value=value, defaults={"reason": reason, "active": True})
    return entry


def holiday_add(*, day: date, name: str) -> Holiday:
    holiday, _unused = Holiday.objects.update_or_create(date=day, defaults={"name": name})
    return holiday


# ------------------------------------------------------------------------------ geography
@dataclass
class GeofenceImportReport:
    total: int = 0
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    source_crs: str = ""


def geofence_import(
    *, path: str | Path, point_radius_m: float = 150.0, progress: Callable[[int, int], None] | None = None
) -> GeofenceImportReport:
    """Import geofences from GeoJSON, GeoPackage or Shapefile (upsert by name).

    Points are buffered to circles, any CRS is reprojected to WGS84, and every bad
    feature is reported (index, name, reason) without stopping the import.
    """
    from .importers import GeoFileError, read_geofence_file

    if not (1.0 <= point_radius_m <= 20_000.0):
        raise ValidationError(_("缓冲半径应在 1 到 20000 米之间。"))
    try:
        parsed = read_geofence_file(path, point_radius_m=point_radius_m, progress=progress)
    except GeoFileError as exc:
        raise ValidationError(str(exc)) from exc
    report = GeofenceImportReport(total=parsed.total, notes=parsed.notes, source_crs=parsed.source_crs)
    report.errors = [(e.index, e.name, e.message) for e in parsed.errors]
    seen: set[str] = set()
    with transaction.atomic():
        existing = {g.name: g for g in Geofence.objects.filter(name__in=[f.name for f in parsed.features])}
        for f in parsed.features:
            if f.name in seen:
                report.errors.append((0, f.name, _("文件中名称重复，保留第一条")))
                continue
            seen.add(f.name)
            values = {
                "kind": f.kind,
                "status": f.status,
                "township": f.township,
                "pier_chief": f.pier_chief,
                "geometry": f.geometry,
                "centroid_lon": f.centroid_lon,
                "centroid_lat": f.centroid_lat,
                "properties": f.properties,
            }
            current = existing.get(f.name)
            if current is None:
                Geofence.objects.create(name=f.name, **values)
                report.created += 1
            else:
                for k, v in values.items():
                    setattr(current, k, v)
                current.save()
                report.updated += 1
    return report


def geofence_save(*, data: Mapping[str, Any], instance: Geofence | None = None, actor=None) -> Geofence:
    """Create or change one geofence from API data (``geometry`` GeoJSON in WGS84; points buffered)."""
    from shapely.geometry import shape

    from .importers import DEFAULT_POINT_RADIUS_M, _feature

    merged: dict[str, Any] = {}
    if instance is not None:
        merged = {
            "name": instance.name, "kind": instance.kind, "status": instance.status,
            "township": instance.township, "pier_chief": instance.pier_chief, **instance.properties,
        }
        geometry = instance.geometry
    else:
        geometry = None
    merged.update({k: v for k, v in data.items() if k != "geometry"})
    if "geometry" in data:
        geometry = data["geometry"]
    if not geometry:
        raise ValidationError({"geometry": [_("缺少几何图形（GeoJSON，WGS84）。")]})
    try:
        geom = shape(geometry)
    except Exception as exc:
        raise ValidationError({"geometry": [_("几何图形无法解析：%(error)s") % {"error": exc}]}) from exc
    radius = merged.pop("radius_m", None) or DEFAULT_POINT_RADIUS_M
    try:
        feature = _feature({**merged, "radius_m": radius}, geom, name=str(merged.get("name") or "").strip(),
                           point_radius_m=DEFAULT_POINT_RADIUS_M)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    clash = Geofence.objects.filter(name=feature.name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise ValidationError({"name": [_("已有同名电子围栏。")]})
    target = instance or Geofence()
    target.name = feature.name
    target.kind = feature.kind
    target.status = feature.status
    target.township = feature.township
    target.pier_chief = feature.pier_chief
    target.geometry = feature.geometry
    target.centroid_lon = feature.centroid_lon
    target.centroid_lat = feature.centroid_lat
    if geom.geom_type not in ("Point", "MultiPoint"):
        feature.properties.pop("radius_m", None)
    target.properties = feature.properties
    with _audit_actor(actor):
        target.save()
    return target


def geofence_delete(*, geofence: Geofence, actor=None) -> None:
    with _audit_actor(actor):
        geofence.delete()


def checkpoint_import(*, path: str | Path) -> tuple[int, list[tuple[int, str]]]:
    """Road checkpoints from a GeoJSON of points (``code``/id, ``name``, ``township``); upsert by code."""
    from .importers import iter_point_features

    saved = 0
    errors: list[tuple[int, str]] = []
    try:
        features = list(iter_point_features(path))
    except (OSError, ValueError) as exc:
        raise ValidationError(_("无法读取卡口文件：%(error)s") % {"error": exc}) from exc
    for i, props, lon, lat in features:
        code = str(props.get("code") or "").strip()
        if not code:
            errors.append((i, _("缺少卡口编号 (code)")))
            continue
        if lon is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            errors.append((i, _("缺少或无效的点坐标")))
            continue
        extra = {k: v for k, v in props.items() if k not in ("code", "name", "township", "road")}
        Checkpoint.objects.update_or_create(
            code=code[:60],
            defaults={
                "name": str(props.get("name") or code)[:120],
                "lon": float(lon),
                "lat": float(lat),
                "township": str(props.get("township") or "")[:60],
                "road": str(props.get("road") or "")[:120],
                "properties": extra,
            },
        )
        saved += 1
    return saved, errors


def vehicle_captures_store(*, captures: Sequence[VehicleCapture], run_id: int | None) -> list[VehicleCaptureRecord]:
    """Store checkpoint captures once each; returns the new ones (with their checkpoint located)."""
    if not captures:
        return []
    checkpoints = {c.code: c for c in Checkpoint.objects.filter(code__in={c.checkpoint_id for c in captures})}
    rows = []
    for c in captures:
        cp = checkpoints.get(c.checkpoint_id)
        rows.append(
            VehicleCaptureRecord(
                checkpoint_code=c.checkpoint_id[:60],
                checkpoint=cp,
                plate=c.plate[:20],
                ts=c.ts,
                lon=c.lon if c.lon is not None else (cp.lon if cp else None),
                lat=c.lat if c.lat is not None else (cp.lat if cp else None),
                run_id=run_id,
            )
        )
    keys = {(r.checkpoint_code, r.plate, r.ts) for r in rows}
    existing = set(
        VehicleCaptureRecord.objects.filter(
            plate__in={k[1] for k in keys}, ts__gte=min(k[2] for k in keys), ts__lte=max(k[2] for k in keys)
        ).values_list("checkpoint_code", "plate", "ts")
    )
    fresh: list[VehicleCaptureRecord] = []
    seen: set[tuple[str, str, datetime]] = set()
    for r in rows:
        key = (r.checkpoint_code, r.plate, r.ts)
        if key in existing or key in seen:
            continue
        seen.add(key)
        fresh.append(r)
    VehicleCaptureRecord.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=1000)
    return fresh


# ------------------------------------------------------------------------------ tides
@dataclass
class TideImportReport:
    stations: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def tide_table_import(*, text: str | bytes, default_station: bool = False) -> TideImportReport:
    """Import a tide table (CSV ``station,timestamp,height_m,kind``); bad rows reported, good rows kept.

    Imported events replace predicted ones at the same station and time.
    """
    from .domain.tides import parse_tide_table_csv

    events_, errors = parse_tide_table_csv(text)
    report = TideImportReport(errors=[(e.line, e.message) for e in errors])
    if not events_:
        if not report.errors:
            report.errors.append((0, _("文件中没有潮汐记录")))
        return report
    with transaction.atomic():
        stations: dict[str, TideStation] = {}
        for code in sorted({e.station for e in events_}):
            station, _unused = TideStation.objects.get_or_create(code=code[:80], defaults={"name": code[:120]})
            stations[code] = station
        if default_station or not TideStation.objects.filter(is_default=True).exists():
            first = stations[sorted(stations)[0]]
            TideStation.objects.exclude(pk=first.pk).filter(is_default=True).update(is_default=False)
            if not first.is_default:
                first.is_default = True
                first.save(update_fields=["is_default"])
        existing = {
            (r.station_id, r.ts): r
            for r in TideEventRecord.objects.filter(
                station__in=stations.values(), ts__gte=events_[0].ts - timedelta(days=1),
            ).filter(ts__in=[e.ts for e in events_])
        }
        new_rows = []
        changed = []
        for e in events_:
            st = stations[e.station]
            cur = existing.get((st.pk, e.ts))
            if cur is None:
                new_rows.append(TideEventRecord(station=st, ts=e.ts, height_m=e.height_m, kind=e.kind,
                                                origin=TideEventRecord.Origin.TABLE))
            else:
                cur.height_m, cur.kind, cur.origin = e.height_m, e.kind, TideEventRecord.Origin.TABLE
                changed.append(cur)
        TideEventRecord.objects.bulk_create(new_rows, batch_size=1000)
        if changed:
            TideEventRecord.objects.bulk_update(changed, ["height_m", "kind", "origin"], batch_size=1000)
    report.stations = sorted(stations)
    report.created = len(new_rows)
    report.updated = len(changed)
    return report


def tide_station_from_constants(*, path: str | Path, default_station: bool = False) -> TideStation:
    """Register a station from a published harmonic-constants file (``geodata/tides/*.json``)."""
    import json

    from .domain.tides import constants_from_dict

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        constants = constants_from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(_("调和常数文件无法读取：%(error)s") % {"error": exc}) from exc
    code = constants.station_id or constants.station
    station, _unused = TideStation.objects.update_or_create(
        code=code[:80],
        defaults={
            "name": constants.station[:120],
            "lon": constants.lon,
            "lat": constants.lat,
            "datum": constants.datum[:200],
            "constants": data,
            "source": constants.source,
        },
    )
    if default_station:
        TideStation.objects.exclude(pk=station.pk).filter(is_default=True).update(is_default=False)
        station.is_default = True
        station.save(update_fields=["is_default"])
    return station


def tide_predict(*, station: TideStation, start: datetime, end: datetime) -> int:
    """Predict high/low waters from the station's constants into the table (imported rows win)."""
    from .domain.tides import constants_from_dict, high_low_waters

    if not station.constants:
        raise ValidationError(_("潮位站 %(station)s 没有调和常数，请导入潮汐表。") % {"station": station.name})
    if end <= start or end - start > timedelta(days=800):
        raise ValidationError(_("预报时段无效（最长 800 天）。"))
    constants = constants_from_dict(station.constants)
    predicted = high_low_waters(constants, start, end)
    import bisect

    taken = sorted(
        t.timestamp()
        for t in TideEventRecord.objects.filter(
            station=station, ts__gte=start - timedelta(hours=3), ts__lt=end + timedelta(hours=3)
        ).values_list("ts", flat=True)
    )
    rows = []
    for e in predicted:  # an imported (or earlier predicted) event within 2 h of this one wins
        t = e.ts.timestamp()
        i = bisect.bisect_left(taken, t - 2 * 3600)
        if i < len(taken) and taken[i] <= t + 2 * 3600:
            continue
        rows.append(TideEventRecord(station=station, ts=e.ts, height_m=e.height_m, kind=e.kind,
                                    origin=TideEventRecord.Origin.PREDICTED))
    TideEventRecord.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


# ------------------------------------------------------------------------------ risk model
def risk_model_current() -> RiskModel:
    """The risk model in force (the defaults of ``domain.ahp`` until the operations centre edits it)."""
    model = RiskModel.objects.order_by("pk").first()
    if model is not None:
        return model
    result = ahp.ahp_weights(ahp.DEFAULT_MATRIX, factors=ahp.DEFAULT_FACTORS)
    return RiskModel(
        factors=list(ahp.DEFAULT_FACTORS),
        matrix=[list(r) for r in ahp.DEFAULT_MATRIX],
        weights=dict(result.weights),
        cr=result.cr,
        thresholds=dict(ahp.DEFAULT_THRESHOLDS),
    )


class RiskModelInconsistent(ValidationError):
    """The pairwise matrix is too inconsistent (CR above 0.1); carries the CR value."""

    def __init__(self, cr: float, max_cr: float) -> None:
        self.cr = cr
        self.max_cr = max_cr
        super().__init__(
            _("判断矩阵一致性比率 CR={cr:.3f}，超过 {max_cr:.1f}，请调整两两比较判断后再保存。").format(cr=cr, max_cr=max_cr)
        )


def risk_model_update(*, matrix: Sequence[Sequence[float]], thresholds: Mapping[str, float] | None, actor) -> RiskModel:
    """Replace the AHP comparison matrix (and level thresholds); refused if CR > 0.1.

    The matrix is over ``domain.ahp.DEFAULT_FACTORS`` in that order. History of every
    change is on the audit trail (before/after matrix, weights, CR, thresholds, who).
    """
    factors = list(ahp.DEFAULT_FACTORS)
    try:
        rows = [[float(x) for x in row] for row in matrix]
    except (TypeError, ValueError) as exc:
        raise ValidationError({"matrix": [_("矩阵的每个判断值都必须是数字。")]}) from exc
    if len(rows) != len(factors) or any(len(r) != len(factors) for r in rows):
        raise ValidationError({"matrix": [_("矩阵应为 %(n)s×%(n)s（因子顺序：%(factors)s）。") % {"n": len(factors), "factors": _("、").join(factors)}]})
    try:
        result = ahp.ahp_weights(rows, factors=factors)
    except ahp.AhpInconsistent as exc:
        raise RiskModelInconsistent(exc.result.cr, exc.max_cr) from exc
    except ValueError as exc:
        raise ValidationError({"matrix": [_("判断矩阵无效：%(error)s") % {"error": _ahp_message(str(exc))}]}) from exc
    current = risk_model_current()
    levels = dict(current.thresholds)
    if thresholds is not None:
        try:
            levels = {lvl: float(thresholds[lvl]) for lvl in ahp.LEVELS}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError({"thresholds": [_("请为红、橙、黄、蓝四个等级分别给出 0-100 的分数下限。")]}) from exc
        if any(not (0 <= v <= 100) or not math.isfinite(v) for v in levels.values()):
            raise ValidationError({"thresholds": [_("等级阈值应在 0 到 100 之间。")]})
        try:
            ahp.level_for(0.0, thresholds=levels)
        except ValueError as exc:
            raise ValidationError({"thresholds": [_("阈值须满足 红 ≥ 橙 ≥ 黄 ≥ 蓝。")]}) from exc
    model = current if current.pk else RiskModel()
    model.factors = factors
    model.matrix = rows
    model.weights = {k: round(v, 6) for k, v in result.weights.items()}
    model.cr = round(result.cr, 6)
    model.thresholds = levels
    model.updated_by = actor if getattr(actor, "pk", None) else None
    with _audit_actor(actor):
        model.save()
    return model


def _ahp_message(text: str) -> str:
    table = {
        "reciprocal": _("须互反（a[j][i] = 1/a[i][j]）"),
        "diagonal": _("对角线须为 1"),
        "positive": _("判断值须为正数"),
        "square": _("须为方阵"),
    }
    for key, msg in table.items():
        if key in text:
            return msg
    return text


def detector_setting_save(
    *, township: str, month_from: int, month_to: int, params: Mapping[str, Any], note: str = "",
    instance: DetectorSetting | None = None, actor=None,
) -> DetectorSetting:
    """Detector parameters for an area and season, validated against the detector classes."""
    from .domain.detectors import DetectorSet

    if not (1 <= month_from <= 12 and 1 <= month_to <= 12):
        raise ValidationError(_("月份应在 1 到 12 之间。"))
    try:
        DetectorSet.from_dict(dict(params))
    except (ValueError, TypeError) as exc:
        raise ValidationError({"params": [_("检测参数无效：%(error)s") % {"error": exc}]}) from exc
    target = instance or DetectorSetting()
    target.township = (township or "").strip()[:60]
    target.month_from, target.month_to = month_from, month_to
    target.params = dict(params)
    target.note = note[:200]
    with _audit_actor(actor):
        target.save()
    return target


# ------------------------------------------------------------------------------ field signals
def field_signal_record(*, kind: str, lon: float, lat: float, at: datetime, weight: float = 1.0, ref: str = "",
                        details: Mapping[str, Any] | None = None) -> FieldSignal:
    """A signal from another module (grid worker's suspicious-activity report, market finding ...).

    The risk score takes it as corroboration of a vessel stop at a geofence near it
    (within 3 km, from 6 h before the stop to 6 h after). ``ref`` names the source record
    (``"sources.report:12"``) and must not identify a tipster; ``details`` (JSON, e.g. a camera's
    snapshot link and sensor id) go into the evidence of the warnings it corroborates.
    """
    kind = (kind or "").strip()
    if not kind:
        raise ValidationError(_("请说明线索类型。"))
    try:
        lon, lat, weight = float(lon), float(lat), float(weight)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("经纬度和权重必须是数字。")) from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(_("经纬度超出范围。"))
    if not (0.0 <= weight <= 1.0):
        raise ValidationError(_("权重应在 0 到 1 之间。"))
    if at is None or timezone.is_naive(at):
        raise ValidationError(_("线索时间必须带时区。"))
    return FieldSignal.objects.create(kind=kind[:40], lon=lon, lat=lat, at=at, weight=weight, ref=(ref or "")[:120],
                                      details=dict(details or {}))


# ------------------------------------------------------------------------------ warnings (apps/elements/warnings.py)
from .warnings import (  # noqa: E402,F401  (re-exported: callers use services.warning_*)
    warning_events_apply,
    warning_level_raise,
    warning_live_payload,
    warning_status_set,
    warning_upsert,
    warning_upsert_with_action,
    warning_withdraw,
)


# ------------------------------------------------------------------------------ the batch steps
def fix_batch_store(
    *, run_id: int | None, partition: int, fixes: Sequence[list], statics: Sequence[dict] = (), count_batch: bool = True,
) -> dict[str, Any]:
    """Step 1 of a slice, one task per partition, in parallel: check, register, store once.

    Plausibility against each vessel's last accepted fix (kept in Redis / the process per
    vessel) -> registry (one look-up; vessels missing from it are registered as unknown) ->
    insert once -> the vessel's last position. The fixes stored for the first time (only
    those go on to the detectors, so a re-sent batch or a re-ingested file feeds no fix to the
    detectors twice) are marked "to be judged" in the same transaction (``handoff.py``);
    ``handoff`` in the result is the newest mark this step saw, the bound of the detect step.
    """
    from . import fixstore, handoff, state
    from .convert import wire_to_fix, wire_to_static

    parsed = [wire_to_fix(w) for w in fixes]
    # the wire form already holds the stored (quantised) integers: rows and the new fixes
    # handed on are taken from it, not computed again from the floats
    wire_of = {id(f): w for f, w in zip(parsed, fixes)}
    counts: dict[str, Any] = {"fixes": len(parsed), "accepted": 0, "stored": 0, "duplicates": 0, "quarantined": {},
                              "static_updates": 0, "handoff": None}
    with state.partition_lock(partition):
        tracker = state.LastFixTracker()
        accepted, refused = tracker.screen(parsed, now=timezone.now())
        counts["accepted"] = len(accepted)
        if refused:
            counts["quarantined"] = dict(quarantine_record_many(run_id=run_id, items=refused))
        refs = vessels_resolve(keys={(f.source, f.vessel_id) for f in accepted})
        if statics:
            counts["static_updates"] = vessel_static_update(reports=[wire_to_static(s) for s in statics])
        rows: list = []
        row_fix: dict[tuple[int, datetime], Any] = {}
        for f in accepted:
            ref = refs.get((f.source, f.vessel_id))
            if ref is None:
                continue
            w = wire_of[id(f)]
            row = (ref.pk, f.ts, w[3], w[4], w[5], w[6])
            rows.append(row)
            row_fix.setdefault((row[0], row[1]), f)
        fixstore.ensure_partitions(fixstore.utc_days(rows))
        with transaction.atomic():
            new_rows = fixstore.insert_fixes(rows)
            latest: dict[int, tuple] = {}
            for r in new_rows:
                f = row_fix[(r[0], r[1])]
                cur = latest.get(r[0])
                if cur is None or f.ts > cur[0]:
                    latest[r[0]] = (f.ts, f.lon, f.lat, f.sog_kn, f.cog_deg)
            vessel_positions_update(latest=latest)
            handoff.put(run_id=run_id, fixes=[wire_of[id(row_fix[(r[0], r[1])])] for r in new_rows])
            counts["handoff"] = handoff.newest()
            if run_id is not None:
                ingest_run_add(run_id=run_id, counts={**counts, "stored": len(new_rows),
                                                      "duplicates": len(accepted) - len(new_rows)}, batch=count_batch)
        tracker.commit()
    counts["stored"] = len(new_rows)
    counts["duplicates"] = len(accepted) - len(new_rows)
    return counts


def fix_batch_detect(*, run_id: int | None, upto: int | None = None, count_batch: bool = True) -> dict[str, Any]:
    """Step 2 of a slice, one task for all partitions: detectors, score, warnings.

    Takes the fixes marked "to be judged" (``handoff.py``) up to the mark ``upto`` — the new
    fixes of a time slice of *all* vessels together, plus any a crashed step left behind —
    so that the rules that pair vessels (rendezvous, scout boat, repeat visits by a group,
    vehicle cross-check) see them in time order. Runs under the pipeline lock; the marks are
    deleted in the same transaction as the warnings, and the pipeline state is written back
    only after that transaction has committed, so a failed run leaves both untouched.
    """
    from . import handoff, state
    from .convert import wire_to_fix
    from .runtime import live_pipeline

    counts: dict[str, Any] = {"detected": 0, "warnings_new": 0, "warnings_updated": 0}
    store = state.BufferedStateStore()
    try:
        with state.pipeline_lock():
            with transaction.atomic():
                marks, wire = handoff.take(upto=upto)
                parsed = sorted((wire_to_fix(w) for w in wire), key=lambda f: (f.ts, f.vessel_id))
                counts["detected"] = len(parsed)
                pipeline = live_pipeline(store)
                warning_events_apply(events_=pipeline.process(parsed), counts=counts)
                radar_associations_store(changes=pipeline.tracker("dark_targets").last_changes)
                handoff.done(marks)
                if run_id is not None:
                    ingest_run_add(run_id=run_id, counts=counts, batch=count_batch)
            store.commit()
    finally:
        store.discard()
    return counts


def radar_associations_store(*, changes: Sequence) -> int:
    """Associations that began, changed or ended in a batch: one bulk upsert."""
    from .models import RadarAssociation

    if not changes:
        return 0
    rows = [
        RadarAssociation(
            radar_target=a.radar_target[:40], sensor_code=a.sensor[:60], target_number=a.number or 0,
            vessel_id=a.vessel_id[:40], since=datetime.fromtimestamp(a.since_s, UTC),
            last=datetime.fromtimestamp(a.last_s, UTC), mean_distance_m=round(a.mean_distance_m, 1),
            samples=a.hits, active=a.active,
        )
        for a in changes
    ]
    RadarAssociation.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["radar_target", "vessel_id"],
        update_fields=["last", "mean_distance_m", "samples", "active"],
    )
    return len(rows)


def fix_batch_process(*, run_id: int | None, fixes: Sequence[list], statics: Sequence[dict] = (),
                      slice_size: int = 5000) -> dict[str, Any]:
    """Both steps in this process, slice by slice (uploads: one task per upload)."""
    from . import state

    ordered = sorted(fixes, key=lambda w: (w[2], w[1]))
    totals: dict[str, Any] = {"fixes": 0, "accepted": 0, "stored": 0, "duplicates": 0, "quarantined": Counter(),
                              "detected": 0, "warnings_new": 0, "warnings_updated": 0}
    n = state.partitions()
    first = True
    for i in range(0, max(len(ordered), 1), slice_size):
        parts: dict[int, list] = {}
        for w in ordered[i : i + slice_size]:
            parts.setdefault(state.partition_of(w[1], n), []).append(w)
        upto = None
        for p, part in sorted(parts.items()):
            r = fix_batch_store(run_id=run_id, partition=p, fixes=part, statics=statics if first else (),
                                count_batch=False)
            first = False
            upto = max((m for m in (upto, r["handoff"]) if m is not None), default=None)
            for k in ("fixes", "accepted", "stored", "duplicates"):
                totals[k] += r[k]
            totals["quarantined"].update(r["quarantined"])
        if upto is not None:
            d = fix_batch_detect(run_id=run_id, upto=upto, count_batch=False)
            totals["detected"] += d["detected"]
            totals["warnings_new"] += d["warnings_new"]
            totals["warnings_updated"] += d["warnings_updated"]
    if run_id is not None:
        ingest_run_add(run_id=run_id, counts={}, batch=True)
    totals["quarantined"] = dict(totals["quarantined"])
    return totals


def fix_to_row(f, vessel_pk: int) -> tuple:
    from .models import COORD_SCALE, MOTION_SCALE

    return (
        vessel_pk,
        f.ts,
        round(f.lon * COORD_SCALE),
        round(f.lat * COORD_SCALE),
        None if f.sog_kn is None else round(f.sog_kn * MOTION_SCALE),
        None if f.cog_deg is None else round(f.cog_deg * MOTION_SCALE),
    )


def vehicle_capture_batch_ingest(*, run_id: int | None, captures: Sequence[list]) -> dict[str, Any]:
    """Checkpoint captures: store once, then match watched/unknown vehicles with vessel stops nearby."""
    from . import state
    from .convert import wire_to_capture
    from .runtime import live_pipeline

    parsed = [wire_to_capture(w) for w in captures]
    counts: dict[str, Any] = {"captures": len(parsed), "stored": 0, "duplicates": 0, "quarantined": {},
                              "warnings_new": 0, "warnings_updated": 0}
    store = state.BufferedStateStore()
    try:
        with state.pipeline_lock():
            with transaction.atomic():
                fresh = vehicle_captures_store(captures=parsed, run_id=run_id)
                counts["stored"] = len(fresh)
                counts["accepted"] = len(parsed)
                counts["duplicates"] = len(parsed) - len(fresh)
                keys = {(r.checkpoint_code, r.plate, r.ts) for r in fresh}
                new_caps = [c for c in parsed if (c.checkpoint_id[:60], c.plate[:20], c.ts) in keys]
                pipeline = live_pipeline(store)
                warning_events_apply(events_=pipeline.process_vehicle_captures(new_caps), counts=counts)
                if run_id is not None:
                    ingest_run_add(run_id=run_id, counts=counts)
            store.commit()
    finally:
        store.discard()
    return counts


def ingest_run_add(*, run_id: int, counts: Mapping[str, Any], batch: bool = True) -> None:
    """Add one step's counts to its run (row-locked: batches of a run finish in any order).

    ``batch=True`` marks a sent batch (task) as done; when the run is sealed and every
    batch sent is done, the run is done.
    """
    run = IngestRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        return
    run.accepted += int(counts.get("accepted", 0))
    run.stored += int(counts.get("stored", 0))
    run.duplicates += int(counts.get("duplicates", 0))
    run.warnings_new += int(counts.get("warnings_new", 0))
    run.warnings_updated += int(counts.get("warnings_updated", 0))
    if counts.get("quarantined"):
        q = Counter(run.quarantined)
        q.update({k: int(v) for k, v in dict(counts["quarantined"]).items()})
        run.quarantined = dict(q)
    stats = dict(run.stats)
    if batch:
        stats["batches_done"] = int(stats.get("batches_done", 0)) + 1
    if counts.get("fixes"):  # fixes through the store step so far: the run's progress while it runs
        stats["fixes_done"] = int(stats.get("fixes_done", 0)) + int(counts["fixes"])
    if counts.get("static_updates"):
        stats["static_updates"] = int(stats.get("static_updates", 0)) + int(counts["static_updates"])
    if stats.get("sealed") and run.status == IngestRun.Status.RUNNING and stats.get("batches_done", 0) >= int(stats.get("batches_sent", 0)):
        run.status = IngestRun.Status.FAILED if run.error else IngestRun.Status.DONE
        run.finished_at = timezone.now()
    run.stats = stats
    run.save()


# ------------------------------------------------------------------------------ housekeeping
def fix_retention_apply(*, days: int | None = None) -> dict[str, int]:
    """Drop stored fixes older than ``FIX_RETENTION_DAYS`` (or ``days``): whole day partitions on PostgreSQL."""
    from django.conf import settings

    from . import fixstore

    keep = int(days if days is not None else settings.FIX_RETENTION_DAYS)
    if keep < 1:
        raise ValidationError(_("保留天数至少为 1 天。"))
    cutoff = timezone.now() - timedelta(days=keep)
    result = fixstore.drop_older_than(cutoff)
    log.info("fix retention (%s days): %s", keep, result)
    return result


def tide_predict_all(*, days: int = 30) -> int:
    """Predict high/low waters for every station with harmonic constants, from yesterday to ``days`` ahead."""
    start = timezone.now() - timedelta(days=1)
    n = 0
    for station in TideStation.objects.exclude(constants=None):
        n += tide_predict(station=station, start=start, end=start + timedelta(days=days + 1))
    if n:
        from .runtime import context_changed

        context_changed()
    return n
