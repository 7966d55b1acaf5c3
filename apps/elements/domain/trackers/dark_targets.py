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

:class:`DarkTargetTracker` is the tracker: it runs the association over each batch first
(``begin``, so every other tracker judges with it), emits ``dark_target``, and is asked by the
gap tracker whether radar confirms a ``dark_vessel`` (:meth:`DarkTargetTracker.judge_gap`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from apps.elements.domain.association import Association, Associator
from apps.elements.domain.dark_rule import DarkTargetRule
from apps.elements.domain.detectors import place_risk, tide_proximity
from apps.elements.domain.geo_units import haversine_m
from apps.elements.domain.model import PositionFix
from apps.elements.domain.radar import is_radar_target, parse_target_id
from apps.elements.domain.sensors import Coverage, Sensor
from apps.elements.domain.state import VesselState, register_state_type

from .base import Batch, FixColumns, Tracker, TrackerContext


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
    #: the cooperative vessel this radar track was associated with before (it went silent)
    was_associated_with: str | None = None


#: (lons, lats) -> for each point, (nearest landing place, metres) or None (one vectorised call per scan)
NearestPlaces = Callable[[Sequence[float], Sequence[float]], list[tuple[Any, float] | None]]


class DarkTargets:
    """Per radar target: when it was first seen unmatched, where, how close to shore; findings out."""

    def __init__(self, rule: DarkTargetRule | None = None) -> None:
        self.rule = rule or DarkTargetRule()
        #: (area, time) -> the rule in force there and then (per area and season); None: ``rule``
        self.rule_at: Callable[[str, float], DarkTargetRule] | None = None
        #: the shortest ``min_unmatched_min`` of any area or season (candidates are picked with it)
        self.floor_min: float | None = None
        # target -> {"t0", "lon0", "lat0", "d0", "since", "t", "lon", "lat", "last_emit", "trail": [[t, lon, lat]]}
        self.targets: dict[str, dict[str, Any]] = {}
        self._others: tuple[list[str], np.ndarray] | None = None

    def step(self, fixes: Sequence[PositionFix], *, assoc: Associator, coverage: Coverage,
             nearest_places: NearestPlaces) -> list[DarkFinding]:
        rule = self.rule
        if not rule.enabled:
            return []
        out: list[DarkFinding] = []
        min_s = (self.floor_min if self.floor_min is not None else rule.min_unmatched_min) * 60.0
        radar = [f for f in fixes if is_radar_target(f.vessel_id)]
        if not radar:
            return out
        self._others = None  # positions of every target, built once per scan when a rule asks
        new: list[tuple[PositionFix, dict[str, Any]]] = []
        judge: list[tuple[PositionFix, dict[str, Any], tuple[str, ...]]] = []
        for f in radar:
            t = f.ts.timestamp()
            st = self.targets.get(f.vessel_id)
            if st is None:
                st = self.targets[f.vessel_id] = {"t0": t, "lon0": f.lon, "lat0": f.lat, "d0": None, "since": t,
                                                   "last_emit": None, "trail": []}
                new.append((f, st))
            st.update(t=t, lon=f.lon, lat=f.lat)
            trail = st["trail"]
            if not trail or t - trail[-1][0] >= 30.0:
                trail.append([t, f.lon, f.lat])
                while trail and trail[0][0] < t - max(min_s, 600.0) * 2:
                    trail.pop(0)
            if assoc.match_of(f.vessel_id) is not None:
                st["since"] = t  # explained: the unmatched clock starts again
                continue
            sensors = tuple(coverage.radars_seeing(f.lon, f.lat))
            if not sensors:
                st["since"] = t  # outside coverage: nobody can say it is unexplained
                continue
            if t - st["since"] < min_s or (st["last_emit"] is not None and t - st["last_emit"] < 60.0):
                continue
            judge.append((f, st, sensors))
        if new:  # where a target was first seen: how far from the nearest landing place
            for (f, st), near in zip(new, nearest_places([f.lon for f, _st in new], [f.lat for f, _st in new])):
                st["d0"] = near[1] if near else None
        if not judge:
            return out
        places = nearest_places([f.lon for f, *_x in judge], [f.lat for f, *_x in judge])
        for (f, st, sensors), near in zip(judge, places):
            t = f.ts.timestamp()
            r = self.rule_at(near[0].township if near else "", t) if self.rule_at is not None else rule
            if not r.enabled or t - st["since"] < r.min_unmatched_min * 60.0:
                continue
            behaviour, closed, others = self._behaviour(f, t, st, near, assoc, r)
            if behaviour is None:
                continue
            st["last_emit"] = t
            was = assoc.association(f.vessel_id)
            out.append(DarkFinding(
                target=f.vessel_id, sensors=sensors, behaviour=behaviour, start_s=st["since"], end_s=t,
                unmatched_min=round((t - st["since"]) / 60.0, 1), place=near[0] if near else None,
                place_distance_m=round(near[1], 1) if near else None, closed_m=round(closed, 1), others=others,
                fixes=(f,), was_associated_with=was.vessel_id if was is not None and not was.active else None,
            ))
        return out

    def _radar_near(self, f: PositionFix, t: float, assoc: Associator, meet_m: float) -> tuple[str, ...]:
        """Other radar targets seen within a minute of ``t`` within ``meet_m`` (arrays built once per scan)."""
        if self._others is None:
            ids = list(assoc.radar_last)
            arr = np.array([assoc.radar_last[k] for k in ids], dtype=float).reshape(-1, 3)
            self._others = (ids, arr)
        ids, arr = self._others
        if not ids:
            return ()
        kx = 111_320.0 * math.cos(math.radians(f.lat))
        d = np.hypot((arr[:, 1] - f.lon) * kx, (arr[:, 2] - f.lat) * 111_320.0)
        hit = np.nonzero((d <= meet_m) & (np.abs(arr[:, 0] - t) <= 60.0))[0]
        return tuple(ids[i] for i in hit if ids[i] != f.vessel_id)

    def _behaviour(self, f: PositionFix, t: float, st: dict[str, Any], near, assoc: Associator, rule: DarkTargetRule):
        others = self._radar_near(f, t, assoc, rule.meet_m) + tuple(assoc.coop_near(f.lon, f.lat, t, rule.meet_m))
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


FUSION_KEY = "fusion"
#: association / dark-target state older than this is forgotten (bounded state)
FORGET_AFTER_S = 6 * 3600.0
BEHAVIOUR_FACTOR = {"toward_shore": 1.0, "meeting": 1.0, "loitering": 0.7}


class FusionState:
    """The shared state of the tracker: the associator and the dark-target clocks."""

    def __init__(self, assoc: Associator | None = None, dark: DarkTargets | None = None) -> None:
        self.assoc = assoc or Associator()
        self.dark = dark or DarkTargets()
        self.changes: list[Association] = []

    def to_dict(self) -> dict[str, Any]:
        return {"type": "fusion", "assoc": self.assoc.to_dict(), "dark": self.dark.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FusionState:
        return cls(Associator.from_dict(d.get("assoc")), DarkTargets.from_dict(d.get("dark")))


register_state_type("fusion", FusionState)


class DarkTargetTracker(Tracker):
    """Radar ↔ cooperative association and ``dark_target`` (see the module docstring).

    The sensors come from the context (``ctx.sensors``, the registered radars); with none the
    tracker does nothing. The rule is the detector settings' ``dark_target`` per area (the
    township of the nearest landing place) and season; ``ctx.dark_rule`` fixes one instead.
    """

    name = "dark_targets"
    kinds = ("dark_target",)

    def bind(self, ctx: TrackerContext) -> None:
        super().bind(ctx)
        self.coverage = Coverage(getattr(ctx, "sensors", ()) or ())
        #: an explicit rule (tests, benchmarks) instead of the detector settings per area and season
        self.fixed_rule: DarkTargetRule | None = getattr(ctx, "dark_rule", None)
        sets = [s.dark_target for s in ctx.config.all_sets()]
        self.rule = self.fixed_rule or ctx.config.for_area(area="", month=1).dark_target
        self.floor_min = None if self.fixed_rule else min(r.min_unmatched_min for r in sets)
        self.reach_m = self.rule.near_shore_m if self.fixed_rule else max(r.near_shore_m for r in sets)
        #: associations that began, changed or ended in the last batch (the Django side stores them)
        self.last_changes: list[Association] = []

    def rule_for(self, area: str, t: float) -> DarkTargetRule:
        """The rule in force in an area (township; "" at sea) at a time: the detector settings'
        ``dark_target`` per area and season, unless the pipeline was given a fixed rule."""
        if self.fixed_rule is not None:
            return self.fixed_rule
        return self.ctx.config.for_area(area=area, month=self.ctx.clock.month(t)).dark_target

    def fusion(self, b: Batch) -> FusionState:
        return b.shared_state(FUSION_KEY, FusionState, FusionState)

    def _nearest_places(self, lons: Sequence[float], lats: Sequence[float]) -> list[tuple[Any, float] | None]:
        idx, dist = self.ctx.index.nearest_within_many(lons, lats, distance_m=self.reach_m)
        gfs = self.ctx.index.geofences
        return [None if i < 0 else (gfs[int(i)], float(d)) for i, d in zip(idx.tolist(), dist.tolist())]

    def begin(self, b: Batch, cols: FixColumns) -> None:
        self.last_changes = []
        if not self.coverage:
            return
        fz = self.fusion(b)
        fz.dark.rule = self.rule
        fz.dark.rule_at = None if self.fixed_rule else self.rule_for
        fz.dark.floor_min = self.floor_min
        order = sorted(range(len(cols.fixes)), key=lambda i: cols.ts_l[i])
        fixes = [cols.fixes[i] for i in order]
        found: list[DarkFinding] = []

        def on_scan(scan: list[PositionFix]) -> None:
            found.extend(fz.dark.step(scan, assoc=fz.assoc, coverage=self.coverage, nearest_places=self._nearest_places))

        fz.changes = self.last_changes = fz.assoc.observe(fixes, on_scan=on_scan)
        for df in found:
            self._emit(b, fz, df)
        horizon = float(cols.ts.max()) - FORGET_AFTER_S
        fz.assoc.forget_before(horizon)
        fz.dark.forget_before(horizon)

    def _emit(self, b: Batch, fz: FusionState, df: DarkFinding) -> None:
        ctx = self.ctx
        gfo = df.place if df.place is not None and (df.place_distance_m or 0.0) <= 3000.0 else None
        month = ctx.clock.month(df.start_s)
        area = gfo.township if gfo is not None else ""
        lp = ctx.config.for_area(area=area, month=month).idle_pier_landing
        factors = {
            "behaviour": BEHAVIOUR_FACTOR[df.behaviour],
            "location": place_risk(gfo) if gfo is not None else 0.3,
            "night": 1.0 if ctx.clock.in_window(df.end_s, start=lp.night_start, end=lp.night_end) else 0.0,
        }
        tide, tw = tide_proximity(df.start_s, df.end_s, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        evidence: dict[str, Any] = {
            "behaviour": df.behaviour, "unmatched_min": df.unmatched_min, "sensors": list(df.sensors),
            "nearest_place": df.place.name if df.place is not None else None,
            "place_distance_m": df.place_distance_m, "closed_on_shore_m": df.closed_m, "met": list(df.others),
        }
        if df.was_associated_with:
            evidence["was_associated_with"] = df.was_associated_with
        ctx.emit(
            b, kind="dark_target", vessels=(df.target,), geofence=gfo, start_s=df.start_s, end_s=df.end_s,
            factors=factors, evidence=evidence, key=f"dark_target|{df.target}", ongoing=True, fixes=df.fixes,
            tide_window=tw, detector=self.rule_for(area, df.end_s), area=area, month=month,
        )

    # ------------------------------------------------------------ asked by the other trackers / the pipeline
    def judge_gap(self, b: Batch, st: VesselState, last: PositionFix, fix: PositionFix,
                  factors: dict[str, float], evidence: dict[str, Any]) -> None:
        """``dark_vessel``: confirmed when a radar track that was this vessel went on after its last
        cooperative fix; scored lower when the vessel fell silent outside all radar coverage."""
        if not self.coverage or is_radar_target(st.vessel_id):
            return
        fz = self.fusion(b)
        t0 = last.ts.timestamp()
        rule = self.rule_for("", t0)
        for tid in fz.assoc.targets_of(st.vessel_id):
            seen = fz.assoc.radar_last.get(tid)
            if seen is not None and seen[0] - t0 >= rule.confirm_continue_min * 60.0:
                sensor = (parse_target_id(tid) or ("?", None))[0]
                evidence["confirmed_by_radar"] = {
                    "radar_target": tid, "sensor": sensor, "continued_min": round((seen[0] - t0) / 60.0, 1),
                    "last_lon": seen[1], "last_lat": seen[2],
                }
                evidence["confirmed"] = True
                evidence["sensors"] = [sensor]
                factors["corroboration"] = 1.0
                return
        if self.coverage.covered(last.lon, last.lat):
            evidence["coverage"] = "inside"
        else:
            evidence["coverage"] = "outside"  # a coverage gap, not necessarily switching off
            factors["behaviour"] = round(float(factors.get("behaviour", 0.0)) * rule.outside_coverage_behaviour, 4)

    def sensors_of(self, b: Batch, vessels: tuple[str, ...]) -> tuple[list[str], bool]:
        """(radars that saw these vessels, whether one of them is a radar track of a known vessel)."""
        if not self.coverage:
            return [], False
        fz = self.fusion(b)
        sensors: list[str] = []
        shadow = False
        for v in vessels:
            if is_radar_target(v):
                sensors.append((parse_target_id(v) or ("?", None))[0])
                shadow = shadow or fz.assoc.match_of(v) is not None
            else:
                sensors += [(parse_target_id(t) or ("?", None))[0] for t in fz.assoc.targets_of(v)]
        return sorted(set(sensors)), shadow
