"""Small database helpers of the cockpit: durations and percentiles aggregated in the database.

PostgreSQL computes medians and p90 with ``percentile_cont`` (one pass, no rows to Python);
the embedded SQLite default has no percentile aggregate, so there the durations are
fetched (bounded by the period) and the percentile is taken in Python.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Aggregate, F, FloatField, Func, QuerySet


class MinutesBetween(Func):
    """``end - start`` in minutes (float), for two datetime columns."""

    output_field = FloatField()

    def __init__(self, end: str, start: str, **extra):
        super().__init__(F(end), F(start), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 60.0)", arg_joiner=" - ", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 1440.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class Percentile(Aggregate):
    """``percentile_cont(fraction) WITHIN GROUP (ORDER BY expr)`` (PostgreSQL only)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be in [0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def percentile_of(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile of sorted values (what ``percentile_cont`` returns)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * fraction
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def duration_stats(qs: QuerySet, *, end: str, start: str, fractions=(0.5, 0.9)) -> dict:
    """Count and percentiles (minutes) of ``end - start`` over ``qs`` rows where ``end`` is set."""
    qs = qs.filter(**{f"{end}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        minutes = MinutesBetween(end, start)
        aggs = {f"p{int(f * 100)}": Percentile(minutes, f) for f in fractions}
        from django.db.models import Count

        row = qs.aggregate(n=Count("pk"), **aggs)
        return {k: (None if v is None else round(v, 1)) if k != "n" else v for k, v in row.items()}
    values = sorted(v for v in qs.annotate(_m=MinutesBetween(end, start)).values_list("_m", flat=True) if v is not None)
    out: dict = {"n": len(values)}
    for f in fractions:
        p = percentile_of(values, f)
        out[f"p{int(f * 100)}"] = None if p is None else round(p, 1)
    return out


def durations_stats(
    qs: QuerySet, *, pairs: dict[str, tuple[str, str]], fractions=(0.5, 0.9), extra: dict | None = None
) -> dict[str, Any]:
    """Several :func:`duration_stats` in one pass: ``{name: (end, start)}`` -> ``{name: {n, p50, p90}}``.

    On PostgreSQL one aggregate query (``percentile_cont`` and ``count`` skip the rows where
    ``end`` is NULL, so no filter is needed); elsewhere one query per pair.
    ``extra`` aggregates (plain names) are computed in the same pass and returned as they are.
    """
    if connection.vendor != "postgresql":
        out_: dict[str, Any] = qs.order_by().aggregate(**extra) if extra else {}
        out_.update({name: duration_stats(qs, end=end, start=start, fractions=fractions) for name, (end, start) in pairs.items()})
        return out_
    from django.db.models import Count

    aggs = dict(extra or {})
    for name, (end, start) in pairs.items():
        aggs[f"{name}__n"] = Count(end)
        for f in fractions:
            aggs[f"{name}__p{int(f * 100)}"] = Percentile(MinutesBetween(end, start), f)
    row = qs.order_by().aggregate(**aggs)
    out: dict[str, Any] = {name: {} for name in pairs}
    for key, value in row.items():
        if "__" not in key:
            out[key] = value
            continue
        name, stat = key.split("__")
        out[name][stat] = value if stat == "n" else (None if value is None else round(value, 1))
    return out


def grouped_median(qs: QuerySet, *, group: str, end: str, start: str) -> dict:
    """``{group value: median minutes of end - start}`` over rows where ``end`` is set."""
    qs = qs.filter(**{f"{end}__isnull": False}).order_by()
    if connection.vendor == "postgresql":
        rows = qs.values(group).annotate(med=Percentile(MinutesBetween(end, start), 0.5))
        return {r[group]: r["med"] for r in rows}
    values: dict = defaultdict(list)
    for key, m in qs.annotate(_m=MinutesBetween(end, start)).values_list(group, "_m"):
        if m is not None:
            values[key].append(m)
    return {k: percentile_of(sorted(v), 0.5) for k, v in values.items()}
