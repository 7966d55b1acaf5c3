"""The bulk write path gives the very same warnings, registry and audit trail as the ORM path it replaced.

The registry writes of the hot path (``registry.vessel_positions_update`` and
``registry.vessel_static_update``) used to be Django ORM calls: ``bulk_update`` (a CASE
expression per row) for the last positions and one audited ``save()`` per changed vessel
for static data. Those previous implementations are kept here, verbatim, and the same
input goes through both: warnings, vessel rows, stored fixes and the audit entries of the
registry must be identical.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from apps.elements import registry, services, state
from apps.elements.models import IngestRun, QuarantineRecord, StoredFix, Vessel, Warning

from .conftest import AIS, positions_csv, run_json

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ the previous ORM implementations
def orm_positions_update(*, latest):
    if not latest:
        return
    current = dict(Vessel.objects.filter(pk__in=list(latest)).values_list("pk", "last_seen"))
    rows = []
    for pk, (ts, lon, lat, sog, cog) in latest.items():
        seen = current.get(pk, "missing")
        if seen == "missing" or (seen is not None and seen >= ts):
            continue
        rows.append(Vessel(pk=pk, last_seen=ts, last_lon=lon, last_lat=lat, last_sog_kn=sog, last_cog_deg=cog))
    if rows:
        Vessel.objects.bulk_update(rows, ["last_seen", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg"], batch_size=500)


def orm_static_update(*, reports, source: str = "ais") -> int:
    if not reports:
        return 0
    latest: dict = {}
    for r in sorted(reports, key=lambda r: r.ts):
        cur = latest.setdefault(r.vessel_id, {})
        for name in ("name", "callsign", "imo", "ship_type"):
            value = getattr(r, name)
            if value not in (None, ""):
                cur[name] = value
        if r.destination:
            cur["destination"] = r.destination
    refs = registry.vessels_resolve(keys=[(source, vid) for vid in latest])
    vessels = Vessel.objects.in_bulk([ref.pk for ref in refs.values()])
    changed = []
    for vid, values in latest.items():
        ref = refs.get((source, vid))
        vessel = vessels.get(ref.pk) if ref else None
        if vessel is None:
            continue
        dirty = False
        for name, limit in (("name", 80), ("callsign", 20)):
            if name in values and getattr(vessel, name) != str(values[name])[:limit]:
                setattr(vessel, name, str(values[name])[:limit])
                dirty = True
        for name in ("imo", "ship_type"):
            if name in values and getattr(vessel, name) != values[name]:
                setattr(vessel, name, values[name])
                dirty = True
        if "destination" in values and vessel.extra.get("destination") != values["destination"]:
            vessel.extra = {**vessel.extra, "destination": values["destination"]}
            dirty = True
        if dirty:
            changed.append(vessel)
    for vessel in changed:
        vessel.save(update_fields=["name", "callsign", "imo", "ship_type", "extra"])
    return len(changed)


# ------------------------------------------------------------------ one run and what it left
def _ingest_everything(tmp_path, fixes) -> list[dict]:
    """Demo tracks (positions), their older third arriving late, a re-sent part, AIS files with static reports."""
    third = len(fixes) // 3
    parts = {"tracks": fixes[third:], "late": fixes[:third], "resend": fixes[third : third + 200]}
    out = []
    for name, part in parts.items():
        (tmp_path / f"{name}.csv").write_text(positions_csv(part), encoding="utf-8")
        out.append(run_json("ingest_positions", str(tmp_path / f"{name}.csv"), "--batch-size", "700"))
    for name in ("libais_typeexamples.nmea", "libais_tagblock.nmea", "pyais_nmea_data_sample.txt"):
        out.append(run_json("ingest_ais", str(AIS / name), "--received-at", "2026-11-25T10:00:00+00:00"))
    return [{k: v for k, v in t.items() if k != "run"} for t in out]


def _snapshot(since_log_id: int) -> dict:
    from auditlog.models import LogEntry

    by_pk = dict(Vessel.objects.values_list("pk", "external_id"))
    return {
        "warnings": sorted(
            (w.episode_key, w.kind, w.level, round(w.score, 6), tuple(w.vessels), w.geofence_id, w.start, w.end,
             w.lon, w.lat)
            for w in Warning.objects.all()
        ),
        "vessels": sorted(
            Vessel.objects.values_list("source", "external_id", "name", "callsign", "imo", "ship_type", "registered",
                                       "last_seen", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg", "extra")
            .order_by("source", "external_id")
            .iterator(),
            key=repr,
        ),
        "fixes": sorted(
            (by_pk[v], ts, lon, lat, sog, cog)
            for v, ts, lon, lat, sog, cog in StoredFix.objects.values_list("vessel_id", "ts", "lon_e7", "lat_e7", "sog_dkn",
                                                                           "cog_ddeg")
        ),
        "audit": sorted(
            (by_pk.get(int(e.object_pk)), e.action, repr(sorted(e.changes.items())))
            for e in LogEntry.objects.filter(pk__gt=since_log_id, content_type__model="vessel")
        ),
        "quarantined": sorted(QuarantineRecord.objects.values_list("reason", "raw")),
    }


def _reset() -> None:
    Warning.objects.all().delete()
    StoredFix.objects.all().delete()
    QuarantineRecord.objects.all().delete()
    IngestRun.objects.all().delete()
    Vessel.objects.all().delete()
    state.state_clear()
    from apps.elements import runtime

    runtime.reset()
    runtime.context_changed()


def test_the_bulk_path_gives_the_same_warnings_registry_and_audit_as_the_orm_path(demo_geo, tmp_path, monkeypatch):
    from auditlog.models import LogEntry

    from apps.elements import demo

    fixes, _captures = demo.demo_tracks(timezone.now())
    fixes.sort(key=lambda f: f.ts)
    # a registered vessel the static reports rename (an audited registry change)
    services.vessel_register(source="ais", external_id="412440001", name="旧船名")

    mark = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with monkeypatch.context() as m:
        m.setattr(services, "vessel_positions_update", orm_positions_update)
        m.setattr(services, "vessel_static_update", orm_static_update)
        totals_orm = _ingest_everything(tmp_path, fixes)
    orm = _snapshot(mark)

    _reset()
    services.vessel_register(source="ais", external_id="412440001", name="旧船名")
    mark = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    totals_bulk = _ingest_everything(tmp_path, fixes)
    fast = _snapshot(mark)

    # the input does exercise what is compared
    assert len({w[1] for w in orm["warnings"]}) >= 4, orm["warnings"]
    assert any(v[2] for v in orm["vessels"]) and len(orm["audit"]) >= 3
    assert totals_orm[1]["stored"] > 100  # late, older fixes: stored, yet the last positions must not move back
    assert totals_orm[2]["duplicates"] > 100
    assert totals_bulk == totals_orm
    for part in ("warnings", "vessels", "fixes", "audit", "quarantined"):
        assert fast[part] == orm[part], part


def test_the_last_position_moves_forward_only_and_once_per_vessel():
    a = Vessel.objects.create(source="ais", external_id="1")
    b = Vessel.objects.create(source="ais", external_id="2")
    t = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    assert registry.vessel_positions_update(latest={a.pk: (t, 121.5, 29.1, 3.0, 90.0), b.pk: (t, 122.0, 29.5, None, None)}) == 2
    # older than what is known: not moved; newer: moved; an unknown vessel id: nothing
    moved = registry.vessel_positions_update(
        latest={a.pk: (t - timedelta(minutes=1), 0.0, 0.0, 0.0, 0.0), b.pk: (t + timedelta(minutes=1), 122.1, 29.6, 5.5, 180.0),
                999_999: (t, 1.0, 1.0, 1.0, 1.0)}
    )
    assert moved == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.last_seen, a.last_lon, a.last_lat, a.last_sog_kn, a.last_cog_deg) == (t, 121.5, 29.1, 3.0, 90.0)
    assert (b.last_seen, b.last_lon, b.last_sog_kn, b.last_cog_deg) == (t + timedelta(minutes=1), 122.1, 5.5, 180.0)
