"""Late data: a target's fixes older than its judged horizon re-judge the target from stored fixes.

A mixin of :class:`~apps.elements.domain.pipeline.TrackPipeline` (kept apart so that the
pipeline module stays readable). ``history(target_id, t0_s, t1_s)`` — the fix store on the
Django side — gives the target's stored fixes, the late ones included; the per-target
trackers (``Tracker.per_target``: gaps, visits) replay them from a fresh state; what they
find is reconciled with the warnings already sent (same key through an alias, another kind
taking a warning over, or a withdrawal).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any, Final

from apps.elements.domain.detectors import Finding, utc_dt
from apps.elements.domain.geo_units import MS_PER_KNOT, haversine_m
from apps.elements.domain.model import PositionFix
from apps.elements.domain.state import VesselState
from apps.elements.domain.trackers import Batch, FixColumns, Tracker, VisitTracker

if TYPE_CHECKING:
    from apps.elements.domain.detectors import DetectorConfig

#: Event time moves on for the trackers (``tick``) at most this often during a replay.
_TICK_EVERY_S: Final[float] = 60.0


class LateData:
    """Re-judging after late data (see the module docstring)."""

    history: Callable[[str, float, float], list[PositionFix]] | None
    rejudge_lookback_s: float
    trackers: list[Tracker]
    stats: dict[str, int]
    config: DetectorConfig
    _tolerance_s: float

    def _columns(self, fixes: Sequence[PositionFix]) -> FixColumns: ...  # provided by the pipeline

    def withdraw(self, b: Batch, key: str, **kwargs: Any) -> None: ...  # provided by the pipeline

    def _rejudge_late(self, b: Batch, cols: FixColumns) -> None:
        """Re-judge every target of the batch that has fixes older than its judged horizon."""
        late: dict[str, tuple[float, set[str]]] = {}
        for i, (vid, t) in enumerate(zip(cols.vids, cols.ts_l)):
            last_s = b.vessels[vid].last_s
            if last_s is not None and t < last_s:
                t0, srcs = late.get(vid, (t, set()))
                srcs.add(cols.fixes[i].source)
                late[vid] = (min(t0, t), srcs)
        for vid in sorted(late):
            t0, srcs = late[vid]
            self._rejudge(b, vid, late_s=t0, late_sources=sorted(srcs))

    def _rejudge(self, b: Batch, vid: str, *, late_s: float, late_sources: list[str]) -> None:
        """Replay one target's stored fixes through the per-target trackers and reconcile.

        From a fresh per-target state ``rejudge_lookback_s`` before the earliest late fix up
        to the target's horizon (the warnings already sent, the history and the aliases are
        kept). What the replay finds again keeps its warning (same key, updated; a finding
        of another kind over the same time takes over the warning, e.g. a dark gap that the
        late fixes show was a stop at a pier); an episode it no longer finds is withdrawn.
        Shared per-site memory (repeats, scouts, vehicles) is not replayed.
        """
        assert self.history is not None
        old = b.vessels[vid]
        horizon = old.last_s
        assert horizon is not None
        start = late_s - self.rejudge_lookback_s
        stored = sorted(self.history(vid, start, horizon), key=lambda f: f.ts)
        if not stored:
            return
        per = [t for t in self.trackers if t.per_target]
        kinds = {k for t in per for k in t.kinds}
        fresh = VesselState(
            vessel_id=vid, episodes=old.episodes, history=old.history, trackers=old.trackers, aliases=old.aliases,
            n_fixes=old.n_fixes, n_ignored=old.n_ignored, rv_last_s=old.rv_last_s,
        )
        b.vessels[vid] = fresh
        saved, b.findings = b.findings, []
        cols = self._columns(stored)
        visits = next((t for t in per if isinstance(t, VisitTracker)), None)
        with visits.alone() if visits is not None else nullcontext():
            for tr in per:
                tr.begin(b, cols)
            next_tick = -math.inf
            sog_l = cols.sog.tolist()
            for i, fix in enumerate(stored):
                t = cols.ts_l[i]
                if fresh.last_s is not None and t <= fresh.last_s:
                    continue
                if t >= next_tick:
                    for tr in per:
                        tr.tick(b, t)
                    next_tick = t + _TICK_EVERY_S
                sp = sog_l[i]
                if sp != sp and fresh.last_s is not None and fresh.last_fix is not None:
                    lf = fresh.last_fix
                    sp = haversine_m(lf.lon, lf.lat, fix.lon, fix.lat) / (t - fresh.last_s) / MS_PER_KNOT
                for tr in per:
                    tr.on_fix(b, fresh, i, fix, t, sp)
                fresh.last_s, fresh.last_fix = t, fix
                fresh.last_speed_kn = None if sp != sp else sp
            for tr in per:
                tr.end(b, horizon)
        found, b.findings = b.findings, saved
        if fresh.last_s is None or fresh.last_s < horizon:  # the store lags the state: keep the horizon
            fresh.last_s, fresh.last_fix, fresh.last_speed_kn = old.last_s, old.last_fix, old.last_speed_kn
        self._reconcile(b, fresh, found, kinds=kinds, start_s=start, late_s=late_s, late_sources=late_sources)
        for f in found:
            f.evidence["late_data"] = {"sources": late_sources, "from": utc_dt(late_s)}
        b.findings.extend(found)
        self.stats["rejudged"] = self.stats.get("rejudged", 0) + 1

    def _reconcile(
        self,
        b: Batch,
        st: VesselState,
        found: Sequence[Finding],
        *,
        kinds: Collection[str],
        start_s: float,
        late_s: float,
        late_sources: list[str],
    ) -> None:
        """Map what re-judging found onto the warnings already sent; withdraw the rest."""
        tol = self._tolerance_s
        eps = st.episodes or {}
        aliases = dict(st.aliases or {})
        # the earlier episodes the replay could have found again
        old = {
            k: r
            for k, r in eps.items()
            if k.split("|", 1)[0] in kinds and r[4] >= start_s and r[2] >= late_s - tol and r[0] is not None
        }
        spans: dict[str, list[Any]] = {}  # found key -> [kind, start_s, end_s]
        for f in found:
            sp = spans.setdefault(f.episode_key, [f.kind, f.start.timestamp(), f.end.timestamp()])
            sp[1] = min(sp[1], f.start.timestamp())
            sp[2] = max(sp[2], f.end.timestamp())
        taken: set[str] = set()

        def overlapping(ko: str, *, same_kind: bool) -> str | None:
            r = old[ko]
            kind_o = r[5] if len(r) > 5 else ko.split("|", 1)[0]
            for kf, (kind_f, s_f, e_f) in sorted(spans.items(), key=lambda kv: kv[1][1]):
                if kf in taken or (kind_f == kind_o) != same_kind:
                    continue
                if s_f <= r[2] + tol and r[4] <= e_f + tol:
                    return kf
            return None

        unmatched = []
        for ko in sorted(old, key=lambda k: old[k][4]):
            kf = overlapping(ko, same_kind=True)
            if kf is None:
                unmatched.append(ko)
                continue
            taken.add(kf)
            if kf != ko:
                aliases[kf] = ko
        for ko in unmatched:
            kf = overlapping(ko, same_kind=False)
            if kf is not None:  # another kind over the same time takes the warning over
                taken.add(kf)
                aliases[kf] = ko
                continue
            r = eps[ko]
            for k in [k for k, v in aliases.items() if v == ko]:
                del aliases[k]
            self.withdraw(
                b, ko, kind=r[5] if len(r) > 5 else ko.split("|", 1)[0], vessels=(st.vessel_id,), start_s=r[4],
                end_s=r[2], reason="disproved_by_late_data",
                detail={"late_sources": late_sources, "late_from": utc_dt(late_s)},
            )
        st.aliases = aliases or None
