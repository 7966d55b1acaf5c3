"""One tracker per episode kind (see ``base.py`` for the protocol and how to add one).

``DEFAULT_TRACKERS`` is the order the pipeline calls them in for each fix: gaps first (a
silence is judged before the fix that ends it opens or continues a visit), then visits and
the visit listeners (repeats, vehicles, scouts: told in this order), then encounters.
"""
from __future__ import annotations

from .base import Batch, FixColumns, Tracker, TrackerContext
from .encounters import EncounterTracker
from .gaps import GapTracker
from .repeats import RepeatTracker
from .scouts import ScoutTracker
from .vehicles import VehicleTracker
from .visits import VisitListener, VisitTracker

DEFAULT_TRACKERS: tuple[type[Tracker], ...] = (
    GapTracker,
    VisitTracker,
    RepeatTracker,
    VehicleTracker,
    ScoutTracker,
    EncounterTracker,
)

__all__ = [
    "DEFAULT_TRACKERS",
    "Batch",
    "EncounterTracker",
    "FixColumns",
    "GapTracker",
    "RepeatTracker",
    "ScoutTracker",
    "Tracker",
    "TrackerContext",
    "VehicleTracker",
    "VisitListener",
    "VisitTracker",
]
