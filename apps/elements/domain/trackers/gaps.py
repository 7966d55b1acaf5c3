"""Reporting gaps -> ``dark_vessel``: a vessel falls silent near the coast and reappears."""
from __future__ import annotations

from apps.elements.domain.detectors import tide_proximity
from apps.elements.domain.geo_units import haversine_m
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.model import PositionFix
from apps.elements.domain.state import VesselState

from .base import Batch, Tracker, TrackerContext, stamp


class GapTracker(Tracker):
    """A silence of at least the dark-vessel rule's ``min_gap_min`` between two fixes of a
    vessel is judged by :class:`~apps.elements.domain.detectors.DarkVessel` with the geofences
    near where it went silent and where it came back."""

    name = "gaps"
    kinds = ("dark_vessel",)
    per_target = True

    def bind(self, ctx: TrackerContext) -> None:
        super().bind(ctx)
        self.min_gap_s = ctx.config.min_gap_s()
        self.fusion = None

    def connect(self, trackers) -> None:
        # radar confirms a gap (or says it lies outside coverage): the dark-target tracker knows
        self.fusion = next((t for t in trackers if t.name == "dark_targets"), None)

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        if st.last_s is not None and t - st.last_s >= self.min_gap_s:
            self.judge_gap(b, st, fix, t)

    def judge_gap(self, b: Batch, st: VesselState, fix: PositionFix, t: float) -> None:
        ctx = self.ctx
        last = st.last_fix
        assert last is not None and st.last_s is not None
        t0 = st.last_s
        month = ctx.clock.month(t0)
        dv0 = ctx.config.for_area(area="", month=month).dark_vessel
        reach = max(s.dark_vessel.near_coast_m for s in ctx.config.all_sets())
        idx, dist = ctx.index.nearest_within_many([last.lon, fix.lon], [last.lat, fix.lat], distance_m=reach)
        near: list[tuple[Geofence, float] | None] = []
        for k in range(2):
            near.append(None if idx[k] < 0 else (ctx.index.geofences[int(idx[k])], float(dist[k])))
        anchor = near[1] or near[0]
        area = anchor[0].township if anchor is not None else ""
        dv = ctx.config.for_area(area=area, month=month).dark_vessel if anchor is not None else dv0
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
        factors["night"] = ctx.clock.window_overlap_s(t0, t, start=dv.night_start, end=dv.night_end) / gap_s
        tide, tw = tide_proximity(t0, t, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        gfo = anchor[0] if anchor is not None and anchor[1] <= dv.near_pier_m else None
        if self.fusion is not None:
            self.fusion.judge_gap(b, st, last, fix, factors, evidence)
        ctx.emit(
            b,
            kind="dark_vessel",
            vessels=(st.vessel_id,),
            geofence=gfo,
            start_s=t0,
            end_s=t,
            factors=factors,
            evidence=evidence,
            key=f"dark_vessel|{st.vessel_id}|{stamp(t0)}",
            ongoing=False,
            fixes=(last, fix),
            tide_window=tw,
            detector=dv,
            area=area,
            month=month,
        )
