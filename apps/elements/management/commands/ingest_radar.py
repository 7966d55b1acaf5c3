"""``manage.py ingest_radar FILE``: radar target reports through the whole pipeline.

NMEA 0183 ``TTM``/``TLL`` lines with NMEA 4.10 tag blocks (``s:<sensor_id>``, ``c:<unix seconds>``),
or CSV ``sensor_id,target_id,timestamp,lat,lon,sog,cog``. The radars must be registered
(``import_sensors``): a TTM's range and bearing are converted with the radar's position.
Blocks until the data has gone through storage, detectors and warnings; prints the counts.
"""
from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand

from ._common import existing_file, print_totals


class Command(BaseCommand):
    help = "Ingest radar target reports (NMEA TTM/TLL with tag blocks, or CSV) through the track pipeline."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["nmea", "csv", "auto"], default="auto")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args, **opts):
        from apps.elements.sensing import radar_file_ingest

        path = existing_file(opts["file"])
        totals = radar_file_ingest(path=path, received_at=datetime.now(UTC),
                                   fmt=None if opts["format"] == "auto" else opts["format"],
                                   batch_size=max(1, opts["batch_size"]))
        print_totals(self, totals, as_json=opts["json"])
