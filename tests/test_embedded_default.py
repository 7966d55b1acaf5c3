"""The embedded default end to end, as ``bin/demo`` runs it: no DATABASE_URL, no REDIS_URL —
SQLite, Celery tasks in-process, in-memory pipeline state. In a fresh subprocess: migrate,
load the demo county, ingest a small Beidou track that lands at an idle pier at night, and
export the warnings."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SQLITE_PATH=str(tmp_path / "embedded.sqlite3"), XIANGSHAN_VAR_DIR=str(tmp_path / "var"),
               MEDIA_ROOT=str(tmp_path / "media"), PYTHONUNBUFFERED="1")
    env.pop("DJANGO_SECRET_KEY", None)
    env.pop("TIPSTER_KEYS", None)
    return env


def _manage(env: dict[str, str], *args: str, timeout: int = 900) -> str:
    proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"manage.py {' '.join(args)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    return proc.stdout


def _landing_csv() -> str:
    """A boat from the sea into the demo's idle pier at 花岙 at 01:00 two nights ago, 90 minutes, and out."""
    from apps.elements.domain.positions import format_fix_csv
    from tests.elements.conftest import landing_fixes

    feature = next(
        f for f in json.loads((ROOT / "geodata" / "demo_geofences.geojson").read_text(encoding="utf-8"))["features"]
        if f["properties"]["code"] == "demo-gt-01"
    )
    lon, lat = feature["geometry"]["coordinates"]
    pier = SimpleNamespace(centroid_lon=lon, centroid_lat=lat)
    local = ZoneInfo("Asia/Shanghai")
    day = (datetime.now(local) - timedelta(days=2)).date()
    night = datetime(day.year, day.month, day.day, 1, 0, tzinfo=local)
    fixes = landing_fixes(pier, vessel_id="BD-EMBED-01", night=night, stay_min=90)
    return "source,vessel_id,timestamp,lat,lon,sog,cog\n" + "\n".join(format_fix_csv(f) for f in fixes) + "\n"


def test_embedded_default_from_migrate_to_export(tmp_path):
    env = _env(tmp_path)
    _manage(env, "migrate", "--noinput")
    demo = _manage(env, "load_demo")
    assert "[apps.elements]" in demo and "demo tracks" in demo
    track = tmp_path / "landing.csv"
    track.write_text(_landing_csv(), encoding="utf-8")

    counts = json.loads(_manage(env, "ingest_positions", str(track), "--json"))
    assert counts["stored"] == counts["fixes"] > 100 and counts["warnings_new"] >= 1

    warnings = json.loads(_manage(env, "export_warnings", "--format", "json"))
    ours = [w for w in warnings if w["vessels"] == ["BD-EMBED-01"]]
    assert [w["kind"] for w in ours] == ["idle_pier_landing"]
    w = ours[0]
    assert set(w) == {"id", "kind", "level", "score", "vessels", "geofence", "start", "end", "evidence"}
    assert w["level"] in ("red", "orange", "yellow", "blue") and 0 < w["score"] <= 100
    assert w["geofence"] == "高塘岛乡 花岙闲置码头"
    # the demo county itself has warnings of several kinds
    assert len({x["kind"] for x in warnings}) >= 4
