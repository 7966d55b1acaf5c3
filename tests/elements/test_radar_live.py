"""Radar in production mode: the live ``radar_feed`` (TCP) and ``ingest_radar`` on a REAL Celery worker."""
from __future__ import annotations

import io
import json
import socket
import threading
import time

import pytest
from django.core.management import call_command

from apps.elements.models import IngestRun, Warning
from apps.sources.models import Facility

from .conftest import landing_fixes, local_night, run_command, run_json
from .test_radar_sensors import sensors, ttm_lines  # noqa: F401  (the fixture: radar R2, camera C1, sentinel IR1)

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_radar_feed_over_tcp_turns_ttm_lines_into_a_radar_only_landing(sensors):  # noqa: F811
    pier = sensors["pier"]
    fixes = landing_fixes(pier, vessel_id="x", night=local_night(2, hour=2), stay_min=90)
    lines = ttm_lines(fixes, radar=sensors["radar"], number=5)
    bad = lines[3][:-2] + "00"
    port = _free_port()
    result: dict = {}

    def run():
        out = io.StringIO()
        try:
            call_command("radar_feed", "--tcp-server", str(port), "--bind", "127.0.0.1", "--json",
                         "--flush-seconds", "0.5", "--max-lines", str(len(lines) + 1), "--max-seconds", "120",
                         stdout=out, stderr=io.StringIO())
            result.update(json.loads(out.getvalue()))
        except Exception as exc:  # surfaced below
            result["exception"] = exc
        finally:
            from django.db import connections

            connections.close_all()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=1)
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    conn.sendall(("\r\n".join([*lines[:10], bad, *lines[10:]]) + "\r\n").encode())
    conn.close()
    t.join(150)
    assert not t.is_alive() and "exception" not in result, result
    assert result["stored"] == len(lines) and result["quarantined"] == {"bad_checksum": 1}
    assert IngestRun.objects.get(pk=result["run"]).kind == "radar_feed"
    [w] = Warning.objects.filter(kind="idle_pier_landing")
    assert w.vessels[0].startswith("radar:R2:5@") and w.geofence == pier
    assert Warning.objects.filter(kind="dark_target", vessels=w.vessels).exists()
    assert Facility.objects.get(code="R2").last_data_at is not None


@pytest.mark.live
def test_ingest_radar_on_a_real_worker_raises_landing_and_dark_target(celery_worker_process, sensors, tmp_path):  # noqa: F811
    from django.conf import settings

    from tests.conftest import wait_worker_idle

    assert not settings.CELERY_TASK_ALWAYS_EAGER and celery_worker_process is not None
    pier = sensors["pier"]
    fixes = landing_fixes(pier, vessel_id="x", night=local_night(2, hour=2), stay_min=90)
    path = tmp_path / "radar.nmea"
    path.write_text("\n".join(ttm_lines(fixes, radar=sensors["radar"], number=9)) + "\n")
    try:
        totals = run_json("ingest_radar", str(path))
        assert totals["stored"] == len(fixes) and not totals["errors"]
        exported = json.loads(run_command("export_warnings", "--format", "json"))
        kinds = {e["kind"]: e for e in exported}
        assert {"idle_pier_landing", "dark_target"} <= set(kinds)
        assert kinds["idle_pier_landing"]["vessels"][0].startswith("radar:R2:9@")
        assert kinds["dark_target"]["vessels"] == kinds["idle_pier_landing"]["vessels"]
    finally:
        wait_worker_idle()
