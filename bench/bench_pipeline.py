"""Benchmark: geofence -> detectors -> warnings throughput, memory and latency.

Run ``python bench/bench_pipeline.py`` (``--help`` for sizes; ``--json out.json`` writes the
numbers). Throughput is reported per wall second and per CPU second of this process (the
latter is the per-core figure when other jobs share the machine). Synthetic but shaped like the target: 5,000 geofences strung along a Xiangshan-like
coast (mainland shore plus islands inside lon 121.57-122.27, lat 28.85-29.66), 10,000
vessels reporting about once a minute, starting at 01:00 local so night rules are live:
most vessels move at sea, some fish slowly (they load the rendezvous grid), some call at
piers, some stop at idle piers for an hour, some pairs meet at sea, some go dark.

Measured:
* ``locate`` alone: ``GeofenceIndex.locate`` (one shapely.points + STRtree.query per batch)
  and the bare ``STRtree.query(predicate="intersects")`` as the reference;
* end to end: ``TrackPipeline.process`` over the whole stream in batches;
* resident memory (VmRSS from /proc/self/status) of a fresh process holding 100,000
  vessels' state;
* fix-to-warning latency at a sustained 2,000 fixes/s: fixes "arrive" on a schedule, the
  consumer polls every 100 ms and processes what has arrived; the simulated clock advances
  by the measured processing time, so queueing delay is included;
* detection delay (warning raised − end of its evidence, issue #11): the stream played as a
  live feed in event time, 10 % of the vessels on a source delivered 30 minutes late, polled
  every 10 s with the fix store's history callbacks; also counts warnings raised twice.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time as _time
import zlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import shapely  # noqa: E402

from apps.elements.domain.geometry import Geofence, GeofenceIndex  # noqa: E402
from apps.elements.domain.model import PositionFix, TideWindow  # noqa: E402
from apps.elements.domain.pipeline import TrackPipeline  # noqa: E402

BBOX = (121.57, 28.85, 122.27, 29.66)
TOWNSHIPS = ("高塘", "鹤浦", "定山", "石浦", "东陈", "涂茨", "贤庠", "爵溪", "新桥", "晓塘")
T0 = datetime(2021, 3, 20, 17, 0, tzinfo=UTC)  # 01:00 Asia/Shanghai
M_PER_DEG = 111_320.0


# --------------------------------------------------------------------------- synthetic world


def coast_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points spread along a wiggly mainland shore and ~40 island shores in the bbox."""
    lon0, lat0, lon1, lat1 = BBOX
    # Mainland: a wiggly line down the west side of the box.
    s = np.linspace(0, 1, 4000)
    ml_lat = lat1 - s * (lat1 - lat0)
    ml_lon = lon0 + 0.06 + 0.05 * np.sin(s * 37) + 0.03 * np.sin(s * 91 + 1) + 0.10 * s
    lines = [(ml_lon, ml_lat)]
    for _ in range(40):
        cx = rng.uniform(lon0 + 0.25, lon1 - 0.03)
        cy = rng.uniform(lat0 + 0.03, lat1 - 0.03)
        r = rng.uniform(0.004, 0.04)
        th = np.linspace(0, 2 * np.pi, 400)
        rr = r * (1 + 0.25 * np.sin(5 * th + rng.uniform(0, 6)))
        lines.append((cx + rr * np.cos(th) / math.cos(math.radians(cy)), cy + rr * np.sin(th)))
    lon = np.concatenate([ln[0] for ln in lines])
    lat = np.concatenate([ln[1] for ln in lines])
    seg = np.hypot(np.diff(lon) * math.cos(math.radians(29.25)), np.diff(lat))
    seg[np.abs(seg) > 0.05] = 0  # jumps between separate shores
    cum = np.concatenate([[0], np.cumsum(seg)])
    at = np.sort(rng.uniform(0, cum[-1], n))
    k = np.clip(np.searchsorted(cum, at) - 1, 0, len(lon) - 2)
    f = (at - cum[k]) / np.maximum(cum[k + 1] - cum[k], 1e-12)
    return lon[k] + f * (lon[k + 1] - lon[k]), lat[k] + f * (lat[k + 1] - lat[k])


def make_geofences(n: int, rng: np.random.Generator) -> list[Geofence]:
    lon, lat = coast_points(n, rng)
    kinds = rng.choice(["pier", "cove", "beach", "landing_point", "anchorage"], size=n, p=[0.6, 0.1, 0.1, 0.1, 0.1])
    status = np.where(rng.random(n) < 0.4, "idle", "active")
    radius_m = np.where(kinds == "anchorage", rng.uniform(400, 900, n), rng.uniform(60, 200, n))
    th = np.linspace(0, 2 * np.pi, 13)[:-1]
    coslat = np.cos(np.radians(lat))
    ring_lon = lon[:, None] + (radius_m[:, None] * np.cos(th)[None, :]) / (M_PER_DEG * coslat[:, None])
    ring_lat = lat[:, None] + (radius_m[:, None] * np.sin(th)[None, :]) / M_PER_DEG
    rings = np.stack([ring_lon, ring_lat], axis=-1)
    polys = shapely.polygons(np.concatenate([rings, rings[:, :1, :]], axis=1))
    band = np.clip(((lat - BBOX[1]) / (BBOX[3] - BBOX[1]) * len(TOWNSHIPS)).astype(int), 0, len(TOWNSHIPS) - 1)
    return [
        Geofence(
            id=f"gf{i:05d}",
            name=f"{TOWNSHIPS[band[i]]}{kinds[i]}{i}",
            kind=str(kinds[i]),
            status=str(status[i]),
            township=TOWNSHIPS[band[i]],
            geometry=polys[i],
        )
        for i in range(n)
    ]


@dataclass
class Stream:
    fixes: list[PositionFix]
    roles: Counter[str]


def make_stream(geofences: list[Geofence], *, n_vessels: int, n_fixes: int, rng: np.random.Generator) -> Stream:
    """Fixes of n_vessels over ceil(n_fixes / n_vessels) one-minute steps, in time order."""
    steps = max(2, math.ceil(n_fixes / n_vessels))
    V = n_vessels
    roles = rng.choice(
        ["transit", "fishing", "port_call", "landing", "rendezvous", "dark"],
        size=V,
        p=[0.70, 0.15, 0.07, 0.03, 0.03, 0.02],
    )
    lon0, lat0, lon1, lat1 = BBOX
    start_lon = rng.uniform(lon0 + 0.2, lon1, V)
    start_lat = rng.uniform(lat0, lat1, V)
    speed_kn = np.where(roles == "fishing", rng.uniform(0.3, 1.8, V), rng.uniform(5, 14, V))
    heading = rng.uniform(0, 2 * np.pi, V)
    tmin = np.arange(steps)[None, :]  # minutes
    dist_m = speed_kn[:, None] * 1852 / 60 * tmin
    lon = start_lon[:, None] + dist_m * np.sin(heading)[:, None] / (M_PER_DEG * math.cos(math.radians(29.25)))
    lat = start_lat[:, None] + dist_m * np.cos(heading)[:, None] / M_PER_DEG
    sog = np.repeat(speed_kn[:, None], steps, axis=1)
    # Pier callers and landers: sail 10 min toward a pier, stop there.
    pier_idx = np.array([i for i, g in enumerate(geofences) if g.kind != "anchorage"])
    idle_idx = np.array([i for i, g in enumerate(geofences) if g.kind != "anchorage" and g.status == "idle"])
    cent = shapely.centroid(np.array([g.geometry for g in geofences]))
    cx, cy = shapely.get_x(cent), shapely.get_y(cent)
    callers = np.flatnonzero(np.isin(roles, ["port_call", "landing"]))
    for v in callers:
        g = rng.choice(idle_idx if roles[v] == "landing" else pier_idx)
        px, py = cx[g], cy[g]
        sx, sy = px + rng.normal(0, 0.02), py + rng.normal(0, 0.02)
        arrive = min(10, steps - 1)
        f = np.clip(tmin[0] / max(arrive, 1), 0, 1)
        lon[v] = sx + f * (px - sx) + (tmin[0] >= arrive) * rng.normal(0, 0.00003, steps)
        lat[v] = sy + f * (py - sy) + (tmin[0] >= arrive) * rng.normal(0, 0.00003, steps)
        sog[v] = np.where(tmin[0] >= arrive, rng.uniform(0, 0.4, steps), 8.0)
    # Rendezvous pairs: partner k+1 sits 60 m from k, both drifting slowly, far at sea.
    rv = np.flatnonzero(roles == "rendezvous")
    for a, c in zip(rv[0::2], rv[1::2]):
        bx, by = rng.uniform(122.15, 122.26), rng.uniform(lat0 + 0.05, lat1 - 0.05)
        drift = np.arange(steps) * 0.3 * 1852 / 60 / M_PER_DEG
        lon[a], lat[a] = bx + drift, np.full(steps, by)
        lon[c], lat[c] = bx + drift + 60 / (M_PER_DEG * 0.87), np.full(steps, by)
        sog[a] = sog[c] = 0.3
    # Keep everything inside the box (bounce).
    span_lon, span_lat = lon1 - lon0, lat1 - lat0
    lon = lon0 + np.abs(((lon - lon0) + span_lon) % (2 * span_lon) - span_lon)
    lat = lat0 + np.abs(((lat - lat0) + span_lat) % (2 * span_lat) - span_lat)
    jitter_s = rng.uniform(0, 59, V)
    present = np.ones((V, steps), dtype=bool)
    dark = np.flatnonzero(roles == "dark")
    if steps > 80:
        present[dark, 5:75] = False  # 70 minutes silent
    ids = [f"4130{v:05d}" for v in range(V)]
    base = T0.timestamp()
    fixes: list[PositionFix] = []
    for k in range(steps):
        col = np.flatnonzero(present[:, k])
        lon_k, lat_k, sog_k = lon[col, k].tolist(), lat[col, k].tolist(), sog[col, k].tolist()
        for j, v in enumerate(col.tolist()):
            ts = datetime.fromtimestamp(base + k * 60 + jitter_s[v], UTC)
            fixes.append(PositionFix("ais", ids[v], ts, lon_k[j], lat_k[j], round(sog_k[j], 1), None))
            if len(fixes) >= n_fixes:
                break
        if len(fixes) >= n_fixes:
            break
    fixes.sort(key=lambda f: f.ts)
    return Stream(fixes=fixes, roles=Counter(roles.tolist()))


def tide_lookup(ts: datetime) -> TideWindow | None:
    # A synthetic semi-diurnal tide: high water every 12 h 25 min from 03:00 local on day 0.
    period = timedelta(hours=12, minutes=25)
    first = T0 + timedelta(hours=2)
    k = round((ts - first) / period)
    peak = first + k * period
    w = TideWindow(peak - timedelta(hours=2), peak, peak + timedelta(hours=2))
    return w if w.contains(ts) else None


# --------------------------------------------------------------------------- measurements


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def bench_locate(index: GeofenceIndex, fixes: list[PositionFix], batch: int) -> dict[str, float]:
    lon = np.fromiter((f.lon for f in fixes), float, len(fixes))
    lat = np.fromiter((f.lat for f in fixes), float, len(fixes))
    tree = shapely.STRtree(np.array([g.geometry for g in index.geofences]))
    t = _time.perf_counter()
    hits = 0
    for s in range(0, len(fixes), batch):
        hits += int((index.locate(lon[s : s + batch], lat[s : s + batch]) >= 0).sum())
    t_locate = _time.perf_counter() - t
    t = _time.perf_counter()
    for s in range(0, len(fixes), batch):
        tree.query(shapely.points(lon[s : s + batch], lat[s : s + batch]), predicate="intersects")
    t_bare = _time.perf_counter() - t
    return {
        "locate_fixes_per_s": len(fixes) / t_locate,
        "strtree_query_fixes_per_s": len(fixes) / t_bare,
        "share_of_fixes_inside_a_geofence": hits / len(fixes),
    }


def _nmea_checksum(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"{c:02X}"


def encode_nmea(fixes: list[PositionFix]) -> list[str]:
    """The fixes as real AIS type 1 sentences with an NMEA 4.10 tag block carrying the time."""
    from pyais.encode import encode_dict

    lines = []
    for f in fixes:
        (sentence,) = encode_dict(
            {"type": 1, "mmsi": int(f.vessel_id), "lon": f.lon, "lat": f.lat,
             "speed": f.sog_kn or 0.0, "course": f.cog_deg or 0.0},
            radio_channel="A", talker_id="AI",
        )
        tag = f"c:{int(f.ts.timestamp())}"
        lines.append(f"\\{tag}*{_nmea_checksum(tag)}\\{sentence}")
    return lines


def bench_decode(index: GeofenceIndex, lines: list[str], batch: int) -> dict[str, float]:
    """AIS decoding alone (pyais through the stream decoder), then decode → geofence → detectors → warnings."""
    from apps.elements.domain.nmea import AisStreamDecoder

    received = datetime(2026, 11, 24, 17, 0, tzinfo=UTC)
    decoder = AisStreamDecoder()
    t = _time.perf_counter()
    decoded = [m for line in lines for m in decoder.feed(line, received)]
    t_decode = _time.perf_counter() - t
    fixes = [m for m in decoded if isinstance(m, PositionFix)]

    pipe, decoder = new_pipeline(index), AisStreamDecoder()
    warnings = 0
    t = _time.perf_counter()
    c = _time.process_time()
    for s in range(0, len(lines), batch):
        out = [m for line in lines[s : s + batch] for m in decoder.feed(line, received)]
        warnings += len(pipe.process([m for m in out if isinstance(m, PositionFix)]))
    elapsed, cpu = _time.perf_counter() - t, _time.process_time() - c
    return {
        "sentences": len(lines),
        "decoded_fixes": len(fixes),
        "decode_fixes_per_s": len(lines) / t_decode,
        "decode_to_warning_fixes_per_s": len(lines) / elapsed,
        "decode_to_warning_fixes_per_cpu_s": len(lines) / cpu,
        "warning_events": warnings,
    }


def new_pipeline(index: GeofenceIndex) -> TrackPipeline:
    known = {f"4130{v:05d}" for v in range(0, 200_000, 2)}  # half the fleet registered
    return TrackPipeline(
        geofences=index,
        tide_window_at=tide_lookup,
        holidays=set(),
        watchlist={"413000007": "A", "413000011": "A"},
        known_vessels=known,
    )


def bench_end_to_end(index: GeofenceIndex, fixes: list[PositionFix], batch: int) -> dict[str, object]:
    pipe = new_pipeline(index)
    warnings = []
    t = _time.perf_counter()
    c = _time.process_time()
    for s in range(0, len(fixes), batch):
        warnings.extend(pipe.process(fixes[s : s + batch]))
    elapsed = _time.perf_counter() - t
    cpu = _time.process_time() - c
    kinds = Counter(w.kind for w in warnings if w.action == "new")
    levels = Counter(w.level for w in warnings if w.action == "new")
    return {
        "fixes": len(fixes),
        "batch": batch,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "fixes_per_s": len(fixes) / elapsed,
        "fixes_per_cpu_s": len(fixes) / cpu,
        "warnings_new": sum(kinds.values()),
        "warnings_update": sum(1 for w in warnings if w.action == "update"),
        "new_by_kind": dict(kinds),
        "new_by_level": {str(k): v for k, v in levels.items()},
        "findings": pipe.stats["findings"],
    }


def radar_stream(fixes: list[PositionFix], *, n_tracks: int, dark_share: float, rng: np.random.Generator
                 ) -> tuple[list[PositionFix], list[PositionFix], set[str]]:
    """Radar twins of ``n_tracks`` vessels (40 m off, 5 s later); ``dark_share`` of them are vessels
    whose AIS is removed (radar-only targets). Returns (AIS fixes kept, radar fixes, dark vessel ids)."""
    vids = sorted({f.vessel_id for f in fixes})
    chosen = rng.choice(len(vids), size=min(n_tracks, len(vids)), replace=False)
    twins = {vids[i]: f"radar:R{k % 3 + 1}:{k}@20210320T170000" for k, i in enumerate(chosen.tolist())}
    dark = {v for k, v in enumerate(twins) if k < int(len(twins) * dark_share)}
    radar, ais = [], []
    for f in fixes:
        tid = twins.get(f.vessel_id)
        if tid is not None:
            radar.append(PositionFix("radar", tid, f.ts + timedelta(seconds=5), f.lon, f.lat + 40 / M_PER_DEG,
                                     f.sog_kn, f.cog_deg))
        if f.vessel_id not in dark:
            ais.append(f)
    return ais, radar, dark


def bench_fusion(index: GeofenceIndex, fixes: list[PositionFix], batch: int, *, n_tracks: int,
                 rng: np.random.Generator) -> dict[str, object]:
    """The same pipeline with 3 radars covering the box and radar tracks in the stream:
    association (radar ↔ AIS) and the dark-target tracker run on every batch."""
    from apps.elements.domain.sensors import Sensor

    ais, radar, dark = radar_stream(fixes, n_tracks=n_tracks, dark_share=0.2, rng=rng)
    stream = sorted(ais + radar, key=lambda f: f.ts)
    lon0, lat0, lon1, lat1 = BBOX
    sensors = tuple(Sensor(f"R{k}", "radar", lon0 + (lon1 - lon0) * x, lat0 + (lat1 - lat0) * y, range_m=60_000)
                    for k, (x, y) in enumerate([(0.3, 0.2), (0.5, 0.5), (0.3, 0.8)], start=1))

    class RadarPipeline(TrackPipeline):
        def __init__(self, **kw):
            self.sensors, self.dark_rule = sensors, None
            super().__init__(**kw)

    base = new_pipeline(index)
    pipe = RadarPipeline(geofences=index, tide_window_at=tide_lookup, holidays=set(),
                         watchlist=dict(base.watchlist), known_vessels=base._is_known_vessel)
    tracker = pipe.tracker("dark_targets")
    warnings = []
    assoc_changes = 0
    t = _time.perf_counter()
    c = _time.process_time()
    for s in range(0, len(stream), batch):
        warnings.extend(pipe.process(stream[s : s + batch]))
        assoc_changes += len(tracker.last_changes)
    elapsed = _time.perf_counter() - t
    cpu = _time.process_time() - c
    fusion = pipe.store.get_many(["fusion"])["fusion"]
    matched = sum(1 for p in fusion.assoc.pairs.values() if p[6])
    dark_targets = {w.vessels[0] for w in warnings if w.kind == "dark_target" and w.action == "new"}
    return {
        "radars": len(sensors),
        "radar_tracks": len({f.vessel_id for f in radar}),
        "radar_only_tracks": len(dark),
        "ais_vessels": len({f.vessel_id for f in ais}),
        "fixes": len(stream),
        "radar_fixes": len(radar),
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "fixes_per_s": len(stream) / elapsed,
        "fixes_per_cpu_s": len(stream) / cpu,
        "associated_at_end": matched,
        "association_changes": assoc_changes,
        "dark_target_warnings": len(dark_targets),
    }


def bench_latency(
    index: GeofenceIndex, fixes: list[PositionFix], *, rate: float, poll_s: float, seconds: float
) -> dict[str, float]:
    pipe = new_pipeline(index)
    n = min(len(fixes), int(rate * seconds))
    arrival = np.arange(n) / rate
    now = 0.0
    i = 0
    lat_s: list[np.ndarray] = []
    proc_ms: list[float] = []
    busy = 0.0
    while i < n:
        now = max(now, arrival[i])
        now = math.ceil(now / poll_s) * poll_s  # the consumer wakes on its poll tick
        j = int(np.searchsorted(arrival, now, side="right"))
        t = _time.perf_counter()
        pipe.process(fixes[i:j])
        d = _time.perf_counter() - t
        busy += d
        proc_ms.append(d * 1000)
        now += d
        lat_s.append(now - arrival[i:j])
        i = j
    lat = np.concatenate(lat_s)
    return {
        "rate_fixes_per_s": rate,
        "poll_ms": poll_s * 1000,
        "fixes": n,
        "p50_ms": float(np.percentile(lat, 50) * 1000),
        "p95_ms": float(np.percentile(lat, 95) * 1000),
        "p99_ms": float(np.percentile(lat, 99) * 1000),
        "max_ms": float(lat.max() * 1000),
        "batch_processing_p50_ms": float(np.percentile(proc_ms, 50)),
        "batch_processing_p99_ms": float(np.percentile(proc_ms, 99)),
        "cpu_utilisation": busy / now,
    }


class _StoredFixes:
    """What the fix store answers the pipeline's history callbacks with (in memory, indexed
    per vessel and per minute)."""

    def __init__(self) -> None:
        self.by_vessel: dict[str, list[PositionFix]] = {}
        self.by_minute: dict[int, list[PositionFix]] = {}

    def add(self, fixes: list[PositionFix]) -> None:
        for f in fixes:
            self.by_vessel.setdefault(f.vessel_id, []).append(f)
            self.by_minute.setdefault(int(f.ts.timestamp() // 60), []).append(f)

    def of(self, vessel_id: str, t0: float, t1: float) -> list[PositionFix]:
        return [f for f in self.by_vessel.get(vessel_id, ()) if t0 <= f.ts.timestamp() <= t1]

    def near(self, lon0: float, lat0: float, lon1: float, lat1: float, t0: float, t1: float) -> list[PositionFix]:
        out = []
        for m in range(int(t0 // 60), int(t1 // 60) + 1):
            out += [f for f in self.by_minute.get(m, ()) if lon0 <= f.lon <= lon1 and lat0 <= f.lat <= lat1]
        return out


def bench_detection_delay(
    index: GeofenceIndex, fixes: list[PositionFix], *, poll_s: float, late_share: float, late_s: float
) -> dict[str, object]:
    """Detection delay = warning raised − end of its evidence, both on the stream's clock.

    The stream is played as a live feed in event time: a fix arrives at its own time, except
    the fixes of a ``late_share`` of the vessels (a satellite-AIS-like source), which arrive
    ``late_s`` later. Every ``poll_s`` the consumer stores what arrived and judges it (with
    the history callbacks a fix store gives); its processing time moves the clock on.
    """
    pipe = TrackPipeline(
        geofences=index, tide_window_at=tide_lookup, known_vessels={f"4130{v:05d}" for v in range(0, 200_000, 2)}
    )
    store = _StoredFixes()
    pipe.history, pipe.history_near = store.of, store.near
    late_vessels = {f.vessel_id for f in fixes if zlib.crc32(f.vessel_id.encode()) % 1000 < late_share * 1000}
    ts = np.array([f.ts.timestamp() for f in fixes])
    arrival = ts + np.array([late_s if f.vessel_id in late_vessels else 0.0 for f in fixes])
    order = np.argsort(arrival, kind="stable")
    arrival = arrival[order]
    fixes = [fixes[k] for k in order]
    clock = float(arrival[0])
    i, n = 0, len(fixes)
    delays: dict[str, list[float]] = {"on_time": [], "late_source": []}
    news: Counter = Counter()
    withdrawn = 0
    busy = 0.0
    while i < n:
        clock = max(clock, math.ceil(arrival[i] / poll_s) * poll_s)
        j = int(np.searchsorted(arrival, clock, side="right"))
        batch = fixes[i:j]
        t = _time.perf_counter()
        store.add(batch)
        events = pipe.process(batch)
        d = _time.perf_counter() - t
        busy += d
        clock += d
        for w in events:
            if w.action == "new":
                news[w.episode_key] += 1
                group = "late_source" if late_vessels.intersection(w.vessels) else "on_time"
                delays[group].append(clock - w.end.timestamp())
            elif w.action == "withdraw":
                withdrawn += 1
        i = j

    def dist(values: list[float]) -> dict[str, float]:
        if not values:
            return {"warnings": 0}
        a = np.array(values)
        return {"warnings": len(values), "p50_s": float(np.percentile(a, 50)), "p95_s": float(np.percentile(a, 95)),
                "p99_s": float(np.percentile(a, 99)), "max_s": float(a.max())}

    return {
        "fixes": n,
        "poll_s": poll_s,
        "late_vessels": len(late_vessels),
        "late_s": late_s,
        "on_time": dist(delays["on_time"]),
        "late_source": dist(delays["late_source"]),
        "raised_twice": sum(1 for c in news.values() if c > 1),
        "withdrawn": withdrawn,
        "rejudged": pipe.stats.get("rejudged", 0),
        "cpu_busy": busy,
    }


def memory_child(n_vessels: int, n_geofences: int) -> None:
    """Run in a fresh process: RSS before/after holding n_vessels' state."""
    rng = np.random.default_rng(7)
    index = GeofenceIndex(make_geofences(n_geofences, rng))
    pipe = new_pipeline(index)
    base = rss_mib()
    # Three fixes per vessel, 1 min apart; 5 % of vessels sit inside a geofence (open visit
    # with its evidence ring), the rest at sea.
    cent = shapely.centroid(np.array([g.geometry for g in index.geofences]))
    gx, gy = shapely.get_x(cent), shapely.get_y(cent)
    lon = rng.uniform(121.9, 122.27, n_vessels)
    lat = rng.uniform(28.85, 29.66, n_vessels)
    inside = rng.random(n_vessels) < 0.05
    pick = rng.integers(0, len(gx), n_vessels)
    lon[inside], lat[inside] = gx[pick[inside]], gy[pick[inside]]
    sog = np.where(inside, 0.2, rng.uniform(0.5, 12, n_vessels))
    base_t = T0.timestamp()
    for k in range(3):
        batch = [
            PositionFix(
                "ais",
                f"5{v:08d}",
                datetime.fromtimestamp(base_t + 60 * k + (v % 60), UTC),
                float(lon[v]),
                float(lat[v]),
                float(sog[v]),
            )
            for v in range(n_vessels)
        ]
        pipe.process(batch)
        del batch
    import gc

    gc.collect()
    after = rss_mib()
    report = {
        "vessels": n_vessels,
        "rss_base_mib": base,
        "rss_mib": after,
        "state_mib": after - base,
        "bytes_per_vessel": (after - base) * 1024 * 1024 / n_vessels,
        "store_keys": len(pipe.store),  # type: ignore[arg-type]
    }
    print(json.dumps(report))


def _delay_row(d: dict) -> str:
    if not d.get("warnings"):
        return "no warnings"
    return (f"{d['warnings']:,} warnings: p50 {d['p50_s']:.0f} s, p95 {d['p95_s']:.0f} s, "
            f"p99 {d['p99_s']:.0f} s, max {d['max_s']:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geofences", type=int, default=5_000)
    ap.add_argument("--vessels", type=int, default=10_000)
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=10_000)
    ap.add_argument("--memory-vessels", type=int, default=100_000)
    ap.add_argument("--latency-seconds", type=float, default=60.0)
    ap.add_argument("--nmea-fixes", type=int, default=200_000, help="fixes encoded as NMEA for the decode stages")
    ap.add_argument("--json", type=Path, default=None, help="write the results here")
    ap.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--radar-tracks", type=int, default=2_000, help="radar tracks (3 radars) for the fusion stage")
    ap.add_argument("--delay-fixes", type=int, default=200_000, help="fixes played as a live feed for the detection delay")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if args.memory_child:
        memory_child(args.memory_vessels, args.geofences)
        return

    t_all = _time.perf_counter()
    rng = np.random.default_rng(args.seed)
    t = _time.perf_counter()
    geofences = make_geofences(args.geofences, rng)
    index = GeofenceIndex(geofences)
    t_index = _time.perf_counter() - t
    t = _time.perf_counter()
    stream = make_stream(geofences, n_vessels=args.vessels, n_fixes=args.fixes, rng=rng)
    t_gen = _time.perf_counter() - t

    lines = encode_nmea(stream.fixes[: args.nmea_fixes])
    decode = bench_decode(index, lines, args.batch)
    locate = bench_locate(index, stream.fixes, args.batch)
    e2e = bench_end_to_end(index, stream.fixes, args.batch)
    fusion = bench_fusion(index, stream.fixes, args.batch, n_tracks=args.radar_tracks, rng=rng)
    latency = bench_latency(index, stream.fixes, rate=2_000.0, poll_s=0.1, seconds=args.latency_seconds)
    delay = bench_detection_delay(index, stream.fixes[: args.delay_fixes], poll_s=10.0, late_share=0.1, late_s=1800.0)
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--memory-child",
            "--memory-vessels",
            str(args.memory_vessels),
            "--geofences",
            str(args.geofences),
        ],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )
    memory = json.loads(child.stdout.strip().splitlines()[-1])
    results = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "setup": {"geofences": args.geofences, "vessels": args.vessels, "fixes": len(stream.fixes),
                  "index_build_s": t_index, "stream_build_s": t_gen, "roles": dict(stream.roles)},
        "decode": decode,
        "locate": locate,
        "end_to_end": e2e,
        "fusion": fusion,
        "latency": latency,
        "detection_delay": delay,
        "memory": memory,
        "total_s": _time.perf_counter() - t_all,
    }
    rows = [
        ("geofences / vessels / fixes", f"{args.geofences:,} / {args.vessels:,} / {len(stream.fixes):,}"),
        ("index build", f"{t_index:.2f} s"),
        ("AIS decoding alone (NMEA with tag blocks)", f"{decode['decode_fixes_per_s']:,.0f} fixes/s"),
        (
            f"decode → geofence → detectors → warning ({decode['sentences']:,} sentences)",
            f"{decode['decode_to_warning_fixes_per_s']:,.0f} fixes/s wall, "
            f"{decode['decode_to_warning_fixes_per_cpu_s']:,.0f} per CPU-second",
        ),
        ("STRtree.query(intersects) alone", f"{locate['strtree_query_fixes_per_s']:,.0f} fixes/s"),
        ("GeofenceIndex.locate", f"{locate['locate_fixes_per_s']:,.0f} fixes/s"),
        ("fixes inside a geofence", f"{locate['share_of_fixes_inside_a_geofence']:.1%}"),
        (
            f"pipeline.process (batch {args.batch:,})",
            f"{e2e['fixes_per_s']:,.0f} fixes/s wall ({e2e['seconds']:.1f} s), "
            f"{e2e['fixes_per_cpu_s']:,.0f} fixes per CPU-second",
        ),
        (
            f"  with {fusion['radars']} radars, {fusion['radar_tracks']:,} radar tracks (association + dark targets)",
            f"{fusion['fixes_per_s']:,.0f} fixes/s wall, {fusion['fixes_per_cpu_s']:,.0f} per CPU-second "
            f"({fusion['fixes']:,} fixes; {fusion['associated_at_end']:,} associated at the end, "
            f"{fusion['radar_only_tracks']:,} radar-only, {fusion['dark_target_warnings']:,} dark_target warnings)",
        ),
        ("warnings new / update", f"{e2e['warnings_new']:,} / {e2e['warnings_update']:,}"),
        ("new by kind", ", ".join(f"{k} {v}" for k, v in sorted(e2e["new_by_kind"].items()))),
        ("new by level", ", ".join(f"{k} {v}" for k, v in sorted(e2e["new_by_level"].items()))),
        ("latency @2,000 fixes/s, poll 100 ms", f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, "
                                               f"p99 {latency['p99_ms']:.0f} ms, max {latency['max_ms']:.0f} ms"),
        (
            "  processing per 100 ms poll",
            f"p50 {latency['batch_processing_p50_ms']:.1f} ms, p99 {latency['batch_processing_p99_ms']:.1f} ms",
        ),
        ("  CPU busy at that rate", f"{latency['cpu_utilisation']:.1%}"),
        (
            f"detection delay (raised − evidence end), live feed, poll {delay['poll_s']:.0f} s",
            _delay_row(delay["on_time"]) + " (on-time sources)",
        ),
        (
            f"  vessels on a source {delay['late_s'] / 60:.0f} min late ({delay['late_vessels']:,})",
            _delay_row(delay["late_source"]) + f"; raised twice {delay['raised_twice']}, withdrawn {delay['withdrawn']}",
        ),
        (
            f"RSS with {memory['vessels']:,} vessels",
            f"{memory['rss_mib']:.0f} MiB total, {memory['state_mib']:.0f} MiB state "
            f"({memory['bytes_per_vessel']:.0f} B/vessel)",
        ),
        ("total bench time", f"{results['total_s']:.0f} s"),
    ]
    width = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
