"""Progress of long ingests: the commands' bar / periodic lines, and a run's progress on the API while it runs."""
from __future__ import annotations

import io
import re

import pytest

from apps.elements import ingest
from apps.elements.management.commands._progress import IngestProgress

from .conftest import AIS, landing_fixes, local_night, positions_csv

pytestmark = pytest.mark.django_db


def test_ingest_ais_off_a_terminal_prints_plain_progress_lines_and_a_closing_one():
    from django.core.management import call_command

    err = io.StringIO()
    call_command("ingest_ais", str(AIS / "pyais_nmea_data_sample.txt"), "--progress-every", "0", "--batch-size", "50",
                 stdout=io.StringIO(), stderr=err)
    lines = [ln for ln in err.getvalue().splitlines() if ln.startswith("…")]
    assert len(lines) >= 3, err.getvalue()
    for ln in lines:
        assert re.search(r"[\d,]+ lines read, [\d,]+ fixes processed.*[\d,]+ fixes/s, \d+ warnings", ln), ln
    assert "\r" not in err.getvalue()  # no bar control characters in a log
    assert "done in" in lines[-1]
    # the share and the time left appear once the input's size is known and work has been done
    assert any("%" in ln and "left" in ln for ln in lines[:-1])
    # --no-progress: nothing
    quiet = io.StringIO()
    call_command("ingest_ais", str(AIS / "libais_tagblock.nmea"), "--no-progress", stdout=io.StringIO(), stderr=quiet)
    assert "lines read" not in quiet.getvalue()


def test_on_a_terminal_a_bar_shows_lines_rate_warnings_and_time_left():
    out = io.StringIO()
    bar = IngestProgress(total_bytes=10_000, stream=out, tty=True)
    t = ingest.Totals()
    for step in range(1, 6):
        t.read, t.bytes_read, t.fixes, t.processed, t.warnings_new = 200 * step, 2000 * step, 180 * step, 150 * step, step
        bar(t)
    t.reading_done = True
    bar.close(t)
    text = out.getvalue()
    assert "\r" in text  # a redrawn bar, not lines
    assert "1,000 lines read" in text and "5 warnings" in text
    assert re.search(r"fixes/s", text) and re.search(r"<\d\d:\d\d", text)  # rate and time left


def test_a_runs_progress_is_on_the_api_while_it_runs(api_for, users, demo_geo, tmp_path):
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-77", night=local_night(2))
    seen: list[dict] = []
    client = api_for(users["duty"])

    def during(totals):
        run = client.get("/api/elements/runs/").json()["results"][0]
        seen.append({"status": run["status"], **run["progress"]})

    out = ingest.positions_ingest(data=positions_csv(fixes), name="upload.csv", batch_size=20, progress=during,
                                  actor=users["duty"])
    running = [s for s in seen if s["status"] == "running"]
    assert len(running) >= 3
    assert all(s["fixes_total"] == len(fixes) for s in running)
    done = [s["fixes_done"] for s in running]
    assert done == sorted(done) and 0 < done[0] < len(fixes)
    assert any(0 < s["fraction"] < 1 and s["seconds_left"] is not None for s in running)
    final = client.get(f"/api/elements/runs/{out['run']}/").json()
    assert final["status"] == "done"
    assert final["progress"]["fixes_done"] == final["progress"]["fixes_total"] == len(fixes)
    assert final["progress"]["fraction"] == 1.0 and final["progress"]["seconds_left"] is None
