"""The producing side of an ingest: read, decode, partition, send batches, wait, count.

Used by the management commands (``ingest_ais``, ``ingest_positions``, ``ingest_checkpoints``,
``ais_feed``) and the upload API. Batches go to the Celery tasks in ``tasks.py``; on the
embedded default those run in this process (eager), in production on the workers — the
code here is the same, and with ``wait=True`` it returns only when every batch has gone
through the whole pipeline.

Ordering: a :class:`Dispatcher` keeps at most one batch per partition in flight, so the
batches of a vessel are processed in the order they were read (see ``state.py``).
"""
from __future__ import annotations

import contextvars
import functools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from . import batches, services, state
from .convert import capture_to_wire, fix_to_wire, static_to_wire
from .domain.model import PositionFix, Quarantined, StaticReport, VehicleCapture

log = logging.getLogger(__name__)

DEFAULT_BATCH = 5000
#: Largest number of fixes read ahead of the workers before reading pauses (bounded memory).
MAX_BUFFERED = 200_000


@dataclass
class Totals:
    """What became of a run's input (the reading side and the batches' results together)."""

    read: int = 0
    decoded: int = 0
    fixes: int = 0
    static_reports: int = 0
    captures: int = 0
    accepted: int = 0
    stored: int = 0
    duplicates: int = 0
    detected: int = 0
    quarantined: Counter = field(default_factory=Counter)
    warnings_new: int = 0
    warnings_updated: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)
    #: progress: fixes through step 1 (stored, duplicate or refused), bytes of input read, input all read
    processed: int = 0
    bytes_read: int = 0
    reading_done: bool = False

    def add_result(self, result: dict[str, Any]) -> None:
        self.processed += int(result.get("fixes", 0))
        self.accepted += int(result.get("accepted", 0))
        self.stored += int(result.get("stored", 0))
        self.duplicates += int(result.get("duplicates", 0))
        self.detected += int(result.get("detected", 0))
        self.quarantined.update({k: int(v) for k, v in dict(result.get("quarantined", {})).items()})
        self.warnings_new += int(result.get("warnings_new", 0))
        self.warnings_updated += int(result.get("warnings_updated", 0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "decoded": self.decoded,
            "fixes": self.fixes,
            "static_reports": self.static_reports,
            "captures": self.captures,
            "accepted": self.accepted,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "detected": self.detected,
            "quarantined": dict(self.quarantined),
            "quarantined_total": sum(self.quarantined.values()),
            "warnings_new": self.warnings_new,
            "warnings_updated": self.warnings_updated,
            "batches": self.batches,
            "errors": list(self.errors),
        }


class Dispatcher:
    """Cut fixes into time slices and send them through the two pipeline steps, in order.

    Fixes are buffered (up to ``MAX_BUFFERED``), sorted by time and cut into slices of
    ``batch_size``. For each slice, step 1 (check, register, store) runs as one task per
    partition of vessels, in parallel; step 2 (detectors and warnings) runs as one task over
    the new fixes of the whole slice, so that rules pairing vessels see them in time order.
    Slices are strictly ordered: step 2 of a slice starts only after all its step-1 tasks,
    and after step 2 of the previous slice (which overlaps step 1 of the next). A vessel's
    fixes are therefore always processed in order, whatever the number of workers.

    ``wait=True`` (commands, feeds): :meth:`finish` returns when everything is processed.
    ``wait=False`` (uploads): :meth:`finish` sends the whole buffer as one task and returns.
    """

    def __init__(self, *, run_id: int | None, totals: Totals, batch_size: int = DEFAULT_BATCH, wait: bool = True,
                 progress: Callable[[Totals], None] | None = None) -> None:
        self.run_id = run_id
        self.progress = progress
        self.totals = totals
        self.batch_size = max(1, batch_size)
        self.wait = wait
        self.n = state.partitions()
        self.buffer: list[list] = []
        self.statics: list[dict] = []
        self.sent = 0
        self._detecting = None  # the step-2 task of the previous slice, still running
        self._judged_upto: int | None = None  # the hand-off mark the last step 2 was sent up to

    # ---------------------------------------------------------------- input
    def add_fix(self, fix: PositionFix) -> None:
        self.buffer.append(fix_to_wire(fix))
        if self.wait and len(self.buffer) >= MAX_BUFFERED:
            self.drain()

    def add_static(self, report: StaticReport) -> None:
        self.statics.append(static_to_wire(report))

    # ---------------------------------------------------------------- processing
    def _get(self, batch: batches.SentBatch) -> dict[str, Any] | None:
        try:
            return batches.wait(batch)
        except batches.BatchFailed as exc:  # count it, go on with the rest; the command exits non-zero
            log.error("%s", exc)
            self.totals.errors.append(str(exc))
            return None

    def _delay(self, task, *args, what: str = "批次") -> batches.SentBatch | None:
        self.sent += 1
        self.totals.batches += 1
        try:
            return batches.send(task, *args, what=what)
        except Exception as exc:  # eager mode raises here: never stop the other slices
            log.exception("batch failed")
            self.totals.errors.append(f"{what}处理失败：{type(exc).__name__}: {exc}")
            return None

    def _wait_detect(self) -> None:
        if self._detecting is not None:
            counts = self._get(self._detecting)
            self._detecting = None
            if counts:
                self.totals.add_result(counts)

    def drain(self) -> None:
        """Process everything buffered so far (blocking), slice by slice."""
        from .tasks import detect_fix_batch, store_fix_batch

        buf = sorted(self.buffer, key=lambda w: (w[2], w[1]))
        self.buffer = []
        statics, self.statics = self.statics, []
        for i in range(0, len(buf) or (1 if statics else 0), self.batch_size):
            parts: dict[int, list] = {}
            for w in buf[i : i + self.batch_size]:
                parts.setdefault(state.partition_of(w[1], self.n), []).append(w)
            static_parts: dict[int, list] = {}
            for st in statics:
                static_parts.setdefault(state.partition_of(st["vessel_id"], self.n), []).append(st)
            statics = []
            pending = [
                self._delay(store_fix_batch, self.run_id, p, parts.get(p, []), static_parts.get(p, []), what="入库批次")
                for p in sorted(set(parts) | set(static_parts))
            ]
            upto = None
            for res in pending:
                counts = self._get(res) if res is not None else None
                if counts:
                    if counts.get("handoff") is not None:
                        upto = max(upto or 0, int(counts["handoff"]))
                    self.totals.add_result(counts)
            self._wait_detect()
            if upto is not None and upto != self._judged_upto:  # new marks (this slice's, or left by a crash)
                self._judged_upto = upto
                self._detecting = self._delay(detect_fix_batch, self.run_id, upto, what="检测批次")
            if self.progress is not None:
                self.progress(self.totals)
        self._wait_detect()

    def finish(self) -> Totals:
        """Send what is left; with ``wait`` block until every slice has been processed."""
        if not self.wait:
            from .tasks import process_fix_upload

            if self.buffer or self.statics:
                self._delay(process_fix_upload, self.run_id, self.buffer, self.statics, what="上传批次")
            self.buffer, self.statics = [], []
            return self.totals
        self.drain()
        return self.totals


#: A vessel id the registry can hold: printable, at most 40 characters (MMSI, Beidou terminal id).
MAX_VESSEL_ID = 40


def fix_problem(fix: PositionFix) -> Quarantined | None:
    """Refuse a fix whose vessel id the registry cannot hold (control characters, too long)."""
    vid = fix.vessel_id
    if len(vid) > MAX_VESSEL_ID or not vid.isprintable():
        from .domain.positions import format_fix_csv

        return Quarantined(fix.source, format_fix_csv(fix).replace("\x00", "\\x00"), "bad_vessel_id",
                           f"船舶编号须为不超过 {MAX_VESSEL_ID} 个可打印字符", fix.ts)
    return None


class QuarantineSink:
    """Writes refused input in chunks (quarantine rows of the run) and counts it by reason."""

    def __init__(self, *, run_id: int | None, totals: Totals, chunk: int = 1000) -> None:
        self.run_id = run_id
        self.totals = totals
        self.chunk = chunk
        self.items: list[Quarantined] = []
        self.counts: Counter = Counter()

    def add(self, q: Quarantined) -> None:
        self.items.append(q)
        if len(self.items) >= self.chunk:
            self.flush()

    def flush(self) -> None:
        if self.items:
            c = batches.retrying(lambda: services.quarantine_record_many(run_id=self.run_id, items=self.items),
                                 what="quarantine")
            self.counts.update(c)
            self.totals.quarantined.update(c)
            self.items = []


# ------------------------------------------------------------------------------ whole-file ingests
_runs_started: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("ingest_runs_started", default=None)


def _start_run(*, kind: str, name: str, actor=None):
    """``services.ingest_run_start`` remembered by :func:`_closes_its_runs`."""
    run = services.ingest_run_start(kind=kind, name=name, actor=actor)
    started = _runs_started.get()
    if started is not None:
        started.append(run.pk)
    return run


def _closes_its_runs(fn):
    """An ingest that ends with an exception, Ctrl-C or a stop signal closes its run as failed (never left running)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        token = _runs_started.set([])
        try:
            return fn(*args, **kwargs)
        except BaseException as exc:
            close_runs_failed(_runs_started.get() or [], exc)
            raise
        finally:
            _runs_started.reset(token)

    return wrapper


def close_runs_failed(run_ids: Iterable[int], exc: BaseException) -> None:
    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
        reason = "接入被中断（Ctrl-C 或停止信号）；重新运行同一文件即可补齐"
    else:
        reason = f"接入异常终止：{type(exc).__name__}: {exc}"
    for run_id in run_ids:
        try:
            batches.retrying(lambda run_id=run_id: services.ingest_run_abort(run_id=run_id, error=reason),
                             what=f"closing run {run_id}", outage_s=30)
        except Exception:
            log.exception("ingest run %s could not be closed", run_id)


def _lines(path: Path) -> Iterator[str]:
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        for line in fh:
            yield line


def _finish_run(run, totals: Totals, dispatcher: Dispatcher, quarantine: QuarantineSink, *, stats: dict | None = None) -> dict:
    quarantine.flush()
    totals.reading_done = True
    # the run's size, known now that the input is read: its progress shows on the API while it runs
    batches.retrying(lambda: services.ingest_run_progress(run_id=run.pk, stats={"fixes_total": totals.fixes}),
                     what="run size")
    dispatcher.finish()
    if not dispatcher.wait:
        totals.accepted = totals.fixes  # stored / duplicates / warnings follow on the run as its task completes
    batches.retrying(lambda: services.ingest_run_progress(
        run_id=run.pk,
        read=totals.read,
        decoded=totals.decoded,
        quarantined=quarantine.counts,
        batches_sent=dispatcher.sent,
        stats=stats,
        final=True,
        error="\n".join(totals.errors),
    ), what="closing the run")
    out = totals.as_dict()
    out["run"] = run.pk
    return out


@_closes_its_runs
def ais_lines_ingest(
    *, lines: Iterable[str], name: str, received_at: datetime, batch_size: int = DEFAULT_BATCH,
    actor=None, kind: str = "ais", progress: Callable[[Totals], None] | None = None,
) -> dict[str, Any]:
    """NMEA lines through the decoder and the pipeline; blocks until done; returns the counts."""
    from .domain.nmea import AisStreamDecoder

    run = _start_run(kind=kind, name=name, actor=actor)
    totals = Totals()
    dispatcher = Dispatcher(run_id=run.pk, totals=totals, batch_size=batch_size, progress=progress)
    quarantine = QuarantineSink(run_id=run.pk, totals=totals)
    decoder = AisStreamDecoder(source="ais")
    for i, line in enumerate(lines, start=1):
        totals.read += 1
        totals.bytes_read += len(line)
        for item in decoder.feed(line, received_at):
            _route(item, totals, dispatcher, quarantine)
        if progress is not None and i % 1000 == 0:
            progress(totals)
    for item in decoder.flush():
        _route(item, totals, dispatcher, quarantine)
    st = decoder.stats
    totals.decoded = st.messages
    stats = {
        "lines": st.lines,
        "skipped": st.skipped,
        "sentences": st.sentences,
        "messages": st.messages,
        "fixes": st.fixes,
        "static_reports": st.static_reports,
        "base_stations": st.base_stations,
        "non_ais": st.non_ais,
        "ignored_types": {str(k): v for k, v in st.ignored_types.items()},
    }
    out = _finish_run(run, totals, dispatcher, quarantine, stats=stats)
    out["decoder"] = stats
    return out


def _route(item, totals: Totals, dispatcher: Dispatcher, quarantine: QuarantineSink) -> None:
    if isinstance(item, PositionFix):
        problem = fix_problem(item)
        if problem is not None:
            quarantine.add(problem)
            return
        totals.fixes += 1
        dispatcher.add_fix(item)
    elif isinstance(item, StaticReport):
        totals.static_reports += 1
        dispatcher.add_static(item)
    elif isinstance(item, Quarantined):
        quarantine.add(item)


def ais_file_ingest(*, path: str | Path, received_at: datetime, batch_size: int = DEFAULT_BATCH, actor=None,
                    progress: Callable[[Totals], None] | None = None) -> dict[str, Any]:
    path = Path(path)
    return ais_lines_ingest(lines=_lines(path), name=path.name, received_at=received_at, batch_size=batch_size,
                            actor=actor, progress=progress)


@_closes_its_runs
def positions_ingest(
    *, data: str | bytes, name: str, fmt: str | None = None, batch_size: int = DEFAULT_BATCH, wait: bool = True,
    actor=None, default_source: str | None = None, progress: Callable[[Totals], None] | None = None,
) -> dict[str, Any]:
    """A Beidou / generic position batch (CSV or JSON) through the pipeline.

    Returns the counts and, per refused row, ``errors`` (row number, reason, detail). Good
    rows are processed whatever the bad ones around them.
    """
    from .domain.positions import parse_positions, parse_positions_csv, parse_positions_json

    run = _start_run(kind="positions", name=name, actor=actor)
    totals = Totals()
    dispatcher = Dispatcher(run_id=run.pk, totals=totals, batch_size=batch_size, wait=wait, progress=progress)
    quarantine = QuarantineSink(run_id=run.pk, totals=totals)
    if fmt == "json":
        items = parse_positions_json(data, default_source=default_source)
    elif fmt == "csv":
        items = parse_positions_csv(data, default_source=default_source)
    else:
        items = parse_positions(data, default_source=default_source)
    errors: list[dict[str, Any]] = []
    for row, item in enumerate(items, start=1):
        totals.read += 1
        if isinstance(item, PositionFix):
            problem = fix_problem(item)
            if problem is None:
                totals.fixes += 1
                dispatcher.add_fix(item)
                continue
            item = problem
        quarantine.add(item)
        if len(errors) < 1000:
            errors.append({"row": row, "reason": item.reason, "detail": item.detail, "raw": item.raw[:300]})
    totals.decoded = totals.fixes
    out = _finish_run(run, totals, dispatcher, quarantine)
    out["row_errors"] = errors
    return out


@_closes_its_runs
def captures_ingest(*, data: str | bytes, name: str, actor=None, batch_size: int = DEFAULT_BATCH, wait: bool = True) -> dict[str, Any]:
    """Checkpoint captures (CSV ``checkpoint_id,plate,timestamp,lat,lon``) through the vehicle cross-check."""
    from .domain.positions import parse_captures_csv
    from .tasks import process_capture_batch

    run = _start_run(kind="checkpoints", name=name, actor=actor)
    totals = Totals()
    quarantine = QuarantineSink(run_id=run.pk, totals=totals)
    good: list[VehicleCapture] = []
    errors: list[dict[str, Any]] = []
    for row, item in enumerate(parse_captures_csv(data), start=1):
        totals.read += 1
        if isinstance(item, VehicleCapture):
            if len(item.plate) <= 20 and len(item.checkpoint_id) <= 60 and (item.plate + item.checkpoint_id).isprintable():
                good.append(item)
                continue
            item = Quarantined("checkpoint", f"{item.checkpoint_id},{item.plate},{item.ts.isoformat()}".replace("\x00", "\\x00"),
                               "bad_plate", "车牌或卡口编号过长或含不可打印字符", item.ts)
        quarantine.add(item)
        if len(errors) < 1000:
            errors.append({"row": row, "reason": item.reason, "detail": item.detail, "raw": item.raw[:300]})
    totals.captures = totals.decoded = len(good)
    quarantine.flush()
    sent = 0
    for i in range(0, len(good), batch_size):
        chunk = [capture_to_wire(c) for c in good[i : i + batch_size]]
        sent += 1
        totals.batches += 1
        try:
            sent_batch = batches.send(process_capture_batch, run.pk, chunk, what="卡口批次")
            if wait:  # captures go one batch at a time: they share the per-pier state
                totals.add_result(batches.wait(sent_batch))
        except batches.BatchFailed as exc:
            totals.errors.append(str(exc))
        except Exception as exc:
            log.exception("capture batch failed")
            totals.errors.append(f"卡口批次处理失败：{type(exc).__name__}: {exc}")
    services.ingest_run_progress(
        run_id=run.pk, read=totals.read, decoded=totals.decoded, quarantined=quarantine.counts,
        batches_sent=sent, final=True, error="\n".join(totals.errors),
    )
    out = totals.as_dict()
    out["run"] = run.pk
    out["row_errors"] = errors
    return out
