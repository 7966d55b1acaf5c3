"""``manage.py import_tide_table FILE``: an official tide table (CSV ``station,timestamp,height_m,kind``).

Or ``--constants FILE.json`` (published harmonic constants, geodata/tides/) to register a
station and predict its high and low waters (``--days``). Bad rows are reported, good rows kept.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


class Command(BaseCommand):
    help = "Import a tide table CSV, or register harmonic constants and predict high/low waters."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?")
        parser.add_argument("--constants", help="harmonic constants JSON (geodata/tides/*.json)")
        parser.add_argument("--days", type=int, default=30, help="days to predict ahead with --constants")
        parser.add_argument("--default", action="store_true", help="make this the station of the patrol windows")

    def handle(self, *args, **opts):
        from apps.elements import services

        if not opts["file"] and not opts["constants"]:
            raise CommandError("请给出潮汐表 CSV，或用 --constants 给出调和常数文件。")
        try:
            if opts["constants"]:
                station = services.tide_station_from_constants(path=opts["constants"], default_station=opts["default"])
                start = timezone.now() - timedelta(days=1)
                n = services.tide_predict(station=station, start=start, end=start + timedelta(days=opts["days"] + 1))
                self.stdout.write(f"station: {station.code}")
                self.stdout.write(f"predicted: {n}")
            if opts["file"]:
                path = Path(opts["file"])
                if not path.is_file():
                    raise CommandError(f"文件不存在：{path}")
                report = services.tide_table_import(text=path.read_bytes(), default_station=opts["default"])
                self.stdout.write(f"stations: {', '.join(report.stations)}")
                self.stdout.write(f"created: {report.created}")
                self.stdout.write(f"updated: {report.updated}")
                self.stdout.write(f"refused: {len(report.errors)}")
                for line, message in report.errors:
                    self.stdout.write(f"  line {line}: {message}")
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
