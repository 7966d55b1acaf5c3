"""What the ingest commands share: the input file check and the counts, readable by people and by tests."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError


def stop_on_sigterm() -> None:
    """A stop signal (``kill``, systemd, docker stop) ends the command like Ctrl-C: its run is closed, not left running."""
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def existing_file(name: str) -> Path:
    """The input file, or a clear error if it is not there."""
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"文件不存在：{path}")
    return path


def print_totals(cmd: BaseCommand, totals: dict[str, Any], *, as_json: bool = False) -> None:
    if as_json:
        cmd.stdout.write(json.dumps(totals, ensure_ascii=False, indent=1, default=str))
        fail_if_unfinished(totals)
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
    for err in totals.get("row_errors", [])[:20]:
        cmd.stderr.write(f"row {err['row']}: {err['reason']} {err['detail']}")
    fail_if_unfinished(totals)


def fail_if_unfinished(totals: dict[str, Any]) -> None:
    """Exit non-zero when batches could not be finished (after their retries and re-sends)."""
    if totals.get("errors"):
        raise CommandError(f"接入未全部完成：{len(totals['errors'])} 个错误（见上）。修复后重新运行同一输入即可补齐，"
                           "已入库的船位不会重复（见 docs/operations.md）。")
