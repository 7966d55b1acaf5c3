"""The pure scoring arithmetic (apps/cockpit/evaluation.py): no database, no Django.

Run alone with ``pytest tests/cockpit/test_evaluation_scoring.py -p no:django``.
"""
from decimal import Decimal

import pytest

from apps.cockpit.evaluation import (
    DEFAULT_WEIGHTS,
    METRICS,
    RawMetrics,
    WeightsError,
    evaluate,
    median_minutes,
    normalise,
    rank,
    weighted_total,
    weights_validate,
)

EQUAL = {m: Decimal(1) / 6 for m in METRICS}  # not exactly 1 in total: within tolerance


def test_default_weights_are_valid_and_sum_to_one():
    assert sum(weights_validate(DEFAULT_WEIGHTS).values()) == 1


@pytest.mark.parametrize(
    "weights, message",
    [
        ({**DEFAULT_WEIGHTS, "received": Decimal("0.2")}, "之和须为 1"),
        ({**DEFAULT_WEIGHTS, "received": "-0.1", "ack_time": "0.4"}, "0 到 1"),
        ({**DEFAULT_WEIGHTS, "received": "abc"}, "不是数字"),
        ({**DEFAULT_WEIGHTS, "received": "NaN"}, "0 到 1"),
        ({k: v for k, v in DEFAULT_WEIGHTS.items() if k != "tips"}, "缺少指标权重"),
        ({**DEFAULT_WEIGHTS, "bribes": 0}, "未知的指标"),
    ],
)
def test_bad_weights_are_refused_with_a_chinese_message(weights, message):
    with pytest.raises(WeightsError, match=message):
        weights_validate(weights)


def test_equal_sixths_are_accepted_within_tolerance():
    assert len(weights_validate(EQUAL)) == 6


def test_normalise_by_hand():
    values = [
        {"received": 4.0, "ack_time": 10.0, "on_time": 0.5, "feedback": 1.0, "disposal": None, "tips": 0.0},
        {"received": 2.0, "ack_time": 30.0, "on_time": 1.0, "feedback": 0.5, "disposal": 1.0, "tips": None},
        {"received": 0.0, "ack_time": None, "on_time": None, "feedback": None, "disposal": None, "tips": None},
    ]
    s = normalise(values)
    # received: n / max n = 4/4, 2/4, 0/4
    assert [x["received"] for x in s] == [1.0, 0.5, 0.0]
    # ack: (max - v) / (max - min) = (30-10)/20, (30-30)/20; none -> not applicable
    assert [x["ack_time"] for x in s] == [1.0, 0.0, None]
    assert s[0]["on_time"] == 0.5 and s[1]["disposal"] == 1.0 and s[0]["disposal"] is None


def test_a_single_ack_value_scores_full():
    s = normalise([{"received": 1.0, "ack_time": 42.0, "on_time": None, "feedback": None, "disposal": None, "tips": None}])
    assert s[0]["ack_time"] == 1.0


def test_weighted_total_renormalises_over_applicable_metrics():
    w = weights_validate(DEFAULT_WEIGHTS)
    scores = {"received": 1.0, "ack_time": 0.5, "on_time": None, "feedback": None, "disposal": None, "tips": None}
    # (0.10*1 + 0.20*0.5) / (0.10 + 0.20) = 0.2/0.3 -> 66.67
    assert weighted_total(scores, w) == pytest.approx(200 / 3)
    assert weighted_total({m: None for m in METRICS}, w) is None


def test_competition_ranks_and_unranked_last():
    assert rank([80.0, 90.0, 80.004, None, 10.0]) == [2, 1, 2, None, 4]


def test_evaluate_end_to_end_by_hand():
    a = RawMetrics(1, "甲", tasks_received=4, ack_median_min=10, steps_due=8, steps_on_time=6,
                   feedback_due=4, feedback_done=4, disposals_total=2, disposals_done=1, tips_total=1, tips_closed=1)
    b = RawMetrics(2, "乙", tasks_received=2, ack_median_min=30, steps_due=4, steps_on_time=4,
                   feedback_due=2, feedback_done=1)
    c = RawMetrics(3, "丙")
    weights = {"received": "0.1", "ack_time": "0.2", "on_time": "0.3", "feedback": "0.2", "disposal": "0.1", "tips": "0.1"}
    result = evaluate([c, b, a], weights)
    # 甲: received 1, ack 1, on_time 6/8=.75, feedback 1, disposal .5, tips 1
    #     = .1*1 + .2*1 + .3*.75 + .2*1 + .1*.5 + .1*1 = .875 over weight 1 -> 87.5
    # 乙: received .5, ack 0, on_time 1, feedback .5; disposal/tips n/a
    #     = (.05 + 0 + .3 + .1) / (.1+.2+.3+.2) = .45/.8 = 56.25
    # 丙: received 0 (the only applicable metric: 0 tasks) -> 0.0
    assert [(e.raw.department, e.rank) for e in result] == [("甲", 1), ("乙", 2), ("丙", 3)]
    assert result[0].total == pytest.approx(87.5)
    assert result[1].total == pytest.approx(56.25)
    assert result[2].total == 0.0
    assert result[0].rates["on_time"] == 0.75 and result[1].rates["disposal"] is None


def test_evaluate_with_no_departments_and_no_activity():
    assert evaluate([], DEFAULT_WEIGHTS) == []
    only = evaluate([RawMetrics(1, "甲")], DEFAULT_WEIGHTS)
    assert only[0].total is None and only[0].rank is None  # nothing received anywhere: nothing to judge


def test_median_minutes():
    assert median_minutes([]) is None
    assert median_minutes([5, 1, 3]) == 3.0
    assert median_minutes([1, 2, 3, 10]) == 2.5
