"""Track pipeline: position fixes -> geofences -> detectors -> scored, de-duplicated warnings.

One :class:`TrackPipeline` per worker. ``process(fixes)`` takes a batch (any vessels, any
order, any time zone), and returns :class:`WarningEvent` objects: ``action="new"`` the first
time an episode reaches a level, ``"update"`` while it goes on and changes (level, score,
end, closed). Everything is a function of the fixes and the state; the time is always the
fix time (no wall clock), so replaying stored fixes through a fresh pipeline gives the same
warnings.

How a batch runs
----------------
1. Columns are pulled out of the fixes once; the geofence of every fix comes from one
   vectorised ``GeofenceIndex.locate`` call; rendezvous candidates (slow, outside and away
   from every geofence) from one vectorised distance query.
2. Fixes are walked in global time order (ties by vessel id). A fix not newer than its
   vessel's last one is counted and ignored for detector state (out of order, duplicate).
3. Per vessel the walk keeps: the last fix, the open geofence visit (stopped time, night
   time, longest silence, a short ring of evidence fixes), dedup records and history.
   Reporting gaps go to the dark-vessel rule; visits feed landing, repeat, scout and
   vehicle rules; slow fixes at sea go to a coarse grid that pairs vessels for rendezvous.
4. Findings are scored with the AHP weights (:mod:`.ahp`) and de-duplicated per
   ``episode_key``.

State
-----
All state is plain dataclasses with ``to_dict``/``from_dict`` (JSON-safe), held in a
:class:`StateStore` under keys ``vessel:<id>``, ``site:<geofence id>`` (per-pier history:
recent visits, repeat chains, vehicle captures) and ``rendezvous`` (the encounter grid).
``InMemoryStateStore`` keeps live objects; a Redis store (Django side) serialises with
``to_dict`` and rebuilds with :func:`state_from_dict`. Per-vessel state needs per-vessel
ordering only; the ``site:`` and ``rendezvous`` keys are shared between vessels, so the
rules that use them (repeat by group, scout, vehicle, rendezvous) see every vessel only
when one worker owns an area (partition the stream by sea area, or by vessel with one
dedicated worker for the cross-vessel rules).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any, Final, Protocol

import numpy as np

from apps.elements.domain.ahp import DEFAULT_THRESHOLDS, default_weights, level_for, score
from apps.elements.domain.detectors import (
    LOCAL_TZ,
    DetectorConfig,
    DetectorSet,
    Finding,
    LocalClock,
    Rendezvous,
    VehicleVessel,
    detector_params,
    holiday_flag,
    tide_proximity,
    utc_dt,
)
from apps.elements.domain.geo_units import MS_PER_KNOT, haversine_m
from apps.elements.domain.geometry import Geofence, GeofenceIndex
from apps.elements.domain.model import PositionFix, TideWindow, VehicleCapture

__all__ = [
    "InMemoryStateStore",
    "RendezvousState",
    "SiteState",
    "StateStore",
    "TrackPipeline",
    "VesselState",
    "VisitState",
    "WarningEvent",
    "fix_from_dict",
    "fix_to_dict",
    "state_from_dict",
]

VESSEL_PREFIX: Final[str] = "vessel:"
SITE_PREFIX: Final[str] = "site:"
RENDEZVOUS_KEY: Final[str] = "rendezvous"

_NAN: Final[float] = float("nan")
_SITE_RETENTION_S: Final[float] = 4.5 * 86400.0  # covers the 3.5-day repeat window
_SITE_MAX_CAPTURES: Final[int] = 500
_SWEEP_EVERY_S: Final[float] = 60.0
_CHAIN_MAX_STOPS: Final[int] = 20  # evidence kept per repeat-visit burst (the count goes on)
#: Earlier findings count as history only when they started this much earlier (a dark
#: gap or a scout on the same night is evidence of *this* episode, not history).
_HISTORY_MIN_SEPARATION_S: Final[float] = 6 * 3600.0


# --------------------------------------------------------------------------- serialisation


def fix_to_dict(fix: PositionFix) -> dict[str, Any]:
    """A fix as JSON-safe primitives (ISO-8601 time with offset)."""
    return {
        "source": fix.source,
        "vessel_id": fix.vessel_id,
        "ts": fix.ts.isoformat(),
        "lon": fix.lon,
        "lat": fix.lat,
        "sog_kn": fix.sog_kn,
        "cog_deg": fix.cog_deg,
    }


def fix_from_dict(data: Mapping[str, Any]) -> PositionFix:
    return PositionFix(
        source=data["source"],
        vessel_id=data["vessel_id"],
        ts=datetime.fromisoformat(data["ts"]),
        lon=float(data["lon"]),
        lat=float(data["lat"]),
        sog_kn=data.get("sog_kn"),
        cog_deg=data.get("cog_deg"),
    )


def _fixes_to_list(fixes: Sequence[PositionFix]) -> list[dict[str, Any]]:
    return [fix_to_dict(f) for f in fixes]


def _fixes_from_list(data: Sequence[Mapping[str, Any]]) -> list[PositionFix]:
    return [fix_from_dict(d) for d in data]


def _stamp(t_s: float) -> str:
    return utc_dt(t_s).strftime("%Y%m%dT%H%M%SZ")


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class VisitState:
    """A vessel's current stay in one geofence (ends after ``visit_exit_grace_min`` outside)."""

    geofence_id: str | int
    arrive_s: float
    last_in_s: float
    month: int
    slow_s: float = 0.0  # stopped time inside (between consecutive stopped fixes inside)
    night_slow_s: float = 0.0  # ... of which in the landing rule's night window
    stop_start_s: float | None = None
    prev_slow: bool = False
    max_gap_s: float = 0.0  # longest silence between two fixes inside
    n_in: int = 0
    first_fix: PositionFix | None = None
    recent: list[PositionFix] = field(default_factory=list)
    landing_key: str | None = None
    last_eval_s: float = 0.0
    repeat_done: bool = False
    vehicle_done: bool = False
    scout_done: bool = False
    min_speed_kn: float | None = None
    scouted_by: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "geofence_id": self.geofence_id,
            "arrive_s": self.arrive_s,
            "last_in_s": self.last_in_s,
            "month": self.month,
            "slow_s": self.slow_s,
            "night_slow_s": self.night_slow_s,
            "stop_start_s": self.stop_start_s,
            "prev_slow": self.prev_slow,
            "max_gap_s": self.max_gap_s,
            "n_in": self.n_in,
            "first_fix": None if self.first_fix is None else fix_to_dict(self.first_fix),
            "recent": _fixes_to_list(self.recent),
            "landing_key": self.landing_key,
            "last_eval_s": self.last_eval_s,
            "repeat_done": self.repeat_done,
            "vehicle_done": self.vehicle_done,
            "scout_done": self.scout_done,
            "min_speed_kn": self.min_speed_kn,
            "scouted_by": list(self.scouted_by),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VisitState:
        return cls(
            geofence_id=d["geofence_id"],
            arrive_s=d["arrive_s"],
            last_in_s=d["last_in_s"],
            month=d["month"],
            slow_s=d["slow_s"],
            night_slow_s=d["night_slow_s"],
            stop_start_s=d["stop_start_s"],
            prev_slow=d["prev_slow"],
            max_gap_s=d["max_gap_s"],
            n_in=d["n_in"],
            first_fix=None if d["first_fix"] is None else fix_from_dict(d["first_fix"]),
            recent=_fixes_from_list(d["recent"]),
            landing_key=d["landing_key"],
            last_eval_s=d["last_eval_s"],
            repeat_done=d["repeat_done"],
            vehicle_done=d["vehicle_done"],
            scout_done=d["scout_done"],
            min_speed_kn=d["min_speed_kn"],
            scouted_by=list(d["scouted_by"]),
        )


@dataclass(slots=True)
class VesselState:
    """Everything the pipeline remembers about one vessel (a few hundred bytes at sea)."""

    vessel_id: str
    last_s: float | None = None
    last_fix: PositionFix | None = None
    last_speed_kn: float | None = None
    n_fixes: int = 0
    n_ignored: int = 0
    visit: VisitState | None = None
    rv_last_s: float | None = None
    #: episode_key -> [level, score, emitted end_s, ongoing, start_s] of the last warning sent
    episodes: dict[str, list[Any]] | None = None
    #: [start_s, kind, episode_key] of earlier findings (for the ``history`` factor)
    history: list[list[Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "vessel",
            "vessel_id": self.vessel_id,
            "last_s": self.last_s,
            "last_fix": None if self.last_fix is None else fix_to_dict(self.last_fix),
            "last_speed_kn": self.last_speed_kn,
            "n_fixes": self.n_fixes,
            "n_ignored": self.n_ignored,
            "visit": None if self.visit is None else self.visit.to_dict(),
            "rv_last_s": self.rv_last_s,
            "episodes": None if self.episodes is None else {k: list(v) for k, v in self.episodes.items()},
            "history": None if self.history is None else [list(h) for h in self.history],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VesselState:
        return cls(
            vessel_id=d["vessel_id"],
            last_s=d["last_s"],
            last_fix=None if d["last_fix"] is None else fix_from_dict(d["last_fix"]),
            last_speed_kn=d["last_speed_kn"],
            n_fixes=d["n_fixes"],
            n_ignored=d["n_ignored"],
            visit=None if d["visit"] is None else VisitState.from_dict(d["visit"]),
            rv_last_s=d["rv_last_s"],
            episodes=None if d["episodes"] is None else {k: list(v) for k, v in d["episodes"].items()},
            history=None if d["history"] is None else [list(h) for h in d["history"]],
        )


@dataclass(slots=True)
class SiteState:
    """Per-geofence memory shared by vessels: recent visits, repeat chains, captures.

    ``visits`` records: vessel, group, arrive_s, last_s, leave_s (None while open), stop_s
    (stop start once the vessel stopped long enough for the vehicle rule), slow_s, probe
    (closed as a scout probe), fixes (first and latest fix), hits (matched captures).
    """

    geofence_id: str | int
    visits: list[dict[str, Any]] = field(default_factory=list)
    chains: dict[str, dict[str, Any]] = field(default_factory=dict)
    captures: list[dict[str, Any]] = field(default_factory=list)

    def find_visit(self, vessel_id: str, arrive_s: float) -> dict[str, Any] | None:
        for rec in reversed(self.visits):
            if rec["vessel"] == vessel_id and rec["arrive_s"] == arrive_s:
                return rec
        return None

    def prune(self, now_s: float) -> None:
        horizon = now_s - _SITE_RETENTION_S
        if self.visits and self.visits[0]["arrive_s"] < horizon:
            self.visits = [r for r in self.visits if r["leave_s"] is None or r["leave_s"] >= horizon]
        if self.captures and (self.captures[0]["ts_s"] < horizon or len(self.captures) > _SITE_MAX_CAPTURES):
            self.captures = [c for c in self.captures if c["ts_s"] >= horizon][-_SITE_MAX_CAPTURES:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "site",
            "geofence_id": self.geofence_id,
            "visits": [{**r, "fixes": _fixes_to_list(r["fixes"])} for r in self.visits],
            "chains": {k: {**c, "stops": [list(s) for s in c["stops"]]} for k, c in self.chains.items()},
            "captures": [dict(c) for c in self.captures],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SiteState:
        return cls(
            geofence_id=d["geofence_id"],
            visits=[
                {**r, "fixes": _fixes_from_list(r["fixes"]), "hits": [dict(h) for h in r["hits"]]} for r in d["visits"]
            ],
            chains={k: {**c, "stops": [list(s) for s in c["stops"]]} for k, c in d["chains"].items()},
            captures=[dict(c) for c in d["captures"]],
        )


@dataclass(slots=True)
class RendezvousState:
    """The encounter grid: latest slow sample per vessel per cell, and open vessel pairs."""

    cells: dict[tuple[int, int], dict[str, tuple[float, float, float, PositionFix]]] = field(default_factory=dict)
    cell_of: dict[str, tuple[int, int]] = field(default_factory=dict)
    pairs: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def remove(self, vessel_id: str) -> None:
        key = self.cell_of.pop(vessel_id, None)
        if key is not None:
            cell = self.cells.get(key)
            if cell is not None:
                cell.pop(vessel_id, None)
                if not cell:
                    del self.cells[key]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "rendezvous",
            "cells": [
                [cx, cy, [[vid, t, lon, lat, fix_to_dict(fx)] for vid, (t, lon, lat, fx) in cell.items()]]
                for (cx, cy), cell in self.cells.items()
            ],
            "pairs": [
                {**p, "first_fixes": _fixes_to_list(p["first_fixes"]), "last_fixes": _fixes_to_list(p["last_fixes"])}
                for p in self.pairs.values()
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RendezvousState:
        st = cls()
        for cx, cy, entries in d["cells"]:
            cell: dict[str, tuple[float, float, float, PositionFix]] = {}
            for vid, t, lon, lat, fx in entries:
                cell[vid] = (t, lon, lat, fix_from_dict(fx))
                st.cell_of[vid] = (cx, cy)
            st.cells[(cx, cy)] = cell
        for p in d["pairs"]:
            st.pairs[(p["a"], p["b"])] = {
                **p,
                "first_fixes": _fixes_from_list(p["first_fixes"]),
                "last_fixes": _fixes_from_list(p["last_fixes"]),
            }
        return st


State = VesselState | SiteState | RendezvousState


def state_from_dict(data: Mapping[str, Any]) -> State:
    """Rebuild any state object from its ``to_dict`` output (dispatch on ``type``)."""
    kind = data.get("type")
    if kind == "vessel":
        return VesselState.from_dict(data)
    if kind == "site":
        return SiteState.from_dict(data)
    if kind == "rendezvous":
        return RendezvousState.from_dict(data)
    raise ValueError(f"unknown state type {kind!r}")


class StateStore(Protocol):
    """Where the pipeline keeps state between batches (keys: see module docstring).

    ``get_many`` returns only the keys it has; ``put_many`` replaces whole values. The
    Redis implementation stores ``json.dumps(state.to_dict())`` and rebuilds with
    :func:`state_from_dict`.
    """

    def get_many(self, keys: Collection[str]) -> dict[str, State]: ...

    def put_many(self, items: Mapping[str, State]) -> None: ...


class InMemoryStateStore:
    """A dict. With ``serialise=True`` values go through JSON on every put/get (what a
    Redis store does), to prove the state survives serialisation."""

    def __init__(self, *, serialise: bool = False) -> None:
        self._data: dict[str, Any] = {}
        self._serialise = serialise

    def get_many(self, keys: Collection[str]) -> dict[str, State]:
        data = self._data
        if not self._serialise:
            return {k: data[k] for k in keys if k in data}
        import json

        return {k: state_from_dict(json.loads(data[k])) for k in keys if k in data}

    def put_many(self, items: Mapping[str, State]) -> None:
        if not self._serialise:
            self._data.update(items)
            return
        import json

        for k, v in items.items():
            self._data[k] = json.dumps(v.to_dict(), ensure_ascii=False, allow_nan=False)

    def __len__(self) -> int:
        return len(self._data)

    def keys(self) -> list[str]:
        return list(self._data)


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
            "fixes": _fixes_to_list(self.fixes),
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


class _Batch:
    """States loaded for one call, the findings it produced; persisted at the end."""

    __slots__ = ("findings", "p", "rv", "sites", "vessels")

    def __init__(self, pipeline: TrackPipeline) -> None:
        self.p = pipeline
        self.vessels: dict[str, VesselState] = {}
        self.sites: dict[str | int, SiteState] = {}
        self.rv: RendezvousState | None = None
        self.findings: list[Finding] = []

    def load_vessels(self, vessel_ids: Collection[str]) -> None:
        want = [v for v in vessel_ids if v not in self.vessels]
        got = self.p.store.get_many([VESSEL_PREFIX + v for v in want])
        cut = len(VESSEL_PREFIX)
        for key, st in got.items():
            self.vessels[key[cut:]] = st  # type: ignore[assignment]
        for v in want:
            if v not in self.vessels:
                self.vessels[v] = VesselState(vessel_id=v)

    def vessel(self, vessel_id: str) -> VesselState:
        st = self.vessels.get(vessel_id)
        if st is None:
            self.load_vessels([vessel_id])
            st = self.vessels[vessel_id]
        return st

    def site(self, geofence_id: str | int) -> SiteState:
        st = self.sites.get(geofence_id)
        if st is None:
            key = SITE_PREFIX + str(geofence_id)
            got = self.p.store.get_many([key]).get(key)
            st = got if isinstance(got, SiteState) else SiteState(geofence_id=geofence_id)
            self.sites[geofence_id] = st
        return st

    def rendezvous(self) -> RendezvousState:
        if self.rv is None:
            got = self.p.store.get_many([RENDEZVOUS_KEY]).get(RENDEZVOUS_KEY)
            self.rv = got if isinstance(got, RendezvousState) else RendezvousState()
        return self.rv

    def persist(self) -> None:
        items: dict[str, State] = {VESSEL_PREFIX + k: v for k, v in self.vessels.items()}
        for gid, site in self.sites.items():
            items[SITE_PREFIX + str(gid)] = site
        if self.rv is not None:
            items[RENDEZVOUS_KEY] = self.rv
        self.p.store.put_many(items)


class TrackPipeline:
    """Geofence -> detectors -> AHP score -> de-duplicated warnings, batch by batch.

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
        self._is_known_vehicle = _predicate(known_vehicles)
        self.checkpoints = dict(checkpoints or {})
        self.clock = LocalClock(tz)
        self._gf_ids: list[str | int] = [g.id for g in self.index.geofences]
        cfg = self.config
        self._grace_s = cfg.visit_exit_grace_min * 60.0
        self._reeval_s = cfg.reeval_min * 60.0
        self._min_gap_s = cfg.min_gap_s()
        self._visit_max_gap_s = max(s.dark_vessel.max_gap_min for s in cfg.all_sets()) * 60.0
        rv_sets = [s.rendezvous for s in cfg.all_sets() if s.rendezvous.enabled]
        self._rv_on = bool(rv_sets)
        self._rv_speed_kn = max((r.max_speed_kn for r in rv_sets), default=-1.0)
        self._rv_port_m = max((r.min_port_distance_m for r in rv_sets), default=0.0)
        self._rv_max_pause_s = max((r.max_pause_min for r in rv_sets), default=0.0) * 60.0
        self._rv_max_skew_s = max((r.max_time_skew_s for r in rv_sets), default=0.0)
        # Cells at least max_distance_m wide in both axes up to 60 degrees of latitude.
        self._rv_cell_deg = max(2.0 * max((r.max_distance_m for r in rv_sets), default=1.0) / 111_320.0, 1e-4)
        #: vessels last seen outside their open visit's geofence (closed by event time at the
        #: end of a batch once the grace has passed, even if the vessel never reports again)
        self._outside: set[str] = set()
        self.stats = {"fixes": 0, "ignored_out_of_order": 0, "findings": 0, "warnings": 0, "captures_skipped": 0}

    # ------------------------------------------------------------------ public API

    def process(self, fixes: Sequence[PositionFix]) -> list[WarningEvent]:
        """Run a batch of fixes; return the warnings to create or update."""
        batch = _Batch(self)
        self._detect(batch, fixes)
        out = self._warn(batch, batch.findings)
        batch.persist()
        return out

    def detect(self, fixes: Sequence[PositionFix]) -> list[Finding]:
        """Like :meth:`process` but return the raw findings (every evaluation, any score).

        Advances the same state: use either ``detect`` or ``process`` on a stream.
        """
        batch = _Batch(self)
        self._detect(batch, fixes)
        batch.persist()
        return batch.findings

    def process_vehicle_captures(self, captures: Sequence[VehicleCapture]) -> list[WarningEvent]:
        """Match checkpoint captures of watched/unknown vehicles with vessel stops nearby."""
        batch = _Batch(self)
        self._captures(batch, captures)
        out = self._warn(batch, batch.findings)
        batch.persist()
        return out

    def detect_vehicle_captures(self, captures: Sequence[VehicleCapture]) -> list[Finding]:
        batch = _Batch(self)
        self._captures(batch, captures)
        batch.persist()
        return batch.findings

    # ------------------------------------------------------------------ the walk

    def _detect(self, b: _Batch, fixes: Sequence[PositionFix]) -> None:
        n = len(fixes)
        if n == 0:
            return
        vids = [f.vessel_id for f in fixes]
        stamps = [f.ts for f in fixes]
        if any(s.tzinfo is None for s in stamps):
            raise ValueError("PositionFix.ts must be timezone-aware")
        ts = np.fromiter((s.timestamp() for s in stamps), dtype=np.float64, count=n)
        lon = np.fromiter((f.lon for f in fixes), dtype=np.float64, count=n)
        lat = np.fromiter((f.lat for f in fixes), dtype=np.float64, count=n)
        sog = np.fromiter((_NAN if f.sog_kn is None else f.sog_kn for f in fixes), dtype=np.float64, count=n)
        gf = self.index.locate(lon, lat)
        rv_on = self._rv_on
        if rv_on:
            cand = (gf < 0) & ~(sog > self._rv_speed_kn)  # NaN speed stays a candidate
            idx = np.flatnonzero(cand)
            if idx.size and self._rv_port_m > 0:
                cand[idx[self.index.within_distance_mask(lon[idx], lat[idx], distance_m=self._rv_port_m)]] = False
            cand_l = cand.tolist()
            rvs = b.rendezvous()
            rv_cell_of = rvs.cell_of
        order = np.lexsort((np.array(vids), ts)).tolist()
        b.load_vessels(set(vids))
        states = b.vessels
        ts_l = ts.tolist()
        lon_l = lon.tolist()
        lat_l = lat.tolist()
        sog_l = sog.tolist()
        gf_l = gf.tolist()
        min_gap_s = self._min_gap_s
        rv_speed = self._rv_speed_kn
        ignored = 0
        next_sweep_s = -math.inf
        for i in order:
            vid = vids[i]
            t = ts_l[i]
            if t >= next_sweep_s:
                # Event time moved on: close visits their vessels left > grace ago.
                if self._outside:
                    self._close_left_visits(b, t)
                next_sweep_s = t + _SWEEP_EVERY_S
            st = states[vid]
            last_s = st.last_s
            if last_s is not None and t <= last_s:
                st.n_ignored += 1
                ignored += 1
                continue
            fix = fixes[i]
            sp = sog_l[i]
            if sp != sp and last_s is not None:  # no SOG: derive it from the last fix
                lf = st.last_fix
                assert lf is not None
                sp = haversine_m(lf.lon, lf.lat, lon_l[i], lat_l[i]) / (t - last_s) / MS_PER_KNOT
            if last_s is not None and t - last_s >= min_gap_s:
                self._on_gap(b, st, fix, t)
            g = gf_l[i]
            if g >= 0 or st.visit is not None:
                self._on_geofence(b, st, fix, t, g, sp)
            if rv_on:
                if cand_l[i] and sp <= rv_speed:
                    self._on_sea_slow(b, rvs, st, fix, t, lon_l[i], lat_l[i], sp)
                elif vid in rv_cell_of:
                    rvs.remove(vid)
            st.last_s = t
            st.last_fix = fix
            st.last_speed_kn = None if sp != sp else sp
            st.n_fixes += 1
        self.stats["fixes"] += n - ignored
        self.stats["ignored_out_of_order"] += ignored
        now_s = float(ts.max())
        if self._outside:
            self._close_left_visits(b, now_s)
        if rv_on:
            self._rv_sweep(b, rvs, now_s)

    def _close_left_visits(self, b: _Batch, now_s: float) -> None:
        """Close visits whose vessel left the geofence more than the grace ago (event time)."""
        for vid in sorted(self._outside):
            st = b.vessel(vid)
            v = st.visit
            if v is None or st.last_s is None or st.last_s <= v.last_in_s:
                self._outside.discard(vid)
            elif now_s - v.last_in_s >= self._grace_s:
                self._visit_close(b, st, v)
                st.visit = None
                self._outside.discard(vid)

    # ------------------------------------------------------------------ dark vessel

    def _on_gap(self, b: _Batch, st: VesselState, fix: PositionFix, t: float) -> None:
        last = st.last_fix
        assert last is not None and st.last_s is not None
        t0 = st.last_s
        month = self.clock.month(t0)
        dv0 = self.config.for_area(area="", month=month).dark_vessel
        reach = max(s.dark_vessel.near_coast_m for s in self.config.all_sets())
        idx, dist = self.index.nearest_within_many([last.lon, fix.lon], [last.lat, fix.lat], distance_m=reach)
        near: list[tuple[Geofence, float] | None] = []
        for k in range(2):
            near.append(None if idx[k] < 0 else (self.index.geofences[int(idx[k])], float(dist[k])))
        anchor = near[1] or near[0]
        area = anchor[0].township if anchor is not None else ""
        dv = self.config.for_area(area=area, month=month).dark_vessel if anchor is not None else dv0
        near = [n if (n is not None and n[1] <= dv.near_coast_m) else None for n in near]
        s_near, e_near = near
        in_port = (
            s_near is not None
            and e_near is not None
            and s_near[0] is e_near[0]
            and s_near[1] == 0.0
            and e_near[1] == 0.0
            and (s_near[0].status == "active" or s_near[0].kind == "anchorage")
        )
        gap_s = t - t0
        displacement_m = haversine_m(last.lon, last.lat, fix.lon, fix.lat)
        judged = dv.judge(
            gap_s=gap_s, displacement_m=displacement_m, start_near=s_near, end_near=e_near, in_port=in_port
        )
        if judged is None:
            return
        factors, evidence = judged
        factors["night"] = self.clock.window_overlap_s(t0, t, start=dv.night_start, end=dv.night_end) / gap_s
        tide, tw = tide_proximity(t0, t, tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        gfo = anchor[0] if anchor is not None and anchor[1] <= dv.near_pier_m else None
        key = f"dark_vessel|{st.vessel_id}|{_stamp(t0)}"
        self._emit(
            b,
            kind="dark_vessel",
            vessels=(st.vessel_id,),
            geofence=gfo,
            start_s=t0,
            end_s=t,
            factors=factors,
            evidence=evidence,
            key=key,
            ongoing=False,
            fixes=(last, fix),
            tide_window=tw,
            detector=dv,
            area=area,
            month=month,
        )

    # ------------------------------------------------------------------ geofence visits

    def _det_for(self, gfo: Geofence, month: int) -> DetectorSet:
        return self.config.for_area(area=gfo.township, month=month)

    def _geofence(self, geofence_id: str | int) -> Geofence | None:
        try:
            return self.index.geofences[self.index.index_of(geofence_id)]
        except KeyError:
            return None

    def _on_geofence(self, b: _Batch, st: VesselState, fix: PositionFix, t: float, g: int, sp: float) -> None:
        v = st.visit
        if v is not None:
            if g >= 0 and self._gf_ids[g] == v.geofence_id:
                if t - v.last_in_s <= self._visit_max_gap_s:
                    if self._outside:
                        self._outside.discard(st.vessel_id)
                    self._visit_continue(b, st, v, fix, t, sp)
                    return
            elif g < 0 and t - v.last_in_s < self._grace_s:
                v.prev_slow = False  # a short excursion so far: the visit goes on
                self._outside.add(st.vessel_id)
                return
            self._visit_close(b, st, v)
            st.visit = None
            self._outside.discard(st.vessel_id)
        if g >= 0:
            self._visit_open(b, st, fix, t, g, sp)

    def _visit_open(self, b: _Batch, st: VesselState, fix: PositionFix, t: float, g: int, sp: float) -> None:
        gfo = self.index.geofences[g]
        month = self.clock.month(t)
        det = self._det_for(gfo, month)
        slow = sp <= det.idle_pier_landing.max_speed_kn
        v = VisitState(
            geofence_id=gfo.id,
            arrive_s=t,
            last_in_s=t,
            month=month,
            stop_start_s=t if slow else None,
            prev_slow=slow,
            n_in=1,
            first_fix=fix,
            recent=[fix],
            min_speed_kn=None if sp != sp else sp,
        )
        st.visit = v
        if self._site_relevant(gfo, det):
            site = b.site(gfo.id)
            site.prune(t)
            site.visits.append(
                {
                    "vessel": st.vessel_id,
                    "group": self.watchlist.get(st.vessel_id),
                    "arrive_s": t,
                    "last_s": t,
                    "leave_s": None,
                    "stop_s": None,
                    "slow_s": 0.0,
                    "probe": False,
                    "follows": False,
                    "fixes": [fix],
                    "hits": [],
                }
            )

    @staticmethod
    def _site_relevant(gfo: Geofence, det: DetectorSet) -> bool:
        return det.repeat_visit.applies_to(gfo) or det.scout_boat.applies_to(gfo) or det.vehicle_vessel.applies_to(gfo)

    def _visit_continue(self, b: _Batch, st: VesselState, v: VisitState, fix: PositionFix, t: float, sp: float) -> None:
        gfo = self._geofence(v.geofence_id)
        if gfo is None:
            st.visit = None
            return
        det = self._det_for(gfo, v.month)
        lp = det.idle_pier_landing
        slow = sp <= lp.max_speed_kn
        contiguous = v.last_in_s == st.last_s  # previous fix was inside too
        if contiguous:
            dt = t - v.last_in_s
            if dt > v.max_gap_s:
                v.max_gap_s = dt
            # Stopped in between when stopped now and either stopped before or the
            # interval's own implied speed is that low (e.g. silent at anchor for hours).
            if slow and (v.prev_slow or self._implied_kn(st.last_fix, fix, dt) <= lp.max_speed_kn):
                v.slow_s += dt
                v.night_slow_s += self.clock.window_overlap_s(v.last_in_s, t, start=lp.night_start, end=lp.night_end)
        if slow and v.stop_start_s is None:
            v.stop_start_s = t
        if sp == sp and (v.min_speed_kn is None or sp < v.min_speed_kn):
            v.min_speed_kn = sp
        v.prev_slow = slow
        v.last_in_s = t
        v.n_in += 1
        recent = v.recent
        recent.append(fix)
        cap = self.config.max_evidence_fixes
        if len(recent) > 2 * cap:
            del recent[: len(recent) - cap]
        self._visit_judge(b, st, v, gfo, det, t, ongoing=True)

    @staticmethod
    def _implied_kn(a: PositionFix | None, b: PositionFix, dt_s: float) -> float:
        if a is None or dt_s <= 0:
            return math.inf
        return haversine_m(a.lon, a.lat, b.lon, b.lat) / dt_s / MS_PER_KNOT

    def _visit_judge(
        self,
        b: _Batch,
        st: VesselState,
        v: VisitState,
        gfo: Geofence,
        det: DetectorSet,
        t: float,
        *,
        ongoing: bool,
        force: bool = False,
    ) -> None:
        rp = det.repeat_visit
        if not v.repeat_done and v.slow_s >= rp.min_stop_min * 60.0 and rp.applies_to(gfo):
            v.repeat_done = True
            self._repeat_on_stop(b, st, v, gfo, det)
        vv = det.vehicle_vessel
        if not v.vehicle_done and v.slow_s >= vv.min_stop_min * 60.0 and vv.applies_to(gfo):
            v.vehicle_done = True
            self._vehicle_on_stop(b, st, v, gfo, det, t)
        sb = det.scout_boat
        if not v.scout_done and v.slow_s >= sb.follower_stop_min * 60.0 and sb.applies_to(gfo):
            v.scout_done = True
            self._scout_on_follower_stop(b, st, v, gfo, det)
        lp = det.idle_pier_landing
        if v.landing_key is not None and ongoing and not force and t - v.last_eval_s < self._reeval_s:
            return
        if self._site_relevant(gfo, det):
            rec = b.site(gfo.id).find_visit(st.vessel_id, v.arrive_s)
            if rec is not None:
                rec["last_s"] = v.last_in_s
                rec["slow_s"] = v.slow_s
                if len(rec["fixes"]) > 1:
                    rec["fixes"][-1] = v.recent[-1]
                else:
                    rec["fixes"].append(v.recent[-1])
        factors = lp.judge(slow_dwell_s=v.slow_s, night_dwell_s=v.night_slow_s, geofence=gfo)
        if factors is None:
            return
        v.last_eval_s = t
        if v.landing_key is None:
            v.landing_key = f"idle_pier_landing|{gfo.id}|{st.vessel_id}|{_stamp(v.arrive_s)}"
        corroboration = 0.0
        evidence: dict[str, Any] = {
            "dwell_min": v.slow_s / 60.0,
            "night_dwell_min": v.night_slow_s / 60.0,
            "stop_start": utc_dt(v.stop_start_s if v.stop_start_s is not None else v.arrive_s),
            "longest_silence_min": v.max_gap_s / 60.0,
        }
        if v.max_gap_s >= det.dark_vessel.min_gap_min * 60.0:
            corroboration = max(corroboration, 0.6)
            evidence["silent_at_pier"] = True
        if v.scouted_by:
            corroboration = max(corroboration, 0.8)
            evidence["scouted_by"] = list(v.scouted_by)
        if self._site_relevant(gfo, det):
            rec = b.site(gfo.id).find_visit(st.vessel_id, v.arrive_s)
            if rec is not None and rec["hits"]:
                corroboration = 1.0
                evidence["vehicle_captures"] = [dict(h) for h in rec["hits"]]
        factors["corroboration"] = corroboration
        stop0 = v.stop_start_s if v.stop_start_s is not None else v.arrive_s
        tide, tw = tide_proximity(stop0, v.last_in_s, tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        self._emit(
            b,
            kind="idle_pier_landing",
            vessels=(st.vessel_id,),
            geofence=gfo,
            start_s=v.arrive_s,
            end_s=v.last_in_s,
            factors=factors,
            evidence=evidence,
            key=v.landing_key,
            ongoing=ongoing,
            fixes=self._visit_fixes(v),
            tide_window=tw,
            detector=lp,
            area=gfo.township,
            month=v.month,
        )

    def _visit_fixes(self, v: VisitState) -> tuple[PositionFix, ...]:
        cap = self.config.max_evidence_fixes
        tail = v.recent[-(cap - 1) :] if cap > 1 else []
        if v.first_fix is not None and (not tail or tail[0] is not v.first_fix):
            return (v.first_fix, *tail)
        return tuple(tail)

    def _visit_close(self, b: _Batch, st: VesselState, v: VisitState) -> None:
        gfo = self._geofence(v.geofence_id)
        if gfo is None:
            return
        det = self._det_for(gfo, v.month)
        if v.landing_key is not None:
            self._visit_judge(b, st, v, gfo, det, v.last_in_s, ongoing=False)
        if not self._site_relevant(gfo, det):
            return
        site = b.site(gfo.id)
        rec = site.find_visit(st.vessel_id, v.arrive_s)
        if rec is None:
            return
        rec["leave_s"] = v.last_in_s
        rec["last_s"] = v.last_in_s
        rec["slow_s"] = v.slow_s
        if v.recent and (len(rec["fixes"]) < 2 or rec["fixes"][-1] is not v.recent[-1]):
            rec["fixes"] = [rec["fixes"][0], v.recent[-1]]
        if rec["hits"]:
            self._emit_vehicle(b, gfo, rec, det.vehicle_vessel, det, ongoing=False)
        sb = det.scout_boat
        stay_s = v.last_in_s - v.arrive_s
        if sb.applies_to(gfo) and sb.is_probe(stay_s=stay_s, slow_s=v.slow_s, min_speed_kn=v.min_speed_kn):
            rec["probe"] = True
            for other in site.visits:
                if other["follows"] and other["vessel"] != st.vessel_id and rec["arrive_s"] < other["arrive_s"]:
                    self._scout_pair(b, gfo, det, site, probe=rec, follower=other)

    # ------------------------------------------------------------------ scout boat

    def _scout_on_follower_stop(
        self, b: _Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet
    ) -> None:
        site = b.site(gfo.id)
        follower = site.find_visit(st.vessel_id, v.arrive_s)
        if follower is None:
            return
        follower["follows"] = True
        for probe in site.visits:
            if probe["probe"] and probe["vessel"] != st.vessel_id and probe["leave_s"] is not None:
                self._scout_pair(b, gfo, det, site, probe=probe, follower=follower)

    def _scout_pair(
        self,
        b: _Batch,
        gfo: Geofence,
        det: DetectorSet,
        site: SiteState,
        *,
        probe: dict[str, Any],
        follower: dict[str, Any],
    ) -> None:
        sb = det.scout_boat
        factors = sb.judge(
            probe_arrive_s=probe["arrive_s"],
            probe_leave_s=probe["leave_s"],
            follower_arrive_s=follower["arrive_s"],
            geofence=gfo,
        )
        if factors is None:
            return
        lp = det.idle_pier_landing
        t_f = follower["arrive_s"]
        factors["night"] = 1.0 if self.clock.in_window(t_f, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(t_f, t_f, tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        fst = b.vessel(follower["vessel"])
        if fst.visit is not None and fst.visit.geofence_id == gfo.id and fst.visit.arrive_s == t_f:
            if probe["vessel"] not in fst.visit.scouted_by:
                fst.visit.scouted_by.append(probe["vessel"])
        key = f"scout_boat|{gfo.id}|{probe['vessel']}|{follower['vessel']}|{_stamp(probe['arrive_s'])}"
        self._emit(
            b,
            kind="scout_boat",
            vessels=(probe["vessel"], follower["vessel"]),
            geofence=gfo,
            start_s=probe["arrive_s"],
            end_s=t_f,
            factors=factors,
            evidence={
                "scout": probe["vessel"],
                "follower": follower["vessel"],
                "probe_arrive": utc_dt(probe["arrive_s"]),
                "probe_leave": utc_dt(probe["leave_s"]),
                "probe_stay_min": (probe["leave_s"] - probe["arrive_s"]) / 60.0,
                "follower_arrive": utc_dt(t_f),
                "lag_min": (t_f - probe["leave_s"]) / 60.0,
            },
            key=key,
            ongoing=False,
            fixes=(*probe["fixes"], follower["fixes"][0]),
            tide_window=tw,
            detector=sb,
            area=gfo.township,
            month=self.clock.month(t_f),
        )

    # ------------------------------------------------------------------ repeat visits

    def _repeat_on_stop(self, b: _Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet) -> None:
        rp = det.repeat_visit
        site = b.site(gfo.id)
        group = self.watchlist.get(st.vessel_id) if rp.by_group else None
        actor = f"group:{group}" if group else f"vessel:{st.vessel_id}"
        t = v.arrive_s
        window_s = rp.window_h * 3600.0
        for k in [k for k, c in site.chains.items() if t - c["last_s"] > window_s]:
            del site.chains[k]
        chain = site.chains.get(actor)
        if chain is None:
            site.chains[actor] = {"start_s": t, "last_s": t, "count": 1, "stops": [[st.vessel_id, t]]}
            return
        if t - chain["last_s"] < rp.min_separation_h * 3600.0:
            return  # the same night's landing (or a partner vessel of it), not a repeat
        chain["stops"].append([st.vessel_id, t])
        del chain["stops"][:-_CHAIN_MAX_STOPS]
        chain["last_s"] = t
        chain["count"] += 1
        n = chain["count"]
        factors = rp.judge(stops_in_chain=n, geofence=gfo)
        if factors is None:
            return
        lp = det.idle_pier_landing
        factors["night"] = 1.0 if self.clock.in_window(t, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(t, v.last_in_s, tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        vessels: list[str] = []
        for vid, _ in chain["stops"]:
            if vid not in vessels:
                vessels.append(vid)
        self._emit(
            b,
            kind="repeat_visit",
            vessels=tuple(vessels),
            geofence=gfo,
            start_s=chain["start_s"],
            end_s=v.last_in_s,
            factors=factors,
            evidence={
                "actor": actor,
                "stops": [{"vessel": vid, "arrive": utc_dt(s)} for vid, s in chain["stops"]],
                "stops_in_burst": n,
                "intervals_h": [
                    (chain["stops"][k][1] - chain["stops"][k - 1][1]) / 3600.0 for k in range(1, len(chain["stops"]))
                ],
            },
            key=f"repeat_visit|{gfo.id}|{actor}|{_stamp(chain['start_s'])}",
            ongoing=False,
            fixes=self._visit_fixes(v),
            tide_window=tw,
            detector=rp,
            area=gfo.township,
            month=v.month,
        )

    # ------------------------------------------------------------------ vehicles

    def _vehicle_on_stop(
        self, b: _Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float
    ) -> None:
        vv = det.vehicle_vessel
        site = b.site(gfo.id)
        rec = site.find_visit(st.vessel_id, v.arrive_s)
        if rec is None:
            return
        rec["stop_s"] = v.stop_start_s if v.stop_start_s is not None else v.arrive_s
        rec["last_s"] = v.last_in_s
        lo = rec["stop_s"] - vv.before_min * 60.0
        hi = t + vv.after_min * 60.0
        new = False
        for cap in site.captures:
            if lo <= cap["ts_s"] <= hi and cap not in rec["hits"]:
                rec["hits"].append(cap)
                new = True
        if new:
            self._emit_vehicle(b, gfo, rec, vv, det, ongoing=True)

    def _captures(self, b: _Batch, captures: Sequence[VehicleCapture]) -> None:
        reach = max(s.vehicle_vessel.max_distance_m for s in self.config.all_sets())
        for cap in sorted(captures, key=lambda c: (c.ts, c.checkpoint_id, c.plate)):
            if cap.ts.tzinfo is None:
                raise ValueError("VehicleCapture.ts must be timezone-aware")
            if cap.lon is not None and cap.lat is not None:
                lon, lat = cap.lon, cap.lat
            elif cap.checkpoint_id in self.checkpoints:
                lon, lat = self.checkpoints[cap.checkpoint_id]
            else:
                self.stats["captures_skipped"] += 1
                continue
            watched = cap.plate in self.vehicle_watchlist
            if not watched and self._is_known_vehicle(cap.plate):
                continue  # a registered, unwatched vehicle corroborates nothing
            status = "watched" if watched else "unknown"
            t = cap.ts.timestamp()
            month = self.clock.month(t)
            for g, d in self.index.geofences_within(lon, lat, distance_m=reach):
                gfo = self.index.geofences[g]
                det = self._det_for(gfo, month)
                vv = det.vehicle_vessel
                if not vv.applies_to(gfo) or d > vv.max_distance_m:
                    continue
                site = b.site(gfo.id)
                site.prune(t)
                rec = {
                    "ts_s": t,
                    "plate": cap.plate,
                    "status": status,
                    "checkpoint_id": cap.checkpoint_id,
                    "distance_m": d,
                }
                if rec in site.captures:
                    continue
                site.captures.append(rec)
                for visit in site.visits:
                    if visit["stop_s"] is None:
                        continue
                    end = visit["leave_s"] if visit["leave_s"] is not None else visit["last_s"]
                    if visit["stop_s"] - vv.before_min * 60.0 <= t <= end + vv.after_min * 60.0:
                        visit["hits"].append(rec)
                        vdet = self._det_for(gfo, self.clock.month(visit["arrive_s"]))
                        ongoing = visit["leave_s"] is None
                        self._emit_vehicle(b, gfo, visit, vdet.vehicle_vessel, vdet, ongoing=ongoing)
                        vst = b.vessel(visit["vessel"])
                        vis = vst.visit
                        same = vis is not None and vis.geofence_id == gfo.id and vis.arrive_s == visit["arrive_s"]
                        if ongoing and same and vis is not None and vis.landing_key is not None:
                            self._visit_judge(b, vst, vis, gfo, vdet, vis.last_in_s, ongoing=True, force=True)

    def _emit_vehicle(
        self, b: _Batch, gfo: Geofence, rec: dict[str, Any], vv: VehicleVessel, det: DetectorSet, *, ongoing: bool
    ) -> None:
        hits = rec["hits"]
        n_w = sum(1 for h in hits if h["status"] == "watched")
        factors = vv.judge(n_watched=n_w, n_unknown=len(hits) - n_w, geofence=gfo)
        if factors is None:
            return
        lp = det.idle_pier_landing
        s0 = rec["stop_s"] if rec["stop_s"] is not None else rec["arrive_s"]
        s1 = rec["leave_s"] if rec["leave_s"] is not None else rec["last_s"]
        if s1 > s0:
            factors["night"] = self.clock.window_overlap_s(s0, s1, start=lp.night_start, end=lp.night_end) / (s1 - s0)
        else:
            factors["night"] = 1.0 if self.clock.in_window(s0, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(s0, s1, tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        end_s = max([s1, *[h["ts_s"] for h in hits]])
        self._emit(
            b,
            kind="vehicle_vessel",
            vessels=(rec["vessel"],),
            geofence=gfo,
            start_s=rec["arrive_s"],
            end_s=end_s,
            factors=factors,
            evidence={
                "stop_start": utc_dt(s0),
                "stop_last_seen": utc_dt(s1),
                "captures": [{**{k: v for k, v in h.items() if k != "ts_s"}, "ts": utc_dt(h["ts_s"])} for h in hits],
            },
            key=f"vehicle_vessel|{gfo.id}|{rec['vessel']}|{_stamp(rec['arrive_s'])}",
            ongoing=ongoing,
            fixes=tuple(rec["fixes"]),
            tide_window=tw,
            detector=vv,
            area=gfo.township,
            month=self.clock.month(rec["arrive_s"]),
        )

    # ------------------------------------------------------------------ rendezvous

    def _on_sea_slow(
        self,
        b: _Batch,
        rvs: RendezvousState,
        st: VesselState,
        fix: PositionFix,
        t: float,
        lon: float,
        lat: float,
        sp: float,
    ) -> None:
        rv = self.config.for_area(area="", month=self.clock.month(t)).rendezvous
        vid = st.vessel_id
        if not rv.enabled or sp > rv.max_speed_kn:
            if vid in rvs.cell_of:
                rvs.remove(vid)
            return
        if st.rv_last_s is not None and t - st.rv_last_s < rv.sample_interval_s:
            return
        st.rv_last_s = t
        cs = self._rv_cell_deg
        cx = math.floor(lon / cs)
        cy = math.floor(lat / cs)
        key = (cx, cy)
        old = rvs.cell_of.get(vid)
        if old is not None and old != key:
            rvs.remove(vid)
        cells = rvs.cells
        cell = cells.get(key)
        if cell is None:
            cell = cells[key] = {}
        cell[vid] = (t, lon, lat, fix)
        rvs.cell_of[vid] = key
        close: list[tuple[str, float, PositionFix, float]] = []
        skew = rv.max_time_skew_s
        maxd = rv.max_distance_m
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                other = cells.get((cx + dx, cy + dy))
                if not other:
                    continue
                for ovid, (ot, olon, olat, ofix) in other.items():
                    if ovid == vid or abs(t - ot) > skew:
                        continue
                    d = haversine_m(lon, lat, olon, olat)
                    if d <= maxd:
                        close.append((ovid, d, ofix, ot))
        for ovid, d, ofix, ot in close:
            self._pair_close(b, rvs, rv, vid, fix, t, ovid, ofix, ot, d)

    def _pair_close(
        self,
        b: _Batch,
        rvs: RendezvousState,
        rv: Rendezvous,
        vid: str,
        fix: PositionFix,
        t: float,
        ovid: str,
        ofix: PositionFix,
        ot: float,
        d: float,
    ) -> None:
        a, c = (vid, ovid) if vid < ovid else (ovid, vid)
        fa, fc = (fix, ofix) if vid < ovid else (ofix, fix)
        pk = (a, c)
        p = rvs.pairs.get(pk)
        if p is not None and t - p["last_s"] > rv.max_pause_min * 60.0:
            self._pair_end(b, p)
            del rvs.pairs[pk]
            p = None
        if p is None:
            p = {
                "a": a,
                "b": c,
                "first_s": min(t, ot),
                "last_s": max(t, ot),
                "n": 0,
                "min_d": d,
                "first_fixes": [fa, fc],
                "last_fixes": [fa, fc],
                "key": None,
                "last_eval_s": 0.0,
                "month": self.clock.month(min(t, ot)),
            }
            rvs.pairs[pk] = p
        p["last_s"] = max(p["last_s"], t)
        p["n"] += 1
        if d < p["min_d"]:
            p["min_d"] = d
        p["last_fixes"] = [fa, fc]
        if p["key"] is None or t - p["last_eval_s"] >= self._reeval_s:
            self._pair_judge(b, p, ongoing=True)

    def _pair_judge(self, b: _Batch, p: dict[str, Any], *, ongoing: bool) -> None:
        rv = self.config.for_area(area="", month=p["month"]).rendezvous
        duration = p["last_s"] - p["first_s"]
        factors = rv.judge(duration_s=duration, min_distance_m=p["min_d"])
        if factors is None:
            return
        p["last_eval_s"] = p["last_s"]
        if p["key"] is None:
            p["key"] = f"rendezvous|{p['a']}|{p['b']}|{_stamp(p['first_s'])}"
        lp = self.config.for_area(area="", month=p["month"]).idle_pier_landing
        factors["night"] = (
            self.clock.window_overlap_s(p["first_s"], p["last_s"], start=lp.night_start, end=lp.night_end) / duration
            if duration > 0
            else 0.0
        )
        tide, tw = tide_proximity(p["first_s"], p["last_s"], tide_window_at=self.tide_window_at)
        factors["tide"] = tide
        self._emit(
            b,
            kind="rendezvous",
            vessels=(p["a"], p["b"]),
            geofence=None,
            start_s=p["first_s"],
            end_s=p["last_s"],
            factors=factors,
            evidence={"duration_min": duration / 60.0, "min_distance_m": p["min_d"], "close_samples": p["n"]},
            key=p["key"],
            ongoing=ongoing,
            fixes=(*p["first_fixes"], *p["last_fixes"]),
            tide_window=tw,
            detector=rv,
            area="",
            month=p["month"],
        )

    def _pair_end(self, b: _Batch, p: dict[str, Any]) -> None:
        if p["key"] is not None:
            self._pair_judge(b, p, ongoing=False)

    def _rv_sweep(self, b: _Batch, rvs: RendezvousState, now_s: float) -> None:
        """Close encounters that paused too long; drop grid samples too old to match."""
        for pk in [pk for pk, p in rvs.pairs.items() if now_s - p["last_s"] > self._rv_max_pause_s]:
            self._pair_end(b, rvs.pairs.pop(pk))
        horizon = now_s - self._rv_max_skew_s - 3600.0
        stale = [vid for (vid, key) in rvs.cell_of.items() if rvs.cells[key][vid][0] < horizon]
        for vid in stale:
            rvs.remove(vid)

    # ------------------------------------------------------------------ findings and warnings

    def _emit(
        self,
        b: _Batch,
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

    def _warn(self, b: _Batch, findings: Sequence[Finding]) -> list[WarningEvent]:
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
            rec = eps.get(f.episode_key)
            if rec is None:
                if level is None:
                    continue
                action = "new"
            else:
                prev_level, prev_score, prev_end_s, prev_ongoing, _ = rec
                if (
                    level == prev_level
                    and abs(sc - prev_score) < cfg.update_min_score_delta
                    and f.ongoing == prev_ongoing
                    and end_s - prev_end_s < every_s
                ):
                    continue
                action = "update"
            eps[f.episode_key] = [level, sc, end_s, f.ongoing, f.start.timestamp()]
            if len(eps) > 16:
                for k in [k for k, r in eps.items() if not r[3] and r[2] < end_s - retention_s]:
                    del eps[k]
            gfo = None if f.geofence_id is None else self._geofence(f.geofence_id)
            rule = {**f.rule, "weights": dict(self.weights), "thresholds": dict(self.thresholds)}
            out.append(
                WarningEvent(
                    action=action,
                    episode_key=f.episode_key,
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
        self.stats["warnings"] += len(out)
        return out


def _predicate(known: Collection[str] | Callable[[str], bool] | None) -> Callable[[str], bool]:
    if known is None:
        return lambda _vid: True
    if callable(known) and not isinstance(known, (set, frozenset, dict, list, tuple)):
        return known
    members = frozenset(known)  # type: ignore[arg-type]
    return members.__contains__
