"""Where the track pipeline keeps its state between batches, and the locks that order batches.

Production (``REDIS_URL`` set): every worker sees the same state in Redis — one key per
vessel (``xs:el:st:vessel:<id>``), per watched site and for the encounter grid, each a
compact JSON document (``state.to_dict()``), read with one pipelined ``MGET`` and written
with one pipelined batch of ``SET ... EX`` per call. The embedded default keeps the same
JSON strings in a process-local dict (no database, no server).

Ordering (why a vessel's fixes are never processed out of order, however many workers):

* a producer (command, feed, upload) sorts what it read by time and cuts it into slices;
  slices go through the pipeline strictly one after the other (``ingest.Dispatcher``);
* step 1 of a slice (plausibility, registry, storing) is split by a stable hash of the
  vessel id into ``ELEMENTS_PARTITIONS`` partitions that run in parallel; each task holds
  its partition's lock, so a batch from another producer for the same vessels waits
  instead of interleaving;
* step 2 (detectors, warnings, state write-back) takes the new fixes of the whole slice in
  one task under one pipeline lock: the per-pier ("site") and encounter-grid state is
  shared *between* vessels (repeat visits by a group, scout boats, vehicle cross-checks,
  rendezvous pair different vessels), so those rules must see all vessels in time order.
  The parallel part is the costly one (parsing, checks, registry look-ups, inserts); the
  serial part is the in-memory detector walk.

State writes are buffered (:class:`BufferedStateStore`) and flushed only after the
database transaction holding the fixes and warnings has committed, so a failed batch
leaves the state as it was and its retry sees the same state.
"""
from __future__ import annotations

import json
import logging
import threading
import zlib
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from django.conf import settings

from .domain.pipeline import State, state_from_dict

KEY_PREFIX = "xs:el:st:"
LOCK_PREFIX = "xs:el:lock:"
#: Time to live of a pipeline lock in Redis; renewed while its holder runs (see :func:`held`).
LOCK_TTL_S = 15.0

log = logging.getLogger(__name__)


class LockTimeout(RuntimeError):
    """A lock could not be taken in time (the task retries)."""


def partitions() -> int:
    return max(1, int(getattr(settings, "ELEMENTS_PARTITIONS", 8)))


def partition_of(vessel_id: str, n: int | None = None) -> int:
    """Stable partition of a vessel id (same in every process: crc32, not ``hash``)."""
    return zlib.crc32(vessel_id.encode("utf-8")) % (n or partitions())


@lru_cache(maxsize=1)
def redis_client():
    """The Redis connection for state and locks (None on the embedded default)."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url)


# ------------------------------------------------------------------------------ key-value backends
class _MemoryKV:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.lock = threading.Lock()

    def mget(self, keys: list[str]) -> list[str | None]:
        with self.lock:
            return [self.data.get(k) for k in keys]

    def mset(self, items: Mapping[str, str], ttl_s: int) -> None:
        with self.lock:
            self.data.update(items)

    def clear(self, prefix: str) -> None:
        with self.lock:
            for k in [k for k in self.data if k.startswith(prefix)]:
                del self.data[k]

    def delete(self, keys: list[str]) -> None:
        with self.lock:
            for k in keys:
                self.data.pop(k, None)


class _RedisKV:
    def __init__(self, client) -> None:
        self.client = client

    def mget(self, keys: list[str]) -> list[str | None]:
        if not keys:
            return []
        return self.client.mget(keys)

    def mset(self, items: Mapping[str, str], ttl_s: int) -> None:
        if not items:
            return
        pipe = self.client.pipeline(transaction=False)
        for k, v in items.items():
            pipe.set(k, v, ex=ttl_s)
        pipe.execute()

    def clear(self, prefix: str) -> None:
        for key in self.client.scan_iter(match=prefix + "*", count=1000):
            self.client.delete(key)

    def delete(self, keys: list[str]) -> None:
        if keys:
            self.client.delete(*keys)


_memory_kv = _MemoryKV()


def kv_backend():
    client = redis_client()
    return _RedisKV(client) if client is not None else _memory_kv


def state_ttl_s() -> int:
    return int(getattr(settings, "ELEMENTS_STATE_TTL_DAYS", 35)) * 86400


#: How long a write-back after a database commit waits for Redis to come back (seconds).
WRITE_BACK_OUTAGE_S = 120.0


def after_commit(write, *, what: str) -> None:
    """A state write that follows a database commit, waiting (with backoff) while Redis restarts.

    The commit cannot be undone, and a retried task would find its work done and write no
    state at all, so the write must not fail on a short Redis outage.
    """
    import time

    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    deadline = time.monotonic() + WRITE_BACK_OUTAGE_S
    delay = 0.2
    while True:
        try:
            return write()
        except (RedisConnectionError, RedisTimeoutError):
            if time.monotonic() > deadline:
                raise
            log.warning("%s: Redis away; writing again in %.1f s", what, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


class BufferedStateStore:
    """The domain ``StateStore`` over Redis (or the process dict), writes held until :meth:`commit`."""

    def __init__(self, backend=None, *, prefix: str = KEY_PREFIX, ttl_s: int | None = None) -> None:
        self.backend = backend or kv_backend()
        self.prefix = prefix
        self.ttl_s = ttl_s or state_ttl_s()
        self.pending: dict[str, State] = {}

    def get_many(self, keys: Collection[str]) -> dict[str, State]:
        out: dict[str, State] = {}
        fetch: list[str] = []
        for k in keys:
            if k in self.pending:
                out[k] = self.pending[k]
            else:
                fetch.append(k)
        if fetch:
            raw = self.backend.mget([self.prefix + k for k in fetch])
            for k, value in zip(fetch, raw):
                if value is not None:
                    out[k] = state_from_dict(json.loads(value))
        return out

    def put_many(self, items: Mapping[str, State]) -> None:
        self.pending.update(items)

    def commit(self) -> None:
        if not self.pending:
            return
        encoded = {
            self.prefix + k: json.dumps(v.to_dict(), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            for k, v in self.pending.items()
        }
        after_commit(lambda: self.backend.mset(encoded, self.ttl_s), what="pipeline state")
        self.pending.clear()

    def discard(self) -> None:
        self.pending.clear()


# ------------------------------------------------------------------------------ locks
_local_locks: dict[str, threading.Lock] = {}
_local_guard = threading.Lock()


@contextmanager
def held(name: str, *, timeout_s: float = LOCK_TTL_S, wait_s: float = 60.0) -> Iterator[None]:
    """Hold the named lock (Redis in production, a thread lock on the embedded default).

    In Redis the lock lives ``timeout_s`` and a small thread renews it every third of that
    while its holder runs, so a holder that dies (SIGKILL, lost machine) blocks the others for
    at most ``timeout_s``, however long a healthy holder works. ``wait_s`` bounds the wait.
    """
    client = redis_client()
    if client is None:
        with _local_guard:
            lock = _local_locks.setdefault(name, threading.Lock())
        if not lock.acquire(timeout=wait_s):
            raise LockTimeout(name)
        try:
            yield
        finally:
            lock.release()
        return
    lock = client.lock(LOCK_PREFIX + name, timeout=timeout_s, blocking_timeout=wait_s, thread_local=False)
    if not lock.acquire():
        raise LockTimeout(name)
    stop = threading.Event()
    renewer = threading.Thread(target=_renew, args=(lock, stop, timeout_s / 3), name=f"lock-{name}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        try:
            lock.release()
        except Exception:  # expired meanwhile (or Redis is gone): nothing to release
            pass


def _renew(lock, stop: threading.Event, every_s: float) -> None:
    while not stop.wait(every_s):
        try:
            lock.reacquire()  # back to the full time to live
        except Exception:  # lost (expired, Redis restarted): the holder's transaction still guards the data
            log.warning("lock %s could not be renewed", lock.name, exc_info=True)


def partition_lock(partition: int):
    return held(f"partition:{partition}", wait_s=120.0)


def pipeline_lock():
    return held("pipeline", wait_s=120.0)


def describe() -> dict[str, Any]:
    return {"backend": "redis" if redis_client() is not None else "memory", "partitions": partitions()}


# ------------------------------------------------------------------------------ plausibility memory
LAST_PREFIX = "xs:el:last:"


class LastFixTracker:
    """Each vessel's last accepted (and last refused) fix, for the plausibility check.

    Kept apart from the detector state so that the store step of one slice does not wait
    for the detect step of the previous one. Written back by :meth:`commit` after the
    fixes have been stored.
    """

    def __init__(self, backend=None) -> None:
        self.backend = backend or kv_backend()
        self.pending: dict[str, str] = {}

    def screen(self, fixes, *, now):
        """(accepted, refused): fixes checked per vessel in time order against the last accepted one."""
        from .convert import fix_to_wire, wire_to_fix
        from .domain.sanity import SPEED_JUMP, FixSanity

        by_vessel: dict[str, list] = {}
        for f in fixes:
            by_vessel.setdefault(f.vessel_id, []).append(f)
        vids = list(by_vessel)
        raw = self.backend.mget([LAST_PREFIX + v for v in vids])
        checker = FixSanity()
        accepted, refused = [], []
        for vid, value in zip(vids, raw):
            mem = json.loads(value) if value else {}
            last = wire_to_fix(mem["a"]) if mem.get("a") else None
            rejected = wire_to_fix(mem["r"]) if mem.get("r") else None
            for f in sorted(by_vessel[vid], key=lambda f: f.ts):
                q = checker.check(last, f, now=now, last_rejected=rejected)
                if q is None:
                    accepted.append(f)
                    if last is None or f.ts > last.ts:
                        last, rejected = f, None
                else:
                    refused.append(q)
                    if q.reason == SPEED_JUMP and (rejected is None or f.ts > rejected.ts):
                        rejected = f
            self.pending[LAST_PREFIX + vid] = json.dumps(
                {"a": fix_to_wire(last) if last else None, "r": fix_to_wire(rejected) if rejected else None},
                separators=(",", ":"),
            )
        return accepted, refused

    def commit(self) -> None:
        pending = self.pending
        after_commit(lambda: self.backend.mset(pending, state_ttl_s()), what="plausibility memory")
        self.pending = {}


def state_clear() -> None:
    """Forget all pipeline state and plausibility memory (tests, and a full re-run from stored fixes)."""
    backend = kv_backend()
    backend.clear(KEY_PREFIX)
    backend.clear(LAST_PREFIX)
