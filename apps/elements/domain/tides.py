"""Tide prediction, tide-table import and the nightly joint-patrol windows.

Pure Python (numpy + utide), no Django. Used by the detectors (``TideSchedule`` on the
hot path: one ``window_at`` call per position fix) and by the tide-table import.

Prediction and phase convention
-------------------------------
Heights are predicted with UTide (``utide.reconstruct``, Codiga 2011, the maintained
Python port of the MATLAB UTide / T_TIDE lineage) fed with a coefficient structure
built here from *published* harmonic constants instead of one produced by
``utide.solve``. UTide evaluates, for UTC times ``t``::

    h(t) = Z0 + sum_k f_k(t) * A_k * cos(V_k(t) + u_k(t) - g_k)

with ``V_k`` the Greenwich equilibrium argument at the UTC instant ``t`` (Foreman 1977
conventions), ``f_k``/``u_k`` the nodal/satellite amplitude and phase corrections, and
``g_k`` the **Greenwich phase lag referred to UTC** (a.k.a. "G", "phase_GMT"). This is
the convention of NOAA "phase_GMT", TICON, TPXO/FES and UTide/T_TIDE output, and the one
``HarmonicConstants`` stores internally.

Chinese tables usually give 迟角 g referred to zone time (东八区, UTC+8, "120°E time").
``load_constants`` converts those: a phase referred to clock time UTC+Z hours relates to
the UTC-referred one by ``g_utc = g_zone - speed_deg_per_h * Z`` (mod 360), because
``V(t_utc + Z h) = V(t_utc) + speed * Z``. Local epochs κ (referred to the station's
own meridian and local mean time) are *not* accepted: convert them first
(``G = κ - p * λ_east`` for a species-p constituent) and record that in the data file.

Nodal corrections are evaluated once per 30-day block (UTide's ``nodsatlint`` at the
block centre; f and u change by < 0.01 % in 15 days) while the astronomical argument V
is exact at every sample; this keeps memory flat for year-long predictions.

Constituent names follow UTide (``M2``, ``S2``, ``K1``, ``O1``, ``NO1``, ``LDA2`` ...);
common aliases from other sources (``M1`` -> ``NO1``, ``LAMBDA2`` -> ``LDA2``, ``EP2`` ->
``EPS2``, ``SGM`` -> ``SIG1``) are mapped. Constituents UTide does not know are kept in
the data but skipped in prediction (``HarmonicConstants.unsupported``).

Times
-----
Every datetime crossing this API must be timezone-aware; naive datetimes raise
``ValueError``. numpy ``datetime64`` inputs carry no zone and are taken as UTC.
Returned events are in UTC; patrol windows are returned in the patrol time zone
(Asia/Shanghai by default). Heights are metres above the datum named in the constants
(or in the imported table).
"""
from __future__ import annotations

import bisect
import csv
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from .model import TideWindow

__all__ = [
    "Constituent",
    "HarmonicConstants",
    "TideEvent",
    "TideTableError",
    "TideSchedule",
    "TideWindow",
    "load_constants",
    "constants_from_dict",
    "predict_heights",
    "high_low_waters",
    "parse_tide_table_csv",
    "events_to_csv",
    "patrol_windows",
    "PATROL_TZ",
    "TIDE_TABLE_COLUMNS",
]

PATROL_TZ = "Asia/Shanghai"
TIDE_TABLE_COLUMNS = ("station", "timestamp", "height_m", "kind")

Kind = Literal["high", "low"]

# Aliases used by other sources (TICON, NOAA, IHO lists) -> UTide constituent names.
_ALIASES: dict[str, str] = {
    "M1": "NO1",
    "LAMBDA2": "LDA2",
    "LAM2": "LDA2",
    "EP2": "EPS2",
    "EPSILON2": "EPS2",
    "SGM": "SIG1",
    "SIGMA1": "SIG1",
    "RHO": "RHO1",
    "THETA1": "THE1",
    "THETA": "THE1",
    "PHI1": "PHI1",
    "PSI1": "PSI1",
    "2MS2": "MU2",  # same speed; NOAA lists mu2 as 2MS2 in some tables
}

_BLOCK_DAYS = 30.0  # nodal corrections linearised per block of this many days
_UNIX_TO_PY_DATENUM = 719163.0  # days from 0000-12-31 (UTide "python" epoch) to 1970-01-01


# --------------------------------------------------------------------------- data


@dataclass(frozen=True, slots=True)
class Constituent:
    """One harmonic constituent: amplitude [m] and Greenwich phase lag g [deg, UTC]."""

    name: str
    amplitude_m: float
    phase_deg: float


@dataclass(frozen=True, slots=True)
class HarmonicConstants:
    """Published harmonic constants of one tide station, normalised to Greenwich/UTC.

    ``z0_m`` is the mean level above ``datum`` [m]; ``lat``/``lon`` in degrees (WGS84),
    ``lat`` is used by UTide's latitude-dependent satellite corrections.
    """

    station: str
    lat: float
    lon: float
    datum: str
    z0_m: float
    constituents: tuple[Constituent, ...]
    station_id: str = ""
    time_zone: str = PATROL_TZ
    source: str = ""

    @property
    def unsupported(self) -> tuple[str, ...]:
        """Names of constituents that UTide does not know (skipped in prediction)."""
        return tuple(c.name for c in self.constituents if _utide_name(c.name) is None)


@dataclass(frozen=True, slots=True, order=True)
class TideEvent:
    """A high or low water: ``ts`` aware (UTC from this module), ``height_m`` [m above datum]."""

    ts: datetime
    height_m: float
    kind: Kind
    station: str = ""


@dataclass(frozen=True, slots=True)
class TideTableError:
    """A refused row of an imported tide table (1-based ``line`` number in the file)."""

    line: int
    message: str
    raw: str = ""


# ------------------------------------------------------------------- constants


def _utide_name(name: str) -> str | None:
    import utide

    key = name.strip().upper()
    key = _ALIASES.get(key, key)
    return key if key in utide.constit_index_dict else None


def _speed_deg_per_h(name: str) -> float:
    import utide

    utn = _utide_name(name)
    if utn is None:
        raise ValueError(f"unknown constituent {name!r}: cannot convert its phase between time zones")
    return float(utide.cycles_per_hour[utn]) * 360.0


def _parse_utc_offset_hours(label: str) -> float:
    """'UTC' -> 0, 'UTC+8', 'UTC+08:00', '+08:00' -> 8.0, 'UTC-03:30' -> -3.5."""
    s = label.strip().upper().replace("GMT", "UTC")
    if s in ("UTC", "Z", "UTC+0", "UTC+00:00", "GREENWICH"):
        return 0.0
    if s.startswith("UTC"):
        s = s[3:]
    if not s or s[0] not in "+-":
        raise ValueError(f"cannot read time zone of the phases: {label!r} (use 'UTC' or 'UTC+08:00')")
    sign = 1.0 if s[0] == "+" else -1.0
    hh, _, mm = s[1:].partition(":")
    return sign * (float(hh) + (float(mm) / 60.0 if mm else 0.0))


def load_constants(path: str | Path) -> HarmonicConstants:
    """Read a station's harmonic constants from ``geodata/tides/<station>.json``.

    Required keys: ``station``, ``lat``, ``lon``, ``datum``, ``z0_m``, ``phase_convention``
    (only ``"greenwich"`` is accepted), ``phase_time_zone`` (``"UTC"`` or e.g.
    ``"UTC+08:00"``; non-UTC phases are converted to UTC here) and ``constituents``:
    a list of ``{"name", "amplitude_m", "phase_deg"}``. See ``geodata/tides/README.md``.
    """
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return constants_from_dict(data)


def constants_from_dict(data: dict[str, Any]) -> HarmonicConstants:
    """Build :class:`HarmonicConstants` from the JSON structure of :func:`load_constants`."""
    convention = str(data.get("phase_convention", "greenwich")).lower()
    if convention != "greenwich":
        raise ValueError(
            f"phase_convention {convention!r} not supported: give Greenwich phase lags g "
            "(convert local epochs κ first: G = κ - p·λ_east)"
        )
    offset_h = _parse_utc_offset_hours(str(data.get("phase_time_zone", "UTC")))
    cons: list[Constituent] = []
    seen: set[str] = set()
    for item in data["constituents"]:
        name = str(item["name"]).strip().upper()
        if name in seen:
            raise ValueError(f"constituent {name} listed twice")
        seen.add(name)
        amp = float(item["amplitude_m"])
        phase = float(item["phase_deg"])
        if not (math.isfinite(amp) and math.isfinite(phase)) or amp < 0:
            raise ValueError(f"constituent {name}: bad amplitude/phase {amp!r}/{phase!r}")
        if offset_h:
            phase = phase - _speed_deg_per_h(name) * offset_h
        cons.append(Constituent(name, amp, phase % 360.0))
    src = data.get("source", "")
    if isinstance(src, dict):
        src = src.get("citation") or src.get("title") or json.dumps(src, ensure_ascii=False)
    return HarmonicConstants(
        station=str(data["station"]),
        lat=float(data["lat"]),
        lon=float(data["lon"]),
        datum=str(data["datum"]),
        z0_m=float(data["z0_m"]),
        constituents=tuple(cons),
        station_id=str(data.get("station_id", "")),
        time_zone=str(data.get("time_zone", PATROL_TZ)),
        source=str(src),
    )


# ------------------------------------------------------------------ prediction


@lru_cache(maxsize=32)
def _build_coef(constants: HarmonicConstants) -> Any:
    """A UTide coefficient ``Bunch`` equivalent to what ``utide.solve`` would return."""
    import utide
    from utide.utilities import Bunch

    names: list[str] = []
    amps: list[float] = []
    phases: list[float] = []
    lind: list[int] = []
    for c in constants.constituents:
        utn = _utide_name(c.name)
        if utn is None or utn in names:
            continue
        names.append(utn)
        amps.append(c.amplitude_m)
        phases.append(c.phase_deg)
        lind.append(utide.constit_index_dict[utn])
    lind_a = np.asarray(lind, dtype=int)
    opt = Bunch(
        twodim=False,
        nodsatlint=True,  # nodal/satellite factors at the block reference time
        nodsatnone=False,
        gwchlint=False,  # exact astronomical argument at every sample
        gwchnone=False,
        notrend=True,
        nodiagn=True,  # no confidence intervals: use every constituent
        prefilt=[],
    )
    aux = Bunch(
        reftime=0.0,
        lind=lind_a,
        frq=np.asarray(utide.ut_constants.const.freq, dtype=float)[lind_a],
        lat=float(constants.lat),
        opt=opt,
    )
    return Bunch(
        name=np.asarray(names),
        A=np.asarray(amps, dtype=float),
        g=np.asarray(phases, dtype=float),
        mean=float(constants.z0_m),
        slope=0.0,
        aux=aux,
    )


def _aware_to_utc(ts: datetime, what: str = "time") -> datetime:
    if not isinstance(ts, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(ts).__name__}")
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        raise ValueError(f"{what} {ts.isoformat()} is naive: give a timezone-aware datetime")
    return ts.astimezone(UTC)


def _to_datetime64_utc(times: npt.ArrayLike | Sequence[datetime]) -> npt.NDArray[np.datetime64]:
    """Aware datetimes (any zone) or datetime64 (taken as UTC) -> datetime64[ns] UTC."""
    if isinstance(times, np.ndarray) and times.dtype.kind == "M":
        return times.astype("datetime64[ns]").ravel()
    if isinstance(times, datetime):
        times = [times]
    seq = list(times)  # type: ignore[arg-type]
    out = np.empty(len(seq), dtype="datetime64[ns]")
    for i, t in enumerate(seq):
        if isinstance(t, np.datetime64):
            out[i] = t.astype("datetime64[ns]")
        else:
            u = _aware_to_utc(t)
            out[i] = np.datetime64(u.replace(tzinfo=None), "ns")
    return out


def predict_heights(
    constants: HarmonicConstants, times_utc: npt.ArrayLike | Sequence[datetime]
) -> npt.NDArray[np.float64]:
    """Predicted astronomical tide [m above ``constants.datum``] at the given instants.

    ``times_utc``: a sequence of timezone-aware datetimes (any zone; naive ones raise
    ``ValueError``) or a numpy ``datetime64`` array, read as UTC. Returns a float array
    of the same length. Meteorological surge is not included.
    """
    import utide

    t64 = _to_datetime64_utc(times_utc)
    if t64.size == 0:
        return np.empty(0, dtype=float)
    days = (t64 - np.datetime64("1970-01-01T00:00:00", "ns")).astype(np.int64) / 86_400e9
    datenum = days + _UNIX_TO_PY_DATENUM
    coef = _build_coef(constants)
    out = np.empty(datenum.shape, dtype=float)
    blocks = np.floor(datenum / _BLOCK_DAYS)
    order = np.argsort(blocks, kind="stable")
    uniq, first = np.unique(blocks[order], return_index=True)
    for b, idx in zip(uniq, np.split(order, first[1:]), strict=True):
        aux = dict(coef["aux"])
        aux["reftime"] = float((b + 0.5) * _BLOCK_DAYS)
        block_coef = type(coef)(coef)
        block_coef["aux"] = type(coef)(aux)
        res = utide.reconstruct(
            datenum[idx], block_coef, epoch="python", verbose=False, min_SNR=0, min_PE=0
        )
        out[idx] = res["h"]
    return out


def _utc_grid(start: datetime, end: datetime, step: timedelta) -> npt.NDArray[np.datetime64]:
    s = np.datetime64(_aware_to_utc(start, "start").replace(tzinfo=None), "ns")
    e = np.datetime64(_aware_to_utc(end, "end").replace(tzinfo=None), "ns")
    st = np.timedelta64(int(step.total_seconds() * 1e9), "ns")
    return np.arange(s - st, e + 2 * st, st)


def _dt64_to_datetime(t: np.datetime64) -> datetime:
    us = int(t.astype("datetime64[us]").astype(np.int64))
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)


def high_low_waters(
    constants: HarmonicConstants, start: datetime, end: datetime, step_min: float = 6
) -> list[TideEvent]:
    """Predicted high and low waters in ``[start, end)`` (aware datetimes), sorted by time.

    The tide is sampled every ``step_min`` minutes; each discrete local extremum is
    refined by fitting a parabola through it and its two neighbours (vertex time), and
    the height is re-predicted at the refined instant. ``ts`` is UTC; heights in metres
    above ``constants.datum``. ``station`` is ``constants.station_id or station``.
    """
    if step_min <= 0:
        raise ValueError("step_min must be positive")
    if _aware_to_utc(end, "end") <= _aware_to_utc(start, "start"):
        return []
    step = timedelta(minutes=step_min)
    grid = _utc_grid(start, end, step)
    y = predict_heights(constants, grid)
    if y.size < 3:
        return []
    y0, y1, y2 = y[:-2], y[1:-1], y[2:]
    is_high = (y1 > y0) & (y1 >= y2)
    is_low = (y1 < y0) & (y1 <= y2)
    idx = np.nonzero(is_high | is_low)[0]  # index into the interior (grid index - 1)
    if idx.size == 0:
        return []
    a, b, c = y0[idx], y1[idx], y2[idx]
    denom = a - 2.0 * b + c
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(denom != 0.0, 0.5 * (a - c) / denom, 0.0)
    frac = np.clip(frac, -0.5, 0.5)
    step_ns = step.total_seconds() * 1e9
    t_ref = grid[idx + 1] + (frac * step_ns).astype("timedelta64[ns]")
    h_ref = predict_heights(constants, t_ref)
    kinds = np.where(is_high[idx], "high", "low")
    s_utc = _aware_to_utc(start)
    e_utc = _aware_to_utc(end)
    station = constants.station_id or constants.station
    events: list[TideEvent] = []
    for t, h, k in zip(t_ref, h_ref, kinds, strict=True):
        ts = _dt64_to_datetime(t)
        if s_utc <= ts < e_utc:
            events.append(TideEvent(ts=ts, height_m=float(h), kind=str(k), station=station))  # type: ignore[arg-type]
    return events


# ------------------------------------------------------------------ tide tables

_KIND_ALIASES: dict[str, Kind] = {
    "high": "high",
    "hw": "high",
    "高潮": "high",
    "满潮": "high",
    "low": "low",
    "lw": "low",
    "低潮": "low",
    "干潮": "low",
}


def parse_tide_table_csv(text: str | bytes) -> tuple[list[TideEvent], list[TideTableError]]:
    """Import a tide table: CSV with header ``station,timestamp,height_m,kind``.

    * ``timestamp``: ISO 8601 **with** a UTC offset (``2026-11-25T04:36+08:00`` or
      ``...Z``); naive timestamps are refused (their zone is unknowable).
    * ``height_m``: metres above the table's datum; ``kind``: ``high`` | ``low``
      (``高潮``/``满潮``, ``低潮``/``干潮`` accepted).
    * Blank lines and lines starting with ``#`` are ignored (use them for provenance).

    Never raises on bad content: good rows are kept (returned sorted by station then
    time, ``ts`` converted to UTC), every bad row is reported with its 1-based line
    number. A missing or wrong header is reported and yields no events.
    """
    events: list[TideEvent] = []
    errors: list[TideTableError] = []
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [], [TideTableError(0, f"file is not UTF-8: {exc}")]
    text = text.lstrip("\ufeff")
    header: dict[str, int] | None = None
    seen: dict[tuple[str, datetime], int] = {}
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            fields = [f.strip() for f in next(csv.reader([line]))]
        except (csv.Error, StopIteration) as exc:
            errors.append(TideTableError(lineno, f"unreadable CSV: {exc}", raw))
            continue
        if header is None:
            names = [f.lower() for f in fields]
            missing = [c for c in TIDE_TABLE_COLUMNS if c not in names]
            if missing:
                errors.append(
                    TideTableError(
                        lineno,
                        f"header must name the columns {', '.join(TIDE_TABLE_COLUMNS)}; "
                        f"missing: {', '.join(missing)}",
                        raw,
                    )
                )
                return [], errors
            header = {c: names.index(c) for c in TIDE_TABLE_COLUMNS}
            continue
        try:
            ev, msg = _parse_row(fields, header)
        except Exception as exc:  # noqa: BLE001 - a bad row must never abort the import
            ev, msg = None, f"unexpected error: {exc!r}"
        if ev is None:
            errors.append(TideTableError(lineno, msg, raw))
            continue
        key = (ev.station, ev.ts)
        if key in seen:
            errors.append(
                TideTableError(lineno, f"duplicate of line {seen[key]} (same station and time)", raw)
            )
            continue
        seen[key] = lineno
        events.append(ev)
    if header is None:
        errors.append(TideTableError(0, "empty file: no header line"))
    events.sort(key=lambda e: (e.station, e.ts))
    return events, errors


def _parse_row(fields: list[str], header: dict[str, int]) -> tuple[TideEvent | None, str]:
    width = max(header.values()) + 1
    if len(fields) < width:
        return None, f"expected at least {width} fields, got {len(fields)}"
    station = fields[header["station"]]
    ts_s = fields[header["timestamp"]]
    h_s = fields[header["height_m"]]
    kind_s = fields[header["kind"]].lower()
    if not station:
        return None, "empty station"
    try:
        ts = datetime.fromisoformat(ts_s)
    except ValueError:
        return None, f"timestamp {ts_s!r} is not ISO 8601"
    if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
        return None, (
            f"timestamp {ts_s!r} has no UTC offset (naive); write e.g. "
            f"{ts.isoformat(timespec='minutes')}+08:00 for Beijing time"
        )
    try:
        height = float(h_s)
    except ValueError:
        return None, f"height_m {h_s!r} is not a number"
    if not math.isfinite(height) or abs(height) > 50.0:
        return None, f"height_m {h_s!r} is not a plausible tide height in metres"
    kind = _KIND_ALIASES.get(kind_s)
    if kind is None:
        return None, f"kind {fields[header['kind']]!r} must be 'high' or 'low'"
    return TideEvent(ts=ts.astimezone(UTC), height_m=height, kind=kind, station=station), ""


def events_to_csv(
    events: Iterable[TideEvent], *, tz: str = PATROL_TZ, comments: Sequence[str] = (), station: str | None = None
) -> str:
    """Write events in the tide-table format read by :func:`parse_tide_table_csv`.

    Timestamps are written in ``tz`` with their offset, to the minute; heights to cm.
    ``comments`` become leading ``#`` lines; ``station`` overrides each event's station.
    """
    zone = ZoneInfo(tz)
    lines = [f"# {c}" for c in comments]
    lines.append(",".join(TIDE_TABLE_COLUMNS))
    for e in events:
        ts = _aware_to_utc(e.ts).astimezone(zone)
        ts = ts.replace(second=0, microsecond=0) + timedelta(minutes=1 if ts.second >= 30 else 0)
        name = station if station is not None else e.station
        lines.append(f"{name},{ts.isoformat(timespec='minutes')},{e.height_m:.2f},{e.kind}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------- patrol windows


def _is_night(local: datetime, night_start: time, night_end: time) -> bool:
    t = local.timetz().replace(tzinfo=None)
    if night_start <= night_end:
        return night_start <= t < night_end
    return t >= night_start or t < night_end


def patrol_windows(
    events: Iterable[TideEvent],
    *,
    before: timedelta = timedelta(hours=2),
    after: timedelta = timedelta(hours=2),
    night_only: bool = True,
    tz: str = PATROL_TZ,
    night_start: time = time(18),
    night_end: time = time(6),
) -> list[TideWindow]:
    """Joint-patrol windows: ``[peak - before, peak + after]`` around each high water.

    With ``night_only`` a window is kept when its **peak** falls in the night, i.e. local
    time (in ``tz``) in ``[night_start, night_end)``, the interval wrapping midnight when
    ``night_start > night_end`` (default 18:00-06:00 Asia/Shanghai). Windows are returned
    sorted, with aware datetimes in ``tz``; identical peaks are reported once. Windows of
    consecutive highs are not merged (they cannot overlap while before+after < ~8 h).
    """
    if before < timedelta(0) or after < timedelta(0):
        raise ValueError("before/after must not be negative")
    zone = ZoneInfo(tz)
    peaks = sorted({_aware_to_utc(e.ts, "event time") for e in events if e.kind == "high"})
    out: list[TideWindow] = []
    for p in peaks:
        local = p.astimezone(zone)
        if night_only and not _is_night(local, night_start, night_end):
            continue
        out.append(TideWindow(start=local - before, peak=local, end=local + after))
    return out


def _epoch_s(ts: datetime | float | int) -> float:
    if isinstance(ts, datetime):
        if ts.tzinfo is None or ts.tzinfo.utcoffset(ts) is None:
            raise ValueError(f"time {ts.isoformat()} is naive: give a timezone-aware datetime")
        return ts.timestamp()
    return float(ts)


@dataclass(slots=True)
class TideSchedule:
    """Tide events indexed for O(log n) look-ups on the detector hot path.

    ``window_at(ts)`` answers "is this fix inside a patrol window, and which one?";
    ``nearest_high(ts)`` returns the closest high water. ``ts`` is an aware datetime or
    POSIX seconds. Windows use the same parameters as :func:`patrol_windows`, except that
    ``night_only`` defaults to **False** here: detectors apply their own night rule and
    want "near high water" for any fix; pass ``night_only=True`` for patrol rosters.
    """

    events: Sequence[TideEvent]
    before: timedelta = timedelta(hours=2)
    after: timedelta = timedelta(hours=2)
    night_only: bool = False
    tz: str = PATROL_TZ
    night_start: time = time(18)
    night_end: time = time(6)
    _highs: tuple[TideEvent, ...] = field(init=False, repr=False)
    _high_s: list[float] = field(init=False, repr=False)
    _windows: tuple[TideWindow, ...] = field(init=False, repr=False)
    _w_start: list[float] = field(init=False, repr=False)
    _w_end: list[float] = field(init=False, repr=False)
    _w_peak: list[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.events = tuple(self.events)
        highs: dict[float, TideEvent] = {}
        for e in self.events:
            if e.kind == "high":
                highs.setdefault(_epoch_s(e.ts), e)
        keys = sorted(highs)
        self._highs = tuple(highs[k] for k in keys)
        self._high_s = keys
        self._windows = tuple(
            patrol_windows(
                self._highs,
                before=self.before,
                after=self.after,
                night_only=self.night_only,
                tz=self.tz,
                night_start=self.night_start,
                night_end=self.night_end,
            )
        )
        self._w_start = [w.start.timestamp() for w in self._windows]
        self._w_end = [w.end.timestamp() for w in self._windows]
        self._w_peak = [w.peak.timestamp() for w in self._windows]

    @property
    def windows(self) -> tuple[TideWindow, ...]:
        """All windows, sorted by start."""
        return self._windows

    def __len__(self) -> int:
        return len(self._highs)

    def window_at(self, ts: datetime | float) -> TideWindow | None:
        """The window containing ``ts`` (ends included), or None. O(log n).

        Should windows overlap (very long before/after), the one whose peak is nearest wins.
        """
        t = _epoch_s(ts)
        i = bisect.bisect_right(self._w_start, t)  # windows [0, i) start at or before t
        best: TideWindow | None = None
        best_d = math.inf
        j = i - 1
        # Starts and ends are both sorted (equal durations), so walk back only while
        # earlier windows can still reach t (at most one step unless windows overlap).
        while j >= 0 and self._w_end[j] >= t:
            d = abs(self._w_peak[j] - t)
            if d < best_d:
                best, best_d = self._windows[j], d
            j -= 1
        return best

    def nearest_high(self, ts: datetime | float) -> TideEvent | None:
        """The high water closest in time to ``ts`` (ties: the earlier one). O(log n)."""
        if not self._high_s:
            return None
        t = _epoch_s(ts)
        i = bisect.bisect_left(self._high_s, t)
        if i == 0:
            return self._highs[0]
        if i == len(self._high_s):
            return self._highs[-1]
        before, after = self._high_s[i - 1], self._high_s[i]
        return self._highs[i - 1] if t - before <= after - t else self._highs[i]
