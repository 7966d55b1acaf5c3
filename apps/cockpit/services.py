"""Cockpit writes: only the evaluation weighting (everything else the cockpit shows, it reads)."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from contextlib import contextmanager

from auditlog.context import auditlog_value, set_actor
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.roles import Role

from .evaluation import WeightsError, weights_validate
from .models import EvaluationWeights


def evaluation_weights_get() -> EvaluationWeights:
    """The weighting in force (created with the defaults the first time)."""
    weights = EvaluationWeights.objects.order_by("id").first()
    if weights is None:
        weights, _unused = EvaluationWeights.objects.get_or_create(pk=1)
    return weights


@contextmanager
def _audit_as(actor):
    """Name ``actor`` on the audit trail, keeping the request's address when there is one."""
    previous = auditlog_value.get(None)
    remote_addr = (previous or {}).get("remote_addr")
    with set_actor(actor, remote_addr=remote_addr):
        yield
    if previous is not None:
        auditlog_value.set(previous)


@transaction.atomic
def evaluation_weights_update(
    *, actor, weights: Mapping[str, float | Decimal | int | str], note: str = ""
) -> EvaluationWeights:
    """Set the weighting of the department evaluation. Commander only; weights in [0, 1] summing to 1.

    The change (before/after) goes on the audit trail with the actor.
    """
    if getattr(actor, "role", None) != Role.COMMANDER:
        raise PermissionDenied(_("只有作战中心指挥长可以调整考核权重。"))
    try:
        clean = weights_validate(weights)
    except WeightsError as exc:
        raise ValidationError(str(exc)) from exc
    for metric, value in clean.items():
        if value != value.quantize(Decimal("0.001")):
            raise ValidationError(_("权重最多保留三位小数：%(value)s") % {"value": value})
    row = evaluation_weights_get()
    row = EvaluationWeights.objects.select_for_update().get(pk=row.pk)
    for metric, value in clean.items():
        setattr(row, metric, value.quantize(Decimal("0.001")))
    row.note = (note or "")[:200]
    row.updated_by = actor
    row.full_clean()
    with _audit_as(actor):
        row.save()
    return row
