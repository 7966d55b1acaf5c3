"""Stays in a geofence -> ``idle_pier_landing``; the visit lifecycle other trackers listen to.

A visit opens with the first fix inside a geofence, goes on while the vessel reports inside
(a silence inside up to the dark-vessel rule's ``max_gap_min`` keeps it open), survives short
excursions, and closes ``visit_exit_grace_min`` after the vessel was last inside (event
time: at a later fix of the vessel or when the batch's time has passed the grace).
Stopped time and night-time stopped time are summed between consecutive stopped fixes inside.

Trackers that judge visits (repeats, vehicles, scouts) subclass :class:`VisitListener`:
they are told at each re-judgement of an open visit (``on_visit``) and when it closes
(``on_visit_closed``), and they say whether a geofence needs a per-site record
(``uses_site``) in :class:`~apps.elements.domain.state.SiteState`.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from apps.elements.domain.detectors import DetectorSet, tide_proximity, utc_dt
from apps.elements.domain.geo_units import MS_PER_KNOT, haversine_m
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.model import PositionFix
from apps.elements.domain.state import SiteState, VesselState, VisitState

from .base import Batch, FixColumns, Tracker, TrackerContext, stamp


class VisitListener(Tracker):
    """A tracker that judges geofence visits (told by :class:`VisitTracker`)."""

    def uses_site(self, gfo: Geofence, det: DetectorSet) -> bool:
        return False

    def on_visit(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float) -> None:
        """An open visit was re-judged at event time ``t``."""

    def on_visit_closed(
        self,
        b: Batch,
        st: VesselState,
        v: VisitState,
        gfo: Geofence,
        det: DetectorSet,
        site: SiteState,
        rec: dict[str, Any],
    ) -> None:
        """A visit with a site record closed (``rec`` already holds its leave time)."""


class VisitTracker(Tracker):
    name = "visits"
    kinds = ("idle_pier_landing",)
    per_target = True

    def bind(self, ctx: TrackerContext) -> None:
        super().bind(ctx)
        cfg = ctx.config
        self.grace_s = cfg.visit_exit_grace_min * 60.0
        self.visit_max_gap_s = max(s.dark_vessel.max_gap_min for s in cfg.all_sets()) * 60.0
        self.gf_ids: list[str | int] = [g.id for g in ctx.index.geofences]
        self.listeners: list[VisitListener] = []
        self._relevant: dict[tuple[str | int, int], bool] = {}  # (geofence, detector set) -> needs a site record
        #: vessels last seen outside their open visit's geofence (closed by event time at the
        #: end of a batch once the grace has passed, even if the vessel never reports again)
        self.outside: set[str] = set()

    def connect(self, trackers: Sequence[Tracker]) -> None:
        self.listeners = [t for t in trackers if isinstance(t, VisitListener)]

    @contextmanager
    def alone(self) -> Iterator[None]:
        """Judge landings only (no listeners, no site records): re-judging one vessel after
        late data must not replay its visits into the shared per-site memory."""
        listeners, relevant = self.listeners, self._relevant
        self.listeners, self._relevant = [], {}
        try:
            yield
        finally:
            self.listeners, self._relevant = listeners, relevant

    def site_relevant(self, gfo: Geofence, det: DetectorSet) -> bool:
        key = (gfo.id, id(det))
        hit = self._relevant.get(key)
        if hit is None:
            hit = self._relevant[key] = any(lst.uses_site(gfo, det) for lst in self.listeners)
        return hit

    # ------------------------------------------------------------------ walk hooks

    def begin(self, b: Batch, cols: FixColumns) -> None:
        self.gf_l = cols.gf_l

    def tick(self, b: Batch, now_s: float) -> None:
        if self.outside:
            self.close_left_visits(b, now_s)

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        g = self.gf_l[i]
        if g >= 0 or st.visit is not None:
            self.on_geofence(b, st, fix, t, g, sp)

    def end(self, b: Batch, now_s: float) -> None:
        if self.outside:
            self.close_left_visits(b, now_s)

    def close_left_visits(self, b: Batch, now_s: float) -> None:
        """Close visits whose vessel left the geofence more than the grace ago (event time)."""
        for vid in sorted(self.outside):
            st = b.vessel(vid)
            v = st.visit
            if v is None or st.last_s is None or st.last_s <= v.last_in_s:
                self.outside.discard(vid)
            elif now_s - v.last_in_s >= self.grace_s:
                self.visit_close(b, st, v)
                st.visit = None
                self.outside.discard(vid)

    # ------------------------------------------------------------------ the visit

    def on_geofence(self, b: Batch, st: VesselState, fix: PositionFix, t: float, g: int, sp: float) -> None:
        v = st.visit
        if v is not None:
            if g >= 0 and self.gf_ids[g] == v.geofence_id:
                if t - v.last_in_s <= self.visit_max_gap_s:
                    if self.outside:
                        self.outside.discard(st.vessel_id)
                    self.visit_continue(b, st, v, fix, t, sp)
                    return
            elif g < 0 and t - v.last_in_s < self.grace_s:
                v.prev_slow = False  # a short excursion so far: the visit goes on
                self.outside.add(st.vessel_id)
                return
            self.visit_close(b, st, v)
            st.visit = None
            self.outside.discard(st.vessel_id)
        if g >= 0:
            self.visit_open(b, st, fix, t, g, sp)

    def visit_open(self, b: Batch, st: VesselState, fix: PositionFix, t: float, g: int, sp: float) -> None:
        ctx = self.ctx
        gfo = ctx.index.geofences[g]
        month = ctx.clock.month(t)
        det = ctx.det_for(gfo, month)
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
        if self.site_relevant(gfo, det):
            site = b.site(gfo.id)
            site.prune(t)
            site.visits.append(
                {
                    "vessel": st.vessel_id,
                    "group": ctx.watchlist.get(st.vessel_id),
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

    def visit_continue(self, b: Batch, st: VesselState, v: VisitState, fix: PositionFix, t: float, sp: float) -> None:
        ctx = self.ctx
        gfo = ctx.geofence(v.geofence_id)
        if gfo is None:
            st.visit = None
            return
        det = ctx.det_for(gfo, v.month)
        lp = det.idle_pier_landing
        slow = sp <= lp.max_speed_kn
        contiguous = v.last_in_s == st.last_s  # previous fix was inside too
        if contiguous:
            dt = t - v.last_in_s
            if dt > v.max_gap_s:
                v.max_gap_s = dt
            # Stopped in between when stopped now and either stopped before or the
            # interval's own implied speed is that low (e.g. silent at anchor for hours).
            if slow and (v.prev_slow or implied_kn(st.last_fix, fix, dt) <= lp.max_speed_kn):
                v.slow_s += dt
                v.night_slow_s += ctx.clock.window_overlap_s(v.last_in_s, t, start=lp.night_start, end=lp.night_end)
        if slow and v.stop_start_s is None:
            v.stop_start_s = t
        if sp == sp and (v.min_speed_kn is None or sp < v.min_speed_kn):
            v.min_speed_kn = sp
        v.prev_slow = slow
        v.last_in_s = t
        v.n_in += 1
        recent = v.recent
        recent.append(fix)
        cap = ctx.config.max_evidence_fixes
        if len(recent) > 2 * cap:
            del recent[: len(recent) - cap]
        self.visit_judge(b, st, v, gfo, det, t, ongoing=True)

    def visit_judge(
        self,
        b: Batch,
        st: VesselState,
        v: VisitState,
        gfo: Geofence,
        det: DetectorSet,
        t: float,
        *,
        ongoing: bool,
        force: bool = False,
    ) -> None:
        """Tell the listeners, then judge the landing (at most every ``reeval_min`` while
        it goes on, unless ``force``)."""
        ctx = self.ctx
        for lst in self.listeners:
            lst.on_visit(b, st, v, gfo, det, t)
        lp = det.idle_pier_landing
        if v.landing_key is not None and ongoing and not force and t - v.last_eval_s < ctx.reeval_s:
            return
        relevant = self.site_relevant(gfo, det)
        if relevant:
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
            v.landing_key = f"idle_pier_landing|{gfo.id}|{st.vessel_id}|{stamp(v.arrive_s)}"
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
        if relevant:
            rec = b.site(gfo.id).find_visit(st.vessel_id, v.arrive_s)
            if rec is not None and rec["hits"]:
                corroboration = 1.0
                evidence["vehicle_captures"] = [dict(h) for h in rec["hits"]]
        factors["corroboration"] = corroboration
        stop0 = v.stop_start_s if v.stop_start_s is not None else v.arrive_s
        tide, tw = tide_proximity(stop0, v.last_in_s, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        ctx.emit(
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
            fixes=self.visit_fixes(v),
            tide_window=tw,
            detector=lp,
            area=gfo.township,
            month=v.month,
        )

    def visit_fixes(self, v: VisitState) -> tuple[PositionFix, ...]:
        """The evidence fixes of a visit: the first one and the latest ones."""
        cap = self.ctx.config.max_evidence_fixes
        tail = v.recent[-(cap - 1) :] if cap > 1 else []
        if v.first_fix is not None and (not tail or tail[0] is not v.first_fix):
            return (v.first_fix, *tail)
        return tuple(tail)

    def visit_close(self, b: Batch, st: VesselState, v: VisitState) -> None:
        gfo = self.ctx.geofence(v.geofence_id)
        if gfo is None:
            return
        det = self.ctx.det_for(gfo, v.month)
        if v.landing_key is not None:
            self.visit_judge(b, st, v, gfo, det, v.last_in_s, ongoing=False)
        if not self.site_relevant(gfo, det):
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
        for lst in self.listeners:
            lst.on_visit_closed(b, st, v, gfo, det, site, rec)


def implied_kn(a: PositionFix | None, b: PositionFix, dt_s: float) -> float:
    """The speed (knots) a vessel needs to go from fix ``a`` to fix ``b`` in ``dt_s``."""
    if a is None or dt_s <= 0:
        return math.inf
    return haversine_m(a.lon, a.lat, b.lon, b.lat) / dt_s / MS_PER_KNOT
