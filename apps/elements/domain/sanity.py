"""Per-vessel plausibility of position fixes (after parsing, before storage and detectors).

:class:`FixSanity` decides, from the vessel's last *accepted* fix (or None) and a new fix,
whether the new fix is believable. It is stateless; the caller keeps the last accepted fix
per vessel (or uses :meth:`FixSanity.screen` for a batch).

Reasons (``Quarantined.reason``):

``impossible_time``  the fix is more than ``max_future_s`` seconds ahead of ``now``, before
                     ``min_year``, or its timestamp has no zone.
``speed_jump``       reaching it from the last accepted fix needs more than ``max_speed_kn``.
                     The implied speed is ``max(0, distance - position_noise_m) /
                     (|dt| + time_slack_s)``, distance by haversine in metres: the slack terms
                     keep GPS jitter and whole-second (or whole-minute) timestamps from
                     faking high speeds between close fixes.

Not quarantined here, by design:

* duplicates (same vessel, time and position) pass; the caller deduplicates.
* out-of-order fixes (older than the last accepted one) are checked for speed against it
  with ``|dt|`` and, if plausible, accepted **for storage** (the track history is complete)
  but must not advance detector state: use :func:`is_newer` to decide whether a fix becomes
  the vessel's new "last" fix.

Recovery from a bad anchor: if the last accepted fix was itself wrong, every true fix after
it would look like a jump. Passing ``last_rejected`` (the most recent fix refused for
``speed_jump``) lets two mutually consistent newer fixes win: a fix that jumps from ``last``
but is plausible from ``last_rejected`` is accepted when ``last.ts < last_rejected.ts < fix.ts``
(strictly: a duplicate of a spike does not vouch for it), and the caller should then use it as
the new anchor. :meth:`FixSanity.screen` does this bookkeeping.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from .geo_units import MS_PER_KNOT, haversine_m
from .model import PositionFix, Quarantined
from .positions import format_fix_csv

__all__ = ["IMPOSSIBLE_TIME", "SPEED_JUMP", "FixSanity", "is_newer"]

IMPOSSIBLE_TIME: Final = "impossible_time"
SPEED_JUMP: Final = "speed_jump"


def is_newer(last: PositionFix | None, fix: PositionFix) -> bool:
    """True when ``fix`` should replace ``last`` as the vessel's latest fix (strictly newer)."""
    return last is None or fix.ts > last.ts


@dataclass(frozen=True, slots=True)
class FixSanity:
    """Plausibility thresholds for one kind of feed.

    :param max_speed_kn: fastest believable speed over ground between two fixes, knots
        (60 kn covers fast smuggling speedboats; raise it for aircraft feeds).
    :param max_future_s: how far ahead of ``now`` a fix time may be, seconds (clock skew).
    :param min_year: fixes dated before 1 January of this year (UTC) are impossible.
    :param position_noise_m: distance, metres, subtracted before computing implied speed.
    :param time_slack_s: seconds added to ``|dt|`` (timestamp resolution of the feed).
    """

    max_speed_kn: float = 60.0
    max_future_s: float = 300.0
    min_year: int = 2000
    position_noise_m: float = 50.0
    time_slack_s: float = 1.0

    def check(
        self,
        last: PositionFix | None,
        fix: PositionFix,
        *,
        now: datetime | None = None,
        last_rejected: PositionFix | None = None,
    ) -> Quarantined | None:
        """None to accept ``fix``, or a Quarantined saying why not.

        ``last`` is the vessel's last accepted fix (None for a first fix). ``now`` (aware)
        defaults to the current time. ``last_rejected``: see the module docstring.
        """
        refused = self.check_time(fix, now=now)
        if refused is not None or last is None:
            return refused
        speed, dist, dt = self._implied(last, fix)
        if speed <= self.max_speed_kn:
            return None
        if (
            last_rejected is not None
            and last.ts < last_rejected.ts < fix.ts
            and self._implied(last_rejected, fix)[0] <= self.max_speed_kn
        ):
            return None
        return Quarantined(
            fix.source,
            format_fix_csv(fix),
            SPEED_JUMP,
            f"{speed:.1f} kn implied: {dist:.0f} m in {dt:.0f} s from the fix at "
            f"{last.ts.isoformat()} (max {self.max_speed_kn:g} kn)",
            fix.ts,
        )

    def check_time(self, fix: PositionFix, *, now: datetime | None = None) -> Quarantined | None:
        """Only the time test: None, or Quarantined(reason='impossible_time')."""
        ts = fix.ts
        if ts.tzinfo is None or ts.utcoffset() is None:
            return self._bad_time(fix, "timestamp has no time zone")
        if ts < datetime(self.min_year, 1, 1, tzinfo=UTC):
            return self._bad_time(fix, f"before {self.min_year}")
        if now is None:
            now = datetime.now(UTC)
        ahead = (ts - now).total_seconds()
        if ahead > self.max_future_s:
            return self._bad_time(fix, f"{ahead:.0f} s in the future (max {self.max_future_s:g} s)")
        return None

    def implied_speed_kn(self, a: PositionFix, b: PositionFix) -> float:
        """Implied speed in knots between two fixes, with this checker's noise and slack."""
        return self._implied(a, b)[0]

    def screen(
        self,
        fixes: Iterable[PositionFix],
        *,
        now: datetime | None = None,
    ) -> tuple[list[PositionFix], list[Quarantined]]:
        """Check a batch of fixes of any vessels, in the given order.

        Keeps per vessel the last accepted fix (advanced only by newer fixes, see
        :func:`is_newer`) and the last speed-jump rejection for recovery. Returns
        ``(accepted, quarantined)``; accepted keeps input order and includes plausible
        out-of-order fixes.
        """
        if now is None:
            now = datetime.now(UTC)
        last: dict[tuple[str, str], PositionFix] = {}
        rejected: dict[tuple[str, str], PositionFix] = {}
        accepted: list[PositionFix] = []
        refused: list[Quarantined] = []
        for fix in fixes:
            key = (fix.source, fix.vessel_id)
            prev = last.get(key)
            q = self.check(prev, fix, now=now, last_rejected=rejected.get(key))
            if q is None:
                accepted.append(fix)
                if is_newer(prev, fix):
                    last[key] = fix
                    rejected.pop(key, None)
            else:
                refused.append(q)
                if q.reason == SPEED_JUMP and (key not in rejected or fix.ts > rejected[key].ts):
                    rejected[key] = fix
        return accepted, refused

    def _implied(self, a: PositionFix, b: PositionFix) -> tuple[float, float, float]:
        """(implied speed kn, distance m, |dt| s) from ``a`` to ``b``."""
        dist = haversine_m(a.lon, a.lat, b.lon, b.lat)
        dt = abs((b.ts - a.ts).total_seconds())
        excess = dist - self.position_noise_m
        if excess <= 0.0:
            return 0.0, dist, dt
        denom = dt + self.time_slack_s
        if denom <= 0.0:
            return float("inf"), dist, dt
        return excess / denom / MS_PER_KNOT, dist, dt

    def _bad_time(self, fix: PositionFix, why: str) -> Quarantined:
        """Quarantined(impossible_time) for ``fix``."""
        ts = fix.ts if fix.ts.tzinfo is not None else None
        return Quarantined(fix.source, format_fix_csv(fix), IMPOSSIBLE_TIME, why, ts)
