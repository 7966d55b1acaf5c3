"""Stored fixes: compact, partitioned by day on PostgreSQL, retention; tide tables and constants."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.elements import fixstore, services
from apps.elements.domain.model import PositionFix
from apps.elements.models import StoredFix, TideEventRecord, TideStation

from .conftest import GEODATA

pytestmark = pytest.mark.django_db


def _store(vessel_id: str, times: list[datetime]) -> int:
    from apps.elements.convert import fix_to_wire

    fixes = [fix_to_wire(PositionFix("beidou", vessel_id, t, 121.8 + i * 1e-4, 29.0, 3.0, 90.0)) for i, t in enumerate(times)]
    return services.fix_batch_store(run_id=None, partition=0, fixes=fixes)["stored"]


def _partitions() -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                    "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'elements_fix'")
        return {r[0] for r in cur.fetchall()}


def test_fixes_go_to_daily_partitions_and_retention_drops_old_days(settings):
    if connection.vendor != "postgresql":
        pytest.skip("partitions are a PostgreSQL feature; SQLite keeps a plain table")
    now = timezone.now().replace(microsecond=0)
    old = now - timedelta(days=200)
    recent = now - timedelta(days=2)
    assert _store("BD-R1", [old, old + timedelta(minutes=1), recent, recent + timedelta(minutes=1)]) == 4
    old_part = f"elements_fix_p{old.astimezone(UTC):%Y%m%d}"
    new_part = f"elements_fix_p{recent.astimezone(UTC):%Y%m%d}"
    assert {old_part, new_part, "elements_fix_default"} <= _partitions()
    with connection.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{old_part}"')
        assert cur.fetchone()[0] == 2
        cur.execute('SELECT count(*) FROM "elements_fix_default"')
        assert cur.fetchone()[0] == 0  # nothing fell through to the default partition

    settings.FIX_RETENTION_DAYS = 180
    from apps.elements.tasks import fix_retention

    result = fix_retention.delay().get()
    assert result["partitions_dropped"] >= 1
    assert old_part not in _partitions() and new_part in _partitions()
    assert sorted(StoredFix.objects.values_list("ts", flat=True)) == [recent, recent + timedelta(minutes=1)]
    assert fixstore.table_size_bytes() > 0


def test_retention_on_rows_outside_day_partitions(settings):
    now = timezone.now().replace(microsecond=0)
    _store("BD-R2", [now - timedelta(days=10), now - timedelta(hours=1)])
    result = services.fix_retention_apply(days=5)
    assert StoredFix.objects.count() == 1
    assert result["partitions_dropped"] + result["rows_deleted"] >= 1


def test_the_same_fix_twice_is_one_row():
    t = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    assert _store("BD-R3", [t, t]) == 1
    assert _store("BD-R3", [t]) == 0
    assert StoredFix.objects.count() == 1


def test_import_tide_table_keeps_good_rows_and_reports_bad_ones(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text(
        "# official table, test copy\n"
        "station,timestamp,height_m,kind\n"
        "shipu,2026-12-01T02:10+08:00,4.61,高潮\n"
        "shipu,2026-12-01T08:31+08:00,0.82,低潮\n"
        "shipu,2026-12-01T14:40,4.4,high\n"  # no zone
        "shipu,2026-12-01T20:55+08:00,lots,low\n"
        "shipu,2026-12-01T14:40+08:00,4.42,high\n"
    )
    out = io.StringIO()
    call_command("import_tide_table", str(path), "--default", stdout=out)
    text = out.getvalue()
    assert "created: 3" in text and "refused: 2" in text
    assert "line 5" in text and "line 6" in text
    station = TideStation.objects.get(code="shipu")
    assert station.is_default
    highs = list(TideEventRecord.objects.filter(station=station, kind="high").values_list("ts", flat=True))
    assert datetime(2026, 11, 30, 18, 10, tzinfo=UTC) in highs


def test_harmonic_constants_predict_high_and_low_waters():
    out = io.StringIO()
    call_command("import_tide_table", "--constants", str(GEODATA / "tides" / "kanmen.json"), "--days", "3", stdout=out)
    station = TideStation.objects.get()
    assert station.constants["station_id"] in out.getvalue()
    events = list(TideEventRecord.objects.filter(station=station).order_by("ts"))
    # the command predicts 4 days (yesterday to 3 days ahead): a high or low water every
    # ~6 h 12 min gives 15 or 16 of them, depending on where in the cycle the window starts
    assert 9 <= len(events) <= 16
    kinds = [e.kind for e in events]
    assert all(a != b for a, b in zip(kinds, kinds[1:]))  # highs and lows alternate
    assert all(e.origin == "predicted" for e in events)
