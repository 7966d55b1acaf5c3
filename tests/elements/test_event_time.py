"""Event time with real worker processes (production mode): sparse reporters meeting at sea,
files in either order, late and interleaved producers (issue #11's done-means)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from apps.elements.domain.model import PositionFix
from apps.elements.models import Warning
from tests.conftest import wait_worker_idle

from .conftest import ais_lines, local_night, positions_csv, run_json

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

SEA = (122.30, 29.02)  # open sea east of the county, kilometres from every demo geofence


@pytest.fixture(autouse=True)
def worker_idle_after(celery_worker_process):
    """Let the worker finish what the warnings set off before the test database is flushed."""
    yield
    wait_worker_idle()


def _every(source: str, vid: str, start, at, *, minutes: float, every_s: float, sog_kn: float = 0.5) -> list:
    n = int(minutes * 60 // every_s)
    return [
        PositionFix(source, vid, start + timedelta(seconds=k * every_s), at[0], at[1], sog_kn) for k in range(n + 1)
    ]


def _far_from_every_geofence(demo_geo, at, *, min_m: float) -> None:
    from apps.elements.domain.geo_units import haversine_m

    assert min(haversine_m(at[0], at[1], g.centroid_lon, g.centroid_lat) for g in demo_geo.values()) > min_m


@pytest.mark.parametrize("ais_first", [True, False], ids=["ais-file-first", "beidou-file-first"])
def test_ais_every_10_s_and_beidou_every_180_s_meeting_at_sea_raise_one_rendezvous(
    celery_worker_process, demo_geo, tmp_path, ais_first
):
    _far_from_every_geofence(demo_geo, SEA, min_m=8_000)
    night = local_night(2, 1, 0)
    # A mother ship on AIS every 10 s, slow at sea for six hours; a Beidou fishing boat every
    # 3 minutes lies 90 m east of it from 02:00 to 02:45.
    ship = _every("ais", "412447100", night, SEA, minutes=360, every_s=10)
    boat_at = (SEA[0] + 90 / (111_320 * 0.874), SEA[1])
    boat = _every("beidou", "BD-88001", night + timedelta(hours=1), boat_at, minutes=45, every_s=180)
    ais_path = tmp_path / "ship.nmea"
    ais_path.write_text("\n".join(ais_lines(ship)) + "\n")
    bd_path = tmp_path / "boat.csv"
    bd_path.write_text(positions_csv(boat))

    steps = [("ingest_ais", str(ais_path)), ("ingest_positions", str(bd_path))]
    for command, path in steps if ais_first else reversed(steps):
        totals = run_json(command, path)
        assert not totals["errors"]

    rv = list(Warning.objects.filter(kind="rendezvous"))
    assert len(rv) == 1
    w = rv[0]
    assert sorted(w.vessels) == ["412447100", "BD-88001"]
    details = w.evidence["details"]
    assert 40 <= details["duration_min"] <= 50 and set(details["sources"]) == {"ais", "beidou"}


def _seaward(geofence, distance_m: float) -> tuple[float, float]:
    from shapely.geometry import shape

    from apps.elements.demo import _offset, _seaward_bearing
    from apps.elements.selectors import county_boundary

    land = shape(county_boundary()["features"][0]["geometry"])
    b = _seaward_bearing(geofence.centroid_lon, geofence.centroid_lat, land)
    return _offset(geofence.centroid_lon, geofence.centroid_lat, bearing_deg=b, distance_m=distance_m)


def _dispatched(warning, users):
    """The operations centre dispatches the warning (tasks to departments), unless already done."""
    from apps.enforcement import services as enforcement
    from apps.enforcement.models import Task

    if not Task.objects.filter(warning=warning).exists():
        enforcement.dispatch_subject(subject=warning, actor=users["commander"])
    tasks = list(Task.objects.filter(warning=warning))
    assert tasks
    return tasks


def _told(tasks) -> list[str]:
    from apps.enforcement.models import TaskEvent

    return [e.note for e in TaskEvent.objects.filter(task__in=tasks, kind=TaskEvent.Kind.WARNING_CHANGED)]


def test_a_beidou_batch_2_h_late_turns_a_dark_vessel_into_a_stop_at_the_idle_pier(
    celery_worker_process, demo_geo, users, tmp_path, client
):
    from apps.elements.demo import Track

    pier = demo_geo["demo-gt-02"]  # an idle pier
    vid = "412447201"
    night = local_night(2, 0, 20)
    sea = _seaward(pier, 3_000)
    near = _seaward(pier, 600)
    ais = Track(vid, "ais", night, *sea)
    ais.sail(*near, 7.0).silent(120).sail(pier.centroid_lon, pier.centroid_lat, 3.0).stay(6).sail(*sea, 7.0)
    silent_from = [f for f in ais.fixes if f.ts.timestamp() <= ais.fixes[0].ts.timestamp() + 30 * 60][-1].ts
    path = tmp_path / "ais.nmea"
    path.write_text("\n".join(ais_lines(ais.fixes)) + "\n")
    assert not run_json("ingest_ais", str(path))["errors"]
    dark = Warning.objects.get(vessels=[vid])
    assert dark.kind == "dark_vessel"
    tasks = _dispatched(dark, users)

    # The boat's Beidou terminal reported every 3 minutes all along, moored at the pier; the
    # batch reaches the platform two hours late.
    bd = Track(vid, "beidou", silent_from + timedelta(minutes=6), pier.centroid_lon, pier.centroid_lat, step_s=180)
    bd.stay(110)
    late = tmp_path / "late.csv"
    late.write_text(positions_csv(bd.fixes))
    totals = run_json("ingest_positions", str(late))
    assert not totals["errors"] and totals["stored"] == len(bd.fixes)

    ws = list(Warning.objects.filter(vessels=[vid]))
    assert len(ws) == 1  # updated, never duplicated
    w = ws[0]
    assert w.pk == dark.pk and w.kind == "idle_pier_landing" and w.geofence_id == pier.pk
    assert w.evidence["kind_changed"]["from"] == "dark_vessel"
    assert w.evidence["details"]["late_data"]["sources"] == ["beidou"]
    assert w.evidence["first_known"]["delay_s"] > 0 and w.evidence["known_at"]
    assert len(_told(tasks)) == len(tasks)  # every task holder told
    client.force_login(users["duty"])
    html = client.get(f"/elements/warnings/{w.pk}/").content.decode()
    assert 'id="w-known"' in html and 'id="w-kind-changed"' in html  # evidence time, known time, the correction


def test_a_late_batch_showing_the_vessel_far_at_sea_withdraws_the_landing(
    celery_worker_process, demo_geo, users, tmp_path, client
):
    from auditlog.models import LogEntry

    from apps.elements.demo import Track

    pier = demo_geo["demo-gt-02"]
    vid = "412447202"
    night = local_night(2, 1, 0)
    sea = _seaward(pier, 3_000)
    ais = Track(vid, "ais", night, *sea)
    ais.sail(pier.centroid_lon, pier.centroid_lat, 7.0).stay(3).silent(46).stay(12).sail(*sea, 7.0)
    path = tmp_path / "ais.nmea"
    path.write_text("\n".join(ais_lines(ais.fixes)) + "\n")
    assert not run_json("ingest_ais", str(path))["errors"]
    landing = Warning.objects.get(vessels=[vid])
    assert landing.kind == "idle_pier_landing"
    tasks = _dispatched(landing, users)

    # Late Beidou fixes: during the AIS silence the boat was 6 km out at sea, under way.
    stop = [f for f in ais.fixes if f.sog_kn is not None and f.sog_kn < 1][2].ts
    far = _seaward(pier, 6_000)
    bd = Track(vid, "beidou", stop + timedelta(minutes=3), pier.centroid_lon, pier.centroid_lat, step_s=180)
    bd.sail(*far, 9.0).sail(pier.centroid_lon, pier.centroid_lat, 9.0)
    late = tmp_path / "late.csv"
    late.write_text(positions_csv([f for f in bd.fixes if f.ts < stop + timedelta(minutes=45)]))
    assert not run_json("ingest_positions", str(late))["errors"]

    w = Warning.objects.get(pk=landing.pk)
    assert w.status == Warning.Status.WITHDRAWN
    assert w.evidence["withdrawn"]["reason"] == "disproved_by_late_data"
    assert w.evidence["withdrawn"]["late_sources"] == ["beidou"]
    assert Warning.objects.filter(vessels=[vid]).count() == 1
    assert len(_told(tasks)) == len(tasks)
    changes = LogEntry.objects.get_for_object(w).filter(changes__icontains="withdrawn")
    assert changes.exists()  # on the audit trail
    client.force_login(users["duty"])
    html = client.get(f"/elements/warnings/{w.pk}/").content.decode()
    assert 'id="w-withdrawn"' in html and "迟到的数据表明该事件并未发生" in html and "已撤销" in html


def _day(demo_geo, tag: str, sea_shift_m: float) -> dict[str, list]:
    """One night's traffic of three producers (vessel ids carry ``tag``): an AIS feed (a mother
    ship, a boat that goes dark by a pier), a Beidou upload (a boat meeting the mother ship at
    sea, a boat landing at an idle pier) and a file of another AIS station (a landing)."""
    from apps.elements.demo import Track

    night = local_night(3, 0, 30)
    sea = (SEA[0] + sea_shift_m / (111_320 * 0.874), SEA[1])
    gt, hp = demo_geo["demo-gt-02"], demo_geo["demo-hp-01"]
    ship = _every("ais", f"41244{tag}01", night, sea, minutes=240, every_s=10)
    dark = Track(f"41244{tag}02", "ais", night, *_seaward(gt, 4_000))
    dark.sail(*_seaward(gt, 700), 6.0).silent(100).sail(*_seaward(gt, 4_000), 6.0)
    boat_at = (sea[0] + 90 / (111_320 * 0.874), sea[1])
    meet = _every("beidou", f"BD-{tag}003", night + timedelta(minutes=70), boat_at, minutes=50, every_s=180)
    bd_land = Track(f"BD-{tag}004", "beidou", night + timedelta(minutes=20), *_seaward(hp, 3_000), step_s=180)
    bd_land.sail(hp.centroid_lon, hp.centroid_lat, 6.0).stay(80).sail(*_seaward(hp, 3_000), 6.0)
    other = Track(f"41244{tag}05", "ais", night + timedelta(minutes=40), *_seaward(gt, 3_000))
    other.sail(gt.centroid_lon, gt.centroid_lat, 7.0).stay(75).sail(*_seaward(gt, 3_000), 7.0)
    return {"feed": ship + dark.fixes, "upload": meet + bd_land.fixes, "file": other.fixes}


def _outcome(tag: str) -> list[tuple]:
    out = []
    for w in Warning.objects.all():
        vessels = tuple(sorted(v for v in w.vessels))
        if all(tag in v for v in vessels):
            out.append((w.kind, tuple(v.replace(tag, "#") for v in vessels), w.geofence_id, w.level, w.status))
    return sorted(out)


def test_three_interleaved_producers_equal_one_producer_warning_for_warning(celery_worker_process, demo_geo, tmp_path):
    import threading

    from django.core.management import call_command
    from django.db import connections

    # one producer: the whole night in one file, in time order
    one = _day(demo_geo, "71", sea_shift_m=0)
    path = tmp_path / "one.csv"
    path.write_text(positions_csv(sorted(sum(one.values(), []), key=lambda f: (f.ts, f.vessel_id))))
    assert not run_json("ingest_positions", str(path), "--batch-size", "300")["errors"]
    single = _outcome("71")

    # three producers at once, in small slices so that their batches interleave
    three = _day(demo_geo, "72", sea_shift_m=6_000)
    results: dict[str, object] = {}

    def produce(name: str, fixes: list) -> None:
        import io
        import json

        p = tmp_path / f"{name}.csv"
        p.write_text(positions_csv(fixes))
        out = io.StringIO()
        try:
            call_command("ingest_positions", str(p), "--json", "--batch-size", "120", stdout=out, stderr=io.StringIO())
            results[name] = json.loads(out.getvalue())
        except Exception as exc:  # surfaced below
            results[name] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=produce, args=(n, f), daemon=True) for n, f in three.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert all(isinstance(r, dict) and not r["errors"] for r in results.values()), results
    interleaved = _outcome("72")

    kinds = {k for k, *_ in single}
    assert {"rendezvous", "dark_vessel", "idle_pier_landing"} <= kinds
    assert [x[:3] for x in interleaved] == [x[:3] for x in single]  # the same warnings, none twice
    assert interleaved == single  # ... with the same levels, none withdrawn


def test_a_satellite_ais_source_30_minutes_late_raises_nothing_twice(celery_worker_process, demo_geo, tmp_path):
    """Terrestrial AIS covers every other quarter hour; a satellite feed fills the holes and
    reaches the platform 30 minutes late. Ingested as it arrives, a quarter hour at a time."""
    from apps.elements.demo import Track

    night = local_night(2, 0, 30)
    gt = demo_geo["demo-gt-02"]
    boat = Track("412447301", "ais", night + timedelta(minutes=10), *_seaward(gt, 3_000))
    boat.sail(gt.centroid_lon, gt.centroid_lat, 7.0).stay(90).sail(*_seaward(gt, 3_000), 7.0)
    ship = _every("ais", "412447302", night, SEA, minutes=180, every_s=30)
    other = _every("ais", "412447303", night + timedelta(minutes=40), (SEA[0] + 80 / (111_320 * 0.874), SEA[1]),
                   minutes=60, every_s=60)
    everything = sorted(boat.fixes + ship + other, key=lambda f: (f.ts, f.vessel_id))

    def terrestrial(f) -> bool:
        return ((f.ts - night).total_seconds() // 900) % 2 == 0

    sat = [PositionFix("sat_ais", f.vessel_id, f.ts, f.lon, f.lat, f.sog_kn) for f in everything if not terrestrial(f)]
    ter = [f for f in everything if terrestrial(f)]
    step = timedelta(minutes=15)
    clock = night
    k = 0
    while clock < night + timedelta(hours=4):
        batch = [f for f in ter if clock <= f.ts < clock + step]
        batch += [f for f in sat if clock - 2 * step <= f.ts < clock - step]  # 30 minutes late
        if batch:
            path = tmp_path / f"q{k}.csv"
            path.write_text(positions_csv(sorted(batch, key=lambda f: (f.ts, f.vessel_id))))
            assert not run_json("ingest_positions", str(path))["errors"]
            k += 1
        clock += step

    ws = list(Warning.objects.all())
    raised = [(w.kind, tuple(sorted(w.vessels))) for w in ws]
    assert len(raised) == len(set(raised))  # nothing raised twice
    assert {"idle_pier_landing", "rendezvous"} <= {w.kind for w in ws}
    assert not [w for w in ws if w.status == Warning.Status.WITHDRAWN]
