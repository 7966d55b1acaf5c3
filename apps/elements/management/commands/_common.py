"""Shared output of the ingest commands: the counts, readable by people and by tests."""
from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand


def print_totals(cmd: BaseCommand, totals: dict[str, Any], *, as_json: bool = False) -> None:
    if as_json:
        cmd.stdout.write(json.dumps(totals, ensure_ascii=False, indent=1, default=str))
        return
    w = cmd.stdout.write
    w(f"run #{totals.get('run')}")
    w(f"read: {totals['read']}")
    w(f"decoded: {totals['decoded']}")
    if totals.get("fixes") or "decoder" in totals:
        w(f"fixes: {totals['fixes']}")
    if totals.get("static_reports"):
        w(f"static reports: {totals['static_reports']}")
    if totals.get("captures"):
        w(f"captures: {totals['captures']}")
    w(f"accepted: {totals['accepted']}")
    w(f"stored: {totals['stored']}")
    w(f"duplicates: {totals['duplicates']}")
    w(f"quarantined: {totals['quarantined_total']}")
    for reason, n in sorted(totals["quarantined"].items()):
        w(f"  {reason}: {n}")
    w(f"warnings new: {totals['warnings_new']}")
    w(f"warnings updated: {totals['warnings_updated']}")
    for err in totals.get("errors", []):
        cmd.stderr.write(f"error: {err}")
