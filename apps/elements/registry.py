"""The vessel registry's writes on the ingest path: resolve / create, static data, last positions.

Every function here runs once per batch of fixes, so each does a fixed number of statements
whatever the number of vessels in the batch (see :mod:`bulk`): the last position moves with
one ``UPDATE ... FROM unnest(...)`` (PostgreSQL) or one ``executemany`` (SQLite), once per
vessel per batch; static data (name, call sign, IMO, type, destination) likewise, with its
audit entries written in one ``INSERT`` too (registry changes stay on the audit trail;
positions are not registry changes and stay off it).
"""
from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from . import bulk
from .domain.model import StaticReport
from .models import Vessel

#: Fields a static report may change (all on the audit trail).
STATIC_FIELDS = ("name", "callsign", "imo", "ship_type", "extra")


def vessel_source(feed_source: str) -> str:
    """The registry's source for a feed name (``ais``, ``beidou``, ``radar``; anything else is ``other``)."""
    s = (feed_source or "").lower()
    if s in ("ais", "beidou", "radar"):
        return s
    if s in ("bd", "bds", "北斗"):
        return Vessel.Source.BEIDOU
    return Vessel.Source.OTHER


@dataclass(frozen=True, slots=True)
class VesselRef:
    pk: int
    registered: bool
    watch_group: str


def vessels_resolve(*, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], VesselRef]:
    """Registry rows for ``(feed source, vessel id)`` keys; unknown vessels are created unregistered.

    A vessel missing from the registry is not bad input: it is registered as unknown
    (``registered=False``), which the score counts as a risk factor. Two queries per call
    whatever the number of vessels (three when some are new).
    """
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for feed, ext in keys:
        wanted[(feed, ext)] = (vessel_source(feed), ext[:40])
    if not wanted:
        return {}
    by_reg = _vessel_refs(set(wanted.values()))
    missing = {k for k in wanted.values() if k not in by_reg}
    if missing:
        Vessel.objects.bulk_create(
            [Vessel(source=src, external_id=ext, registered=False) for src, ext in sorted(missing)],
            ignore_conflicts=True,
        )
        by_reg.update(_vessel_refs(missing))
    return {key: by_reg[reg] for key, reg in wanted.items() if reg in by_reg}


def _vessel_refs(keys: set[tuple[str, str]]) -> dict[tuple[str, str], VesselRef]:
    out: dict[tuple[str, str], VesselRef] = {}
    by_source: dict[str, list[str]] = {}
    for src, ext in keys:
        by_source.setdefault(src, []).append(ext)
    cond = Q()
    for src, exts in by_source.items():
        cond |= Q(source=src, external_id__in=exts)
    for pk, src, ext, registered, group in Vessel.objects.filter(cond).values_list(
        "pk", "source", "external_id", "registered", "watch_group"
    ):
        out[(src, ext)] = VesselRef(pk, registered, group)
    return out


def vessel_static_update(*, reports: Sequence[StaticReport], source: str = "ais") -> int:
    """Keep name, call sign, IMO and ship type current from AIS static reports (types 5, 19, 24).

    Only values a report carries are written (a type 24 part B does not erase the name).
    Returns the number of vessels changed. One read, one bulk update and one bulk insert of
    audit entries per call, however many vessels changed (a first ingest of a fleet changes
    them all).
    """
    if not reports:
        return 0
    latest: dict[str, dict[str, Any]] = {}
    for r in sorted(reports, key=lambda r: r.ts):
        cur = latest.setdefault(r.vessel_id, {})
        for name in ("name", "callsign", "imo", "ship_type"):
            value = getattr(r, name)
            if value not in (None, ""):
                cur[name] = value
        if r.destination:
            cur["destination"] = r.destination
    refs = vessels_resolve(keys=[(source, vid) for vid in latest])
    vessels = Vessel.objects.in_bulk([ref.pk for ref in refs.values()])
    changed: list[tuple[Vessel, Vessel]] = []  # (before, after)
    for vid, values in latest.items():
        ref = refs.get((source, vid))
        vessel = vessels.get(ref.pk) if ref else None
        if vessel is None:
            continue
        before = copy.copy(vessel)
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
            changed.append((before, vessel))
    if not changed:
        return 0
    with transaction.atomic():
        _static_write(changed)
    return len(changed)


def _static_write(changed: Sequence[tuple[Vessel, Vessel]]) -> None:
    bulk.update_rows(
        table=Vessel._meta.db_table, key="id",
        columns=[("id", "bigint"), ("name", "text"), ("callsign", "text"), ("imo", "integer"),
                 ("ship_type", "integer"), ("extra", "jsonb")],
        rows=[(v.pk, v.name, v.callsign, v.imo, v.ship_type, json.dumps(v.extra, ensure_ascii=False))
              for _b, v in changed],
    )
    _audit_updates(changed, fields=STATIC_FIELDS)


def _audit_updates(changed: Sequence[tuple[Vessel, Vessel]], *, fields: Sequence[str]) -> None:
    """The audit entries ``save()`` would have written for these updates, in one INSERT.

    The same diff as django-auditlog's own receiver (``model_instance_diff`` over the
    registered fields); actor and address come from the audit context as for a save
    (its ``pre_save`` hook on the log entry is sent for each entry).
    """
    from auditlog.cid import get_cid
    from auditlog.context import auditlog_disabled
    from auditlog.diff import model_instance_diff
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db.models.signals import pre_save

    if auditlog_disabled.get(False):
        return
    ct = ContentType.objects.get_for_model(Vessel)
    cid = get_cid()
    entries: list[LogEntry] = []
    for before, after in changed:
        changes = model_instance_diff(before, after, fields_to_check=list(fields))
        if not changes:
            continue
        entry = LogEntry(content_type=ct, object_pk=str(after.pk), object_id=after.pk, object_repr=str(after),
                         action=LogEntry.Action.UPDATE, changes=changes, cid=cid)
        pre_save.send(sender=LogEntry, instance=entry, raw=False, using=connection.alias, update_fields=None)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries)


def vessel_positions_update(*, latest: Mapping[int, tuple[datetime, float, float, float | None, float | None]]) -> int:
    """Move each vessel's last known position forward (never backward): one statement for all vessels.

    ``latest`` holds one entry per vessel (its newest fix of the batch). Off the audit trail
    on purpose: positions are not registry changes. Returns the number of vessels moved.
    """
    if not latest:
        return 0
    return bulk.update_rows(
        table=Vessel._meta.db_table, key="id",
        columns=[("id", "bigint"), ("last_seen", "timestamptz"), ("last_lon", "float8"), ("last_lat", "float8"),
                 ("last_sog_kn", "float8"), ("last_cog_deg", "float8")],
        rows=[(pk, *values) for pk, values in latest.items()],
        only_if='t."last_seen" IS NULL OR t."last_seen" < u."last_seen"',
    )
