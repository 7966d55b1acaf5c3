"""Checkpoint captures x vessel stops -> ``vehicle_vessel``: a watched or unregistered vehicle
captured near an idle pier while (or shortly before/after) a vessel is stopped there. A match
also corroborates the landing, which is re-judged at once."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apps.elements.domain.detectors import DetectorSet, VehicleVessel, tide_proximity, utc_dt
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.model import VehicleCapture
from apps.elements.domain.state import SiteState, VesselState, VisitState

from .base import Batch, stamp
from .visits import VisitListener, VisitTracker


class VehicleTracker(VisitListener):
    name = "vehicles"
    kinds = ("vehicle_vessel",)

    def uses_site(self, gfo: Geofence, det: DetectorSet) -> bool:
        return det.vehicle_vessel.applies_to(gfo)

    def connect(self, trackers) -> None:  # type: ignore[no-untyped-def]
        self.visits = next(t for t in trackers if isinstance(t, VisitTracker))

    def on_visit(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float) -> None:
        vv = det.vehicle_vessel
        if not v.vehicle_done and v.slow_s >= vv.min_stop_min * 60.0 and vv.applies_to(gfo):
            v.vehicle_done = True
            self.on_stop(b, st, v, gfo, det, t)

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
        if rec["hits"]:
            self.emit_vehicle(b, gfo, rec, det.vehicle_vessel, det, ongoing=False)

    def on_stop(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float) -> None:
        """The vessel has stopped long enough: match the captures already seen around it."""
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
            self.emit_vehicle(b, gfo, rec, vv, det, ongoing=True)

    def on_captures(self, b: Batch, captures: Sequence[VehicleCapture]) -> None:
        """Record captures near watched sites and match them with stops there."""
        ctx = self.ctx
        reach = max(s.vehicle_vessel.max_distance_m for s in ctx.config.all_sets())
        for cap in sorted(captures, key=lambda c: (c.ts, c.checkpoint_id, c.plate)):
            if cap.ts.tzinfo is None:
                raise ValueError("VehicleCapture.ts must be timezone-aware")
            if cap.lon is not None and cap.lat is not None:
                lon, lat = cap.lon, cap.lat
            elif cap.checkpoint_id in ctx.checkpoints:
                lon, lat = ctx.checkpoints[cap.checkpoint_id]
            else:
                ctx.stats["captures_skipped"] += 1
                continue
            watched = cap.plate in ctx.vehicle_watchlist
            if not watched and ctx.is_known_vehicle(cap.plate):
                continue  # a registered, unwatched vehicle corroborates nothing
            status = "watched" if watched else "unknown"
            t = cap.ts.timestamp()
            month = ctx.clock.month(t)
            for g, d in ctx.index.geofences_within(lon, lat, distance_m=reach):
                gfo = ctx.index.geofences[g]
                det = ctx.det_for(gfo, month)
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
                        vdet = ctx.det_for(gfo, ctx.clock.month(visit["arrive_s"]))
                        ongoing = visit["leave_s"] is None
                        self.emit_vehicle(b, gfo, visit, vdet.vehicle_vessel, vdet, ongoing=ongoing)
                        vst = b.vessel(visit["vessel"])
                        vis = vst.visit
                        same = vis is not None and vis.geofence_id == gfo.id and vis.arrive_s == visit["arrive_s"]
                        if ongoing and same and vis is not None and vis.landing_key is not None:
                            self.visits.visit_judge(b, vst, vis, gfo, vdet, vis.last_in_s, ongoing=True, force=True)

    def emit_vehicle(
        self, b: Batch, gfo: Geofence, rec: dict[str, Any], vv: VehicleVessel, det: DetectorSet, *, ongoing: bool
    ) -> None:
        ctx = self.ctx
        hits = rec["hits"]
        n_w = sum(1 for h in hits if h["status"] == "watched")
        factors = vv.judge(n_watched=n_w, n_unknown=len(hits) - n_w, geofence=gfo)
        if factors is None:
            return
        lp = det.idle_pier_landing
        s0 = rec["stop_s"] if rec["stop_s"] is not None else rec["arrive_s"]
        s1 = rec["leave_s"] if rec["leave_s"] is not None else rec["last_s"]
        if s1 > s0:
            factors["night"] = ctx.clock.window_overlap_s(s0, s1, start=lp.night_start, end=lp.night_end) / (s1 - s0)
        else:
            factors["night"] = 1.0 if ctx.clock.in_window(s0, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(s0, s1, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        end_s = max([s1, *[h["ts_s"] for h in hits]])
        ctx.emit(
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
            key=f"vehicle_vessel|{gfo.id}|{rec['vessel']}|{stamp(rec['arrive_s'])}",
            ongoing=ongoing,
            fixes=tuple(rec["fixes"]),
            tide_window=tw,
            detector=vv,
            area=gfo.township,
            month=ctx.clock.month(rec["arrive_s"]),
        )
