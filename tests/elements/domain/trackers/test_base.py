"""The tracker protocol: a new tracker is one class; its state survives the state store."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from apps.elements.domain.detectors import IdlePierLanding
from apps.elements.domain.model import PositionFix
from apps.elements.domain.pipeline import InMemoryStateStore
from apps.elements.domain.state import VesselState, register_state_type
from apps.elements.domain.trackers import DEFAULT_TRACKERS, Batch, Tracker

from ..tracks import OPEN_SEA, landing, pipeline, sh, stay


@dataclass
class _Tally:
    """A shared state of the test tracker's own: fixes seen per vessel."""

    seen: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "test-tally", "seen": dict(self.seen)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> _Tally:
        return cls(seen=dict(d["seen"]))


register_state_type("test-tally", _Tally)


class _FiftyFixes(Tracker):
    """Raises a finding at every vessel's 50th fix; counts per vessel and in a shared tally."""

    name = "fifty"
    kinds = ("fifty_fixes",)

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        mine = (st.trackers or {}).get(self.name, {"n": 0})
        mine["n"] += 1
        st.trackers = {**(st.trackers or {}), self.name: mine}
        tally = b.shared_state("test:tally", _Tally, _Tally)
        tally.seen[st.vessel_id] = tally.seen.get(st.vessel_id, 0) + 1
        if mine["n"] == 50:
            self.ctx.emit(
                b,
                kind="fifty_fixes",
                vessels=(st.vessel_id,),
                geofence=None,
                start_s=t,
                end_s=t,
                factors={"behaviour": 1.0},
                evidence={"n": mine["n"]},
                key=f"fifty_fixes|{st.vessel_id}",
                ongoing=False,
                fixes=(fix,),
                tide_window=None,
                detector=IdlePierLanding(),
                area="",
                month=3,
            )


def test_a_tracker_is_one_class_added_to_the_list() -> None:
    store = InMemoryStateStore(serialise=True)
    p = pipeline(trackers=(*DEFAULT_TRACKERS, _FiftyFixes), state_store=store)
    track = stay("4150", sh(2021, 3, 21, 2), OPEN_SEA, minutes=120, every_min=1, sog_kn=5.0)
    found = p.detect(track[:30]) + p.detect(track[30:])  # state goes through JSON in between
    assert [f.kind for f in found] == ["fifty_fixes"] and found[0].evidence == {"n": 50}
    assert store.get_many(["test:tally"])["test:tally"].seen == {"4150": len(track)}
    assert store.get_many(["vessel:4150"])["vessel:4150"].trackers == {"fifty": {"n": len(track)}}


def test_the_default_trackers_each_own_their_kinds() -> None:
    p = pipeline()
    kinds = [k for t in p.trackers for k in t.kinds]
    assert len(kinds) == len(set(kinds))
    assert set(kinds) == {"dark_vessel", "idle_pier_landing", "repeat_visit", "vehicle_vessel", "scout_boat", "rendezvous", "dark_target"}
    assert p.tracker("visits").kinds == ("idle_pier_landing",)
    found = p.detect(landing("4151", sh(2021, 3, 21, 1)) + landing("4151", sh(2021, 3, 23, 1)))
    assert {"idle_pier_landing", "repeat_visit"} <= {f.kind for f in found}
