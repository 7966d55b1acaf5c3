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
