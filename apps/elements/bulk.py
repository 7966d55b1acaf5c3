"""Bulk writes for the hot ingest path: one statement per batch, no per-row ORM expressions.

Django's ``bulk_update`` writes ``SET col = CASE WHEN id=1 THEN ... WHEN id=2 THEN ...``
and resolves every ``When`` in Python (most of an ingest's time once the registry is big).
Here the rows travel as plain parameters instead:

* PostgreSQL: ``UPDATE t SET ... FROM unnest(%s::type[], ...) AS u(...) WHERE t.key = u.key``,
  one statement and one array parameter per column, whatever the number of rows;
* SQLite: one prepared ``UPDATE ... WHERE key = ?`` run with ``executemany`` (one statement
  compiled once, rows bound in C).

Values must already be in the database's form on SQLite (see :func:`db_value`).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, transaction


def db_value(value):
    """A Python value as the raw cursor wants it (datetimes adapted as Django stores them)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


def update_rows(
    *, table: str, key: str, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence], only_if: str = "",
) -> int:
    """``UPDATE table SET col = new value`` for many rows in one statement; returns rows changed.

    ``columns`` are ``(name, PostgreSQL array type)`` pairs (the key column first); each row
    holds the key and then the new values in that order. ``only_if`` is an extra condition on
    the row, written with ``t.<col>`` for the current value and ``u.<col>`` for the new one
    (e.g. ``"t.last_seen IS NULL OR t.last_seen < u.last_seen"``).
    """
    if not rows:
        return 0
    names = [c for c, _t in columns]
    sets = ", ".join(f'"{c}" = u."{c}"' for c in names[1:])
    cond = f" AND ({only_if})" if only_if else ""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{t}[]" for _c, t in columns)
            cols = ", ".join(f'"{c}"' for c in names)
            cur.execute(
                f'UPDATE "{table}" AS t SET {sets} FROM unnest({arrays}) AS u({cols}) '
                f'WHERE t."{key}" = u."{key}"{cond}',
                [list(col) for col in zip(*rows)],
            )
            return cur.rowcount
        # SQLite: the same statement shape over a one-row SELECT, compiled once, run per row in
        # C; inside one transaction (in autocommit mode each row would be a commit of its own)
        values = ", ".join(f'%s AS "{c}"' for c in names)
        with transaction.atomic():
            cur.executemany(
                f'UPDATE "{table}" AS t SET {sets} FROM (SELECT {values}) AS u WHERE t."{key}" = u."{key}"{cond}',
                [[db_value(v) for v in r] for r in rows],
            )
        return cur.rowcount
