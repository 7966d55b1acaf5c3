"""Department performance evaluation: the pure scoring arithmetic (no Django).

Seed 003 ("建立绩效评估机制"): each department is assessed along the closed loop
warning push -> dispatch -> disposal of seized goods -> tip feedback. The database work
(counting tasks, timestamps, disposals, tips per department) happens in
``apps.cockpit.selectors``; this module only turns those raw numbers into normalised
scores, a weighted total and a rank, so the rules can be read, tested and changed alone.

Metrics (``METRICS``; each normalised to a score in [0, 1], higher is better):

``received``   warnings (tasks) received in the period: workload, ``n / max n`` over the
               departments compared.
``ack_time``   median minutes from dispatch to acknowledgement: lower is better,
               min-max across departments, ``(max - v) / (max - min)``; 1 when every
               department with a value has the same median.
``on_time``    share of deadline steps met (acknowledged / arrived / fed back by their
               deadlines), used as is.
``feedback``   share of tasks received that were fed back, used as is.
``disposal``   share of seized-goods disposal chains finished, used as is.
``tips``       share of tips dispatched to the department closed with a result, used as is.

A metric with nothing to measure for a department (no task acknowledged, no seized
goods, no tips...) is *not applicable*: it neither helps nor hurts; the department's
total is the weighted mean over its applicable metrics, re-normalised by the weights
that applied:

    total = 100 * sum(w_m * s_m for applicable m) / sum(w_m for applicable m)

A department with no applicable metric has no total and is ranked after the others.
Ranks are "competition" ranks (1, 2, 2, 4) on the total rounded to 2 decimals.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

METRICS: tuple[str, ...] = ("received", "ack_time", "on_time", "feedback", "disposal", "tips")

METRIC_LABELS: dict[str, str] = {
    "received": gettext_lazy("接收预警任务"),
    "ack_time": gettext_lazy("签收时长（中位数）"),
    "on_time": gettext_lazy("按时率"),
    "feedback": gettext_lazy("反馈完整率"),
    "disposal": gettext_lazy("涉案物品处置完成率"),
    "tips": gettext_lazy("举报线索办结率"),
}

DEFAULT_WEIGHTS: dict[str, Decimal] = {
    "received": Decimal("0.10"),
    "ack_time": Decimal("0.20"),
    "on_time": Decimal("0.25"),
    "feedback": Decimal("0.15"),
    "disposal": Decimal("0.15"),
    "tips": Decimal("0.15"),
}

WEIGHT_SUM_TOLERANCE = Decimal("0.0001")


class WeightsError(ValueError):
    """Weights that cannot be used; the message is for the commander (Chinese)."""


def weights_validate(weights: Mapping[str, float | Decimal | int | str]) -> dict[str, Decimal]:
    """Check a weighting: every metric named once, each in [0, 1], summing to 1.

    Returns the weights as ``Decimal``; raises :class:`WeightsError` otherwise.
    """
    unknown = set(weights) - set(METRICS)
    if unknown:
        raise WeightsError(_("未知的指标：%(metrics)s") % {"metrics": _("、").join(sorted(unknown))})
    missing = [m for m in METRICS if m not in weights]
    if missing:
        raise WeightsError(_("缺少指标权重：%(metrics)s") % {"metrics": _("、").join(str(METRIC_LABELS[m]) for m in missing)})
    clean: dict[str, Decimal] = {}
    for metric in METRICS:
        raw = weights[metric]
        try:
            value = Decimal(str(raw).strip())
        except Exception as exc:  # decimal.InvalidOperation and friends
            raise WeightsError(_("“%(metric)s”的权重不是数字：%(value)r") % {"metric": METRIC_LABELS[metric], "value": raw}) from exc
        if not value.is_finite() or value < 0 or value > 1:
            raise WeightsError(_("“%(metric)s”的权重须在 0 到 1 之间。") % {"metric": METRIC_LABELS[metric]})
        clean[metric] = value
    total = sum(clean.values(), Decimal(0))
    if abs(total - 1) > WEIGHT_SUM_TOLERANCE:
        raise WeightsError(_("各项权重之和须为 1，当前为 %(total)s。") % {"total": f"{total.normalize():f}"})
    return clean


@dataclass(frozen=True)
class RawMetrics:
    """One department's counts for the period, as the database gives them."""

    department_id: int
    department: str
    tasks_received: int = 0
    ack_median_min: float | None = None  # None: no task acknowledged in the period
    steps_due: int = 0  # deadline steps (acknowledge / arrive / feed back) that fell due
    steps_on_time: int = 0
    feedback_due: int = 0  # tasks that owe feedback (= tasks received, less rejected ones)
    feedback_done: int = 0
    disposals_total: int = 0  # seized-goods disposal chains the department is responsible for
    disposals_done: int = 0
    tips_total: int = 0  # tips dispatched to the department
    tips_closed: int = 0  # ... closed with a result


def _rate(num: int, den: int) -> float | None:
    return None if den <= 0 else num / den


@dataclass(frozen=True)
class Evaluation:
    """A department's rates, normalised scores, weighted total and rank."""

    raw: RawMetrics
    rates: dict[str, float | None]  # on_time / feedback / disposal / tips as shares; ack median; received
    scores: dict[str, float | None]  # per metric, in [0, 1]; None when not applicable
    total: float | None  # 0..100
    rank: int | None
    weights: dict[str, float] = field(default_factory=dict)


def metric_values(raw: RawMetrics) -> dict[str, float | None]:
    """The raw value each metric is judged on (counts, minutes or shares)."""
    return {
        "received": float(raw.tasks_received),
        "ack_time": raw.ack_median_min,
        "on_time": _rate(raw.steps_on_time, raw.steps_due),
        "feedback": _rate(raw.feedback_done, raw.feedback_due),
        "disposal": _rate(raw.disposals_done, raw.disposals_total),
        "tips": _rate(raw.tips_closed, raw.tips_total),
    }


def normalise(values: Sequence[dict[str, float | None]]) -> list[dict[str, float | None]]:
    """Per-metric scores in [0, 1] for every department (see the module docstring)."""
    received = [v["received"] for v in values if v["received"] is not None]
    max_received = max(received, default=0.0)
    acks = [v["ack_time"] for v in values if v["ack_time"] is not None]
    ack_min, ack_max = (min(acks), max(acks)) if acks else (0.0, 0.0)
    out: list[dict[str, float | None]] = []
    for v in values:
        s: dict[str, float | None] = {}
        s["received"] = None if not max_received or v["received"] is None else v["received"] / max_received
        if v["ack_time"] is None:
            s["ack_time"] = None
        elif ack_max == ack_min:
            s["ack_time"] = 1.0
        else:
            s["ack_time"] = (ack_max - v["ack_time"]) / (ack_max - ack_min)
        for metric in ("on_time", "feedback", "disposal", "tips"):
            value = v[metric]
            s[metric] = None if value is None else min(1.0, max(0.0, value))
        out.append(s)
    return out


def weighted_total(scores: Mapping[str, float | None], weights: Mapping[str, Decimal]) -> float | None:
    """100 × the weighted mean of the applicable scores; None if nothing applies."""
    applicable = [(float(weights[m]), s) for m, s in scores.items() if s is not None and weights[m] > 0]
    weight_sum = sum(w for w, _unused in applicable)
    if weight_sum <= 0:
        return None
    return 100.0 * sum(w * s for w, s in applicable) / weight_sum


def rank(totals: Sequence[float | None]) -> list[int | None]:
    """Competition ranks (1, 2, 2, 4) for totals rounded to 2 decimals; None stays unranked."""
    rounded = [None if t is None else round(t, 2) for t in totals]
    ranks: list[int | None] = []
    for t in rounded:
        ranks.append(None if t is None else 1 + sum(1 for o in rounded if o is not None and o > t))
    return ranks


def evaluate(raws: Sequence[RawMetrics], weights: Mapping[str, float | Decimal | int | str]) -> list[Evaluation]:
    """Score and rank departments; the result is ordered by rank (unranked last, then by name)."""
    clean = weights_validate(weights)
    values = [metric_values(r) for r in raws]
    scores = normalise(values)
    totals = [weighted_total(s, clean) for s in scores]
    ranks = rank(totals)
    float_weights = {m: float(w) for m, w in clean.items()}
    result = [
        Evaluation(raw=r, rates=v, scores=s, total=t, rank=k, weights=float_weights)
        for r, v, s, t, k in zip(raws, values, scores, totals, ranks, strict=True)
    ]
    result.sort(key=lambda e: (e.rank is None, e.rank or 0, e.raw.department))
    return result


def median_minutes(durations_min: Sequence[float]) -> float | None:
    """The median of a list of durations in minutes (None for an empty list)."""
    return float(median(durations_min)) if durations_min else None
