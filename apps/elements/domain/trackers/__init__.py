"""One tracker per episode kind (see ``base.py`` for the protocol and how to add one).

``DEFAULT_TRACKERS`` is the order the pipeline calls them in for each fix: dark targets first
(its ``begin`` associates radar tracks with cooperative ones for the whole batch), gaps next (a
silence is judged before the fix that ends it opens or continues a visit), then visits and
the visit listeners (repeats, vehicles, scouts: told in this order), then encounters.
"""
from __future__ import annotations

from .base import Batch, FixColumns, Tracker, TrackerContext
from .dark_targets import DarkTargetTracker
from .encounters import EncounterTracker
from .gaps import GapTracker
from .repeats import RepeatTracker
from .scouts import ScoutTracker
from .vehicles import VehicleTracker
from .visits import VisitListener, VisitTracker

DEFAULT_TRACKERS: tuple[type[Tracker], ...] = (
    DarkTargetTracker,
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
    "DarkTargetTracker",
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
