#!/usr/bin/env python
"""Key-element network speed on 1,000,000 links: the two-hop collision per warning and the network API.

    python bench/bench_network.py [--links 1000000 --elements 200000 --repeat 200]

Creates a scratch PostgreSQL database (``xs_bench_network`` on the server of $DATABASE_URL),
migrates it, and loads the registry in SQL: ``--elements`` elements (vessels, vehicles,
people, phones, companies; 1 % with a watch level) in one ``INSERT ... SELECT generate_series``
and ``--links`` links in one more (ends drawn with a mild skew so some elements are hubs,
``src < dst``, kinds and confidences mixed, one link in fifty from one of 2,000 cases of which
half are closed). Then it times:

* the collision of one warning (``apps.intel.collision.warning_event_collide`` on a pipeline
  ``WarningEvent`` of a random registry vessel: vessel look-up, two-hop neighbourhood, rule,
  re-score) — what every warning upsert pays;
* ``GET /api/intel/network/?elements=<random element>`` (two hops, communities, payload) and
  ``GET /api/intel/path/?a=&b=`` between two elements three links apart, through Django's test
  client as the commander.

Prints p50/p95/p99 per call and writes JSON to ``bench/results/``; the scratch database is
dropped at the end (``--keep`` keeps and reuses it).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
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
    p.add_argument("--links", type=int, default=1_000_000)
    p.add_argument("--elements", type=int, default=200_000)
    p.add_argument("--repeat", type=int, default=200, help="measured collisions; the API calls are a quarter of it")
    p.add_argument("--db", default="xs_bench_network")
    p.add_argument("--keep", action="store_true")
    return p.parse_args()


def _setup_env(args) -> str:
    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/xiangshan").rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{server}/{args.db}"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("TIPSTER_KEYS", "dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xiangshan.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    return server


def _psql(server: str, sql: str) -> None:
    subprocess.run(["psql", f"{server}/postgres", "-qc", sql], check=True)


def _load(args, log) -> None:
    from django.core.management import call_command
    from django.db import connection

    from apps.intel.models import Link

    call_command("migrate", verbosity=0)
    if Link.objects.count() == args.links:
        log(f"reusing {args.links:,} links")
        return
    n, m = args.elements, args.links
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE intel_link, intel_hit, intel_element RESTART IDENTITY CASCADE")
        cur.execute("DELETE FROM enforcement_case WHERE number LIKE 'bench-%%'", [])
        cur.execute("""
            INSERT INTO enforcement_case (number, title, status, summary, created_at, closed_at)
            SELECT 'bench-' || i, 'bench case ' || i, CASE WHEN i %% 2 = 0 THEN 'closed' ELSE 'open' END, '',
                   now() - (i || ' hours')::interval, CASE WHEN i %% 2 = 0 THEN now() ELSE NULL END
            FROM generate_series(1, 2000) i""", [])
        cur.execute("SELECT min(id) FROM enforcement_case WHERE number LIKE 'bench-%%'", [])
        case0 = cur.fetchone()[0]
        cur.execute("""
            INSERT INTO intel_element (kind, key, label, roles, identity_ciphertext, id_masked, attrs, watch_level,
                                       reason, source, created_at, updated_at)
            SELECT (ARRAY['vessel','vehicle','person','phone','company'])[1 + i %% 5], 'k' || i, 'e' || i, '', '', '',
                   '{}'::jsonb, CASE WHEN i %% 100 = 0 THEN 'key' ELSE '' END, '', 'bench', now(), now()
            FROM generate_series(1, %s) i""", [n])
        # one statement for all links: skewed ends (a few hubs), ordered, unique by ref
        cur.execute("""
            INSERT INTO intel_link (src_id, dst_id, kind, source, ref, label, start, "end", confidence, seen_count,
                                    active, note, created_at, case_id)
            SELECT least(a, b), greatest(a, b),
                   (ARRAY['owns','drives','crews','called','paid','uses','seen_together','same_case','goods_traced'])[1 + (i %% 9)],
                   CASE WHEN i %% 50 = 0 THEN 'case' ELSE 'registry' END, 'b' || i, '',
                   now() - ((i %% 700) || ' days')::interval, now() - ((i %% 700) || ' days')::interval + interval '3 days',
                   round((0.1 + 0.9 * random())::numeric, 2), 1, true, '', now(),
                   CASE WHEN i %% 50 = 0 THEN %s + (i %% 2000) ELSE NULL END
            FROM (SELECT i, 1 + floor(%s * power(random(), 1.3))::int AS a, 1 + floor(%s * random())::int AS b
                  FROM generate_series(1, %s) i) s
            WHERE a <> b""", [case0, n, n, m + m // 100])
        cur.execute("SELECT count(*) FROM intel_link")
        got = cur.fetchone()[0]
        if got > m:
            cur.execute("DELETE FROM intel_link WHERE id > (SELECT id FROM intel_link ORDER BY id OFFSET %s LIMIT 1)", [m - 1])
        cur.execute("ANALYZE intel_link; ANALYZE intel_element; ANALYZE enforcement_case")
    log(f"loaded {n:,} elements and {Link.objects.count():,} links in {time.perf_counter() - t0:.1f} s")


def _pct(xs: list[float]) -> dict:
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]  # noqa: E731
    return {"n": len(xs), "p50": round(q(0.5), 1), "p95": round(q(0.95), 1), "p99": round(q(0.99), 1),
            "mean": round(statistics.fmean(xs), 1), "max": round(xs[-1], 1)}


def main() -> None:
    args = _args()
    server = _setup_env(args)
    log = lambda s: print(s, flush=True)  # noqa: E731
    try:
        _psql(server, f"CREATE DATABASE {args.db}")
    except subprocess.CalledProcessError:
        pass
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from apps.core.departments import ensure_departments
    from apps.core.models import User
    from apps.elements.domain.ahp import DEFAULT_THRESHOLDS, default_weights
    from apps.elements.domain.pipeline import WarningEvent
    from apps.intel import graph
    from apps.intel.collision import warning_event_collide
    from apps.intel.models import Element

    _load(args, log)
    rng = random.Random(7)
    vessels = list(Element.objects.filter(kind="vessel").values_list("key", flat=True)[:50_000])
    now = datetime.now(UTC)
    weights = dict(default_weights())
    sizes, collide_ms, hits = [], [], 0
    for i in range(args.repeat):
        key = rng.choice(vessels)
        ev = WarningEvent(action="new", episode_key=f"bench:{i}", kind="idle_pier_landing", level="yellow", score=50.0,
                          vessels=(key,), geofence_id=None, geofence_name=None, start=now - timedelta(hours=2), end=now,
                          ongoing=True, factors={"behaviour": 0.8, "location": 0.6}, contributions={},
                          rule={"weights": weights, "thresholds": dict(DEFAULT_THRESHOLDS)}, tide_window=None, fixes=(),
                          evidence={})
        t0 = time.perf_counter()
        out = warning_event_collide(ev)
        collide_ms.append((time.perf_counter() - t0) * 1000)
        hits += "key_elements" in out.evidence
    log(f"collision per warning: {_pct(collide_ms)} ({hits} of {args.repeat} hit the registry)")

    depts = ensure_departments()
    user, _ = User.objects.get_or_create(username="bench-commander", defaults={"role": "commander", "department": depts["antismuggling"]})
    client = Client()
    client.force_login(user)
    ids = list(Element.objects.values_list("pk", flat=True)[:100_000])
    api_ms, nodes = [], []
    for _ in range(max(20, args.repeat // 4)):
        t0 = time.perf_counter()
        r = client.get("/api/intel/network/", {"elements": rng.choice(ids)})
        api_ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, r.content[:200]
        nodes.append(len(r.json()["nodes"]))
    log(f"network API (two hops): {_pct(api_ms)}; nodes per answer median {statistics.median(nodes)}, max {max(nodes)}")
    path_ms = []
    for _ in range(max(20, args.repeat // 4)):
        a = rng.choice(ids)
        ring, rows = graph.neighbourhood([a], hops=3)
        far = [r[1] for r in rows] + [r[2] for r in rows]
        b = rng.choice(far) if far else rng.choice(ids)
        t0 = time.perf_counter()
        r = client.get("/api/intel/path/", {"a": a, "b": b})
        path_ms.append((time.perf_counter() - t0) * 1000)
        assert r.status_code in (200, 404)
    log(f"path API: {_pct(path_ms)}")
    with connection.cursor() as cur:
        cur.execute("SELECT version()")
        pg = cur.fetchone()[0].split(",")[0]
    load = os.getloadavg()
    result = {"when": now.isoformat(), "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
              "postgres": pg, "loadavg": load}, "links": args.links, "elements": args.elements,
              "collision_ms": _pct(collide_ms), "network_api_ms": _pct(api_ms), "path_api_ms": _pct(path_ms),
              "nodes_median": statistics.median(nodes), "nodes_max": max(nodes)}
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"network-{now:%Y%m%d-%H%M}.json").write_text(json.dumps(result, indent=1))
    log(f"load average during the run: {load}")
    connection.close()
    if not args.keep:
        _psql(server, f"DROP DATABASE {args.db}")


if __name__ == "__main__":
    main()
