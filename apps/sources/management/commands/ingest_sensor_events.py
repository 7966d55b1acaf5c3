"""``manage.py ingest_sensor_events FILE``: camera and infrared-sentinel events, JSON Lines.

One object per line: ``{"sensor_id", "timestamp" (ISO 8601 with zone), "kind": "vessel" |
"person" | "vehicle" | "line_crossing" | "ir_trigger" | "damage" | "occlusion",
"confidence": 0..1, "snapshot": optional base64 image, "video_url": optional link}``.
Each event is stored once; a bad line is reported with its reason and the rest go on.
"""
from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from apps.elements.management.commands._common import existing_file


class Command(BaseCommand):
    help = "Ingest camera / infrared sentinel events (JSON Lines)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print the counts as JSON")

    def handle(self, *args, **opts):
        from apps.sources.sensors import sensor_event_record

        path = existing_file(opts["file"])
        counts = {"read": 0, "stored": 0, "duplicates": 0, "refused": 0, "repair_tasks": 0, "warnings": 0}
        errors: list[dict] = []
        with open(path, encoding="utf-8-sig", errors="replace") as fh:
            for n, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                counts["read"] += 1
                try:
                    data = json.loads(line)
                    if not isinstance(data, dict):
                        raise ValidationError("每行须为一个 JSON 对象。")
                    result = sensor_event_record(data=data)
                except (json.JSONDecodeError, ValidationError) as exc:
                    counts["refused"] += 1
                    msg = "；".join(exc.messages) if isinstance(exc, ValidationError) else f"JSON 无法解析：{exc}"
                    errors.append({"line": n, "error": msg})
                    continue
                if result.created:
                    counts["stored"] += 1
                    counts["repair_tasks"] += bool(result.event.repair_task_id)
                    counts["warnings"] += bool(result.event.warning_id)
                else:
                    counts["duplicates"] += 1
        if opts["json"]:
            self.stdout.write(json.dumps({**counts, "errors": errors}, ensure_ascii=False))
            return
        for k, v in counts.items():
            self.stdout.write(f"{k}: {v}")
        for e in errors[:50]:
            self.stderr.write(f"line {e['line']}: {e['error']}")
