"""The hand-off from the store step to the detect step: durable "to be judged" marks.

The store step writes the fixes it stored for the first time *and* one :class:`FixHandoff`
row naming them in the same database transaction; the detect step takes the pending rows,
judges their fixes and deletes the rows in *its* transaction. So whichever step a crash
interrupts, every stored fix is judged exactly once by a committed detect step:

* the store step dies before its commit: neither fixes nor mark exist, the redelivered
  task stores them (and writes the mark) again;
* it dies after its commit: the fixes and their mark exist; the redelivered task finds the
  fixes stored (duplicates, no new mark) and the pending mark is drained by the next
  detect step;
* the detect step dies before its commit: the marks are still there for the redelivered
  (or the next) detect step; after its commit they are gone, so a second run judges nothing
  twice.

Detect is single-flight (the pipeline lock, and ``SELECT ... FOR UPDATE`` on the rows
as a second guard), and it drains every pending mark up to a bound (``upto``, the newest
mark the producer's store steps saw), so marks left behind by a crashed run are judged by
the next detect step of any run.
"""
from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Max

from .models import FixHandoff


def put(*, run_id: int | None, fixes: Sequence[list]) -> None:
    """Mark fixes (wire form) as stored but not judged. Call inside the transaction that stores them."""
    if fixes:
        FixHandoff.objects.create(run_id=run_id, fixes=list(fixes))


def newest() -> int | None:
    """The newest mark this transaction can see (the bound a later detect step drains up to)."""
    return FixHandoff.objects.aggregate(m=Max("id"))["m"]


def take(*, upto: int | None) -> tuple[list[int], list[list]]:
    """Lock and read the pending marks up to ``upto`` (all if None): (their ids, their fixes).

    Must run inside the detect step's transaction; :func:`done` deletes them in the same
    transaction.
    """
    assert transaction.get_connection().in_atomic_block, "take() belongs inside the detect transaction"
    rows = FixHandoff.objects.select_for_update().order_by("id")
    if upto is not None:
        rows = rows.filter(id__lte=upto)
    ids: list[int] = []
    fixes: list[list] = []
    for pk, items in rows.values_list("id", "fixes"):
        ids.append(pk)
        fixes.extend(items)
    return ids, fixes


def done(ids: Sequence[int]) -> None:
    """The marks have been judged (same transaction as the warnings they produced)."""
    if ids:
        FixHandoff.objects.filter(id__in=list(ids)).delete()


def pending() -> dict[str, int]:
    """How many marks and fixes wait to be judged (operations: after a crash this should drain to 0)."""
    n = 0
    marks = 0
    for items in FixHandoff.objects.values_list("fixes", flat=True).iterator():
        marks += 1
        n += len(items)
    return {"marks": marks, "fixes": n}
