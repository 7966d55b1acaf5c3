"""AHP weights, consistency, scoring and levels."""
from __future__ import annotations

import numpy as np
import pytest

from apps.elements.domain.ahp import (
    DEFAULT_FACTORS,
    DEFAULT_MATRIX,
    DEFAULT_THRESHOLDS,
    AhpInconsistent,
    ahp_weights,
    default_weights,
    level_for,
    score,
)

# Saaty's classic example "Which drink is consumed more in the U.S.?" (T. L. Saaty, How to
# make a decision: the analytic hierarchy process, EJOR 48 (1990) 9-26): derived priorities
# .177 .019 .042 .116 .190 .129 .327 and C.R. = .022.
DRINKS = ("coffee", "wine", "tea", "beer", "sodas", "milk", "water")
DRINKS_MATRIX = [
    [1, 9, 5, 2, 1, 1, 1 / 2],
    [1 / 9, 1, 1 / 3, 1 / 9, 1 / 9, 1 / 9, 1 / 9],
    [1 / 5, 3, 1, 1 / 3, 1 / 4, 1 / 3, 1 / 9],
    [1 / 2, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [1, 9, 4, 2, 1, 2, 1 / 2],
    [1, 9, 3, 1, 1 / 2, 1, 1 / 3],
    [2, 9, 9, 3, 2, 3, 1],
]


def test_saaty_drinks_example() -> None:
    r = ahp_weights(DRINKS_MATRIX, factors=DRINKS)
    expected = dict(zip(DRINKS, (0.177, 0.019, 0.042, 0.116, 0.190, 0.129, 0.327), strict=True))
    for name, w in expected.items():
        assert r.weights[name] == pytest.approx(w, abs=1e-3)
    assert r.cr == pytest.approx(0.022, abs=1e-3)
    assert r.ci == pytest.approx(r.cr * 1.32)
    assert r.lambda_max == pytest.approx(7 + 6 * r.ci)
    assert sum(r.weights.values()) == pytest.approx(1.0)


def test_three_by_three_textbook_matrix() -> None:
    r = ahp_weights([[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]])
    assert list(r.weights) == ["f1", "f2", "f3"]
    assert [round(w, 3) for w in r.weights.values()] == [0.637, 0.258, 0.105]
    assert r.lambda_max == pytest.approx(3.0385, abs=1e-4)
    assert r.cr == pytest.approx(0.033, abs=1e-3)


def test_consistent_matrix_recovers_the_ratio_scale() -> None:
    w = np.array([0.5, 0.25, 0.15, 0.1])
    r = ahp_weights(w[:, None] / w[None, :], factors=("a", "b", "c", "d"))
    assert list(r.weights.values()) == pytest.approx(w.tolist())
    assert r.cr == pytest.approx(0.0, abs=1e-12)
    assert r.lambda_max == pytest.approx(4.0)


def test_inconsistent_matrix_is_refused_with_its_figures() -> None:
    cyclic = [[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]  # a > b > c > a, strongly
    with pytest.raises(AhpInconsistent) as exc:
        ahp_weights(cyclic)
    assert exc.value.result.cr > 0.1
    assert "0.1" in str(exc.value) or "0.10" in str(exc.value)
    # A milder inconsistency passes the default limit but not a stricter one.
    mild = [[1, 3, 5], [1 / 3, 1, 3], [1 / 5, 1 / 3, 1]]
    with pytest.raises(AhpInconsistent):
        ahp_weights(mild, max_cr=0.01)


@pytest.mark.parametrize(
    "matrix",
    [
        [[1, 2], [2, 1]],  # not reciprocal
        [[1, 2, 3], [0.5, 1, 2]],  # not square
        [[1, -2], [-0.5, 1]],  # not positive
        [[2, 2], [0.5, 2]],  # diagonal
        [],
    ],
)
def test_malformed_matrices_raise_value_error(matrix: list[list[float]]) -> None:
    with pytest.raises(ValueError):
        ahp_weights(matrix)


def test_two_factors_are_always_consistent() -> None:
    r = ahp_weights([[1, 4], [0.25, 1]], factors=("x", "y"))
    assert r.cr == 0.0 and r.weights == pytest.approx({"x": 0.8, "y": 0.2})


def test_default_matrix_is_consistent_and_ordered() -> None:
    r = ahp_weights(DEFAULT_MATRIX)
    assert tuple(r.weights) == DEFAULT_FACTORS
    assert r.cr < 0.1
    w = r.weights
    assert max(w, key=w.__getitem__) == "behaviour"
    assert min(w, key=w.__getitem__) == "holiday"
    assert w["unknown_vessel"] < w["watchlist"]
    assert default_weights() == r.weights


def test_score_contributions_sum_and_validation() -> None:
    w = default_weights()
    s, contrib = score({"behaviour": 1.0, "location": 0.5}, weights=w)
    assert s == pytest.approx(100 * (w["behaviour"] + 0.5 * w["location"]))
    assert sum(contrib.values()) == pytest.approx(s)
    assert set(contrib) == set(w)
    assert score({k: 1.0 for k in w}, weights=w)[0] == pytest.approx(100.0)
    assert score({}, weights=w)[0] == 0.0
    with pytest.raises(ValueError, match="outside"):
        score({"behaviour": 1.5}, weights=w)
    with pytest.raises(ValueError, match="no weight"):
        score({"moon_phase": 0.5}, weights=w)


def test_levels_and_thresholds() -> None:
    assert level_for(100) == "red"
    assert level_for(DEFAULT_THRESHOLDS["red"]) == "red"
    assert level_for(DEFAULT_THRESHOLDS["red"] - 0.01) == "orange"
    assert level_for(DEFAULT_THRESHOLDS["yellow"]) == "yellow"
    assert level_for(DEFAULT_THRESHOLDS["blue"]) == "blue"
    assert level_for(DEFAULT_THRESHOLDS["blue"] - 0.01) is None
    custom = {"red": 90, "orange": 70, "yellow": 50, "blue": 10}
    assert level_for(12, thresholds=custom) == "blue"
    with pytest.raises(ValueError):
        level_for(50, thresholds={"red": 40, "orange": 60, "yellow": 30, "blue": 10})
