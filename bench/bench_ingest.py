"""Benchmark: the product path — ``manage.py ingest_ais FILE`` — against AIS decoding alone, in one run.

``python bench/bench_ingest.py`` (``--fixes 50000`` for a quick run; ``--help``). Steps:

1. generate a realistic NMEA file (``bench/nmea_gen.py``: 10,000 vessels, 1,000,000 fixes,
   tag blocks, two-part type 5 static messages, 1 % garbage), cached under ``bench/results/``;
2. pyais decoding alone (``AisStreamDecoder`` over the file, in this process);
3. ``ingest_ais`` on the embedded default (SQLite, in-process tasks) — a fresh database;
4. ``ingest_ais`` in production mode (PostgreSQL + Redis + Celery) with 1, 2 and 4 worker
   processes — each with a fresh database (``xs_bench_ingest``, from a migrated template),
   its own Redis db (``--redis-url``, flushed) and its own worker started and stopped here.

For each ingest: wall seconds and fixes/s, the ratio to decode-alone (wall and CPU), CPU
seconds of the command and of the workers (PostgreSQL's own CPU is not included), peak
resident memory of the command and of the workers, warnings, and the fix → warning delay:
for each new warning, the wall time it was created (its audit entry) minus the wall time
the command had read the fix that raised it (the warning's ``end`` when created, placed in
the file by the decode pass and in time by the command's progress lines).

Results as JSON in ``bench/results/ingest.json``; numbers and the machine go in docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import base64
import bisect
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PY = sys.executable
RECEIVED = "2026-11-21T00:00:00+00:00"


# ------------------------------------------------------------------------------ helpers
def _wait(proc: subprocess.Popen) -> dict:
    """Wait for a child; its own CPU seconds and peak RSS (children it waited for included)."""
    _pid, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mib": ru.ru_maxrss / 1024, "rc": proc.returncode}


def _base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "SQLITE_PATH")}
    env.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    env.setdefault("TIPSTER_KEYS", base64.urlsafe_b64encode(b"b" * 32).decode())
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _manage(env: dict, *args: str, check: bool = True) -> str:
    res = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if check and res.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{res.stderr[-3000:]}")
    return res.stdout


SETUP_GEO = (
    "from apps.elements import services; "
    "services.geofence_import(path='geodata/demo_geofences.geojson'); "
    "services.checkpoint_import(path='geodata/demo_checkpoints.geojson')"
)

REPORT = r"""
import json
from auditlog.models import LogEntry
from apps.elements.models import IngestRun, Warning
out = {"warnings": {}, "created": []}
for kind in Warning.objects.values_list("kind", flat=True):
    out["warnings"][kind] = out["warnings"].get(kind, 0) + 1
for e in LogEntry.objects.filter(content_type__model="warning", action=0).only("timestamp", "changes"):
    end = (e.changes or {}).get("end", [None, None])[1]
    out["created"].append([e.timestamp.timestamp(), end])
run = IngestRun.objects.order_by("-pk").first()
out["run"] = {"status": run.status, "stored": run.stored, "read": run.read} if run else None
print(json.dumps(out))
"""


# ------------------------------------------------------------------------------ 1-2: file and decode alone
def make_file(fixes: int, vessels: int) -> Path:
    import nmea_gen

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"ais_{vessels}v_{fixes}f.nmea"
    if not path.exists():
        t = time.perf_counter()
        nmea_gen.write(path, n_vessels=vessels, n_fixes=fixes)
        print(f"generated {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
    return path


def decode_alone(path: Path) -> dict:
    """Decode the file with the platform's decoder (pyais underneath); also map line numbers to event times."""
    from apps.elements.domain.model import PositionFix
    from apps.elements.domain.nmea import AisStreamDecoder

    rx = datetime.fromisoformat(RECEIVED)
    dec = AisStreamDecoder(source="ais")
    fixes = 0
    marks: list[tuple[float, int]] = []  # (event time, line number): where the file reaches a time
    last_ts = 0.0
    t, c = time.perf_counter(), time.process_time()
    with open(path, encoding="utf-8", errors="surrogateescape", newline="") as fh:
        for n, line in enumerate(fh, start=1):
            for item in dec.feed(line, rx):
                if type(item) is PositionFix:
                    fixes += 1
                    if n % 500 == 0 or not marks:
                        ts = item.ts.timestamp()
                        if ts > last_ts:
                            marks.append((ts, n))
                            last_ts = ts
    dec.flush()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return {"fixes": fixes, "lines": n, "seconds": wall, "cpu_s": cpu, "fixes_per_s": fixes / wall,
            "fixes_per_cpu_s": fixes / cpu, "marks": marks}


# ------------------------------------------------------------------------------ 3-4: the command
def run_ingest(env: dict, path: Path, *, batch: int) -> dict:
    """``ingest_ais FILE`` as a user runs it; its progress lines give (wall time, lines read)."""
    cmd = [PY, "manage.py", "ingest_ais", str(path), "--json", "--progress-every", "0", "--batch-size", str(batch),
           "--received-at", RECEIVED]
    samples: list[tuple[float, int]] = []
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def read_err():
        for line in proc.stderr:
            if line.startswith("…"):
                try:
                    samples.append((time.time(), int(line[2:].split(" lines", 1)[0].replace(",", ""))))
                except ValueError:
                    pass

    reader = threading.Thread(target=read_err, daemon=True)
    reader.start()
    stdout = proc.stdout.read()
    usage = _wait(proc)
    reader.join(timeout=10)
    wall = time.time() - t0
    if usage["rc"]:
        raise RuntimeError(f"ingest_ais failed ({usage['rc']}): {stdout[-2000:]}")
    totals = json.loads(stdout)
    return {"seconds": wall, "t0": t0, "cpu_s": usage["cpu_s"], "max_rss_mib": usage["max_rss_mib"],
            "totals": {k: totals[k] for k in ("read", "fixes", "stored", "duplicates", "quarantined_total",
                                              "warnings_new", "warnings_updated", "batches", "errors")},
            "samples": samples}


def delays(report: dict, marks: list[tuple[float, int]], samples: list[tuple[float, int]]) -> dict:
    """Fix → warning delay of every new warning (seconds): created − when its raising fix was read."""
    if not samples or not marks:
        return {"n": 0}
    mark_ts = [m[0] for m in marks]
    s_lines = [s[1] for s in samples]
    out = []
    for created, end in report["created"]:
        if not end:
            continue
        ts = datetime.fromisoformat(end).timestamp()
        i = min(bisect.bisect_left(mark_ts, ts), len(marks) - 1)
        line = marks[i][1]
        j = min(bisect.bisect_left(s_lines, line), len(samples) - 1)
        out.append(max(0.0, created - samples[j][0]))
    if not out:
        return {"n": 0}
    out.sort()
    q = lambda p: out[min(len(out) - 1, int(p * len(out)))]  # noqa: E731
    return {"n": len(out), "p50_s": q(0.5), "p90_s": q(0.9), "p99_s": q(0.99), "max_s": out[-1],
            "mean_s": statistics.fmean(out)}


def embedded(path: Path, *, batch: int, work: Path) -> dict:
    env = _base_env()
    template = work / "template.sqlite3"
    if not template.exists():
        env["SQLITE_PATH"] = str(template)
        _manage(env, "migrate", "-v0")
        _manage(env, "shell", "-c", SETUP_GEO)
    db = work / "embedded.sqlite3"
    shutil.copy(template, db)
    env["SQLITE_PATH"] = str(db)
    empty = work / "empty.nmea"
    empty.write_text("")
    res = run_ingest(env, empty, batch=batch)  # the command's fixed cost: Python, Django, Celery start-up
    res = {**run_ingest(env, path, batch=batch), "startup": {"seconds": res["seconds"], "cpu_s": res["cpu_s"]}}
    res["report"] = json.loads(_manage(env, "shell", "-c", REPORT).strip().splitlines()[-1])
    return res


class Production:
    """A PostgreSQL database from a migrated template, a flushed Redis db and N worker processes per run."""

    def __init__(self, pg: str, redis_url: str, db: str = "xs_bench_ingest") -> None:
        self.pg, self.redis_url, self.db = pg.rstrip("/"), redis_url, db
        self.template = db + "_tpl"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg}/postgres", autocommit=True) as conn:
            conn.execute(sql)

    def env(self) -> dict:
        env = _base_env()
        env["DATABASE_URL"] = f"{self.pg}/{self.db}"
        env["REDIS_URL"] = self.redis_url
        env["DATABASE_CONN_MAX_AGE"] = "60"
        return env

    def prepare_template(self) -> None:
        import psycopg

        with psycopg.connect(f"{self.pg}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.template]).fetchone()
        env = self.env()
        env["DATABASE_URL"] = f"{self.pg}/{self.template}"
        if not exists:
            self._admin(f'CREATE DATABASE "{self.template}"')
        _manage(env, "migrate", "-v0")  # also brings an older template up to the code's migrations
        if not exists:
            _manage(env, "shell", "-c", SETUP_GEO)

    def fresh(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.db}" TEMPLATE "{self.template}"')
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()

    def run(self, path: Path, *, workers: int, batch: int, work: Path) -> dict:
        self.fresh()
        env = self.env()
        log = open(work / f"worker-{workers}.log", "w")
        worker = subprocess.Popen(
            [PY, "-m", "celery", "-A", "xiangshan", "worker", "-l", "warning", "-c", str(workers), "-P", "prefork",
             "--without-gossip", "--without-mingle", "-n", f"bench{workers}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(env)
            res = run_ingest(env, path, batch=batch)
        finally:
            worker.send_signal(signal.SIGTERM)  # warm shutdown: finishes, waits for its pool children
            try:
                wu = _wait_with_timeout(worker, 60)
            except TimeoutError:
                worker.kill()
                wu = _wait(worker)
            log.close()
        res["workers"] = {"n": workers, "cpu_s": wu["cpu_s"], "max_rss_mib": wu["max_rss_mib"]}
        res["report"] = json.loads(_manage(env, "shell", "-c", REPORT).strip().splitlines()[-1])
        return res

    @staticmethod
    def _wait_ready(env: dict) -> None:
        code = ("from xiangshan.celery import app; import sys, time\n"
                "t = time.time()\n"
                "while time.time() - t < 90:\n"
                "    if app.control.ping(timeout=1): sys.exit(0)\n"
                "sys.exit(1)\n")
        if subprocess.run([PY, "-c", code], cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "xiangshan.settings"}).returncode:
            raise RuntimeError("the celery worker did not answer")


def _wait_with_timeout(proc: subprocess.Popen, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return {"cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mib": ru.ru_maxrss / 1024, "rc": proc.returncode}
        time.sleep(0.2)
    raise TimeoutError


# ------------------------------------------------------------------------------ main
def machine() -> dict:
    load = os.getloadavg()
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "loadavg_at_start": [round(x, 2) for x in load]}


def summarise(name: str, res: dict, dec: dict, startup: dict) -> dict:
    fixes = res["totals"]["fixes"]
    cpu = res["cpu_s"] + res.get("workers", {}).get("cpu_s", 0.0)
    row = {
        "name": name,
        "seconds": round(res["seconds"], 1),
        "fixes_per_s": round(fixes / res["seconds"]),
        "ratio_wall": round(res["seconds"] / dec["seconds"], 2),
        "cpu_s": round(cpu, 1),
        "ratio_cpu": round(cpu / dec["cpu_s"], 2),
        # without the command's fixed start-up cost (measured on an empty file)
        "ratio_wall_net": round(max(0.0, res["seconds"] - startup["seconds"]) / dec["seconds"], 2),
        "ratio_cpu_net": round(max(0.0, res["cpu_s"] - startup["cpu_s"] + res.get("workers", {}).get("cpu_s", 0.0))
                               / dec["cpu_s"], 2),
        "rss_command_mib": round(res["max_rss_mib"]),
        "rss_workers_mib": round(res["workers"]["max_rss_mib"]) if "workers" in res else None,
        "warnings": res["report"]["warnings"],
        "delay": delays(res["report"], dec["marks"], res["samples"]),
        "totals": res["totals"],
    }
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=1_000_000)
    ap.add_argument("--vessels", type=int, default=None, help="default: fixes / 100 (about 100 minutes of one fix a minute)")
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--workers", default="1,2,4", help="worker process counts for production mode ('' for none)")
    ap.add_argument("--skip-embedded", action="store_true")
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432"))
    ap.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"))
    ap.add_argument("--json", type=Path, default=RESULTS / "ingest.json")
    args = ap.parse_args()
    vessels = args.vessels or max(10, args.fixes // 100)

    results: dict = {"machine": machine(), "fixes": args.fixes, "vessels": vessels, "runs": []}
    path = make_file(args.fixes, vessels)
    results["file_mb"] = round(path.stat().st_size / 1e6, 1)
    dec = decode_alone(path)
    results["decode"] = {k: v for k, v in dec.items() if k != "marks"}
    print(f"decode alone: {dec['fixes']:,} fixes in {dec['seconds']:.1f} s = {dec['fixes_per_s']:,.0f} fixes/s "
          f"({dec['fixes_per_cpu_s']:,.0f} per CPU-s)", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        work = Path(tmp)
        if not args.skip_embedded:
            emb = embedded(path, batch=args.batch_size, work=work)
            startup = emb["startup"]
            results["startup"] = startup
            print(f"command start-up (empty file): {startup['seconds']:.1f} s, {startup['cpu_s']:.1f} CPU-s", flush=True)
            row = summarise("embedded default", emb, dec, startup)
            results["runs"].append(row)
            _print_row(row)
        startup = results.get("startup", {"seconds": 0.0, "cpu_s": 0.0})
        counts = [int(x) for x in args.workers.split(",") if x.strip()]
        if counts:
            prod = Production(args.pg, args.redis_url)
            prod.prepare_template()
            for n in counts:
                row = summarise(f"production, {n} worker{'s' if n > 1 else ''}",
                                prod.run(path, workers=n, batch=args.batch_size, work=work), dec, startup)
                results["runs"].append(row)
                _print_row(row)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1, default=str))
    print(f"\nload average at start {results['machine']['loadavg_at_start']}, at end {results['machine']['loadavg_at_end']}"
          f" ({results['machine']['cpus']} CPUs); results in {args.json}")


def _print_row(r: dict) -> None:
    d = r["delay"]
    delay = (f"delay p50 {d['p50_s']:.1f} s, p90 {d['p90_s']:.1f} s, max {d['max_s']:.1f} s ({d['n']} warnings)"
             if d.get("n") else "no new warnings to time")
    workers = f", workers {r['rss_workers_mib']} MiB" if r["rss_workers_mib"] is not None else ""
    print(f"{r['name']}: {r['totals']['fixes']:,} fixes in {r['seconds']} s = {r['fixes_per_s']:,} fixes/s; "
          f"ratio to decode {r['ratio_wall']} wall / {r['ratio_cpu']} CPU ({r['cpu_s']} CPU-s), "
          f"without start-up {r['ratio_wall_net']} / {r['ratio_cpu_net']}; "
          f"peak RSS command {r['rss_command_mib']} MiB{workers}; warnings {sum(r['warnings'].values())} "
          f"{r['warnings']}; {delay}", flush=True)
    if r["totals"]["errors"]:
        print(f"  ERRORS in this run ({len(r['totals']['errors'])}): {r['totals']['errors'][:3]}", flush=True)


if __name__ == "__main__":
    main()
