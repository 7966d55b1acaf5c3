"""Radar track ↔ cooperative (AIS/Beidou) track association: gate + one-to-one assignment.

Fixes are taken in time order in scans of :attr:`AssociationConfig.scan_s` seconds (30 by default). In each
scan, every cooperative vessel whose last fix is at most ``max_age_s`` old is dead-reckoned
(speed and course) to the time of each radar report, and for each radar separately:

1. **gate** — a pair is possible only if the distance is within ``gate_m``, and, when both move
   faster than 2 kn, speeds differ by at most ``max_speed_diff_kn`` and courses by at most
   ``max_course_diff_deg`` (a radar's own course/speed, or, when it reports none, the
   track's);
2. **cost** — distance / gate + speed difference / its limit + course difference / its limit;
3. **assignment** — one-to-one (one radar track per vessel per radar; two radars may each see
   the same vessel) with ``scipy.optimize.linear_sum_assignment`` per connected group of
   candidates (``scipy.sparse.csgraph.connected_components``), candidates found with a
   ``scipy.spatial.cKDTree`` of the predicted positions in local metres.

A pair becomes an **association** after ``confirm_hits`` scans on which the same pair was
assigned; it ends after ``drop_misses`` scans in a row without it. Every pair keeps its start
time, number of hits and mean distance: "radar R2 track 17 = MMSI 412440001 (since 23:12,
mean distance 60 m)". State is JSON-safe (``to_dict``/``from_dict``).

Why scipy's assignment rather than Stone Soup / filterpy: the radar already tracks (ARPA
targets carry their own number, speed and course), and AIS reports its own position, so no
Kalman filter or multi-hypothesis tracker has to be run here — only a gated, one-to-one
assignment per scan plus a confirmation count. scipy (already installed with pandas/utide)
does exactly that in compiled code; Stone Soup would bring a large framework for trackers
the platform does not need.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .model import PositionFix
from .radar import is_radar_target, parse_target_id

_M_PER_DEG = 111_320.0
_KN_MS = 1852.0 / 3600.0


@dataclass(frozen=True, slots=True)
class AssociationConfig:
    scan_s: float = 30.0
    gate_m: float = 300.0
    max_speed_diff_kn: float = 5.0
    max_course_diff_deg: float = 60.0
    max_age_s: float = 180.0
    confirm_hits: int = 3
    drop_misses: int = 6

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Association:
    radar_target: str
    sensor: str
    number: int | None
    vessel_id: str
    since_s: float
    last_s: float
    mean_distance_m: float
    hits: int
    active: bool

    def describe(self) -> str:
        return f"radar {self.sensor} track {self.number} = {self.vessel_id} (mean distance {self.mean_distance_m:.0f} m)"


def _angle_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = np.abs(a - b) % 360.0
    return np.where(d > 180.0, 360.0 - d, d)


class Associator:
    """Cooperative fixes in, radar fixes in, associations out (see the module docstring)."""

    def __init__(self, config: AssociationConfig | None = None) -> None:
        self.config = config or AssociationConfig()
        self._ids: list[str] = []
        self._row: dict[str, int] = {}
        self._coop = np.full((64, 5), np.nan)  # t, lon, lat, sog, cog
        # radar target -> [vessel, since_s, last_s, hits, sum_m, misses, confirmed, t_last_seen]
        self.pairs: dict[str, list] = {}
        # radar target -> [t, lon, lat]
        self.radar_last: dict[str, list] = {}
        self.ended: list[Association] = []
        self.changed: dict[str, Association] = {}
        self._sensors: dict[str, str] = {}
        #: the last scan's KD-tree of predicted cooperative positions (for "who is near" questions)
        self._last_tree: tuple | None = None

    # ------------------------------------------------------------ input
    def _coop_put(self, f: PositionFix, t: float) -> None:
        r = self._row.get(f.vessel_id)
        if r is None:
            r = len(self._ids)
            if r >= len(self._coop):
                grown = np.full((len(self._coop) * 2, 5), np.nan)
                grown[: len(self._coop)] = self._coop
                self._coop = grown
            self._row[f.vessel_id] = r
            self._ids.append(f.vessel_id)
        elif self._coop[r, 0] > t:
            return
        self._coop[r] = (t, f.lon, f.lat, np.nan if f.sog_kn is None else f.sog_kn,
                         np.nan if f.cog_deg is None else f.cog_deg)

    def observe(self, fixes: Sequence[PositionFix],
                on_scan: Callable[[list[PositionFix]], None] | None = None) -> list[Association]:
        """Take a time-ordered batch; returns the associations that began, changed or ended.

        ``on_scan`` is called after each scan with its radar fixes, while the association state
        is that of the scan's time (what the dark-target rules must judge with)."""
        self.changed = {}
        scan = self.config.scan_s
        bucket: float | None = None
        radar: dict[str, tuple[float, PositionFix]] = {}
        for f in fixes:
            t = f.ts.timestamp()
            b = math.floor(t / scan)
            if bucket is not None and b != bucket and radar:
                self._scan(radar)
                if on_scan is not None:
                    on_scan([f for _t, f in radar.values()])
                radar = {}
            bucket = b
            if is_radar_target(f.vessel_id):
                radar[f.vessel_id] = (t, f)
                prev = self.radar_last.get(f.vessel_id)
                if prev is None or t >= prev[0]:
                    self.radar_last[f.vessel_id] = [t, f.lon, f.lat]
            else:
                self._coop_put(f, t)
        if radar:
            self._scan(radar)
            if on_scan is not None:
                on_scan([f for _t, f in radar.values()])
        return list(self.changed.values())

    # ------------------------------------------------------------ one scan
    def _scan(self, radar: Mapping[str, tuple[float, PositionFix]]) -> None:
        """One scan: predict the live cooperative vessels once, one KD-tree, then per radar a gated,
        one-to-one assignment."""
        cfg = self.config
        items = [(tid, t, f) for tid, (t, f) in radar.items()]
        assigned: dict[str, tuple[str, float]] = {}
        n = len(self._ids)
        if n:
            coop = self._coop[:n]
            t_r = np.fromiter((t for _tid, t, _f in items), float, len(items))
            t_mid = float(t_r.mean())
            live = np.nonzero(np.abs(coop[:, 0] - t_mid) <= cfg.max_age_s)[0]
            if len(live):
                c = coop[live]
                lon0 = float(np.mean([f.lon for *_x, f in items]))
                lat0 = float(np.mean([f.lat for *_x, f in items]))
                kx = _M_PER_DEG * math.cos(math.radians(lat0))
                dt = t_mid - c[:, 0]
                sog = np.nan_to_num(c[:, 3]) * _KN_MS
                cog = np.radians(np.nan_to_num(c[:, 4]))
                cx = (c[:, 1] - lon0) * kx + sog * np.sin(cog) * dt
                cy = (c[:, 2] - lat0) * _M_PER_DEG + sog * np.cos(cog) * dt
                tree = cKDTree(np.column_stack([cx, cy]))
                self._last_tree = (tree, live, lon0, lat0, kx, t_mid)
                # the radar reports moved to t_mid along their own motion
                rep = np.array([(f.lon, f.lat, np.nan if f.sog_kn is None else f.sog_kn,
                                 np.nan if f.cog_deg is None else f.cog_deg) for *_x, f in items], dtype=float)
                rs = np.nan_to_num(rep[:, 2]) * _KN_MS
                rc = np.radians(np.nan_to_num(rep[:, 3]))
                rx = (rep[:, 0] - lon0) * kx + rs * np.sin(rc) * (t_mid - t_r)
                ry = (rep[:, 1] - lat0) * _M_PER_DEG + rs * np.cos(rc) * (t_mid - t_r)
                cand = tree.query_ball_point(np.column_stack([rx, ry]), r=cfg.gate_m)
                by_sensor: dict[str, list[int]] = {}
                for i, (tid, _t, _f) in enumerate(items):
                    if cand[i]:
                        by_sensor.setdefault(self._sensor_of(tid), []).append(i)
                for rows_of in by_sensor.values():
                    assigned.update(self._assign(items, rows_of, cand, rx, ry, cx, cy, c, live, rep))
        if not n or not len(live):
            self._last_tree = None
        for tid, t, _f in items:
            self._book(tid, t, assigned.get(tid))

    def _sensor_of(self, tid: str) -> str:
        s = self._sensors.get(tid)
        if s is None:
            parsed = parse_target_id(tid)
            s = self._sensors[tid] = parsed[0] if parsed else "?"
        return s

    def _assign(self, items, rows_of: list[int], cand, rx, ry, cx, cy, c, live, rep) -> dict[str, tuple[str, float]]:
        """Gate, cost and one-to-one assignment for the radar reports ``rows_of`` of one radar."""
        cfg = self.config
        ri = np.fromiter((i for i in rows_of for _j in cand[i]), int)
        cj = np.fromiter((j for i in rows_of for j in cand[i]), int)
        d = np.hypot(rx[ri] - cx[cj], ry[ri] - cy[cj])
        r_sog, r_cog = rep[ri, 2], rep[ri, 3]
        c_sog, c_cog = c[cj, 3], c[cj, 4]
        dsog = np.abs(np.nan_to_num(r_sog - c_sog))
        moving = (np.nan_to_num(r_sog) > 2.0) & (np.nan_to_num(c_sog) > 2.0) & ~np.isnan(r_cog) & ~np.isnan(c_cog)
        dcog = np.where(moving, _angle_diff(np.nan_to_num(r_cog), np.nan_to_num(c_cog)), 0.0)
        ok = (d <= cfg.gate_m) & (dsog <= cfg.max_speed_diff_kn) & (dcog <= cfg.max_course_diff_deg)
        if not ok.any():
            return {}
        ri, cj, d = ri[ok], cj[ok], d[ok]
        cost = d / cfg.gate_m + dsog[ok] / cfg.max_speed_diff_kn + dcog[ok] / cfg.max_course_diff_deg
        out: dict[str, tuple[str, float]] = {}
        # a report with one candidate that no other report wants: no assignment to solve
        r_count = np.bincount(ri, minlength=len(items))
        c_count = np.bincount(cj, minlength=len(c))
        single = (r_count[ri] == 1) & (c_count[cj] == 1)
        for k in np.nonzero(single)[0]:
            out[items[int(ri[k])][0]] = (self._ids[int(live[cj[k]])], float(d[k]))
        rest = np.nonzero(~single)[0]
        if not len(rest):
            return out
        ri, cj, d, cost = ri[rest], cj[rest], d[rest], cost[rest]
        # connected groups of candidates, one small dense assignment each
        ru, rinv = np.unique(ri, return_inverse=True)
        cu, cinv = np.unique(cj, return_inverse=True)
        graph = coo_matrix((np.ones(len(ri)), (rinv, len(ru) + cinv)), shape=(len(ru) + len(cu),) * 2)
        _n, labels = connected_components(graph, directed=False)
        comp = labels[rinv]
        for lab in np.unique(comp):
            sel = np.nonzero(comp == lab)[0]
            rr, a_inv = np.unique(rinv[sel], return_inverse=True)
            cc, b_inv = np.unique(cinv[sel], return_inverse=True)
            m = np.full((len(rr), len(cc)), 1e6)
            m[a_inv, b_inv] = cost[sel]
            dist = np.full((len(rr), len(cc)), np.nan)
            dist[a_inv, b_inv] = d[sel]
            a, b = linear_sum_assignment(m)
            for x, y in zip(a, b):
                if m[x, y] < 1e6:
                    out[items[int(ru[rr[x]])][0]] = (self._ids[int(live[cu[cc[y]]])], float(dist[x, y]))
        return out

    def _book(self, tid: str, t: float, hit: tuple[str, float] | None) -> None:
        cfg = self.config
        p = self.pairs.get(tid)
        if hit is not None:
            vid, dist = hit
            if p is None or (p[0] != vid and not p[6]):
                p = self.pairs[tid] = [vid, t, t, 0, 0.0, 0, False, t]
            if p[0] == vid:
                p[2] = p[7] = t
                p[3] += 1
                p[4] += dist
                p[5] = 0
                if p[3] >= cfg.confirm_hits:
                    p[6] = True
                if p[6]:
                    self.changed[tid] = self._assoc(tid, p, active=True)
                return
        if p is None:
            return
        p[5] += 1
        if p[5] >= cfg.drop_misses:
            del self.pairs[tid]
            if p[6]:
                a = self._assoc(tid, p, active=False)
                self.ended.append(a)
                self.ended = self.ended[-500:]
                self.changed[tid] = a

    def _assoc(self, tid: str, p: list, *, active: bool) -> Association:
        parsed = parse_target_id(tid) or ("?", None)
        return Association(tid, parsed[0], parsed[1], p[0], p[1], p[2], p[4] / max(p[3], 1), p[3], active)

    # ------------------------------------------------------------ questions
    def match_of(self, radar_target: str) -> str | None:
        """The cooperative vessel a radar target is (confirmed), else None."""
        p = self.pairs.get(radar_target)
        return p[0] if p is not None and p[6] else None

    def targets_of(self, vessel_id: str) -> list[str]:
        """Radar targets confirmed as this vessel (now, or ended recently)."""
        out = [tid for tid, p in self.pairs.items() if p[0] == vessel_id and p[6]]
        out += [a.radar_target for a in self.ended if a.vessel_id == vessel_id and a.radar_target not in out]
        return out

    def association(self, radar_target: str) -> Association | None:
        p = self.pairs.get(radar_target)
        if p is not None and p[6]:
            return self._assoc(radar_target, p, active=True)
        return next((a for a in reversed(self.ended) if a.radar_target == radar_target), None)

    def coop_position(self, vessel_id: str) -> tuple[float, float, float] | None:
        r = self._row.get(vessel_id)
        if r is None:
            return None
        t, lon, lat = self._coop[r, :3]
        return float(t), float(lon), float(lat)

    def coop_near(self, lon: float, lat: float, t: float, radius_m: float) -> list[str]:
        """Cooperative vessels within ``radius_m`` of a point, as predicted for the last scan."""
        if self._last_tree is None:
            return []
        tree, live, lon0, lat0, kx, t_mid = self._last_tree
        if abs(t - t_mid) > self.config.scan_s * 3:
            return []
        hits = tree.query_ball_point([(lon - lon0) * kx, (lat - lat0) * _M_PER_DEG], r=radius_m)
        return [self._ids[int(live[j])] for j in hits]

    # ------------------------------------------------------------ state
    def to_dict(self) -> dict[str, Any]:
        n = len(self._ids)
        return {
            "type": "association",
            "coop": {vid: [None if math.isnan(x) else float(x) for x in self._coop[i]] for i, vid in enumerate(self._ids[:n])},
            "pairs": self.pairs,
            "radar_last": self.radar_last,
            "ended": [asdict(a) for a in self.ended],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, config: AssociationConfig | None = None) -> Associator:
        out = cls(config)
        if not d:
            return out
        for vid, row in dict(d.get("coop", {})).items():
            r = len(out._ids)
            if r >= len(out._coop):
                grown = np.full((len(out._coop) * 2, 5), np.nan)
                grown[: len(out._coop)] = out._coop
                out._coop = grown
            out._row[vid] = r
            out._ids.append(vid)
            out._coop[r] = [np.nan if x is None else x for x in row]
        out.pairs = {k: list(v) for k, v in dict(d.get("pairs", {})).items()}
        out.radar_last = {k: list(v) for k, v in dict(d.get("radar_last", {})).items()}
        out.ended = [Association(**a) for a in d.get("ended", [])]
        return out

    def forget_before(self, t: float) -> None:
        """Drop cooperative vessels and radar targets not seen since ``t`` (bounded state)."""
        n = len(self._ids)
        keep = [i for i in range(n) if self._coop[i, 0] >= t]
        if len(keep) < n:
            ids = [self._ids[i] for i in keep]
            rows = self._coop[keep] if keep else np.full((0, 5), np.nan)
            self._ids, self._row = ids, {v: i for i, v in enumerate(ids)}
            self._coop = np.full((max(64, len(ids) * 2), 5), np.nan)
            self._coop[: len(ids)] = rows
            self._last_tree = None
        self.radar_last = {k: v for k, v in self.radar_last.items() if v[0] >= t}
        self._sensors = {k: v for k, v in self._sensors.items() if k in self.radar_last}
        self.pairs = {k: v for k, v in self.pairs.items() if v[7] >= t or v[2] >= t}


