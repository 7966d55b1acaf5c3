"""A realistic AIS NMEA file for the ingest benchmark (no Django needed).

Shaped like a night of a county's shore receivers: ``n_vessels`` vessels reporting about
once a minute, lines in receive order (time-sorted, vessels interleaved), each sentence with
an NMEA 4.10 tag block (``s:`` receiver, ``c:`` unix time). Type 5 static reports go out as
two-part messages (tag-block group ``g:``) when a vessel first appears and for some vessels
again later. About ``garbage`` of the lines are broken the ways real feeds break: bad
checksums, truncated lines, orphan second parts, other NMEA talk, line noise.

Behaviours (relative to the demo geofences in ``geodata/demo_geofences.geojson``, so that
the detectors find something): most vessels transit at sea, some fish slowly, some sail to
an idle pier, stop there for an hour and leave (landings, repeat visits), some go silent
for a while near the coast (dark targets), some pairs meet at sea (rendezvous).
"""
from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: 01:00 local (Asia/Shanghai): the night rules are live.
T0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
SEA = (121.95, 28.95, 122.45, 29.60)  # lon0, lat0, lon1, lat1: open water east of the county
M_PER_DEG = 111_320.0


def _cs(body: str) -> str:
    c = 0
    for ch in body:
        c ^= ord(ch)
    return f"{c:02X}"


def _tag(ts: int, rx: str, group: str = "") -> str:
    body = f"s:{rx},c:{ts}" + (f",g:{group}" if group else "")
    return f"\\{body}*{_cs(body)}\\"


def _offset(lon: float, lat: float, bearing_deg: float, distance_m: float) -> tuple[float, float]:
    b = math.radians(bearing_deg)
    return (lon + distance_m * math.sin(b) / (M_PER_DEG * math.cos(math.radians(lat))),
            lat + distance_m * math.cos(b) / M_PER_DEG)


def idle_sites() -> list[tuple[float, float]]:
    data = json.loads((ROOT / "geodata" / "demo_geofences.geojson").read_text(encoding="utf-8"))
    return [tuple(f["geometry"]["coordinates"][:2]) for f in data["features"] if f["properties"].get("status") == "idle"]


class Vessel:
    """One vessel's motion: a list of legs (target lon, lat, speed kn; speed 0 = stay, None = silent) per minute."""

    def __init__(self, mmsi: int, lon: float, lat: float, phase_s: int) -> None:
        self.mmsi, self.lon, self.lat, self.phase_s = mmsi, lon, lat, phase_s
        self.plan: list[tuple[str, float, float, float]] = []  # (kind, lon, lat, speed or minutes)
        self.sog = 0.0
        self.cog = 0.0

    def step(self, rng: random.Random) -> bool:
        """Advance one minute; False when the vessel is silent this minute."""
        while self.plan:
            kind, lon, lat, v = self.plan[0]
            if kind == "sail":
                dx = (lon - self.lon) * M_PER_DEG * math.cos(math.radians(self.lat))
                dy = (lat - self.lat) * M_PER_DEG
                dist = math.hypot(dx, dy)
                run = v * 1852 / 60
                self.sog, self.cog = v, math.degrees(math.atan2(dx, dy)) % 360
                if dist <= run:
                    self.lon, self.lat = lon, lat
                    self.plan.pop(0)
                else:
                    self.lon += (lon - self.lon) * run / dist
                    self.lat += (lat - self.lat) * run / dist
                return True
            if kind in ("stay", "dark"):
                if v <= 0:
                    self.plan.pop(0)
                    continue
                self.plan[0] = (kind, lon, lat, v - 1)
                if kind == "dark":
                    return False
                self.sog, self.cog = round(rng.uniform(0.0, 0.4), 1), rng.uniform(0, 360)
                self.lon, self.lat = _offset(lon, lat, rng.uniform(0, 360), rng.uniform(0, 10))
                return True
            self.plan.pop(0)
        # free: wander at sea
        if rng.random() < 0.02 or self.sog == 0:
            self.sog = rng.uniform(4, 12) if rng.random() < 0.8 else rng.uniform(1, 3)
            self.cog = rng.uniform(0, 360)
        lon, lat = _offset(self.lon, self.lat, self.cog, self.sog * 1852 / 60)
        if not (SEA[0] < lon < SEA[2] and SEA[1] < lat < SEA[3]):
            self.cog = (self.cog + 180) % 360
            lon, lat = _offset(self.lon, self.lat, self.cog, self.sog * 1852 / 60)
        self.lon, self.lat = lon, lat
        return True


def make_fleet(n_vessels: int, rng: random.Random) -> list[Vessel]:
    sites = idle_sites()
    fleet: list[Vessel] = []
    for k in range(n_vessels):
        mmsi = 412_000_000 + k * 7 + 1
        v = Vessel(mmsi, rng.uniform(SEA[0], SEA[2]), rng.uniform(SEA[1], SEA[3]), rng.randrange(60))
        r = rng.random()
        if r < 0.02:  # landing at an idle site: come in from 3.5 km out, stay about an hour, leave
            slon, slat = rng.choice(sites)
            olon, olat = _offset(slon, slat, rng.uniform(60, 120), 3500)
            v.lon, v.lat = olon, olat
            v.plan = [("stay", olon, olat, rng.randrange(0, 20)), ("sail", slon, slat, 7.0),
                      ("stay", slon, slat, rng.randrange(50, 80)), ("sail", olon, olat, 7.0)]
        elif r < 0.03:  # dark near the coast: silent 40-70 minutes 1 km off an idle site
            slon, slat = rng.choice(sites)
            near = _offset(slon, slat, rng.uniform(60, 120), 1000)
            v.lon, v.lat = _offset(slon, slat, rng.uniform(60, 120), 6000)
            v.plan = [("sail", *near, 6.0), ("dark", *near, rng.randrange(40, 70)), ("sail", v.lon, v.lat, 6.0)]
        fleet.append(v)
    # rendezvous: 0.5 % of the vessels in pairs meet at sea and lie side by side 45 minutes
    free = [v for v in fleet if not v.plan]
    for a, b in zip(free[: len(fleet) // 200 * 2 : 2], free[1 : len(fleet) // 200 * 2 : 2]):
        mlon, mlat = rng.uniform(SEA[0] + 0.05, SEA[2] - 0.05), rng.uniform(SEA[1] + 0.05, SEA[3] - 0.05)
        for v, side in ((a, 0.0), (b, 90.0)):
            v.lon, v.lat = _offset(mlon, mlat, side + 200, 4000)
            here = _offset(mlon, mlat, side, 40)
            v.plan = [("sail", *here, 6.0), ("stay", *here, 45), ("sail", v.lon, v.lat, 6.0)]
    return fleet


def _position_sentence(v: Vessel) -> str:
    from pyais.encode import encode_dict

    (s,) = encode_dict({"type": 1, "mmsi": v.mmsi, "lon": round(v.lon, 6), "lat": round(v.lat, 6),
                        "speed": round(v.sog, 1), "course": round(v.cog, 1), "status": 0},
                       radio_channel="A", talker_id="AI", sentence_type="VDM")
    return s


def _static_sentences(v: Vessel, seq: int) -> list[str]:
    from pyais.encode import encode_dict

    return encode_dict({"type": 5, "mmsi": v.mmsi, "callsign": f"B{v.mmsi % 100000:05d}",
                        "shipname": f"ZHE XIANG YU {v.mmsi % 10000:04d}", "ship_type": 30,
                        "imo": 0, "destination": "SHIPU"},
                       radio_channel="B", talker_id="AI", sentence_type="VDM", seq_id=seq % 10)


def _garbage(good: str, rng: random.Random, ts: int) -> str:
    k = rng.randrange(5)
    if k == 0:  # one payload character changed: checksum no longer matches
        i = len(good) - 8
        return good[:i] + ("0" if good[i] != "0" else "1") + good[i + 1 :]
    if k == 1:
        return good[: rng.randrange(5, len(good) - 4)]
    if k == 2:
        body = f"GPGGA,{ts % 86400:06d}.00,2915.00,N,12150.00,E,1,08,0.9,10.0,M,0.0,M,,"
        return f"${body}*{_cs(body)}"
    if k == 3:  # the second part of a two-part message whose first part was lost
        body = "AIVDM,2,2,7,B,88888888880,2"
        return _tag(ts, "rx1") + f"!{body}*{_cs(body)}"
    return "".join(rng.choice("0123456789ABCDEF,!*$\\ ") for _ in range(rng.randrange(10, 60)))


def lines(*, n_vessels: int, n_fixes: int, garbage: float = 0.01, seed: int = 7) -> Iterator[str]:
    """The file's lines (with newline), in receive order."""
    rng = random.Random(seed)
    fleet = sorted(make_fleet(n_vessels, rng), key=lambda v: v.phase_s)
    receivers = ("rx1", "rx2", "rx3")
    emitted = 0
    minute = 0
    static_seq = 0
    t0 = int(T0.timestamp())
    seen: set[int] = set()
    while emitted < n_fixes:
        for v in fleet:
            if emitted >= n_fixes:
                break
            if not v.step(rng):
                continue
            ts = t0 + minute * 60 + v.phase_s
            rx = receivers[v.mmsi % 3]
            if v.mmsi not in seen or (minute == 50 and v.mmsi % 5 == 0):
                seen.add(v.mmsi)
                static_seq += 1
                parts = _static_sentences(v, static_seq)
                group = 1000 + static_seq % 9000
                for i, p in enumerate(parts, start=1):
                    yield _tag(ts, rx, f"{i}-{len(parts)}-{group}") + p + "\n"
            line = _tag(ts, rx) + _position_sentence(v)
            if rng.random() < garbage:
                line = _garbage(line, rng, ts)
            else:
                emitted += 1
            yield line + "\n"
        minute += 1


def write(path: Path, *, n_vessels: int, n_fixes: int, garbage: float = 0.01, seed: int = 7) -> Path:
    tmp = path.with_suffix(".part")
    with open(tmp, "w", encoding="ascii", newline="") as fh:
        buf: list[str] = []
        for line in lines(n_vessels=n_vessels, n_fixes=n_fixes, garbage=garbage, seed=seed):
            buf.append(line)
            if len(buf) >= 10_000:
                fh.write("".join(buf))
                buf = []
        fh.write("".join(buf))
    tmp.replace(path)
    return path


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--vessels", type=int, default=10_000)
    ap.add_argument("--fixes", type=int, default=1_000_000)
    a = ap.parse_args()
    write(Path(a.out), n_vessels=a.vessels, n_fixes=a.fixes)
