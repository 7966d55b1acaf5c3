"""Beidou/generic position batches and checkpoint captures."""
from __future__ import annotations

import json
import math
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from apps.elements.domain.model import PositionFix, Quarantined, VehicleCapture
from apps.elements.domain.positions import (
    format_fix_csv,
    iter_positions_csv,
    normalise_plate,
    parse_captures_csv,
    parse_positions,
    parse_positions_csv,
    parse_positions_json,
    parse_timestamp,
)
from tests.elements.domain.suez_fixture import HEADER, suez_as_batch

CST = timezone(timedelta(hours=8))


def reasons(items: list) -> list[str]:
    return [i.reason for i in items if isinstance(i, Quarantined)]


def fixes(items: list) -> list[PositionFix]:
    return [i for i in items if isinstance(i, PositionFix)]


# ---------------------------------------------------------------------- CSV accepted


def test_csv_row_with_beijing_time_becomes_utc() -> None:
    text = f"{HEADER}\nbeidou,BD-0412,2021-06-01T02:15:30+08:00,29.4768,121.9621,6.5,182.0\n"
    (fix,) = parse_positions_csv(text)
    assert fix == PositionFix("beidou", "BD-0412", datetime(2021, 5, 31, 18, 15, 30, tzinfo=UTC), 121.9621, 29.4768, 6.5, 182.0)
    assert fix.ts.tzinfo is UTC


@pytest.mark.parametrize(
    "stamp, expected",
    [
        ("2021-06-01T02:15:30Z", datetime(2021, 6, 1, 2, 15, 30, tzinfo=UTC)),
        ("2021-06-01 02:15:30+0800", datetime(2021, 5, 31, 18, 15, 30, tzinfo=UTC)),
        ("2021-06-01T02:15:30.250-03:00", datetime(2021, 6, 1, 5, 15, 30, 250000, tzinfo=UTC)),
        ("20210601T021530+08:00", datetime(2021, 5, 31, 18, 15, 30, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(stamp: str, expected: datetime) -> None:
    assert parse_timestamp(stamp) == expected
    (fix,) = parse_positions_csv(f"{HEADER}\nbeidou,1,{stamp},29.5,121.9,,\n")
    assert fix.ts == expected


def test_empty_sog_cog_are_none_and_cog_is_normalised() -> None:
    text = f"{HEADER}\nbeidou,1,2021-06-01T00:00:00Z,29.5,121.9,,\nbeidou,1,2021-06-01T00:01:00Z,29.5,121.9,0,360\nbeidou,1,2021-06-01T00:02:00Z,29.5,121.9,3,-90\n"
    a, b, c = parse_positions_csv(text)
    assert (a.sog_kn, a.cog_deg) == (None, None)
    assert (b.sog_kn, b.cog_deg) == (0.0, 0.0)
    assert c.cog_deg == 270.0


def test_bom_blank_lines_crlf_and_bytes() -> None:
    body = f"{HEADER}\r\n\r\nbeidou,1,2021-06-01T08:00:00+08:00,29.5,121.9,1,2\r\n   \r\n,,,,,,\r\nbeidou,2,2021-06-01T08:00:00+08:00,29.6,122.0,,\r\n"
    for data in ("\ufeff" + body, ("\ufeff" + body).encode("utf-8"), body.encode("utf-8")):
        out = parse_positions_csv(data)
        assert [f.vessel_id for f in out] == ["1", "2"], data
        assert all(f.ts == datetime(2021, 6, 1, tzinfo=UTC) for f in out)


def test_gbk_bytes_with_chinese_vessel_names() -> None:
    text = f"{HEADER}\n北斗,浙象渔01234,2021-06-01T08:00:00+08:00,29.5,121.9,,\n"
    (fix,) = parse_positions_csv(text.encode("gbk"))
    assert fix.vessel_id == "浙象渔01234" and fix.source == "北斗"


def test_column_order_extra_columns_and_case() -> None:
    text = "LON,Lat,timestamp,Vessel_ID,source,remark\n121.9,29.5,2021-06-01T00:00:00Z,77,Beidou,晚上靠岸\n"
    (fix,) = parse_positions_csv(text)
    assert (fix.source, fix.vessel_id, fix.lon, fix.lat) == ("beidou", "77", 121.9, 29.5)
    assert fix.sog_kn is None


def test_headerless_csv_uses_canonical_order() -> None:
    text = "beidou,1,2021-06-01T00:00:00Z,29.5,121.9,4,5\nbeidou,2,2021-06-01T00:00:00Z,29.6,121.8,,\n"
    assert [f.vessel_id for f in parse_positions_csv(text)] == ["1", "2"]


def test_default_source_fills_missing_source() -> None:
    text = "vessel_id,timestamp,lat,lon\n1,2021-06-01T00:00:00Z,29.5,121.9\n"
    (fix,) = parse_positions_csv(text, default_source="beidou")
    assert fix.source == "beidou"
    (q,) = parse_positions_csv(text)
    assert q.reason == "missing_field" and "source" in q.detail


def test_quoted_cells() -> None:
    text = f'{HEADER}\n"beidou","ZHE, 12",2021-06-01T00:00:00Z,"29.5","121.9",,\n'
    (fix,) = parse_positions_csv(text)
    assert fix.vessel_id == "ZHE, 12"


# ---------------------------------------------------------------------- CSV refused


@pytest.mark.parametrize(
    "row, reason",
    [
        (",1,2021-06-01T00:00:00Z,29.5,121.9,,", "missing_field"),
        ("beidou,,2021-06-01T00:00:00Z,29.5,121.9,,", "missing_field"),
        ("beidou,1,,29.5,121.9,,", "missing_field"),
        ("beidou,1,2021-06-01T00:00:00Z,,121.9,,", "missing_field"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5", "missing_field"),
        ("beidou,1,2021-06-01 08:00:00,29.5,121.9,,", "bad_timestamp"),  # naive
        ("beidou,1,2021-06-01,29.5,121.9,,", "bad_timestamp"),  # naive date
        ("beidou,1,01/06/2021 08:00,29.5,121.9,,", "bad_timestamp"),
        ("beidou,1,2021-13-01T00:00:00Z,29.5,121.9,,", "bad_timestamp"),
        ("beidou,1,1622505600,29.5,121.9,,", "bad_timestamp"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5N,121.9,,", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,\"29,5\",121.9,,", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,121.9,fast,", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,121.9,-1,", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,121.9,nan,", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,121.9,,inf", "bad_number"),
        ("beidou,1,2021-06-01T00:00:00Z,91,121.9,,", "bad_position"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,-180.5,,", "bad_position"),
        ("beidou,1,2021-06-01T00:00:00Z,NaN,121.9,,", "bad_position"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,nan,,", "bad_position"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,inf,,", "bad_position"),
        ("beidou,1,2021-06-01T00:00:00Z,29.5,121.9,1,2,surprise", "garbled"),
    ],
)
def test_refused_rows_keep_good_neighbours(row: str, reason: str) -> None:
    good1 = "beidou,A,2021-06-01T00:00:00Z,29.5,121.9,,"
    good2 = "beidou,B,2021-06-01T00:05:00Z,29.6,121.8,3.5,10"
    out = parse_positions_csv(f"{HEADER}\n{good1}\n{row}\n{good2}\n")
    assert [type(i).__name__ for i in out] == ["PositionFix", "Quarantined", "PositionFix"]
    q = out[1]
    assert q.reason == reason and q.raw == row, q.detail
    assert q.source == ("beidou" if row.startswith("beidou") else "positions")


def test_missing_column_in_header_refuses_every_row() -> None:
    out = parse_positions_csv("source,vessel_id,timestamp,lat\nbeidou,1,2021-06-01T00:00:00Z,29.5\n")
    (q,) = out
    assert q.reason == "missing_field" and "lon" in q.detail


def test_empty_inputs() -> None:
    assert parse_positions_csv("") == []
    assert parse_positions_csv("\ufeff\n\n") == []
    assert parse_positions_csv(HEADER + "\n") == []
    assert parse_positions_json("[]") == []


# ---------------------------------------------------------------------- JSON


def test_json_batch() -> None:
    doc = [
        {"source": "beidou", "vessel_id": 4120001, "timestamp": "2021-06-01T08:00:00+08:00", "lat": 29.5, "lon": 121.9, "sog": 5, "cog": None},
        {"source": "beidou", "vessel_id": "4120002", "timestamp": "2021-06-01T08:00:00+08:00", "lat": "29.6", "lon": "121.8", "sog": "", "cog": "45.5"},
        {"source": "beidou", "vessel_id": "x", "timestamp": "2021-06-01T08:00:00", "lat": 29.6, "lon": 121.8},
        {"source": "beidou", "vessel_id": "x", "timestamp": "2021-06-01T08:00:00Z", "lat": True, "lon": 121.8},
        {"source": "beidou", "vessel_id": "x", "timestamp": "2021-06-01T08:00:00Z", "lon": 121.8},
        {"source": "beidou", "vessel_id": "x", "timestamp": 1622505600, "lat": 29.6, "lon": 121.8},
        ["not", "an", "object"],
        {"Source ": "beidou", "VESSEL_ID": "y", "timestamp": "2021-06-01T00:00:00Z", "lat": 1, "lon": 2},
    ]
    out = parse_positions_json(json.dumps(doc))
    a, b = out[0], out[1]
    assert a == PositionFix("beidou", "4120001", datetime(2021, 6, 1, tzinfo=UTC), 121.9, 29.5, 5.0, None)
    assert (b.vessel_id, b.lat, b.sog_kn, b.cog_deg) == ("4120002", 29.6, None, 45.5)
    assert reasons(out) == ["bad_timestamp", "bad_number", "missing_field", "bad_timestamp", "garbled"]
    assert out[-1].vessel_id == "y"
    refused = [i for i in out if isinstance(i, Quarantined)]
    assert json.loads(refused[0].raw) == doc[2]


def test_json_nan_literal_and_bytes_with_bom() -> None:
    text = '[{"source":"beidou","vessel_id":"1","timestamp":"2021-06-01T00:00:00Z","lat":NaN,"lon":121.9},' \
        '{"source":"beidou","vessel_id":"2","timestamp":"2021-06-01T00:00:00Z","lat":29.5,"lon":121.9}]'
    out = parse_positions_json(("\ufeff" + text).encode("utf-8"))
    assert reasons(out) == ["bad_position"]
    assert fixes(out)[0].vessel_id == "2"


def test_invalid_json_is_one_garbled_record() -> None:
    (q,) = parse_positions_json('[{"source": "beidou", ')
    assert q.reason == "garbled" and q.raw.startswith("[{")
    (q,) = parse_positions_json('"just a string"')
    assert q.reason == "garbled"


def test_parse_positions_sniffs_format() -> None:
    csv_text = f"{HEADER}\nbeidou,1,2021-06-01T00:00:00Z,29.5,121.9,,\n"
    json_text = ' \n[{"source":"beidou","vessel_id":"1","timestamp":"2021-06-01T00:00:00Z","lat":29.5,"lon":121.9}]'
    assert parse_positions(csv_text) == parse_positions(json_text)


def test_format_fix_csv_round_trip() -> None:
    fix = PositionFix("beidou", 'ZHE "X", 1', datetime(2021, 6, 1, 1, 2, 3, 456000, tzinfo=UTC), 121.123456789, -29.5, None, 12.25)
    (back,) = parse_positions_csv(HEADER + "\n" + format_fix_csv(fix))
    assert back == fix


# ---------------------------------------------------------------------- real data: Suez AIS positions


def test_suez_real_positions_all_accepted_and_in_utc() -> None:
    text, expected = suez_as_batch(timezone(timedelta(hours=2)))  # Egypt, March 2021
    out = parse_positions_csv(text.encode("utf-8"))
    assert len(out) == 22_287
    assert reasons(out) == []
    assert [f.ts for f in out] == expected
    assert len({f.vessel_id for f in out}) == 256
    assert all(31.0 < f.lon < 33.5 and 29.0 < f.lat < 32.0 for f in out)


def test_iter_positions_csv_is_lazy() -> None:
    text, _ = suez_as_batch(CST)
    it = iter_positions_csv(text)
    first = next(it)
    assert isinstance(first, PositionFix) and first.ts == datetime(2021, 3, 20, 0, 22, tzinfo=UTC)


# ---------------------------------------------------------------------- checkpoint captures

CAP_HEADER = "checkpoint_id,plate,timestamp,lat,lon"


def test_captures() -> None:
    text = "\n".join(
        [
            "\ufeff" + CAP_HEADER,
            "KK-GT-01,浙B·12345,2021-06-01T02:10:00+08:00,29.2361,122.0420",
            "KK-GT-01,浙b 6789x,2021-06-01T02:11:00+08:00,,",
            "KK-HP-03,,2021-06-01T02:12:00+08:00,29.1,121.9",
            "KK-HP-03,浙B11111,2021-06-01 02:12:00,29.1,121.9",
            "KK-HP-03,浙B22222,2021-06-01T02:12:00+08:00,29.1,",
            "KK-HP-03,浙B33333,2021-06-01T02:12:00+08:00,95,121.9",
            "KK-HP-03,浙B44444,2021-06-01T02:12:00+08:00,29.1,east",
            ",浙B55555,2021-06-01T02:12:00+08:00,29.1,121.9",
        ]
    )
    out = parse_captures_csv(text.encode("utf-8"))
    a, b = out[0], out[1]
    assert a == VehicleCapture("KK-GT-01", "浙B12345", datetime(2021, 5, 31, 18, 10, tzinfo=UTC), 122.042, 29.2361)
    assert b == VehicleCapture("KK-GT-01", "浙B6789X", datetime(2021, 5, 31, 18, 11, tzinfo=UTC), None, None)
    assert reasons(out) == ["missing_field", "bad_timestamp", "missing_field", "bad_position", "bad_number", "missing_field"]
    assert all(q.source == "checkpoint" for q in out if isinstance(q, Quarantined))


def test_normalise_plate() -> None:
    assert normalise_plate(" 浙b·A1234 ") == "浙BA1234"
    assert normalise_plate("浙B-12345") == "浙B12345"
    assert normalise_plate("浙B\u300012345") == "浙B12345"


def test_nan_never_leaks() -> None:
    out = parse_positions_csv(f"{HEADER}\nbeidou,1,2021-06-01T00:00:00Z,29.5,121.9,NaN,NaN\n")
    assert reasons(out) == ["bad_number"]
    good = parse_positions_csv(f"{HEADER}\nbeidou,1,2021-06-01T00:00:00Z,29.5,121.9,1e3,720.5\n")
    (fix,) = good
    assert not math.isnan(fix.sog_kn) and fix.cog_deg == pytest.approx(0.5)
    assert Counter(type(i).__name__ for i in good) == Counter({"PositionFix": 1})
