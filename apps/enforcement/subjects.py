"""What can be dispatched: a small registry of subject types, and how a subject describes itself.

Other modules register their dispatchable models in their ``AppConfig.ready``::

    from apps.enforcement.subjects import register_subject_type
    register_subject_type("tip", "reporting.Tip", label="群众举报")

A subject may expose ``dispatch_title()``, ``dispatch_level()`` (red/orange/yellow/blue),
``dispatch_kind()``, ``dispatch_township()`` and ``lon``/``lat``; otherwise ``str(subject)``
and the duty officer's chosen level are used. No model is imported at module level.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class SubjectType:
    name: str
    model_label: str
    label: str

    def model(self):
        return apps.get_model(self.model_label)


_REGISTRY: dict[str, SubjectType] = {}


def register_subject_type(name: str, model_label: str, *, label: str = "") -> None:
    """Make ``model_label`` ("app_label.Model") dispatchable as ``subject_type=name`` (idempotent)."""
    _REGISTRY[name] = SubjectType(name=name, model_label=model_label, label=label or name)


def subject_types() -> list[SubjectType]:
    return list(_REGISTRY.values())


def subject_type_of(subject) -> str | None:
    label = subject._meta.label
    for entry in _REGISTRY.values():
        if entry.model_label.lower() == label.lower():
            return entry.name
    return None


def subject_resolve(*, subject_type: str, subject_id, user=None):
    """The subject instance for an API request; refuses unknown types and rows the user may not see."""
    entry = _REGISTRY.get(subject_type)
    if entry is None:
        known = _("、").join(sorted(_REGISTRY)) or _("无")
        raise ValidationError({"subject_type": _("不支持的派发对象类型「%(type)s」；可选：%(known)s。") % {
            "type": subject_type, "known": known}})
    try:
        pk = int(subject_id)
    except (TypeError, ValueError):
        raise ValidationError({"subject_id": _("派发对象编号必须是整数。")}) from None
    model = entry.model()
    manager = model._default_manager
    queryset = manager.visible_to(user) if user is not None and hasattr(manager, "visible_to") else manager.all()
    try:
        return queryset.get(pk=pk)
    except ObjectDoesNotExist:
        raise ValidationError({"subject_id": _("找不到编号为 %(pk)s 的%(what)s，或您无权查看。") % {"pk": pk, "what": entry.label}}) from None


def _call(subject, name: str):
    attr = getattr(subject, name, None)
    if attr is None:
        return None
    return attr() if callable(attr) else attr


@dataclass(frozen=True)
class SubjectInfo:
    title: str
    level: str | None
    kind: str | None
    lon: float | None
    lat: float | None
    township: str


def subject_describe(subject) -> SubjectInfo:
    """What a subject says about itself (through the optional ``dispatch_*`` protocol)."""
    from apps.elements.models import Warning

    title = _call(subject, "dispatch_title") or str(subject)
    level = _call(subject, "dispatch_level")
    kind = _call(subject, "dispatch_kind")
    township = _call(subject, "dispatch_township") or ""
    if isinstance(subject, Warning):
        level = level or subject.level
        kind = kind or subject.kind
        if not township and subject.geofence_id:
            township = subject.geofence.township or ""
    lon = getattr(subject, "lon", None)
    lat = getattr(subject, "lat", None)
    if isinstance(subject, Warning) and lon is None and subject.geofence_id:
        lon, lat = subject.geofence.centroid_lon, subject.geofence.centroid_lat
    try:
        lon = float(lon) if lon is not None else None
        lat = float(lat) if lat is not None else None
    except (TypeError, ValueError):
        lon = lat = None
    if not township and lon is not None and lat is not None:
        township = township_near(lon_deg=lon, lat_deg=lat)
    return SubjectInfo(title=str(title)[:200], level=level, kind=kind, lon=lon, lat=lat, township=str(township)[:60])


def township_near(*, lon_deg: float, lat_deg: float, max_distance_m: float = 5000.0) -> str:
    """The township of the nearest registered place (pier, cove, beach...) within ``max_distance_m``; else ""."""
    import math

    from apps.elements.models import Geofence

    best, best_m = "", max_distance_m
    cos_lat = math.cos(math.radians(lat_deg))
    for name, c_lon, c_lat in Geofence.objects.exclude(township="").values_list("township", "centroid_lon", "centroid_lat"):
        dx_m = (c_lon - lon_deg) * 111_320.0 * cos_lat
        dy_m = (c_lat - lat_deg) * 110_574.0
        distance_m = math.hypot(dx_m, dy_m)
        if distance_m < best_m:
            best, best_m = name, distance_m
    return best


# --------------------------------------------------------------------------------------------
# Where and who: the task "subject card" every task view and notice shows.
# --------------------------------------------------------------------------------------------
PLACE_NEAR_M = 1500.0  # a subject without a geofence is "near" the closest registered place within this


def geo_uri(*, lat_deg: float, lon_deg: float, label: str = "") -> str:
    """A ``geo:`` URI (RFC 5870) that opens the point in the phone's map app, with a label (Android ``q=``)."""
    from urllib.parse import quote

    ll = f"{lat_deg:.6f},{lon_deg:.6f}"
    return f"geo:{ll}?q={ll}" + (f"({quote(label)})" if label else "")


def _nearest_geofence(lon: float, lat: float, geofences) -> tuple[object | None, float]:
    import math

    best, best_m = None, PLACE_NEAR_M
    cos_lat = math.cos(math.radians(lat))
    for g in geofences:
        d = math.hypot((g.centroid_lon - lon) * 111_320.0 * cos_lat, (g.centroid_lat - lat) * 110_574.0)
        if d < best_m:
            best, best_m = g, d
    return best, best_m


def subject_cards(dispatches) -> dict[int, dict]:
    """Where and who for each dispatch, keyed by dispatch id (a fixed number of queries for any number).

    Each card: ``title``, ``level``/``level_label``, ``kind_label``, ``start``/``end`` (the warning's
    time, else the dispatch's), ``place`` (name, kind_label, township, lon, lat, geo_uri, or None),
    ``vessels`` (registry details), ``plates`` (vehicles seen at checkpoints), ``warning`` (id, score).
    """
    from apps.elements.models import Checkpoint, Geofence, Vessel, Warning

    dispatches = list(dispatches)
    warning_ids = {d.warning_id for d in dispatches if d.warning_id}
    warnings = {w.pk: w for w in Warning.objects.filter(pk__in=warning_ids).select_related("geofence")}
    vessel_ids = {v for w in warnings.values() for v in (w.vessels or [])}
    vessels: dict[str, Vessel] = {}
    for v in Vessel.objects.filter(external_id__in=vessel_ids):
        vessels.setdefault(v.external_id, v)
    need_near = any(d.lon is not None and not (warnings.get(d.warning_id) and warnings[d.warning_id].geofence_id) for d in dispatches)
    geofences = list(Geofence.objects.only("name", "kind", "township", "centroid_lon", "centroid_lat")) if need_near else []
    checkpoint_codes = {c.get("checkpoint_id") for w in warnings.values() for c in (w.evidence or {}).get("captures") or []}
    checkpoints = dict(Checkpoint.objects.filter(code__in=checkpoint_codes).values_list("code", "name")) if checkpoint_codes else {}
    kind_labels = dict(Warning.Kind.choices)
    level_labels = dict(Warning.Level.choices)
    cards: dict[int, dict] = {}
    for d in dispatches:
        w = warnings.get(d.warning_id)
        cards[d.pk] = {
            "title": d.title,
            "level": d.level,
            "level_label": str(level_labels.get(d.level, d.level)),
            "kind_label": str(kind_labels.get(w.kind if w else d.kind, "")),
            "start": w.start if w else d.created_at,
            "end": w.end if w else None,
            "place": _place(d, w, geofences),
            "vessels": [_vessel(vid, vessels.get(vid)) for vid in (w.vessels if w else [])],
            "plates": _plates(w, checkpoints),
            "warning": {"id": w.pk, "score": round(w.score, 1)} if w else None,
        }
    return cards


def _place(d, w, geofences) -> dict | None:
    g = w.geofence if w is not None and w.geofence_id else None
    lon = d.lon if d.lon is not None else (w.lon if w is not None else None)
    lat = d.lat if d.lat is not None else (w.lat if w is not None else None)
    if g is None and lon is not None and lat is not None:
        near, _m = _nearest_geofence(lon, lat, geofences)
        if near is not None:
            name = _("%(place)s附近") % {"place": near.name}
            return _place_dict(name, near.get_kind_display(), d.township or near.township, lon, lat)
    if g is not None:
        lon = lon if lon is not None else g.centroid_lon
        lat = lat if lat is not None else g.centroid_lat
        return _place_dict(g.name, g.get_kind_display(), g.township or d.township, lon, lat)
    if lon is None or lat is None:
        return None
    return _place_dict(d.township or _("海上"), "", d.township, lon, lat)


def _place_dict(name: str, kind_label: str, township: str, lon: float, lat: float) -> dict:
    return {"name": str(name), "kind_label": str(kind_label), "township": township or "",
            "lon": round(float(lon), 6), "lat": round(float(lat), 6),
            "geo_uri": geo_uri(lat_deg=float(lat), lon_deg=float(lon), label=str(name))}


def _vessel(external_id: str, v) -> dict:
    if v is None:
        return {"id": external_id, "name": "", "source_label": "", "callsign": "", "owner": "", "home_port": "",
                "registered": False, "watch_group": ""}
    return {"id": external_id, "name": v.name, "source_label": str(v.get_source_display()), "callsign": v.callsign,
            "owner": v.owner, "home_port": v.home_port, "registered": v.registered, "watch_group": v.watch_group}


def _plates(w, checkpoints: dict) -> list[dict]:
    if w is None:
        return []
    out, seen = [], set()
    for c in (w.evidence or {}).get("captures") or []:
        plate = str(c.get("plate") or "")
        if not plate or plate in seen:
            continue
        seen.add(plate)
        code = c.get("checkpoint_id") or ""
        out.append({"plate": plate, "status": str(c.get("status") or ""), "checkpoint": checkpoints.get(code, code)})
    return out


def subject_text(card: dict) -> str:
    """The card as one Chinese line for notices (SMS, robots): place, vessels, vehicles, warning time."""
    from django.utils import timezone

    parts = []
    place = card.get("place")
    if place:
        where = "·".join(x for x in (place["kind_label"], place["township"]) if x)
        parts.append(_("地点：%(name)s（%(where)s北纬%(lat).5f° 东经%(lon).5f°）") % {
            "name": place["name"], "where": f"{where}，" if where else "", "lat": place["lat"], "lon": place["lon"]})
    vessels = []
    for v in card.get("vessels") or []:
        details = "，".join(x for x in (
            f"{v['source_label'] or 'MMSI'} {v['id']}", _("船主 %s") % v["owner"] if v["owner"] else "",
            _("船籍港 %s") % v["home_port"] if v["home_port"] else "", "" if v["registered"] else _("未登记")) if x)
        vessels.append(f"{v['name'] or v['id']}（{details}）")
    if vessels:
        parts.append(_("船舶：%s") % "、".join(vessels))
    plates = [p["plate"] + (f"（{p['checkpoint']}）" if p["checkpoint"] else "") for p in card.get("plates") or []]
    if plates:
        parts.append(_("车辆：%s") % "、".join(plates))
    if card.get("start"):
        parts.append(_("预警：%(level)s，%(time)s起（北京时间）") % {
            "level": card["level_label"], "time": timezone.localtime(card["start"]).strftime("%m-%d %H:%M")})
    return "；".join(parts)
