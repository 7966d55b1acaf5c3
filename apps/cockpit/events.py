"""Live pushes the cockpit listens to (it publishes none of its own).

The names come from each module's ``events.py``; the page receives this map (JSON) and
reloads the counters and the map when one arrives, and everything on every (re)connect.
"""
from __future__ import annotations

from importlib import import_module

# (module, constant names) — what changes the counters / the map
_SOURCES: dict[str, tuple[str, ...]] = {
    "apps.elements.events": ("WARNING_NEW", "WARNING_UPDATED"),
    "apps.enforcement.events": ("TASK_NEW", "TASK_CHANGED", "TASK_ESCALATED", "CASE_CHANGED"),
    "apps.reporting.events": ("TIP_NEW", "TIP_CHANGED", "REWARD_CHANGED"),
    "apps.sources.events": ("CHECKIN_RECORDED", "CHECKIN_MISSED", "FACILITY_DOWN", "FACILITY_UP", "REPAIR_CHANGED"),
}
# Events that also move things on the map (the rest only change counters).
MAP_EVENTS = frozenset(
    {"warning.new", "warning.updated", "sources.checkin", "sources.facility_down", "sources.facility_up"}
)
# Events that deserve a sound and a toast on the wall screen.
ALERT_EVENTS = frozenset({"warning.new", "task.escalated", "sources.facility_down"})


def listened_events() -> list[str]:
    """Every event name the cockpit reacts to (modules not built yet are skipped)."""
    names: list[str] = []
    for module, constants in _SOURCES.items():
        try:
            mod = import_module(module)
        except ImportError:
            continue
        names.extend(getattr(mod, c) for c in constants if hasattr(mod, c))
    return names


def page_config() -> dict:
    events = listened_events()
    return {"events": events, "map": sorted(MAP_EVENTS & set(events)), "alert": sorted(ALERT_EVENTS & set(events))}
