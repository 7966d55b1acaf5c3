"""``manage.py import_sensors FILE``: radar sites, cameras and infrared sentinels into the facility registry.

GeoJSON points with properties ``sensor_id``, ``kind`` (``radar`` | ``camera`` | ``infrared``),
``name``, ``range_m`` (radar; optional for the others) or ``bearing_deg`` + ``fov_deg`` (camera),
optional ``geofence`` (the watched place's name) and ``department`` (the owning department's
code; default ``--department``). Upserted by ``sensor_id``; bad features are reported and skipped.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.elements.management.commands._common import existing_file


class Command(BaseCommand):
    help = "Import sensors (radar / camera / infrared) from GeoJSON points into the facility registry."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--department", help="code of the owning department for features without one "
                                                 "(default: the department hosting the operations centre)")

    def handle(self, *args, **opts):
        from apps.core.models import Department
        from apps.sources.sensors import sensors_import

        path = existing_file(opts["file"])
        if opts["department"]:
            dept = Department.objects.filter(code=opts["department"]).first()
            if dept is None:
                raise CommandError(f"未知的部门编码：{opts['department']}")
        else:
            dept = Department.objects.filter(hosts_operations_centre=True).first() or Department.objects.order_by("pk").first()
            if dept is None:
                raise CommandError("尚无部门：请先建立部门（load_demo）或用 --department 指定。")
        try:
            report = sensors_import(path=path, default_department=dept)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"features: {report.total}")
        self.stdout.write(f"created: {report.created}")
        self.stdout.write(f"updated: {report.updated}")
        self.stdout.write(f"refused: {len(report.errors)}")
        for index, name, message in report.errors:
            self.stdout.write(f"  feature {index} {name or '(无编号)'}: {message}")
