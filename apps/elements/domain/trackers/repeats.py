"""Repeat visits -> ``repeat_visit``: the same vessel (or watch-list group) stopping at the same
idle pier again within the rule's window (every 2-3 days), counted per burst."""
from __future__ import annotations

from typing import Final

from apps.elements.domain.detectors import DetectorSet, tide_proximity, utc_dt
from apps.elements.domain.geometry import Geofence
from apps.elements.domain.state import VesselState, VisitState

from .base import Batch, stamp
from .visits import VisitListener, VisitTracker

CHAIN_MAX_STOPS: Final[int] = 20  # evidence kept per repeat-visit burst (the count goes on)


class RepeatTracker(VisitListener):
    name = "repeats"
    kinds = ("repeat_visit",)

    def uses_site(self, gfo: Geofence, det: DetectorSet) -> bool:
        return det.repeat_visit.applies_to(gfo)

    def connect(self, trackers) -> None:  # type: ignore[no-untyped-def]
        self.visits = next(t for t in trackers if isinstance(t, VisitTracker))

    def on_visit(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet, t: float) -> None:
        rp = det.repeat_visit
        if not v.repeat_done and v.slow_s >= rp.min_stop_min * 60.0 and rp.applies_to(gfo):
            v.repeat_done = True
            self.on_stop(b, st, v, gfo, det)

    def on_stop(self, b: Batch, st: VesselState, v: VisitState, gfo: Geofence, det: DetectorSet) -> None:
        """A stop long enough to count: extend the actor's chain at this site and judge it."""
        ctx = self.ctx
        rp = det.repeat_visit
        site = b.site(gfo.id)
        group = ctx.watchlist.get(st.vessel_id) if rp.by_group else None
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
        del chain["stops"][:-CHAIN_MAX_STOPS]
        chain["last_s"] = t
        chain["count"] += 1
        n = chain["count"]
        factors = rp.judge(stops_in_chain=n, geofence=gfo)
        if factors is None:
            return
        lp = det.idle_pier_landing
        factors["night"] = 1.0 if ctx.clock.in_window(t, start=lp.night_start, end=lp.night_end) else 0.0
        tide, tw = tide_proximity(t, v.last_in_s, tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        vessels: list[str] = []
        for vid, _ in chain["stops"]:
            if vid not in vessels:
                vessels.append(vid)
        ctx.emit(
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
            key=f"repeat_visit|{gfo.id}|{actor}|{stamp(chain['start_s'])}",
            ongoing=False,
            fixes=self.visits.visit_fixes(v),
            tide_window=tw,
            detector=rp,
            area=gfo.township,
            month=v.month,
        )
