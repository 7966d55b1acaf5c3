"""``manage.py import_geofences FILE``: piers, coves, beaches, landing points, anchorages.

GeoJSON, GeoPackage or Shapefile (read with geopandas/pyogrio). Feature properties
``name``, ``kind``, ``status`` (others kept, ``township`` and ``pier_chief`` used); any CRS
is reprojected to WGS84; points are buffered to circles (``--radius``, or a feature's own
``radius_m``). Bad features are reported and skipped; the rest are imported (upsert by name).
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Import geofences from GeoJSON / GeoPackage / Shapefile."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--radius", type=float, default=150.0, help="buffer radius for point features, metres")

    def handle(self, *args, **opts):
        from apps.elements import services

        def progress(done: int, total: int) -> None:
            self.stderr.write(f"\r{done}/{total} features checked", ending="")
            if done == total:
                self.stderr.write("")

        try:
            report = services.geofence_import(path=opts["file"], point_radius_m=opts["radius"], progress=progress)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"crs: {report.source_crs}")
        for note in report.notes:
            self.stdout.write(f"note: {note}")
        self.stdout.write(f"features: {report.total}")
        self.stdout.write(f"created: {report.created}")
        self.stdout.write(f"updated: {report.updated}")
        self.stdout.write(f"refused: {len(report.errors)}")
        for index, name, message in report.errors:
            self.stdout.write(f"  feature {index} {name or '(无名称)'}: {message}")
