"""``manage.py ingest_checkpoints FILE``: checkpoint (卡口) captures, CSV ``checkpoint_id,plate,timestamp,lat,lon``.

Also ``--stations FILE.geojson`` to (re)load the checkpoints themselves. Blocks until the
captures have been matched with vessel stops nearby.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ._common import existing_file, print_totals, stop_on_sigterm


class Command(BaseCommand):
    help = "Ingest checkpoint vehicle captures (CSV) and cross-check them with vessel stops."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", help="captures CSV")
        parser.add_argument("--stations", help="GeoJSON of checkpoint points to load first (code, name, township)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        stop_on_sigterm()
        from django.core.exceptions import ValidationError

        from apps.elements import services
        from apps.elements.ingest import captures_ingest

        if not opts["file"] and not opts["stations"]:
            raise CommandError("请给出过车记录 CSV 文件，或用 --stations 导入卡口。")
        if opts["stations"]:
            try:
                saved, errors = services.checkpoint_import(path=opts["stations"])
            except ValidationError as exc:
                raise CommandError("；".join(exc.messages)) from exc
            self.stdout.write(f"checkpoints: {saved}")
            for i, msg in errors:
                self.stderr.write(f"feature {i}: {msg}")
        if opts["file"]:
            path = existing_file(opts["file"])
            totals = captures_ingest(data=path.read_bytes(), name=path.name)
            print_totals(self, totals, as_json=opts["json"])
