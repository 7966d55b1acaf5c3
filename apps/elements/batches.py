"""A producer's side of one sent batch: send it, wait for it, notice when it is lost, send it again.

The pipeline tasks are idempotent and acknowledged late (docs/operations.md, "Delivery
guarantees"), so the broker itself brings back the work of a dead worker within seconds.
This is the producer's second line of defence, for what the broker cannot bring back (a
Redis that lost its data in a restart, a result that never reached the result store):

* while it waits, the producer looks every :data:`POLL_S` seconds; a batch that is neither
  finished, nor held by a live worker (running, reserved, or waiting for its retry), nor
  still in the broker (waiting in the queue, or taken by a dead worker and due back after the
  visibility timeout) — twice in a row, :data:`LOST_CONFIRM_S` apart — is lost, and is sent
  again under the same task id (harmless if the first copy turns up after all);
* a broker or result store that is away (Redis restarting) is waited for with backoff;
* a batch that cannot be finished — it failed after its own retries, it was lost
  :data:`MAX_RESENDS` times, no worker answered for :data:`BATCH_TIMEOUT_S` — is reported
  as an error, and the command exits non-zero.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

log = logging.getLogger(__name__)

#: How long a producer waits for one batch, at most, while no worker makes progress with it (seconds).
BATCH_TIMEOUT_S = 900.0
#: How often a waiting producer looks at its batch (seconds).
POLL_S = 3.0
#: A batch younger than this is never called lost (seconds).
LOST_MIN_AGE_S = 10.0
#: A batch is lost when it is seen lost twice this far apart (seconds).
LOST_CONFIRM_S = 4.0
#: How often one batch is sent again before the producer gives up on it.
MAX_RESENDS = 5
#: How long a producer keeps trying to reach the broker or the database when they are away (seconds).
OUTAGE_S = 300.0

T = TypeVar("T")

#: Failures (by exception class name, as the result store gives them back) that say "Redis or
#: PostgreSQL was away", after which a batch is sent again rather than given up.
TRANSIENT_FAILURES = frozenset({"Reject", "ConnectionError", "TimeoutError", "OperationalError", "InterfaceError",
                                "LockTimeout"})


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "Redis or PostgreSQL is away for a moment", not "the batch is bad"."""
    from django.db import InterfaceError, OperationalError
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, InterfaceError, KombuOperationalError, RedisConnectionError, RedisTimeoutError,
            ConnectionError)


def retrying(fn: Callable[[], T], *, what: str, outage_s: float = OUTAGE_S) -> T:
    """``fn()``, tried again with backoff (0.5 s doubling to 10 s) while Redis or PostgreSQL is away."""
    from django.db import connections

    deadline = time.monotonic() + outage_s
    delay = 0.5
    while True:
        try:
            return fn()
        except transient_errors() as exc:
            conns = connections.all(initialized_only=True)
            if time.monotonic() > deadline or any(c.in_atomic_block for c in conns):
                raise  # inside a transaction only its owner can start again
            log.warning("%s: %s (%s); trying again in %.1f s", what, type(exc).__name__, exc, delay)
            for conn in conns:
                conn.close()  # a broken connection is not reused
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


@dataclass
class SentBatch:
    """One task sent by a producer, with what it takes to send it again."""

    task: Any
    args: tuple
    what: str
    result: Any = None
    sent_at: float = 0.0
    resends: int = 0
    suspect_since: float | None = None
    log: list[str] = field(default_factory=list)

    def send(self) -> None:
        task_id = self.result.id if self.result is not None else None
        if self.task.app.conf.task_always_eager:  # runs here and now: nothing to reach, nothing to lose
            self.result = self.task.apply_async(self.args)
        else:
            self.result = retrying(lambda: self.task.apply_async(self.args, task_id=task_id), what=f"sending {self.what}")
        self.sent_at = time.monotonic()
        self.suspect_since = None


class BatchFailed(Exception):
    """A batch could not be finished (its message says why, in Chinese, for the run's error)."""


def send(task, *args, what: str) -> SentBatch:
    batch = SentBatch(task=task, args=args, what=what)
    batch.send()
    return batch


def wait(batch: SentBatch) -> dict[str, Any]:
    """The batch's result; sends it again if it is lost; :class:`BatchFailed` if it cannot be finished."""
    from celery.exceptions import TimeoutError as ResultTimeout

    started = time.monotonic()
    outage_since: float | None = None
    delay = 0.5
    while True:
        try:
            out = batch.result.get(timeout=POLL_S, propagate=True)
            _forget(batch)
            return out
        except ResultTimeout:
            outage_since = None
        except transient_errors() as exc:  # the result store is away: wait for it
            now = time.monotonic()
            outage_since = outage_since or now
            if now - outage_since > OUTAGE_S:
                raise BatchFailed(f"{batch.what}：结果存储（Redis）{int(OUTAGE_S)} 秒不可用：{exc}") from exc
            log.warning("%s: result store away (%s); waiting", batch.what, exc)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
            continue
        except Exception as exc:  # the task failed after its own retries
            _forget(batch)
            if type(exc).__name__ in TRANSIENT_FAILURES and batch.resends < MAX_RESENDS:
                # it gave up while Redis or PostgreSQL was away (even its retry could not be queued)
                batch.resends += 1
                log.warning("%s %s failed on %s; sending it again (%d)", batch.what, batch.result.id,
                            type(exc).__name__, batch.resends)
                time.sleep(min(2.0 * batch.resends, 10.0))
                batch.send()
                started = time.monotonic()
                continue
            raise BatchFailed(f"{batch.what}处理失败：{type(exc).__name__}: {exc}") from exc
        if _lost(batch):
            if batch.resends >= MAX_RESENDS:
                raise BatchFailed(f"{batch.what}丢失 {batch.resends + 1} 次，已放弃")
            batch.resends += 1
            log.warning("%s %s was lost (no worker holds it, not queued); sending it again (%d)",
                        batch.what, batch.result.id, batch.resends)
            batch.send()
            started = time.monotonic()
        elif time.monotonic() - started > BATCH_TIMEOUT_S:
            raise BatchFailed(f"{batch.what}等待超过 {int(BATCH_TIMEOUT_S)} 秒仍未完成（没有可用的 Celery worker？）")


def _forget(batch: SentBatch) -> None:
    try:
        batch.result.forget()
    except Exception:
        pass


def _lost(batch: SentBatch) -> bool:
    """Seen lost now and :data:`LOST_CONFIRM_S` ago (see the module doc)."""
    now = time.monotonic()
    if now - batch.sent_at < LOST_MIN_AGE_S or not _looks_lost(batch):
        batch.suspect_since = None
        return False
    if batch.suspect_since is None:
        batch.suspect_since = now
        return False
    return now - batch.suspect_since >= LOST_CONFIRM_S


def _looks_lost(batch: SentBatch) -> bool:
    try:
        if batch.result.state in ("SUCCESS", "FAILURE", "REVOKED"):
            return False  # finished: the next get() returns it
        held = workers_holding([batch.result.id])
        if held is None or batch.result.id in held:
            return False  # no worker answers (nobody could run it again) or a live one has it
        return not broker_has(batch.result.id)
    except transient_errors():
        return False  # cannot tell while Redis is away


def workers_holding(task_ids: list[str]) -> set[str] | None:
    """The ids among ``task_ids`` that a live worker holds; None when no worker answers."""
    from xiangshan.celery import app

    replies = app.control.inspect(timeout=1.0).query_task(*task_ids)
    if not replies:
        return None
    held: set[str] = set()
    for tasks in replies.values():
        for tid, (state, _info) in (tasks or {}).items():
            if state != "ready":
                held.add(tid)
    return held


#: Beyond this many waiting messages the producer does not look through the queue (it is not lost, just busy).
QUEUE_SCAN_MAX = 2000


def broker_has(task_id: str) -> bool:
    """Whether the Redis broker still has the task: waiting in the queue, or taken by a worker and not
    acknowledged (the broker puts those back after the visibility timeout)."""
    from xiangshan.celery import app

    queue = app.conf.task_default_queue or "celery"
    with app.connection_for_read() as conn:
        channel = conn.default_channel
        client = getattr(channel, "client", None)
        if client is None:  # not Redis (memory broker of the embedded default): nothing can be lost
            return True
        raw = list(client.hvals(channel.unacked_key))
        for name in [queue] + [f"{queue}{channel.sep}{p}" for p in channel.priority_steps if p]:
            if client.llen(name) > QUEUE_SCAN_MAX:
                return True
            raw += client.lrange(name, 0, -1)
    for item in raw:
        try:
            message = json.loads(item)
            if isinstance(message, list):  # unacked entries: [message, exchange, routing_key]
                message = message[0]
            if message.get("headers", {}).get("id") == task_id:
                return True
        except (ValueError, AttributeError, IndexError, TypeError):
            continue
    return False
