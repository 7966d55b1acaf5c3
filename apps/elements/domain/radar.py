"""Radar target reports (ARPA / VTS) -> radar tracks as position fixes.

Input, one report per line:

* NMEA 0183 ``TTM`` (tracked target: number, distance and true bearing from the radar, speed,
  course, status) and ``TLL`` (target number, latitude/longitude, status), each with an NMEA
  4.10 tag block ``\\s:<sensor_id>,c:<unix seconds>*hh\\`` in front. Sentences are parsed by
  pynmea2 (checksum verified), tag blocks by pyais' ``TagBlock``. A TTM's range and bearing
  are turned into a position with the registered radar position (WGS84 geodesic).
* CSV ``sensor_id,target_id,timestamp,lat,lon,sog,cog`` (ISO 8601 timestamps with zone).

A radar's target numbers are its own and get reused. :class:`TrackNumbering` gives every
physical track its own id: a number that reappears after :attr:`lost_after_s` without a report,
after a ``L`` (lost) status, or with a jump no boat can make (faster than ``max_speed_kn``)
starts a new track. The target id is ``radar:<sensor_id>:<number>@<UTC start, YYYYmmddTHHMMSS>``
— deterministic, so ingesting the same file twice gives the same targets.

Refused lines become :class:`Quarantined` with a reason, like AIS lines:

``bad_tag_block``   tag block unterminated, bad checksum, or without ``s:`` (the radar)
``bad_checksum``    the sentence's checksum does not match
``garbled``         not a parsable NMEA sentence / CSV row
``unsupported``     an NMEA sentence other than TTM/TLL
``unknown_sensor``  ``s:`` names no registered radar (a TTM needs the radar's position)
``bad_target``      missing target number, distance/bearing, relative bearing, unknown unit
``bad_position``    a position outside ±90/±180
``missing_field`` / ``bad_timestamp`` / ``bad_number``  CSV rows, as for position batches
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import pynmea2
from pyais.messages import TagBlock

from .geo_units import haversine_m
from .model import PositionFix, Quarantined
from .positions import (
    _as_text,
    _csv_rows,
    _empty,
    _header_index,
    _lon_lat,
    _optional_motion,
    _Refused,
    _Row,
    _TimestampCache,
)
from .sensors import NM_M, destination

SOURCE: Final = "radar"
PREFIX: Final = "radar:"
CSV_COLUMNS: Final = ("sensor_id", "target_id", "timestamp", "lat", "lon", "sog", "cog")

BAD_TAG_BLOCK: Final = "bad_tag_block"
BAD_CHECKSUM: Final = "bad_checksum"
GARBLED: Final = "garbled"
UNSUPPORTED: Final = "unsupported"
UNKNOWN_SENSOR: Final = "unknown_sensor"
BAD_TARGET: Final = "bad_target"
BAD_POSITION: Final = "bad_position"

#: Distance unit letter -> metres (speeds are in the same unit per hour).
_UNITS: Final = {"N": NM_M, "K": 1000.0, "S": 1609.344}
_KN_PER_UNIT_H: Final = {k: v / NM_M for k, v in _UNITS.items()}


@dataclass(frozen=True, slots=True)
class RadarReport:
    """One target report of one radar, before track numbering."""

    sensor_id: str
    number: int
    ts: datetime
    lon: float
    lat: float
    sog_kn: float | None
    cog_deg: float | None
    lost: bool = False


def target_id(sensor_id: str, uid: str) -> str:
    return f"{PREFIX}{sensor_id}:{uid}"


def parse_target_id(vessel_id: str) -> tuple[str, int | None] | None:
    """``radar:R2:17@20210320T021500`` -> ``("R2", 17)``; None for a cooperative vessel id."""
    if not vessel_id.startswith(PREFIX):
        return None
    rest = vessel_id[len(PREFIX):]
    sensor, _sep, uid = rest.rpartition(":")
    number = uid.split("@", 1)[0]
    return sensor, int(number) if number.isdigit() else None


def is_radar_target(vessel_id: str) -> bool:
    return vessel_id.startswith(PREFIX)


def describe_target(vessel_id: str) -> str:
    """``雷达 R2 目标 17`` for a radar target id, the id itself otherwise."""
    parsed = parse_target_id(vessel_id)
    if parsed is None:
        return vessel_id
    return f"雷达 {parsed[0]} 目标 {parsed[1] if parsed[1] is not None else '?'}"


# ---------------------------------------------------------------------- NMEA
class RadarNmeaDecoder:
    """TTM/TLL lines with tag blocks -> :class:`RadarReport` / :class:`Quarantined`.

    ``radars`` maps a registered radar's sensor id to its (lon, lat).
    """

    def __init__(self, radars: Mapping[str, tuple[float, float]]) -> None:
        self.radars = dict(radars)

    def _q(self, raw: str, reason: str, detail: str, ts: datetime | None) -> Quarantined:
        return Quarantined(SOURCE, raw, reason, detail, ts)

    def decode(self, line: str, received_at: datetime) -> RadarReport | Quarantined | None:
        raw = line.strip()
        if not raw or raw.startswith("#"):
            return None
        sensor: str | None = None
        ts: datetime | None = None
        sentence = raw
        if raw.startswith("\\"):
            end = raw.find("\\", 1)
            if end < 0:
                return self._q(raw, BAD_TAG_BLOCK, "标签块未结束", received_at)
            tb = TagBlock(raw[1:end].encode("ascii", "replace"))
            tb.init()
            if not tb.is_valid:
                return self._q(raw, BAD_TAG_BLOCK, "标签块校验和错误或格式错误", received_at)
            sensor = (tb.source_station or "").strip() or None
            if tb.receiver_timestamp:
                try:
                    value = float(tb.receiver_timestamp)
                    ts = datetime.fromtimestamp(value / 1000.0 if value > 1e11 else value, UTC)
                except (ValueError, OverflowError, OSError):
                    return self._q(raw, BAD_TAG_BLOCK, f"标签块时间无法解析：{tb.receiver_timestamp!r}", received_at)
            sentence = raw[end + 1:]
        if sensor is None:
            return self._q(raw, BAD_TAG_BLOCK, "缺少标签块 s:（雷达编号）", ts or received_at)
        try:
            msg = pynmea2.parse(sentence, check=True)
        except pynmea2.ChecksumError as exc:
            return self._q(raw, BAD_CHECKSUM, str(exc), ts or received_at)
        except (pynmea2.ParseError, ValueError, TypeError, AttributeError) as exc:
            return self._q(raw, GARBLED, f"无法解析的 NMEA 语句：{exc}", ts or received_at)
        kind = getattr(msg, "sentence_type", "")
        if kind not in ("TTM", "TLL"):
            return self._q(raw, UNSUPPORTED, f"不是雷达目标语句（{kind or '?'}）", ts or received_at)
        if ts is None:
            ts = _sentence_time(getattr(msg, "timestamp", None), received_at)
        try:
            return self._report(msg, kind, sensor, ts)
        except _Refused as exc:
            return self._q(raw, exc.reason, exc.detail, ts)
        except (ValueError, TypeError, ArithmeticError) as exc:
            return self._q(raw, BAD_TARGET, f"目标数据无效：{exc}", ts)

    def _report(self, msg: Any, kind: str, sensor: str, ts: datetime) -> RadarReport:
        number = msg.target_number
        if number is None or number < 0:
            raise _Refused(BAD_TARGET, "缺少目标编号")
        if kind == "TLL":
            if sensor not in self.radars:
                raise _Refused(UNKNOWN_SENSOR, f"未登记的雷达：{sensor}")
            if not msg.lat or not msg.lon:
                raise _Refused(BAD_TARGET, "缺少目标经纬度")
            lon, lat = float(msg.longitude), float(msg.latitude)
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise _Refused(BAD_POSITION, f"经纬度超出范围：{lat}, {lon}")
            return RadarReport(sensor, int(number), ts, lon, lat, None, None, lost=(msg.target_status or "").upper() == "L")
        origin = self.radars.get(sensor)
        if origin is None:
            raise _Refused(UNKNOWN_SENSOR, f"未登记的雷达：{sensor}（TTM 需要雷达位置换算距离方位）")
        unit = (msg.dist_unit or "N").upper()
        if unit not in _UNITS:
            raise _Refused(BAD_TARGET, f"未知的距离单位：{msg.dist_unit!r}")
        if msg.distance is None or msg.bearing is None:
            raise _Refused(BAD_TARGET, "缺少目标距离或方位")
        if (msg.brg_ref or "T").upper() != "T":
            raise _Refused(BAD_TARGET, "岸基雷达须报真方位（T），相对方位无法换算")
        dist_m = float(msg.distance) * _UNITS[unit]
        bearing = float(msg.bearing) % 360.0
        if not (math.isfinite(dist_m) and dist_m >= 0):
            raise _Refused(BAD_TARGET, f"目标距离无效：{msg.distance}")
        lon, lat = destination(origin[0], origin[1], bearing, dist_m)
        sog = None if msg.speed is None else float(msg.speed) * _KN_PER_UNIT_H[unit]
        cog = None if msg.cog is None else float(msg.cog) % 360.0
        if sog is not None and not (math.isfinite(sog) and sog >= 0):
            raise _Refused(BAD_TARGET, f"目标速度无效：{msg.speed}")
        return RadarReport(sensor, int(number), ts, lon, lat, sog, cog, lost=(msg.status or "").upper() == "L")


def _sentence_time(t, received_at: datetime) -> datetime:
    """The sentence's UTC time of day on the receive date (the day before if that is in the future)."""
    if t is None:
        return received_at
    at = received_at.astimezone(UTC).replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=t.microsecond)
    if at > received_at + timedelta(hours=1):
        at -= timedelta(days=1)
    return at


# ---------------------------------------------------------------------- CSV
def iter_radar_csv(data: str | bytes, radars: Mapping[str, Any]) -> Iterator[RadarReport | Quarantined]:
    """CSV ``sensor_id,target_id,timestamp,lat,lon,sog,cog`` -> reports (``target_id`` a number)."""
    rows = _csv_rows(_as_text(data))
    first = next(rows, None)
    if first is None:
        return
    index, is_header = _header_index(first[1], CSV_COLUMNS)
    parse_ts = _TimestampCache()

    def one(raw: str, cells: list[str]) -> RadarReport | Quarantined:
        row = _Row(cells, index)
        try:
            missing = [c for c in ("sensor_id", "target_id", "timestamp", "lat", "lon") if _empty(row.get(c))]
            if missing:
                raise _Refused("missing_field", "缺少 " + ", ".join(missing))
            ts = parse_ts(row.get("timestamp"))
            sensor = row.get("sensor_id").strip()
            number = row.get("target_id").strip()
            if not number.isdigit():
                raise _Refused(BAD_TARGET, f"目标编号须为非负整数：{number!r}")
            if sensor not in radars:
                raise _Refused(UNKNOWN_SENSOR, f"未登记的雷达：{sensor}")
            lon, lat = _lon_lat(row.get("lon"), row.get("lat"))
            sog, cog = _optional_motion(row.get("sog"), row.get("cog"))
        except _Refused as exc:
            return Quarantined(SOURCE, raw, exc.reason, exc.detail, None)
        return RadarReport(sensor, int(number), ts, lon, lat, sog, cog)

    if not is_header:
        yield one(*first)
    for raw, cells in rows:
        yield one(raw, cells)


# ---------------------------------------------------------------------- track numbering
class TrackNumbering:
    """Per radar and target number, the current physical track; reports -> fixes of a target.

    State is JSON-safe (``to_dict``/``from_dict``) so a feed and the next file go on where the
    last one stopped.
    """

    def __init__(self, *, lost_after_s: float = 180.0, max_speed_kn: float = 60.0) -> None:
        self.lost_after_s = lost_after_s
        self.max_speed_kn = max_speed_kn
        # "sensor|number" -> [uid, last epoch s, lon, lat]
        self.tracks: dict[str, list] = {}

    def fix(self, r: RadarReport) -> PositionFix | None:
        """The fix of a report (None for a "lost" report, which ends the track)."""
        key = f"{r.sensor_id}|{r.number}"
        t = r.ts.timestamp()
        cur = self.tracks.get(key)
        if r.lost:
            self.tracks.pop(key, None)
            return None
        new = cur is None
        if cur is not None:
            dt = t - cur[1]
            if dt > self.lost_after_s:
                new = True
            elif dt >= 0:
                dist = haversine_m(cur[2], cur[3], r.lon, r.lat)
                if dist > 50.0 and (dt == 0 or dist / dt * 3600.0 / NM_M > self.max_speed_kn):
                    new = True
        if new:
            uid = f"{r.number}@{r.ts.astimezone(UTC):%Y%m%dT%H%M%S}"
            cur = [uid, t, r.lon, r.lat]
            self.tracks[key] = cur
        elif t >= cur[1]:
            cur[1], cur[2], cur[3] = t, r.lon, r.lat
        return PositionFix(SOURCE, target_id(r.sensor_id, cur[0]), r.ts, r.lon, r.lat, r.sog_kn, r.cog_deg)

    def to_dict(self) -> dict[str, Any]:
        return {"tracks": self.tracks}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, **kwargs: Any) -> TrackNumbering:
        out = cls(**kwargs)
        if d:
            out.tracks = {k: list(v) for k, v in dict(d.get("tracks", {})).items()}
        return out
