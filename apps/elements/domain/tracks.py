"""Tracks in event time: a target's samples in time order, positions interpolated between them.

Reporters are sparse and uneven: AIS every few seconds, a Beidou terminal every 3 minutes to
an hour, satellite AIS in bursts. Rules that compare two targets at one instant (encounters)
ask each target's :class:`Track` where it was *then* (:meth:`Track.position_at`): linear
between the two samples around the instant when they are no further apart than the
interpolation limit of their sources, otherwise the nearest sample when it is within the
rule's time skew, otherwise nowhere (a silence longer than the limit is a gap, never
bridged).

Per-source behaviour (:class:`SourceProfile`, overridable per deployment; the defaults are
documented in ``docs/architecture.md``):

==========  ======================  =========================================================
source      interpolation limit     allowed lateness (how late its data may still arrive and
                                    be judged in the flow; older data is re-judged)
==========  ======================  =========================================================
ais         10 min                  5 min
sat_ais     30 min                  60 min
beidou      20 min                  30 min
radar       2 min                   2 min
upload      20 min                  24 h
(other)     10 min                  10 min
==========  ======================  =========================================================
"""
from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["DEFAULT_SOURCES", "SourceProfile", "Track", "source_profile"]


@dataclass(frozen=True, slots=True)
class SourceProfile:
    """How a source behaves: how far apart two of its samples may be interpolated, and how
    late its data may arrive (its watermark lags its latest event time by this much)."""

    interpolation_limit_s: float = 600.0
    allowed_lateness_s: float = 600.0

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceProfile:
        return cls(
            interpolation_limit_s=float(d.get("interpolation_limit_min", 10.0)) * 60.0,
            allowed_lateness_s=float(d.get("allowed_lateness_min", 10.0)) * 60.0,
        )


DEFAULT_SOURCES: Final[Mapping[str, SourceProfile]] = {
    "ais": SourceProfile(interpolation_limit_s=600.0, allowed_lateness_s=300.0),
    "sat_ais": SourceProfile(interpolation_limit_s=1800.0, allowed_lateness_s=3600.0),
    "beidou": SourceProfile(interpolation_limit_s=1200.0, allowed_lateness_s=1800.0),
    "radar": SourceProfile(interpolation_limit_s=120.0, allowed_lateness_s=120.0),
    "upload": SourceProfile(interpolation_limit_s=1200.0, allowed_lateness_s=86400.0),
}
_OTHER: Final[SourceProfile] = SourceProfile()


def source_profile(source: str, table: Mapping[str, SourceProfile] = DEFAULT_SOURCES) -> SourceProfile:
    """The profile of a source name (``radar:<sensor>`` style names use their prefix)."""
    p = table.get(source)
    if p is None and ":" in source:
        p = table.get(source.split(":", 1)[0])
    return p if p is not None else table.get("*", _OTHER)


class Track:
    """One target's samples ``[t_s, lon, lat, source]`` in time order (inserts keep the order).

    A plain list underneath (JSON-safe as is). ``limits`` (source -> seconds) overrides the
    default interpolation limits of :data:`DEFAULT_SOURCES`.
    """

    __slots__ = ("samples", "_ts")

    def __init__(self, samples: Iterable[Sequence[Any]] = (), *, ordered: bool = False) -> None:
        """``ordered=True``: ``samples`` is already a list of lists in time order (kept, not copied)."""
        if ordered and isinstance(samples, list):
            self.samples: list[list[Any]] = samples
        else:
            self.samples = sorted((list(s) for s in samples), key=lambda s: s[0])
        self._ts: list[float] = [s[0] for s in self.samples]

    def __len__(self) -> int:
        return len(self.samples)

    @staticmethod
    def _limit(source: str, limits: Mapping[str, float] | None) -> float:
        if limits is not None and source in limits:
            return limits[source]
        return source_profile(source).interpolation_limit_s

    def insert(self, t_s: float, lon: float, lat: float, source: str, *, min_spacing_s: float = 0.0) -> bool:
        """Add a sample in its place; False (not added) when one lies within ``min_spacing_s``."""
        k = bisect.bisect_left(self._ts, t_s)
        spacing = max(min_spacing_s, 1e-9)
        if (k < len(self._ts) and self._ts[k] - t_s < spacing) or (k > 0 and t_s - self._ts[k - 1] < spacing):
            return False
        self._ts.insert(k, t_s)
        self.samples.insert(k, [t_s, lon, lat, source])
        return True

    def prune_before(self, t_s: float) -> None:
        k = bisect.bisect_left(self._ts, t_s)
        if k:
            del self._ts[:k]
            del self.samples[:k]

    def span(self) -> tuple[float, float] | None:
        return (self._ts[0], self._ts[-1]) if self._ts else None

    def position_at(
        self, t_s: float, *, max_skew_s: float = 0.0, limits: Mapping[str, float] | None = None
    ) -> tuple[float, float] | None:
        """(lon, lat) at ``t_s``: interpolated between the samples around it when they are no
        further apart than their sources' interpolation limit, else the nearest sample if
        within ``max_skew_s``, else None."""
        ts = self._ts
        if not ts:
            return None
        k = bisect.bisect_left(ts, t_s)
        if k < len(ts) and ts[k] == t_s:
            s = self.samples[k]
            return s[1], s[2]
        if 0 < k < len(ts):
            a, b = self.samples[k - 1], self.samples[k]
            if b[0] - a[0] <= max(self._limit(a[3], limits), self._limit(b[3], limits)):
                f = (t_s - a[0]) / (b[0] - a[0])
                return a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f
        best = None
        for j in (k - 1, k):
            if 0 <= j < len(ts) and abs(ts[j] - t_s) <= max_skew_s:
                if best is None or abs(ts[j] - t_s) < abs(ts[best] - t_s):
                    best = j
        if best is None:
            return None
        s = self.samples[best]
        return s[1], s[2]
