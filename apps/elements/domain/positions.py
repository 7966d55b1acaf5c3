"""Position batches (Beidou and other feeds) and checkpoint captures: CSV/JSON text -> value objects.

Position batch format (CSV header, or the keys of each JSON object)::

    source,vessel_id,timestamp,lat,lon,sog,cog

* ``timestamp``: ISO 8601 **with** a zone (``2021-03-20T02:15:00+08:00``, ``...Z``); converted
  to UTC. A timestamp without a zone is refused: Beidou terminals and Chinese systems
  commonly write Beijing time, and guessing the zone would shift tracks by 8 hours.
* ``lat``/``lon``: decimal degrees (WGS 84). ``sog``: knots, ``cog``: degrees; both may be
  empty (None). ``cog`` is normalised into [0, 360).
* Column order is free (the header names the columns; extra columns are ignored). A header
  that names none of the columns is taken as a data row in the order above.

Checkpoint (卡口) capture CSV: ``checkpoint_id,plate,timestamp,lat,lon`` -> :class:`VehicleCapture`
(``lat``/``lon`` may both be empty).

Input may be ``str`` or ``bytes``. Bytes are decoded as UTF-8 (a BOM is allowed), falling back
to GB18030 (superset of GBK, what Chinese Windows exports use); bytes that are neither stay
undecoded (as surrogates) and only the rows holding them are refused. A BOM, blank lines, rows
of empty cells and ``\\r\\n`` line ends are fine.

Every refused row becomes a :class:`Quarantined` (raw = the row as written) with a reason:

``missing_field``  a required value is empty/absent (the detail names which).
``bad_timestamp``  not ISO 8601, or no time zone.
``bad_number``     a number that does not parse (or sog < 0, sog/cog not finite, a JSON bool).
``bad_position``   lat outside +-90, lon outside +-180, or NaN.
``garbled``        the row itself is malformed: more cells than the header, a JSON element
                   that is not an object, or a JSON document that does not parse; and the
                   border: a row (or JSON element) holding undecodable bytes or control
                   characters (NUL, ``\\x01``..., anything but tab and line ends), kept
                   escaped (``\\xNN``, see :mod:`.text`).
"""
from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from .model import PositionFix, Quarantined, VehicleCapture
from .text import BAD_CHARS, escaped, first_bad_char

__all__ = [
    "BAD_NUMBER",
    "BAD_POSITION",
    "BAD_TIMESTAMP",
    "CAPTURE_COLUMNS",
    "GARBLED",
    "MISSING_FIELD",
    "POSITION_COLUMNS",
    "CaptureItem",
    "PositionItem",
    "format_fix_csv",
    "iter_positions_csv",
    "normalise_plate",
    "parse_captures_csv",
    "parse_positions",
    "parse_positions_csv",
    "parse_positions_json",
    "parse_timestamp",
]

PositionItem = PositionFix | Quarantined
CaptureItem = VehicleCapture | Quarantined

MISSING_FIELD: Final = "missing_field"
BAD_TIMESTAMP: Final = "bad_timestamp"
BAD_NUMBER: Final = "bad_number"
BAD_POSITION: Final = "bad_position"
GARBLED: Final = "garbled"

POSITION_COLUMNS: Final = ("source", "vessel_id", "timestamp", "lat", "lon", "sog", "cog")
CAPTURE_COLUMNS: Final = ("checkpoint_id", "plate", "timestamp", "lat", "lon")

_DEFAULT_QUARANTINE_SOURCE: Final = "positions"
_CAPTURE_SOURCE: Final = "checkpoint"
#: Longest raw text kept in a quarantine record for an unparsable JSON document.
_MAX_RAW: Final = 100_000
#: Marker cell for a row the csv module could not parse.
_CSV_ERROR: Final = "\x00csv-error"
#: Characters dropped from plates: spaces and the separators seen on Chinese plates.
_PLATE_DROP: Final = dict.fromkeys(map(ord, " \t\u3000·•・.-_"), None)
#: Line ends of CSV text (not str.splitlines(), which also splits at \x0b, \x1c, \x85...).
_LINE_END: Final = re.compile(r"\r\n|\r|\n")


class _Refused(Exception):
    """Internal: a value was refused; carries the quarantine reason and detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------------- values


def parse_timestamp(value: Any) -> datetime:
    """ISO 8601 text with a zone -> aware UTC datetime.

    Raises ValueError for bad or zone-less text, TypeError for a non-string.
    """
    if not isinstance(value, str):
        raise TypeError(f"timestamp must be ISO 8601 text, got {type(value).__name__}")
    dt = datetime.fromisoformat(value.strip())
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"timestamp without time zone: {value!r}")
    return dt.astimezone(UTC)


class _TimestampCache:
    """Parses timestamps, remembering the last one (batches repeat them row after row)."""

    __slots__ = ("_text", "_value")

    def __init__(self) -> None:
        self._text: Any = None
        self._value: datetime | None = None

    def __call__(self, value: Any) -> datetime:
        if value == self._text and type(value) is str and self._value is not None:
            return self._value
        try:
            dt = parse_timestamp(value)
        except (ValueError, TypeError, OverflowError) as exc:
            raise _Refused(BAD_TIMESTAMP, str(exc)) from None
        self._text = value
        self._value = dt
        return dt


def _empty(value: Any) -> bool:
    """True for a missing value: None or blank text."""
    return value is None or (type(value) is str and not value.strip())


def _number(name: str, value: Any) -> float:
    """A float from text or a JSON number; bools and unparsable text are refused (bad_number)."""
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            raise _Refused(BAD_NUMBER, f"{name} is not a number: {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Refused(BAD_NUMBER, f"{name} is not a number: {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise _Refused(BAD_NUMBER, f"{name} is out of range: {value!r}") from None


def _lon_lat(lon_v: Any, lat_v: Any) -> tuple[float, float]:
    """Validated (lon, lat) in decimal degrees."""
    lon = _number("lon", lon_v)
    lat = _number("lat", lat_v)
    # written so that NaN fails the test
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise _Refused(BAD_POSITION, f"position out of range: lat {lat}, lon {lon}")
    return lon, lat


def _optional_motion(sog_v: Any, cog_v: Any) -> tuple[float | None, float | None]:
    """(sog knots, cog degrees in [0, 360)) with None for empty values."""
    sog: float | None = None
    cog: float | None = None
    if not _empty(sog_v):
        sog = _number("sog", sog_v)
        if not (0.0 <= sog < math.inf):
            raise _Refused(BAD_NUMBER, f"sog must be a finite speed >= 0 knots: {sog_v!r}")
    if not _empty(cog_v):
        cog = _number("cog", cog_v)
        if not math.isfinite(cog):
            raise _Refused(BAD_NUMBER, f"cog is not finite: {cog_v!r}")
        cog %= 360.0
    return sog, cog


def _text(value: Any) -> str:
    """An identifier as text (JSON may give numbers); surrounding spaces removed."""
    return value.strip() if type(value) is str else str(value).strip()


def normalise_plate(plate: str) -> str:
    """Vehicle plate in canonical form: upper case, without spaces and separator dots/dashes.

    ``"浙b·12345"`` -> ``"浙B12345"``.
    """
    return plate.translate(_PLATE_DROP).upper()


def format_fix_csv(fix: PositionFix) -> str:
    """One CSV row (POSITION_COLUMNS order) that :func:`parse_positions_csv` reads back."""
    sog = "" if fix.sog_kn is None else repr(fix.sog_kn)
    cog = "" if fix.cog_deg is None else repr(fix.cog_deg)
    return _csv_row((fix.source, fix.vessel_id, fix.ts.isoformat(), repr(fix.lat), repr(fix.lon), sog, cog))


def _csv_row(row: Sequence[str]) -> str:
    """Join cells with commas, quoting like the csv module where a cell needs it."""
    out: list[str] = []
    for v in row:
        if any(c in v for c in ',"\n\r'):
            v = '"' + v.replace('"', '""') + '"'
        out.append(v)
    return ",".join(out)


# ---------------------------------------------------------------------- text / rows


def _as_text(data: str | bytes) -> str:
    """Decode bytes (UTF-8 with optional BOM, else GB18030); drop a leading BOM from text."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:  # neither: the rows with bad bytes are refused, not the file
                text = raw.decode("utf-8-sig", errors="surrogateescape")
    else:
        text = data
    text = text.removeprefix("\ufeff")
    return text


def _csv_rows(text: str) -> Iterator[tuple[str, list[str]]]:
    """(raw row text, cells) for each non-blank CSV row; rows of only empty cells are skipped.

    A row the csv module refuses (e.g. a field over its size limit) comes out as
    ``[_CSV_ERROR, message]`` so the caller can quarantine it and go on.
    """
    lines = [ln for ln in _LINE_END.split(text) if ln.strip()]
    reader = csv.reader(lines)
    consumed = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = max(reader.line_num, consumed + 1)
            yield "\n".join(lines[consumed:end]), [_CSV_ERROR, str(exc)]
            consumed = end
            continue
        end = reader.line_num
        raw = lines[consumed] if end == consumed + 1 else "\n".join(lines[consumed:end])
        consumed = end
        if any(c.strip() for c in cells):
            yield raw, cells


def _header_index(
    cells: list[str], columns: Sequence[str]
) -> tuple[dict[str, int], bool]:
    """Column name -> index from a header row; ``(index, is_header)``.

    A first row that names none of ``columns`` is not a header: the canonical order is
    assumed and the row is data.
    """
    names = [c.strip().lstrip("\ufeff").strip().lower() for c in cells]
    index = {name: i for i, name in enumerate(names) if name}
    if not any(col in index for col in columns):
        return {col: i for i, col in enumerate(columns)}, False
    return index, True


class _Row:
    """Access to the cells of one CSV row by column name (None when absent)."""

    __slots__ = ("cells", "index")

    def __init__(self, cells: list[str], index: dict[str, int]) -> None:
        self.cells = cells
        self.index = index

    def get(self, name: str) -> str | None:
        i = self.index.get(name)
        if i is None or i >= len(self.cells):
            return None
        return self.cells[i]


# ---------------------------------------------------------------------- positions


def _make_fix(
    get: Any,
    default_source: str | None,
    parse_ts: _TimestampCache,
) -> PositionFix:
    """Build a PositionFix from a ``get(name)`` accessor; raises _Refused."""
    src_v = get("source")
    if _empty(src_v) and default_source is not None:
        src_v = default_source
    vid_v = get("vessel_id")
    ts_v = get("timestamp")
    lat_v = get("lat")
    lon_v = get("lon")
    missing = [
        n
        for n, v in (("source", src_v), ("vessel_id", vid_v), ("timestamp", ts_v), ("lat", lat_v), ("lon", lon_v))
        if _empty(v)
    ]
    if missing:
        raise _Refused(MISSING_FIELD, "missing " + ", ".join(missing))
    ts = parse_ts(ts_v)
    lon, lat = _lon_lat(lon_v, lat_v)
    sog, cog = _optional_motion(get("sog"), get("cog"))
    return PositionFix(_text(src_v).lower(), _text(vid_v), ts, lon, lat, sog, cog)


def _quarantine_source(get: Any, default_source: str | None) -> str:
    """Source to record on a refused row: its own source value if readable."""
    v = get("source")
    if not _empty(v) and isinstance(v, (str, int)):
        return _text(v).lower()
    return default_source or _DEFAULT_QUARANTINE_SOURCE


def parse_positions_csv(data: str | bytes, *, default_source: str | None = None) -> list[PositionItem]:
    """Parse a CSV position batch into PositionFix / Quarantined, in input order.

    ``default_source`` fills rows whose ``source`` column is absent or empty.
    """
    return list(iter_positions_csv(data, default_source=default_source))


def iter_positions_csv(data: str | bytes, *, default_source: str | None = None) -> Iterator[PositionItem]:
    """Generator form of :func:`parse_positions_csv`."""
    rows = _csv_rows(_as_text(data))
    first = next(rows, None)
    if first is None:
        return
    index, is_header = _header_index(first[1], POSITION_COLUMNS)
    width = len(first[1]) if is_header else len(POSITION_COLUMNS)
    # absent columns read the always-empty cell at ``width`` (rows are padded to width + 1)
    cols = tuple(index.get(name, width) for name in POSITION_COLUMNS)
    index = {name: i for name, i in zip(POSITION_COLUMNS, cols)}
    parse_ts = _TimestampCache()
    for raw, cells in rows if is_header else _chain_first(first, rows):
        if BAD_CHARS.search(raw) is not None:
            yield _garbled_row(_quarantine_source(_Row(cells, index).get, default_source), raw)
            continue
        try:
            _check_width(cells, width)
            if len(cells) <= width:
                cells.extend([""] * (width + 1 - len(cells)))
            fix = _fast_csv_fix(cells, cols, default_source, parse_ts)
            yield fix if fix is not None else _make_fix(_Row(cells, index).get, default_source, parse_ts)
        except _Refused as ref:
            yield Quarantined(_quarantine_source(_Row(cells, index).get, default_source), raw, ref.reason, ref.detail)


def _fast_csv_fix(
    cells: list[str],
    cols: tuple[int, ...],
    default_source: str | None,
    parse_ts: _TimestampCache,
) -> PositionFix | None:
    """A PositionFix from a well-formed CSV row, or None to let :func:`_make_fix` decide.

    Same result as the generic path for every row it accepts; ``cols`` are the cell
    indexes of POSITION_COLUMNS.
    """
    i_src, i_vid, i_ts, i_lat, i_lon, i_sog, i_cog = cols
    src = cells[i_src].strip() or default_source
    vid = cells[i_vid].strip()
    ts_t = cells[i_ts].strip()
    lat_t = cells[i_lat]
    lon_t = cells[i_lon]
    if not (src and vid and ts_t and lat_t and lon_t):
        return None
    sog_t = cells[i_sog]
    cog_t = cells[i_cog]
    try:
        lat = float(lat_t)
        lon = float(lon_t)
        sog = float(sog_t) if sog_t else None
        cog = float(cog_t) if cog_t else None
    except ValueError:
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    if sog is not None and not 0.0 <= sog < math.inf:
        return None
    if cog is not None and not 0.0 <= cog < 360.0:
        if not math.isfinite(cog):
            return None
        cog %= 360.0
    return PositionFix(src.lower(), vid, parse_ts(ts_t), lon, lat, sog, cog)


def _garbled_row(source: str, raw: str) -> Quarantined:
    """The border: a row with undecodable bytes or control characters, kept escaped."""
    if BAD_CHARS.search(source) is not None:
        source = _DEFAULT_QUARANTINE_SOURCE
    return Quarantined(source, escaped(raw), GARBLED, "undecodable byte or control character: " + first_bad_char(raw))


def _bad_json_text(item: dict[Any, Any]) -> bool:
    """True when a key or text value of a JSON element holds a control character."""
    return any(
        (type(k) is str and BAD_CHARS.search(k) is not None) or (type(v) is str and BAD_CHARS.search(v) is not None)
        for k, v in item.items()
    )


def _check_width(cells: list[str], width: int) -> None:
    """Refuse a row the CSV reader could not parse, or with non-empty cells beyond the header."""
    if cells and cells[0] == _CSV_ERROR:
        raise _Refused(GARBLED, f"unparsable CSV row: {cells[1]}")
    if len(cells) > width and any(c.strip() for c in cells[width:]):
        raise _Refused(GARBLED, f"{len(cells)} cells for {width} columns")


def parse_positions_json(data: str | bytes, *, default_source: str | None = None) -> list[PositionItem]:
    """Parse a JSON position batch (a list of objects with the CSV column names as keys)."""
    text = _as_text(data)
    qsource = default_source or _DEFAULT_QUARANTINE_SOURCE
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [Quarantined(qsource, escaped(text, _MAX_RAW), GARBLED, f"invalid JSON: {exc}")]
    if isinstance(doc, dict):
        doc = [doc]
    if not isinstance(doc, list):
        return [Quarantined(qsource, escaped(text, _MAX_RAW), GARBLED, "JSON document is not a list of objects")]
    parse_ts = _TimestampCache()
    out: list[PositionItem] = []
    for item in doc:
        if not isinstance(item, dict):
            out.append(Quarantined(qsource, _json_raw(item), GARBLED, "list element is not an object"))
            continue
        if _bad_json_text(item):
            out.append(Quarantined(qsource, _json_raw(item), GARBLED, "undecodable byte or control character in a value"))
            continue
        get = _json_getter(item)
        try:
            out.append(_make_fix(get, default_source, parse_ts))
        except _Refused as ref:
            out.append(Quarantined(_quarantine_source(get, default_source), _json_raw(item), ref.reason, ref.detail))
    return out


def _json_getter(item: dict[str, Any]) -> Any:
    """Key accessor tolerant of key case/spaces (``"Lat "`` -> ``lat``)."""
    if all(type(k) is str and k == k.strip().lower() for k in item):
        return item.get
    norm = {str(k).strip().lower(): v for k, v in item.items()}
    return norm.get


def _json_raw(item: Any) -> str:
    """Compact JSON text of one element, for the quarantine record."""
    try:
        return escaped(json.dumps(item, ensure_ascii=False, separators=(",", ":"), allow_nan=True), _MAX_RAW)
    except (TypeError, ValueError):  # pragma: no cover - json.loads output always dumps
        return repr(item)


def parse_positions(data: str | bytes, *, default_source: str | None = None) -> list[PositionItem]:
    """Parse a position batch, JSON if it starts with ``[`` or ``{``, else CSV."""
    text = _as_text(data)
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return parse_positions_json(text, default_source=default_source)
    return parse_positions_csv(text, default_source=default_source)


# ---------------------------------------------------------------------- captures


def _make_capture(get: Any, parse_ts: _TimestampCache) -> VehicleCapture:
    """Build a VehicleCapture from a ``get(name)`` accessor; raises _Refused."""
    cp_v = get("checkpoint_id")
    plate_v = get("plate")
    ts_v = get("timestamp")
    missing = [
        n for n, v in (("checkpoint_id", cp_v), ("plate", plate_v), ("timestamp", ts_v)) if _empty(v)
    ]
    plate = normalise_plate(_text(plate_v)) if not _empty(plate_v) else ""
    if not missing and not plate:
        missing.append("plate")
    if missing:
        raise _Refused(MISSING_FIELD, "missing " + ", ".join(missing))
    ts = parse_ts(ts_v)
    lat_v = get("lat")
    lon_v = get("lon")
    lat_empty = _empty(lat_v)
    lon_empty = _empty(lon_v)
    if lat_empty and lon_empty:
        lon = lat = None
    elif lat_empty or lon_empty:
        raise _Refused(MISSING_FIELD, "missing " + ("lat" if lat_empty else "lon"))
    else:
        lon, lat = _lon_lat(lon_v, lat_v)
    return VehicleCapture(_text(cp_v), plate, ts, lon, lat)


def parse_captures_csv(data: str | bytes) -> list[CaptureItem]:
    """Parse checkpoint capture CSV ``checkpoint_id,plate,timestamp,lat,lon``.

    Refused rows are Quarantined with source ``"checkpoint"``.
    """
    rows = _csv_rows(_as_text(data))
    first = next(rows, None)
    if first is None:
        return []
    index, is_header = _header_index(first[1], CAPTURE_COLUMNS)
    width = len(first[1]) if is_header else len(CAPTURE_COLUMNS)
    parse_ts = _TimestampCache()
    todo: Iterable[tuple[str, list[str]]] = rows if is_header else _chain_first(first, rows)
    out: list[CaptureItem] = []
    for raw, cells in todo:
        if BAD_CHARS.search(raw) is not None:
            out.append(_garbled_row(_CAPTURE_SOURCE, raw))
            continue
        row = _Row(cells, index)
        try:
            _check_width(cells, width)
            out.append(_make_capture(row.get, parse_ts))
        except _Refused as ref:
            out.append(Quarantined(_CAPTURE_SOURCE, raw, ref.reason, ref.detail))
    return out


def _chain_first(first: tuple[str, list[str]], rest: Iterator[tuple[str, list[str]]]) -> Iterator[tuple[str, list[str]]]:
    """``first`` followed by ``rest``."""
    yield first
    yield from rest
