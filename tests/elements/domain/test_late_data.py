"""Late data re-judged: a target's fixes that arrive after its horizon replay its stored track;
warnings are updated (same key), taken over by another kind, or withdrawn — never duplicated."""
from __future__ import annotations

from datetime import timedelta

from apps.elements.domain.model import PositionFix
from apps.elements.domain.pipeline import TrackPipeline, WarningEvent

from .tracks import OPEN_SEA, PIER, FixStore, landing, moved, pair, pipeline, sail, sh, stay


def feed(p: TrackPipeline, store: FixStore, fixes: list[PositionFix], size: int = 60) -> list[WarningEvent]:
    """Store, then judge (what the Django side does), in batches."""
    out: list[WarningEvent] = []
    for k in range(0, len(fixes), size):
        out += p.process(store.add(fixes[k : k + size]))
    return out


def judging(**kw: object) -> tuple[TrackPipeline, FixStore]:
    store = FixStore()
    return pipeline(history=store.track, history_near=store.near, **kw), store


def final(ws: list[WarningEvent]) -> dict[str, WarningEvent]:
    out: dict[str, WarningEvent] = {}
    for w in ws:
        out[w.episode_key] = w
    return out


def as_beidou(fixes: list[PositionFix]) -> list[PositionFix]:
    return [PositionFix("beidou", f.vessel_id, f.ts, f.lon, f.lat, f.sog_kn) for f in fixes]


def test_a_late_beidou_batch_turns_a_dark_gap_into_a_landing_at_the_pier() -> None:
    vid = "413000201"
    t = sh(2021, 3, 21, 0, 40)
    ais = sail(vid, t, moved(*PIER, east_m=2_000), PIER, minutes=10)  # in towards the pier, then silent
    ais += stay(vid, t + timedelta(hours=2, minutes=10), PIER, minutes=6)  # back on AIS at the pier 2 h later
    ais += sail(vid, t + timedelta(hours=2, minutes=17), PIER, moved(*PIER, east_m=4_000), minutes=20)
    p, store = judging()
    first = feed(p, store, ais)
    dark = [w for w in first if w.kind == "dark_vessel"]
    assert len(dark) == 1 and not [w for w in first if w.kind == "idle_pier_landing"]
    key = dark[0].episode_key
    # The boat's Beidou terminal reported all along, stopped at the pier; its batch comes 2 h late.
    late = as_beidou(stay(vid, t + timedelta(minutes=11), PIER, minutes=117, every_min=3))
    ws = feed(p, store, late, size=len(late))
    assert p.stats["rejudged"] >= 1
    taken = [w for w in ws if w.episode_key == key]
    assert taken and all(w.action == "update" for w in taken)
    assert taken[-1].kind == "idle_pier_landing" and taken[-1].geofence_id == "gt-01"
    assert taken[-1].evidence["late_data"]["sources"] == ["beidou"]
    assert not [w for w in ws if w.action == "new"]  # updated, never duplicated
    assert not [w for w in ws if w.action == "withdraw"]


def test_a_late_batch_showing_the_vessel_far_at_sea_withdraws_the_landing() -> None:
    vid = "413000202"
    t = sh(2021, 3, 21, 1, 0)
    ais = sail(vid, t - timedelta(minutes=10), moved(*PIER, east_m=2_000), PIER, minutes=10)
    ais += stay(vid, t, PIER, minutes=2, sog_kn=0.0)
    ais += stay(vid, t + timedelta(minutes=50), PIER, minutes=10, sog_kn=0.0)  # silent 48 min "at the pier"
    ais += sail(vid, t + timedelta(minutes=61), PIER, moved(*PIER, east_m=4_000), minutes=20)
    p, store = judging()
    land = [w for w in feed(p, store, ais) if w.kind == "idle_pier_landing"]
    assert land and land[0].action == "new"
    key = land[0].episode_key
    # Late Beidou fixes: in the silence the boat was 6 km out at sea, under way.
    out = sail(vid, t + timedelta(minutes=4), PIER, moved(*PIER, east_m=6_000), minutes=20, every_min=3, sog_kn=9.0)
    back = sail(vid, t + timedelta(minutes=25), moved(*PIER, east_m=6_000), PIER, minutes=21, every_min=3, sog_kn=9.0)
    ws = feed(p, store, as_beidou(out + back), size=100)
    withdrawn = [w for w in ws if w.action == "withdraw"]
    assert [w.episode_key for w in withdrawn] == [key]
    assert withdrawn[0].kind == "idle_pier_landing" and withdrawn[0].evidence["reason"] == "disproved_by_late_data"
    assert withdrawn[0].evidence["late_sources"] == ["beidou"]
    assert not [w for w in ws if w.kind == "idle_pier_landing" and w.action == "new"]


def test_a_satellite_source_30_minutes_late_raises_nothing_twice() -> None:
    """Terrestrial AIS sees a landing boat every 2 min, but only every other quarter hour; a
    satellite feed fills the holes and is delivered 30 minutes late, every 5 minutes."""
    t0 = sh(2021, 3, 21, 0, 30)
    everything = landing("413000203", t0 + timedelta(minutes=30), stop_min=90)
    everything += pair(t0 + timedelta(minutes=20), OPEN_SEA, apart_m=60, minutes=60)
    everything.sort(key=lambda f: (f.ts, f.vessel_id))

    def terrestrial(f: PositionFix) -> bool:
        return ((f.ts - t0).total_seconds() // 900) % 2 == 0

    sat = [PositionFix("sat_ais", f.vessel_id, f.ts, f.lon, f.lat, f.sog_kn) for f in everything if not terrestrial(f)]
    ter = [f for f in everything if terrestrial(f)]
    p, store = judging()
    ws: list[WarningEvent] = []
    clock = t0
    while clock < t0 + timedelta(hours=4):
        nxt = clock + timedelta(minutes=5)
        batch = [f for f in ter if clock <= f.ts < nxt]
        batch += [f for f in sat if clock - timedelta(minutes=30) <= f.ts < nxt - timedelta(minutes=30)]
        ws += p.process(store.add(batch))
        clock = nxt
    ws += p.process(store.add([f for f in sat if f.ts >= clock - timedelta(minutes=30)]))
    news = [w.episode_key for w in ws if w.action == "new"]
    assert len(news) == len(set(news))
    assert not [w for w in ws if w.action == "withdraw"]
    kinds = sorted(w.kind for w in final(ws).values())
    in_order, in_store = judging()
    ref = sorted(w.kind for w in final(feed(in_order, in_store, everything)).values())
    assert kinds == ref and "idle_pier_landing" in kinds and "rendezvous" in kinds


def test_replay_from_stored_fixes_gives_the_same_warnings_whatever_the_arrival_order() -> None:
    vid = "413000204"
    t = sh(2021, 3, 21, 0, 50)
    track = landing(vid, t, stop_min=100)
    p1, s1 = judging()
    in_order = final(feed(p1, s1, track))
    p2, s2 = judging()
    shuffled = track[::3] + track[1::3] + track[2::3]  # three passes over the day, each in time order
    out_of_order = final(feed(p2, s2, shuffled, size=40))
    live = {k: w for k, w in out_of_order.items() if w.action != "withdraw"}
    assert [(w.kind, w.level, w.geofence_id) for w in in_order.values()] == [
        (w.kind, w.level, w.geofence_id) for w in live.values()
    ]


def test_late_fixes_of_one_vessel_do_not_disturb_the_others_in_the_same_batch() -> None:
    a = landing("413000205", sh(2021, 3, 21, 1, 0))
    b = landing("413000206", sh(2021, 3, 21, 1, 0), at=moved(*PIER, north_m=50))
    p, store = judging()
    feed(p, store, a[:50])
    # one batch: a's late fixes (older than its horizon) among b's whole landing
    late_a = [PositionFix("beidou", f.vessel_id, f.ts + timedelta(seconds=30), f.lon, f.lat, f.sog_kn) for f in a[20:40]]
    ws = p.process(store.add(sorted(late_a + b + a[50:], key=lambda f: f.ts)))
    assert p.stats["rejudged"] == 1
    landings = {w.vessels[0] for w in ws if w.kind == "idle_pier_landing"}
    assert landings == {"413000205", "413000206"}
