"""AIS NMEA 0183 stream decoder: lines in, :class:`PositionFix` / :class:`StaticReport` out.

The AIS payload itself (six-bit armouring, bit fields, scaling) is decoded by pyais; this
module adds what a receiving station needs around it:

* line framing: ``!AIVDM``/``!AIVDO`` with any talker id (``!BSVDM``, ``!ABVDM``, ``!SAVDM``...),
  an optional NMEA 4.10 tag block ``\\c:<unix time>,s:...,g:1-2-1604*hh\\`` in front (its
  checksum is verified), optional USCG-style receiver metadata after the sentence checksum
  (``...*hh,d-109,S2105,...,1325394060,1325394001``: the last field is a unix receive time),
  an optional receive-time prefix (``1325394001 !AIVDM...`` or ``2021-03-20T01:02:03Z,!AIVDM...``)
  and Gatehouse ``$PGHP,1,<y>,<m>,<d>,<H>,<M>,<S>,<ms>,...`` header lines that timestamp the
  next AIS sentence (the format of ``pyais_timestamped.ais``). ``#`` comments and blank lines
  are skipped.
* the sentence checksum, and reassembly of multi-part messages even when the parts of several
  messages are interleaved (see :class:`AisStreamDecoder`).
* mapping of decoded messages to the platform's value objects, with AIS "not available"
  values handled, and a :class:`Quarantined` record for every line that cannot be used.

Time of every output: tag-block ``c:`` if present, else the metadata unix time, else the
receive-time prefix / ``$PGHP`` header, else the ``received_at`` passed to :meth:`feed`.
All datetimes are timezone-aware UTC. ``c:`` and unix times may be seconds or milliseconds
(values of 1e11 or more are taken as milliseconds).

Fast paths (same results as the general path, which ``fast_path=False`` forces; the tests
compare the two): a whole line of the usual shape (``\\c:<time>*hh\\`` or nothing, then a
single-part ``!xxVDM`` sentence with nothing after its checksum) is framed by one regular
expression, and any other single-part sentence goes from its armoured payload straight to
pyais' message class (``from_vector``, or the ``_fast_path`` it uses for 168-bit position
reports) without building pyais' generic ``AISSentence``. A line with bad framing or a bad
checksum, or anything else unusual, takes the general path.

Quarantine reason codes (``Quarantined.reason``):

``bad_checksum``     sentence checksum does not match (also non-AIS sentences).
``garbled``          not an NMEA sentence, malformed checksum field, invalid AIS framing
                     (fragment numbers, fill bits...), unparsable time prefix; and the
                     border: any character outside printable ASCII and tab (non-UTF-8 bytes, NUL,
                     other controls: XOR with 0 leaves the checksum unchanged) or a line
                     over ``MAX_LINE_CHARS``. Such a line is never decoded; its raw text
                     is kept escaped (``\\xNN``, see :mod:`.text`).
``orphan_fragment``  a part of a multi-part message whose sibling parts never arrived.
``decode_error``     pyais could not decode the payload (empty or truncated payload,
                     unknown message id...).
``no_position``      a position report saying "position not available" (lon 181 / lat 91).
``bad_position``     a position report with coordinates outside +-180 / +-90 (corrupt
                     payload); same code as the Beidou/CSV parser uses.
``bad_tag_block``    tag block unterminated, without checksum, checksum mismatch, or with an
                     unparsable ``c:``/``g:`` field. The whole line is refused.

Outputs per message type: 1, 2, 3, 18, 27 -> :class:`PositionFix`; 19 -> :class:`PositionFix`
plus a :class:`StaticReport` (name, ship type); 5 and 24 (part A or B) -> :class:`StaticReport`.
Base stations (4, 11) and all other types are counted in :attr:`AisStreamDecoder.stats` and
produce nothing. Non-AIS sentences with a valid checksum (``$GPGGA``...) are counted and skipped.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from typing import Any, Final

from pyais.bit_vector import SUPPORTS_FAST_PATH, bit_vector
from pyais.exceptions import MissingPayloadException
from pyais.messages import MAX_PAYLOAD_LEN, MSG_CLASS, AISSentence, Payload

from .model import PositionFix, Quarantined, StaticReport
from .text import escaped, first_bad_char

__all__ = [
    "MAX_LINE_CHARS",
    "BAD_CHECKSUM",
    "BAD_POSITION",
    "BAD_TAG_BLOCK",
    "DECODE_ERROR",
    "GARBLED",
    "NO_POSITION",
    "ORPHAN_FRAGMENT",
    "AisDecodeStats",
    "AisItem",
    "AisStreamDecoder",
    "decode_lines",
]

AisItem = PositionFix | StaticReport | Quarantined

BAD_CHECKSUM: Final = "bad_checksum"
GARBLED: Final = "garbled"
ORPHAN_FRAGMENT: Final = "orphan_fragment"
DECODE_ERROR: Final = "decode_error"
NO_POSITION: Final = "no_position"
BAD_POSITION: Final = "bad_position"
BAD_TAG_BLOCK: Final = "bad_tag_block"


#: Longest line decoded (characters, after stripping). NMEA allows 82 per sentence; tag
#: blocks and receiver metadata add a few hundred at most.
MAX_LINE_CHARS: Final = 4096
#: Characters kept of an overlong refused line.
_MAX_RAW_LONG: Final = 200
#: What :meth:`AisStreamDecoder.feed` strips around a line (not str.strip()'s wider set,
#: which would silently drop control characters such as ``\x1c``-``\x1f``).
_BLANKS: Final = " \t\r\n"

#: Epoch values at or above this are milliseconds (1e11 s would be the year 5138).
_MS_THRESHOLD: Final = 1e11
#: Smallest number taken as a unix time in receiver metadata (1973-03-03).
_MIN_META_EPOCH: Final = 1e8

#: AIS "not available" markers.
_LON_NA: Final = 181.0
_LAT_NA: Final = 91.0
_SOG_NA_KN: Final = 102.3  # types 1-3, 18, 19: 1023 in 0.1 kn units
_SOG27_NA_KN: Final = 63.0  # type 27: 6 bits, whole knots
_COG_NA_DEG: Final = 360.0  # 3600 in 0.1 deg (types 1-3, 18, 19); 511 for type 27

_HEX = "0123456789abcdefABCDEF"
#: Exactly two hex digits -> value (a dict hit is cheaper and stricter than int(x, 16)).
_HEX2: Final[dict[str, int]] = {a + b: int(a + b, 16) for a in _HEX for b in _HEX}
#: One or two hex digits (tag blocks in the wild sometimes drop the leading zero).
_HEX12: Final[dict[str, int]] = {**_HEX2, **{a: int(a, 16) for a in _HEX}}

#: Fast path (single-part sentences): sequential message ids taken as they are (the general
#: path decides on anything else), fill-bit fields -> count, AIS message id of a payload's
#: first character (as pyais' bit vector reads it), and the message ids whose pyais class has
#: a ``_fast_path`` that ``from_vector`` uses for 168-bit payloads.
_SEQ_IDS: Final = frozenset(["", *(str(i) for i in range(10))])
_FILL_BITS: Final[dict[str, int]] = {str(i): i for i in range(6)}
_AIS_ID: Final[dict[str, int]] = {chr(c): bit_vector(bytes([c])).get(0, 6) for c in range(128)}
_DIRECT_FAST_PATH: Final = frozenset(
    i
    for i in (1, 2, 3, 18)
    if SUPPORTS_FAST_PATH and MSG_CLASS[i]._fast_path.__func__ is not Payload._fast_path.__func__
)

#: The usual whole line, decoded by AisStreamDecoder._plain_line: an optional tag block holding
#: only ``c:<unix time>``, then a single-part ``!xxVDM``/``!xxVDO`` sentence with a one-digit
#: (or empty) sequential id, a short channel, a payload of AIS armour characters, 0-5 fill bits,
#: and nothing after the checksum. Groups: c: field, its checksum, payload, fill, checksum.
_PLAIN_LINE: Final = re.compile(
    r"(?:\\(c:[0-9]{1,13})\*([0-9A-Fa-f]{2})\\)?"
    r"![A-Za-z]{2}VD[MO],1,1,[0-9]?,[A-Za-z0-9]{0,2},"
    rf"([0-9:;<=>?@A-W`a-w]{{2,{MAX_PAYLOAD_LEN}}}),([0-5])\*([0-9A-Fa-f]{{2}})"
)

# sentence kinds, cached per sentence tag (the first field, e.g. "!AIVDM")
_AIS: Final = 1
_GATEHOUSE: Final = 2
_OTHER: Final = 3
_MAX_TAG_CACHE: Final = 256


def _xor8(data: bytes) -> int:
    """NMEA checksum (XOR of all bytes) of ``data``.

    Folds the bytes as one big integer: a few shift/xor steps in C instead of a Python-level
    loop over ~70 bytes, starting at the first shift that covers the input (tag blocks are
    short: 4 steps; sentences 6). Only the low 8 bits are meaningful, so no masking is needed
    in between; exact for inputs up to 128 bytes, longer inputs use a plain reduce.
    """
    n = len(data)
    x = int.from_bytes(data, "little")
    if n > 16:
        if n > 32:
            if n > 64:
                if n > 128:
                    return reduce(xor, data, 0)
                x ^= x >> 512
            x ^= x >> 256
        x ^= x >> 128
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 0xFF


def _epoch_to_utc(value: float) -> datetime:
    """Unix time in seconds, or milliseconds if >= 1e11, to an aware UTC datetime.

    Raises ValueError/OverflowError/OSError for non-finite or out-of-range values.
    """
    if value >= _MS_THRESHOLD or value <= -_MS_THRESHOLD:
        value /= 1000.0
    return datetime.fromtimestamp(value, UTC)


def _parse_time_text(text: str) -> datetime | None:
    """A receive-time prefix: unix seconds/milliseconds, or ISO 8601 with a zone. Else None."""
    try:
        return _epoch_to_utc(float(text))
    except (ValueError, OverflowError, OSError):
        pass
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None or dt.utcoffset() is None:
        return None
    return dt.astimezone(UTC)


def _opt_int(value: Any) -> int | None:
    """Integer value of a decoded field (enums included); None when absent or zero."""
    if value is None:
        return None
    try:
        iv = int(value)
    except (TypeError, ValueError):
        return None
    return iv or None


def _opt_str(value: Any) -> str | None:
    """Decoded AIS text, None when absent or empty (pyais already strips '@' padding)."""
    if not value or not isinstance(value, str):
        return None
    return value


@dataclass(slots=True)
class AisDecodeStats:
    """Counters kept by one :class:`AisStreamDecoder` (cumulative over its life)."""

    lines: int = 0  #: lines fed
    skipped: int = 0  #: blank and ``#`` comment lines
    sentences: int = 0  #: AIS sentences (fragments) with valid checksum and framing
    messages: int = 0  #: complete AIS messages decoded by pyais
    fixes: int = 0  #: PositionFix emitted
    static_reports: int = 0  #: StaticReport emitted
    base_stations: int = 0  #: type 4/11 base station reports (not vessels, dropped)
    timestamp_headers: int = 0  #: ``$PGHP`` Gatehouse header lines used as receive times
    non_ais: int = 0  #: other NMEA sentences with a valid checksum ($GPGGA...), dropped
    ignored_types: Counter[int] = field(default_factory=Counter)  #: other AIS types, by id
    quarantined: Counter[str] = field(default_factory=Counter)  #: Quarantined, by reason
    internal_errors: int = 0  #: unexpected exceptions caught (should stay 0)


class _Partial:
    """Fragments of one multi-part message received so far (in order)."""

    __slots__ = ("explicit_ts", "lines", "rx", "sentences", "started")

    def __init__(self, started: int, rx: datetime) -> None:
        self.sentences: list[AISSentence] = []
        self.lines: list[str] = []
        self.explicit_ts: datetime | None = None
        self.rx = rx
        self.started = started

    @property
    def ts(self) -> datetime:
        """Time of the message: first explicit time among the parts, else first receive time."""
        return self.explicit_ts or self.rx


_FragmentKey = tuple[str, int, int | None, str, int | None]
_Handler = Callable[[Any, str, datetime, list], None]


class AisStreamDecoder:
    """Stateful decoder for one AIS NMEA feed (one receiver, file or socket).

    Feed it line by line with :meth:`feed`; call :meth:`flush` at the end of the stream (or
    of a file) to quarantine fragments still waiting for their siblings. Not thread-safe:
    use one decoder per feed.

    Multi-part messages are reassembled per key ``(sentence tag, fragment count, sequential
    message id, channel, tag-block group id)``, so parts of different messages may be
    interleaved. Parts of one message must arrive in order (as IEC 61162-1 transmits them):
    a part ``n > 1`` whose part ``n-1`` is missing is an orphan at once; a new part 1 for a
    key that still has an incomplete message replaces it and the old parts become orphans.
    Incomplete messages are also expired after ``max_fragment_lines`` further lines, and the
    oldest is expired when more than ``max_pending`` are waiting (bounded memory).

    ``received_at`` must be timezone-aware (TypeError/ValueError otherwise: a programming
    error, not bad input). Bad *lines* never raise.
    """

    __slots__ = (
        "_gh_ts",
        "_handlers",
        "_kinds",
        "_line_no",
        "_meta_key",
        "_meta_ts",
        "_pending",
        "_rx_obj",
        "_rx_utc",
        "fast_path",
        "max_fragment_lines",
        "max_line_chars",
        "max_pending",
        "source",
        "stats",
    )

    def __init__(
        self,
        *,
        source: str = "ais",
        max_pending: int = 1024,
        max_fragment_lines: int = 10_000,
        fast_path: bool = True,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        """``source`` is written to every output; limits are in messages, lines and characters.

        ``fast_path=False`` sends every sentence through pyais' generic ``AISSentence``
        (same results, slower; kept to check the fast path against).
        """
        self.source = source
        self.fast_path = fast_path
        self.stats = AisDecodeStats()
        self.max_pending = max_pending
        self.max_fragment_lines = max_fragment_lines
        self.max_line_chars = max_line_chars
        self._pending: dict[_FragmentKey, _Partial] = {}
        self._line_no = 0
        self._rx_obj: datetime | None = None
        self._rx_utc: datetime | None = None
        self._gh_ts: datetime | None = None
        self._meta_key: str | None = None
        self._meta_ts: datetime | None = None
        self._kinds: dict[str, int] = {}
        self._handlers: dict[int, _Handler] = {
            1: self._position,
            2: self._position,
            3: self._position,
            18: self._position,
            19: self._position19,
            27: self._position27,
            5: self._static5,
            24: self._static24,
            4: self._base_station,
            11: self._base_station,
        }

    # ------------------------------------------------------------------ public API

    def feed(self, line: str, received_at: datetime) -> list[AisItem]:
        """Decode one line; return the fixes, static reports and quarantined records it completes.

        ``line`` may carry its line terminator. ``received_at`` (aware datetime) is the time
        the line was received, used when the line carries no time of its own.
        """
        out: list[AisItem] = []
        st = self.stats
        st.lines += 1
        self._line_no += 1
        rx = self._rx_utc
        if received_at is not self._rx_obj or rx is None:
            rx = self._set_rx(received_at)
        if type(line) is not str:
            line = self._as_text(line, out, rx)
            if not line:
                return out
        s = line.strip(_BLANKS)
        if not s or s[0] == "#":
            st.skipped += 1
            return out
        try:
            if self.fast_path:
                m = _PLAIN_LINE.fullmatch(s)  # matches printable ASCII only
                if m is not None and self._plain_line(m, s, rx, out):
                    return out
            if not self._clean(s, rx, out):
                return out
            if s[0] == "!":
                self._sentence(s, 0, None, None, None, rx, out)
            else:
                self._line(s, rx, out)
        except Exception as exc:  # noqa: BLE001 - safety net: a bad line must never stop the stream
            st.internal_errors += 1
            self._q(out, s, DECODE_ERROR, f"unexpected error: {type(exc).__name__}: {exc}", rx)
        return out

    def flush(self) -> list[Quarantined]:
        """Quarantine every fragment still waiting for its siblings and reset fragment state."""
        out: list[Quarantined] = []
        for entry in self._pending.values():
            self._orphan(entry, "stream ended before the message was complete", out)
        self._pending.clear()
        self._gh_ts = None
        return out

    @property
    def pending_fragments(self) -> int:
        """Number of incomplete multi-part messages currently buffered."""
        return len(self._pending)

    # ------------------------------------------------------------------ framing

    def _set_rx(self, received_at: datetime) -> datetime:
        """Validate and cache ``received_at`` converted to UTC."""
        if not isinstance(received_at, datetime):
            raise TypeError(f"received_at must be a datetime, not {type(received_at).__name__}")
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        utc = received_at if received_at.tzinfo is UTC else received_at.astimezone(UTC)
        self._rx_obj = received_at
        self._rx_utc = utc
        return utc

    def _as_text(self, line: Any, out: list[AisItem], rx: datetime) -> str:
        """Accept bytes lines too; anything else is garbled. Returns '' when refused.

        Bytes that are not ASCII come through as surrogates, which :meth:`_clean` refuses.
        """
        if isinstance(line, (bytes, bytearray, memoryview)):
            return bytes(line).decode("ascii", "surrogateescape")
        self._q(out, escaped(repr(line)), GARBLED, f"not a text line: {type(line).__name__}", rx)
        return ""

    def _clean(self, s: str, rx: datetime, out: list[AisItem]) -> bool:
        """The border: a line longer than ``max_line_chars`` or with any character outside
        printable ASCII (NUL and other controls pass the XOR checksum unchanged) is quarantined
        as garbled, escaped, and never decoded."""
        if len(s) > self.max_line_chars:
            self._q(out, escaped(s, _MAX_RAW_LONG), GARBLED,
                    f"line of {len(s)} characters (longest accepted {self.max_line_chars})", rx)
            return False
        if s.isascii() and (s.isprintable() or s.replace("\t", " ").isprintable()):
            return True  # a tab may separate a receive-time prefix from the sentence
        self._q(out, escaped(s), GARBLED,
                "character outside printable ASCII: " + first_bad_char(s, ascii_only=True), rx)
        return False

    def refuse_line(self, raw: str | bytes, detail: str, received_at: datetime) -> list[AisItem]:
        """Count and quarantine (garbled) a line the transport could not deliver whole, e.g. one
        over a TCP feed's line limit; ``raw`` is what was kept of it."""
        self.stats.lines += 1
        self._line_no += 1
        out: list[AisItem] = []
        self._q(out, escaped(raw, _MAX_RAW_LONG), GARBLED, detail, self._set_rx(received_at))
        return out

    def _line(self, s: str, rx: datetime, out: list[AisItem]) -> None:
        """Split prefix / tag block / sentence / metadata of a stripped, non-comment line."""
        prefix_ts: datetime | None = None
        tag_ts: datetime | None = None
        group: int | None = None
        i = 0  # start of what follows the receive-time prefix, then of the sentence
        c0 = s[0]
        if c0 != "!" and c0 != "\\" and c0 != "$":
            i = self._sentence_start(s)
            if i <= 0:
                self._q(out, s, GARBLED, "not an NMEA sentence", rx)
                return
            prefix_ts = _parse_time_text(s[:i].strip(" \t,;|"))
            if prefix_ts is None:
                self._q(out, s, GARBLED, "text before the sentence is not a time with zone", rx)
                return
            c0 = s[i]
        if c0 == "\\":
            # NMEA 4.10 tag block ``\\<fields>*hh\\``, parsed in place (no copy of the line).
            end = s.find("\\", i + 1)
            if end < 0:
                self._q(out, s, BAD_TAG_BLOCK, "unterminated tag block", rx)
                return
            star = s.rfind("*", i + 1, end)
            if star < 0:
                self._q(out, s, BAD_TAG_BLOCK, "tag block without checksum", rx)
                return
            want = _HEX12.get(s[star + 1 : end])
            if want is None:
                self._q(out, s, BAD_TAG_BLOCK, "malformed tag block checksum field", rx)
                return
            payload = s[i + 1 : star]
            try:
                data = payload.encode("ascii")
            except UnicodeEncodeError:
                self._q(out, s, BAD_TAG_BLOCK, "non-ASCII tag block", rx)
                return
            got = _xor8(data)
            if got != want:
                self._q(
                    out, s, BAD_TAG_BLOCK,
                    f"tag block checksum mismatch: says {want:02X}, computed {got:02X}", rx,
                )
                return
            if payload[:2] == "c:" and "," not in payload:
                # the usual tag block: just ``c:<unix time>``
                try:
                    value = float(payload[2:])
                    if value >= _MS_THRESHOLD or value <= -_MS_THRESHOLD:
                        value /= 1000.0
                    tag_ts = datetime.fromtimestamp(value, UTC)
                except (ValueError, OverflowError, OSError):
                    self._q(out, s, BAD_TAG_BLOCK, f"unparsable tag block time {payload!r}", rx)
                    return
            else:
                parsed = self._tag_items(payload.split(","))
                if isinstance(parsed, str):
                    self._q(out, s, BAD_TAG_BLOCK, parsed, rx)
                    return
                tag_ts, group = parsed
            i = end + 1
            if i >= len(s) or (s[i] != "!" and s[i] != "$"):
                self._q(out, s, GARBLED, "no NMEA sentence after the tag block", tag_ts or rx)
                return
        self._sentence(s, i, prefix_ts, tag_ts, group, rx, out)

    @staticmethod
    def _sentence_start(s: str) -> int:
        """Index of the first '!', '$' or '\\' in ``s`` (-1 if none)."""
        best = -1
        for ch in ("!", "\\", "$"):
            i = s.find(ch)
            if i >= 0 and (best < 0 or i < best):
                best = i
        return best

    @staticmethod
    def _tag_items(items: Iterable[str]) -> tuple[datetime | None, int | None] | str:
        """``c:`` time and ``g:`` group id of the fields of a tag block with a valid checksum."""
        ts: datetime | None = None
        group: int | None = None
        for item in items:
            key = item[:2]
            if key == "c:":
                try:
                    value = float(item[2:])
                    ts = _epoch_to_utc(value)
                except (ValueError, OverflowError, OSError):
                    return f"unparsable tag block time {item!r}"
            elif key == "g:":
                parts = item[2:].split("-")
                try:
                    if len(parts) != 3:
                        raise ValueError
                    num, total, group = int(parts[0]), int(parts[1]), int(parts[2])
                except ValueError:
                    return f"unparsable tag block group {item!r}"
                if not 1 <= num <= total:
                    return f"tag block group number out of range {item!r}"
        return ts, group

    def _classify(self, tag: str) -> int:
        """Kind of sentence for a sentence tag (first field), cached."""
        if len(tag) == 6 and tag[3:].upper() in ("VDM", "VDO"):
            kind = _AIS
        elif tag == "$PGHP":
            kind = _GATEHOUSE
        else:
            kind = _OTHER
        if len(self._kinds) < _MAX_TAG_CACHE:
            self._kinds[tag] = kind
        return kind

    def _sentence(
        self,
        s: str,
        i: int,
        prefix_ts: datetime | None,
        tag_ts: datetime | None,
        group: int | None,
        rx: datetime,
        out: list[AisItem],
    ) -> None:
        """Check and dispatch the sentence starting at ``s[i]`` (a '!' or '$'); ``s`` is the line."""
        star = s.find("*", i)
        if star < 0 or (s[i] != "!" and s[i] != "$"):
            self._q(out, s, GARBLED, "not an NMEA sentence (no '*hh' checksum)", tag_ts or rx)
            return
        want = _HEX2.get(s[star + 1 : star + 3])
        if want is None:
            self._q(out, s, GARBLED, "malformed checksum field", tag_ts or rx)
            return
        tail = s[star + 3 :]
        if tail and tail[0] != ",":
            self._q(out, s, GARBLED, "unexpected text after the checksum", tag_ts or rx)
            return
        try:
            data = s[i + 1 : star].encode("ascii")
        except UnicodeEncodeError:
            self._q(out, s, GARBLED, "non-ASCII characters", tag_ts or rx)
            return
        if tail and not tail.isascii():
            self._q(out, s, GARBLED, "non-ASCII characters", tag_ts or rx)
            return
        n = len(data)
        if 16 < n <= 64:  # _xor8 inlined for the usual length of a sentence
            x = int.from_bytes(data, "little")
            if n > 32:
                x ^= x >> 256
            x ^= x >> 128
            x ^= x >> 64
            x ^= x >> 32
            x ^= x >> 16
            x ^= x >> 8
            got = x & 0xFF
        else:
            got = _xor8(data)
        if got != want:
            self._q(out, s, BAD_CHECKSUM, f"says {want:02X}, computed {got:02X}", tag_ts or rx)
            return
        f = s[i:star].split(",")
        tag = f[0]
        kind = self._kinds.get(tag) or self._classify(tag)
        if kind != _AIS:
            if kind == _GATEHOUSE:
                self._gatehouse(s, s[i:star], rx, out)
            else:
                self.stats.non_ais += 1
            return

        explicit = tag_ts
        if explicit is None:
            if tail:
                explicit = self._meta_time(tail)
            if explicit is None:
                explicit = prefix_ts
        gh = self._gh_ts
        if gh is not None:
            self._gh_ts = None
            if explicit is None:
                explicit = gh
        ts = explicit or rx

        # Fast path: a single-part sentence ``<tag>,1,1,<seq>,<channel>,<payload>,<fill>``
        # goes from its payload straight to pyais' message class (see _single); anything
        # else, or anything unusual, takes the general path below.
        if (
            len(f) == 7
            and f[1] == "1"
            and f[2] == "1"
            and f[3] in _SEQ_IDS
            and self.fast_path
            and 1 < len(f[5]) <= MAX_PAYLOAD_LEN
        ):
            fill = _FILL_BITS.get(f[6])
            payload = f[5]
            ais_id = _AIS_ID[payload[0]]
            cls = MSG_CLASS.get(ais_id)
            if fill is not None and cls is not None and self._single(ais_id, cls, payload, fill, s, ts, out):
                return

        try:
            sent = AISSentence(s[i : star + 3].encode("ascii"))
        except Exception as exc:  # noqa: BLE001 - pyais raises several exception types
            self._q(out, s, GARBLED, f"invalid AIS sentence: {exc}", ts)
            return
        self.stats.sentences += 1
        if sent.frag_cnt == 1:
            self._decode(sent, s, ts, out)
        else:
            self._fragment(sent, tag, group, s, explicit, rx, out)

    def _plain_line(self, m: re.Match[str], s: str, rx: datetime, out: list[AisItem]) -> bool:
        """Fast path for a whole line of the usual shape, matched by ``_PLAIN_LINE``.

        Does what :meth:`_line` and :meth:`_sentence` do for such a line (checksums, ``c:``
        time, ``$PGHP`` time, counters) with the framing done by one regular expression.
        Returns False, having changed nothing, when the line needs a quarantine record or
        anything else the general path knows best (it then handles the line).
        """
        tb, tb_hh, payload, fill, hh = m.groups()
        tag_ts = None
        if tb is not None:  # ``c:<digits>``: at most 16 bytes
            x = int.from_bytes(tb.encode("ascii"), "little")
            x ^= x >> 64
            x ^= x >> 32
            x ^= x >> 16
            x ^= x >> 8
            if x & 0xFF != _HEX2[tb_hh]:
                return False
            value = float(tb[2:])
            if value >= _MS_THRESHOLD:
                value /= 1000.0
            try:
                tag_ts = datetime.fromtimestamp(value, UTC)
            except (ValueError, OverflowError, OSError):
                return False
        # the sentence between its '!' and '*' (after the tag block's ``*hh\\`` if any)
        data = s[m.end(2) + 2 if tb is not None else 1 : m.end(4)].encode("ascii")
        n = len(data)
        if n > 64:
            got = _xor8(data)
        else:
            x = int.from_bytes(data, "little")
            x ^= x >> 256
            x ^= x >> 128
            x ^= x >> 64
            x ^= x >> 32
            x ^= x >> 16
            x ^= x >> 8
            got = x & 0xFF
        if got != _HEX2[hh]:
            return False
        ais_id = _AIS_ID[payload[0]]
        cls = MSG_CLASS.get(ais_id)
        if cls is None:
            return False
        gh = self._gh_ts
        self._gh_ts = None
        if self._single(ais_id, cls, payload, _FILL_BITS[fill], s, tag_ts or gh or rx, out):
            return True
        self._gh_ts = gh
        return False

    def _single(
        self, ais_id: int, cls: type[Payload], payload: str, fill: int, s: str, ts: datetime, out: list
    ) -> bool:
        """Decode the armoured ``payload`` of a single-part sentence (line ``s``) and map it.

        Does what ``AISSentence(...)`` + :meth:`_decode` do for such a sentence: the same bit
        vector, the same pyais class and decoding call (``_fast_path`` of the position types
        is what ``from_vector`` calls for their usual 168-bit payload), the same counters and
        quarantine texts. Returns False, having changed nothing, on a KeyError while decoding,
        whose quarantine text pyais builds from its sentence object: the caller then takes
        the general path.
        """
        bv = bit_vector(payload.encode("ascii"), fill)
        try:
            if ais_id in _DIRECT_FAST_PATH and bv._length == 168:
                msg = cls._fast_path(bv)
            else:
                msg = cls.from_vector(bv)
        except KeyError:
            return False
        except MissingPayloadException:
            self.stats.sentences += 1
            self._q(out, s, DECODE_ERROR, "empty payload", ts)
            return True
        except Exception as exc:  # noqa: BLE001 - pyais raises several exception types
            self.stats.sentences += 1
            self._q(out, s, DECODE_ERROR, f"{type(exc).__name__}: {exc}", ts)
            return True
        st = self.stats
        st.sentences += 1
        st.messages += 1
        handler = self._handlers.get(ais_id)
        if handler is None:
            st.ignored_types[ais_id] += 1
        else:
            handler(msg, s, ts, out)
        return True

    def _meta_time(self, tail: str) -> datetime | None:
        """Unix receive time in the last metadata field after the checksum (None if absent).

        The field must look like a unix time: digits with an optional fraction, at least
        1e8 (1973) so that small counters in other metadata layouts are not taken as times.
        Seconds or milliseconds, like ``c:``.
        """
        last = tail[tail.rfind(",") + 1 :]
        if last == self._meta_key:
            return self._meta_ts
        ts: datetime | None = None
        if last.replace(".", "", 1).isdigit():
            value = float(last)
            if value >= _MIN_META_EPOCH:
                try:
                    ts = _epoch_to_utc(value)
                except (ValueError, OverflowError, OSError):
                    ts = None
        self._meta_key = last
        self._meta_ts = ts
        return ts

    def _gatehouse(self, s: str, body: str, rx: datetime, out: list[AisItem]) -> None:
        """``$PGHP,1,year,month,day,hour,minute,second,millisecond,...``: time of the next AIS line."""
        fields = body.split(",")
        if len(fields) < 9 or fields[1] != "1":
            self.stats.non_ais += 1
            return
        try:
            y, mo, d, h, mi, sec, ms = (int(f) for f in fields[2:9])
            ts = datetime(y, mo, d, h, mi, sec, ms * 1000, tzinfo=UTC)
        except (ValueError, OverflowError) as exc:
            self._gh_ts = None
            self._q(out, s, GARBLED, f"unparsable $PGHP time: {exc}", rx)
            return
        self.stats.timestamp_headers += 1
        self._gh_ts = ts

    # ------------------------------------------------------------------ reassembly

    def _fragment(
        self,
        sent: AISSentence,
        tag: str,
        group: int | None,
        s: str,
        explicit: datetime | None,
        rx: datetime,
        out: list[AisItem],
    ) -> None:
        """Buffer one part of a multi-part message; decode the message when complete."""
        key: _FragmentKey = (tag, sent.frag_cnt, sent.seq_id, sent.channel, group)
        pending = self._pending
        entry = pending.get(key)
        num = sent.frag_num
        if entry is not None and num != len(entry.sentences) + 1:
            del pending[key]
            self._orphan(entry, f"replaced by fragment {num}/{sent.frag_cnt} of a newer message", out)
            entry = None
        if entry is None:
            if num != 1:
                self._q(
                    out, s, ORPHAN_FRAGMENT,
                    f"fragment {num}/{sent.frag_cnt} (seq {sent.seq_id}, channel {sent.channel}) "
                    "without its preceding fragments",
                    explicit or rx,
                )
                return
            entry = _Partial(self._line_no, rx)
            self._expire(out)
            pending[key] = entry
        entry.sentences.append(sent)
        entry.lines.append(s)
        if entry.explicit_ts is None:
            entry.explicit_ts = explicit
        if len(entry.sentences) < sent.frag_cnt:
            return
        del pending[key]
        raw = "\n".join(entry.lines)
        try:
            whole = AISSentence.assemble_from_iterable(entry.sentences)
        except Exception as exc:  # noqa: BLE001 - pyais raises several exception types
            self._q(out, raw, DECODE_ERROR, f"cannot assemble fragments: {exc}", entry.ts)
            return
        self._decode(whole, raw, entry.ts, out)

    def _expire(self, out: list[AisItem]) -> None:
        """Orphan the oldest incomplete messages that are too old or over the count limit."""
        pending = self._pending
        horizon = self._line_no - self.max_fragment_lines
        while pending:
            key = next(iter(pending))
            entry = pending[key]
            if entry.started >= horizon and len(pending) < self.max_pending:
                return
            del pending[key]
            self._orphan(entry, "siblings did not arrive in time", out)

    def _orphan(self, entry: _Partial, why: str, out: list) -> None:
        """Quarantine every buffered line of an incomplete message."""
        total = entry.sentences[0].frag_cnt if entry.sentences else 0
        for i, line in enumerate(entry.lines, start=1):
            self._q(out, line, ORPHAN_FRAGMENT, f"fragment {i}/{total}: {why}", entry.ts)

    # ------------------------------------------------------------------ messages

    def _decode(self, sent: AISSentence, raw: str, ts: datetime, out: list[AisItem]) -> None:
        """Decode a complete message with pyais and map it to value objects."""
        try:
            msg = sent.decode()
        except MissingPayloadException:
            self._q(out, raw, DECODE_ERROR, "empty payload", ts)
            return
        except Exception as exc:  # noqa: BLE001 - pyais raises several exception types
            self._q(out, raw, DECODE_ERROR, f"{type(exc).__name__}: {exc}", ts)
            return
        self.stats.messages += 1
        msg_type = sent.ais_id
        handler = self._handlers.get(msg_type)
        if handler is None:
            self.stats.ignored_types[msg_type] += 1
            return
        handler(msg, raw, ts, out)

    def _refuse_position(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Quarantine a position report whose position is missing, not available or out of range."""
        lon = msg.lon
        lat = msg.lat
        if lon is None or lat is None or msg.mmsi is None:
            self._q(out, raw, DECODE_ERROR, "truncated payload: no position", ts)
        elif lon == _LON_NA or lat == _LAT_NA:
            self._q(out, raw, NO_POSITION, f"position not available (lon {lon}, lat {lat})", ts)
        else:
            self._q(out, raw, BAD_POSITION, f"position out of range (lon {lon}, lat {lat})", ts)

    def _position(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Types 1, 2, 3, 18 (and the position half of 19): speed 0.1 kn, course 0.1 deg."""
        lon = msg.lon
        lat = msg.lat
        if lon is None or lat is None or not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            self._refuse_position(msg, raw, ts, out)
            return
        sog = msg.speed
        if sog is not None and sog >= _SOG_NA_KN:
            sog = None
        cog = msg.course
        if cog is not None and cog >= _COG_NA_DEG:
            cog = None
        out.append(PositionFix(self.source, str(msg.mmsi), ts, lon, lat, sog, cog))
        self.stats.fixes += 1

    def _position19(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Type 19 (extended class B): a fix plus the name and ship type it carries."""
        self._position(msg, raw, ts, out)
        if msg.mmsi is None:
            return
        name = _opt_str(msg.shipname)
        ship_type = _opt_int(msg.ship_type)
        if name is None and ship_type is None:
            return
        out.append(
            StaticReport(str(msg.mmsi), ts, name=name, ship_type=ship_type, extra={"msg_type": 19})
        )
        self.stats.static_reports += 1

    def _position27(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Type 27 (long-range): position 1/10 min, speed whole knots (63 n/a), course deg (511 n/a)."""
        lon = msg.lon
        lat = msg.lat
        if lon is None or lat is None or not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
            self._refuse_position(msg, raw, ts, out)
            return
        sog = msg.speed
        if sog is not None and sog >= _SOG27_NA_KN:
            sog = None
        cog = msg.course
        if cog is not None and cog >= _COG_NA_DEG:
            cog = None
        out.append(PositionFix(self.source, str(msg.mmsi), ts, lon, lat, sog, cog))
        self.stats.fixes += 1

    def _static5(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Type 5: static and voyage data. Dimensions in metres, draught in metres."""
        if msg.mmsi is None:
            self._q(out, raw, DECODE_ERROR, "truncated payload: no MMSI", ts)
            return
        extra = {
            "msg_type": 5,
            "ais_version": msg.ais_version,
            "to_bow": msg.to_bow,
            "to_stern": msg.to_stern,
            "to_port": msg.to_port,
            "to_starboard": msg.to_starboard,
            "draught_m": msg.draught,
            "epfd": _opt_int(msg.epfd),
            "eta_month": msg.month,
            "eta_day": msg.day,
            "eta_hour": msg.hour,
            "eta_minute": msg.minute,
            "dte": msg.dte,
        }
        out.append(
            StaticReport(
                str(msg.mmsi),
                ts,
                name=_opt_str(msg.shipname),
                callsign=_opt_str(msg.callsign),
                imo=_opt_int(msg.imo),
                ship_type=_opt_int(msg.ship_type),
                destination=_opt_str(msg.destination),
                extra=extra,
            )
        )
        self.stats.static_reports += 1

    def _static24(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Type 24: part A carries the name, part B ship type, call sign and dimensions.

        Fields a part does not carry are None: they mean "not in this report", not "erased".
        """
        if msg.mmsi is None:
            self._q(out, raw, DECODE_ERROR, "truncated payload: no MMSI", ts)
            return
        if msg.partno == 0:
            report = StaticReport(
                str(msg.mmsi), ts, name=_opt_str(msg.shipname), extra={"msg_type": 24, "part": "A"}
            )
        else:
            extra: dict[str, Any] = {
                "msg_type": 24,
                "part": "B",
                "vendor_id": _opt_str(msg.vendorid),
                "model": msg.model,
                "serial": msg.serial,
            }
            mothership = getattr(msg, "mothership_mmsi", None)
            if mothership is not None:
                extra["mothership_mmsi"] = mothership
            else:
                extra.update(
                    to_bow=msg.to_bow,
                    to_stern=msg.to_stern,
                    to_port=msg.to_port,
                    to_starboard=msg.to_starboard,
                )
            report = StaticReport(
                str(msg.mmsi),
                ts,
                callsign=_opt_str(msg.callsign),
                ship_type=_opt_int(msg.ship_type),
                extra=extra,
            )
        out.append(report)
        self.stats.static_reports += 1

    def _base_station(self, msg: Any, raw: str, ts: datetime, out: list) -> None:
        """Types 4/11: a shore station, not a vessel; counted and dropped."""
        self.stats.base_stations += 1

    # ------------------------------------------------------------------ helpers

    def _q(self, out: list, raw: str, reason: str, detail: str, ts: datetime | None) -> None:
        """Append a Quarantined record and count it."""
        out.append(Quarantined(self.source, raw, reason, detail, ts))
        self.stats.quarantined[reason] += 1


def decode_lines(
    lines: Iterable[str],
    received_at: datetime,
    **decoder_options: Any,
) -> Iterator[AisItem]:
    """Decode a finite sequence of lines (e.g. an open file) and flush at the end.

    ``received_at`` (aware datetime) is the receive time for lines without their own time.
    ``decoder_options`` are passed to :class:`AisStreamDecoder`.
    """
    decoder = AisStreamDecoder(**decoder_options)
    feed = decoder.feed
    for line in lines:
        yield from feed(line, received_at)
    yield from decoder.flush()
