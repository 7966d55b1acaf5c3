"""Track pipeline: position fixes -> geofences -> trackers -> scored, de-duplicated warnings.

One :class:`TrackPipeline` per worker. ``process(fixes)`` takes a batch (any vessels, any
order, any time zone), and returns :class:`WarningEvent` objects: ``action="new"`` the first
time an episode reaches a level, ``"update"`` while it goes on and changes (level, score,
end, closed). Everything is a function of the fixes and the state; the time is always the
fix time (no wall clock), so replaying stored fixes through a fresh pipeline gives the same
warnings.

The pipeline has no detector logic of its own: one small tracker per episode kind does the
judging (:mod:`.trackers`: gaps -> dark_vessel, visits -> idle_pier_landing, repeats,
vehicles, scouts, encounters -> rendezvous). The pipeline

1. pulls columns out of the batch once, with the geofence of every fix from one vectorised
   ``GeofenceIndex.locate`` call, and lets each tracker pre-select from them (``begin``);
2. walks the fixes in global time order (ties by vessel id); a fix not newer than its
   vessel's last one is counted and ignored (out of order, duplicate); a missing speed is
   derived from the previous fix; each fix goes to every tracker (``on_fix``), and every
   tracker hears event time move on (``tick``, ``end``);
3. adds the context factors to what the trackers found (watch list, registry, holiday,
   history: :meth:`TrackPipeline._emit`), scores it with the AHP weights (:mod:`.ahp`) and
   de-duplicates per ``episode_key`` (:meth:`TrackPipeline._warn`).

State
-----
All state is plain dataclasses (:mod:`.state`) held in a :class:`StateStore` under keys
``vessel:<id>``, ``site:<geofence id>`` (per-pier history: recent visits, repeat chains,
vehicle captures) and ``rendezvous`` (the encounter grid). Per-vessel state needs
per-vessel ordering only; the ``site:`` and ``rendezvous`` keys are shared between vessels,
so the trackers that use them (repeats by group, scouts, vehicles, encounters) see every
vessel only when one worker owns an area (the detect step runs under one lock).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Final

import numpy as np

from apps.elements.domain.ahp import DEFAULT_THRESHOLDS, default_weights, level_for, score
from apps.elements.domain.detectors import (
    LOCAL_TZ,
    DetectorConfig,
    DetectorSet,
    Finding,
    LocalClock,
    detector_params,
    holiday_flag,
    utc_dt,
)
from apps.elements.domain.geo_units import MS_PER_KNOT, haversine_m
from apps.elements.domain.geometry import Geofence, GeofenceIndex
from apps.elements.domain.model import PositionFix, TideWindow, VehicleCapture
from apps.elements.domain.rejudge import LateData
from apps.elements.domain.state import (
    InMemoryStateStore,
    RendezvousState,
    SiteState,
    State,
    StateStore,
    VesselState,
    VisitState,
    fix_from_dict,
    fix_to_dict,
    fixes_to_list,
    state_from_dict,
)
from apps.elements.domain.trackers import DEFAULT_TRACKERS, Batch, FixColumns, Tracker, VehicleTracker
from apps.elements.domain.tracks import DEFAULT_SOURCES, SourceProfile, source_profile

__all__ = [
    "InMemoryStateStore",
    "RendezvousState",
    "SiteState",
    "State",
    "StateStore",
    "TrackPipeline",
    "VesselState",
    "VisitState",
    "WarningEvent",
    "fix_from_dict",
    "fix_to_dict",
    "state_from_dict",
]

_NAN: Final[float] = float("nan")
_SWEEP_EVERY_S: Final[float] = 60.0
#: Re-judging a target after late data replays its stored fixes from this long before the
#: earliest late fix (covers a landing's approach and stay; longer episodes are re-found by overlap).
REJUDGE_LOOKBACK_S: Final[float] = 6 * 3600.0
#: Earlier findings count as history only when they started this much earlier (a dark
#: gap or a scout on the same night is evidence of *this* episode, not history).
_HISTORY_MIN_SEPARATION_S: Final[float] = 6 * 3600.0


# --------------------------------------------------------------------------- warnings


# --------------------------------------------------------------------------- warnings


@dataclass(frozen=True, slots=True)
class WarningEvent:
    """A warning to create (``action="new"``) or to update in place (``"update"``).

    ``level`` is red/orange/yellow/blue; on an update it may be None when the score fell
    below the blue threshold. ``rule`` holds the detector's parameters, area and month,
    the AHP weights and level thresholds used, so the score can be re-derived.
    """

    action: str
    episode_key: str
    kind: str
    level: str | None
    score: float
    vessels: tuple[str, ...]
    geofence_id: str | int | None
    geofence_name: str | None
    start: datetime
    end: datetime
    ongoing: bool
    factors: Mapping[str, float]
    contributions: Mapping[str, float]
    rule: Mapping[str, Any]
    tide_window: TideWindow | None
    fixes: tuple[PositionFix, ...]
    evidence: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form for the warning's evidence column."""
        tw = self.tide_window
        return {
            "action": self.action,
            "episode_key": self.episode_key,
            "kind": self.kind,
            "level": self.level,
            "score": self.score,
            "vessels": list(self.vessels),
            "geofence_id": self.geofence_id,
            "geofence_name": self.geofence_name,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "ongoing": self.ongoing,
            "factors": dict(self.factors),
            "contributions": dict(self.contributions),
            "rule": _json_safe(self.rule),
            "tide_window": None
            if tw is None
            else {"start": tw.start.isoformat(), "peak": tw.peak.isoformat(), "end": tw.end.isoformat()},
            "fixes": fixes_to_list(self.fixes),
            "evidence": _json_safe(self.evidence),
        }


def _json_safe(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, PositionFix):
        return fix_to_dict(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# --------------------------------------------------------------------------- pipeline


class TrackPipeline(LateData):
    """Geofence -> trackers -> AHP score -> de-duplicated warnings, batch by batch.

    :param geofences: the watched places (a :class:`GeofenceIndex` or geofences to index).
    :param config: detector settings per area/season and tracking knobs.
    :param weights: AHP weights per factor (default: :func:`ahp.default_weights`).
    :param thresholds: level lower bounds (default :data:`ahp.DEFAULT_THRESHOLDS`).
    :param tide_window_at: high-water window containing a time, or None
        (e.g. ``tides.TideSchedule.window_at``).
    :param holidays: local dates that are public holidays.
    :param watchlist: vessel id -> watch-list group name.
    :param known_vessels: the vessel registry (ids, or a predicate); None: all known.
    :param state_store: where state lives between batches (default: in memory).
    :param vehicle_watchlist: watched plates (normalised).
    :param known_vehicles: registered plates (or a predicate); None: all known.
    :param checkpoints: checkpoint id -> (lon, lat), for captures without coordinates.
    :param tz: zone in which night, months and holidays are judged.
    :param trackers: the trackers to run, in order (classes or fresh instances; default
        :data:`trackers.DEFAULT_TRACKERS`).
    :param sources: per-source profiles (interpolation limit, allowed lateness) over
        :data:`tracks.DEFAULT_SOURCES`.
    :param history_near: ``(lon0, lat0, lon1, lat1, t0_s, t1_s) -> [PositionFix]``, the stored
        fixes of every vessel in a box and time range (late samples meet them).
    :param history: ``(target_id, t0_s, t1_s) -> [PositionFix]``, one target's stored fixes
        (late fixes included): with it, a fix older than its target's judged horizon re-judges
        the target from ``rejudge_lookback_s`` before the late fix (see :meth:`_rejudge`).
    """

    def __init__(
        self,
        *,
        geofences: GeofenceIndex | Sequence[Geofence],
        config: DetectorConfig | None = None,
        weights: Mapping[str, float] | None = None,
        thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS,
        tide_window_at: Callable[[datetime], TideWindow | None] | None = None,
        holidays: Collection[date] = frozenset(),
        watchlist: Mapping[str, str] | None = None,
        known_vessels: Collection[str] | Callable[[str], bool] | None = None,
        state_store: StateStore | None = None,
        vehicle_watchlist: Collection[str] = frozenset(),
        known_vehicles: Collection[str] | Callable[[str], bool] | None = None,
        checkpoints: Mapping[str, tuple[float, float]] | None = None,
        tz: tzinfo = LOCAL_TZ,
        trackers: Sequence[type[Tracker] | Tracker] = DEFAULT_TRACKERS,
        sources: Mapping[str, SourceProfile] | None = None,
        history_near: Callable[[float, float, float, float, float, float], list[PositionFix]] | None = None,
        history: Callable[[str, float, float], list[PositionFix]] | None = None,
        rejudge_lookback_s: float = REJUDGE_LOOKBACK_S,
    ) -> None:
        self.index = geofences if isinstance(geofences, GeofenceIndex) else GeofenceIndex(geofences)
        self.config = config or DetectorConfig()
        self.weights = dict(weights) if weights is not None else dict(default_weights())
        self.thresholds = dict(thresholds)
        level_for(0.0, thresholds=self.thresholds)  # validates the thresholds
        self.tide_window_at = tide_window_at
        self.holidays = frozenset(holidays)
        self.watchlist = dict(watchlist or {})
        self._is_known_vessel = _predicate(known_vessels)
        self.store: StateStore = state_store if state_store is not None else InMemoryStateStore()
        self.vehicle_watchlist = frozenset(vehicle_watchlist)
        self.is_known_vehicle = _predicate(known_vehicles)
        self.checkpoints = dict(checkpoints or {})
        self.clock = LocalClock(tz)
        self.reeval_s = self.config.reeval_min * 60.0
        self.sources: dict[str, SourceProfile] = {**DEFAULT_SOURCES, **(sources or {})}
        self.interpolation_limits = {k: v.interpolation_limit_s for k, v in self.sources.items()}
        self.max_interpolation_s = max(self.interpolation_limits.values())
        self.history_near = history_near
        self.history = history
        self.rejudge_lookback_s = rejudge_lookback_s
        self._tolerance_s = self.config.visit_exit_grace_min * 60.0 + self.reeval_s
        self.stats = {"fixes": 0, "ignored_out_of_order": 0, "findings": 0, "warnings": 0, "captures_skipped": 0}
        self.trackers: list[Tracker] = [t() if isinstance(t, type) else t for t in trackers]
        for t in self.trackers:
            t.bind(self)
        for t in self.trackers:
            t.connect(self.trackers)

    # ------------------------------------------------------------------ public API

    def process(self, fixes: Sequence[PositionFix]) -> list[WarningEvent]:
        """Run a batch of fixes; return the warnings to create or update."""
        batch = Batch(self.store)
        self._detect(batch, fixes)
        out = self._warn(batch, batch.findings)
        batch.persist()
        return out

    def detect(self, fixes: Sequence[PositionFix]) -> list[Finding]:
        """Like :meth:`process` but return the raw findings (every evaluation, any score).

        Advances the same state: use either ``detect`` or ``process`` on a stream.
        """
        batch = Batch(self.store)
        self._detect(batch, fixes)
        batch.persist()
        return batch.findings

    def process_vehicle_captures(self, captures: Sequence[VehicleCapture]) -> list[WarningEvent]:
        """Match checkpoint captures of watched/unknown vehicles with vessel stops nearby."""
        batch = Batch(self.store)
        self._captures(batch, captures)
        out = self._warn(batch, batch.findings)
        batch.persist()
        return out

    def detect_vehicle_captures(self, captures: Sequence[VehicleCapture]) -> list[Finding]:
        batch = Batch(self.store)
        self._captures(batch, captures)
        batch.persist()
        return batch.findings

    # ------------------------------------------------------------------ tracker context

    def tracker(self, name: str) -> Tracker:
        for t in self.trackers:
            if t.name == name:
                return t
        raise KeyError(name)

    def geofence(self, geofence_id: str | int) -> Geofence | None:
        try:
            return self.index.geofences[self.index.index_of(geofence_id)]
        except KeyError:
            return None

    def allowed_lateness(self, source: str) -> float:
        return source_profile(source, self.sources).allowed_lateness_s

    def det_for(self, gfo: Geofence, month: int) -> DetectorSet:
        return self.config.for_area(area=gfo.township, month=month)

    def emit(self, b: Batch, **kwargs: Any) -> None:
        """What trackers call with a finding (a subclass may override :meth:`_emit`)."""
        self._emit(b, **kwargs)

    # ------------------------------------------------------------------ the walk

    def _columns(self, fixes: Sequence[PositionFix]) -> FixColumns:
        n = len(fixes)
        vids = [f.vessel_id for f in fixes]
        stamps = [f.ts for f in fixes]
        if any(s.tzinfo is None for s in stamps):
            raise ValueError("PositionFix.ts must be timezone-aware")
        ts = np.fromiter((s.timestamp() for s in stamps), dtype=np.float64, count=n)
        lon = np.fromiter((f.lon for f in fixes), dtype=np.float64, count=n)
        lat = np.fromiter((f.lat for f in fixes), dtype=np.float64, count=n)
        sog = np.fromiter((_NAN if f.sog_kn is None else f.sog_kn for f in fixes), dtype=np.float64, count=n)
        gf = self.index.locate(lon, lat)
        return FixColumns(
            fixes=fixes,
            vids=vids,
            ts=ts,
            lon=lon,
            lat=lat,
            sog=sog,
            gf=gf,
            ts_l=ts.tolist(),
            lon_l=lon.tolist(),
            lat_l=lat.tolist(),
            gf_l=gf.tolist(),
        )

    def _detect(self, b: Batch, fixes: Sequence[PositionFix]) -> None:
        n = len(fixes)
        if n == 0:
            return
        cols = self._columns(fixes)
        b.cols = cols
        trackers = self.trackers
        vids = cols.vids
        order = np.lexsort((np.array(vids), cols.ts)).tolist()
        b.load_vessels(set(vids))
        states = b.vessels
        if self.history is not None:
            self._rejudge_late(b, cols)  # before begin(): re-judging runs the trackers on other columns
        for tr in trackers:
            tr.begin(b, cols)
        ts_l = cols.ts_l
        lon_l = cols.lon_l
        lat_l = cols.lat_l
        sog_l = cols.sog.tolist()
        ignored = 0
        next_sweep_s = -math.inf
        for i in order:
            vid = vids[i]
            t = ts_l[i]
            if t >= next_sweep_s:
                # Event time moved on (e.g. close visits their vessels left > grace ago).
                for tr in trackers:
                    tr.tick(b, t)
                next_sweep_s = t + _SWEEP_EVERY_S
            st = states[vid]
            last_s = st.last_s
            if last_s is not None and t <= last_s:
                st.n_ignored += 1
                ignored += 1
                for tr in trackers:
                    tr.on_late_fix(b, st, i, fixes[i], t, sog_l[i])
                continue
            fix = fixes[i]
            sp = sog_l[i]
            if sp != sp and last_s is not None:  # no SOG: derive it from the last fix
                lf = st.last_fix
                assert lf is not None
                sp = haversine_m(lf.lon, lf.lat, lon_l[i], lat_l[i]) / (t - last_s) / MS_PER_KNOT
            for tr in trackers:
                tr.on_fix(b, st, i, fix, t, sp)
            st.last_s = t
            st.last_fix = fix
            st.last_speed_kn = None if sp != sp else sp
            st.n_fixes += 1
        self.stats["fixes"] += n - ignored
        self.stats["ignored_out_of_order"] += ignored
        now_s = float(cols.ts.max())
        for tr in trackers:
            tr.end(b, now_s)

    def withdraw(
        self,
        b: Batch,
        key: str,
        *,
        kind: str,
        vessels: tuple[str, ...],
        start_s: float,
        end_s: float,
        reason: str,
        detail: dict[str, Any],
    ) -> None:
        """Withdraw the warning of an episode that is no more (``reason``: ``disproved_by_late_data``,
        ``merged``); nothing happens if no warning was sent for it."""
        owner = b.vessel(vessels[0])
        if owner.episodes is None or owner.episodes.pop(key, None) is None:
            return
        b.withdrawn.append(
            WarningEvent(
                action="withdraw",
                episode_key=key,
                kind=kind,
                level=None,
                score=0.0,
                vessels=vessels,
                geofence_id=None,
                geofence_name=None,
                start=utc_dt(start_s),
                end=utc_dt(end_s),
                ongoing=False,
                factors={},
                contributions={},
                rule={},
                tide_window=None,
                fixes=(),
                evidence={"reason": reason, **detail},
            )
        )

    def _captures(self, b: Batch, captures: Sequence[VehicleCapture]) -> None:
        for tr in self.trackers:
            if isinstance(tr, VehicleTracker):
                tr.on_captures(b, captures)

    # ------------------------------------------------------------------ findings and warnings

    def _emit(
        self,
        b: Batch,
        *,
        kind: str,
        vessels: tuple[str, ...],
        geofence: Geofence | None,
        start_s: float,
        end_s: float,
        factors: dict[str, float],
        evidence: dict[str, Any],
        key: str,
        ongoing: bool,
        fixes: Sequence[PositionFix],
        tide_window: TideWindow | None,
        detector: Any,
        area: str,
        month: int,
    ) -> None:
        """Add the context factors (watch list, registry, holiday, history) and record it."""
        groups = {v: self.watchlist[v] for v in vessels if v in self.watchlist}
        unknown = [v for v in vessels if not self._is_known_vessel(v)]
        factors["watchlist"] = 1.0 if groups else 0.0
        factors["unknown_vessel"] = 1.0 if unknown else 0.0
        factors["holiday"] = 1.0 if holiday_flag(start_s, clock=self.clock, holidays=self.holidays) else 0.0
        history_s = self.config.history_days * 86400.0
        prior = 0
        for vid in vessels:
            vst = b.vessel(vid)
            hist = vst.history
            if hist is None:
                hist = vst.history = []
            if hist and hist[0][0] < start_s - history_s:
                hist[:] = [h for h in hist if h[0] >= start_s - history_s]
            keys = {h[2] for h in hist if h[0] < start_s - _HISTORY_MIN_SEPARATION_S and h[2] != key}
            prior = max(prior, len(keys))
            if not any(h[2] == key for h in hist[-8:]):
                hist.append([start_s, kind, key])
        factors["history"] = min(prior / 3.0, 1.0)
        evidence = dict(evidence)
        if groups:
            evidence["watchlist_groups"] = groups
        if unknown:
            evidence["unknown_vessels"] = unknown
        finding = Finding(
            kind=kind,
            vessels=vessels,
            geofence_id=None if geofence is None else geofence.id,
            start=utc_dt(start_s),
            end=utc_dt(end_s),
            factors=factors,
            evidence=evidence,
            episode_key=key,
            ongoing=ongoing,
            fixes=tuple(fixes),
            tide_window=tide_window,
            rule={"detector": kind, "params": detector_params(detector), "area": area, "month": month},
            area=area,
        )
        b.findings.append(finding)
        self.stats["findings"] += 1

    def _warn(self, b: Batch, findings: Sequence[Finding]) -> list[WarningEvent]:
        out: list[WarningEvent] = []
        cfg = self.config
        every_s = cfg.update_every_min * 60.0
        retention_s = cfg.episode_retention_h * 3600.0
        for f in findings:
            sc, contributions = score(f.factors, weights=self.weights)
            level = level_for(sc, thresholds=self.thresholds)
            owner = b.vessel(f.vessels[0])
            eps = owner.episodes
            if eps is None:
                eps = owner.episodes = {}
            end_s = f.end.timestamp()
            key = owner.aliases.get(f.episode_key, f.episode_key) if owner.aliases else f.episode_key
            rec = eps.get(key)
            if rec is None:
                if level is None:
                    continue
                action = "new"
            else:
                prev_level, prev_score, prev_end_s, prev_ongoing = rec[:4]
                prev_kind = rec[5] if len(rec) > 5 else f.kind
                if (
                    level == prev_level
                    and abs(sc - prev_score) < cfg.update_min_score_delta
                    and f.ongoing == prev_ongoing
                    and end_s - prev_end_s < every_s
                    and f.kind == prev_kind
                ):
                    continue
                action = "update"
            eps[key] = [level, sc, end_s, f.ongoing, f.start.timestamp(), f.kind]
            if len(eps) > 16:
                for k in [k for k, r in eps.items() if not r[3] and r[2] < end_s - retention_s]:
                    del eps[k]
            gfo = None if f.geofence_id is None else self.geofence(f.geofence_id)
            rule = {**f.rule, "weights": dict(self.weights), "thresholds": dict(self.thresholds)}
            out.append(
                WarningEvent(
                    action=action,
                    episode_key=key,
                    kind=f.kind,
                    level=level,
                    score=round(sc, 3),
                    vessels=f.vessels,
                    geofence_id=f.geofence_id,
                    geofence_name=None if gfo is None else gfo.name,
                    start=f.start,
                    end=f.end,
                    ongoing=f.ongoing,
                    factors=dict(f.factors),
                    contributions={k: round(v, 3) for k, v in contributions.items()},
                    rule=rule,
                    tide_window=f.tide_window,
                    fixes=f.fixes,
                    evidence=f.evidence,
                )
            )
        out.extend(b.withdrawn)
        b.withdrawn = []
        self.stats["warnings"] += len(out)
        return out


def _predicate(known: Collection[str] | Callable[[str], bool] | None) -> Callable[[str], bool]:
    if known is None:
        return lambda _vid: True
    if callable(known) and not isinstance(known, (set, frozenset, dict, list, tuple)):
        return known
    members = frozenset(known)  # type: ignore[arg-type]
    return members.__contains__
