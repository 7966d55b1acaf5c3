"""AIS NMEA stream decoder against real captures (tests/fixtures/ais, see SOURCES.md there)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from functools import reduce
from operator import xor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyais import encode_dict
from pyais.exceptions import MissingPayloadException

from apps.elements.domain.model import PositionFix, Quarantined, StaticReport
from apps.elements.domain.nmea import AisDecodeStats, AisStreamDecoder, decode_lines

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ais"
RX = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# ---------------------------------------------------------------------- helpers


def read_lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="ascii").splitlines()


def decode_all(lines: list[str], rx: datetime = RX, **opts) -> tuple[list, AisStreamDecoder]:
    dec = AisStreamDecoder(**opts)
    out: list = []
    for line in lines:
        out.extend(dec.feed(line, rx))
    out.extend(dec.flush())
    return out, dec


def split(items: list) -> tuple[list[PositionFix], list[StaticReport], list[Quarantined]]:
    fixes = [i for i in items if isinstance(i, PositionFix)]
    static = [i for i in items if isinstance(i, StaticReport)]
    quarantined = [i for i in items if isinstance(i, Quarantined)]
    assert len(fixes) + len(static) + len(quarantined) == len(items)
    return fixes, static, quarantined


def nmea_checksum(body: str) -> str:
    return f"{reduce(xor, body.encode('ascii'), 0):02X}"


def sentence(body: str) -> str:
    """'!' + body + '*hh' with a correct checksum (body without the leading '!')."""
    return f"!{body}*{nmea_checksum(body)}"


def tag_block(content: str) -> str:
    return f"\\{content}*{nmea_checksum(content)}\\"


def retalk(line: str, tag: str) -> str:
    """Replace the sentence tag (e.g. AIVDO -> BSVDM) and fix the checksum."""
    body = line[1 : line.index("*")]
    return sentence(tag + body[5:])


def encoded(data: dict, **kw) -> list[str]:
    return [retalk(s, "AIVDM") for s in encode_dict(data, **kw)]


def reasons(items: list) -> Counter[str]:
    return Counter(q.reason for q in items if isinstance(q, Quarantined))


def assert_utc(items: list) -> None:
    for item in items:
        ts = item.ts
        if ts is not None:
            assert ts.tzinfo is not None and ts.utcoffset() == timedelta(0), item


# ---------------------------------------------------------------------- libais type examples

TYPE_LINES = read_lines("libais_typeexamples.nmea")
TYPE_EXPECTED = [json.loads(x) for x in read_lines("libais_typeexamples.json")]


def test_typeexamples_files_align() -> None:
    assert len(TYPE_LINES) == len(TYPE_EXPECTED) == 26


@pytest.mark.parametrize("idx", range(26), ids=lambda i: f"line{i + 1}-type{TYPE_EXPECTED[i]['type']}")
def test_typeexamples_line_by_line(idx: int) -> None:
    line, exp = TYPE_LINES[idx], TYPE_EXPECTED[idx]
    out, dec = decode_all([line])
    fixes, static, quarantined = split(out)
    receive_time = datetime.fromtimestamp(int(line.rsplit(",", 1)[1]), UTC)
    assert_utc(out)
    t = exp["type"]
    if t in (1, 3, 18):
        assert not static and not quarantined
        (fix,) = fixes
        assert fix.source == "ais"
        assert fix.vessel_id == str(exp["mmsi"])
        assert fix.lon == pytest.approx(exp["lon"], abs=1e-4)
        assert fix.lat == pytest.approx(exp["lat"], abs=1e-4)
        assert fix.sog_kn == pytest.approx(exp["speed"], abs=1e-3)
        assert fix.cog_deg == pytest.approx(exp["course"], abs=1e-3)
        assert fix.ts == receive_time  # last metadata field
    elif t in (2, 27):
        # libais decodes these examples to impossible positions too (lat -101.5 / lon 200.2)
        assert not (-90 <= exp["lat"] <= 90 and -180 <= exp["lon"] <= 180)
        assert not fixes and not static
        (q,) = quarantined
        assert q.reason == "bad_position" and q.raw == line and q.ts == receive_time
    elif t == 5:
        (rep,) = static
        assert not fixes and not quarantined
        assert rep.vessel_id == str(exp["mmsi"])
        assert rep.name == exp["shipname"] and rep.callsign == exp["callsign"]
        assert rep.imo == int(exp["imo"])
        assert rep.ship_type == exp["shiptype"]
        assert rep.destination == exp["destination"]
        assert rep.ts == receive_time
    elif t == 24:
        (rep,) = static
        assert exp["part_num"] == 0
        assert rep.vessel_id == str(exp["mmsi"]) and rep.name == exp["shipname"]
        assert rep.extra["part"] == "A" and rep.callsign is None
    elif t in (4, 11):
        assert out == [] and dec.stats.base_stations == 1
    else:
        assert out == []
        assert dec.stats.ignored_types == Counter({t: 1})
    assert dec.stats.internal_errors == 0


def test_typeexamples_whole_file_counts() -> None:
    out, dec = decode_all(TYPE_LINES)
    fixes, static, _ = split(out)
    assert len(fixes) == 3 and len(static) == 2
    assert reasons(out) == Counter({"bad_position": 2})
    assert dec.stats.base_stations == 2
    assert dec.stats.messages == 26
    assert sum(dec.stats.ignored_types.values()) == 26 - 3 - 2 - 2 - 2


# ---------------------------------------------------------------------- tag blocks


def test_tagblock_times_and_interleaved_two_part_message() -> None:
    lines = read_lines("libais_tagblock.nmea")
    expected = [json.loads(x) for x in read_lines("libais_tagblock.json")]
    out, dec = decode_all(lines)
    assert_utc(out)
    assert reasons(out) == Counter()
    # decoded in completion order: line 2, then lines 1+3 (interleaved), then 4, then 5
    assert [type(i).__name__ for i in out] == ["PositionFix", "StaticReport", "PositionFix", "PositionFix"]
    assert len(out) == len(expected)
    for item, exp in zip(out, expected):
        want_ts = datetime.strptime(exp["tagblock_timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        assert item.ts == want_ts
        assert item.vessel_id == str(exp["mmsi"])
        if isinstance(item, PositionFix):
            assert item.lon == pytest.approx(exp["lon"], abs=1e-4)
            assert item.lat == pytest.approx(exp["lat"], abs=1e-4)
            assert item.sog_kn == pytest.approx(exp["speed"], abs=1e-3)
            assert item.cog_deg == pytest.approx(exp["course"], abs=1e-3)
        else:
            assert item.name == exp["shipname"] == "ROSINANTE"
            assert item.callsign == exp["callsign"] == "XPD5019"
    assert dec.stats.sentences == 5 and dec.stats.messages == 4
    assert dec.pending_fragments == 0


def test_tagblock_time_wins_over_metadata_and_received_at() -> None:
    line = "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30"
    tb = tag_block("s:r3669961,c:1418169601")
    out, _ = decode_all([tb + line + ",r003669946,1325394001"])
    assert out[0].ts == datetime(2014, 12, 10, 0, 0, 1, tzinfo=UTC)


def test_tagblock_time_in_milliseconds() -> None:
    line = "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30"
    out, _ = decode_all([tag_block("c:1418169601500") + line])
    assert out[0].ts == datetime(2014, 12, 10, 0, 0, 1, 500000, tzinfo=UTC)


@pytest.mark.parametrize(
    "prefix, detail",
    [
        ("\\s:r3669961,c:1418169601*00\\", "checksum mismatch"),
        ("\\s:r3669961,c:1418169601\\", "without checksum"),
        ("\\s:r3669961,c:1418169601*ZZ\\", "malformed"),
        ("\\s:r3669961,c:1418169601*", "unterminated"),
        (tag_block("s:r3669961,c:soon"), "time"),
        (tag_block("c:1e300"), "time"),
        (tag_block("g:1-2"), "group"),
        (tag_block("g:3-2-77"), "group"),
    ],
)
def test_bad_tag_blocks_are_quarantined(prefix: str, detail: str) -> None:
    good = "!AIVDM,1,1,,A,15N1u<PP1FJuvSRHOE6QIwwh0HQ6,0*30"
    bad = prefix + good
    out, dec = decode_all([good, bad, good])
    fixes, _, quarantined = split(out)
    assert len(fixes) == 2
    (q,) = quarantined
    assert q.reason == "bad_tag_block" and q.raw == bad and detail in q.detail
    assert dec.stats.internal_errors == 0


def test_tag_block_group_keeps_same_seq_messages_apart() -> None:
    """Two 2-part messages with the same seq id and channel, told apart by the tag-block group."""
    a1, a2 = encoded({"type": 5, "mmsi": 412000004, "shipname": "ALPHA", "callsign": "BAAA"}, seq_id=3)
    b1, b2 = encoded({"type": 5, "mmsi": 412000005, "shipname": "BRAVO", "callsign": "BBBB"}, seq_id=3)
    lines = [
        tag_block("g:1-2-11,c:1700000000") + a1,
        tag_block("g:1-2-12,c:1700000001") + b1,
        tag_block("g:2-2-11") + a2,
        tag_block("g:2-2-12") + b2,
    ]
    out, _ = decode_all(lines)
    assert reasons(out) == Counter()
    assert [(r.vessel_id, r.name) for r in out] == [("412000004", "ALPHA"), ("412000005", "BRAVO")]
    assert out[0].ts == datetime.fromtimestamp(1700000000, UTC)
    assert out[1].ts == datetime.fromtimestamp(1700000001, UTC)


# ---------------------------------------------------------------------- libais test.aivdm


def test_libais_test_aivdm_comments_and_counts() -> None:
    lines = read_lines("libais_test.aivdm")
    blank_or_comment = sum(1 for x in lines if not x.strip() or x.lstrip().startswith("#"))
    out, dec = decode_all(lines)
    fixes, static, quarantined = split(out)
    st_ = dec.stats
    assert len(lines) == 345
    assert st_.skipped == blank_or_comment == 82
    assert st_.sentences == 345 - 82  # every sentence passes checksum and framing
    assert st_.messages == 261  # two 2-part type 5 messages reassembled
    assert len(fixes) == 31 and len(static) == 15
    # what is refused is the content of real (partly exotic) messages, never the framing:
    # 7 type-27 positions out of range, 3 type-27 payloads too short to hold a position
    assert reasons(out) == Counter({"bad_position": 7, "decode_error": 3})
    assert all("truncated" in q.detail for q in quarantined if q.reason == "decode_error")
    assert st_.internal_errors == 0
    assert_utc(out)
    # every time comes from the metadata's last field
    for item in fixes + static:
        assert datetime(2010, 4, 1, tzinfo=UTC) < item.ts < datetime(2010, 6, 1, tzinfo=UTC)
    names = {r.name for r in static if r.name}
    assert len(names) >= 2


# ---------------------------------------------------------------------- pyais samples


def test_pyais_nmea_data_sample_decodes_cleanly() -> None:
    lines = read_lines("pyais_nmea_data_sample.txt")
    out, dec = decode_all(lines)
    fixes, static, quarantined = split(out)
    by_reason = reasons(out)
    # Justified refusals only:
    #  * 100 sentences with an empty payload ("!AIVDM,1,1,,B,,0*25"): nothing to decode
    #  * 20 first parts of 2-part messages whose second parts are not in the file
    #  * 4 position reports saying "position not available"
    assert by_reason == Counter({"decode_error": 100, "orphan_fragment": 20, "no_position": 4})
    for q in quarantined:
        if q.reason == "decode_error":
            assert q.detail == "empty payload" and ",,0*" in q.raw
        elif q.reason == "orphan_fragment":
            assert q.raw.startswith("!AIVDM,2,1,")
    assert len(fixes) == 758 and len(static) == 2
    assert dec.stats.internal_errors == 0
    assert all(-180 <= f.lon <= 180 and -90 <= f.lat <= 90 for f in fixes)
    assert all(f.ts == RX for f in fixes)
    assert all(f.sog_kn is None or 0 <= f.sog_kn < 102.3 for f in fixes)
    assert all(f.cog_deg is None or 0 <= f.cog_deg < 360 for f in fixes)


def test_pyais_mixed_file() -> None:
    lines = read_lines("pyais_mixed.txt")
    out, dec = decode_all(lines)
    fixes, static, quarantined = split(out)
    assert reasons(out) == Counter({"bad_tag_block": 3, "garbled": 2, "bad_checksum": 1})
    assert {q.raw for q in quarantined if q.reason == "garbled"} == {"foobar", "IamNotAnAisMessage1111"}
    assert dec.stats.non_ais == 4  # $GPGGA, $GPRTE, $GPR00, $IIMWV
    assert len(fixes) == 8
    # the !SAVDM two-part message with tag-block group 27300 is reassembled
    assert [(r.vessel_id, r.name) for r in static] == [("351759000", "EVER DIADEM"), ("366989380", "MARE ISLAND")]
    assert static[0].ts == RX  # plain 2-part !AIVDM message, no time of its own
    assert static[1].ts == datetime.fromtimestamp(1428621738, UTC)  # c: of the first part


def test_pyais_timestamped_gatehouse_headers() -> None:
    lines = read_lines("pyais_timestamped.ais")
    out, dec = decode_all(lines)
    fixes, _, quarantined = split(out)
    assert len(fixes) == 4
    assert fixes[0].ts == datetime(2008, 5, 9, 0, 0, 0, 10000, tzinfo=UTC)
    assert [f.ts for f in fixes[1:]] == [RX, RX, RX]
    (q,) = quarantined
    assert q.reason == "bad_checksum" and q.raw.startswith("$PGHP,1,2009")
    assert dec.stats.timestamp_headers == 3


@pytest.mark.parametrize("name", ["pyais_messages.ais", "pyais_ais_test_messages"])
def test_small_pyais_captures(name: str) -> None:
    out, dec = decode_all(read_lines(name))
    assert reasons(out) == Counter()
    assert dec.stats.fixes == 6


# ---------------------------------------------------------------------- damage around good lines

GOOD = read_lines("pyais_ais_test_messages")[1:7]  # six single-part position reports
TWO_PART = read_lines("pyais_ais_test_messages")[7:9]


def _good_count(items: list) -> int:
    return sum(isinstance(i, PositionFix) for i in items)


def test_corrupted_checksum() -> None:
    bad = GOOD[2][:-2] + ("00" if not GOOD[2].endswith("00") else "01")
    out, _ = decode_all([GOOD[0], GOOD[1], bad, GOOD[3]])
    assert _good_count(out) == 3
    (q,) = [i for i in out if isinstance(i, Quarantined)]
    assert q.reason == "bad_checksum" and q.raw == bad


def test_corrupted_payload_character() -> None:
    line = GOOD[1]
    i = line.index(",A,") + 5
    bad = line[:i] + ("0" if line[i] != "0" else "1") + line[i + 1 :]
    out, _ = decode_all([GOOD[0], bad, GOOD[2]])
    assert _good_count(out) == 2 and reasons(out) == Counter({"bad_checksum": 1})


@pytest.mark.parametrize("cut", [10, 25, -4, -2, -1])
def test_truncated_line(cut: int) -> None:
    bad = GOOD[3][:cut]
    out, _ = decode_all([GOOD[0], bad, GOOD[4]])
    assert _good_count(out) == 2
    assert reasons(out) == Counter({"garbled": 1})


def test_garbage_between_good_lines() -> None:
    garbage = ["hello world", "!!!!", "$", "\\", "!AIVDM", "*", ",,,,*00", "\x00\x01\x02", "!AIVDM,1,1,,A,\u00e9\u00e9,0*00"]
    lines: list[str] = []
    for g, good in zip(garbage, GOOD * 2):
        lines += [good, g]
    out, dec = decode_all(lines)
    assert _good_count(out) == len(garbage)
    refused = [i for i in out if isinstance(i, Quarantined)]
    assert len(refused) == len(garbage)
    assert {q.reason for q in refused} <= {"garbled", "bad_checksum", "bad_tag_block"}
    assert dec.stats.internal_errors == 0


def test_dropped_second_fragment_is_orphan_at_flush() -> None:
    dec = AisStreamDecoder()
    out = dec.feed(TWO_PART[0], RX) + dec.feed(GOOD[0], RX)
    assert _good_count(out) == 1 and reasons(out) == Counter()
    assert dec.pending_fragments == 1
    flushed = dec.flush()
    assert [(q.reason, q.raw) for q in flushed] == [("orphan_fragment", TWO_PART[0])]
    assert dec.pending_fragments == 0


def test_dropped_first_fragment_is_orphan_at_once() -> None:
    out, _ = decode_all([GOOD[0], TWO_PART[1], GOOD[1]])
    assert _good_count(out) == 2
    assert [(q.reason, q.raw) for q in out if isinstance(q, Quarantined)] == [("orphan_fragment", TWO_PART[1])]


def test_newer_message_with_same_key_replaces_incomplete_one() -> None:
    dec = AisStreamDecoder()
    first = dec.feed(TWO_PART[0], RX)
    assert first == []
    again = dec.feed(TWO_PART[0], RX)  # a new part 1 with the same seq id and channel
    assert [(q.reason, q.raw) for q in again] == [("orphan_fragment", TWO_PART[0])]
    done = dec.feed(TWO_PART[1], RX)
    assert len(done) == 1 and isinstance(done[0], StaticReport)
    assert dec.flush() == []


def test_interleaved_parts_of_two_messages() -> None:
    a1, a2 = encoded({"type": 5, "mmsi": 412000004, "shipname": "ZHE XIANG YU 2", "callsign": "BXYZ"}, seq_id=7)
    b1, b2 = encoded({"type": 5, "mmsi": 412000006, "shipname": "MIN SHI YU 9", "callsign": "BQQQ"}, seq_id=8)
    out, _ = decode_all([a1, b1, GOOD[0], b2, GOOD[1], a2])
    names = [(i.vessel_id, i.name, i.callsign) for i in out if isinstance(i, StaticReport)]
    assert names == [("412000006", "MIN SHI YU 9", "BQQQ"), ("412000004", "ZHE XIANG YU 2", "BXYZ")]
    assert _good_count(out) == 2 and reasons(out) == Counter()


def test_bad_fragment_orphans_its_sibling_only() -> None:
    a1, a2 = encoded({"type": 5, "mmsi": 412000004, "shipname": "ZHE XIANG YU 2"}, seq_id=7)
    bad_a1 = a1[:-2] + ("00" if not a1.endswith("00") else "01")
    out, _ = decode_all([bad_a1, GOOD[0], a2, GOOD[1]])
    assert _good_count(out) == 2
    assert reasons(out) == Counter({"bad_checksum": 1, "orphan_fragment": 1})


def test_pending_limits_expire_old_fragments() -> None:
    dec = AisStreamDecoder(max_fragment_lines=3)
    assert dec.feed(TWO_PART[0], RX) == []
    for line in GOOD[:3]:
        assert _good_count(dec.feed(line, RX)) == 1
    a1, _ = encoded({"type": 5, "mmsi": 412000004}, seq_id=5)
    expired = dec.feed(a1, RX)  # a new incomplete message triggers the sweep
    assert [(q.reason, q.raw) for q in expired] == [("orphan_fragment", TWO_PART[0])]

    dec = AisStreamDecoder(max_pending=2)
    parts = [encoded({"type": 5, "mmsi": 412000010 + i}, seq_id=i)[0] for i in range(4)]
    refused = [q for p in parts for q in dec.feed(p, RX)]
    assert [q.raw for q in refused] == parts[:2]
    assert dec.pending_fragments == 2


# ---------------------------------------------------------------------- value mapping


def test_not_available_speed_and_course_become_none() -> None:
    (line,) = encoded({"type": 1, "mmsi": 412000001, "lon": 121.9, "lat": 29.5, "speed": 102.3, "course": 360})
    (fix,) = decode_all([line])[0]
    assert fix == PositionFix("ais", "412000001", RX, 121.9, 29.5, None, None)


def test_position_not_available_is_no_position() -> None:
    (line,) = encoded({"type": 1, "mmsi": 412000001, "lon": 181, "lat": 91, "speed": 3})
    (q,) = decode_all([line])[0]
    assert q.reason == "no_position" and q.raw == line


def test_type_18_19_27() -> None:
    (l18,) = encoded({"type": 18, "mmsi": 412000007, "lon": 121.95, "lat": 29.45, "speed": 7.5, "course": 12.5})
    (l19,) = encoded(
        {"type": 19, "mmsi": 412000002, "lon": 121.9, "lat": 29.5, "speed": 5.5, "course": 90, "shipname": "ZHE XIANG YU 1", "ship_type": 30}
    )
    (l27,) = encoded({"type": 27, "mmsi": 412000003, "lon": 121.9, "lat": 29.5, "speed": 12, "course": 45})
    (l27na,) = encoded({"type": 27, "mmsi": 412000003, "lon": 121.9, "lat": 29.5, "speed": 63, "course": 511})
    out, _ = decode_all([l18, l19, l27, l27na])
    assert out[0] == PositionFix("ais", "412000007", RX, 121.95, 29.45, 7.5, 12.5)
    assert out[1] == PositionFix("ais", "412000002", RX, 121.9, 29.5, 5.5, 90.0)
    assert isinstance(out[2], StaticReport) and out[2].name == "ZHE XIANG YU 1" and out[2].ship_type == 30
    assert out[3] == PositionFix("ais", "412000003", RX, 121.9, 29.5, 12.0, 45.0)
    assert out[4] == PositionFix("ais", "412000003", RX, 121.9, 29.5, None, None)


def test_type_24_part_b() -> None:
    (line,) = encoded({"type": 24, "mmsi": 412000005, "partno": 1, "callsign": "BABC", "ship_type": 30, "to_bow": 12})
    (rep,) = decode_all([line])[0]
    assert rep.vessel_id == "412000005" and rep.callsign == "BABC" and rep.ship_type == 30
    assert rep.name is None and rep.extra["part"] == "B" and rep.extra["to_bow"] == 12


@pytest.mark.parametrize("tag", ["AIVDM", "AIVDO", "BSVDM", "ABVDM", "SAVDM"])
def test_talker_ids(tag: str) -> None:
    out, _ = decode_all([retalk(GOOD[0], tag)])
    assert _good_count(out) == 1


def test_non_ais_sentence_is_counted_not_quarantined() -> None:
    out, dec = decode_all(["$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D", GOOD[0]])
    assert _good_count(out) == 1 and reasons(out) == Counter() and dec.stats.non_ais == 1


@pytest.mark.parametrize(
    "prefix, expected",
    [
        ("1325394001 ", datetime(2012, 1, 1, 5, 0, 1, tzinfo=UTC)),
        ("1325394001123,", datetime(2012, 1, 1, 5, 0, 1, 123000, tzinfo=UTC)),
        ("2021-03-20T10:02:03+08:00 ", datetime(2021, 3, 20, 2, 2, 3, tzinfo=UTC)),
        ("2021-03-20T02:02:03Z\t", datetime(2021, 3, 20, 2, 2, 3, tzinfo=UTC)),
    ],
)
def test_receive_time_prefix(prefix: str, expected: datetime) -> None:
    (fix,) = decode_all([prefix + GOOD[0]])[0]
    assert fix.ts == expected and fix.ts.tzinfo is UTC


@pytest.mark.parametrize(
    "meta, expected",
    [
        (",d-109,S2105,t050056.00,T56.137,r003669946,1325394060,1325394001", datetime(2012, 1, 1, 5, 0, 1, tzinfo=UTC)),
        (",b003669794,1272412827", datetime(2010, 4, 28, 0, 0, 27, tzinfo=UTC)),
        (",rCUDJOE_01,1325394001.25", datetime(2012, 1, 1, 5, 0, 1, 250000, tzinfo=UTC)),
        (",r003669946,1325394001250", datetime(2012, 1, 1, 5, 0, 1, 250000, tzinfo=UTC)),
        (",d-109,S2105", RX),  # no time field
        (",r003669946,2105", RX),  # a small counter is not a time
        (",r003669946,99999999999999999999999", RX),  # out of range
    ],
)
def test_metadata_receive_time(meta: str, expected: datetime) -> None:
    (fix,) = decode_all([GOOD[0] + meta])[0]
    assert fix.ts == expected


def test_receive_time_prefix_without_zone_is_garbled() -> None:
    (q,) = decode_all(["2021-03-20T02:02:03 " + GOOD[0]])[0]
    assert q.reason == "garbled"


def test_received_at_is_converted_to_utc_and_must_be_aware() -> None:
    cst = timezone(timedelta(hours=8))
    (fix,) = AisStreamDecoder().feed(GOOD[0], datetime(2024, 5, 1, 20, 0, tzinfo=cst))
    assert fix.ts == RX and fix.ts.utcoffset() == timedelta(0)
    with pytest.raises(ValueError):
        AisStreamDecoder().feed(GOOD[0], datetime(2024, 5, 1, 20, 0))


def test_bytes_lines_and_line_endings() -> None:
    dec = AisStreamDecoder()
    assert _good_count(dec.feed((GOOD[0] + "\r\n").encode(), RX)) == 1
    assert _good_count(dec.feed("  " + GOOD[1] + "\n", RX)) == 1
    (q,) = dec.feed(b"!AIVDM\xff\xfe", RX)
    assert q.reason == "garbled"


def test_decode_lines_flushes_orphans() -> None:
    out = list(decode_lines([GOOD[0], TWO_PART[0], "# comment", ""], RX))
    assert _good_count(out) == 1
    assert reasons(out) == Counter({"orphan_fragment": 1})


# ---------------------------------------------------------------------- never raises

REAL_LINES = (
    read_lines("libais_typeexamples.nmea")
    + read_lines("libais_tagblock.nmea")
    + read_lines("pyais_mixed.txt")
    + read_lines("pyais_nmea_data_sample.txt")[:60]
)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=120), max_size=8))
def test_never_raises_on_arbitrary_text(lines: list[str]) -> None:
    dec = AisStreamDecoder()
    out = []
    for line in lines:
        out.extend(dec.feed(line, RX))
    out.extend(dec.flush())
    assert all(isinstance(i, (PositionFix, StaticReport, Quarantined)) for i in out)
    assert dec.stats.internal_errors == 0
    assert_utc(out)


@st.composite
def mutated_lines(draw: st.DrawFn, seeds: list[str] = REAL_LINES) -> str:
    line = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(0, 4))):
        if not line:
            break
        i = draw(st.integers(0, len(line) - 1))
        op = draw(st.sampled_from(["replace", "delete", "insert", "cut"]))
        ch = draw(st.sampled_from(list("!$\\*,-.:0123456789ABCDEFabcdefgw@`?<> \t") + ["\u00e9", "\x00"]))
        if op == "replace":
            line = line[:i] + ch + line[i + 1 :]
        elif op == "delete":
            line = line[:i] + line[i + 1 :]
        elif op == "insert":
            line = line[:i] + ch + line[i:]
        else:
            line = line[:i]
    return line


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutated_lines(), min_size=1, max_size=10))
def test_never_raises_on_damaged_real_lines(lines: list[str]) -> None:
    dec = AisStreamDecoder()
    out = []
    for line in lines:
        out.extend(dec.feed(line, RX))
    out.extend(dec.flush())
    assert dec.stats.internal_errors == 0
    assert_utc(out)
    for item in out:
        if isinstance(item, PositionFix):
            assert -180 <= item.lon <= 180 and -90 <= item.lat <= 90
            assert item.sog_kn is None or item.sog_kn >= 0
            assert item.cog_deg is None or 0 <= item.cog_deg < 360


# ---------------------------------------------------------------------- fast path = general path


def decode_both(lines: list[str], rx: datetime = RX) -> tuple[tuple[list, AisDecodeStats], tuple[list, AisDecodeStats]]:
    """Outputs and counters of the fast-path decoder and of the general (pyais AISSentence) one."""
    fast, fast_dec = decode_all(lines, rx)
    general, general_dec = decode_all(lines, rx, fast_path=False)
    return (fast, fast_dec.stats), (general, general_dec.stats)


ALL_FIXTURE_LINES = [
    line
    for path in sorted(FIXTURES.iterdir())
    if path.is_file()
    for line in path.read_text(encoding="utf-8").splitlines()
]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file()))
def test_fast_path_equals_general_path_on_fixture_files(name: str) -> None:
    """Whole files (stateful: fragments, $PGHP headers, metadata times) decode identically."""
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    fast, general = decode_both(lines)
    assert fast == general


@pytest.mark.parametrize("idx", range(len(ALL_FIXTURE_LINES)))
def test_fast_path_equals_general_path_line_by_line(idx: int) -> None:
    """Every line of every fixture, on its own and behind a tag block, decodes identically."""
    line = ALL_FIXTURE_LINES[idx]
    variants = [line, tag_block("c:1700000000") + line, tag_block("s:r1,c:1700000000123") + line]
    for variant in variants:
        fast, general = decode_both([variant])
        assert fast == general, variant


def _single_part_edge_cases() -> list[str]:
    """Single-part sentences at the edges of the fast path's conditions (some taken, some not)."""
    pos = {"mmsi": 412000001, "lon": 121.9, "lat": 29.5, "speed": 7.5, "course": 12.5}
    lines = [
        *encoded({"type": 1, **pos}),
        *encoded({"type": 2, **pos}),
        *encoded({"type": 3, **pos}),
        *encoded({"type": 18, **pos}),
        *encoded({"type": 19, **pos, "shipname": "ZHE XIANG YU 1", "ship_type": 30}),
        *encoded({"type": 27, **pos}),
        *encoded({"type": 4, "mmsi": 412000009, "lon": 121.9, "lat": 29.5}),
        *encoded({"type": 24, "mmsi": 412000005, "partno": 0, "shipname": "ALPHA"}),
        *encoded({"type": 24, "mmsi": 412000005, "partno": 1, "callsign": "BABC", "ship_type": 30}),
        *encoded({"type": 1, "mmsi": 412000001, "lon": 181, "lat": 91}),
        *encoded({"type": 1, "mmsi": 412000001, "lon": 121.9, "lat": 29.5, "speed": 102.3, "course": 360}),
        *encoded({"type": 21, "mmsi": 412000010, "lon": 121.9, "lat": 29.5, "name": "BUOY"}),
    ]
    first = encoded({"type": 1, **pos})[0]
    body = first[1 : first.index("*")]
    tag_, cnt, num, seq, chan, payload, fill = body.split(",")
    for field_idx, value in [
        (3, "1"), (3, "9"), (3, "10"), (3, "x"), (4, ""), (4, "B"), (4, "AB"),
        (1, "01"), (2, "01"), (1, "0"), (2, "2"),
        (6, "2"), (6, "5"), (6, "6"), (6, ""), (6, "x"), (6, "05"),
        (5, ""), (5, "1"), (5, payload[:2]), (5, payload[:10]), (5, payload[:27]), (5, payload + "0"),
        (5, payload * 8), (5, "w" + payload[1:]), (5, "O" + payload[1:]), (5, "0" + payload[1:]),
        (5, payload[:-1] + "x"), (5, "\x7f" + payload[1:]),
    ]:
        fields = [tag_, cnt, num, seq, chan, payload, fill]
        fields[field_idx] = value
        lines.append(sentence(",".join(fields)))
    # type 24 with part number 2 (bits 38-39 of the payload): pyais raises UnknownPartNoException
    (part_a,) = encoded({"type": 24, "mmsi": 412000005, "partno": 0, "shipname": "ALPHA"})
    a_body = part_a[1 : part_a.index("*")]
    a_fields = a_body.split(",")
    a_fields[5] = a_fields[5][:6] + "8" + a_fields[5][7:]
    lines.append(sentence(",".join(a_fields)))
    # libais' type 2 and 27 examples: positions out of range
    lines += [line for line, exp in zip(TYPE_LINES, TYPE_EXPECTED) if exp["type"] in (2, 27)]
    lines.append(sentence(body + ",extra"))
    lines.append(sentence(body.rsplit(",", 1)[0]))
    lines.append(sentence(body) + ",r003669946,1325394001")
    return lines


def test_fast_path_equals_general_path_at_its_edges() -> None:
    lines = _single_part_edge_cases()
    for line in lines:
        for variant in (line, tag_block("c:1700000000") + line, "1325394001 " + line):
            fast, general = decode_both([variant])
            assert fast == general, variant
    fast, general = decode_both(lines)
    assert fast == general
    # the cases cover every outcome of a single-part sentence
    assert reasons(fast[0]).keys() >= {"decode_error", "no_position", "bad_position", "garbled"}
    details = {q.detail for q in fast[0] if isinstance(q, Quarantined)}
    assert "empty payload" in details
    assert any(d.startswith("UnknownPartNoException: ") for d in details)
    assert any(d.startswith("UnknownMessageException: ") for d in details)


def test_fast_paths_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain lines are decoded whole by the line fast path; single-part sentences with metadata
    or a richer tag block by the sentence fast path; neither builds a generic AISSentence."""
    from apps.elements.domain import nmea

    def not_here(*args: object) -> None:
        raise AssertionError(f"slower path taken for {args!r}")

    plain = [*GOOD, tag_block("c:1700000000") + GOOD[0], tag_block("c:1700000000123") + GOOD[1]]
    plain += _single_part_edge_cases()[:9]
    other = [GOOD[2] + ",r003669946,1325394001", tag_block("s:r3669961,c:1700000000") + GOOD[3]]
    expected, _ = decode_all(plain + other, fast_path=False)
    monkeypatch.setattr(nmea, "AISSentence", not_here)
    out, dec = decode_all(other)
    assert out == expected[-2:] and dec.stats.internal_errors == 0
    monkeypatch.setattr(AisStreamDecoder, "_line", not_here)
    monkeypatch.setattr(AisStreamDecoder, "_sentence", not_here)
    out, dec = decode_all(plain)
    assert out == expected[:-2]
    assert dec.stats.internal_errors == 0 and dec.stats.fixes == len(GOOD) + 2 + 6  # types 1-3, 18, 19, 27


TAG_BLOCK_VARIANTS = [
    "",
    tag_block("c:1700000000"),
    tag_block("c:1700000000123"),
    tag_block("c:1"),
    tag_block("c:99999999999"),
    tag_block("c:9999999999999"),
    tag_block("c:"),
    tag_block("c:-5"),
    tag_block("c:1700000000.5"),
    tag_block("s:r3669961,c:1700000000"),
    tag_block("g:1-1-5,c:1700000000"),
    "\\c:1700000000*00\\",  # checksum mismatch
    "\\c:1700000000*" + nmea_checksum("c:1700000000").lower() + "\\",
    "\\c:1700000001*" + nmea_checksum("c:1700000001").lstrip("0") + "\\",  # one-digit checksum
    "\\c:1700000000\\",
]


@pytest.mark.parametrize("tb", TAG_BLOCK_VARIANTS)
def test_fast_path_equals_general_path_with_tag_blocks_and_headers(tb: str) -> None:
    gatehouse = read_lines("pyais_timestamped.ais")[0]
    lines = [tb + GOOD[0], gatehouse, tb + GOOD[1], gatehouse, GOOD[2], tb + GOOD[3]]
    lines += [tb + line for line in _single_part_edge_cases()]
    fast, general = decode_both(lines)
    assert fast == general
    if tb == "\\c:1700000000*00\\":
        # all but 2 headers, GOOD[2] and the edge case with a DEL, refused at the border first
        assert reasons(fast[0])["bad_tag_block"] == len(lines) - 4
        assert reasons(fast[0])["garbled"] == 1
    if tb == tag_block("c:1700000000"):
        # the tag block's time wins over a $PGHP header, which is used up all the same
        tag_time = datetime.fromtimestamp(1700000000, UTC)
        header_time = datetime(2008, 5, 9, 0, 0, 0, 10000, tzinfo=UTC)
        assert [f.ts for f in fast[0][:4]] == [tag_time, tag_time, header_time, tag_time]


@pytest.mark.parametrize(
    "error, detail",
    [
        (KeyError("broken"), "UnknownMessageException: The message AISSentence<"),
        (MissingPayloadException("broken"), "empty payload"),
        (ValueError("broken"), "ValueError: broken"),
    ],
)
def test_fast_path_reports_pyais_errors_like_the_general_path(
    monkeypatch: pytest.MonkeyPatch, error: Exception, detail: str
) -> None:
    """pyais errors while decoding give the same quarantine records on both paths (a KeyError
    is reported by pyais as an unknown message, with its sentence object)."""
    from pyais.messages import MessageType1

    def broken(cls: type, bv: object) -> None:
        raise error

    monkeypatch.setattr(MessageType1, "_fast_path", classmethod(broken))
    gatehouse = read_lines("pyais_timestamped.ais")[0]  # 2008-05-09 00:00:00.010
    lines = [GOOD[0], tag_block("c:1700000000") + GOOD[0], gatehouse, GOOD[0], gatehouse, GOOD[0] + ",r1,1325394001"]
    fast, general = decode_both(lines)
    assert fast == general
    assert reasons(fast[0]) == Counter({"decode_error": 4})
    assert all(q.detail.startswith(detail) for q in fast[0])
    assert fast[1].sentences == 4 and fast[1].messages == 0
    assert fast[0][2].ts == datetime(2008, 5, 9, 0, 0, 0, 10000, tzinfo=UTC)


#: Lines of the shape the line fast path takes (none of the fixtures has a ``c:``-only tag block).
PLAIN_SHAPED_LINES = [
    *GOOD,
    *(tag_block(f"c:{1700000000 + i}") + line for i, line in enumerate(GOOD)),
    tag_block("c:1700000000123") + GOOD[0],
    read_lines("pyais_timestamped.ais")[0],
]


@settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(mutated_lines(), mutated_lines(PLAIN_SHAPED_LINES)), min_size=1, max_size=10))
def test_fast_path_equals_general_path_on_damaged_real_lines(lines: list[str]) -> None:
    fast, general = decode_both(lines)
    assert fast == general
