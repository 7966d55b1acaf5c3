"""Inputs of the cockpit API (query parameters and the weights), with Chinese messages."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from .evaluation import METRIC_LABELS, METRICS

MAX_EVALUATION_DAYS = 366


def _int(label: str, *, default: int, lo: int, hi: int) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        default=default,
        min_value=lo,
        max_value=hi,
        error_messages={
            "invalid": f"{label}须为整数。",
            "min_value": f"{label}不能小于 {lo}。",
            "max_value": f"{label}不能大于 {hi}。",
        },
    )


class SummaryQuery(serializers.Serializer):
    days = _int("统计天数 days", default=30, lo=1, hi=365)


class TrendsQuery(serializers.Serializer):
    days = _int("统计天数 days", default=30, lo=1, hi=366)
    bucket = serializers.ChoiceField(
        choices=["day", "week"], required=False, default="day",
        error_messages={"invalid_choice": "bucket 只能是 day（按日）或 week（按周）。"},
    )


class MapQuery(serializers.Serializer):
    hours = _int("时间范围 hours", default=6, lo=1, hi=72)


class TideQuery(serializers.Serializer):
    date = serializers.DateField(
        required=False, error_messages={"invalid": "日期格式应为 YYYY-MM-DD。"}
    )


_DATE_ERRORS = {"invalid": "日期格式应为 YYYY-MM-DD。"}


class EvaluationQuery(serializers.Serializer):
    start = serializers.DateField(required=False, error_messages=_DATE_ERRORS)
    end = serializers.DateField(required=False, error_messages=_DATE_ERRORS)

    def validate(self, attrs):
        today = timezone.localdate()
        end = attrs.get("end") or today
        start = attrs.get("start") or end.replace(day=1)
        if end < start:
            raise serializers.ValidationError({"end": "结束日期不能早于开始日期。"})
        if (end - start) > timedelta(days=MAX_EVALUATION_DAYS):
            raise serializers.ValidationError({"start": f"评估期间最长 {MAX_EVALUATION_DAYS} 天。"})
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
                    "required": f"请填写“{label}”的权重。",
                    "invalid": f"“{label}”的权重须为数字。",
                    "min_value": f"“{label}”的权重不能小于 0。",
                    "max_value": f"“{label}”的权重不能大于 1。",
                    "max_decimal_places": f"“{label}”的权重最多三位小数。",
                    "max_digits": f"“{label}”的权重须在 0 到 1 之间，最多三位小数。",
                    "max_whole_digits": f"“{label}”的权重须在 0 到 1 之间。",
                },
            )
