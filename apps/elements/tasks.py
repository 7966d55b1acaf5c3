"""Celery tasks of element control: plain data or ids in, a service call, counts out.

All are idempotent (fixes and captures are stored once, a fix is judged once through the
hand-off marks of ``handoff.py``), so they are acknowledged late and run again after a
worker dies (settings ``CELERY_TASK_ACKS_LATE`` / ``CELERY_TASK_REJECT_ON_WORKER_LOST``,
see docs/operations.md), and retry with backoff when the database or Redis is briefly away.
"""
from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .state import LockTimeout

#: Transient failures: a lock held too long, PostgreSQL or Redis restarting.
TRANSIENT = (LockTimeout, OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)
_RETRY = dict(autoretry_for=TRANSIENT, retry_backoff=1, retry_backoff_max=30, max_retries=8)
#: How long a task waits in place for Redis or PostgreSQL to come back before Celery's retry
#: takes over (a retry must be queued, which needs the broker, i.e. Redis, to be there).
OUTAGE_S = 90.0


def _outlasting_outages(fn, what: str):
    from .batches import retrying

    return retrying(fn, what=what, outage_s=OUTAGE_S)


@shared_task(name="elements.store_fix_batch", acks_late=True, **_RETRY)
def store_fix_batch(run_id: int | None, partition: int, fixes: list, statics: list | None = None) -> dict:
    """Step 1 of a slice for one partition: check, register, store once, mark the new fixes "to be judged"."""
    from .services import fix_batch_store

    return _outlasting_outages(lambda: fix_batch_store(run_id=run_id, partition=partition, fixes=fixes,
                                                       statics=statics or ()), "store step")


@shared_task(name="elements.detect_fix_batch", acks_late=True, **_RETRY)
def detect_fix_batch(run_id: int | None, upto: int | None = None) -> dict:
    """Step 2 of a slice, all partitions together: judge the marked fixes up to mark ``upto``."""
    from .services import fix_batch_detect

    return _outlasting_outages(lambda: fix_batch_detect(run_id=run_id, upto=upto), "detect step")


@shared_task(name="elements.process_fix_upload", acks_late=True, **_RETRY)
def process_fix_upload(run_id: int | None, fixes: list, statics: list | None = None) -> dict:
    """A whole (size-limited) upload, both steps slice by slice in one task."""
    from .services import fix_batch_process

    return _outlasting_outages(lambda: fix_batch_process(run_id=run_id, fixes=fixes, statics=statics or ()),
                               "upload")


@shared_task(name="elements.process_capture_batch", acks_late=True, **_RETRY)
def process_capture_batch(run_id: int | None, captures: list) -> dict:
    """Checkpoint captures (wire form, see ``convert.capture_to_wire``) against vessel stops."""
    from .services import vehicle_capture_batch_ingest

    return _outlasting_outages(lambda: vehicle_capture_batch_ingest(run_id=run_id, captures=captures), "captures")


@shared_task(name="elements.fix_retention", **_RETRY)
def fix_retention() -> dict:
    """Drop stored fixes older than ``FIX_RETENTION_DAYS`` (whole day partitions on PostgreSQL)."""
    from .services import fix_retention_apply

    return fix_retention_apply()


@shared_task(name="elements.tide_predict_ahead")
def tide_predict_ahead(days: int = 30) -> int:
    """Keep predicted high/low waters of every station with constants `days` ahead (beat, daily)."""
    from .services import tide_predict_all

    return tide_predict_all(days=days)
