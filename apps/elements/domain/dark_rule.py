"""The dark-target rule's settings (one instance per area and season, in ``DetectorSet.dark_target``)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class DarkTargetRule:
    """When an unmatched radar track is a ``dark_target`` (see ``trackers/dark_targets.py``),
    and how radar judges a ``dark_vessel`` gap. Defaults are documented in docs/architecture.md."""

    kind: ClassVar[str] = "dark_target"
    enabled: bool = True
    min_unmatched_min: float = 10.0
    toward_shore_m: float = 500.0
    near_shore_m: float = 5000.0
    loiter_radius_m: float = 400.0
    meet_m: float = 200.0
    #: ``dark_vessel`` is confirmed when a radar track associated with the vessel went on this
    #: long after the vessel's last cooperative fix.
    confirm_continue_min: float = 5.0
    #: score factor for a gap that lies outside all radar coverage (a coverage gap, not switching off)
    outside_coverage_behaviour: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> DarkTargetRule:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in dict(d or {}).items() if k in names})
