"""The clean border end to end: ``ingest_ais`` on hostile files keeps every good line and
makes no fix from a corrupted one; a non-UTF-8 byte loses only its own line."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from apps.elements.domain.model import PositionFix
from apps.elements.models import COORD_SCALE, IngestRun, QuarantineRecord, StoredFix

from .conftest import ais_lines, run_json

pytestmark = pytest.mark.django_db

RECEIVED = "2026-11-25T10:00:00+00:00"
GOOD = 1_000
MUTATED = 10_000
FOUR_MB = 4 * 1024 * 1024


def test_one_non_utf8_byte_loses_only_its_line(tmp_path):
    """The issue's repro: this crashed the first quarantine write and left the run ``running``."""
    path = tmp_path / "m.nmea"
    path.write_bytes(b"\\c:1772986080*55\\!AIVDM,1,1,,A,169EEh@P1J8h>=@@P2Mbt001P000,0*20\n\xff\xfe x\n")
    totals = run_json("ingest_ais", str(path), "--received-at", RECEIVED)
    run = IngestRun.objects.get(pk=totals["run"])
    assert run.status == IngestRun.Status.DONE and run.stored == 1 == StoredFix.objects.count()
    (q,) = QuarantineRecord.objects.filter(run=run)
    assert q.reason == "garbled" and q.raw == "\\xff\\xfe x"


def _good_fixes() -> list[PositionFix]:
    """Ten vessels sailing east off the coast, one fix a minute each (no warnings expected)."""
    t0 = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    return [
        PositionFix("ais", str(413_000_100 + v), t0 + timedelta(minutes=i), 122.5 + 0.002 * i, 29.0 + 0.05 * v, 6.0, 90.0)
        for v in range(10)
        for i in range(GOOD // 10)
    ]


def _mutate(rng: random.Random, line: bytes) -> bytes:
    """A corrupted copy of a good line: every copy holds a byte outside printable ASCII."""
    pos = rng.randrange(1, len(line))
    kind = rng.randrange(7)
    if kind == 0:  # NUL: invisible to the XOR checksum
        return line[:pos] + b"\x00" + line[pos:]
    if kind == 1:  # NUL inside the tag block, before its time
        return line.replace(b"c:", b"c:\x00", 1)
    if kind == 2:  # another control byte (no line ends: they would make two lines)
        return line[:pos] + bytes([rng.choice([*range(1, 9), 11, 12, *range(14, 32), 127])]) + line[pos:]
    if kind == 3:  # bytes that are not UTF-8, or UTF-8 that is not ASCII
        return line[:pos] + rng.choice([b"\xff", b"\xfe\xff", b"\x80", b"\xc3\xa9", b"\xe6\xb5\x99"]) + line[pos:]
    if kind == 4:  # a trailing control byte
        return line + b"\x01"
    if kind == 5:  # a byte replaced by a random high byte
        return line[:pos] + bytes([rng.randrange(128, 256)]) + line[pos + 1 :]
    # several kinds at once
    return b"\x00" + line[:pos] + b"\xff\x1b" + line[pos:]


def _hostile_file(path, rng: random.Random) -> list[bytes]:
    good = [ln.encode("ascii") for ln in ais_lines(_good_fixes())]
    assert len(good) == GOOD
    mutated = [_mutate(rng, rng.choice(good)) for _ in range(MUTATED - 4)]
    # very long lines: a good line buried in 4 MB of noise, 4 MB of printable text, 100 KB of NULs
    mutated += [
        good[7] + bytes(rng.randrange(256) for _ in range(1024)).replace(b"\n", b"").replace(b"\r", b"") * (FOUR_MB // 1024),
        b"!AIVDM," + b"A" * FOUR_MB + good[8][-5:],
        good[9][:30] + b"\x00" * 100_000 + good[9][30:],
        good[10] + b" " * 10 + b"\x7f" * FOUR_MB,
    ]
    lines = good + mutated
    rng.shuffle(lines)
    with open(path, "wb") as fh:
        for ln in lines:
            fh.write(ln + rng.choice([b"\n", b"\r\n"]))
    return good


def test_a_fuzzed_file_keeps_every_good_line_and_makes_no_fix_from_a_mutated_one(tmp_path):
    path = tmp_path / "fuzzed.nmea"
    _hostile_file(path, random.Random(12))

    totals = run_json("ingest_ais", str(path), "--received-at", RECEIVED)

    run = IngestRun.objects.get(pk=totals["run"])
    assert run.status == IngestRun.Status.DONE
    assert totals["read"] == GOOD + MUTATED
    # every mutated line refused at the border, none decoded; every good line kept
    assert totals["quarantined"] == {"garbled": MUTATED}
    assert QuarantineRecord.objects.filter(run=run, reason="garbled").count() == MUTATED
    assert totals["fixes"] == GOOD and run.stored == GOOD
    stored = {
        (f.vessel.external_id, f.ts.astimezone(UTC), f.lon_e7, f.lat_e7)
        for f in StoredFix.objects.select_related("vessel")
    }
    want = {
        (f.vessel_id, f.ts, round(f.lon * COORD_SCALE), round(f.lat * COORD_SCALE)) for f in _good_fixes()
    }
    assert len(stored) == GOOD
    # same vessels and times; positions as AIS carries them (1/10000 minute)
    assert {k[:2] for k in stored} == {k[:2] for k in want}
    by_key = {k[:2]: k[2:] for k in want}
    assert all(abs(lon - by_key[(v, t)][0]) < 20 and abs(lat - by_key[(v, t)][1]) < 20 for v, t, lon, lat in stored)
    # stored safely: escaped, no NUL, cut to a readable length
    raws = QuarantineRecord.objects.filter(run=run).values_list("raw", flat=True)
    assert all("\x00" not in r and len(r) <= 1100 for r in raws)
    assert sum("\\x00" in r for r in raws) > 1000
