"""Encounters tracker: rendezvous at sea."""
from __future__ import annotations

import pytest

from apps.elements.domain.trackers import EncounterTracker

from ..tracks import HARBOUR, OPEN_SEA, FixStore, every, kinds, moved, of_kind, pair, pipeline, sh


def test_rendezvous_two_slow_vessels_close_for_a_while_at_sea() -> None:
    found = of_kind(pipeline().detect(pair(sh(2021, 3, 21, 2), OPEN_SEA, apart_m=80, minutes=45)), "rendezvous")
    assert found and found[0].vessels == ("4137", "4138") and found[0].geofence_id is None
    assert found[-1].evidence["duration_min"] >= 40
    assert found[-1].evidence["min_distance_m"] == pytest.approx(80, abs=1)
    assert len({f.episode_key for f in found}) == 1

def test_rendezvous_quiet_cases() -> None:
    t = sh(2021, 3, 21, 2)
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, OPEN_SEA, apart_m=2_000, minutes=45)))  # not close
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, OPEN_SEA, apart_m=80, minutes=12)))  # too short
    fast = pair(t, OPEN_SEA, apart_m=80, minutes=45, sog_kn=9.0)
    assert "rendezvous" not in kinds(pipeline().detect(fast))  # not slow
    near_port = moved(*HARBOUR, east_m=1_500)
    assert "rendezvous" not in kinds(pipeline().detect(pair(t, near_port, apart_m=80, minutes=45)))  # at a port


def test_the_encounters_tracker_alone_keeps_its_grid_in_the_shared_state() -> None:
    p = pipeline(trackers=(EncounterTracker,))
    found = p.detect(pair(sh(2021, 3, 21, 2), OPEN_SEA, apart_m=80, minutes=45))
    assert kinds(found) == {"rendezvous"}
    assert "rendezvous" in p.store.keys() and not any(k.startswith("site:") for k in p.store.keys())


def _ais_and_beidou() -> tuple[list, list]:
    """An AIS mother ship reporting every 10 s from 01:00 to 07:00 (slow at sea all along) and a
    Beidou boat reporting every 180 s that lies 90 m from it from 02:00 to 02:45."""
    ais = every("ais", "413000100", sh(2021, 3, 21, 1), OPEN_SEA, minutes=360, every_s=10)
    beidou = every("beidou", "BD77001", sh(2021, 3, 21, 2), moved(*OPEN_SEA, east_m=90), minutes=45, every_s=180)
    return ais, beidou


def _in_batches(p, fixes: list, store: FixStore, size: int = 400) -> list:
    out = []
    for k in range(0, len(fixes), size):
        out += p.process(store.add(fixes[k : k + size]))  # stored first, then judged (as the Django side does)
    return out


@pytest.mark.parametrize("order", ["together", "ais_first", "beidou_first"])
def test_ais_every_10_s_meets_beidou_every_180_s_whatever_arrives_first(order: str) -> None:
    ais, beidou = _ais_and_beidou()
    store = FixStore()
    p = pipeline(history_near=store.near)
    if order == "together":
        ws = _in_batches(p, sorted(ais + beidou, key=lambda f: f.ts), store)
    elif order == "ais_first":
        ws = _in_batches(p, ais, store) + _in_batches(p, beidou, store)
    else:
        ws = _in_batches(p, beidou, store) + _in_batches(p, ais, store)
    rv = [w for w in ws if w.kind == "rendezvous"]
    assert len({w.episode_key for w in rv}) == 1, [w.episode_key for w in rv]
    assert [w.action for w in rv].count("new") == 1
    last = rv[-1]
    assert last.vessels == ("413000100", "BD77001") and not last.ongoing
    assert 40 <= last.evidence["duration_min"] <= 50 and set(last.evidence["sources"]) == {"ais", "beidou"}


def test_a_silence_longer_than_the_interpolation_limit_is_not_bridged() -> None:
    ais = every("ais", "413000100", sh(2021, 3, 21, 2), OPEN_SEA, minutes=60, every_s=10)
    # A Beidou boat with two fixes 40 min apart beside the ship: more than Beidou's 20-minute limit.
    far_apart = [every("beidou", "BD77001", sh(2021, 3, 21, 2, m), moved(*OPEN_SEA, east_m=90), minutes=0, every_s=60)[0]
                 for m in (5, 45)]
    ws = pipeline().process(sorted(ais + far_apart, key=lambda f: f.ts))
    assert not [w for w in ws if w.kind == "rendezvous"]
