"""Encounters at sea -> ``rendezvous``: two vessels slow and close together, away from every
geofence and port, for long enough (transshipment from a mother ship).

Judged on tracks, in event time. Every slow fix at sea becomes a sample of the vessel's
track (:class:`~apps.elements.domain.tracks.Track`, at most one per ``sample_interval_s``),
whenever it arrives — late fixes are inserted in their place. A new sample at time ``t`` is
compared with where every other vessel with samples in the nine grid cells around it was *at
t*: interpolated between that vessel's samples within its source's interpolation limit, so
an AIS vessel reporting every 10 s and a Beidou boat reporting every 3 min are seen together
when they are together, whichever arrived first. A sample older than the tracks kept in
memory (``TRACK_MEMORY_S``) is compared with the stored fixes around it (the pipeline's
``history_near`` callback), so a file ingested hours after another still meets it.

Close instants of a pair form an episode while no pause exceeds ``max_pause_min``; a late
close instant extends the episode it falls into (its key, chosen when it was first raised,
stays). An episode ends when both vessels have reported past it by the pause, or when the
latest event time has passed it by the pause plus the allowed lateness of their sources.
"""
from __future__ import annotations

import math
from typing import Any, Final

import numpy as np

from apps.elements.domain.detectors import Rendezvous, tide_proximity
from apps.elements.domain.geo_units import haversine_m
from apps.elements.domain.model import PositionFix
from apps.elements.domain.state import RendezvousState, VesselState
from apps.elements.domain.tracks import Track

from .base import Batch, FixColumns, Tracker, TrackerContext, stamp

#: Tracks kept in memory this far behind the latest event time (older samples meet stored fixes).
TRACK_MEMORY_S: Final[float] = 3600.0


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
        self.max_d = max((r.max_distance_m for r in rv_sets), default=1.0)
        # Cells at least max_distance_m wide in both axes up to 60 degrees of latitude.
        self.cell_deg = max(2.0 * self.max_d / 111_320.0, 1e-4)
        self.retention_s = ctx.config.episode_retention_h * 3600.0

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
        self.tracks = self.rvs.tracks
        self.old: list[tuple[str, float, float, float, PositionFix]] = []

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        if not self.on:
            return
        if t > self.rvs.now_s:
            self.rvs.now_s = t  # the walk is in event time: the latest time seen so far
        if self.cand_l[i] and sp <= self.speed_kn:
            self.sample(b, st.vessel_id, fix, t, self.lon_l[i], self.lat_l[i], sp)

    on_late_fix = on_fix

    def end(self, b: Batch, now_s: float) -> None:
        if not self.on:
            return
        if self.old:
            self.meet_stored(b)
        self.sweep(b, self.rvs, self.rvs.now_s)

    # ------------------------------------------------------------------ tracks

    def track(self, vid: str) -> Track:
        tr = self.tracks.get(vid)
        if tr is None:
            tr = self.tracks[vid] = Track()
        return tr

    def _rule(self, t: float) -> Rendezvous:
        ctx = self.ctx
        return ctx.config.for_area(area="", month=ctx.clock.month(t)).rendezvous

    def sample(self, b: Batch, vid: str, fix: PositionFix, t: float, lon: float, lat: float, sp: float) -> None:
        rv = self._rule(t)
        if not rv.enabled or sp > rv.max_speed_kn:
            return
        if not self.track(vid).insert(t, lon, lat, fix.source, min_spacing_s=rv.sample_interval_s):
            return
        cs = self.cell_deg
        cx, cy = math.floor(lon / cs), math.floor(lat / cs)
        cell = self.rvs.cells.setdefault((cx, cy), {})
        if cell.get(vid, -math.inf) < t:
            cell[vid] = t
        if t < self.rvs.now_s - TRACK_MEMORY_S + self.max_skew_s:
            self.old.append((vid, t, lon, lat, fix))  # older than the tracks in memory: meet stored fixes
            return
        horizon = t - self.max_skew_s - self.ctx.max_interpolation_s
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                other = self.rvs.cells.get((cx + dx, cy + dy))
                if not other:
                    continue
                for ovid, last_t in list(other.items()):
                    if ovid == vid or last_t < horizon:
                        continue
                    pos = self.track(ovid).position_at(
                        t, max_skew_s=rv.max_time_skew_s, limits=self.ctx.interpolation_limits
                    )
                    if pos is None:
                        continue
                    d = haversine_m(lon, lat, pos[0], pos[1])
                    if d <= rv.max_distance_m:
                        ofix = PositionFix(self.track(ovid).samples[0][3], ovid, fix.ts, pos[0], pos[1])
                        self.pair_close(b, rv, vid, fix, t, ovid, ofix, d)

    def meet_stored(self, b: Batch) -> None:
        """Samples older than the tracks in memory meet the stored fixes around them (one query)."""
        history_near = self.ctx.history_near
        if history_near is None:
            return
        pad_deg = self.max_d / 111_320.0 * 2.0
        pad_s = self.max_skew_s + self.ctx.max_interpolation_s
        lons = [o[2] for o in self.old]
        lats = [o[3] for o in self.old]
        ts = [o[1] for o in self.old]
        stored = history_near(
            min(lons) - pad_deg, min(lats) - pad_deg, max(lons) + pad_deg, max(lats) + pad_deg,
            min(ts) - pad_s, max(ts) + pad_s,
        )
        if not stored:
            return
        # The stored fixes that qualify as slow samples at sea, per vessel.
        s_lon = np.array([f.lon for f in stored])
        s_lat = np.array([f.lat for f in stored])
        keep = self.ctx.index.locate(s_lon, s_lat) < 0
        if self.port_m > 0:
            keep &= ~self.ctx.index.within_distance_mask(s_lon, s_lat, distance_m=self.port_m)
        by_vessel: dict[str, Track] = {}
        for f, ok in zip(stored, keep.tolist()):
            if ok and (f.sog_kn is None or f.sog_kn <= self.speed_kn):
                tr = by_vessel.get(f.vessel_id)
                if tr is None:
                    tr = by_vessel[f.vessel_id] = Track()
                tr.insert(f.ts.timestamp(), f.lon, f.lat, f.source)
        for vid, t, lon, lat, fix in sorted(self.old, key=lambda o: (o[1], o[0])):
            rv = self._rule(t)
            for ovid, tr in by_vessel.items():
                if ovid == vid:
                    continue
                pos = tr.position_at(t, max_skew_s=rv.max_time_skew_s, limits=self.ctx.interpolation_limits)
                if pos is None:
                    continue
                d = haversine_m(lon, lat, pos[0], pos[1])
                if d <= rv.max_distance_m:
                    ofix = PositionFix(tr.samples[0][3], ovid, fix.ts, pos[0], pos[1])
                    self.pair_close(b, rv, vid, fix, t, ovid, ofix, d)
        self.old = []

    # ------------------------------------------------------------------ episodes

    def pair_close(
        self, b: Batch, rv: Rendezvous, vid: str, fix: PositionFix, t: float, ovid: str, ofix: PositionFix, d: float
    ) -> None:
        """Vessels ``vid`` and ``ovid`` were ``d`` metres apart at ``t``."""
        a, c = (vid, ovid) if vid < ovid else (ovid, vid)
        fa, fc = (fix, ofix) if vid < ovid else (ofix, fix)
        eps = self.rvs.pairs.setdefault((a, c), [])
        pause = rv.max_pause_min * 60.0
        p = next((e for e in eps if e["first_s"] - pause <= t <= e["last_s"] + pause), None)
        if p is None:
            p = {
                "a": a,
                "b": c,
                "first_s": t,
                "last_s": t,
                "n": 0,
                "min_d": d,
                "first_fixes": [fa, fc],
                "last_fixes": [fa, fc],
                "key": None,
                "judged_s": -1.0,
                "closed": False,
                "month": self.ctx.clock.month(t),
                "sources": sorted({fa.source, fc.source}),
            }
            eps.append(p)
        if t < p["first_s"]:
            p["first_s"] = t
            p["first_fixes"] = [fa, fc]
        if t >= p["last_s"]:
            p["last_s"] = t
            p["last_fixes"] = [fa, fc]
        p["n"] += 1
        if d < p["min_d"]:
            p["min_d"] = d
        for src in (fa.source, fc.source):
            if src not in p["sources"]:
                p["sources"] = sorted({*p["sources"], src})
        p = self.merge(b, eps, p, pause)
        duration = p["last_s"] - p["first_s"]
        if p["key"] is None or duration - p["judged_s"] >= self.ctx.reeval_s or p["closed"]:
            self.pair_judge(b, p, ongoing=not p["closed"])

    def merge(self, b: Batch, eps: list[dict[str, Any]], p: dict[str, Any], pause: float) -> dict[str, Any]:
        """Late close instants can bridge two episodes of a pair: they become one, under the
        key raised first (the other's warning, if it had one, is withdrawn as merged)."""
        near = [
            e for e in eps if e is not p and e["first_s"] - pause <= p["last_s"] and p["first_s"] <= e["last_s"] + pause
        ]
        for q in near:
            p_first = q["key"] is None or (p["key"] is not None and p["first_s"] <= q["first_s"])
            keep, drop = (p, q) if p_first else (q, p)
            if drop["first_s"] < keep["first_s"]:
                keep["first_s"], keep["first_fixes"] = drop["first_s"], drop["first_fixes"]
            if drop["last_s"] > keep["last_s"]:
                keep["last_s"], keep["last_fixes"] = drop["last_s"], drop["last_fixes"]
            keep["n"] += drop["n"]
            keep["min_d"] = min(keep["min_d"], drop["min_d"])
            keep["sources"] = sorted({*keep["sources"], *drop["sources"]})
            keep["closed"] = keep["closed"] and drop["closed"]
            if drop["key"] is not None:
                self.ctx.withdraw(b, drop["key"], kind="rendezvous", vessels=(drop["a"], drop["b"]),
                                  start_s=drop["first_s"], end_s=drop["last_s"],
                                  reason="merged", detail={"merged_into": keep["key"]})
            eps.remove(drop)
            p = keep
        return p

    def pair_judge(self, b: Batch, p: dict[str, Any], *, ongoing: bool) -> None:
        ctx = self.ctx
        rv = ctx.config.for_area(area="", month=p["month"]).rendezvous
        duration = p["last_s"] - p["first_s"]
        factors = rv.judge(duration_s=duration, min_distance_m=p["min_d"])
        if factors is None:
            return
        p["judged_s"] = duration
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
            evidence={
                "duration_min": duration / 60.0,
                "min_distance_m": p["min_d"],
                "close_samples": p["n"],
                "sources": list(p["sources"]),
            },
            key=p["key"],
            ongoing=ongoing,
            fixes=(*p["first_fixes"], *p["last_fixes"]),
            tide_window=tw,
            detector=rv,
            area="",
            month=p["month"],
        )

    def sweep(self, b: Batch, rvs: RendezvousState, now_s: float) -> None:
        """End encounters every source has passed; forget old samples, cells and episodes."""
        ctx = self.ctx
        for (a, c), eps in list(rvs.pairs.items()):
            for p in eps:
                if p["closed"]:
                    continue
                end = p["last_s"] + self.max_pause_s
                la, lc = b.vessel(a).last_s, b.vessel(c).last_s
                wait = max(ctx.allowed_lateness(s) for s in p["sources"])
                if (la is not None and lc is not None and min(la, lc) > end) or now_s > end + wait:
                    p["closed"] = True
                    if p["key"] is not None:
                        self.pair_judge(b, p, ongoing=False)
            eps[:] = [p for p in eps if not (p["closed"] and p["last_s"] < now_s - self.retention_s)]
            if not eps:
                del rvs.pairs[(a, c)]
        keep_from = now_s - TRACK_MEMORY_S - ctx.max_interpolation_s
        for vid in list(rvs.tracks):
            tr = rvs.tracks[vid]
            tr.prune_before(keep_from)
            if not len(tr):
                del rvs.tracks[vid]
        for key in list(rvs.cells):
            cell = rvs.cells[key]
            for vid in [v for v, t in cell.items() if t < keep_from]:
                del cell[vid]
            if not cell:
                del rvs.cells[key]
