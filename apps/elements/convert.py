"""The Django border: ORM rows <-> domain value objects, and the wire form of fixes for tasks.

Fixes are *quantised* here once, at ingest, to exactly what the stored-fix table holds
(1e-7 degree, 0.1 kn, 0.1 degree), before the detectors see them. A replay from stored
fixes therefore feeds the pipeline the very same numbers as the live run did.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from shapely.geometry import shape

from .domain.geometry import Geofence as GeofenceDomain
from .domain.model import PositionFix, StaticReport, VehicleCapture
from .models import COORD_SCALE, MOTION_SCALE, Geofence

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SMALLINT_MAX = 32767

#: A fix on the wire (Celery JSON): [source, vessel_id, epoch microseconds, lon_e7, lat_e7, sog_dkn, cog_ddeg]
WireFix = list


def _motion(value: float | None) -> int | None:
    if value is None or value != value:
        return None
    v = round(value * MOTION_SCALE)
    return max(-_SMALLINT_MAX, min(_SMALLINT_MAX, v))


def ts_to_micros(ts: datetime) -> int:
    delta = ts - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def micros_to_ts(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def fix_to_wire(fix: PositionFix) -> WireFix:
    """Quantise a parsed fix to the stored resolution, as JSON-friendly primitives."""
    return [
        fix.source,
        fix.vessel_id,
        ts_to_micros(fix.ts),
        round(fix.lon * COORD_SCALE),
        round(fix.lat * COORD_SCALE),
        _motion(fix.sog_kn),
        _motion(fix.cog_deg),
    ]


def wire_to_fix(w: WireFix) -> PositionFix:
    source, vessel_id, us, lon_e7, lat_e7, sog, cog = w
    return PositionFix(
        source,
        vessel_id,
        micros_to_ts(us),
        lon_e7 / COORD_SCALE,
        lat_e7 / COORD_SCALE,
        None if sog is None else sog / MOTION_SCALE,
        None if cog is None else cog / MOTION_SCALE,
    )


def stored_to_fix(*, source: str, vessel_id: str, ts: datetime, lon_e7: int, lat_e7: int,
                  sog_dkn: int | None, cog_ddeg: int | None) -> PositionFix:
    return PositionFix(
        source,
        vessel_id,
        ts.astimezone(UTC),
        lon_e7 / COORD_SCALE,
        lat_e7 / COORD_SCALE,
        None if sog_dkn is None else sog_dkn / MOTION_SCALE,
        None if cog_ddeg is None else cog_ddeg / MOTION_SCALE,
    )


def static_to_wire(r: StaticReport) -> dict[str, Any]:
    return {
        "vessel_id": r.vessel_id,
        "ts": r.ts.isoformat(),
        "name": r.name,
        "callsign": r.callsign,
        "imo": r.imo,
        "ship_type": r.ship_type,
        "destination": r.destination,
    }


def wire_to_static(d: Mapping[str, Any]) -> StaticReport:
    return StaticReport(
        vessel_id=d["vessel_id"],
        ts=datetime.fromisoformat(d["ts"]),
        name=d.get("name"),
        callsign=d.get("callsign"),
        imo=d.get("imo"),
        ship_type=d.get("ship_type"),
        destination=d.get("destination"),
    )


def capture_to_wire(c: VehicleCapture) -> list:
    return [c.checkpoint_id, c.plate, c.ts.isoformat(), c.lon, c.lat]


def wire_to_capture(w: list) -> VehicleCapture:
    cp, plate, ts, lon, lat = w
    return VehicleCapture(cp, plate, datetime.fromisoformat(ts), lon, lat)


def geofence_to_domain(row: Geofence) -> GeofenceDomain | None:
    """A geofence row as the detectors see it (None if its stored geometry is unusable)."""
    try:
        geom = shape(row.geometry)
        return GeofenceDomain(
            id=row.pk,
            name=row.name,
            kind=row.kind,
            status=row.status,
            township=row.township,
            geometry=geom,
            props={"pier_chief": row.pier_chief},
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def geofences_to_domain(rows: Iterable[Geofence]) -> list[GeofenceDomain]:
    out = []
    for row in rows:
        g = geofence_to_domain(row)
        if g is not None:
            out.append(g)
    return out
