"""Repeats tracker: the same vessel or group back at the same idle pier within days."""
from __future__ import annotations

import pytest

from ..tracks import kinds, landing, of_kind, pipeline, sh


def test_repeat_visit_same_vessel_within_three_days() -> None:
    p = pipeline()
    first = p.detect(landing("4134", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(first)
    again = p.detect(landing("4134", sh(2021, 3, 23, 2, 0)))  # 49 h later
    rep = of_kind(again, "repeat_visit")
    assert len(rep) == 1 and rep[0].vessels == ("4134",)
    assert rep[0].evidence["intervals_h"] == [pytest.approx(49)]
    third = of_kind(p.detect(landing("4134", sh(2021, 3, 25, 1, 30))), "repeat_visit")
    assert third[0].episode_key == rep[0].episode_key  # the same burst
    assert third[0].factors["behaviour"] > rep[0].factors["behaviour"]

def test_repeat_visit_by_a_watch_list_group_but_not_strangers_or_after_a_week() -> None:
    group = {"4135": "舟山帮", "4136": "舟山帮"}
    p = pipeline(watchlist=group)
    p.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    rep = of_kind(p.detect(landing("4136", sh(2021, 3, 23, 1, 0))), "repeat_visit")
    assert rep and rep[0].vessels == ("4135", "4136") and rep[0].factors["watchlist"] == 1.0
    strangers = pipeline()
    strangers.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(strangers.detect(landing("4136", sh(2021, 3, 23, 1, 0))))
    late = pipeline()
    late.detect(landing("4135", sh(2021, 3, 21, 1, 0)))
    assert "repeat_visit" not in kinds(late.detect(landing("4135", sh(2021, 3, 28, 1, 0))))
