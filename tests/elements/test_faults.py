"""Faults in production mode, with real processes: a worker killed with SIGKILL mid-ingest, Redis
restarted mid-ingest. Each time ``manage.py ingest_ais`` must still finish (exit 0) and leave
exactly what a clean run of the same file leaves: the same fixes, the same warnings (kind,
vessels, start, level), the same dispatched tasks, nothing waiting to be judged.

Every process here (Redis, workers, the ingest command) is started by the test on its own Redis
server on a free port, so the shared Redis and the session's worker are never touched.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, ROOT, _free_port, _process_env, _wait_port

from .conftest import ais_lines

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

BATCH = 200
#: The issue's bound: an ingest whose worker died finishes within two minutes.
FINISH_S = 120


@pytest.fixture(autouse=True)
def _production_only():
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("fault tests need production mode (PostgreSQL, Redis, worker processes)")


# ------------------------------------------------------------------------------------------- the rig
class Rig:
    """A private Redis server, Celery workers and ingest commands, all real processes."""

    def __init__(self, name: str, tmp: Path) -> None:
        self.name = name
        self.tmp = tmp
        self.port = _free_port()
        self.redis_url = f"redis://127.0.0.1:{self.port}/0"
        self.redis = None
        self.workers: list[subprocess.Popen] = []
        self.n = 0
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def env(self) -> dict[str, str]:
        env = _process_env()
        env["REDIS_URL"] = self.redis_url
        return env

    # ---------------------------------------------------------------- redis
    def redis_start(self) -> None:
        self.redis = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp), "--dbfilename", "dump.rdb"],
            stdout=open(ARTIFACTS / f"fault-{self.name}-redis.log", "a"), stderr=subprocess.STDOUT,
        )
        _wait_port(self.port)

    def redis_restart(self, down_s: float = 3.0) -> None:
        """Stop Redis as an operator or a crash-safe service manager does (data saved), wait, start again."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "save"], check=False, timeout=30,
                       capture_output=True)
        self.redis.wait(timeout=30)
        time.sleep(down_s)
        self.redis_start()

    def client(self):
        import redis

        return redis.Redis.from_url(self.redis_url)

    # ---------------------------------------------------------------- workers
    def worker_start(self, **env) -> subprocess.Popen:
        self.n += 1
        log = ARTIFACTS / f"fault-{self.name}-worker{self.n}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "xiangshan", "worker", "-l", "info", "-c", "1", "-P", "prefork",
             "--without-gossip", "--without-mingle", "-n", f"fault{self.n}-{self.name}@%h"],
            cwd=ROOT, env={**self.env(), **env}, stdout=open(log, "w"), stderr=subprocess.STDOUT,
        )
        self.workers.append(proc)
        proc.log_path = log
        deadline = time.monotonic() + 60
        while " ready." not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start; see {log}")
            time.sleep(0.2)
        return proc

    def worker_kill(self, proc: subprocess.Popen) -> list[int]:
        """SIGKILL the worker's main process and its pool children (no chance to hand anything back)."""
        pids = [proc.pid, *_children(proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=10)
        return pids

    def wait_mid_task(self, proc: subprocess.Popen, task_name: str, timeout_s: float = 60) -> bool:
        """Wait until the worker has just taken a ``task_name`` task (received, not finished yet)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            events = re.findall(r"Task (\S+)\[[^\]]+\] (received|succeeded|retry|raised)",
                                proc.log_path.read_text(errors="replace"))
            if events and events[-1] == (task_name, "received"):
                return True
            time.sleep(0.02)
        return False

    def worker_stop(self, proc: subprocess.Popen) -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    def idle(self, timeout_s: float = 90) -> None:
        """Wait until the queue is empty and nothing is held (the warnings' dispatches have run)."""
        deadline = time.monotonic() + timeout_s
        quiet = 0
        while time.monotonic() < deadline and quiet < 3:
            try:
                c = self.client()
                busy = c.llen("celery") or c.zcard("unacked_index")
            except Exception:
                busy = True
            quiet = 0 if busy else quiet + 1
            time.sleep(0.5)

    # ---------------------------------------------------------------- the producer
    def ingest(self, path: Path, tag: str) -> subprocess.Popen:
        out = open(self.tmp / f"ingest-{tag}.json", "w")
        return subprocess.Popen(
            [sys.executable, "manage.py", "ingest_ais", str(path), "--batch-size", str(BATCH), "--json",
             "--no-progress"],
            cwd=ROOT, env=self.env(), stdout=out, stderr=open(ARTIFACTS / f"fault-{self.name}-ingest-{tag}.log", "w"),
        )

    def totals(self, tag: str) -> dict:
        return json.loads((self.tmp / f"ingest-{tag}.json").read_text())

    def close(self) -> None:
        for proc in [*self.workers, self.redis]:
            if proc is not None and proc.poll() is None:
                for pid in _children(proc.pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                proc.kill()
                proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


@pytest.fixture
def rig(request, tmp_path):
    r = Rig(request.node.name[5:40], tmp_path)
    r.redis_start()
    yield r
    r.close()


# ------------------------------------------------------------------------------------------- data
def _demo_ais_file(path: Path) -> int:
    """The demo scenario (landings, repeat visit, dark vessel, rendezvous, scout boat) as tag-block AIS lines."""
    from apps.elements.demo import demo_tracks
    from apps.elements.domain.model import PositionFix

    from datetime import timedelta

    from django.utils import timezone

    fixes = []
    for weeks in range(3):  # the scenario three weeks running: about 3,000 lines
        fixes += demo_tracks(timezone.now() - timedelta(weeks=weeks))[0]
    ais = []
    for f in fixes:
        vid = f.vessel_id if f.vessel_id.isdigit() else "412449999"  # the Beidou boat of the rendezvous, as AIS
        ais.append(PositionFix("ais", vid, f.ts, f.lon, f.lat, f.sog_kn, f.cog_deg))
    lines = ais_lines(sorted(ais, key=lambda f: (f.ts, f.vessel_id)))
    path.write_text("\n".join(lines) + "\n")
    return len(lines)


def _outcome() -> dict:
    """What an ingest leaves behind, in terms that do not depend on row ids."""
    from apps.elements.models import FixHandoff, IngestRun, StoredFix, Warning
    from apps.enforcement.models import Task

    fixes = sorted(StoredFix.objects.values_list("vessel__external_id", "ts", "lon_e7", "lat_e7", "sog_dkn", "cog_ddeg"))
    warnings = sorted((w.kind, tuple(w.vessels), w.start.isoformat(), w.level)
                      for w in Warning.objects.all())
    tasks = sorted((t.dispatch.warning.kind, tuple(t.dispatch.warning.vessels), t.dispatch.level, t.department.code)
                   for t in Task.objects.select_related("dispatch__warning", "department").filter(dispatch__warning__isnull=False))
    return {
        "fixes": fixes,
        "warnings": warnings,
        "tasks": tasks,
        "pending": FixHandoff.objects.count(),
        "runs": sorted(IngestRun.objects.values_list("status", flat=True)),
    }


def _wipe(rig: Rig) -> None:
    """Back to an empty pipeline between the clean run and the faulty one (same geography, same plans)."""
    from apps.elements.models import FixHandoff, IngestRun, QuarantineRecord, StoredFix, Vessel, Warning
    from apps.enforcement.models import Dispatch, Task, TaskEvent

    TaskEvent.objects.all().delete()
    Task.objects.all().delete()
    Dispatch.objects.all().delete()
    Warning.objects.all().delete()
    FixHandoff.objects.all().delete()
    StoredFix.objects.all().delete()
    QuarantineRecord.objects.all().delete()
    IngestRun.objects.all().delete()
    Vessel.objects.all().delete()
    rig.client().flushall()


def _clean_run(rig: Rig, path: Path) -> dict:
    worker = rig.worker_start()
    proc = rig.ingest(path, "clean")
    assert proc.wait(timeout=600) == 0
    rig.idle()
    rig.worker_stop(worker)
    clean = _outcome()
    _wipe(rig)
    return clean


def _stored() -> int:
    from apps.elements.models import StoredFix

    return StoredFix.objects.count()


def _wait_until_stored(n: int, proc: subprocess.Popen, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while _stored() < n:
        assert proc.poll() is None, "the ingest ended before the fault could be injected"
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _assert_same(clean: dict, after: dict) -> None:
    assert len(after["fixes"]) == len(clean["fixes"]) and after["fixes"] == clean["fixes"]
    assert after["warnings"] == clean["warnings"]
    assert after["tasks"] == clean["tasks"]
    assert after["pending"] == 0  # nothing left waiting to be judged
    assert after["runs"] == ["done"]


# ------------------------------------------------------------------------------------------- tests
def test_a_worker_killed_mid_ingest_loses_nothing_and_judges_everything_once(rig, demo_geo, departments, tmp_path):
    path = tmp_path / "demo.nmea"
    assert _demo_ais_file(path) > 2000
    clean = _clean_run(rig, path)
    assert len(clean["warnings"]) >= 5 and clean["tasks"]  # the scenario raises warnings and dispatches

    worker = rig.worker_start()
    proc = rig.ingest(path, "killed")
    _wait_until_stored(len(clean["fixes"]) // 3, proc)
    assert rig.wait_mid_task(worker, "elements.detect_fix_batch")
    rig.worker_kill(worker)  # main process and its child, in the middle of judging a slice
    time.sleep(2)
    rig.worker_start()
    started = time.monotonic()
    assert proc.wait(timeout=FINISH_S) == 0, (ARTIFACTS / f"fault-{rig.name}-ingest-killed.log").read_text()[-3000:]
    assert time.monotonic() - started < FINISH_S
    assert not rig.totals("killed")["errors"]
    rig.idle()

    _assert_same(clean, _outcome())


def test_redis_restarted_mid_ingest_loses_nothing(rig, demo_geo, departments, tmp_path):
    path = tmp_path / "demo.nmea"
    _demo_ais_file(path)
    clean = _clean_run(rig, path)

    worker = rig.worker_start()
    proc = rig.ingest(path, "redis")
    _wait_until_stored(len(clean["fixes"]) // 3, proc)
    assert rig.wait_mid_task(worker, "elements.detect_fix_batch")
    rig.redis_restart(down_s=3)  # while a slice is being judged
    assert proc.wait(timeout=FINISH_S) == 0, (ARTIFACTS / f"fault-{rig.name}-ingest-redis.log").read_text()[-3000:]
    assert not rig.totals("redis")["errors"]
    rig.idle()

    _assert_same(clean, _outcome())


def test_a_live_worker_keeps_what_it_holds_past_the_visibility_timeout(rig):
    """The short visibility timeout must not hand a healthy worker's task to a second run:
    a task held 12 s (waiting for its countdown) under a 3 s timeout is received once."""
    from celery import Celery

    worker = rig.worker_start(CELERY_VISIBILITY_TIMEOUT_S="3")
    # not the current app: the shared tasks of later tests in this process must keep the platform's broker
    app = Celery(broker=rig.redis_url, backend=rig.redis_url, set_as_current=False)
    try:
        result = app.send_task("elements.tide_predict_ahead", args=[1], countdown=12)
        assert result.get(timeout=60) == 0
    finally:
        app.close()
    time.sleep(3)  # a redelivered copy would arrive within the next restore sweep
    log = worker.log_path.read_text()
    assert log.count(f"[{result.id}] received") == 1
    assert log.count(f"[{result.id}] succeeded") == 1
