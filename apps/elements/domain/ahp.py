"""Risk score by the Analytic Hierarchy Process (层次分析法), seed 003 III.1.

The operations centre edits one pairwise comparison matrix over the risk factors below
(Saaty's 1-9 scale: ``a[i][j] = 3`` means factor *i* is moderately more important than
*j*, and ``a[j][i] = 1/3``). :func:`ahp_weights` derives the weights as the normalised
principal eigenvector and refuses a matrix whose consistency ratio exceeds 0.1
(:class:`AhpInconsistent`). Each detector finding carries factor values in [0, 1];
:func:`score` turns them into 0-100 (``100 * sum(w_i * x_i)``) and keeps each factor's
contribution for the warning's evidence; :func:`level_for` maps the score to
red/orange/yellow/blue (or no warning).

References: T. L. Saaty, *The Analytic Hierarchy Process*, McGraw-Hill 1980 (random
index table, CR <= 0.1 rule); T. L. Saaty, "How to make a decision: the analytic
hierarchy process", European Journal of Operational Research 48 (1990) 9-26.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_FACTORS",
    "DEFAULT_MATRIX",
    "DEFAULT_THRESHOLDS",
    "LEVELS",
    "RANDOM_INDEX",
    "AhpInconsistent",
    "AhpResult",
    "ahp_weights",
    "default_weights",
    "level_for",
    "score",
]

#: Saaty's random consistency index RI(n) (Saaty 1980, n = 1..15): the mean CI of
#: random reciprocal matrices of order n.
RANDOM_INDEX: Final[Mapping[int, float]] = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}

#: Highest level first. Below the ``blue`` threshold there is no warning.
LEVELS: Final[tuple[str, ...]] = ("red", "orange", "yellow", "blue")

#: Lower bounds of each level on the 0-100 score (configurable per deployment).
DEFAULT_THRESHOLDS: Final[Mapping[str, float]] = {"red": 75.0, "orange": 60.0, "yellow": 45.0, "blue": 30.0}

#: The risk factors, each a value in [0, 1] on a finding.
#:
#: * ``behaviour``      how closely the track matches the rule (dwell vs. unloading time,
#:                      gap length/oddness, encounter length, number of repeat visits...)
#: * ``location``       how sensitive the place is (idle pier/landing point 1.0 ... anchorage)
#: * ``watchlist``      a vessel (or its group) is on the watch list
#: * ``corroboration``  independent evidence: a watched/unknown truck at the pier, AIS
#:                      switched off at the pier, a scout boat before
#: * ``night``          share of the event inside the night window (small hours)
#: * ``tide``           closeness to high water (1 at the peak, 0 outside the window)
#: * ``history``        earlier findings on the same vessel in the last 30 days
#: * ``unknown_vessel`` the vessel is not in the registry
#: * ``holiday``        a public holiday (or the night after one)
DEFAULT_FACTORS: Final[tuple[str, ...]] = (
    "behaviour",
    "location",
    "watchlist",
    "corroboration",
    "night",
    "tide",
    "history",
    "unknown_vessel",
    "holiday",
)

# Reasoning behind the default judgements (rows are "more important than" columns):
# the rule match itself (behaviour) is what the alert is about, so it leads, moderately
# (2-3x) ahead of *where* it happened and of the *who* signals (watch list) and
# independent corroboration, which the seed treats as near-equals ("collide" tracks
# with the key-element lists, cross-check checkpoints). Night and tide are the seed's
# timing pattern (every case was 凌晨; the joint patrol is scheduled around high water)
# and history (repeat every 2-3 days) is the third; each of the three is worth about as
# much as the place. An unregistered vessel is suspicious but common among small fishing boats,
# and holidays only tilt the odds (the seed: "prefer holidays"), so they come last.
# The judgements are the integer/reciprocal Saaty values nearest to a ratio scale of
# importance (behaviour 6, location/watchlist/corroboration 4, night/tide/history 3,
# unknown 2, holiday 1), which keeps the matrix near consistent (CR ~ 0.002).
_H = 1.0 / 2.0
_T = 1.0 / 3.0
_Q = 1.0 / 4.0
_S = 1.0 / 6.0
DEFAULT_MATRIX: Final[tuple[tuple[float, ...], ...]] = (
    # beh  loc  watch corr night tide hist unkn hol
    (1.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 6.0),  # behaviour
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0),  # location
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0),  # watchlist
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 4.0),  # corroboration
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0),  # night
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0),  # tide
    (_H, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 3.0),  # history
    (_T, _H, _H, _H, _H, _H, _H, 1.0, 2.0),  # unknown_vessel
    (_S, _Q, _Q, _Q, _T, _T, _T, _H, 1.0),  # holiday
)

_RECIPROCAL_TOL: Final[float] = 1e-6


class AhpInconsistent(ValueError):
    """The comparison matrix is too inconsistent to use (CR above the limit)."""

    def __init__(self, result: AhpResult, max_cr: float) -> None:
        self.result = result
        self.max_cr = max_cr
        super().__init__(
            f"consistency ratio {result.cr:.3f} exceeds {max_cr:.2f}; revise the pairwise judgements"
        )


@dataclass(frozen=True, slots=True)
class AhpResult:
    """Weights (summing to 1, keyed by factor) and the consistency figures."""

    weights: Mapping[str, float]
    lambda_max: float
    ci: float
    cr: float

    def to_dict(self) -> dict[str, object]:
        return {"weights": dict(self.weights), "lambda_max": self.lambda_max, "ci": self.ci, "cr": self.cr}


def ahp_weights(
    matrix: Sequence[Sequence[float]] | npt.NDArray[np.float64],
    *,
    factors: Sequence[str] | None = None,
    max_cr: float = 0.1,
) -> AhpResult:
    """Weights of a positive reciprocal comparison matrix by Saaty's eigenvector method.

    ``factors`` names the rows/columns (default ``DEFAULT_FACTORS`` when the size matches,
    else ``f1..fn``). Raises ``ValueError`` for a matrix that is not square, positive and
    reciprocal (``a[j][i] == 1 / a[i][j]``, unit diagonal), and :class:`AhpInconsistent`
    when the consistency ratio ``CR = CI / RI(n)``, ``CI = (lambda_max - n) / (n - 1)``,
    exceeds ``max_cr``. For n <= 2 every reciprocal matrix is consistent (CR = 0).
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise ValueError("the comparison matrix must be square and non-empty")
    n = a.shape[0]
    if n > max(RANDOM_INDEX):
        raise ValueError(f"at most {max(RANDOM_INDEX)} factors (no random index beyond that)")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ValueError("every judgement must be a positive finite number")
    if not np.allclose(np.diag(a), 1.0, atol=_RECIPROCAL_TOL):
        raise ValueError("the diagonal must be 1")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3, atol=1e-3):
        raise ValueError("the matrix must be reciprocal: a[j][i] == 1 / a[i][j]")
    if factors is None:
        names = tuple(DEFAULT_FACTORS) if n == len(DEFAULT_FACTORS) else tuple(f"f{i + 1}" for i in range(n))
    else:
        names = tuple(factors)
        if len(names) != n or len(set(names)) != n:
            raise ValueError("factors must name each row once")
    eigvals, eigvecs = np.linalg.eig(a)
    k = int(np.argmax(eigvals.real))
    lambda_max = float(eigvals[k].real)
    vec = np.abs(eigvecs[:, k].real)
    w = vec / vec.sum()
    ci = (lambda_max - n) / (n - 1) if n > 2 else 0.0
    ci = max(ci, 0.0)  # rounding can give -1e-16 on a consistent matrix
    ri = RANDOM_INDEX[n]
    cr = ci / ri if ri > 0 else 0.0
    result = AhpResult(
        weights={name: float(x) for name, x in zip(names, w, strict=True)},
        lambda_max=lambda_max,
        ci=float(ci),
        cr=float(cr),
    )
    if cr > max_cr:
        raise AhpInconsistent(result, max_cr)
    return result


def default_weights() -> Mapping[str, float]:
    """Weights from :data:`DEFAULT_MATRIX` over :data:`DEFAULT_FACTORS`."""
    return ahp_weights(DEFAULT_MATRIX, factors=DEFAULT_FACTORS).weights


def score(factors: Mapping[str, float], *, weights: Mapping[str, float]) -> tuple[float, dict[str, float]]:
    """Score 0-100 from factor values in [0, 1]; also each factor's contribution in points.

    A factor missing from ``factors`` counts as 0. A value outside [0, 1], or a factor
    that has no weight, is a programming error (``ValueError``): silently clipping or
    dropping would hide a broken detector. Contributions sum to the score.
    """
    contributions: dict[str, float] = {}
    total = 0.0
    for name, value in factors.items():
        if name not in weights:
            raise ValueError(f"factor {name!r} has no weight")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"factor {name!r} = {value!r} is outside [0, 1]")
    for name, w in weights.items():
        c = 100.0 * w * float(factors.get(name, 0.0))
        contributions[name] = c
        total += c
    return min(max(total, 0.0), 100.0), contributions


def level_for(score_0_100: float, *, thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS) -> str | None:
    """Warning level for a score: the highest level whose lower bound it reaches, else None.

    ``thresholds`` maps each of :data:`LEVELS` to its lower bound; bounds must not increase
    from red to blue.
    """
    bounds = [float(thresholds[level]) for level in LEVELS]
    if any(hi < lo for hi, lo in zip(bounds, bounds[1:])):
        raise ValueError("thresholds must satisfy red >= orange >= yellow >= blue")
    for level, bound in zip(LEVELS, bounds, strict=True):
        if score_0_100 >= bound:
            return level
    return None
