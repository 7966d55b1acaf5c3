"""The clean input border: bytes outside printable text are quarantined as garbled, never decoded."""
from __future__ import annotations

from datetime import UTC, datetime
from functools import reduce
from operator import xor

import pytest

from apps.elements.domain.model import PositionFix, Quarantined, VehicleCapture
from apps.elements.domain.nmea import MAX_LINE_CHARS, AisStreamDecoder
from apps.elements.domain.positions import parse_captures_csv, parse_positions, parse_positions_json
from apps.elements.domain.text import escaped, first_bad_char

RX = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
#: A real single-part position report behind a tag block (the line of the issue's repro).
TAGGED = "\\c:1772986080*55\\!AIVDM,1,1,,A,169EEh@P1J8h>=@@P2Mbt001P000,0*20"
PLAIN = "!AIVDM,1,1,,A,169EEh@P1J8h>=@@P2Mbt001P000,0*20"


def _checksum(body: str) -> str:
    return f"{reduce(xor, body.encode('latin-1'), 0):02X}"


def _feed(line) -> list:
    return AisStreamDecoder().feed(line, RX)


def test_the_good_lines_decode() -> None:
    (fix,) = _feed(TAGGED)
    assert isinstance(fix, PositionFix) and fix.ts == datetime.fromtimestamp(1772986080, UTC)
    assert isinstance(_feed(PLAIN)[0], PositionFix)


@pytest.mark.parametrize(
    "line, shown",
    [
        # a NUL inside the payload: XOR with 0 leaves the checksum valid, the position would be garbage
        (PLAIN.replace("P2Mb", "P2\x00Mb"), "\\x00"),
        # a NUL inside the tag block: the tag-block time would be lost
        (TAGGED.replace("c:17", "c:\x0017"), "\\x00"),
        (PLAIN + "\x01", "\\x01"),
        ("\x1c" + PLAIN, "\\x1c"),  # str.strip() would have dropped it silently
        (PLAIN.replace(",A,", ",\x7f,"), "\\x7f"),
        (PLAIN.replace("P000", "P\udcff00"), "\\xff"),  # a non-UTF-8 byte read with surrogateescape
        (PLAIN.replace("P000", "P\u00e900"), "\u00e9"),  # valid UTF-8, but not ASCII
    ],
)
def test_a_line_with_a_character_outside_printable_ascii_is_garbled_and_never_decoded(line, shown) -> None:
    dec = AisStreamDecoder()
    body = line[line.index("!") + 1 : line.rindex("*")]
    if "\udcff" not in body and "\u00e9" not in body and "\x00" in body:
        assert _checksum(body) == "20"  # the corruption is invisible to the checksum
    (q,) = dec.feed(line, RX)
    assert isinstance(q, Quarantined) and q.reason == "garbled"
    assert shown in q.raw and shown in q.detail
    assert q.raw.encode("utf-8")  # storable: no surrogates left
    assert dec.stats.quarantined == {"garbled": 1} and dec.stats.fixes == 0


def test_bytes_lines_with_undecodable_bytes_are_garbled_and_escaped() -> None:
    (q,) = _feed(b"\xff\xfe x\n")
    assert q.reason == "garbled" and q.raw == "\\xff\\xfe x"
    (fix,) = _feed(PLAIN.encode() + b"\r\n")
    assert isinstance(fix, PositionFix)


def test_an_overlong_line_is_garbled_and_cut() -> None:
    line = TAGGED + "A" * MAX_LINE_CHARS
    (q,) = _feed(line)
    assert q.reason == "garbled" and f"line of {len(line)} characters" in q.detail
    assert len(q.raw) < 300 and q.raw.endswith(f"...({len(line)} chars)")


def test_refuse_line_counts_a_line_the_transport_dropped() -> None:
    dec = AisStreamDecoder()
    (q,) = dec.refuse_line(b"!AIVDM\x00" + b"x" * 500, "line over the limit", RX)
    assert q.reason == "garbled" and q.raw.startswith("!AIVDM\\x00xx") and len(q.raw) < 300
    assert dec.stats.lines == 1 and dec.stats.quarantined == {"garbled": 1}


def test_escaped_and_first_bad_char() -> None:
    assert escaped("a\x00b\tc\udc80\U0001f600\u00e9") == "a\\x00b\tc\\x80\U0001f600\u00e9"
    assert escaped(b"\xff\xe6\xb5\x99") == "\\xff\u6d59"
    assert escaped("x" * 20, 5) == "xxxxx...(20 chars)"
    assert first_bad_char("ab\x07") == "\\x07 at column 3"
    assert first_bad_char("ab\u00e9", ascii_only=True) == "'é' (U+00E9) at column 3"
    assert first_bad_char("浙B12345") == ""


# ---------------------------------------------------------------------- positions / captures

HEADER = "source,vessel_id,timestamp,lat,lon,sog,cog\n"
ROW = "beidou,浙象渔{n},2024-05-01T20:00:00+08:00,29.5,121.9,3.0,90\n"


def test_a_non_utf8_byte_loses_only_its_row_and_chinese_rows_stay_intact() -> None:
    data = (HEADER + ROW.format(n=1)).encode() + b"beidou,\xff\xfe,2024-05-01T20:00:00+08:00,29.5,121.9,,\n" + ROW.format(n=2).encode()
    items = parse_positions(data)
    fixes = [i for i in items if isinstance(i, PositionFix)]
    (q,) = [i for i in items if isinstance(i, Quarantined)]
    assert [f.vessel_id for f in fixes] == ["浙象渔1", "浙象渔2"]
    assert q.reason == "garbled" and "\\xff\\xfe" in q.raw and q.source == "beidou"


def test_gbk_files_still_decode() -> None:
    items = parse_positions((HEADER + ROW.format(n=3)).encode("gb18030"))
    assert [i.vessel_id for i in items] == ["浙象渔3"]


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1c", "\x0b", "\x85", "\x7f"])
def test_control_characters_make_a_row_garbled_and_do_not_split_it(bad) -> None:
    text = HEADER + ROW.format(n=1) + ROW.format(n=2).replace("29.5", "29" + bad + ".5") + ROW.format(n=3)
    items = parse_positions(text)
    assert [i.vessel_id for i in items if isinstance(i, PositionFix)] == ["浙象渔1", "浙象渔3"]
    (q,) = [i for i in items if isinstance(i, Quarantined)]
    assert q.reason == "garbled" and f"\\x{ord(bad):02x}" in q.raw and "\n" not in q.raw


def test_json_values_with_control_characters_are_garbled() -> None:
    doc = '[{"source":"beidou","vessel_id":"A\\u0000","timestamp":"2024-05-01T12:00:00Z","lat":29,"lon":121},' \
          '{"source":"beidou","vessel_id":"B","timestamp":"2024-05-01T12:00:00Z","lat":29,"lon":121}]'
    items = parse_positions_json(doc)
    assert isinstance(items[0], Quarantined) and items[0].reason == "garbled"
    assert '"vessel_id":"A\\u0000"' in items[0].raw
    assert isinstance(items[1], PositionFix)


def test_captures_with_undecodable_bytes_lose_only_their_row() -> None:
    data = "checkpoint_id,plate,timestamp,lat,lon\nKK1,浙B12345,2024-05-01T12:00:00Z,,\n".encode() \
        + b"KK1,\xff\x00,2024-05-01T12:00:00Z,,\n" + "KK2,浙B54321,2024-05-01T12:00:00Z,,\n".encode()
    items = parse_captures_csv(data)
    assert [i.plate for i in items if isinstance(i, VehicleCapture)] == ["浙B12345", "浙B54321"]
    (q,) = [i for i in items if isinstance(i, Quarantined)]
    assert q.reason == "garbled" and q.raw == "KK1,\\xff\\x00,2024-05-01T12:00:00Z,,"
