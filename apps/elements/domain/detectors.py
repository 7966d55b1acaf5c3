"""The smuggling-pattern detectors: explicit thresholds, local-time rules, findings.

Each detector is a small frozen dataclass whose fields *are* its thresholds (units in the
names) plus a ``judge`` method that turns an already-summarised event (a stop at a
geofence, a reporting gap, an encounter ...) into risk-factor values in [0, 1], or None
when the rule does not fire. The bookkeeping that produces those summaries from a
stream of fixes (per-vessel visit/gap tracking, the encounter grid, per-pier history)
lives in :mod:`apps.elements.domain.pipeline`; scoring lives in
:mod:`apps.elements.domain.ahp`.

=====================  ============================================================
kind                   fires when
=====================  ============================================================
``idle_pier_landing``  slow (<= ``max_speed_kn``) inside an idle-pier geofence for at
                       least ``min_dwell_min`` of night time (local), seed: unloading
                       1-2 h in the small hours
``dark_vessel``        no fix for ``min_gap_min`` .. ``max_gap_min`` with the gap
                       starting or ending within ``near_coast_m`` of a geofence; worse
                       near a pier and when the implied displacement is odd
``repeat_visit``       a stop at the same idle pier by the same vessel (or a vessel of
                       the same watch-list group) within ``window_h`` of the last one
``rendezvous``         two vessels within ``max_distance_m``, both slow, for
                       ``min_duration_min``, more than ``min_port_distance_m`` from any
                       geofence
``scout_boat``         a vessel slows at an idle pier briefly and leaves; another
                       arrives (and stops) there within ``window_min``
``vehicle_vessel``     a watched or unknown truck is captured at a checkpoint within
                       ``max_distance_m`` of a pier during a vessel stop there
=====================  ============================================================

Times: detectors work on POSIX seconds (``*_s``); "night", months and holidays are
judged in local time (Asia/Shanghai unless configured) through :class:`LocalClock`,
which caches the zone's UTC offset per hour so nothing builds a tz object per fix.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo

from apps.elements.domain.dark_rule import DarkTargetRule
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.model import PositionFix, TideWindow

__all__ = [
    "DETECTOR_KINDS",
    "LOCAL_TZ",
    "PLACE_RISK",
    "AreaSeasonRule",
    "DarkVessel",
    "DetectorConfig",
    "DetectorSet",
    "Finding",
    "IdlePierLanding",
    "LocalClock",
    "detector_params",
    "Rendezvous",
    "RepeatVisit",
    "ScoutBoat",
    "VehicleVessel",
    "holiday_flag",
    "place_risk",
    "tide_proximity",
    "utc_dt",
]

LOCAL_TZ: Final[tzinfo] = ZoneInfo("Asia/Shanghai")

DETECTOR_KINDS: Final[tuple[str, ...]] = (
    "idle_pier_landing",
    "dark_vessel",
    "repeat_visit",
    "rendezvous",
    "scout_boat",
    "vehicle_vessel",
)

#: How sensitive a place is for a landing, by (kind, status): the ``location`` factor.
PLACE_RISK: Final[Mapping[tuple[str, str], float]] = {
    ("pier", "idle"): 1.0,
    ("landing_point", "idle"): 1.0,
    ("beach", "idle"): 0.9,
    ("cove", "idle"): 0.9,
    ("anchorage", "idle"): 0.5,
    ("landing_point", "active"): 0.8,
    ("beach", "active"): 0.6,
    ("cove", "active"): 0.6,
    ("pier", "active"): 0.4,
    ("anchorage", "active"): 0.2,
}

_IDLE_LANDING_KINDS: Final[tuple[str, ...]] = ("pier", "cove", "beach", "landing_point")


def place_risk(geofence: Geofence) -> float:
    """The ``location`` factor of a geofence (see :data:`PLACE_RISK`)."""
    return PLACE_RISK.get((geofence.kind, geofence.status), 0.5)


def utc_dt(t_s: float) -> datetime:
    """POSIX seconds to an aware UTC datetime (microsecond-exact for fix times)."""
    return datetime.fromtimestamp(t_s, UTC)


def _clip01(x: float) -> float:
    return 0.0 if x <= 0.0 else 1.0 if x >= 1.0 else x


def _tod_s(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


class LocalClock:
    """Local wall-clock facts for POSIX seconds, with the zone offset cached per hour.

    The offset is looked up once per UTC hour touched (a dict hit afterwards), so the hot
    path never builds tz objects. Asia/Shanghai has had a fixed +08:00 offset since 1991;
    intervals are judged with the offset at their start, which is exact there.
    """

    __slots__ = ("_cache", "tz")

    def __init__(self, tz: tzinfo = LOCAL_TZ) -> None:
        self.tz = tz
        self._cache: dict[int, float] = {}

    def offset_s(self, t_s: float) -> float:
        hour = int(t_s // 3600)
        off = self._cache.get(hour)
        if off is None:
            if len(self._cache) > 200_000:
                self._cache.clear()
            delta = datetime.fromtimestamp(hour * 3600, UTC).astimezone(self.tz).utcoffset()
            off = delta.total_seconds() if delta is not None else 0.0
            self._cache[hour] = off
        return off

    def local_s(self, t_s: float) -> float:
        """Seconds on the local wall clock since 1970-01-01 00:00 local."""
        return t_s + self.offset_s(t_s)

    def local_date(self, t_s: float) -> date:
        return date.fromordinal(719163 + int(self.local_s(t_s) // 86400))

    def month(self, t_s: float) -> int:
        return self.local_date(t_s).month

    def local_time_of_day_s(self, t_s: float) -> float:
        return self.local_s(t_s) % 86400.0

    def in_window(self, t_s: float, *, start: time, end: time) -> bool:
        """Is ``t_s`` inside the daily local window [start, end) (which may wrap midnight)?"""
        tod = self.local_time_of_day_s(t_s)
        a, b = _tod_s(start), _tod_s(end)
        if a == b:
            return True
        return a <= tod < b if a < b else (tod >= a or tod < b)

    def window_overlap_s(self, t0_s: float, t1_s: float, *, start: time, end: time) -> float:
        """Seconds of [t0_s, t1_s] falling inside the daily local window [start, end).

        ``start == end`` means the whole day. Windows may wrap midnight (22:00-05:00).
        """
        if t1_s <= t0_s:
            return 0.0
        a, b = _tod_s(start), _tod_s(end)
        if a == b:
            return t1_s - t0_s
        off = self.offset_s(t0_s)
        l0, l1 = t0_s + off, t1_s + off
        if b < a:
            b += 86400  # window runs into the next day
        total = 0.0
        day = math.floor(l0 / 86400.0) - 1
        last = math.floor(l1 / 86400.0)
        while day <= last:
            w0 = day * 86400.0 + a
            w1 = day * 86400.0 + b
            lo = l0 if l0 > w0 else w0
            hi = l1 if l1 < w1 else w1
            if hi > lo:
                total += hi - lo
            day += 1
        return total


def tide_proximity(
    start_s: float,
    end_s: float,
    *,
    tide_window_at: Callable[[datetime], TideWindow | None] | None,
) -> tuple[float, TideWindow | None]:
    """The ``tide`` factor of an event spanning [start_s, end_s] and the window used.

    1.0 when the event covers high water, falling linearly to 0 at the window's edges,
    0 outside any window (or with no tide source). The window is looked up at the start,
    middle and end of the event; the best one wins.
    """
    if tide_window_at is None:
        return 0.0, None
    best = 0.0
    best_w: TideWindow | None = None
    seen: set[tuple[datetime, datetime]] = set()
    for t in (start_s, (start_s + end_s) / 2.0, end_s):
        w = tide_window_at(utc_dt(t))
        if w is None or (w.start, w.end) in seen:
            continue
        seen.add((w.start, w.end))
        ws, wp, we = w.start.timestamp(), w.peak.timestamp(), w.end.timestamp()
        if end_s < ws or start_s > we:
            continue
        closest = min(max(wp, start_s), end_s)
        half = (wp - ws) if closest < wp else (we - wp)
        f = 1.0 if half <= 0 else _clip01(1.0 - abs(closest - wp) / half)
        if f > best or best_w is None:
            best, best_w = max(best, f), w
    return best, best_w


def holiday_flag(start_s: float, *, clock: LocalClock, holidays: Collection[date], spill_h: float = 6.0) -> bool:
    """True when the local date of ``start_s`` is a holiday, or the event starts in the
    small hours (before ``spill_h``) after a holiday evening."""
    if not holidays:
        return False
    return clock.local_date(start_s) in holidays or clock.local_date(start_s - spill_h * 3600.0) in holidays


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector result, complete enough to score and to store as evidence.

    ``factors`` holds every risk factor in [0, 1] (detector-specific ones and the context
    ones the pipeline adds: watchlist, unknown_vessel, holiday, history). ``episode_key``
    is stable for the whole episode (same stop, same encounter, same burst of visits), so
    a consumer updates rather than duplicates; ``ongoing`` is False on the episode's last
    finding. ``fixes`` is a trimmed evidence sample, oldest first.
    """

    kind: str
    vessels: tuple[str, ...]
    geofence_id: str | int | None
    start: datetime
    end: datetime
    factors: Mapping[str, float]
    evidence: Mapping[str, Any]
    episode_key: str = ""
    ongoing: bool = False
    fixes: tuple[PositionFix, ...] = ()
    tide_window: TideWindow | None = None
    rule: Mapping[str, Any] = field(default_factory=dict)
    area: str = ""


# --------------------------------------------------------------------------- detectors


@dataclass(frozen=True, slots=True)
class IdlePierLanding:
    """Stop inside an idle pier / landing spot at night, long enough to unload."""

    kind: ClassVar[str] = "idle_pier_landing"
    enabled: bool = True
    kinds: tuple[str, ...] = _IDLE_LANDING_KINDS
    statuses: tuple[str, ...] = ("idle",)
    max_speed_kn: float = 1.0  # a fix at or below this speed counts as stopped
    min_dwell_min: float = 30.0  # stopped night time needed to fire
    unload_min: float = 60.0  # stopped time at which the behaviour factor reaches 1 (seed: 1-2 h)
    mooring_min: float = 360.0  # stopped longer than this looks like mooring: behaviour x0.6
    night_start: time = time(22, 0)
    night_end: time = time(5, 0)
    require_night: bool = True

    def applies_to(self, geofence: Geofence) -> bool:
        return self.enabled and geofence.kind in self.kinds and geofence.status in self.statuses

    def judge(self, *, slow_dwell_s: float, night_dwell_s: float, geofence: Geofence) -> dict[str, float] | None:
        """Factors for a stop of ``slow_dwell_s`` (``night_dwell_s`` of it at night), or None."""
        if not self.applies_to(geofence):
            return None
        dwell = night_dwell_s if self.require_night else slow_dwell_s
        if dwell < self.min_dwell_min * 60.0 or dwell <= 0.0:
            return None
        behaviour = _clip01(slow_dwell_s / (self.unload_min * 60.0))
        if slow_dwell_s > self.mooring_min * 60.0:
            behaviour *= 0.6
        night = _clip01(night_dwell_s / slow_dwell_s) if slow_dwell_s > 0 else 0.0
        return {"behaviour": behaviour, "location": place_risk(geofence), "night": night}


@dataclass(frozen=True, slots=True)
class DarkVessel:
    """AIS/Beidou silent near the coast for a while, then back."""

    kind: ClassVar[str] = "dark_vessel"
    enabled: bool = True
    min_gap_min: float = 60.0
    max_gap_min: float = 4320.0  # longer silences (3 days) are treated as a new track
    long_gap_min: float = 360.0  # gap length at which the length part of behaviour saturates
    near_coast_m: float = 20_000.0  # gap must start or end this close to some geofence
    near_pier_m: float = 2_000.0  # ... and is worse within this distance of one
    coastal_risk: float = 0.3  # location factor when near the coast but not near a pier
    max_plausible_kn: float = 30.0  # implied speed above this is odd (identity swap, spoofing)
    nowhere_m: float = 1_000.0  # displacement below this over the gap is odd (sat somewhere dark)
    ignore_in_port: bool = True  # both ends inside the same *active* pier/anchorage: in port, not dark
    night_start: time = time(22, 0)
    night_end: time = time(5, 0)

    def judge(
        self,
        *,
        gap_s: float,
        displacement_m: float,
        start_near: tuple[Geofence, float] | None,
        end_near: tuple[Geofence, float] | None,
        in_port: bool = False,
    ) -> tuple[dict[str, float], dict[str, Any]] | None:
        """Factors and evidence for a silence of ``gap_s`` seconds, or None.

        ``start_near``/``end_near`` are the nearest geofence (and metres) to the last fix
        before and the first fix after the gap, looked up within ``near_coast_m``.
        """
        if not self.enabled:
            return None
        if gap_s < self.min_gap_min * 60.0 or gap_s > self.max_gap_min * 60.0:
            return None
        if start_near is None and end_near is None:
            return None
        if self.ignore_in_port and in_port:
            return None
        implied_kn = displacement_m / gap_s / (1852.0 / 3600.0)
        too_far = implied_kn > self.max_plausible_kn
        nowhere = displacement_m < self.nowhere_m
        span = max(self.long_gap_min - self.min_gap_min, 1e-9)
        length = _clip01((gap_s / 60.0 - self.min_gap_min) / span)
        behaviour = 0.5 + 0.25 * length + (0.25 if (too_far or nowhere) else 0.0)
        location = 0.0
        for near in (start_near, end_near):
            if near is None:
                continue
            g, d = near
            location = max(location, place_risk(g) if d <= self.near_pier_m else self.coastal_risk)
        evidence = {
            "gap_min": gap_s / 60.0,
            "displacement_m": displacement_m,
            "implied_speed_kn": implied_kn,
            "too_far": too_far,
            "went_nowhere": nowhere,
            "start_near": _near_dict(start_near),
            "end_near": _near_dict(end_near),
        }
        return {"behaviour": behaviour, "location": location}, evidence


def _near_dict(near: tuple[Geofence, float] | None) -> dict[str, Any] | None:
    return None if near is None else {"geofence_id": near[0].id, "distance_m": near[1]}


@dataclass(frozen=True, slots=True)
class RepeatVisit:
    """The same vessel, or a vessel of the same watch-list group, stops at the same idle
    pier again within ``window_h`` (seed: every 2-3 days, in bursts)."""

    kind: ClassVar[str] = "repeat_visit"
    enabled: bool = True
    kinds: tuple[str, ...] = _IDLE_LANDING_KINDS
    statuses: tuple[str, ...] = ("idle",)
    min_stop_min: float = 20.0  # a visit counts once stopped this long
    window_h: float = 84.0  # 3.5 days: "again within 2-3 days" with a margin
    min_separation_h: float = 12.0  # stops closer than this are the same night, not a repeat
    by_group: bool = True  # chain vessels of one watch-list group together

    def applies_to(self, geofence: Geofence) -> bool:
        return self.enabled and geofence.kind in self.kinds and geofence.status in self.statuses

    def judge(self, *, stops_in_chain: int, geofence: Geofence) -> dict[str, float] | None:
        """Factors for the n-th stop of a chain (n >= 2 fires)."""
        if stops_in_chain < 2 or not self.applies_to(geofence):
            return None
        return {"behaviour": _clip01(0.55 + 0.15 * (stops_in_chain - 1)), "location": place_risk(geofence)}


@dataclass(frozen=True, slots=True)
class Rendezvous:
    """Two vessels close together, both slow, for a while, away from ports (transshipment)."""

    kind: ClassVar[str] = "rendezvous"
    enabled: bool = True
    max_distance_m: float = 200.0
    max_speed_kn: float = 2.0
    min_duration_min: float = 20.0
    min_port_distance_m: float = 3_000.0  # both vessels farther than this from any geofence
    max_time_skew_s: float = 120.0  # fixes of the two vessels compared only if this close in time
    max_pause_min: float = 15.0  # no close sample for this long ends the encounter
    sample_interval_s: float = 30.0  # at most one grid sample per vessel per interval
    location_risk: float = 0.5

    def judge(self, *, duration_s: float, min_distance_m: float) -> dict[str, float] | None:
        if not self.enabled or duration_s < self.min_duration_min * 60.0:
            return None
        closeness = _clip01(1.0 - min_distance_m / max(self.max_distance_m, 1e-9))
        length = _clip01(duration_s / (3.0 * self.min_duration_min * 60.0))
        return {"behaviour": _clip01(0.5 + 0.3 * length + 0.2 * closeness), "location": self.location_risk}


@dataclass(frozen=True, slots=True)
class ScoutBoat:
    """A vessel probes an idle pier (brief visit, no real stop) and leaves; another vessel
    arrives there within ``window_min`` (seed: 探路船 goes first to draw enforcement)."""

    kind: ClassVar[str] = "scout_boat"
    enabled: bool = True
    kinds: tuple[str, ...] = _IDLE_LANDING_KINDS
    statuses: tuple[str, ...] = ("idle",)
    max_stay_min: float = 30.0  # a probe stays at most this long
    max_stop_min: float = 10.0  # ... and is stopped at most this long
    probe_max_speed_kn: float = 4.0  # ... but slows to this (looks around; a boat passing at speed is no probe)
    window_min: float = 180.0  # follower arrives within this after the probe left
    min_lead_min: float = 5.0  # ... and at least this long after the probe arrived
    follower_stop_min: float = 5.0  # the follower counts once it has stopped this long

    def applies_to(self, geofence: Geofence) -> bool:
        return self.enabled and geofence.kind in self.kinds and geofence.status in self.statuses

    def is_probe(self, *, stay_s: float, slow_s: float, min_speed_kn: float | None) -> bool:
        return (
            stay_s <= self.max_stay_min * 60.0
            and slow_s <= self.max_stop_min * 60.0
            and min_speed_kn is not None
            and min_speed_kn <= self.probe_max_speed_kn
        )

    def judge(
        self, *, probe_arrive_s: float, probe_leave_s: float, follower_arrive_s: float, geofence: Geofence
    ) -> dict[str, float] | None:
        if not self.applies_to(geofence):
            return None
        if follower_arrive_s < probe_arrive_s + self.min_lead_min * 60.0:
            return None
        lag_s = follower_arrive_s - probe_leave_s
        if lag_s > self.window_min * 60.0:
            return None
        behaviour = _clip01(1.0 - 0.5 * max(lag_s, 0.0) / (self.window_min * 60.0))
        return {"behaviour": behaviour, "location": place_risk(geofence)}


@dataclass(frozen=True, slots=True)
class VehicleVessel:
    """A watched or unknown vehicle at a checkpoint near a pier while a vessel is stopped
    there (sea -> shoreline -> road: trucks meet the boat)."""

    kind: ClassVar[str] = "vehicle_vessel"
    enabled: bool = True
    kinds: tuple[str, ...] = _IDLE_LANDING_KINDS
    statuses: tuple[str, ...] = ("idle",)
    max_distance_m: float = 3_000.0  # checkpoint to geofence
    min_stop_min: float = 10.0  # the vessel must be stopped this long
    before_min: float = 60.0  # a capture this long before the stop began still counts
    after_min: float = 60.0  # ... or this long after the vessel was last seen there

    def applies_to(self, geofence: Geofence) -> bool:
        return self.enabled and geofence.kind in self.kinds and geofence.status in self.statuses

    def judge(self, *, n_watched: int, n_unknown: int, geofence: Geofence) -> dict[str, float] | None:
        if not self.applies_to(geofence) or (n_watched + n_unknown) == 0:
            return None
        behaviour = 1.0 if n_watched else 0.7
        return {"behaviour": behaviour, "location": place_risk(geofence), "corroboration": 1.0}


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class DetectorSet:
    """One instance of each detector: the settings in force for one area and season."""

    idle_pier_landing: IdlePierLanding = IdlePierLanding()
    dark_vessel: DarkVessel = DarkVessel()
    repeat_visit: RepeatVisit = RepeatVisit()
    rendezvous: Rendezvous = Rendezvous()
    scout_boat: ScoutBoat = ScoutBoat()
    vehicle_vessel: VehicleVessel = VehicleVessel()
    dark_target: DarkTargetRule = DarkTargetRule()

    def get(self, kind: str) -> Any:
        return getattr(self, kind)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        return {f.name: detector_params(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Any]], *, base: DetectorSet | None = None) -> DetectorSet:
        """Build from ``to_dict`` output; missing detectors/params keep ``base``'s values."""
        base = base or cls()
        changes = {}
        for f in fields(cls):
            if f.name in data:
                changes[f.name] = _params_from_dict(getattr(base, f.name), data[f.name])
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown detectors: {sorted(unknown)}")
        return replace(base, **changes)


@dataclass(frozen=True, slots=True)
class AreaSeasonRule:
    """Detector settings for one area (a geofence township; None = any) and an inclusive
    local month range (``(11, 2)`` wraps the year end; None = all year)."""

    detectors: DetectorSet
    area: str | None = None
    months: tuple[int, int] | None = None

    def matches(self, *, area: str, month: int) -> bool:
        if self.area is not None and self.area != area:
            return False
        if self.months is None:
            return True
        lo, hi = self.months
        return lo <= month <= hi if lo <= hi else (month >= lo or month <= hi)


@dataclass(frozen=True)
class DetectorConfig:
    """Detector settings per area and season, plus the tracking/de-duplication knobs.

    ``for_area(area=..., month=...)`` returns the first matching rule's DetectorSet, else
    ``default``; results are cached. Area is the geofence's township for pier-bound
    events, ``""`` for events at sea.
    """

    default: DetectorSet = DetectorSet()
    rules: tuple[AreaSeasonRule, ...] = ()
    visit_exit_grace_min: float = 10.0  # outside this long ends a geofence visit
    reeval_min: float = 5.0  # re-judge an ongoing episode at most this often (event time)
    update_every_min: float = 30.0  # emit an "update" at least this often while it lasts
    update_min_score_delta: float = 2.0  # ... or when the score moves this much
    max_evidence_fixes: int = 24
    history_days: float = 30.0
    episode_retention_h: float = 72.0  # forget closed episodes (dedup records) after this
    _cache: dict[tuple[str, int], DetectorSet] = field(default_factory=dict, init=False, repr=False, compare=False)

    def for_area(self, *, area: str, month: int) -> DetectorSet:
        key = (area, month)
        hit = self._cache.get(key)
        if hit is None:
            hit = self.default
            for rule in self.rules:
                if rule.matches(area=area, month=month):
                    hit = rule.detectors
                    break
            self._cache[key] = hit
        return hit

    def all_sets(self) -> Iterable[DetectorSet]:
        yield self.default
        for rule in self.rules:
            yield rule.detectors

    def min_gap_s(self) -> float:
        """Smallest dark-vessel gap across all rules (the hot-path pre-filter)."""
        return min(s.dark_vessel.min_gap_min for s in self.all_sets()) * 60.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "default": self.default.to_dict(),
            "rules": [
                {"area": r.area, "months": list(r.months) if r.months else None, "detectors": r.detectors.to_dict()}
                for r in self.rules
            ],
            "visit_exit_grace_min": self.visit_exit_grace_min,
            "reeval_min": self.reeval_min,
            "update_every_min": self.update_every_min,
            "update_min_score_delta": self.update_min_score_delta,
            "max_evidence_fixes": self.max_evidence_fixes,
            "history_days": self.history_days,
            "episode_retention_h": self.episode_retention_h,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DetectorConfig:
        """Inverse of :meth:`to_dict`; rule detector sets are partial overrides of ``default``."""
        default = DetectorSet.from_dict(data.get("default", {}))
        rules = tuple(
            AreaSeasonRule(
                detectors=DetectorSet.from_dict(r.get("detectors", {}), base=default),
                area=r.get("area"),
                months=tuple(r["months"]) if r.get("months") else None,  # type: ignore[arg-type]
            )
            for r in data.get("rules", ())
        )
        knobs = {
            k: data[k]
            for k in (
                "visit_exit_grace_min",
                "reeval_min",
                "update_every_min",
                "update_min_score_delta",
                "max_evidence_fixes",
                "history_days",
                "episode_retention_h",
            )
            if k in data
        }
        return cls(default=default, rules=rules, **knobs)


def detector_params(detector: Any) -> dict[str, Any]:
    """A detector's thresholds as JSON-safe primitives (times as ``"HH:MM"``)."""
    out: dict[str, Any] = {}
    for f in fields(detector):
        v = getattr(detector, f.name)
        if isinstance(v, time):
            v = v.strftime("%H:%M")
        elif isinstance(v, tuple):
            v = list(v)
        out[f.name] = v
    return out


def _params_from_dict(base: Any, data: Mapping[str, Any]) -> Any:
    names = {f.name for f in fields(base)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{type(base).__name__}: unknown parameters {sorted(unknown)}")
    changes: dict[str, Any] = {}
    for name, raw in data.items():
        current = getattr(base, name)
        if isinstance(current, bool):
            changes[name] = bool(raw)
        elif isinstance(current, time):
            changes[name] = raw if isinstance(raw, time) else time.fromisoformat(str(raw))
        elif isinstance(current, tuple):
            changes[name] = tuple(raw)
        elif isinstance(current, float):
            changes[name] = float(raw)
        else:
            changes[name] = raw
    return replace(base, **changes)

