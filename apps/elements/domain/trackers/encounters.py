"""Encounters at sea -> ``rendezvous``: two vessels slow and close together, away from every
geofence and port, for long enough (transshipment from a mother ship).

Slow fixes at sea are sampled (``sample_interval_s``) into a coarse grid (cells at least
``max_distance_m`` wide); a sample is paired with the other vessels' latest samples in the
nine cells around it that are close in space and in time (``max_time_skew_s``). A pair's
encounter goes on while close samples keep coming (pauses up to ``max_pause_min``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from apps.elements.domain.detectors import Rendezvous, tide_proximity
from apps.elements.domain.geo_units import haversine_m
from apps.elements.domain.model import PositionFix
from apps.elements.domain.state import RendezvousState, VesselState

from .base import Batch, FixColumns, Tracker, TrackerContext, stamp


class EncounterTracker(Tracker):
    name = "encounters"
    kinds = ("rendezvous",)

    def bind(self, ctx: TrackerContext) -> None:
        super().bind(ctx)
        rv_sets = [s.rendezvous for s in ctx.config.all_sets() if s.rendezvous.enabled]
        self.on = bool(rv_sets)
        self.speed_kn = max((r.max_speed_kn for r in rv_sets), default=-1.0)
        self.port_m = max((r.min_port_distance_m for r in rv_sets), default=0.0)
        self.max_pause_s = max((r.max_pause_min for r in rv_sets), default=0.0) * 60.0
        self.max_skew_s = max((r.max_time_skew_s for r in rv_sets), default=0.0)
        # Cells at least max_distance_m wide in both axes up to 60 degrees of latitude.
        self.cell_deg = max(2.0 * max((r.max_distance_m for r in rv_sets), default=1.0) / 111_320.0, 1e-4)

    # ------------------------------------------------------------------ walk hooks

    def begin(self, b: Batch, cols: FixColumns) -> None:
        if not self.on:
            return
        cand = (cols.gf < 0) & ~(cols.sog > self.speed_kn)  # NaN speed stays a candidate
        idx = np.flatnonzero(cand)
        if idx.size and self.port_m > 0:
            cand[idx[self.ctx.index.within_distance_mask(cols.lon[idx], cols.lat[idx], distance_m=self.port_m)]] = False
        self.cand_l = cand.tolist()
        self.lon_l = cols.lon_l
        self.lat_l = cols.lat_l
        self.rvs = b.rendezvous()

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        if not self.on:
            return
        rvs = self.rvs
        if self.cand_l[i] and sp <= self.speed_kn:
            self.on_sea_slow(b, rvs, st, fix, t, self.lon_l[i], self.lat_l[i], sp)
        elif st.vessel_id in rvs.cell_of:
            rvs.remove(st.vessel_id)

    def end(self, b: Batch, now_s: float) -> None:
        if self.on:
            self.sweep(b, self.rvs, now_s)

    # ------------------------------------------------------------------ pairing

    def on_sea_slow(
        self,
        b: Batch,
        rvs: RendezvousState,
        st: VesselState,
        fix: PositionFix,
        t: float,
        lon: float,
        lat: float,
        sp: float,
    ) -> None:
        ctx = self.ctx
        rv = ctx.config.for_area(area="", month=ctx.clock.month(t)).rendezvous
        vid = st.vessel_id
        if not rv.enabled or sp > rv.max_speed_kn:
            if vid in rvs.cell_of:
                rvs.remove(vid)
            return
        if st.rv_last_s is not None and t - st.rv_last_s < rv.sample_interval_s:
            return
        st.rv_last_s = t
        cs = self.cell_deg
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
            self.pair_close(b, rvs, rv, vid, fix, t, ovid, ofix, ot, d)

    def pair_close(
        self,
        b: Batch,
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
            self.pair_end(b, p)
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
                "month": self.ctx.clock.month(min(t, ot)),
            }
            rvs.pairs[pk] = p
        p["last_s"] = max(p["last_s"], t)
        p["n"] += 1
        if d < p["min_d"]:
            p["min_d"] = d
        p["last_fixes"] = [fa, fc]
        if p["key"] is None or t - p["last_eval_s"] >= self.ctx.reeval_s:
            self.pair_judge(b, p, ongoing=True)

    def pair_judge(self, b: Batch, p: dict[str, Any], *, ongoing: bool) -> None:
        ctx = self.ctx
        rv = ctx.config.for_area(area="", month=p["month"]).rendezvous
        duration = p["last_s"] - p["first_s"]
        factors = rv.judge(duration_s=duration, min_distance_m=p["min_d"])
        if factors is None:
            return
        p["last_eval_s"] = p["last_s"]
        if p["key"] is None:
            p["key"] = f"rendezvous|{p['a']}|{p['b']}|{stamp(p['first_s'])}"
        lp = ctx.config.for_area(area="", month=p["month"]).idle_pier_landing
        factors["night"] = (
            ctx.clock.window_overlap_s(p["first_s"], p["last_s"], start=lp.night_start, end=lp.night_end) / duration
            if duration > 0
            else 0.0
        )
        tide, tw = tide_proximity(p["first_s"], p["last_s"], tide_window_at=ctx.tide_window_at)
        factors["tide"] = tide
        ctx.emit(
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

    def pair_end(self, b: Batch, p: dict[str, Any]) -> None:
        if p["key"] is not None:
            self.pair_judge(b, p, ongoing=False)

    def sweep(self, b: Batch, rvs: RendezvousState, now_s: float) -> None:
        """Close encounters that paused too long; drop grid samples too old to match."""
        for pk in [pk for pk, p in rvs.pairs.items() if now_s - p["last_s"] > self.max_pause_s]:
            self.pair_end(b, rvs.pairs.pop(pk))
        horizon = now_s - self.max_skew_s - 3600.0
        stale = [vid for (vid, key) in rvs.cell_of.items() if rvs.cells[key][vid][0] < horizon]
        for vid in stale:
            rvs.remove(vid)
