"""Radar tracks and sensor alerts into element control (the services of the sensor part).

* :func:`radar_lines_ingest` / :func:`radar_csv_ingest` (``manage.py ingest_radar``) and
  :class:`RadarFeed` (``manage.py radar_feed``): target reports -> radar targets
  ``radar:<sensor>:<number>@<start>`` with source ``radar`` -> the same producer, store and
  detect steps as AIS (``ingest.py``). Refused lines are quarantined with their reason.
* :func:`sensor_alert_upsert`: a camera/sentinel sighting at an idle pier at night that no
  vessel explains, as a graded warning (``sensor_alert``) scored with the platform's AHP model.

The radar's track numbering (which physical track a reused target number belongs to) is kept
in the cache between runs (Redis in production), so a feed and the next file go on from it.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.cache import cache

from .domain import radar
from .domain.model import PositionFix, Quarantined
from .feed import AisFeed
from .ingest import DEFAULT_BATCH, Dispatcher, QuarantineSink, Totals, _finish_run, _route

NUMBERING_KEY = "xs:elements:radar-numbering"
NUMBERING_TTL_S = 7 * 24 * 3600


def _radars() -> dict[str, tuple[float, float]]:
    from apps.sources.sensors import radar_positions

    return radar_positions()


def numbering_load() -> radar.TrackNumbering:
    return radar.TrackNumbering.from_dict(cache.get(NUMBERING_KEY))


def numbering_save(numbering: radar.TrackNumbering) -> None:
    cache.set(NUMBERING_KEY, numbering.to_dict(), timeout=NUMBERING_TTL_S)


@dataclass
class _Seen:
    """The latest report time per radar of a run (radar health: data is a sign of life)."""

    last: dict[str, datetime] = field(default_factory=dict)

    def add(self, sensor: str, ts: datetime) -> None:
        cur = self.last.get(sensor)
        if cur is None or ts > cur:
            self.last[sensor] = ts

    def commit(self) -> None:
        if self.last:
            from apps.sources.sensors import sensors_data_seen

            sensors_data_seen(last_by_code=self.last)
            self.last = {}


def _reports_to_items(reports: Iterable[radar.RadarReport | Quarantined | None], numbering: radar.TrackNumbering,
                      seen: _Seen) -> Iterator[PositionFix | Quarantined]:
    for r in reports:
        if r is None:
            continue
        if isinstance(r, Quarantined):
            yield r
            continue
        seen.add(r.sensor_id, r.ts)
        fix = numbering.fix(r)
        if fix is not None:
            yield fix


def _ingest(items: Iterable[radar.RadarReport | Quarantined | None], *, name: str, batch_size: int, actor,
            count_read) -> dict[str, Any]:
    from . import services

    run = services.ingest_run_start(kind="radar", name=name, actor=actor)
    totals = Totals()
    dispatcher = Dispatcher(run_id=run.pk, totals=totals, batch_size=batch_size)
    quarantine = QuarantineSink(run_id=run.pk, totals=totals)
    numbering = numbering_load()
    seen = _Seen()
    errors: list[dict[str, Any]] = []
    for item in _reports_to_items(count_read(totals, items), numbering, seen):
        if isinstance(item, Quarantined) and len(errors) < 1000:
            errors.append({"row": totals.read, "reason": item.reason, "detail": item.detail, "raw": item.raw[:300]})
        _route(item, totals, dispatcher, quarantine)
    totals.decoded = totals.fixes
    out = _finish_run(run, totals, dispatcher, quarantine)
    numbering_save(numbering)
    seen.commit()
    out["row_errors"] = errors
    return out


def radar_lines_ingest(*, lines: Iterable[str], name: str, received_at: datetime, batch_size: int = DEFAULT_BATCH,
                       actor=None) -> dict[str, Any]:
    """TTM/TLL lines (tag blocks ``s:``/``c:``) through the whole pipeline; blocks until done."""
    decoder = radar.RadarNmeaDecoder(_radars())

    def read(totals: Totals, src: Iterable[str]):
        for line in src:
            if line.strip():
                totals.read += 1
            yield decoder.decode(line, received_at)

    return _ingest(lines, name=name, batch_size=batch_size, actor=actor, count_read=read)


def radar_csv_ingest(*, data: str | bytes, name: str, batch_size: int = DEFAULT_BATCH, actor=None) -> dict[str, Any]:
    """CSV ``sensor_id,target_id,timestamp,lat,lon,sog,cog`` through the whole pipeline."""
    def read(totals: Totals, src):
        for item in src:
            totals.read += 1
            yield item

    return _ingest(radar.iter_radar_csv(data, _radars()), name=name, batch_size=batch_size, actor=actor, count_read=read)


def radar_file_ingest(*, path: str | Path, received_at: datetime | None = None, fmt: str | None = None,
                      batch_size: int = DEFAULT_BATCH, actor=None) -> dict[str, Any]:
    path = Path(path)
    raw = path.read_bytes()
    if fmt is None:
        head = raw[:4096].decode("utf-8", "replace").lstrip("\ufeff").lstrip()
        fmt = "nmea" if head.startswith(("\\", "$", "!", "#")) else "csv"
    if fmt == "csv":
        return radar_csv_ingest(data=raw, name=path.name, batch_size=batch_size, actor=actor)
    text = raw.decode("utf-8", errors="replace")
    return radar_lines_ingest(lines=text.splitlines(), name=path.name, received_at=received_at or datetime.now(UTC),
                              batch_size=batch_size, actor=actor)


# ---------------------------------------------------------------------- live feed
class _RadarStream:
    """The decoder a feed keeps per connection (the AIS decoder's interface: ``feed``, ``flush``,
    ``stats.messages``), sharing the feed's one track numbering."""

    @dataclass
    class _Stats:
        messages: int = 0

    def __init__(self, owner: RadarFeed) -> None:
        self.owner = owner
        self.stats = self._Stats()

    def feed(self, line: str | bytes, received_at: datetime) -> list:
        if isinstance(line, bytes):
            line = line.decode("ascii", errors="replace")
        r = self.owner.nmea.decode(line, received_at)
        out = list(_reports_to_items([r], self.owner.numbering, self.owner.seen))
        self.stats.messages += sum(1 for o in out if isinstance(o, PositionFix))
        return out

    def flush(self) -> list:
        return []


class RadarFeed(AisFeed):
    """``manage.py radar_feed``: TTM/TLL over TCP/UDP, like ``ais_feed``, into the same pipeline."""

    run_kind = "radar_feed"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.numbering = numbering_load()
        self.seen = _Seen()
        self.nmea = radar.RadarNmeaDecoder(_radars())

    def _new_decoder(self) -> Any:
        return _RadarStream(self)

    def _flushed(self, items: list[Any]) -> None:
        numbering_save(self.numbering)
        self.seen.commit()


# ---------------------------------------------------------------------- sensor alerts
def sensor_alert_upsert(*, sensor: str, geofence, at: datetime, confidence: float, evidence: dict[str, Any]):
    """A ``sensor_alert`` warning (one per sensor and night hour): scored and graded like every warning."""
    from .domain import ahp
    from .domain.detectors import place_risk
    from .domain.pipeline import WarningEvent
    from .runtime import live_pipeline
    from .services import warning_upsert
    from .state import BufferedStateStore

    ctx_pipeline = live_pipeline(BufferedStateStore())
    weights = ctx_pipeline.weights
    thresholds = ctx_pipeline.thresholds
    gf = next((g for g in ctx_pipeline.index.geofences if str(g.id) == str(geofence.pk)), None)
    factors = {
        "behaviour": round(float(confidence), 3),
        "location": place_risk(gf) if gf is not None else 1.0,
        "corroboration": round(float(confidence), 3),
        "night": 1.0,
    }
    factors = {k: v for k, v in factors.items() if k in weights}
    score, contributions = ahp.score(factors, weights=weights)
    level = ahp.level_for(score, thresholds=thresholds) or "blue"
    hour = at.astimezone(UTC).strftime("%Y%m%d%H")
    key = "sensor_alert:" + hashlib.sha1(f"{sensor}|{geofence.pk}|{hour}".encode()).hexdigest()[:16]
    event = WarningEvent(
        action="new", episode_key=key, kind="sensor_alert", level=level, score=score, vessels=(),
        geofence_id=geofence.pk, geofence_name=geofence.name, start=at, end=at, ongoing=False,
        factors=factors, contributions=contributions,
        rule={"weights": dict(weights), "thresholds": dict(thresholds), **evidence.pop("rule", {})},
        tide_window=None, fixes=(), evidence={**evidence, "sensors": [sensor]},
    )
    return warning_upsert(event=event)
