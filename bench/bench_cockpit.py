#!/usr/bin/env python
"""Cockpit API speed on a realistic volume: p50/p95/p99 of each call (target p95 < 100 ms).

    python bench/bench_cockpit.py [--fixes 10000000 --warnings 100000 --vessels 2000 --repeat 40]

Creates a scratch PostgreSQL database (``xs_bench_cockpit`` on the server of $DATABASE_URL,
default postgres://postgres@127.0.0.1:5432), migrates it, loads the rows in SQL
(``generate_series`` inserts, not the ORM): stored fixes in the daily-partitioned fix table
over ``--days`` days, warnings over a year (5 %% still open), dispatches and tasks for the
dispatched warnings, geofences and vessels. Then it calls each cockpit API through Django's
test client as the commander, with the cache cleared before every call (the cold case:
the server-side minute caches of trends/evaluation/tide never help), and prints a table and
writes JSON to ``bench/results/``. The scratch database is dropped at the end (``--keep``
keeps it). Redis: $REDIS_URL (default db 15 of the local server); only its cache is used.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fixes", type=int, default=10_000_000)
    p.add_argument("--warnings", type=int, default=100_000)
    p.add_argument("--vessels", type=int, default=2_000)
    p.add_argument("--geofences", type=int, default=300)
    p.add_argument("--days", type=int, default=30, help="days of stored fixes, ending now")
    p.add_argument("--repeat", type=int, default=40, help="measured requests per endpoint")
    p.add_argument("--db", default="xs_bench_cockpit")
    p.add_argument("--keep", action="store_true", help="keep the scratch database (and reuse it when the counts match)")
    return p.parse_args()


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xiangshan")
    return url.rsplit("/", 1)[0]


def _psql(server: str, sql: str) -> None:
    subprocess.run(["psql", f"{server}/postgres", "-qc", sql], check=True)


def _setup_env(args) -> str:
    server = _server_url()
    os.environ["DATABASE_URL"] = f"{server}/{args.db}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("TIPSTER_KEYS", "dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangshan.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return server


def _load(args, log) -> dict:
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection

    from apps.core.departments import ensure_departments
    from apps.core.models import User
    from apps.elements import fixstore
    from apps.elements.models import Warning

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    depts = ensure_departments()
    user, _ = User.objects.get_or_create(username="bench-commander", defaults={"role": "commander", "department": depts["antismuggling"]})
    now = datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM elements_warning")
        if cur.fetchone()[0] >= args.warnings and args.keep:
            log("  reusing the loaded scratch database")
            return {"user": user, "timings": {"reused": 0.0}}
        cur.execute("SET synchronous_commit = off")
        # --- vessels: 10 %% seen in the last 6 hours, the rest spread over the fix period
        t = time.perf_counter()
        cur.execute(
            """INSERT INTO elements_vessel (source, external_id, name, callsign, registered, watch_group, owner, home_port,
                   last_seen, last_lon, last_lat, last_sog_kn, last_cog_deg, extra)
               SELECT 'ais', (412000000 + g)::text, '浙象渔' || g, '', g %% 17 <> 0, CASE WHEN g %% 50 = 0 THEN '重点' ELSE '' END,
                      '', '石浦', %s - (CASE WHEN g %% 10 = 0 THEN random() * interval '6 hours' ELSE random() * %s * interval '1 day' END),
                      121.6 + random() * 0.8, 28.9 + random() * 0.7, random() * 12, random() * 360, '{}'::jsonb
               FROM generate_series(1, %s) g""",
            [now, args.days, args.vessels],
        )
        # --- geofences: small squares along the coast, a third idle
        cur.execute(
            """INSERT INTO elements_geofence (name, kind, status, township, pier_chief, geometry, centroid_lon, centroid_lat, properties, updated_at)
               SELECT '码头' || g, (ARRAY['pier','cove','beach','landing_point','anchorage'])[1 + g %% 5],
                      CASE WHEN g %% 3 = 0 THEN 'idle' ELSE 'active' END, '高塘岛乡', '',
                      jsonb_build_object('type', 'Polygon', 'coordinates', jsonb_build_array(jsonb_build_array(
                          jsonb_build_array(x, y), jsonb_build_array(x + 0.004, y), jsonb_build_array(x + 0.004, y + 0.004),
                          jsonb_build_array(x, y + 0.004), jsonb_build_array(x, y)))),
                      x + 0.002, y + 0.002, '{}'::jsonb, now()
               FROM (SELECT g, 121.7 + random() * 0.5 AS x, 29.0 + random() * 0.5 AS y FROM generate_series(1, %s) g) s""",
            [args.geofences],
        )
        timings["vessels_geofences_s"] = time.perf_counter() - t
        # --- warnings over a year; 5 %% open or dispatched
        t = time.perf_counter()
        cur.execute("SELECT min(id), max(id) FROM elements_vessel")
        vmin, vmax = cur.fetchone()
        cur.execute("SELECT min(id), max(id) FROM elements_geofence")
        gmin, gmax = cur.fetchone()
        cur.execute(
            """INSERT INTO elements_warning (kind, level, score, status, episode_key, vessels, geofence_id, lon, lat, start, "end",
                   evidence, created_at, updated_at)
               SELECT (ARRAY['idle_pier_landing','dark_vessel','repeat_visit','rendezvous','scout_boat','vehicle_vessel'])[1 + g %% 6],
                      (ARRAY['red','orange','yellow','blue'])[1 + (g / 7) %% 4], 40 + random() * 60,
                      CASE WHEN g %% 20 = 0 THEN 'open' WHEN g %% 20 = 1 THEN 'dispatched' WHEN g %% 20 < 4 THEN 'false_alarm' ELSE 'closed' END,
                      'bench:' || g, jsonb_build_array((412000000 + 1 + g %% %s)::text), %s + g %% (%s - %s + 1),
                      121.7 + random() * 0.5, 29.0 + random() * 0.5, c - interval '1 hour', c, '{}'::jsonb, c, c
               FROM (SELECT g, %s - random() * interval '365 days' AS c FROM generate_series(1, %s) g) s""",
            [args.vessels, gmin, gmax, gmin, now, args.warnings],
        )
        timings["warnings_s"] = time.perf_counter() - t
        # --- dispatches and three tasks for every dispatched or closed warning (≈ 80 %% of them)
        t = time.perf_counter()
        ct = ContentType.objects.get_for_model(Warning).pk
        cur.execute(
            """INSERT INTO enforcement_dispatch (content_type_id, object_id, warning_id, title, kind, level, lon, lat, township, note, auto,
                   created_at, updated_at)
               SELECT %s, id, id, '预警派发', kind, level, lon, lat, '', '', true, created_at, created_at
               FROM elements_warning WHERE status IN ('dispatched', 'closed')""",
            [ct],
        )
        dept_ids = [d.pk for d in depts.values()]
        cur.execute(
            """INSERT INTO enforcement_task (dispatch_id, warning_id, department_id, slot, sector, level, title, instructions, state,
                   ack_minutes, arrive_minutes, feedback_minutes, assigned_at, ack_due_at, arrive_due_at, feedback_due_at,
                   acknowledged_at, started_at, arrived_at, feedback_at, feedback_text, feedback_result, closed_at,
                   reject_reason, escalated_for, reassign_count, created_at, updated_at)
               SELECT d.id, d.warning_id, (%s::bigint[])[1 + (d.id * 7 + k) %% %s], 'slot' || k, 'sea', d.level, '任务', '',
                      CASE WHEN w.status = 'closed' THEN 'closed' ELSE 'acknowledged' END,
                      10, 60, 240, d.created_at, d.created_at + interval '10 min', d.created_at + interval '60 min',
                      d.created_at + interval '240 min',
                      d.created_at + random() * interval '20 min', d.created_at + interval '21 min',
                      CASE WHEN w.status = 'closed' THEN d.created_at + random() * interval '90 min' END,
                      CASE WHEN w.status = 'closed' THEN d.created_at + random() * interval '300 min' END,
                      CASE WHEN w.status = 'closed' THEN '已处置' ELSE '' END,
                      CASE WHEN w.status = 'closed' THEN 'nothing_found' ELSE '' END,
                      CASE WHEN w.status = 'closed' THEN d.created_at + interval '6 hours' END,
                      '', '[]'::jsonb, 0, d.created_at, d.created_at
               FROM enforcement_dispatch d JOIN elements_warning w ON w.id = d.warning_id CROSS JOIN generate_series(1, 3) k"""
            ,
            [dept_ids, len(dept_ids)],
        )
        timings["tasks_s"] = time.perf_counter() - t
    # --- fixes: daily partitions first (outside the insert), then one INSERT ... SELECT per day
    t = time.perf_counter()
    start = now - timedelta(days=args.days)
    days = {(start + timedelta(days=i)).date() for i in range(args.days + 2)}
    fixstore.ensure_partitions(days)
    per_vessel = max(1, args.fixes // args.vessels)
    step_s = max(1, int(args.days * 86400 / per_vessel))
    per_day = max(1, 86400 // step_s)
    inserted = 0
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit = off")
        for d in range(args.days + 1):
            day0 = start + timedelta(days=d)
            left = args.fixes - inserted
            if left <= 0:
                break
            n_steps = min(per_day, -(-left // args.vessels))
            cur.execute(
                """INSERT INTO elements_fix (vessel_id, ts, lon_e7, lat_e7, sog_dkn, cog_ddeg)
                   SELECT v, %s + (s * %s + (v %% %s)) * interval '1 second',
                          1216000000 + ((v * 7919 + s * 13) %% 8000000), 289000000 + ((v * 104729 + s * 17) %% 7000000),
                          (s %% 120), ((v + s) %% 3600)
                   FROM generate_series(%s, %s) v CROSS JOIN generate_series(0, %s) s
                   WHERE %s + (s * %s + (v %% %s)) * interval '1 second' < %s
                   ON CONFLICT DO NOTHING""",
                [day0, step_s, step_s, vmin, vmax, n_steps - 1, day0, step_s, step_s, now],
            )
            inserted += cur.rowcount
            log(f"  fixes: {inserted:,} / {args.fixes:,}", end="\r")
        log("")
        cur.execute("ANALYZE")
    timings["fixes_s"] = time.perf_counter() - t
    timings["load_total_s"] = time.perf_counter() - t0
    return {"user": user, "timings": timings}


def _percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _measure(user, args, log) -> list[dict]:
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from apps.elements.models import Vessel

    client = Client()
    client.force_login(user)
    month_end = timezone.localdate()
    month_start = month_end - timedelta(days=30)
    vessel = Vessel.objects.filter(last_seen__isnull=False).order_by("-last_seen").first()
    calls = [
        ("summary", "/api/cockpit/summary/"),
        ("trends day 30", "/api/cockpit/trends/?days=30&bucket=day"),
        ("trends week 84", "/api/cockpit/trends/?days=84&bucket=week"),
        ("map", "/api/cockpit/map/"),
        ("evaluation 31 d", f"/api/cockpit/evaluation/?start={month_start}&end={month_end}"),
        ("tide", "/api/cockpit/tide/"),
        ("detail vessel", f"/api/cockpit/detail/vessel/{vessel.pk}/"),
        ("boundary", "/api/cockpit/boundary/"),
    ]
    rows = []
    for name, url in calls:
        for _ in range(3):  # warm the connection, the code paths and PostgreSQL's buffers
            cache.clear()
            assert client.get(url).status_code == 200, url
        samples = []
        size = 0
        for _ in range(args.repeat):
            cache.clear()
            t = time.perf_counter()
            res = client.get(url)
            samples.append((time.perf_counter() - t) * 1000)
            size = len(res.content)
        rows.append({
            "call": name, "url": url, "n": len(samples), "bytes": size,
            "p50_ms": round(_percentile(samples, 0.5), 1), "p95_ms": round(_percentile(samples, 0.95), 1),
            "p99_ms": round(_percentile(samples, 0.99), 1), "max_ms": round(max(samples), 1),
            "mean_ms": round(statistics.fmean(samples), 1),
        })
        log(f"  {name:<16} p95 {rows[-1]['p95_ms']:>7.1f} ms")
    connection.close()
    return rows


def _machine() -> dict:
    from django.db import connection

    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except Exception:
        pass
    mem = ""
    try:
        mem = next(line.split(":", 1)[1].strip() for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    except Exception:
        pass
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        pg = cur.fetchone()[0]
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(), "postgresql": pg,
            "platform": platform.platform()}


def main() -> None:
    args = _args()
    server = _setup_env(args)
    log = lambda *a, **k: print(*a, **k, flush=True)  # noqa: E731
    if not args.keep:
        _psql(server, f"DROP DATABASE IF EXISTS {args.db}")
    exists = subprocess.run(["psql", f"{server}/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{args.db}'"],
                            capture_output=True, text=True).stdout.strip()
    if not exists:
        _psql(server, f"CREATE DATABASE {args.db}")
    import django

    django.setup()
    from django.conf import settings

    assert settings.DATABASES["default"]["NAME"] == args.db, "refusing to load into anything but the scratch database"
    log(f"loading {args.fixes:,} fixes, {args.warnings:,} warnings, {args.vessels:,} vessels into {args.db} …")
    loaded = _load(args, log)
    log("measuring (cache cleared before every request) …")
    rows = _measure(loaded["user"], args, log)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM elements_fix), (SELECT count(*) FROM elements_warning), (SELECT count(*) FROM enforcement_task)")
        n_fix, n_warn, n_task = cur.fetchone()
    machine = _machine()
    result = {
        "benchmark": "cockpit API",
        "at": datetime.now(UTC).isoformat(),
        "rows": {"fixes": n_fix, "warnings": n_warn, "tasks": n_task, "vessels": args.vessels, "geofences": args.geofences},
        "load": loaded["timings"],
        "machine": machine,
        "repeat": args.repeat,
        "target_p95_ms": 100,
        "calls": rows,
    }
    print()
    print(f"{'call':<17}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'bytes':>10}")
    for r in rows:
        flag = "" if r["p95_ms"] < 100 else "  ← over target"
        print(f"{r['call']:<17}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['max_ms']:>9.1f}{r['bytes']:>10,}{flag}")
    print(f"\n{n_fix:,} fixes, {n_warn:,} warnings, {n_task:,} tasks; {machine['cores']} cores, {machine['cpu']}; PostgreSQL {machine['postgresql']}")
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"cockpit-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"written {out.relative_to(ROOT)}")
    connection.close()
    if not args.keep:
        _psql(server, f"DROP DATABASE IF EXISTS {args.db}")


if __name__ == "__main__":
    main()
