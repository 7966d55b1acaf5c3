"""Live pushes the cockpit listens to (it publishes none of its own).

The names come from each module's ``events.py``; the page receives this map (JSON) and
reloads the counters and the map when one arrives, and everything on every (re)connect.
"""
from __future__ import annotations

from apps.elements import events as elements_events
from apps.enforcement import events as enforcement_events
from apps.reporting import events as reporting_events
from apps.sources import events as sources_events

# What changes the counters / the map
_LISTENED: tuple[str, ...] = (
    elements_events.WARNING_NEW,
    elements_events.WARNING_UPDATED,
    enforcement_events.TASK_NEW,
    enforcement_events.TASK_CHANGED,
    enforcement_events.TASK_ESCALATED,
    enforcement_events.CASE_CHANGED,
    reporting_events.TIP_NEW,
    reporting_events.TIP_CHANGED,
    reporting_events.REWARD_CHANGED,
    sources_events.CHECKIN_RECORDED,
    sources_events.CHECKIN_MISSED,
    sources_events.FACILITY_DOWN,
    sources_events.FACILITY_UP,
    sources_events.REPAIR_CHANGED,
)
# Events that also move things on the map (the rest only change counters).
MAP_EVENTS = frozenset(
    {"warning.new", "warning.updated", "sources.checkin", "sources.facility_down", "sources.facility_up"}
)
# Events that deserve a sound and a toast on the wall screen.
ALERT_EVENTS = frozenset({"warning.new", "task.escalated", "sources.facility_down"})


def listened_events() -> list[str]:
    """Every event name the cockpit reacts to."""
    return list(_LISTENED)


def page_config() -> dict:
    events = listened_events()
    return {"events": events, "map": sorted(MAP_EVENTS & set(events)), "alert": sorted(ALERT_EVENTS & set(events))}
