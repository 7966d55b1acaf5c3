"""The stored-fix table: compact rows, daily partitions on PostgreSQL, insert-once, retention.

This is the hot path of every ingest, so it bypasses the ORM's per-object machinery: one
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` per chunk (what ``bulk_create(ignore_conflicts=True)``
does, plus ``RETURNING`` so the caller learns which fixes were new — only those go on to
the detectors, which makes re-ingesting a file or retrying a task harmless). On PostgreSQL
the rows travel as six arrays (``unnest``), so a 20,000-row chunk is one small statement. Rows are ``(vessel_id, ts, lon_e7, lat_e7, sog_dkn, cog_ddeg)``.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from django.db import connection, transaction

log = logging.getLogger(__name__)

TABLE = "elements_fix"
#: Rows per INSERT statement on SQLite (6 parameters each: well under its 32766 variables).
CHUNK = 2000
#: Rows per INSERT ... SELECT FROM unnest(arrays) statement on PostgreSQL.
PG_CHUNK = 20_000
#: An advisory-lock key serialising partition DDL between workers (any constant will do).
_PARTITION_LOCK_KEY = 7_310_422_001

Row = tuple[int, datetime, int, int, int | None, int | None]

_known_partitions: set[date] = set()


def utc_days(rows: Iterable[Row]) -> set[date]:
    return {r[1].astimezone(UTC).date() for r in rows}


def _partition_name(day: date) -> str:
    return f"{TABLE}_p{day:%Y%m%d}"


def ensure_partitions(days: Iterable[date]) -> None:
    """Create the daily partitions (UTC days) that do not exist yet (PostgreSQL only).

    Call it *outside* the transaction that inserts (creating a partition locks the parent
    table until commit). Serialised by a transaction-level advisory lock so that two
    workers creating the same day do not collide. Rows of a day whose partition cannot be
    created (the default partition already holds rows of that day) stay in the default one.
    """
    if connection.vendor != "postgresql":
        return
    missing = sorted(set(days) - _known_partitions)
    if not missing:
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK_KEY])
        cur.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        existing = {r[0] for r in cur.fetchall()}
        for day in missing:
            name = _partition_name(day)
            if name not in existing:
                lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
                hi = lo + timedelta(days=1)
                try:
                    with transaction.atomic():
                        cur.execute(
                            f'CREATE TABLE "{name}" PARTITION OF "{TABLE}" FOR VALUES FROM (%s) TO (%s)',
                            [lo, hi],
                        )
                except Exception:  # rows of that day already sit in the default partition
                    log.warning("partition %s not created; its rows stay in the default partition", name, exc_info=True)
            transaction.on_commit(lambda day=day: _known_partitions.add(day))


def insert_fixes(rows: Sequence[Row]) -> list[Row]:
    """Insert rows once; return the rows that were new (in input order, duplicates dropped).

    Call :func:`ensure_partitions` for the rows' days first (outside the transaction).

    Rows repeated inside ``rows`` count as duplicates too. Must run inside the caller's
    transaction if the caller wants the insert and its consequences to commit together.
    """
    if not rows:
        return []
    seen: set[tuple[int, datetime]] = set()
    unique: list[Row] = []
    for r in rows:
        key = (r[0], r[1])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    new_keys: set[tuple[int, datetime]] = set()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # six array parameters per statement (unnest): no per-row placeholders to parse
            for i in range(0, len(unique), PG_CHUNK):
                cols = list(zip(*unique[i : i + PG_CHUNK]))
                cur.execute(
                    f'INSERT INTO "{TABLE}" ("vessel_id","ts","lon_e7","lat_e7","sog_dkn","cog_ddeg") '
                    "SELECT * FROM unnest(%s::bigint[], %s::timestamptz[], %s::integer[], %s::integer[], "
                    '%s::smallint[], %s::smallint[]) ON CONFLICT DO NOTHING RETURNING "vessel_id","ts"',
                    [list(c) for c in cols],
                )
                for vessel_id, ts in cur.fetchall():
                    new_keys.add((vessel_id, _aware(ts)))
        else:
            for i in range(0, len(unique), CHUNK):
                chunk = unique[i : i + CHUNK]
                values = ",".join(["(%s,%s,%s,%s,%s,%s)"] * len(chunk))
                params: list = []
                for r in chunk:
                    params.extend(r)
                cur.execute(
                    f'INSERT INTO "{TABLE}" ("vessel_id","ts","lon_e7","lat_e7","sog_dkn","cog_ddeg") VALUES {values} '
                    'ON CONFLICT DO NOTHING RETURNING "vessel_id","ts"',
                    params,
                )
                for vessel_id, ts in cur.fetchall():
                    new_keys.add((vessel_id, _aware(ts)))
    return [r for r in unique if (r[0], _aware(r[1])) in new_keys]


def _aware(ts) -> datetime:
    """SQLite hands back text or naive datetimes; PostgreSQL aware ones. Normalise to aware UTC."""
    if isinstance(ts, str):
        ts = datetime.fromisoformat(ts)
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def drop_older_than(cutoff: datetime) -> dict[str, int]:
    """Retention: drop the day partitions entirely before ``cutoff`` and delete older rows elsewhere.

    Returns ``{"partitions_dropped": n, "rows_deleted": m}``.
    """
    dropped = 0
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # deferred foreign-key checks of rows inserted earlier in this transaction must run
            # before a partition holding them can be dropped
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK_KEY])
            cur.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
                [TABLE],
            )
            prefix = f"{TABLE}_p"
            for (name,) in cur.fetchall():
                if not name.startswith(prefix):
                    continue
                try:
                    day = datetime.strptime(name[len(prefix) :], "%Y%m%d").replace(tzinfo=UTC)
                except ValueError:
                    continue
                if day + timedelta(days=1) <= cutoff:
                    cur.execute(f'DROP TABLE "{name}"')
                    _known_partitions.discard(day.date())
                    dropped += 1
        cur.execute(f'DELETE FROM "{TABLE}" WHERE "ts" < %s', [cutoff])
        deleted = cur.rowcount
    return {"partitions_dropped": dropped, "rows_deleted": max(deleted, 0)}


def table_size_bytes() -> int | None:
    """Bytes on disk of the stored fixes (all partitions, indexes included); None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) FROM pg_inherits i "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [TABLE],
        )
        return int(cur.fetchone()[0])


# ------------------------------------------------------------------------------ reads for the detectors
def _read(where: str, params: list) -> list:
    """Stored fixes as domain ``PositionFix`` (vessel id and source from the registry), time order."""
    from .domain.model import PositionFix
    from .models import COORD_SCALE, MOTION_SCALE

    sql = (
        f'SELECT v."source", v."external_id", f."ts", f."lon_e7", f."lat_e7", f."sog_dkn", f."cog_ddeg" '
        f'FROM "{TABLE}" f JOIN "elements_vessel" v ON v."id" = f."vessel_id" WHERE {where} ORDER BY f."ts", v."external_id"'
    )
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    return [
        PositionFix(
            src, vid, _aware(ts), lon / COORD_SCALE, lat / COORD_SCALE,
            None if sog is None else sog / MOTION_SCALE, None if cog is None else cog / MOTION_SCALE,
        )
        for src, vid, ts, lon, lat, sog, cog in rows
    ]


def fixes_near(lon0: float, lat0: float, lon1: float, lat1: float, t0_s: float, t1_s: float) -> list:
    """Every vessel's stored fixes inside a box and a time range (epoch seconds): the encounter
    tracker's ``history_near`` callback for samples older than the tracks it keeps in memory."""
    from .models import COORD_SCALE

    return _read(
        'f."ts" BETWEEN %s AND %s AND f."lon_e7" BETWEEN %s AND %s AND f."lat_e7" BETWEEN %s AND %s',
        [
            datetime.fromtimestamp(t0_s, UTC), datetime.fromtimestamp(t1_s, UTC),
            int(lon0 * COORD_SCALE), int(lon1 * COORD_SCALE) + 1, int(lat0 * COORD_SCALE), int(lat1 * COORD_SCALE) + 1,
        ],
    )


def fixes_of(vessel_id: str, t0_s: float, t1_s: float) -> list:
    """One target's stored fixes (every source reporting under that id) in a time range: the
    pipeline's ``history`` callback for re-judging a target after late data."""
    return _read(
        'v."external_id" = %s AND f."ts" BETWEEN %s AND %s',
        [vessel_id, datetime.fromtimestamp(t0_s, UTC), datetime.fromtimestamp(t1_s, UTC)],
    )
