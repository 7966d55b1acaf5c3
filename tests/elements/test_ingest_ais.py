"""``ingest_ais`` on the real captures in tests/fixtures/ais: what is stored, what is refused, and why."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from apps.elements.domain.model import PositionFix, Quarantined, StaticReport
from apps.elements.domain.nmea import AisStreamDecoder
from apps.elements.models import COORD_SCALE, IngestRun, QuarantineRecord, StoredFix, Vessel

from .conftest import AIS, run_json

pytestmark = pytest.mark.django_db

RECEIVED = "2026-11-25T10:00:00+00:00"
SANITY_REASONS = {"speed_jump", "impossible_time"}


def decode(path):
    """The decoder's own output for a file (the reference the stored rows are compared with)."""
    d = AisStreamDecoder()
    out = []
    for line in open(path, encoding="utf-8", errors="surrogateescape"):
        out += d.feed(line, datetime.fromisoformat(RECEIVED))
    out += d.flush()
    return out


def stored_keys() -> dict[tuple[str, datetime], StoredFix]:
    return {(f.vessel.external_id, f.ts.astimezone(UTC)): f for f in StoredFix.objects.select_related("vessel")}


@pytest.mark.parametrize(
    "name",
    ["libais_tagblock.nmea", "libais_test.aivdm", "libais_typeexamples.nmea", "pyais_messages.ais",
     "pyais_mixed.txt", "pyais_nmea_data_sample.txt", "pyais_timestamped.ais", "pyais_ais_test_messages"],
)
def test_every_decoded_fix_is_stored_once_or_quarantined_with_its_reason(name):
    items = decode(AIS / name)
    fixes = [i for i in items if isinstance(i, PositionFix)]
    refused = Counter(i.reason for i in items if isinstance(i, Quarantined))

    totals = run_json("ingest_ais", str(AIS / name), "--received-at", RECEIVED)

    assert totals["fixes"] == len(fixes)
    assert totals["static_reports"] == sum(isinstance(i, StaticReport) for i in items)
    # decode-stage refusals: same reasons and counts as the decoder, kept with the raw line
    run = IngestRun.objects.get(pk=totals["run"])
    in_db = Counter(QuarantineRecord.objects.filter(run=run).values_list("reason", flat=True))
    assert {r: n for r, n in in_db.items() if r not in SANITY_REASONS} == dict(refused)
    assert all(q.raw for q in QuarantineRecord.objects.filter(run=run))
    # every fix is accounted for: stored, a duplicate of a stored one, or refused as implausible
    sanity = sum(n for r, n in in_db.items() if r in SANITY_REASONS)
    assert totals["accepted"] + sanity == len(fixes)
    assert totals["stored"] + totals["duplicates"] == totals["accepted"]
    assert StoredFix.objects.count() == totals["stored"] == run.stored
    # the stored rows are exactly the decoder's fixes (same vessel, time and position), each once
    rows = stored_keys()
    by_key: dict = {}
    for f in fixes:
        by_key.setdefault((f.vessel_id, f.ts), set()).add((round(f.lon * COORD_SCALE), round(f.lat * COORD_SCALE)))
    assert set(rows) <= set(by_key)
    assert len(rows) == len(by_key) - _keys_only_refused(run, fixes, rows)
    for key, row in rows.items():
        assert (row.lon_e7, row.lat_e7) in by_key[key]


def _keys_only_refused(run, fixes, rows) -> int:
    """(vessel, time) keys none of whose fixes were stored: all refused as implausible."""
    refused = set()
    for raw in QuarantineRecord.objects.filter(run=run, reason__in=SANITY_REASONS).values_list("raw", flat=True):
        _src, vid, ts, *_ = raw.split(",")
        refused.add((vid, datetime.fromisoformat(ts)))
    return len({k for k in refused if k not in rows})


def test_the_same_file_twice_stores_nothing_new_and_counts_duplicates():
    first = run_json("ingest_ais", str(AIS / "libais_test.aivdm"))
    assert first["stored"] > 20
    again = run_json("ingest_ais", str(AIS / "libais_test.aivdm"))
    assert again["stored"] == 0
    assert again["duplicates"] == first["stored"]
    assert StoredFix.objects.count() == first["stored"]


def test_repeated_lines_inside_a_file_are_stored_once():
    # pyais_messages.ais repeats the same vessel reports: 6 fixes, 3 distinct (vessel, time)
    totals = run_json("ingest_ais", str(AIS / "pyais_messages.ais"), "--received-at", RECEIVED)
    assert totals["fixes"] == 6
    assert totals["stored"] == 3 and StoredFix.objects.count() == 3
    assert totals["duplicates"] == 3


def test_positions_match_the_independent_libais_decodes():
    run_json("ingest_ais", str(AIS / "libais_tagblock.nmea"))
    expected = [json.loads(line) for line in (AIS / "libais_tagblock.json").read_text().splitlines() if line.strip()]
    rows = stored_keys()
    checked = 0
    for exp in expected:
        if exp.get("type") not in (1, 2, 3, 18):
            continue
        ts = datetime.fromisoformat(exp["tagblock_timestamp"].replace("Z", "+00:00"))
        row = rows[(str(exp["mmsi"]), ts)]  # the tag block's c: time, not the receive time
        # the expected decodes are float32 (about 1.5e-5 degree at lon 161): compare to 3e-5 (about 3 m)
        assert abs(row.lon - exp["lon"]) < 3e-5 and abs(row.lat - exp["lat"]) < 3e-5
        assert abs(row.sog_kn - exp["speed"]) < 0.051
        checked += 1
    assert checked >= 2


def test_positions_match_the_libais_type_examples_and_out_of_range_ones_are_refused():
    totals = run_json("ingest_ais", str(AIS / "libais_typeexamples.nmea"))
    expected = [json.loads(line) for line in (AIS / "libais_typeexamples.json").read_text().splitlines() if line.strip()]
    by_mmsi: dict[str, list] = {}
    for row in StoredFix.objects.select_related("vessel"):
        by_mmsi.setdefault(row.vessel.external_id, []).append(row)
    compared = refused = 0
    for exp in expected:
        if exp.get("type") not in (1, 2, 3, 18, 19, 27) or "lon" not in exp:
            continue
        lon, lat = exp["lon"], exp["lat"]
        rows = by_mmsi.get(str(exp["mmsi"]), [])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            assert rows == []  # impossible position: quarantined, not stored
            refused += 1
            continue
        if lon == 181 or lat == 91:
            continue  # "not available"
        assert len(rows) == 1
        assert abs(rows[0].lon - lon) < 3e-5 and abs(rows[0].lat - lat) < 3e-5
        compared += 1
    assert compared >= 3 and refused == 2
    assert totals["quarantined"]["bad_position"] == 2


def test_static_reports_keep_the_registry_current_and_unknown_vessels_are_registered_as_unknown():
    run_json("ingest_ais", str(AIS / "libais_typeexamples.nmea"))
    expected = [json.loads(line) for line in (AIS / "libais_typeexamples.json").read_text().splitlines() if line.strip()]
    type5 = next(e for e in expected if e.get("type") == 5)
    vessel = Vessel.objects.get(source="ais", external_id=str(type5["mmsi"]))
    assert vessel.name == type5["shipname"].strip("@ ").strip()
    assert vessel.callsign == type5["callsign"].strip("@ ").strip()
    assert vessel.ship_type == type5["shiptype"]
    moving = Vessel.objects.exclude(last_seen=None)
    assert moving.exists() and not moving.filter(registered=True).exists()  # not in the registry: unknown


def test_garbled_bad_checksum_and_orphan_lines_are_quarantined_and_the_good_lines_around_them_kept(tmp_path):
    good, seen = [], set()
    for ln in (AIS / "libais_test.aivdm").read_text().splitlines():  # single-sentence position reports
        out = AisStreamDecoder().feed(ln, datetime.fromisoformat(RECEIVED)) if ln.startswith("!AIVDM,1,1") else []
        if len(out) == 1 and isinstance(out[0], PositionFix) and out[0].vessel_id not in seen:
            seen.add(out[0].vessel_id)
            good.append(ln)
    a, b, c = good[0], good[1], good[2]
    star = a.index("*")
    wrong = "%02X" % (int(a[star + 1 : star + 3], 16) ^ 0x5A)
    bad_checksum = a[: star + 1] + wrong + a[star + 3 :]
    body = "AIVDM,2,2,7,A,00000000008,2"
    orphan = f"!{body}*{_checksum(body)}"  # a valid second part whose first part never came
    garbled = "AIVDM 1 1 A 15B4FT5000JRP>PE6E68Nbkl0PS5 ###"
    path = tmp_path / "mixed.nmea"
    path.write_text("\n".join([a, bad_checksum, b, garbled, orphan, c]) + "\n")
    expected = [i for i in decode(path) if isinstance(i, PositionFix)]

    totals = run_json("ingest_ais", str(path), "--received-at", RECEIVED)

    reasons = dict(QuarantineRecord.objects.filter(run_id=totals["run"]).values_list("reason", "raw"))
    assert reasons["bad_checksum"] == bad_checksum
    assert reasons["garbled"] == garbled
    assert reasons["orphan_fragment"] == orphan
    stored = {f.vessel.external_id for f in StoredFix.objects.select_related("vessel")}
    assert stored == {f.vessel_id for f in expected} and len(expected) == 3
    assert totals["quarantined"] == {"bad_checksum": 1, "garbled": 1, "orphan_fragment": 1}


def _checksum(body: str) -> str:
    x = 0
    for ch in body.encode():
        x ^= ch
    return f"{x:02X}"
