"""The track pipeline as a worker runs it: built from the database, cached, rebuilt on change.

Everything the detectors need besides the fixes — geofences, detector settings per area
and season, the AHP weights and level thresholds, tide windows, holidays, the watch list,
the registry of known vessels, checkpoints and field signals — is read here in a handful
of queries and handed to :class:`apps.elements.domain.pipeline.TrackPipeline`. The result
is cached per process and rebuilt when :func:`context_changed` has bumped the version (any
edit of those tables does, see ``apps.py``) or after ``CONTEXT_MAX_AGE_S``.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from . import fixstore
from .domain.detectors import AreaSeasonRule, DetectorConfig, DetectorSet
from .domain.geo_units import haversine_m
from .domain.pipeline import StateStore, TrackPipeline
from .domain.sensors import Sensor
from .domain.dark_rule import DarkTargetRule
from .domain.tides import TideEvent, TideSchedule
from .domain.tracks import SourceProfile

log = logging.getLogger(__name__)

VERSION_KEY = "xs:elements:context-version"
CONTEXT_MAX_AGE_S = 60.0
#: A field signal corroborates a vessel stop at a geofence this close (metres, to the
#: geofence centroid) and this close in time (hours before the stop began / after it ended).
FIELD_SIGNAL_RADIUS_M = 3000.0
FIELD_SIGNAL_WINDOW_H = 6.0


def context_changed() -> None:
    """Tell every worker to rebuild its pipeline context before the next batch."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)


def _version() -> int:
    v = cache.get(VERSION_KEY)
    if v is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        v = cache.get(VERSION_KEY) or 1
    return int(v)


@dataclass(frozen=True, slots=True)
class Signal:
    kind: str
    lon: float
    lat: float
    at_s: float
    weight: float
    ref: str
    created_s: float
    details: Mapping[str, Any] | None = None


class BorderPipeline(TrackPipeline):
    """The domain pipeline plus field signals from the other modules as corroboration.

    A grid worker's suspicious-activity report or a market finding near a geofence, around
    the time of a vessel stop there, raises the ``corroboration`` factor of that finding to
    the signal's weight (and is named in the evidence) before it is scored, so the AHP score,
    the level and the de-duplication all see it.
    """

    def __init__(self, *, signals: Sequence[Signal] = (), sensors: Sequence[Sensor] = (),
                 dark_rule: DarkTargetRule | None = None, **kwargs: Any) -> None:
        self.sensors = tuple(sensors)  # read by the dark-target tracker when it binds
        self.dark_rule = dark_rule
        super().__init__(**kwargs)
        self.signals = sorted(signals, key=lambda s: s.at_s)

    def _signals_near(self, geofence, start_s: float, end_s: float) -> list[Signal]:
        if not self.signals or geofence is None:
            return []
        c = geofence.geometry.centroid
        lo = start_s - FIELD_SIGNAL_WINDOW_H * 3600.0
        hi = end_s + FIELD_SIGNAL_WINDOW_H * 3600.0
        return [
            s for s in self.signals
            if lo <= s.at_s <= hi and haversine_m(c.x, c.y, s.lon, s.lat) <= FIELD_SIGNAL_RADIUS_M
        ]

    def _emit(self, b, *, geofence, start_s: float, end_s: float, factors: dict[str, float],
              evidence: dict[str, Any], **kwargs: Any) -> None:
        if self.sensors:
            sensors, shadow = self.tracker("dark_targets").sensors_of(b, kwargs["vessels"])
            if shadow and kwargs["kind"] != "dark_target":
                return  # a radar track of a known AIS/Beidou vessel: that vessel's own track carries the finding
            if sensors:
                evidence = {**evidence, "sensors": sorted(set(evidence.get("sensors", [])) | set(sensors))}
        near = self._signals_near(geofence, start_s, end_s)
        if near:
            factors["corroboration"] = max(float(factors.get("corroboration", 0.0)), max(s.weight for s in near))
            seen_by = {s.details.get("sensor") for s in near if s.details and s.details.get("sensor")}
            if seen_by:
                evidence = {**evidence, "sensors": sorted(set(evidence.get("sensors", [])) | seen_by)}
            evidence = {**evidence, "field_signals": [
                {**(s.details or {}), "kind": s.kind, "at": datetime.fromtimestamp(s.at_s, UTC).isoformat(),
                 "weight": s.weight, "ref": s.ref} for s in near
            ]}
        super()._emit(b, geofence=geofence, start_s=start_s, end_s=end_s, factors=factors, evidence=evidence, **kwargs)


@dataclass
class Context:
    """The inputs of a pipeline besides fixes and state (plain data, no ORM objects)."""

    geofences: list
    config: DetectorConfig
    weights: dict[str, float]
    thresholds: dict[str, float]
    tide_events: list[TideEvent]
    holidays: frozenset[date]
    watchlist: dict[str, str]
    known_vessels: frozenset[str]
    vehicle_watchlist: frozenset[str]
    checkpoints: dict[str, tuple[float, float]]
    signals: list[Signal] = field(default_factory=list)
    sensors: list[Sensor] = field(default_factory=list)

    def pipeline(self, *, store: StateStore | None, weights: Mapping[str, float] | None = None,
                 thresholds: Mapping[str, float] | None = None, signals: Iterable[Signal] | None = None) -> BorderPipeline:
        schedule = TideSchedule(
            self.tide_events,
            before=timedelta(minutes=settings.PATROL_WINDOW_BEFORE_MIN),
            after=timedelta(minutes=settings.PATROL_WINDOW_AFTER_MIN),
        ) if self.tide_events else None
        return BorderPipeline(
            geofences=self.geofences,
            config=self.config,
            weights=dict(weights) if weights is not None else self.weights,
            thresholds=dict(thresholds) if thresholds is not None else self.thresholds,
            tide_window_at=schedule.window_at if schedule is not None else None,
            holidays=self.holidays,
            watchlist=self.watchlist,
            known_vessels=self.known_vessels,
            state_store=store,
            vehicle_watchlist=self.vehicle_watchlist,
            known_vehicles=frozenset(),  # no vehicle registry yet: every unwatched plate is "unknown"
            checkpoints=self.checkpoints,
            signals=list(signals) if signals is not None else self.signals,
            sensors=self.sensors,
            sources={k: SourceProfile.from_dict(v) for k, v in getattr(settings, "ELEMENTS_SOURCES", {}).items()},
            history_near=fixstore.fixes_near,
            history=fixstore.fixes_of,
        )


def detector_config_load() -> DetectorConfig:
    """Detector settings per area and season from ``DetectorSetting`` rows (most specific first)."""
    from .models import DetectorSetting

    rows = list(DetectorSetting.objects.all())
    default = DetectorSet()
    for row in rows:
        if not row.township and row.all_year:
            default = DetectorSet.from_dict(row.params, base=default)

    def rank(row) -> tuple[int, int]:
        return (0 if row.township else 1, 0 if not row.all_year else 1)

    rules = []
    for row in sorted(rows, key=lambda r: (rank(r), r.pk)):
        if not row.township and row.all_year:
            continue
        rules.append(
            AreaSeasonRule(
                detectors=DetectorSet.from_dict(row.params, base=default),
                area=row.township or None,
                months=None if row.all_year else (row.month_from, row.month_to),
            )
        )
    return DetectorConfig(default=default, rules=tuple(rules))


def tide_events_load() -> list[TideEvent]:
    """High and low waters of the default tide station (imported rows and predictions)."""
    from .models import TideEventRecord, TideStation

    station = TideStation.objects.filter(is_default=True).first() or TideStation.objects.first()
    if station is None:
        return []
    return [
        TideEvent(ts=ts, height_m=h, kind=kind, station=station.code)
        for ts, h, kind in TideEventRecord.objects.filter(station=station).order_by("ts").values_list("ts", "height_m", "kind")
    ]


def watchlist_load() -> tuple[dict[str, str], frozenset[str]]:
    """(vessel id -> watch group, watched plates) from the active watch list."""
    from .models import Vessel, WatchEntry

    entries = list(WatchEntry.objects.filter(active=True).values_list("kind", "value"))
    groups = {v for k, v in entries if k == WatchEntry.Kind.VESSEL_GROUP}
    ids = {v for k, v in entries if k == WatchEntry.Kind.VESSEL}
    plates = frozenset(v for k, v in entries if k == WatchEntry.Kind.PLATE) | _key_element_plates()
    watch: dict[str, str] = {}
    if groups:
        for ext, group in Vessel.objects.filter(watch_group__in=groups).values_list("external_id", "watch_group"):
            watch[ext] = group
    if ids:
        known_groups = dict(Vessel.objects.filter(external_id__in=ids).values_list("external_id", "watch_group"))
        for ext in ids:
            watch.setdefault(ext, known_groups.get(ext) or ext)
    return watch, plates


def _key_element_plates() -> frozenset[str]:
    """Vehicles of the key-element registry with a watch level are watched plates (apps/intel)."""
    from apps.intel.selectors import watched_plates

    return watched_plates()


def signals_load(*, days: int = 60) -> list[Signal]:
    from django.utils import timezone

    from .models import FieldSignal

    since = timezone.now() - timedelta(days=days)
    return [
        Signal(kind=k, lon=lon, lat=lat, at_s=at.timestamp(), weight=w, ref=ref, created_s=c.timestamp(), details=d)
        for k, lon, lat, at, w, ref, c, d in FieldSignal.objects.filter(at__gte=since).values_list(
            "kind", "lon", "lat", "at", "weight", "ref", "created_at", "details"
        )
    ]


def context_load() -> Context:
    from apps.sources.sensors import sensors_domain

    from .convert import geofences_to_domain
    from .models import Checkpoint, Geofence, Holiday, Vessel
    from .services import risk_model_current

    model = risk_model_current()
    watch, plates = watchlist_load()
    return Context(
        geofences=geofences_to_domain(Geofence.objects.all()),
        config=detector_config_load(),
        weights={k: float(v) for k, v in model.weights.items()},
        thresholds={k: float(v) for k, v in model.thresholds.items()},
        tide_events=tide_events_load(),
        holidays=frozenset(Holiday.objects.values_list("date", flat=True)),
        watchlist=watch,
        known_vessels=frozenset(Vessel.objects.filter(registered=True).values_list("external_id", flat=True)),
        vehicle_watchlist=plates,
        checkpoints={c: (lon, lat) for c, lon, lat in Checkpoint.objects.values_list("code", "lon", "lat")},
        signals=signals_load(),
        sensors=sensors_domain(kinds=["radar"]),
    )


class _Runtime:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: int | None = None
        self.built_at = -math.inf
        self.context: Context | None = None
        self.pipeline: BorderPipeline | None = None


_runtime = _Runtime()


def live_pipeline(store: StateStore) -> BorderPipeline:
    """The process's pipeline for live batches, rebuilt when the context changed; ``store`` set per call."""
    version = _version()
    with _runtime.lock:
        if (
            _runtime.pipeline is None
            or _runtime.version != version
            or time.monotonic() - _runtime.built_at > CONTEXT_MAX_AGE_S
        ):
            _runtime.context = context_load()
            _runtime.pipeline = _runtime.context.pipeline(store=store)
            _runtime.version = version
            _runtime.built_at = time.monotonic()
        pipeline = _runtime.pipeline
    pipeline.store = store
    return pipeline


def reset() -> None:
    """Drop the cached pipeline (tests)."""
    with _runtime.lock:
        _runtime.pipeline = None
        _runtime.context = None
        _runtime.version = None
