"""Scout boats -> ``scout_boat``: a probe (a short, moving pass through an idle pier) followed
within the rule's lag by another vessel that stops there."""
from __future__ import annotations

from typing import Any

from apps.elements.domain.detectors import DetectorSet, tide_proximity, utc_dt
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.state import SiteState, VesselState, VisitState

from .base import Batch, stamp
from .visits import VisitListener


class ScoutTracker(VisitListener):
    name = "scouts"
    kinds = ("scout_boat",)

    def uses_site(self, gfo: Geofence, det: DetectorSet) -> bool:
        return det.scout_boat.applies_to(gfo)

    def on_visit(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float) -> None:
        sb = det.scout_boat
        if not v.scout_done and v.slow_s >= sb.follower_stop_min * 60.0 and sb.applies_to(gfo):
            v.scout_done = True
            self.on_follower_stop(b, st, v, gfo, det)

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
        sb = det.scout_boat
        stay_s = v.last_in_s - v.arrive_s
        if sb.applies_to(gfo) and sb.is_probe(stay_s=stay_s, slow_s=v.slow_s, min_speed_kn=v.min_speed_kn):
            rec["probe"] = True
            for other in site.visits:
                if other["follows"] and other["vessel"] != st.vessel_id and rec["arrive_s"] < other["arrive_s"]:
                    self.pair(b, gfo, det, site, probe=rec, follower=other)

    def on_follower_stop(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet) -> None:
        site = b.site(gfo.id)
        follower = site.find_visit(st.vessel_id, v.arrive_s)
        if follower is None:
            return
        follower["follows"] = True
        for probe in site.visits:
            if probe["probe"] and probe["vessel"] != st.vessel_id and probe["leave_s"] is not None:
                self.pair(b, gfo, det, site, probe=probe, follower=follower)

    def pair(
        self,
        b: Batch,
        gfo: Geofence,
        det: DetectorSet,
        site: SiteState,
        *,
        probe: dict[str, Any],
        follower: dict[str, Any],
    ) -> None:
        ctx = self.ctx
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
        factors["night"] = 1.0 if ctx.clock.in_window(t_f, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(t_f, t_f, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        fst = b.vessel(follower["vessel"])
        if fst.visit is not None and fst.visit.geofence_id == gfo.id and fst.visit.arrive_s == t_f:
            if probe["vessel"] not in fst.visit.scouted_by:
                fst.visit.scouted_by.append(probe["vessel"])
        ctx.emit(
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
            key=f"scout_boat|{gfo.id}|{probe['vessel']}|{follower['vessel']}|{stamp(probe['arrive_s'])}",
            ongoing=False,
            fixes=(*probe["fixes"], follower["fixes"][0]),
            tide_window=tw,
            detector=sb,
            area=gfo.township,
            month=ctx.clock.month(t_f),
        )
