"""Production mode end to end: a REAL Celery worker process runs the pipeline (Redis broker,
Redis state, PostgreSQL), and ``ingest_ais`` / ``ingest_positions`` block until the warnings exist."""
from __future__ import annotations

import pytest

from apps.elements.models import IngestRun, StoredFix, Vessel, Warning

from .conftest import ais_lines, landing_fixes, local_night, positions_csv, run_json

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def worker_idle_after(celery_worker_process):
    """Let the worker finish what the warnings set off (enforcement's dispatch after commit)
    before the test database is flushed under it."""
    yield
    import time

    from xiangshan.celery import app

    deadline = time.monotonic() + 90
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        inspect = app.control.inspect(timeout=1.0)
        busy = any((inspect.active() or {}).values()) or any((inspect.reserved() or {}).values())
        quiet = 0 if busy else quiet + 1


def test_ingest_ais_on_a_real_worker_blocks_until_the_warning_exists(celery_worker_process, demo_geo, tmp_path):
    from django.conf import settings

    assert not settings.CELERY_TASK_ALWAYS_EAGER and celery_worker_process is not None
    pier = demo_geo["demo-gt-02"]  # 高塘岛东岙闲置码头 (idle)
    fixes = landing_fixes(pier, vessel_id="412447001", night=local_night(2, 1, 0), stay_min=90, source="ais")
    lines = ais_lines(fixes, static={"mmsi": 412447001, "shipname": "ZHE XIANG YU 7001", "callsign": "BXZ71"})
    lines.insert(10, "!AIVDM,1,1,,A,15NG6V0P01G?cFhE`R2IU?wn28R>,0*00")  # bad checksum among good lines
    path = tmp_path / "landing.nmea"
    path.write_text("\n".join(lines) + "\n")

    totals = run_json("ingest_ais", str(path))

    # the command returned only after the worker had stored, checked and graded everything
    assert totals["fixes"] == len(fixes) and totals["stored"] == len(fixes)
    assert totals["quarantined"] == {"bad_checksum": 1}
    assert totals["warnings_new"] == 1 and not totals["errors"]
    w = Warning.objects.get()
    assert w.kind == "idle_pier_landing" and w.vessels == ["412447001"] and w.geofence_id == pier.pk
    assert StoredFix.objects.count() == len(fixes)
    vessel = Vessel.objects.get(external_id="412447001")
    assert vessel.name == "ZHE XIANG YU 7001" and vessel.registered is False  # static report; unknown vessel
    run = IngestRun.objects.get(pk=totals["run"])
    assert run.status == IngestRun.Status.DONE and run.warnings_new == 1


def test_ingest_positions_on_a_real_worker_with_several_vessels_in_order(celery_worker_process, demo_geo, tmp_path):
    night = local_night(3, 0, 30)
    fixes = []
    for i, code in enumerate(("demo-gt-01", "demo-hp-01", "demo-ds-01", "demo-sp-01")):
        fixes += landing_fixes(demo_geo[code], vessel_id=f"BD-77{i:02d}", night=night, stay_min=75)
    path = tmp_path / "four.csv"
    path.write_text(positions_csv(sorted(fixes, key=lambda f: (f.vessel_id, f.ts))))  # file grouped by vessel

    totals = run_json("ingest_positions", str(path), "--batch-size", "40")  # many slices: ordering matters

    assert totals["stored"] == len(fixes) == totals["detected"]
    assert totals["batches"] > 10 and not totals["errors"]
    landings = Warning.objects.filter(kind="idle_pier_landing")
    assert sorted(v for w in landings for v in w.vessels) == ["BD-7700", "BD-7701", "BD-7702", "BD-7703"]
    assert all(w.evidence["details"]["dwell_min"] >= 70 for w in landings)
