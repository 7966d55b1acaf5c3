"""Warnings: published live after commit, handed to enforcement (whose failure never loses a
warning), corroborated by checkpoint captures and field signals, and the demo's kinds."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command

from apps.elements import services
from apps.elements.models import FieldSignal, VehicleCaptureRecord, Warning

from tests.conftest import run_async

from .conftest import landing_fixes, local_night, positions_csv, run_json


def _socket(user):
    from xiangshan.asgi import application

    comm = WebsocketCommunicator(application, "/ws/live/", headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")])
    comm.scope["user"] = user
    return comm


@pytest.mark.django_db(transaction=True)
def test_a_new_warning_is_pushed_after_commit_to_the_command_and_map_groups(users, demo_geo, tmp_path):
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-5501", night=local_night(2), stay_min=90)
    path = tmp_path / "t.csv"
    path.write_text(positions_csv(fixes))

    async def run():
        duty, grid = _socket(users["duty"]), _socket(users["grid"])
        assert (await duty.connect())[0] and (await grid.connect())[0]
        await duty.receive_json_from(timeout=5)
        await grid.receive_json_from(timeout=5)

        @database_sync_to_async
        def ingest():
            call_command("ingest_positions", str(path), stdout=io.StringIO(), stderr=io.StringIO())

        await ingest()
        w = await database_sync_to_async(Warning.objects.get)()
        full = None
        for _ in range(20):  # the command centre gets the row (and, as a map page too, the short form)
            msg = await duty.receive_json_from(timeout=10)
            if msg["event"] == "warning.new" and "vessels" in msg["payload"]:
                full = msg["payload"]
                break
        assert full is not None
        assert full["id"] == w.pk and full["kind"] == "idle_pier_landing" and full["vessels"] == ["BD-5501"]
        # a field worker's map hears that something changed, not who or where
        seen = await grid.receive_json_from(timeout=10)
        assert seen["event"] == "warning.new" and set(seen["payload"]) == {"id", "kind", "level"}
        await duty.disconnect()
        await grid.disconnect()

    run_async(run())  # its own thread: Playwright may hold this thread's loop


@pytest.mark.django_db
def test_a_failing_enforcement_dispatch_never_loses_the_warning(demo_geo, tmp_path, monkeypatch,
                                                                  django_capture_on_commit_callbacks, caplog):
    import apps.enforcement.services as enforcement

    def broken(**kwargs):  # fault injection: the enforcement module fails on this warning
        raise RuntimeError("dispatch plan table is locked")

    monkeypatch.setattr(enforcement, "warning_auto_dispatch", broken)
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-5502", night=local_night(2), stay_min=90)
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        totals = run_json("ingest_positions", str(tmp_path / "t.csv"))
    assert callbacks  # the hand-off was scheduled after commit
    assert totals["warnings_new"] == 1 and not totals["errors"]
    assert Warning.objects.filter(vessels=["BD-5502"]).exists()
    assert "auto dispatch of warning" in caplog.text


@pytest.mark.django_db
def test_the_enforcement_hand_off_dispatches_a_new_warning(demo_geo, tmp_path, django_capture_on_commit_callbacks):
    fixes = landing_fixes(demo_geo["demo-gt-01"], vessel_id="BD-5503", night=local_night(2), stay_min=120)
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    with django_capture_on_commit_callbacks(execute=True):
        run_json("ingest_positions", str(tmp_path / "t.csv"))
    w = Warning.objects.get(vessels=["BD-5503"])
    from apps.enforcement.services import auto_dispatch_min_level, level_rank

    if level_rank(w.level) >= level_rank(auto_dispatch_min_level(kind=w.kind)):
        assert w.tasks.exists()
    else:
        assert not w.tasks.exists()


@pytest.mark.django_db
def test_checkpoint_captures_near_a_stop_raise_a_vehicle_vessel_warning(demo_geo, tmp_path):
    pier = demo_geo["demo-hp-01"]  # 南田岛东岸闲置码头; checkpoint demo-kk-02 is about 1.5 km away
    services.watch_entry_add(kind="plate", value="浙B·7K2Q1")
    fixes = landing_fixes(pier, vessel_id="BD-5504", night=local_night(3, 1, 0), stay_min=90)
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    run_json("ingest_positions", str(tmp_path / "t.csv"))
    during = fixes[len(fixes) // 2].ts
    captures = (
        "checkpoint_id,plate,timestamp,lat,lon\n"
        f"demo-kk-02,浙B 7K2Q1,{during.isoformat()},,\n"
        f"demo-kk-02,皖K33821,{(during + timedelta(minutes=5)).isoformat()},,\n"
        "demo-kk-02,,2026-11-20T01:00:00+08:00,,\n"  # no plate: quarantined
        f"demo-kk-02,浙B 7K2Q1,{during.isoformat()},,\n"  # the same capture twice: stored once
    )
    (tmp_path / "c.csv").write_text(captures)
    totals = run_json("ingest_checkpoints", str(tmp_path / "c.csv"))
    assert totals["quarantined"] == {"missing_field": 1}
    assert VehicleCaptureRecord.objects.count() == 2 and totals["duplicates"] == 1
    w = Warning.objects.get(kind="vehicle_vessel")
    assert w.vessels == ["BD-5504"] and w.geofence_id == pier.pk
    plates = {c["plate"]: c["status"] for c in w.evidence["details"]["captures"]}
    assert plates["浙B7K2Q1"] == "watched"  # normalised plate, on the watch list
    assert w.evidence["factors"]["corroboration"] == 1.0


@pytest.mark.django_db
def test_a_field_signal_near_the_pier_corroborates_the_landing(demo_geo, tmp_path):
    pier = demo_geo["demo-gt-01"]
    night = local_night(2)
    fixes = landing_fixes(pier, vessel_id="BD-5505", night=night, stay_min=90)
    services.field_signal_record(kind="grid_report", lon=pier.centroid_lon + 0.005, lat=pier.centroid_lat,
                                 at=night + timedelta(minutes=30), weight=0.9, ref="sources.report:1")
    services.field_signal_record(kind="grid_report", lon=pier.centroid_lon + 0.5, lat=pier.centroid_lat,
                                 at=night + timedelta(minutes=30), weight=1.0, ref="sources.report:2")  # far away
    (tmp_path / "t.csv").write_text(positions_csv(fixes))
    run_json("ingest_positions", str(tmp_path / "t.csv"))
    w = Warning.objects.get(kind="idle_pier_landing")
    assert w.evidence["factors"]["corroboration"] == 0.9
    assert [s["ref"] for s in w.evidence["details"]["field_signals"]] == ["sources.report:1"]


@pytest.mark.django_db
def test_field_signal_input_is_checked():
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    with pytest.raises(ValidationError, match="权重"):
        services.field_signal_record(kind="x", lon=121.8, lat=29.0, at=timezone.now(), weight=3)
    with pytest.raises(ValidationError, match="经纬度"):
        services.field_signal_record(kind="x", lon=221.8, lat=29.0, at=timezone.now(), weight=1)
    assert not FieldSignal.objects.exists()


@pytest.mark.django_db
def test_the_demo_county_has_warnings_of_several_kinds(demo_geo, django_capture_on_commit_callbacks):
    from apps.elements import demo

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        demo.load(out)
    kinds = set(Warning.objects.values_list("kind", flat=True))
    assert {"idle_pier_landing", "repeat_visit", "dark_vessel", "rendezvous", "scout_boat", "vehicle_vessel"} <= kinds
    assert "demo tracks" in out.getvalue()
    # every one of them replays from the stored fixes (and captures) to the same kind, level and score,
    # the ones that pair vessels (group repeat, scout, a landing corroborated by its scout) included
    from apps.elements.selectors import warning_replay

    for w in Warning.objects.exclude(kind="field_report"):
        result = warning_replay(warning=w)
        assert result["reproduced"], (w.kind, result)
    again = io.StringIO()
    n = Warning.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        demo.load(again)  # idempotent
    assert Warning.objects.count() == n and "already loaded" in again.getvalue()


@pytest.mark.django_db
def test_an_event_below_every_level_without_a_warning_to_update_is_refused_not_fatal(demo_geo):
    from datetime import UTC, datetime

    from django.core.exceptions import ValidationError

    from apps.elements.domain.pipeline import WarningEvent
    from apps.elements.services import warning_upsert
    from apps.elements.warnings import warning_events_apply

    now = datetime.now(UTC)
    common = dict(kind="idle_pier_landing", score=12.0, vessels=("BD-5599",), geofence_id=demo_geo["demo-gt-01"].pk,
                  geofence_name="x", start=now, end=now, ongoing=True, factors={"behaviour": 0.5},
                  contributions={"behaviour": 12.0}, rule={}, tide_window=None, fixes=(), evidence={})
    low = WarningEvent(action="update", episode_key="k-low", level=None, **common)
    with pytest.raises(ValidationError):
        warning_upsert(event=low)
    counts = {"warnings_new": 0, "warnings_updated": 0}
    ok = WarningEvent(action="new", episode_key="k-ok", level="blue", **{**common, "score": 31.0})
    warning_events_apply(events_=[low, ok], counts=counts)
    assert counts == {"warnings_new": 1, "warnings_updated": 0, "warnings_refused": 1}
    # an update that falls below the lowest level keeps the warning's grade and records the raw level
    warning_events_apply(events_=[WarningEvent(action="update", episode_key="k-ok", level=None, **common)], counts=counts)
    w = Warning.objects.get(episode_key="k-ok")
    assert w.level == "blue" and w.score == 12.0 and w.evidence["level_raw"] is None


@pytest.mark.django_db
def test_an_escalated_warning_goes_back_to_enforcement_even_when_already_dispatched(
    demo_geo, monkeypatch, django_capture_on_commit_callbacks
):
    """Orange → dispatched; the same episode turns red → handed over again (red's extra subtasks)."""
    from datetime import UTC, datetime

    import apps.enforcement.services as enforcement
    from apps.elements.domain.pipeline import WarningEvent

    handed = []
    monkeypatch.setattr(enforcement, "warning_auto_dispatch", lambda *, warning_id: handed.append(warning_id))
    pier = demo_geo["demo-gt-01"]
    t0 = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)

    def event(level, score, action):
        return WarningEvent(action=action, episode_key="test:escalate", kind="idle_pier_landing", level=level,
                            score=score, vessels=("412440001",), geofence_id=pier.pk, geofence_name=pier.name,
                            start=t0, end=t0 + timedelta(minutes=60), ongoing=True, factors={}, contributions={},
                            rule={}, tide_window=None, fixes=(), evidence={})

    with django_capture_on_commit_callbacks(execute=True):
        w = services.warning_upsert(event=event("orange", 62.0, "new"))
    assert handed == [w.pk]
    services.warning_status_set(warning=w, status=Warning.Status.DISPATCHED)
    with django_capture_on_commit_callbacks(execute=True):
        services.warning_upsert(event=event("orange", 64.0, "update"))  # same level: nothing new
    assert handed == [w.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.warning_upsert(event=event("red", 80.0, "update"))
    assert handed == [w.pk, w.pk]
