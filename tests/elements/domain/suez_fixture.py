"""The real Suez AIS positions (tests/fixtures/positions) rewritten as a position batch."""
from __future__ import annotations

from datetime import UTC, datetime, timezone
from pathlib import Path

SUEZ = Path(__file__).resolve().parents[2] / "fixtures" / "positions" / "suez_boat_positions_2021.csv"
HEADER = "source,vessel_id,timestamp,lat,lon,sog,cog"


def suez_as_batch(zone: timezone) -> tuple[str, list[datetime]]:
    """The Suez file in the batch format with times written in ``zone``; and the UTC times.

    The source columns are ``ID,ais_pos_timestamp (dd/mm/yyyy HH:MM, UTC),longitude,latitude``.
    """
    lines = SUEZ.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "ID,ais_pos_timestamp,longitude,latitude"
    rows = [HEADER]
    expected = []
    for line in lines[1:]:
        vid, stamp, lon, lat = line.split(",")
        utc = datetime.strptime(stamp, "%d/%m/%Y %H:%M").replace(tzinfo=UTC)
        expected.append(utc)
        rows.append(f"ais,suez-{vid},{utc.astimezone(zone).isoformat()},{lat},{lon},,")
    return "\n".join(rows), expected
