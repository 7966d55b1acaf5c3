"""Decision cockpit: the cockpit reads every other module; it owns only the evaluation weights."""
from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Value
from django.utils.translation import gettext_lazy as _

from .evaluation import DEFAULT_WEIGHTS, METRICS, WeightsError, weights_validate

_WEIGHT = {
    "max_digits": 4,
    "decimal_places": 3,
    "validators": [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(1))],
}


class EvaluationWeights(models.Model):
    """How much each metric counts in the department evaluation (one row; history on the audit trail).

    Edited by the commander; the weights must sum to 1 (checked in :meth:`clean`, by the
    service and by a database constraint).
    """

    received = models.DecimalField(_("接收预警任务"), default=DEFAULT_WEIGHTS["received"], **_WEIGHT)
    ack_time = models.DecimalField(_("签收时长"), default=DEFAULT_WEIGHTS["ack_time"], **_WEIGHT)
    on_time = models.DecimalField(_("按时率"), default=DEFAULT_WEIGHTS["on_time"], **_WEIGHT)
    feedback = models.DecimalField(_("反馈完整率"), default=DEFAULT_WEIGHTS["feedback"], **_WEIGHT)
    disposal = models.DecimalField(_("涉案物品处置完成率"), default=DEFAULT_WEIGHTS["disposal"], **_WEIGHT)
    tips = models.DecimalField(_("举报线索办结率"), default=DEFAULT_WEIGHTS["tips"], **_WEIGHT)
    note = models.CharField(_("调整说明"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("调整人")
    )
    updated_at = models.DateTimeField(_("调整时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    received__gte=0, ack_time__gte=0, on_time__gte=0, feedback__gte=0, disposal__gte=0, tips__gte=0
                ),
                name="cockpit_weights_non_negative",
            ),
            # 1 within half a thousandth: decimals are exact on PostgreSQL, floats on SQLite
            models.CheckConstraint(
                condition=models.Q(
                    received__gte=Value(Decimal("0.9995"))
                    - F("ack_time") - F("on_time") - F("feedback") - F("disposal") - F("tips"),
                    received__lte=Value(Decimal("1.0005"))
                    - F("ack_time") - F("on_time") - F("feedback") - F("disposal") - F("tips"),
                ),
                name="cockpit_weights_sum_to_one",
            ),
        ]

    def __str__(self) -> str:
        return "，".join(f"{self._meta.get_field(m).verbose_name} {getattr(self, m)}" for m in METRICS)

    def as_dict(self) -> dict[str, Decimal]:
        return {m: Decimal(getattr(self, m)) for m in METRICS}

    def clean(self) -> None:
        try:
            weights_validate(self.as_dict())
        except WeightsError as exc:
            raise ValidationError(str(exc)) from exc
