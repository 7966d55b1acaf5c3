"""TrackPipeline: warnings, de-duplication, replay, registry, ordering, state."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from apps.elements.domain.ahp import default_weights
from apps.elements.domain.model import PositionFix, VehicleCapture
from apps.elements.domain.pipeline import (
    InMemoryStateStore,
    RendezvousState,
    SiteState,
    TrackPipeline,
    VesselState,
    WarningEvent,
    state_from_dict,
)

from .tracks import (
    CHECKPOINT,
    HARBOUR,
    OPEN_SEA,
    PIER,
    WORLD,
    high_water_at,
    landing,
    moved,
    pair,
    probe,
    sh,
    stay,
)


def pipeline(**kw: object) -> TrackPipeline:
    kw.setdefault("geofences", WORLD)
    return TrackPipeline(**kw)  # type: ignore[arg-type]


def run(p: TrackPipeline, fixes: list[PositionFix], *, batch: int | None = None) -> list[WarningEvent]:
    if batch is None:
        return p.process(fixes)
    out: list[WarningEvent] = []
    for k in range(0, len(fixes), batch):
        out += p.process(fixes[k : k + batch])
    return out


def scenario() -> list[PositionFix]:
    """Several episodes at once: a landing at high water, a dark gap, a rendezvous, a scout
    and a repeat two nights later, plus background traffic at the harbour."""
    t = sh(2021, 3, 21, 0, 0)
    fixes = landing("413000001", t + timedelta(hours=1))
    fixes += landing("413000001", t + timedelta(days=2, hours=1))
    fixes += probe("413000002", t, sog_kn=3.0)
    dark = stay("413000003", t, moved(*PIER, east_m=1_500), minutes=10)
    dark += stay("413000003", t + timedelta(minutes=150), moved(*PIER, east_m=800), minutes=10)
    fixes += dark
    fixes += pair(t + timedelta(hours=2), OPEN_SEA, apart_m=60, minutes=50)
    fixes += stay("413000009", t, HARBOUR, minutes=240, every_min=3, sog_kn=0.0)
    return sorted(fixes, key=lambda f: (f.ts, f.vessel_id))


def signature(ws: list[WarningEvent]) -> list[tuple]:
    return sorted((w.episode_key, w.action, w.level, w.score, w.end, w.ongoing) for w in ws)


# --------------------------------------------------------------------------- warnings


def test_a_landing_is_one_warning_updated_while_it_lasts() -> None:
    arrive = sh(2021, 3, 21, 1, 0)
    p = pipeline(tide_window_at=high_water_at(arrive + timedelta(minutes=40)))
    ws = [w for w in run(p, landing("413000001", arrive, stop_min=100)) if w.kind == "idle_pier_landing"]
    assert [w.action for w in ws][0] == "new"
    assert all(w.action == "update" for w in ws[1:]) and len(ws) >= 2
    assert len({w.episode_key for w in ws}) == 1
    assert ws[-1].ongoing is False and all(w.ongoing for w in ws[:-1])
    last = ws[-1]
    # A registered vessel, idle pier, night, high water: behaviour+location+night+tide = yellow.
    assert last.level == "yellow" and last.factors["tide"] == 1.0
    assert sum(last.contributions.values()) == pytest.approx(last.score, abs=0.01)
    assert last.geofence_name == "高塘闲置码头" and last.tide_window is not None
    assert last.rule["detector"] == "idle_pier_landing" and last.rule["params"]["min_dwell_min"] == 30
    assert last.rule["weights"] == pytest.approx(dict(default_weights()))
    assert 2 <= len(last.fixes) <= 24 and last.fixes[0].ts < last.fixes[-1].ts
    json.dumps(last.to_dict(), ensure_ascii=False)  # storable as evidence
    # The next night is a new episode (and a repeat visit).
    ws2 = run(p, landing("413000001", arrive + timedelta(days=1)))
    new = {w.kind for w in ws2 if w.action == "new"}
    assert "idle_pier_landing" in new
    assert {w.episode_key for w in ws2 if w.kind == "idle_pier_landing"}.isdisjoint({ws[0].episode_key})


def test_updates_are_throttled_by_event_time_and_score_change() -> None:
    p = pipeline()
    ws = run(p, landing("413000001", sh(2021, 3, 21, 1, 0), stop_min=240))
    land = [w for w in ws if w.kind == "idle_pier_landing"]
    # A 4-hour stop re-judged every 5 min would be ~45 findings; warnings are far fewer.
    assert len(land) <= 20
    assert p.stats["findings"] > len(ws)


def test_unknown_vessel_is_a_risk_factor_not_an_error() -> None:
    arrive = sh(2021, 3, 21, 1, 0)
    known = run(pipeline(known_vessels={"413000001"}), landing("413000001", arrive))
    unknown = run(pipeline(known_vessels={"999"}), landing("413000001", arrive))
    k, u = known[-1], unknown[-1]
    assert k.factors["unknown_vessel"] == 0.0 and u.factors["unknown_vessel"] == 1.0
    assert u.evidence["unknown_vessels"] == ["413000001"] and "unknown_vessels" not in k.evidence
    assert u.score > k.score
    assert u.contributions["unknown_vessel"] == pytest.approx(100 * default_weights()["unknown_vessel"], abs=0.01)
    # A predicate works as the registry too.
    by_call = run(pipeline(known_vessels=lambda vid: vid.startswith("413")), landing("413000001", arrive))
    assert by_call[-1].factors["unknown_vessel"] == 0.0


def test_watch_list_and_history_raise_the_score() -> None:
    arrive = sh(2021, 3, 21, 1, 0)
    plain = run(pipeline(), landing("413000001", arrive))[-1]
    watched = run(pipeline(watchlist={"413000001": "A"}), landing("413000001", arrive))[-1]
    assert watched.score > plain.score and watched.evidence["watchlist_groups"] == {"413000001": "A"}
    p = pipeline()
    run(p, landing("413000001", arrive))
    second = [w for w in run(p, landing("413000001", arrive + timedelta(days=4))) if w.kind == "idle_pier_landing"][-1]
    assert second.factors["history"] > 0 and second.score > plain.score


def test_vehicle_capture_updates_the_landing_warning() -> None:
    p = pipeline(known_vehicles=set())
    arrive = sh(2021, 3, 21, 1, 0)
    first = run(p, landing("413000001", arrive, stop_min=90)[:45])
    key = [w for w in first if w.kind == "idle_pier_landing"][-1].episode_key
    ws = p.process_vehicle_captures([VehicleCapture("kk-07", "浙B0000X", arrive + timedelta(minutes=50), *CHECKPOINT)])
    land = [w for w in ws if w.kind == "idle_pier_landing"]
    assert land and land[0].action == "update" and land[0].episode_key == key
    assert land[0].factors["corroboration"] == 1.0
    veh = [w for w in ws if w.kind == "vehicle_vessel"]
    assert veh and veh[0].action == "new"


# --------------------------------------------------------------------------- replay and state


def test_replay_gives_the_same_warnings() -> None:
    fixes = scenario()
    a = run(pipeline(tide_window_at=high_water_at(sh(2021, 3, 21, 1, 40))), fixes, batch=500)
    b = run(pipeline(tide_window_at=high_water_at(sh(2021, 3, 21, 1, 40))), fixes, batch=500)
    assert a == b
    kinds = {w.kind for w in a}
    assert {"idle_pier_landing", "dark_vessel", "rendezvous", "scout_boat", "repeat_visit"} <= kinds


def test_results_do_not_depend_on_batching_or_serialised_state() -> None:
    fixes = scenario()
    one = run(pipeline(), fixes)
    small = run(pipeline(), fixes, batch=37)
    via_json = run(pipeline(state_store=InMemoryStateStore(serialise=True)), fixes, batch=211)
    assert signature(one) == signature(small) == signature(via_json)


def test_out_of_order_and_duplicate_fixes_are_ignored_for_state() -> None:
    arrive = sh(2021, 3, 21, 1, 0)
    track = landing("413000001", arrive)
    p = pipeline()
    clean = run(pipeline(), track)
    late = [replace(f, lon=f.lon + 0.05) for f in track[30:40]]  # older than what was seen, elsewhere
    got = run(p, track[:60]) + run(p, late + track[55:60]) + run(p, track[60:])
    assert p.stats["ignored_out_of_order"] == len(late) + 5
    st = p.store.get_many(["vessel:413000001"])["vessel:413000001"]
    assert isinstance(st, VesselState) and st.n_ignored == 15
    assert signature(got) == signature(clean)


def test_fixes_in_any_order_within_a_batch_are_sorted() -> None:
    track = landing("413000001", sh(2021, 3, 21, 1, 0))
    assert signature(run(pipeline(), list(reversed(track)))) == signature(run(pipeline(), track))


def test_naive_timestamps_are_refused() -> None:
    bad = PositionFix("ais", "1", datetime(2021, 3, 21, 1, 0), *PIER, 0.0)
    with pytest.raises(ValueError, match="aware"):
        pipeline().process([bad])


def test_state_round_trips_through_json() -> None:
    store = InMemoryStateStore()
    p = pipeline(state_store=store)
    fixes = scenario()
    run(p, fixes[: len(fixes) // 2])
    assert store.keys()
    types = set()
    for key in store.keys():
        obj = store.get_many([key])[key]
        again = state_from_dict(json.loads(json.dumps(obj.to_dict(), ensure_ascii=False)))
        assert again.to_dict() == obj.to_dict()
        types.add(type(obj))
    assert {VesselState, SiteState, RendezvousState} <= types
    with pytest.raises(ValueError):
        state_from_dict({"type": "spaceship"})


def test_warning_event_to_dict_is_json() -> None:
    ws = run(pipeline(), scenario())
    for w in ws:
        d = json.loads(json.dumps(w.to_dict(), ensure_ascii=False))
        assert d["episode_key"] == w.episode_key and d["start"].endswith("+00:00")
    assert all(w.start.tzinfo is UTC for w in ws)
