"""Inputs of the cockpit API (query parameters and the weights), with Chinese messages."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from .evaluation import METRIC_LABELS, METRICS

MAX_EVALUATION_DAYS = 366


def _message(msgid, **values):
    """``msgid % values`` translated when shown (the fields are built at import, the language is per request)."""
    return lazy(lambda: str(msgid) % {k: str(v) for k, v in values.items()}, str)()


def _int(label, *, default: int, lo: int, hi: int) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        default=default,
        min_value=lo,
        max_value=hi,
        error_messages={
            "invalid": _message(gettext_lazy("%(label)s须为整数。"), label=label),
            "min_value": _message(gettext_lazy("%(label)s不能小于 %(lo)s。"), label=label, lo=lo),
            "max_value": _message(gettext_lazy("%(label)s不能大于 %(hi)s。"), label=label, hi=hi),
        },
    )


class SummaryQuery(serializers.Serializer):
    days = _int(gettext_lazy("统计天数 days"), default=30, lo=1, hi=365)


class TrendsQuery(serializers.Serializer):
    days = _int(gettext_lazy("统计天数 days"), default=30, lo=1, hi=366)
    bucket = serializers.ChoiceField(
        choices=["day", "week"], required=False, default="day",
        error_messages={"invalid_choice": gettext_lazy("bucket 只能是 day（按日）或 week（按周）。")},
    )


class MapQuery(serializers.Serializer):
    hours = _int(gettext_lazy("时间范围 hours"), default=6, lo=1, hi=72)


class TideQuery(serializers.Serializer):
    date = serializers.DateField(
        required=False, error_messages={"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。")}
    )


_DATE_ERRORS = {"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD。")}


class EvaluationQuery(serializers.Serializer):
    start = serializers.DateField(required=False, error_messages=_DATE_ERRORS)
    end = serializers.DateField(required=False, error_messages=_DATE_ERRORS)

    def validate(self, attrs):
        today = timezone.localdate()
        end = attrs.get("end") or today
        start = attrs.get("start") or end.replace(day=1)
        if end < start:
            raise serializers.ValidationError({"end": _("结束日期不能早于开始日期。")})
        if (end - start) > timedelta(days=MAX_EVALUATION_DAYS):
            raise serializers.ValidationError({"start": _("评估期间最长 %(days)s 天。") % {"days": MAX_EVALUATION_DAYS}})
        return {"start": start, "end": end}


class WeightsSerializer(serializers.Serializer):
    """The weighting; the sum-to-one rule is checked by the service (one place)."""

    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for metric in METRICS:
            label = METRIC_LABELS[metric]
            self.fields[metric] = serializers.DecimalField(
                max_digits=4,
                decimal_places=3,
                min_value=0,
                max_value=1,
                error_messages={
                    "required": _("请填写“%(metric)s”的权重。") % {"metric": label},
                    "invalid": _("“%(metric)s”的权重须为数字。") % {"metric": label},
                    "min_value": _("“%(metric)s”的权重不能小于 0。") % {"metric": label},
                    "max_value": _("“%(metric)s”的权重不能大于 1。") % {"metric": label},
                    "max_decimal_places": _("“%(metric)s”的权重最多三位小数。") % {"metric": label},
                    "max_digits": _("“%(metric)s”的权重须在 0 到 1 之间，最多三位小数。") % {"metric": label},
                    "max_whole_digits": _("“%(metric)s”的权重须在 0 到 1 之间。") % {"metric": label},
                },
            )
