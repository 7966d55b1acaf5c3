"""Dark targets: radar tracks inside coverage that no cooperative (AIS/Beidou) track explains.

A radar target (``radar:<sensor>:<track>``) is *dark* once it has gone ``min_unmatched_min``
minutes inside radar coverage without a confirmed association (``association.py``) and it
does one of the three things smugglers' boats do:

* ``toward_shore`` — it closed on the nearest landing place (pier, cove, beach, landing point)
  by at least ``toward_shore_m`` since it was first seen, and is within ``near_shore_m`` of it;
* ``loitering``   — it stayed within ``loiter_radius_m`` of where it was ``min_unmatched_min`` ago;
* ``meeting``     — another target (radar or cooperative) is within ``meet_m`` of it.

Defaults (documented in docs/architecture.md): 10 min unmatched, 500 m closer to shore within
5 km of it, 400 m loitering radius, 200 m meeting distance. Pure code; the pipeline hands it the
fixes, the associator, the coverage and a "nearest landing place" function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .association import Associator
from .geo_units import haversine_m
from .model import PositionFix
from .radar import is_radar_target
from .sensors import Coverage


@dataclass(frozen=True, slots=True)
class DarkTargetRule:
    enabled: bool = True
    min_unmatched_min: float = 10.0
    toward_shore_m: float = 500.0
    near_shore_m: float = 5000.0
    loiter_radius_m: float = 400.0
    meet_m: float = 200.0
    #: ``dark_vessel`` is confirmed when a radar track associated with the vessel went on this
    #: long after the vessel's last cooperative fix.
    confirm_continue_min: float = 5.0
    #: score factor for a gap that lies outside all radar coverage (a coverage gap, not switching off)
    outside_coverage_behaviour: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> DarkTargetRule:
        fields = cls.__dataclass_fields__
        return cls(**{k: v for k, v in dict(d or {}).items() if k in fields})


@dataclass(frozen=True, slots=True)
class DarkFinding:
    target: str
    sensors: tuple[str, ...]
    behaviour: str
    start_s: float
    end_s: float
    unmatched_min: float
    place: Any
    place_distance_m: float | None
    closed_m: float
    others: tuple[str, ...]
    fixes: tuple[PositionFix, ...]


NearestPlace = Callable[[float, float], tuple[Any, float] | None]


class DarkTargets:
    """Per radar target: when it was first seen unmatched, where, how close to shore; findings out."""

    def __init__(self, rule: DarkTargetRule | None = None) -> None:
        self.rule = rule or DarkTargetRule()
        # target -> {"t0", "lon0", "lat0", "d0", "since", "t", "lon", "lat", "last_emit", "trail": [[t, lon, lat]]}
        self.targets: dict[str, dict[str, Any]] = {}

    def step(self, fixes: Sequence[PositionFix], *, assoc: Associator, coverage: Coverage,
             nearest_place: NearestPlace) -> list[DarkFinding]:
        rule = self.rule
        if not rule.enabled:
            return []
        out: list[DarkFinding] = []
        min_s = rule.min_unmatched_min * 60.0
        for f in fixes:
            if not is_radar_target(f.vessel_id):
                continue
            t = f.ts.timestamp()
            st = self.targets.get(f.vessel_id)
            near = nearest_place(f.lon, f.lat)
            if st is None:
                st = self.targets[f.vessel_id] = {"t0": t, "lon0": f.lon, "lat0": f.lat,
                                                   "d0": near[1] if near else None, "since": t, "last_emit": None,
                                                   "trail": []}
            st.update(t=t, lon=f.lon, lat=f.lat)
            trail = st["trail"]
            if not trail or t - trail[-1][0] >= 30.0:
                trail.append([t, f.lon, f.lat])
                while trail and trail[0][0] < t - max(min_s, 600.0) * 2:
                    trail.pop(0)
            sensors = tuple(coverage.radars_seeing(f.lon, f.lat))
            if assoc.match_of(f.vessel_id) is not None or not sensors:
                st["since"] = t  # explained (or outside coverage): the unmatched clock starts again
                continue
            if t - st["since"] < min_s:
                continue
            if st["last_emit"] is not None and t - st["last_emit"] < 60.0:
                continue
            behaviour, closed, others = self._behaviour(f, t, st, near, assoc)
            if behaviour is None:
                continue
            st["last_emit"] = t
            out.append(DarkFinding(
                target=f.vessel_id, sensors=sensors, behaviour=behaviour, start_s=st["since"], end_s=t,
                unmatched_min=round((t - st["since"]) / 60.0, 1), place=near[0] if near else None,
                place_distance_m=round(near[1], 1) if near else None, closed_m=round(closed, 1), others=others,
                fixes=(f,),
            ))
        return out

    def _behaviour(self, f: PositionFix, t: float, st: dict[str, Any], near, assoc: Associator):
        rule = self.rule
        others = tuple(
            tid for tid, (t2, lon2, lat2) in ((k, v) for k, v in assoc.radar_last.items())
            if tid != f.vessel_id and abs(t2 - t) <= 60.0 and haversine_m(f.lon, f.lat, lon2, lat2) <= rule.meet_m
        ) + tuple(assoc.coop_near(f.lon, f.lat, t, rule.meet_m))
        closed = 0.0
        if near is not None and st.get("d0") is not None:
            closed = float(st["d0"]) - near[1]
        if others:
            return "meeting", closed, others
        if near is not None and closed >= rule.toward_shore_m and near[1] <= rule.near_shore_m:
            return "toward_shore", closed, ()
        past = [p for p in st["trail"] if p[0] <= t - rule.min_unmatched_min * 60.0]
        if past and all(haversine_m(f.lon, f.lat, p[1], p[2]) <= rule.loiter_radius_m
                        for p in st["trail"] if p[0] >= past[-1][0]):
            return "loitering", closed, ()
        return None, closed, ()

    def forget_before(self, t: float) -> None:
        self.targets = {k: v for k, v in self.targets.items() if v.get("t", 0.0) >= t}

    def to_dict(self) -> dict[str, Any]:
        return {"targets": self.targets}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, rule: DarkTargetRule | None = None) -> DarkTargets:
        out = cls(rule)
        if d:
            out.targets = {k: dict(v) for k, v in dict(d.get("targets", {})).items()}
        return out
