"""Value objects shared by the ingest, geometry and detector code."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class PositionFix:
    """One vessel position, whatever its source.

    ``vessel_id`` is the id as it came in: an MMSI for AIS, a terminal id for Beidou.
    ``ts`` is timezone-aware (UTC after ingest). ``sog_kn``/``cog_deg`` may be None when
    the source does not report them.
    """

    source: str  # "ais" | "beidou" | any other feed name
    vessel_id: str
    ts: datetime
    lon: float
    lat: float
    sog_kn: float | None = None
    cog_deg: float | None = None


@dataclass(frozen=True, slots=True)
class StaticReport:
    """Static and voyage data (AIS types 5 and 24) that keeps the vessel registry current."""

    vessel_id: str
    ts: datetime
    name: str | None = None
    callsign: str | None = None
    imo: int | None = None
    ship_type: int | None = None
    destination: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Quarantined:
    """A piece of input that was refused, with the reason, kept for the quarantine table."""

    source: str
    raw: str
    reason: str  # a short code: bad_checksum, garbled, orphan_fragment, bad_position, ...
    detail: str = ""
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class VehicleCapture:
    """One vehicle seen by a road checkpoint (卡口) camera.

    ``plate`` is normalised (upper case, no spaces or separator dots). ``ts`` is
    timezone-aware UTC. ``lon``/``lat`` (decimal degrees) are None when the capture
    carries no coordinates; the checkpoint registry then supplies the location.
    """

    checkpoint_id: str
    plate: str
    ts: datetime
    lon: float | None = None
    lat: float | None = None


@dataclass(frozen=True, slots=True)
class TideWindow:
    """The joint-patrol window around one high water: ``peak`` -/+ 2 h by default.

    All three times are timezone-aware. ``start <= peak <= end``; the window is the span
    in which landings at idle piers are most likely (seed 003: "涨潮峰值前后两小时").
    """

    start: datetime
    peak: datetime
    end: datetime

    def __post_init__(self) -> None:
        if not (self.start <= self.peak <= self.end):
            raise ValueError("TideWindow needs start <= peak <= end")

    def contains(self, ts: datetime) -> bool:
        """True when ``ts`` (aware) falls inside the window, ends included."""
        return self.start <= ts <= self.end
