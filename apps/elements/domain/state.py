"""The track pipeline's state: plain dataclasses with ``to_dict``/``from_dict`` (JSON-safe).

Held in a :class:`StateStore` under keys ``vessel:<id>`` (:class:`VesselState`: the last
fix, the open geofence visit, warnings sent, finding history, and a slot per tracker for
trackers that keep per-vessel state of their own), ``site:<geofence id>``
(:class:`SiteState`: per-pier memory shared by vessels) and ``rendezvous``
(:class:`RendezvousState`: the encounter grid). ``InMemoryStateStore`` keeps live
objects; the Redis store (Django side) serialises with ``to_dict`` and rebuilds with
:func:`state_from_dict`. A tracker with shared state of its own registers its type with
:func:`register_state_type`.
"""
from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Protocol

from apps.elements.domain.model import PositionFix
from apps.elements.domain.tracks import Track

__all__ = [
    "RENDEZVOUS_KEY",
    "SITE_PREFIX",
    "VESSEL_PREFIX",
    "InMemoryStateStore",
    "RendezvousState",
    "SiteState",
    "State",
    "StateStore",
    "VesselState",
    "VisitState",
    "fix_from_dict",
    "fix_to_dict",
    "fixes_from_list",
    "fixes_to_list",
    "register_state_type",
    "state_from_dict",
]

VESSEL_PREFIX: Final[str] = "vessel:"
SITE_PREFIX: Final[str] = "site:"
RENDEZVOUS_KEY: Final[str] = "rendezvous"

SITE_RETENTION_S: Final[float] = 4.5 * 86400.0  # covers the 3.5-day repeat window
SITE_MAX_CAPTURES: Final[int] = 500

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


def fixes_to_list(fixes: Sequence[PositionFix]) -> list[dict[str, Any]]:
    return [fix_to_dict(f) for f in fixes]


def fixes_from_list(data: Sequence[Mapping[str, Any]]) -> list[PositionFix]:
    return [fix_from_dict(d) for d in data]


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
            "recent": fixes_to_list(self.recent),
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
            recent=fixes_from_list(d["recent"]),
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
    #: tracker name -> that tracker's own per-vessel state (JSON-safe), for trackers added
    #: without a field here (see ``trackers/base.py``)
    trackers: dict[str, Any] | None = None
    #: episode key a tracker found again after late data -> the key its warning already has
    aliases: dict[str, str] | None = None

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
            "trackers": self.trackers,
            "aliases": self.aliases,
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
            trackers=d.get("trackers"),
            aliases=d.get("aliases"),
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
        horizon = now_s - SITE_RETENTION_S
        if self.visits and self.visits[0]["arrive_s"] < horizon:
            self.visits = [r for r in self.visits if r["leave_s"] is None or r["leave_s"] >= horizon]
        if self.captures and (self.captures[0]["ts_s"] < horizon or len(self.captures) > SITE_MAX_CAPTURES):
            self.captures = [c for c in self.captures if c["ts_s"] >= horizon][-SITE_MAX_CAPTURES:]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "site",
            "geofence_id": self.geofence_id,
            "visits": [{**r, "fixes": fixes_to_list(r["fixes"])} for r in self.visits],
            "chains": {k: {**c, "stops": [list(s) for s in c["stops"]]} for k, c in self.chains.items()},
            "captures": [dict(c) for c in self.captures],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SiteState:
        return cls(
            geofence_id=d["geofence_id"],
            visits=[
                {**r, "fixes": fixes_from_list(r["fixes"]), "hits": [dict(h) for h in r["hits"]]} for r in d["visits"]
            ],
            chains={k: {**c, "stops": [list(s) for s in c["stops"]]} for k, c in d["chains"].items()},
            captures=[dict(c) for c in d["captures"]],
        )


@dataclass(slots=True)
class RendezvousState:
    """The encounter tracker's memory: recent slow-at-sea samples per vessel (its track), a
    coarse grid saying which vessels had samples in which cell and when, and the encounter
    episodes per vessel pair (kept after they end, so late data extends them)."""

    #: vessel -> its slow-at-sea samples [t_s, lon, lat, source]
    tracks: dict[str, Track] = field(default_factory=dict)
    #: cell -> vessel -> latest sample time in that cell
    cells: dict[tuple[int, int], dict[str, float]] = field(default_factory=dict)
    #: (a, b) with a < b -> episodes (dicts: first_s, last_s, n, min_d, fixes, key, ...)
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: the latest event time this tracker has seen
    now_s: float = float("-inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "rendezvous",
            "v": 2,
            "tracks": {vid: tr.samples for vid, tr in self.tracks.items()},
            "cells": [[cx, cy, dict(c)] for (cx, cy), c in self.cells.items()],
            "pairs": [
                {**p, "first_fixes": fixes_to_list(p["first_fixes"]), "last_fixes": fixes_to_list(p["last_fixes"])}
                for eps in self.pairs.values()
                for p in eps
            ],
            "now_s": None if self.now_s == float("-inf") else self.now_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RendezvousState:
        st = cls()
        if d.get("v") != 2:
            return st  # the grid of an older release: start afresh (encounters re-form within minutes)
        st.tracks = {vid: Track([list(x) for x in tr], ordered=True) for vid, tr in d["tracks"].items()}
        st.cells = {(cx, cy): dict(c) for cx, cy, c in d["cells"]}
        for p in d["pairs"]:
            st.pairs.setdefault((p["a"], p["b"]), []).append(
                {
                    **p,
                    "first_fixes": fixes_from_list(p["first_fixes"]),
                    "last_fixes": fixes_from_list(p["last_fixes"]),
                }
            )
        st.now_s = float("-inf") if d.get("now_s") is None else d["now_s"]
        return st


State = Any  # VesselState | SiteState | RendezvousState | a registered tracker state

_STATE_TYPES: dict[str, Any] = {"vessel": VesselState, "site": SiteState, "rendezvous": RendezvousState}


def register_state_type(type_name: str, cls: Any) -> None:
    """Let :func:`state_from_dict` rebuild a tracker's own shared state (``to_dict()["type"]``)."""
    _STATE_TYPES[type_name] = cls


def state_from_dict(data: Mapping[str, Any]) -> State:
    """Rebuild any state object from its ``to_dict`` output (dispatch on ``type``)."""
    cls = _STATE_TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown state type {data.get('type')!r}")
    return cls.from_dict(data)


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
