"""``manage.py import_key_elements FILE [--department CODE] [--json]``: a registry file (CSV/XLSX) into the key-element registry."""
from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.elements.management.commands._common import existing_file


class Command(BaseCommand):
    help = "Import key elements (people, vehicles, vessels, companies, phones, places) from CSV/XLSX; bad rows are reported, good rows kept."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--department", help="code of the department that owns the entries (default: none, shared)")
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        from apps.core.models import Department
        from apps.intel.services import registry_import

        path = existing_file(opts["file"])
        department = None
        if opts.get("department"):
            department = Department.objects.filter(code=opts["department"]).first()
            if department is None:
                raise CommandError(f"没有编号为 {opts['department']} 的部门")
        try:
            report = registry_import(data=path.read_bytes(), filename=path.name, department=department)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
            return
        self.stdout.write(f"rows: {report['rows']}")
        self.stdout.write(f"created: {report['created']}")
        self.stdout.write(f"updated: {report['updated']}")
        self.stdout.write(f"errors: {len(report['errors'])}")
        for err in report["errors"][:50]:
            self.stderr.write(f"row {err['row']}: {err['message']}")
