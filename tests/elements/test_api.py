"""The element-control API: who may do what, uploads that keep good rows, the risk model, maps and tides."""
from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from shapely.geometry import shape

from apps.elements.domain.ahp import DEFAULT_FACTORS, DEFAULT_MATRIX
from apps.elements.models import Geofence, RiskModel, StoredFix, Warning

from .conftest import GEODATA, landing_fixes, local_night, positions_csv

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------------------ roles
def test_anonymous_is_refused_everywhere(api_for):
    for url in ("/api/elements/vessels/", "/api/elements/warnings/", "/api/elements/geofences/",
                "/api/elements/risk-model/", "/api/elements/tides/windows/", "/api/elements/geography/"):
        assert api_for().get(url).status_code in (401, 403), url


def test_vessel_positions_for_every_staff_role_with_a_bbox(api_for, users, demo_geo):
    pier = demo_geo["demo-gt-01"]
    fixes = landing_fixes(pier, vessel_id="BD-9001", night=local_night(1), stay_min=40)
    res = api_for(users["police"]).post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv")
    assert res.status_code == 202, res.content
    for who in ("grid", "pierchief", "police", "auditor", "duty"):
        rows = api_for(users[who]).get("/api/elements/vessels/").json()["results"]
        assert [r["external_id"] for r in rows] == ["BD-9001"], who
    last = fixes[-1]
    assert rows[0]["last_lon"] == pytest.approx(last.lon, abs=1e-6)
    box = f"{last.lon - 0.01},{last.lat - 0.01},{last.lon + 0.01},{last.lat + 0.01}"
    assert api_for(users["grid"]).get("/api/elements/vessels/", {"bbox": box}).json()["count"] == 1
    assert api_for(users["grid"]).get("/api/elements/vessels/", {"bbox": "0,0,1,1"}).json()["count"] == 0
    bad = api_for(users["grid"]).get("/api/elements/vessels/", {"bbox": "nonsense"})
    assert bad.status_code == 400 and "bbox" in bad.json()
    # the track over a time range
    vid = rows[0]["id"]
    track = api_for(users["police"]).get(f"/api/elements/vessels/{vid}/track/", {
        "start": fixes[0].ts.isoformat(), "end": fixes[10].ts.isoformat()}).json()
    assert len(track["fixes"]) == 11 and track["fixes"][0]["ts"] == fixes[0].ts.isoformat()


def test_uploads_are_refused_to_field_workers_and_auditors(api_for, users):
    body = "source,vessel_id,timestamp,lat,lon,sog,cog\nbeidou,BD-1,2026-11-20T01:00:00+08:00,29.0,121.8,0,0\n"
    for who in ("grid", "pierchief", "auditor"):
        res = api_for(users[who]).post("/api/elements/positions/", body, content_type="text/csv")
        assert res.status_code == 403, who
    assert StoredFix.objects.count() == 0


def test_a_bad_row_gives_400_with_the_row_and_the_good_rows_are_kept(api_for, users):
    body = (
        "source,vessel_id,timestamp,lat,lon,sog,cog\n"
        "beidou,BD-2,2026-11-20T01:00:00+08:00,29.0,121.8,0.2,10\n"
        "beidou,BD-2,2026-11-20 01:01,29.0,121.8,0.2,10\n"
        "beidou,BD-2,2026-11-20T01:02:00+08:00,95.0,121.8,0.2,10\n"
        "beidou,BD-2,2026-11-20T01:03:00+08:00,29.0001,121.8001,0.3,12\n"
    )
    res = api_for(users["coastguard"]).post("/api/elements/positions/", body, content_type="text/csv")
    assert res.status_code == 400
    data = res.json()
    assert data["accepted"] == 2 and data["refused"] == 2
    assert [(e["row"], e["reason"]) for e in data["errors"]] == [(2, "bad_timestamp"), (3, "bad_position")]
    assert "已隔离" in data["detail"]
    assert StoredFix.objects.count() == 2


def test_json_upload_and_size_limit(api_for, users, settings):
    from apps.elements import api as el_api

    body = [{"source": "beidou", "vessel_id": "BD-3", "timestamp": "2026-11-20T01:00:00+08:00", "lat": 29, "lon": 121.8}]
    res = api_for(users["duty"]).post("/api/elements/positions/", body, format="json")
    assert res.status_code == 202 and res.json()["accepted"] == 1
    big = "x" * (el_api.UPLOAD_LIMIT_BYTES + 1)
    res = api_for(users["duty"]).post("/api/elements/positions/", big, content_type="text/csv")
    assert res.status_code == 413 and "MB" in res.json()["detail"]
    assert api_for(users["duty"]).post("/api/elements/positions/", "", content_type="text/csv").status_code == 400


# ------------------------------------------------------------------------------ risk model
def _consistent_matrix() -> list[list[float]]:
    m = [list(r) for r in DEFAULT_MATRIX]
    m[0][1], m[1][0] = 3.0, 1 / 3.0  # behaviour a little more ahead of location: still consistent
    return m


def test_risk_model_is_read_by_command_and_audit_and_changed_by_the_commander_only(api_for, users):
    assert api_for(users["police"]).get("/api/elements/risk-model/").status_code == 403
    got = api_for(users["duty"]).get("/api/elements/risk-model/").json()
    assert got["factors"] == list(DEFAULT_FACTORS) and got["cr"] < 0.1
    assert api_for(users["auditor"]).get("/api/elements/risk-model/").status_code == 200
    body = {"matrix": _consistent_matrix(), "thresholds": {"red": 80, "orange": 65, "yellow": 50, "blue": 35}}
    assert api_for(users["duty"]).put("/api/elements/risk-model/", body, format="json").status_code == 403
    res = api_for(users["commander"]).put("/api/elements/risk-model/", body, format="json")
    assert res.status_code == 200, res.content
    data = res.json()
    assert data["thresholds"]["red"] == 80 and data["weights"]["behaviour"] > got["weights"]["behaviour"]
    model = RiskModel.objects.get()
    entry = LogEntry.objects.get_for_object(model).latest("timestamp")  # history on the audit trail
    assert entry.actor == users["commander"] and "matrix" in entry.changes_dict


def test_an_inconsistent_matrix_is_refused_with_its_cr(api_for, users):
    m = [list(r) for r in DEFAULT_MATRIX]
    m[0][8], m[8][0] = 1 / 9.0, 9.0  # holiday 9x more important than behaviour: contradicts the rest
    m[1][8], m[8][1] = 1 / 9.0, 9.0
    res = api_for(users["commander"]).put("/api/elements/risk-model/", {"matrix": m}, format="json")
    assert res.status_code == 400
    data = res.json()
    assert data["cr"] > 0.1 and "CR" in data["detail"] and "0.1" in data["detail"]
    assert not RiskModel.objects.exists()  # nothing saved
    res = api_for(users["commander"]).put("/api/elements/risk-model/", {"matrix": [[1, 2], [0.5, 1]]}, format="json")
    assert res.status_code == 400 and "9×9" in str(res.json())
    res = api_for(users["commander"]).put("/api/elements/risk-model/", {
        "matrix": _consistent_matrix(), "thresholds": {"red": 10, "orange": 65, "yellow": 50, "blue": 35}}, format="json")
    assert res.status_code == 400 and "阈值" in str(res.json())


def test_the_risk_model_drives_the_score_of_new_warnings(api_for, users, demo_geo):
    api_for(users["commander"]).put("/api/elements/risk-model/", {
        "matrix": _consistent_matrix(), "thresholds": {"red": 95, "orange": 90, "yellow": 85, "blue": 10}}, format="json")
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-9101", night=local_night(2), stay_min=90)
    api_for(users["duty"]).post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv")
    w = Warning.objects.get(kind="idle_pier_landing")
    assert w.level == "blue"  # the new thresholds are in force
    assert w.evidence["rule"]["thresholds"]["blue"] == 10
    assert w.evidence["rule"]["weights"] == pytest.approx(RiskModel.objects.get().weights, abs=1e-5)


# ------------------------------------------------------------------------------ geography
def test_geofences_geojson_for_staff_and_crud_for_the_operations_centre(api_for, users, demo_geo):
    fc = api_for(users["grid"]).get("/api/elements/geofences/").json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 22
    assert {"name", "kind", "status", "township", "pier_chief"} <= set(fc["features"][0]["properties"])
    idle = api_for(users["police"]).get("/api/elements/geofences/", {"status": "idle", "kind": "pier"}).json()
    assert idle["features"] and all(f["properties"]["status"] == "idle" for f in idle["features"])

    new = {"name": "新建闲置码头", "kind": "pier", "status": "idle", "township": "石浦镇", "radius_m": 200,
           "geometry": {"type": "Point", "coordinates": [121.95, 29.2]}}
    assert api_for(users["police"]).post("/api/elements/geofences/", new, format="json").status_code == 403
    res = api_for(users["duty"]).post("/api/elements/geofences/", new, format="json")
    assert res.status_code == 201, res.content
    gid = res.json()["id"]
    assert shape(res.json()["geometry"]).geom_type == "Polygon"  # the point was buffered
    res = api_for(users["commander"]).patch(f"/api/elements/geofences/{gid}/", {"status": "active"}, format="json")
    assert res.status_code == 200 and Geofence.objects.get(pk=gid).status == "active"
    bad = api_for(users["commander"]).patch(f"/api/elements/geofences/{gid}/", {"kind": "castle"}, format="json")
    assert bad.status_code == 400 and "类型" in str(bad.json())
    dup = api_for(users["commander"]).post("/api/elements/geofences/", {**new, "name": demo_geo["demo-gt-01"].name}, format="json")
    assert dup.status_code == 400
    assert api_for(users["auditor"]).delete(f"/api/elements/geofences/{gid}/").status_code == 403
    assert api_for(users["commander"]).delete(f"/api/elements/geofences/{gid}/").status_code == 204
    entries = LogEntry.objects.filter(object_pk=str(gid), content_type__model="geofence")
    assert entries.count() >= 3 and {e.actor for e in entries} == {users["duty"], users["commander"]}  # audited


def test_county_boundary(api_for, users):
    data = api_for(users["grid"]).get("/api/elements/geography/").json()
    assert data["type"] == "FeatureCollection"
    minx, miny, maxx, maxy = shape(data["features"][0]["geometry"]).bounds
    assert 121.5 < minx < maxx < 122.3 and 28.8 < miny < maxy < 29.7


# ------------------------------------------------------------------------------ warnings
def _landing_warning(api_for, users, demo_geo, vessel_id="BD-9201") -> Warning:
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id=vessel_id, night=local_night(2), stay_min=90)
    api_for(users["duty"]).post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv")
    return Warning.objects.get(vessels=[vessel_id])


def test_warnings_are_scoped_to_the_departments_tasked_with_them(api_for, users, demo_geo, make_user):
    from apps.enforcement.services import dispatch_subject

    w = _landing_warning(api_for, users, demo_geo)
    assert api_for(users["commander"]).get("/api/elements/warnings/").json()["count"] == 1
    assert api_for(users["auditor"]).get(f"/api/elements/warnings/{w.pk}/").status_code == 200
    assert api_for(users["police"]).get("/api/elements/warnings/").json()["count"] == 0
    assert api_for(users["police"]).get(f"/api/elements/warnings/{w.pk}/").status_code == 404

    dispatch_subject(subject=w, actor=users["commander"])  # enforcement's one-click dispatch
    tasked = set(w.tasks.values_list("department__code", flat=True))
    assert tasked
    inside = make_user("inside", "dept_officer", sorted(tasked)[0])
    outside_code = next(c for c in ("tobacco", "discipline", "commerce", "market") if c not in tasked)
    outside = make_user("outside", "dept_officer", outside_code)
    seen = api_for(inside).get("/api/elements/warnings/").json()
    assert [r["id"] for r in seen["results"]] == [w.pk]
    detail = api_for(inside).get(f"/api/elements/warnings/{w.pk}/").json()
    assert detail["evidence"]["factors"]["night"] == 1.0
    assert api_for(outside).get("/api/elements/warnings/").json()["count"] == 0


def test_warning_filters(api_for, users, demo_geo):
    w = _landing_warning(api_for, users, demo_geo)
    c = api_for(users["duty"])
    assert c.get("/api/elements/warnings/", {"kind": "idle_pier_landing"}).json()["count"] == 1
    assert c.get("/api/elements/warnings/", {"kind": "rendezvous,dark_vessel"}).json()["count"] == 0
    assert c.get("/api/elements/warnings/", {"level": w.level}).json()["count"] == 1
    assert c.get("/api/elements/warnings/", {"status": "closed"}).json()["count"] == 0
    assert c.get("/api/elements/warnings/", {"start_after": w.end.isoformat()}).json()["count"] == 0
    assert c.get("/api/elements/warnings/", {"start_before": w.end.isoformat()}).json()["count"] == 1
    assert c.get("/api/elements/warnings/", {"vessel": "BD-9201"}).json()["count"] == 1
    assert c.get("/api/elements/warnings/", {"vessel": "BD-0000"}).json()["count"] == 0


def test_replay_reproduces_the_warning_from_stored_fixes(api_for, users, demo_geo):
    w = _landing_warning(api_for, users, demo_geo)
    res = api_for(users["auditor"]).get(f"/api/elements/warnings/{w.pk}/replay/").json()
    assert res["reproduced"] is True, res
    assert res["replayed"] == res["stored"] == {"kind": w.kind, "level": w.level, "score": round(w.score, 3)}
    assert res["fixes"] == StoredFix.objects.count()
    # a warning whose recorded score no longer matches its fixes does not reproduce
    Warning.objects.filter(pk=w.pk).update(score=w.score + 7)
    res = api_for(users["commander"]).get(f"/api/elements/warnings/{w.pk}/replay/").json()
    assert res["reproduced"] is False and res["replayed"]["score"] == round(w.score, 3)


def test_quarantine_and_runs_are_for_the_operations_centre(api_for, users):
    body = "source,vessel_id,timestamp,lat,lon,sog,cog\nbeidou,BD-4,not a time,29,121.8,,\n"
    res = api_for(users["police"]).post("/api/elements/positions/", body, content_type="text/csv")
    run_id = res.json()["run"]
    assert api_for(users["police"]).get("/api/elements/quarantine/").status_code == 403
    q = api_for(users["duty"]).get("/api/elements/quarantine/", {"reason": "bad_timestamp"}).json()
    assert q["count"] == 1 and q["results"][0]["raw"] == "beidou,BD-4,not a time,29,121.8,,"
    assert api_for(users["police"]).get(f"/api/elements/runs/{run_id}/").json()["quarantined"] == {"bad_timestamp": 1}
    assert api_for(users["coastguard"]).get(f"/api/elements/runs/{run_id}/").status_code == 403  # not theirs
    assert api_for(users["police"]).get("/api/elements/runs/").status_code == 403


# ------------------------------------------------------------------------------ tides
def test_tide_windows_from_an_imported_table(api_for, users):
    from apps.elements import services

    table = (GEODATA / "tides" / "kanmen_predicted_demo.csv").read_bytes()
    report = services.tide_table_import(text=table, default_station=True)
    assert report.created > 1000 and not report.errors
    data = api_for(users["grid"]).get("/api/elements/tides/windows/", {"date": "2026-11-25"}).json()
    # the table's night high water of 25 Nov 2026 is 21:02 (+08:00): window 19:02-23:02
    assert data["windows"] == [{"start": "2026-11-25T19:02:00+08:00", "peak": "2026-11-25T21:02:00+08:00",
                                "end": "2026-11-25T23:02:00+08:00"}]
    assert len(data["curve"]) == 97
    evening = [p["height_m"] for p in data["curve"] if p["ts"] < "2026-11-26T03:00"]
    assert max(evening) == pytest.approx(2.23, abs=0.01)  # the curve peaks at the high water
    assert [e["kind"] for e in data["events"]] == ["low", "high", "low", "high"]
    bad = api_for(users["grid"]).get("/api/elements/tides/windows/", {"date": "25/11/2026"})
    assert bad.status_code == 400 and "日期" in bad.json()["detail"]


# ------------------------------------------------------------------------------ detector settings
def test_detector_settings_per_township_and_season(api_for, users, demo_geo):
    night = local_night(2)
    month = night.month
    other = month % 12 + 1
    url = "/api/elements/detector-settings/"
    strict = {"township": "高塘岛乡", "month_from": month, "month_to": month,
              "params": {"idle_pier_landing": {"min_dwell_min": 150}}, "note": "冬季加严"}
    assert api_for(users["duty"]).post(url, strict, format="json").status_code == 403
    assert api_for(users["commander"]).post(url, strict, format="json").status_code == 201
    off_season = {**strict, "township": "定塘镇", "month_from": other, "month_to": other}
    assert api_for(users["commander"]).post(url, off_season, format="json").status_code == 201
    bad = api_for(users["commander"]).post(url, {**strict, "params": {"idle_pier_landing": {"no_such": 1}}}, format="json")
    assert bad.status_code == 400 and "检测参数无效" in str(bad.json())

    fixes = (landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-9301", night=night, stay_min=90)  # 高塘岛乡
             + landing_fixes(demo_geo["demo-ds-01"], vessel_id="BD-9302", night=night, stay_min=90))  # 定塘镇
    api_for(users["duty"]).post("/api/elements/positions/", positions_csv(fixes), content_type="text/csv")
    landed = {v for w in Warning.objects.filter(kind="idle_pier_landing") for v in w.vessels}
    assert landed == {"BD-9302"}  # 90 min < 150 min required in 高塘岛乡 this month; 定塘镇's rule is off season
    w = Warning.objects.get(vessels=["BD-9302"])
    assert w.evidence["rule"]["params"]["min_dwell_min"] == 30.0 and w.evidence["rule"]["area"] == "定塘镇"


def test_bad_input_gets_a_clear_400_never_a_500(api_for, users, demo_geo):
    c = api_for(users["commander"])
    gid = demo_geo["demo-gt-01"].pk
    cases = [
        ("post", "/api/elements/positions/", b"\x00\xff\xfe garbage \x89PNG", "text/csv"),
        ("post", "/api/elements/positions/", '{"not": "a list"', "application/json"),
        ("post", "/api/elements/captures/", "checkpoint_id,plate,timestamp\n,,\n", "text/csv"),
        ("post", "/api/elements/geofences/", {"name": "x", "kind": "pier", "status": "idle", "geometry": "nope"}, "json"),
        ("post", "/api/elements/geofences/", {"name": "x", "kind": "pier", "status": "idle",
                                              "geometry": {"type": "Point", "coordinates": "x"}}, "json"),
        ("post", "/api/elements/geofences/", {"name": "x", "kind": "pier", "status": "idle",
                                              "geometry": {"type": "LineString", "coordinates": [[121, 29], [121.1, 29.1]]}}, "json"),
        ("patch", f"/api/elements/geofences/{gid}/", {"geometry": {"type": "Point", "coordinates": [500, 29]}}, "json"),
        ("put", "/api/elements/risk-model/", {"matrix": "identity"}, "json"),
        ("put", "/api/elements/risk-model/", {"matrix": [[1, -2], [0.5, 1]]}, "json"),
        ("post", "/api/elements/detector-settings/", {"township": "", "params": {"idle_pier_landing": 5}}, "json"),
        ("post", "/api/elements/detector-settings/", {"params": {"rendezvous": {"max_distance_m": "far"}}}, "json"),
        ("post", "/api/elements/detector-settings/", {"month_from": 13, "params": {}}, "json"),
        ("post", "/api/elements/watchlist/", {"kind": "rocket", "value": "x"}, "json"),
        ("get", "/api/elements/warnings/?start_after=yesterday", None, None),
        ("get", "/api/elements/tides/windows/?date=2026-13-45", None, None),
        ("get", "/api/elements/vessels/?since=last+week", None, None),
    ]
    for method, url, body, ctype in cases:
        if body is None:
            res = getattr(c, method)(url)
        elif ctype == "json":
            res = getattr(c, method)(url, body, format="json")
        else:
            res = getattr(c, method)(url, body, content_type=ctype)
        assert res.status_code == 400, (url, body, res.status_code, res.content[:300])
        assert res.json(), url
    assert Geofence.objects.get(pk=gid).geometry == demo_geo["demo-gt-01"].geometry  # nothing half-written


def test_control_characters_and_overlong_ids_are_quarantined_not_stored(api_for, users):
    body = (
        "source,vessel_id,timestamp,lat,lon,sog,cog\n"
        "beidou,BD\x00X,2026-11-20T01:00:00+08:00,29.0,121.8,0,0\n"
        f"beidou,{'9' * 60},2026-11-20T01:00:00+08:00,29.0,121.8,0,0\n"
        "beidou,BD-OK,2026-11-20T01:00:00+08:00,29.0,121.8,0,0\n"
    )
    res = api_for(users["duty"]).post("/api/elements/positions/", body, content_type="text/csv")
    assert res.status_code == 400
    # the NUL row is refused at the input border (garbled), the overlong id by the id check
    assert [e["reason"] for e in res.json()["errors"]] == ["garbled", "bad_vessel_id"]
    assert list(StoredFix.objects.values_list("vessel__external_id", flat=True)) == ["BD-OK"]
