"""``manage.py export_warnings --format json [--output FILE]``: every warning as a JSON array.

Objects with exactly ``id``, ``kind``, ``level``, ``score`` (0-100), ``vessels`` (ids as they
came in), ``geofence`` (name or null), ``start``, ``end`` (ISO 8601) and ``evidence``.
"""
from __future__ import annotations

import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Export warnings as a JSON array (stdout or --output)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json"], default="json")
        parser.add_argument("--output", help="write to this file instead of stdout")
        parser.add_argument("--kind")
        parser.add_argument("--level")
        parser.add_argument("--since", help="only warnings starting at or after this ISO 8601 time")

    def handle(self, *args, **opts):
        from apps.elements.selectors import warnings_export

        since = None
        if opts["since"]:
            try:
                since = datetime.fromisoformat(opts["since"])
            except ValueError as exc:
                raise CommandError(f"--since 不是 ISO 8601 时间：{exc}") from exc
        rows = warnings_export(kind=opts["kind"], level=opts["level"], since=since)
        text = json.dumps(rows, ensure_ascii=False, indent=1)
        if opts["output"]:
            with open(opts["output"], "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
            self.stderr.write(f"{len(rows)} warnings written to {opts['output']}")
        else:
            self.stdout.write(text)
