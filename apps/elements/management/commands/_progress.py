"""Progress of a long ingest: a tqdm bar on a terminal, plain periodic lines otherwise (logs, cron, CI).

Fed with the run's :class:`apps.elements.ingest.Totals` as often as the ingest likes (it keeps
its own pace: the bar redraws at most a few times a second, plain lines every
``every_s`` seconds). Shows lines read, fixes through the pipeline per second, warnings so far
and the time left — estimated from the share of the file read and the fixes processed so far.
"""
from __future__ import annotations

import sys
import time
from typing import IO, Any


def _hms(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class IngestProgress:
    """``progress(totals)`` callback for the ingest functions; call :meth:`close` at the end."""

    def __init__(self, *, total_bytes: int | None = None, stream: IO[str] | None = None, every_s: float = 10.0,
                 tty: bool | None = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.total_bytes = total_bytes or None
        self.every_s = every_s
        self.enabled = enabled
        self.tty = self.stream.isatty() if tty is None else tty
        self.started = time.monotonic()
        self.last_line = self.started
        self.bar: Any = None
        self.last_totals = None
        if self.enabled and self.tty:
            from tqdm import tqdm

            self.bar = tqdm(total=None, unit=" fixes", unit_scale=True, dynamic_ncols=True, file=self.stream,
                            mininterval=0.5, smoothing=0.1, desc="ingest")

    # ------------------------------------------------------------------ estimate
    def estimate_total(self, totals) -> int | None:
        """Fixes the whole input will give: exact once read, else extrapolated from the share of bytes read."""
        if getattr(totals, "reading_done", False):
            return totals.fixes
        if self.total_bytes and totals.bytes_read:
            return max(totals.fixes, round(totals.fixes * self.total_bytes / totals.bytes_read))
        return None

    def snapshot(self, totals) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        done = totals.processed
        total = self.estimate_total(totals)
        rate = done / elapsed
        left = (total - done) / rate if total and rate > 0 else None
        return {"lines": totals.read, "fixes": totals.fixes, "done": done, "total": total, "rate": rate,
                "warnings": totals.warnings_new, "left_s": left, "elapsed_s": elapsed}

    # ------------------------------------------------------------------ output
    def __call__(self, totals) -> None:
        self.last_totals = totals
        if not self.enabled:
            return
        s = self.snapshot(totals)
        if self.bar is not None:
            if s["total"] and self.bar.total != s["total"]:
                self.bar.total = s["total"]
            self.bar.set_postfix_str(f"{s['lines']:,} lines read, {s['warnings']} warnings", refresh=False)
            self.bar.update(s["done"] - self.bar.n)
            return
        now = time.monotonic()
        if now - self.last_line >= self.every_s:
            self.last_line = now
            self.stream.write(self.line(s) + "\n")
            self.stream.flush()

    @staticmethod
    def line(s: dict[str, Any]) -> str:
        share = f" ({100 * s['done'] / s['total']:.0f}%)" if s["total"] else ""
        left = f", about {_hms(s['left_s'])} left" if s["left_s"] is not None else ""
        return (f"… {s['lines']:,} lines read, {s['done']:,} fixes processed{share}, {s['rate']:,.0f} fixes/s, "
                f"{s['warnings']} warnings{left}")

    def close(self, totals=None) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            if totals is not None:
                self.bar.total = totals.processed
                self.bar.update(totals.processed - self.bar.n)
            self.bar.close()
        elif totals is not None:
            s = self.snapshot(totals)
            self.stream.write(self.line(s) + f" — done in {_hms(s['elapsed_s'])}\n")
            self.stream.flush()
