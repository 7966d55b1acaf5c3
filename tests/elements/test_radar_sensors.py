"""Sensors as facilities, radar tracks through the pipeline, camera/sentinel events (real PostgreSQL, Redis)."""
from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
from PIL import Image

from apps.elements.domain.sensors import destination, range_bearing
from apps.elements.models import QuarantineRecord, StoredFix, Vessel, Warning
from apps.sources.models import Facility, RepairTask, SensorEvent

from .conftest import _nmea_checksum as _cs
from .conftest import landing_fixes, local_night, positions_csv, run_command, run_json

pytestmark = pytest.mark.django_db


def ttm_lines(fixes, *, radar: tuple[float, float], sensor: str = "R2", number: int = 17) -> list[str]:
    """Fixes as TTM sentences (distance nm and true bearing from the radar) behind s:/c: tag blocks."""
    out = []
    for f in fixes:
        dist, brg = range_bearing(radar[0], radar[1], f.lon, f.lat)
        body = f"RATTM,{number:02d},{dist / 1852:.4f},{brg:.2f},T,{f.sog_kn or 0:.1f},{f.cog_deg or 0:.1f},T,,,N,TGT,T,,,A"
        tb = f"s:{sensor},c:{int(f.ts.timestamp())}"
        out.append(f"\\{tb}*{_cs(tb)}\\${body}*{_cs(body)}")
    return out


def _jpeg() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(buf, "JPEG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def sensors(demo_geo, departments, tmp_path):
    pier = demo_geo["demo-gt-01"]
    rlon, rlat = destination(pier.centroid_lon, pier.centroid_lat, 300, 4000)
    clon, clat = destination(pier.centroid_lon, pier.centroid_lat, 0, 150)
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [rlon, rlat]},
         "properties": {"sensor_id": "R2", "kind": "radar", "name": "花岙雷达站", "range_m": 20000}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [clon, clat]},
         "properties": {"sensor_id": "C1", "kind": "camera", "name": "花岙码头摄像机", "bearing_deg": 180, "fov_deg": 70,
                        "geofence": pier.name}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [clon, clat]},
         "properties": {"sensor_id": "IR1", "kind": "infrared", "name": "花岙红外哨兵", "geofence": pier.name}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [clon, clat]},
         "properties": {"sensor_id": "C9", "kind": "camera", "name": "缺朝向"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [clon, clat]},
         "properties": {"sensor_id": "X1", "kind": "sonar"}},
    ]}
    path = tmp_path / "sensors.geojson"
    path.write_text(json.dumps(doc, ensure_ascii=False))
    out = run_command("import_sensors", str(path))
    assert "created: 3" in out and "refused: 2" in out
    assert "bearing_deg" in out and "kind" in out
    return {"pier": pier, "radar": (rlon, rlat)}


def test_import_sensors_registers_facilities_with_coverage_and_the_watched_place(sensors):
    r2 = Facility.objects.get(code="R2")
    assert r2.kind == "radar" and r2.range_m == 20000 and r2.is_device and r2.site.site_type == "sensor_station"
    c1 = Facility.objects.get(code="C1")
    assert c1.kind == "cctv" and (c1.bearing_deg, c1.fov_deg) == (180, 70)
    assert c1.site.geofence == sensors["pier"]
    assert c1.responsible_department.hosts_operations_centre


def test_radar_only_landing_at_an_idle_pier_at_night_is_an_idle_pier_landing(sensors, tmp_path):
    pier = sensors["pier"]
    night = local_night(2, hour=2)
    fixes = landing_fixes(pier, vessel_id="x", night=night, stay_min=90)
    lines = ttm_lines(fixes, radar=sensors["radar"])
    lines[5] = lines[5][:-2] + "00"  # a bad checksum among the good lines
    lines.insert(7, "\\s:R9,c:1616265000*" + _cs("s:R9,c:1616265000") + "\\$RATTM,01,1.0,10.0,T,1,1,T,,,N,,T,,,A*"
                 + _cs("RATTM,01,1.0,10.0,T,1,1,T,,,N,,T,,,A"))  # an unregistered radar
    path = tmp_path / "radar.nmea"
    path.write_text("\n".join(lines) + "\n")
    totals = run_json("ingest_radar", str(path))
    assert totals["quarantined"] == {"bad_checksum": 1, "unknown_sensor": 1}
    assert totals["stored"] == len(fixes) - 1
    reasons = set(QuarantineRecord.objects.filter(source="radar").values_list("reason", flat=True))
    assert reasons == {"bad_checksum", "unknown_sensor"}
    target = Vessel.objects.get(source="radar")
    assert target.external_id.startswith("radar:R2:17@") and not target.registered
    assert StoredFix.objects.filter(vessel=target).count() == len(fixes) - 1
    w = Warning.objects.get(kind="idle_pier_landing")
    assert w.vessels == [target.external_id] and w.geofence == pier
    assert Facility.objects.get(code="R2").last_data_at == fixes[-1].ts.replace(microsecond=0)
    exported = json.loads(run_command("export_warnings", "--format", "json"))
    assert [e["vessels"] for e in exported if e["kind"] == "idle_pier_landing"] == [[target.external_id]]
    # the same file again: the same target, nothing stored twice, no second warning
    again = run_json("ingest_radar", str(path))
    assert again["stored"] == 0 and Vessel.objects.filter(source="radar").count() == 1
    assert Warning.objects.filter(kind="idle_pier_landing").count() == 1


def test_radar_csv(sensors, tmp_path):
    path = tmp_path / "radar.csv"
    path.write_text("sensor_id,target_id,timestamp,lat,lon,sog,cog\n"
                    f"R2,4,2021-03-21T02:30:00+08:00,{sensors['radar'][1]},{sensors['radar'][0] + 0.01},5,90\n"
                    "R2,4,not-a-time,29,121,5,90\n")
    totals = run_json("ingest_radar", str(path))
    assert totals["stored"] == 1 and totals["quarantined"] == {"bad_timestamp": 1}
    assert Vessel.objects.filter(external_id="radar:R2:4@20210320T183000").exists()


def test_a_damage_event_opens_a_repair_task_for_the_owning_department(sensors, tmp_path):
    path = tmp_path / "events.jsonl"
    at = local_night(1, hour=3).isoformat()
    path.write_text(
        json.dumps({"sensor_id": "C1", "timestamp": at, "kind": "damage", "confidence": 0.9, "snapshot": _jpeg()}) + "\n"
        + json.dumps({"sensor_id": "C1", "timestamp": at, "kind": "damage", "confidence": 0.9}) + "\n"  # again
        + json.dumps({"sensor_id": "C1", "timestamp": "2021-03-21T02:00:00", "kind": "damage"}) + "\n"  # no zone
        + json.dumps({"sensor_id": "NOPE", "timestamp": at, "kind": "damage"}) + "\n"
        + json.dumps({"sensor_id": "C1", "timestamp": at, "kind": "occlusion", "snapshot": "bm90IGFuIGltYWdl"}) + "\n"
        + "{not json\n"
    )
    counts = json.loads(run_command("ingest_sensor_events", str(path), "--json"))
    assert (counts["stored"], counts["duplicates"], counts["refused"], counts["repair_tasks"]) == (1, 1, 4, 1)
    task = RepairTask.objects.get()
    c1 = Facility.objects.get(code="C1")
    assert task.source == "sensor_alarm" and task.facility == c1 and task.department == c1.responsible_department
    assert task.before_photos.count() == 1
    assert c1.status == "damaged"


def test_a_camera_vessel_event_corroborates_a_beidou_stop_with_its_snapshot(sensors, tmp_path):
    pier = sensors["pier"]
    night = local_night(2, hour=1)
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"sensor_id": "C1", "timestamp": (night + timedelta(minutes=40)).isoformat(),
                                "kind": "vessel", "confidence": 0.8, "snapshot": _jpeg()}) + "\n")
    counts = json.loads(run_command("ingest_sensor_events", str(path), "--json"))
    assert counts["stored"] == 1
    fixes = landing_fixes(pier, vessel_id="BD-7001", night=night, stay_min=90)
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    run_json("ingest_positions", str(tmp_path / "t.csv"))
    w = Warning.objects.get(kind="idle_pier_landing")
    assert w.evidence["factors"]["corroboration"] == 0.8
    [sig] = w.evidence["details"]["field_signals"]
    event = SensorEvent.objects.get()
    assert sig["sensor"] == "C1" and sig["snapshot"] == f"/sources/photos/{event.snapshot_id}/"
    # when the camera saw it, no track explained it yet: that sighting was its own warning then
    assert Warning.objects.get(pk=event.warning_id).kind == "sensor_alert"


def test_an_unexplained_infrared_trigger_at_an_idle_pier_at_night_raises_a_sensor_alert(sensors, tmp_path):
    at = local_night(1, hour=2)
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps({"sensor_id": "IR1", "timestamp": at.isoformat(), "kind": "ir_trigger",
                                "confidence": 1.0}) + "\n"
                    + json.dumps({"sensor_id": "IR1", "timestamp": at.replace(hour=14).isoformat(), "kind": "ir_trigger",
                                  "confidence": 1.0}) + "\n")  # daytime: no warning
    counts = json.loads(run_command("ingest_sensor_events", str(path), "--json"))
    assert counts["warnings"] == 1
    w = Warning.objects.get(kind="sensor_alert")
    assert w.geofence == sensors["pier"] and w.evidence["details"]["sensors"] == ["IR1"]
    assert w.level in ("red", "orange", "yellow", "blue")


def test_device_posts_events_with_its_token(sensors, api_for):
    from apps.sources.services import facility_issue_token

    token = facility_issue_token(facility=Facility.objects.get(code="C1"))
    client = api_for(None)
    body = {"timestamp": local_night(1, hour=4).isoformat(), "kind": "occlusion", "confidence": 0.7}
    assert client.post("/api/sources/devices/events/", body, format="json").status_code == 401
    r = client.post("/api/sources/devices/events/", body, format="json", HTTP_X_DEVICE_TOKEN=token)
    assert r.status_code == 201, r.content
    assert r.json()["sensor_id"] == "C1" and r.json()["repair_task"]
    assert client.post("/api/sources/devices/events/", body, format="json", HTTP_X_DEVICE_TOKEN=token).status_code == 200
    bad = client.post("/api/sources/devices/events/", {**body, "kind": "alien"}, format="json", HTTP_X_DEVICE_TOKEN=token)
    assert bad.status_code == 400 and "未知的事件类型" in bad.json()["detail"]


# --------------------------------------------------------------------------- fusion scenarios
def _radar_twin(fixes, target: str, *, north_m: float = 40.0):
    """What the radar reports of a boat: the same motion, 40 m off, 5 s later."""
    from apps.elements.domain.model import PositionFix

    out = []
    for f in fixes:
        lon, lat = destination(f.lon, f.lat, 0.0, north_m)
        out.append(PositionFix("radar", target, f.ts + timedelta(seconds=5), lon, lat, f.sog_kn, f.cog_deg))
    return out


def _ingest_together(tmp_path, *tracks):
    """AIS/Beidou and radar fixes in one run, so the producer hands them to the pipeline in time
    order as live feeds would (separate files would each be judged whole, one after the other)."""
    fixes = [f for t in tracks for f in t]
    path = tmp_path / "mixed.csv"
    path.write_text(positions_csv(fixes))
    return run_json("ingest_positions", str(path))


def test_a_radar_track_matching_an_ais_vessel_is_not_called_dark(sensors, tmp_path):
    from apps.elements.models import RadarAssociation

    pier = sensors["pier"]
    ais = landing_fixes(pier, vessel_id="412440002", night=local_night(2, hour=1), stay_min=90, source="ais")
    radar_id = "radar:R2:17@20260101T000000"
    _ingest_together(tmp_path, ais, _radar_twin(ais, radar_id))
    assert not Warning.objects.filter(kind="dark_target").exists()
    [w] = Warning.objects.filter(kind="idle_pier_landing")
    assert w.vessels == ["412440002"]  # the radar track of a known vessel raises nothing of its own
    assert w.evidence["details"]["sensors"] == ["R2"]
    a = RadarAssociation.objects.get(radar_target=radar_id)
    assert a.vessel_id == "412440002" and a.sensor_code == "R2" and a.target_number == 17
    assert 20 < a.mean_distance_m < 80 and a.active
    assert a.describe().startswith("雷达 R2 目标 17 = 412440002（自 ")


def test_an_ais_vessel_switching_off_inside_radar_coverage_is_a_confirmed_dark_vessel(sensors, tmp_path):
    pier = sensors["pier"]
    full = landing_fixes(pier, vessel_id="412440001", night=local_night(2, hour=1), stay_min=120, source="ais")
    radar_id = "radar:R2:21@20260101T000000"
    radar = _radar_twin(full, radar_id)
    ais = full[:25] + full[85:]  # AIS off for an hour at the pier; the radar keeps seeing the boat
    _ingest_together(tmp_path, ais, radar)
    [w] = Warning.objects.filter(kind="dark_vessel", vessels=["412440001"])
    confirmed = w.evidence["details"]["confirmed_by_radar"]
    assert confirmed["radar_target"] == radar_id and confirmed["sensor"] == "R2" and confirmed["continued_min"] >= 5
    assert w.evidence["factors"]["corroboration"] == 1.0 and w.evidence["details"]["sensors"] == ["R2"]
    # while it was silent, the radar track was unexplained: a dark target that had been that vessel
    dark = Warning.objects.get(kind="dark_target")
    assert dark.vessels == [radar_id] and dark.evidence["details"]["was_associated_with"] == "412440001"


def test_a_gap_outside_all_radar_coverage_is_scored_lower(sensors, tmp_path, demo_geo):
    far = demo_geo["demo-jx-01"]  # 爵溪: far outside R2's 20 km
    full = landing_fixes(far, vessel_id="412440003", night=local_night(2, hour=1), stay_min=120, source="ais")
    _ingest_together(tmp_path, full[:25] + full[85:])
    [w] = Warning.objects.filter(kind="dark_vessel", vessels=["412440003"])
    assert w.evidence["details"]["coverage"] == "outside"
    assert "confirmed_by_radar" not in w.evidence["details"]


def test_an_unmatched_radar_track_heading_for_shore_is_a_dark_target(sensors, tmp_path):
    pier = sensors["pier"]
    boat = landing_fixes(pier, vessel_id="x", night=local_night(2, hour=2), stay_min=60)
    radar_id = "radar:R2:33@20260101T000000"
    _ingest_together(tmp_path, _radar_twin(boat, radar_id, north_m=0.0))
    w = Warning.objects.get(kind="dark_target")
    assert w.vessels == [radar_id] and w.evidence["details"]["sensors"] == ["R2"]
    assert w.evidence["details"]["behaviour"] in ("toward_shore", "loitering")
    assert w.evidence["details"]["unmatched_min"] >= 10
    exported = json.loads(run_command("export_warnings", "--format", "json"))
    assert [e["vessels"] for e in exported if e["kind"] == "dark_target"] == [[radar_id]]


def test_the_map_and_the_warning_page_show_radar_tracks_coverage_associations_and_sensors(
        sensors, tmp_path, api_for, users, client):
    from datetime import datetime

    from apps.elements.domain.radar import describe_target

    pier = sensors["pier"]
    start = datetime.now(tz=local_night(0).tzinfo) - timedelta(hours=3)
    ais = landing_fixes(pier, vessel_id="412440009", night=start, stay_min=60, source="ais")
    radar_id = "radar:R2:44@20260101T000000"
    _ingest_together(tmp_path, ais, _radar_twin(ais, radar_id))
    d = api_for(users["commander"]).get("/api/cockpit/map/").json()
    kinds = {f["properties"]["sensor_id"]: f["properties"]["kind"] for f in d["sensors"]["features"]}
    assert kinds == {"R2": "radar", "C1": "camera", "IR1": "infrared"}
    assert {v["external_id"]: v["source"] for v in d["vessels"]}[radar_id] == "radar"
    [a] = [a for a in d["associations"] if a["radar_target"] == radar_id]
    assert a["vessel_id"] == "412440009" and a["active"] and a["text"].startswith("雷达 R2 目标 44 = 412440009")
    # a radar-only warning: the page names the radar and the target as "radar R2 target 44"
    boat = _radar_twin(landing_fixes(pier, vessel_id="x", night=local_night(2, hour=2), stay_min=60), "radar:R2:45@x",
                       north_m=0.0)
    _ingest_together(tmp_path, boat)
    w = Warning.objects.get(kind="dark_target")
    client.force_login(users["commander"])
    page = client.get(f"/elements/warnings/{w.pk}/").content.decode()
    assert "花岙雷达站（R2" in page and describe_target("radar:R2:45@x") in page
