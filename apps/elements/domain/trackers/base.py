"""What every tracker shares: the batch it works in, the context it judges with, its protocol.

A tracker watches one kind of episode. The pipeline walks the fixes of a batch in event
time and hands each fix to every tracker (:meth:`Tracker.on_fix`); a tracker judges with
the pipeline's context (:class:`TrackerContext`: geofence index, detector settings per
area and season, local clock, tide windows, watch list) and reports what it found with
``ctx.emit(...)``. It keeps its state in the :class:`Batch` (per-vessel state in
:class:`VesselState`, shared state under a key of its own), which the pipeline loads from
and writes back to the state store once per batch. Trackers import no Django.

Adding a tracker: one module with a :class:`Tracker` subclass, registered in
``trackers/__init__.py`` (``DEFAULT_TRACKERS``) or passed to ``TrackPipeline(trackers=...)``.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from apps.elements.domain.detectors import DetectorConfig, DetectorSet, LocalClock, utc_dt
from apps.elements.domain.geometry import Geofence, GeofenceIndex
from apps.elements.domain.model import PositionFix, TideWindow
from apps.elements.domain.state import (
    RENDEZVOUS_KEY,
    SITE_PREFIX,
    VESSEL_PREFIX,
    RendezvousState,
    SiteState,
    State,
    StateStore,
    VesselState,
)

if TYPE_CHECKING:
    from apps.elements.domain.detectors import Finding

__all__ = ["Batch", "FixColumns", "Tracker", "TrackerContext", "stamp"]


def stamp(t_s: float) -> str:
    """An epoch time as the compact UTC stamp used in episode keys."""
    return utc_dt(t_s).strftime("%Y%m%dT%H%M%SZ")


@dataclass(slots=True)
class FixColumns:
    """A batch's fixes as columns, computed once (vectorised) for every tracker.

    ``gf`` is the index (in ``ctx.index.geofences``) of the geofence holding each fix, or -1.
    The ``*_l`` lists are the same values as Python floats (fast scalar access in the walk).
    """

    fixes: Sequence[PositionFix]
    vids: list[str]
    ts: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    sog: np.ndarray
    gf: np.ndarray
    ts_l: list[float]
    lon_l: list[float]
    lat_l: list[float]
    gf_l: list[int]


class TrackerContext(Protocol):
    """What a tracker may use of the pipeline (the pipeline implements it)."""

    index: GeofenceIndex
    config: DetectorConfig
    clock: LocalClock
    tide_window_at: Callable[[datetime], TideWindow | None] | None
    watchlist: dict[str, str]
    stats: dict[str, int]
    reeval_s: float
    #: source -> interpolation limit (s); and the largest of them
    interpolation_limits: dict[str, float]
    max_interpolation_s: float
    #: stored fixes of any vessel inside a box and a time range (None: no fix store)
    history_near: Callable[[float, float, float, float, float, float], list[PositionFix]] | None

    def allowed_lateness(self, source: str) -> float: ...

    def withdraw(
        self,
        b: Batch,
        key: str,
        *,
        kind: str,
        vessels: tuple[str, ...],
        start_s: float,
        end_s: float,
        reason: str,
        detail: dict[str, Any],
    ) -> None: ...

    def emit(
        self,
        b: Batch,
        *,
        kind: str,
        vessels: tuple[str, ...],
        geofence: Geofence | None,
        start_s: float,
        end_s: float,
        factors: dict[str, float],
        evidence: dict[str, Any],
        key: str,
        ongoing: bool,
        fixes: Sequence[PositionFix],
        tide_window: TideWindow | None,
        detector: Any,
        area: str,
        month: int,
    ) -> None: ...

    def geofence(self, geofence_id: str | int) -> Geofence | None: ...

    def det_for(self, gfo: Geofence, month: int) -> DetectorSet: ...

    def tracker(self, name: str) -> Tracker: ...


class Batch:
    """States loaded for one call and the findings it produced; persisted at the end."""

    __slots__ = ("cols", "findings", "shared", "store", "vessels", "withdrawn")

    def __init__(self, store: StateStore) -> None:
        self.store = store
        self.vessels: dict[str, VesselState] = {}
        #: store key -> shared state (``site:<id>``, ``rendezvous``, a tracker's own keys)
        self.shared: dict[str, State] = {}
        self.findings: list[Finding] = []
        self.cols: FixColumns | None = None
        #: warnings that re-judging after late data no longer finds (pipeline WarningEvents)
        self.withdrawn: list[Any] = []

    def load_vessels(self, vessel_ids: Collection[str]) -> None:
        want = [v for v in vessel_ids if v not in self.vessels]
        got = self.store.get_many([VESSEL_PREFIX + v for v in want])
        cut = len(VESSEL_PREFIX)
        for key, st in got.items():
            self.vessels[key[cut:]] = st
        for v in want:
            if v not in self.vessels:
                self.vessels[v] = VesselState(vessel_id=v)

    def vessel(self, vessel_id: str) -> VesselState:
        st = self.vessels.get(vessel_id)
        if st is None:
            self.load_vessels([vessel_id])
            st = self.vessels[vessel_id]
        return st

    def shared_state(self, key: str, cls: type, factory: Callable[[], State]) -> Any:
        """The shared state under ``key`` (loaded once per batch, created by ``factory``)."""
        st = self.shared.get(key)
        if st is None:
            got = self.store.get_many([key]).get(key)
            st = got if isinstance(got, cls) else factory()
            self.shared[key] = st
        return st

    def site(self, geofence_id: str | int) -> SiteState:
        return self.shared_state(SITE_PREFIX + str(geofence_id), SiteState, lambda: SiteState(geofence_id=geofence_id))

    def rendezvous(self) -> RendezvousState:
        return self.shared_state(RENDEZVOUS_KEY, RendezvousState, RendezvousState)

    def persist(self) -> None:
        items: dict[str, State] = {VESSEL_PREFIX + k: v for k, v in self.vessels.items()}
        items.update(self.shared)
        self.store.put_many(items)


class Tracker:
    """One kind of episode. Override what the tracker needs; every hook defaults to nothing.

    Hooks, in the order the pipeline calls them for a batch:

    * :meth:`begin` once, with the batch's columns (vectorised pre-selection);
    * :meth:`tick` whenever event time has moved on by a minute or more (before the fix);
    * :meth:`on_fix` for every fix newer than its vessel's last one, in event time; ``st``
      is the vessel's state *before* the fix (``st.last_fix`` is the previous fix),
      ``sp`` the speed in knots (reported, or derived from the previous fix; NaN if neither);
      :meth:`on_late_fix` instead for a fix older than that (late data);
    * :meth:`end` once, with the batch's latest event time.
    """

    name: ClassVar[str] = ""
    #: the warning kinds this tracker emits
    kinds: ClassVar[tuple[str, ...]] = ()
    #: judges one target at a time from its own fixes, so late data re-judges the target by
    #: replaying its stored fixes through this tracker alone (see ``TrackPipeline``)
    per_target: ClassVar[bool] = False

    def bind(self, ctx: TrackerContext) -> None:
        """Called once by the pipeline: keep the context, derive thresholds from its config."""
        self.ctx = ctx

    def connect(self, trackers: Sequence[Tracker]) -> None:
        """Called once after every tracker is bound: find the trackers this one works with."""

    def begin(self, b: Batch, cols: FixColumns) -> None:
        pass

    def tick(self, b: Batch, now_s: float) -> None:
        pass

    def on_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        pass

    def on_late_fix(self, b: Batch, st: VesselState, i: int, fix: PositionFix, t: float, sp: float) -> None:
        """A fix not newer than its vessel's judged horizon (``st.last_s``), in event time;
        ``sp`` is its reported speed (NaN if none). Trackers that judge across vessels on
        tracks take it in its place."""

    def end(self, b: Batch, now_s: float) -> None:
        pass
