"""``ingest_positions`` (Beidou / generic CSV and JSON) at scale on the real Suez tracks, the
detectors on a landing track at a demo pier, and the shape of ``export_warnings``."""
from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta

import pytest

from apps.elements import state
from apps.elements.models import IngestRun, QuarantineRecord, StoredFix, Vessel, Warning

from .conftest import POSITIONS, landing_fixes, local_night, positions_csv, run_command, run_json

pytestmark = pytest.mark.django_db


def suez_rows() -> list[tuple[str, datetime, float, float]]:
    """The real Suez AIS positions (anonymised ID, dd/mm/yyyy HH:MM UTC) as (id, time, lon, lat)."""
    with open(POSITIONS / "suez_boat_positions_2021.csv", encoding="utf-8-sig", newline="") as fh:
        return [
            (f"suez-{r['ID']}", datetime.strptime(r["ais_pos_timestamp"], "%d/%m/%Y %H:%M").replace(tzinfo=UTC),
             float(r["longitude"]), float(r["latitude"]))
            for r in csv.DictReader(fh)
        ]


def test_the_suez_tracks_at_scale_stored_once_each_and_all_through_the_detectors(tmp_path):
    from apps.elements import services

    # an active anchorage where the queue waited, so gaps and stops meet a geofence
    services.geofence_save(data={"name": "苏伊士南锚地（测试）", "kind": "anchorage", "status": "active", "geometry": {
        "type": "Polygon", "coordinates": [[[32.45, 29.8], [32.65, 29.8], [32.65, 30.0], [32.45, 30.0], [32.45, 29.8]]]}})
    rows = suez_rows()
    path = tmp_path / "suez.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "vessel_id", "timestamp", "lat", "lon", "sog", "cog"])
        for vid, ts, lon, lat in rows:
            w.writerow(["ais", vid, ts.isoformat(), lat, lon, "", ""])
        # bad rows in the middle of good ones
        w.writerow(["ais", "suez-1", "20/03/2021 05:00", 31.4, 32.3, "", ""])
        w.writerow(["ais", "suez-1", "2021-03-20T05:00:00+00:00", 131.4, 32.3, "", ""])
        w.writerow(["ais", "", "2021-03-20T05:00:00+00:00", 31.4, 32.3, "", ""])
        w.writerow(["ais", "suez-2", "2021-03-20T05:00:00", 31.4, 32.3, "", ""])

    totals = run_json("ingest_positions", str(path))

    assert totals["read"] == len(rows) + 4
    assert totals["fixes"] == len(rows)
    assert totals["quarantined"]["bad_timestamp"] == 2  # not ISO 8601 / no time zone
    assert totals["quarantined"]["bad_position"] == 1
    assert totals["quarantined"]["missing_field"] == 1
    keys = {(vid, ts) for vid, ts, _, _ in rows}
    sanity = sum(n for r, n in totals["quarantined"].items() if r in ("speed_jump", "impossible_time"))
    assert totals["accepted"] + sanity == len(rows)
    assert totals["stored"] + totals["duplicates"] == totals["accepted"]
    # each (vessel, time) is stored once, unless every fix of it was refused as implausible
    refused = set()
    for raw in QuarantineRecord.objects.filter(reason__in=("speed_jump", "impossible_time")).values_list("raw", flat=True):
        _src, vid, ts, *_ = raw.split(",")
        refused.add((vid, datetime.fromisoformat(ts)))
    stored_keys = {(vid, ts) for vid, ts in StoredFix.objects.values_list("vessel__external_id", "ts")}
    assert stored_keys == keys - (refused - stored_keys)
    assert StoredFix.objects.count() == totals["stored"] == len(stored_keys)
    assert totals["duplicates"] >= 1  # the file repeats some (vessel, minute) rows
    assert totals["detected"] == totals["stored"]  # every new fix went through the detectors once
    assert Vessel.objects.filter(external_id__startswith="suez-", registered=False).count() == 256
    # the per-vessel state lives in Redis, one key per vessel
    client = state.redis_client()
    assert client is not None
    assert len(list(client.scan_iter(match=state.KEY_PREFIX + "vessel:suez-*", count=1000))) == 256
    run = IngestRun.objects.get(pk=totals["run"])
    assert run.status == IngestRun.Status.DONE and run.stored == totals["stored"]
    assert QuarantineRecord.objects.filter(run=run, reason="bad_position").get().raw.startswith("ais,suez-1,")

    again = run_json("ingest_positions", str(path))
    assert again["stored"] == 0 and again["detected"] == 0
    assert StoredFix.objects.count() == totals["stored"]


def test_a_night_stop_at_an_idle_pier_raises_one_graded_warning_with_its_evidence(demo_geo, tmp_path):
    pier = demo_geo["demo-gt-01"]  # 高塘岛乡 花岙闲置码头 (idle)
    fixes = landing_fixes(pier, vessel_id="BD-7701", night=local_night(2, 1, 0), stay_min=90)
    path = tmp_path / "landing.csv"
    path.write_text(positions_csv(fixes))

    totals = run_json("ingest_positions", str(path))

    assert totals["stored"] == len(fixes) and totals["warnings_new"] == 1
    w = Warning.objects.get()
    assert w.kind == "idle_pier_landing" and w.geofence_id == pier.pk
    assert w.vessels == ["BD-7701"]
    assert w.level in ("red", "orange", "yellow", "blue") and 0 < w.score <= 100
    ev = w.evidence
    assert ev["factors"]["night"] == 1.0 and ev["factors"]["unknown_vessel"] == 1.0  # not in the registry
    assert abs(sum(ev["contributions"].values()) - w.score) < 0.01
    assert ev["rule"]["detector"] == "idle_pier_landing" and ev["rule"]["params"]["min_dwell_min"] == 30.0
    assert ev["details"]["dwell_min"] >= 80
    assert ev["fixes"] and all(f["vessel_id"] == "BD-7701" for f in ev["fixes"])
    # the same stop seen again does not raise a second warning
    assert run_json("ingest_positions", str(path))["warnings_new"] == 0
    assert Warning.objects.count() == 1


def test_a_daytime_stop_and_a_stop_at_an_active_pier_raise_nothing(demo_geo, tmp_path):
    day = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-7702", night=local_night(3, 11, 0), stay_min=90)
    active = landing_fixes(demo_geo["demo-gt-05"], vessel_id="BD-7703", night=local_night(3, 1, 0), stay_min=90)
    path = tmp_path / "quiet.csv"
    path.write_text(positions_csv(day + active))
    totals = run_json("ingest_positions", str(path))
    assert totals["stored"] == len(day) + len(active)
    assert not Warning.objects.filter(kind="idle_pier_landing").exists()


def test_json_batches_are_read_too(demo_geo, tmp_path):
    from apps.elements.domain.pipeline import fix_to_dict

    fixes = landing_fixes(demo_geo["demo-ds-01"], vessel_id="BD-7704", night=local_night(1, 0, 30), stay_min=70)
    rows = [{**{k: v for k, v in fix_to_dict(f).items() if k not in ("sog_kn", "cog_deg", "ts")},
             "timestamp": f.ts.isoformat(), "sog": f.sog_kn, "cog": f.cog_deg} for f in fixes]
    rows.insert(5, {"source": "beidou", "vessel_id": "BD-7704", "timestamp": "yesterday", "lat": 29, "lon": 121})
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(rows))
    totals = run_json("ingest_positions", str(path))
    assert totals["stored"] == len(fixes)
    assert totals["quarantined"] == {"bad_timestamp": 1}
    assert Warning.objects.filter(kind="idle_pier_landing", vessels=["BD-7704"]).exists()


def test_export_warnings_is_a_json_array_of_exactly_the_agreed_fields(demo_geo, tmp_path):
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="412449955", night=local_night(2), stay_min=90, source="ais")
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    run_json("ingest_positions", str(tmp_path / "t.csv"))

    out = json.loads(run_command("export_warnings", "--format", "json"))
    assert isinstance(out, list) and len(out) == 1
    w = out[0]
    assert set(w) == {"id", "kind", "level", "score", "vessels", "geofence", "start", "end", "evidence"}
    assert w["kind"] == "idle_pier_landing" and w["level"] in ("red", "orange", "yellow", "blue")
    assert 0 <= w["score"] <= 100 and w["vessels"] == ["412449955"]
    assert w["geofence"] == demo_geo["demo-gt-01"].name
    start, end = datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"])
    assert start.tzinfo is not None and end - start >= timedelta(minutes=80)
    assert {"factors", "contributions", "rule", "fixes", "tide_window"} <= set(w["evidence"])

    run_command("export_warnings", "--format", "json", "--output", str(tmp_path / "w.json"))
    assert json.loads((tmp_path / "w.json").read_text()) == out
