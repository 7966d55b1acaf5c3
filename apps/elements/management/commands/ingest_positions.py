"""``manage.py ingest_positions FILE``: Beidou / generic positions (CSV or JSON) through the whole pipeline.

Columns ``source,vessel_id,timestamp,lat,lon,sog,cog`` (ISO 8601 timestamps with zone).
Blocks until the data has gone through storage, detectors and warnings.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from ._common import existing_file, print_totals, stop_on_sigterm
from ._progress import IngestProgress


class Command(BaseCommand):
    help = "Ingest a position batch file (CSV or JSON) through the track pipeline and print the counts."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--format", choices=["csv", "json", "auto"], default="auto",
                            help="default: by the file extension, else by the content")
        parser.add_argument("--source", default=None, help="feed name for rows without a source column (e.g. beidou)")
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress output (default: a bar on a terminal, a line every 10 s otherwise)")
        parser.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                            help="seconds between progress lines when not on a terminal")

    def handle(self, *args, **opts):
        stop_on_sigterm()
        from apps.elements.ingest import positions_ingest

        path = existing_file(opts["file"])
        fmt = opts["format"]
        if fmt == "auto":
            fmt = {".csv": "csv", ".json": "json", ".geojson": "json"}.get(path.suffix.lower())
        progress = IngestProgress(stream=self.stderr._out, enabled=not opts["no_progress"], every_s=opts["progress_every"])
        try:
            totals = positions_ingest(
                data=path.read_bytes(), name=path.name, fmt=fmt, batch_size=opts["batch_size"],
                default_source=opts["source"], progress=progress,
            )
        finally:
            progress.close(progress.last_totals)
        print_totals(self, totals, as_json=opts["json"])
