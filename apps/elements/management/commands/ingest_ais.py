"""``manage.py ingest_ais FILE``: AIS NMEA (tag blocks, multi-part, receiver metadata) through the whole pipeline.

Blocks until every fix has been stored, checked by the detectors and turned into
warnings — in-process on the embedded default, on the Celery workers in production.
"""
from __future__ import annotations

from datetime import datetime
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ._common import existing_file, print_totals, stop_on_sigterm
from ._progress import IngestProgress


class Command(BaseCommand):
    help = "Ingest an AIS NMEA file (!AIVDM/!AIVDO, tag blocks) through the track pipeline and print the counts."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--received-at",
            help="receive time (ISO 8601 with zone) for lines that carry no time of their own; default: now",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress output (default: a bar on a terminal, a line every 10 s otherwise)")
        parser.add_argument("--progress-every", type=float, default=10.0, metavar="SECONDS",
                            help="seconds between progress lines when not on a terminal")

    def handle(self, *args, **opts):
        stop_on_sigterm()
        from apps.elements.ingest import ais_file_ingest

        path = existing_file(opts["file"])
        received_at = timezone.now()
        if opts["received_at"]:
            try:
                received_at = datetime.fromisoformat(opts["received_at"])
            except ValueError as exc:
                raise CommandError(f"--received-at 不是 ISO 8601 时间：{exc}") from exc
            if timezone.is_naive(received_at):
                raise CommandError("--received-at 必须带时区，例如 2021-03-20T02:00:00+08:00")

        progress = IngestProgress(total_bytes=path.stat().st_size, stream=self.stderr._out,
                                  enabled=not opts["no_progress"], every_s=opts["progress_every"])
        try:
            totals = ais_file_ingest(path=path, received_at=received_at, batch_size=opts["batch_size"], progress=progress)
        finally:
            progress.close(progress.last_totals)
        print_totals(self, totals, as_json=opts["json"])
