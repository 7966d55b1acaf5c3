"""Tide prediction, tide-table import and patrol windows (apps.elements.domain.tides)."""
from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from apps.elements.domain.model import TideWindow
from apps.elements.domain.tides import (
    Constituent,
    HarmonicConstants,
    TideEvent,
    TideSchedule,
    constants_from_dict,
    events_to_csv,
    high_low_waters,
    load_constants,
    parse_tide_table_csv,
    patrol_windows,
    predict_heights,
)

REPO = Path(__file__).resolve().parents[3]
TIDES = REPO / "geodata" / "tides"
SH = ZoneInfo("Asia/Shanghai")
CST = timezone(timedelta(hours=8))


def _synthetic(*cons: tuple[str, float, float], z0: float = 0.0) -> HarmonicConstants:
    return HarmonicConstants(
        station="synthetic",
        lat=29.2,
        lon=121.95,
        datum="MSL",
        z0_m=z0,
        constituents=tuple(Constituent(n, a, g) for n, a, g in cons),
    )


M2S2 = _synthetic(("M2", 1.5, 100.0), ("S2", 0.6, 140.0), z0=2.0)


# ------------------------------------------------------------------ prediction


def test_s2_phase_is_greenwich_utc() -> None:
    # S2's equilibrium argument is 2T (T: mean solar hour angle at Greenwich), i.e.
    # 30 deg per UTC hour from 0 at 00:00 UTC; its nodal/satellite terms are tiny (UTide
    # gives |f-1| < 1 % and |u| < 1 deg). A pure S2 tide with Greenwich phase lag g peaks at
    # g/30 h UTC and 12 h later, every day - a convention check independent of UTide.
    c = _synthetic(("S2", 1.0, 90.0))
    ev = high_low_waters(c, datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC))
    highs = [e for e in ev if e.kind == "high"]
    assert len(highs) == 4
    for e in highs:
        minutes = e.ts.hour * 60 + e.ts.minute + e.ts.second / 60
        assert min(abs(minutes - 180), abs(minutes - 900)) < 2.0, e.ts
        assert e.height_m == pytest.approx(1.0, abs=0.01)


def test_zone_time_phases_are_converted_to_utc() -> None:
    utc = constants_from_dict(
        {"station": "x", "lat": 29.2, "lon": 121.95, "datum": "MSL", "z0_m": 0.0,
         "phase_time_zone": "UTC", "constituents": [{"name": "M2", "amplitude_m": 1.0, "phase_deg": 22.0}]}
    )
    # The same tide with its phase referred to Beijing time (UTC+8): g_zone = g + 8 * speed.
    zone = constants_from_dict(
        {"station": "x", "lat": 29.2, "lon": 121.95, "datum": "MSL", "z0_m": 0.0,
         "phase_time_zone": "UTC+08:00",
         "constituents": [{"name": "M2", "amplitude_m": 1.0, "phase_deg": 22.0 + 8 * 28.9841042}]}
    )
    assert zone.constituents[0].phase_deg == pytest.approx(utc.constituents[0].phase_deg, abs=1e-5)
    t = np.arange(np.datetime64("2026-06-01T00:00"), np.datetime64("2026-06-02T00:00"), np.timedelta64(1, "h"))
    np.testing.assert_allclose(predict_heights(zone, t), predict_heights(utc, t), atol=1e-6)


def test_local_epoch_convention_is_refused() -> None:
    with pytest.raises(ValueError, match="not supported"):
        constants_from_dict(
            {"station": "x", "lat": 0, "lon": 0, "datum": "MSL", "z0_m": 0, "phase_convention": "local_epoch",
             "constituents": []}
        )


def test_prediction_round_trips_through_utide_solve() -> None:
    import utide

    t = np.arange(np.datetime64("2026-01-01T00:00"), np.datetime64("2027-01-01T00:00"), np.timedelta64(1, "h"))
    c = _synthetic(("M2", 1.5, 100.0), ("S2", 0.6, 140.0), ("K1", 0.3, 250.0), ("O1", 0.2, 200.0), z0=0.5)
    h = predict_heights(c, t)
    fit = utide.solve(t, h, lat=c.lat, constit=["M2", "S2", "K1", "O1"], method="ols",
                      conf_int="none", trend=False, verbose=False)
    got = {n: (a, g) for n, a, g in zip(fit.name, fit.A, fit.g, strict=True)}
    for con in c.constituents:
        a, g = got[con.name]
        assert a == pytest.approx(con.amplitude_m, abs=1e-3)
        assert ((g - con.phase_deg + 180) % 360) - 180 == pytest.approx(0.0, abs=0.05)
    assert fit.mean == pytest.approx(0.5, abs=1e-3)


def test_m2_s2_highs_are_a_lunar_half_day_apart_with_spring_neap_cycle() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ev = high_low_waters(M2S2, start, start + timedelta(days=60))
    highs = [e for e in ev if e.kind == "high"]
    lows = [e for e in ev if e.kind == "low"]
    assert abs(len(highs) - len(lows)) <= 1
    gaps_h = np.diff([e.ts.timestamp() for e in highs]) / 3600.0
    assert gaps_h.mean() == pytest.approx(12.42, abs=0.02)
    assert gaps_h.min() > 11.5 and gaps_h.max() < 13.5
    # Spring/neap: high-water heights swing between ~Z0+(M2+S2) and ~Z0+(M2-S2)
    # (nodal factor f(M2) ~0.96-1.04) with the 14.77-day MS period.
    hh = np.array([e.height_m for e in highs])
    assert hh.max() == pytest.approx(2.0 + 1.5 + 0.6, abs=0.15)
    assert hh.min() == pytest.approx(2.0 + 1.5 - 0.6, abs=0.15)
    t_h = np.array([e.ts.timestamp() for e in highs]) / 86400.0
    springs = [t_h[i] for i in range(1, len(hh) - 1) if hh[i] >= hh[i - 1] and hh[i] >= hh[i + 1] and hh[i] > 3.9]
    spacing = np.diff(springs)
    assert spacing.size >= 2
    assert spacing.mean() == pytest.approx(14.77, abs=0.5)


def test_refined_extremum_is_at_least_as_high_as_samples() -> None:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    ev = high_low_waters(M2S2, start, start + timedelta(days=2), step_min=30)
    fine = np.arange(np.datetime64("2026-04-30T22:00"), np.datetime64("2026-05-03T02:00"), np.timedelta64(1, "m"))
    y = predict_heights(M2S2, fine)
    for e in ev:
        i = int(np.argmin(np.abs(fine - np.datetime64(e.ts.replace(tzinfo=None), "ns"))))
        window = y[max(i - 20, 0): i + 21]
        if e.kind == "high":
            assert e.height_m >= window.max() - 1e-4
        else:
            assert e.height_m <= window.min() + 1e-4


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        predict_heights(M2S2, [datetime(2026, 1, 1)])
    with pytest.raises(ValueError, match="naive"):
        high_low_waters(M2S2, datetime(2026, 1, 1), datetime(2026, 1, 2))


def test_predict_accepts_aware_datetimes_in_any_zone() -> None:
    t_utc = datetime(2026, 2, 1, 4, tzinfo=UTC)
    a = predict_heights(M2S2, [t_utc])
    b = predict_heights(M2S2, [t_utc.astimezone(SH)])
    c = predict_heights(M2S2, np.array([np.datetime64("2026-02-01T04:00")]))
    assert a[0] == pytest.approx(b[0]) and a[0] == pytest.approx(c[0])
    assert predict_heights(M2S2, []).shape == (0,)


# ------------------------------------------------------- published constants


@pytest.fixture(scope="module")
def kanmen() -> HarmonicConstants:
    return load_constants(TIDES / "kanmen.json")


@pytest.fixture(scope="module")
def kanmen_2026(kanmen: HarmonicConstants) -> list[TideEvent]:
    return high_low_waters(kanmen, datetime(2026, 1, 1, tzinfo=CST), datetime(2027, 1, 1, tzinfo=CST))


def test_kanmen_constants_load(kanmen: HarmonicConstants) -> None:
    names = {c.name for c in kanmen.constituents}
    assert {"M2", "S2", "N2", "K2", "K1", "O1", "P1", "Q1"} <= names
    m2 = next(c for c in kanmen.constituents if c.name == "M2")
    assert m2.amplitude_m == pytest.approx(1.877, abs=1e-3) and m2.phase_deg == pytest.approx(22.33, abs=0.01)
    # Constituents UTide cannot evaluate are all tiny (< 2 cm).
    small = {c.name: c.amplitude_m for c in kanmen.constituents if c.name in kanmen.unsupported}
    assert small and max(small.values()) < 0.02


def test_kanmen_two_highs_a_day_and_plausible_range(kanmen_2026: list[TideEvent]) -> None:
    highs = [e for e in kanmen_2026 if e.kind == "high"]
    lows = [e for e in kanmen_2026 if e.kind == "low"]
    # Semi-diurnal: 365 days / 1.035 lunar days * 2 ~ 705 highs; each local day has 1 or 2.
    assert 700 <= len(highs) <= 710 and abs(len(highs) - len(lows)) <= 1
    per_day: dict[object, int] = {}
    for e in highs:
        d = e.ts.astimezone(SH).date()
        per_day[d] = per_day.get(d, 0) + 1
    assert set(per_day.values()) <= {1, 2}
    assert sum(1 for n in per_day.values() if n == 2) > 300
    ranges = [h.height_m - l.height_m for h, l in zip(highs, lows, strict=False)]
    assert 2.0 < float(np.mean(np.abs(ranges))) < 5.5


def test_kanmen_mean_high_and_low_water_match_published_datums(kanmen_2026: list[TideEvent]) -> None:
    # Published with the constants (neaps/TICON-4 file): MHW 5.860, MLW 1.893, MSL 3.906 m above
    # the gauge zero -> MHW-MSL = +1.954 m, MLW-MSL = -2.013 m. One year (2026, near the nodal
    # minimum of M2) may differ from the long-term mean by a few cm.
    mhw = np.mean([e.height_m for e in kanmen_2026 if e.kind == "high"])
    mlw = np.mean([e.height_m for e in kanmen_2026 if e.kind == "low"])
    assert mhw == pytest.approx(5.860 - 3.906, abs=0.10)
    assert mlw == pytest.approx(1.893 - 3.906, abs=0.10)


def test_predicted_demo_table_is_labelled_and_parses() -> None:
    text = (TIDES / "kanmen_predicted_demo.csv").read_text(encoding="utf-8")
    assert text.startswith("# PREDICTED")
    assert "NOT an official tide table" in text.splitlines()[0]
    events, errors = parse_tide_table_csv(text)
    assert errors == []
    assert len(events) > 1500
    assert all(e.station == "kanmen-predicted" for e in events)


# ------------------------------------------------------------------ patrol windows


def _high(y: int, mo: int, d: int, hh: int, mm: int = 0) -> TideEvent:
    return TideEvent(ts=datetime(y, mo, d, hh, mm, tzinfo=CST).astimezone(UTC), height_m=2.0, kind="high")


def _low(y: int, mo: int, d: int, hh: int, mm: int = 0) -> TideEvent:
    return TideEvent(ts=datetime(y, mo, d, hh, mm, tzinfo=CST).astimezone(UTC), height_m=-2.0, kind="low")


EVENTS = [
    _high(2026, 11, 25, 5, 30),  # night (before 06:00)
    _low(2026, 11, 25, 11, 40),
    _high(2026, 11, 25, 12, 0),  # day
    _high(2026, 11, 25, 18, 0),  # night (18:00 inclusive)
    _high(2026, 11, 26, 6, 0),  # day (06:00 exclusive)
    _high(2026, 11, 26, 23, 10),  # night
]


def test_windows_are_two_hours_either_side_of_each_high() -> None:
    ws = patrol_windows(EVENTS, night_only=False)
    assert len(ws) == 5
    for w in ws:
        assert isinstance(w, TideWindow)
        assert w.peak - w.start == timedelta(hours=2) and w.end - w.peak == timedelta(hours=2)
        assert w.peak.utcoffset() == timedelta(hours=8)  # reported in Asia/Shanghai
    assert ws[0].start == datetime(2026, 11, 25, 3, 30, tzinfo=SH)


def test_night_only_filter_uses_shanghai_local_time() -> None:
    ws = patrol_windows(EVENTS)  # night_only=True, 18:00-06:00 Asia/Shanghai
    peaks = [w.peak.astimezone(SH).strftime("%d %H:%M") for w in ws]
    assert peaks == ["25 05:30", "25 18:00", "26 23:10"]


def test_window_parameters_are_configurable() -> None:
    ws = patrol_windows(
        EVENTS, before=timedelta(hours=1), after=timedelta(minutes=90),
        night_start=time(20), night_end=time(4), tz="UTC",
    )
    # In UTC the highs are 21:30, 04:00, 10:00, 22:00, 15:10 -> night 20:00-04:00 keeps 21:30 and 22:00.
    assert [w.peak.strftime("%d %H:%M") for w in ws] == ["24 21:30", "25 22:00"]
    assert all(w.end - w.start == timedelta(minutes=150) for w in ws)
    with pytest.raises(ValueError):
        patrol_windows(EVENTS, before=timedelta(hours=-1))


def test_schedule_window_at_and_nearest_high() -> None:
    sched = TideSchedule(EVENTS)
    w = sched.window_at(datetime(2026, 11, 25, 13, 59, tzinfo=SH))
    assert w is not None and w.peak == datetime(2026, 11, 25, 12, 0, tzinfo=SH)
    # Ends are inclusive; one second later is outside.
    assert sched.window_at(datetime(2026, 11, 25, 14, 0, tzinfo=SH)) == w
    assert sched.window_at(datetime(2026, 11, 25, 14, 0, 1, tzinfo=SH)) is None
    assert sched.window_at(datetime(2026, 11, 25, 3, 30, tzinfo=SH)).peak.hour == 5  # type: ignore[union-attr]
    assert sched.window_at(datetime(2026, 11, 20, tzinfo=SH)) is None
    assert sched.window_at(datetime(2026, 12, 20, tzinfo=SH)) is None
    # POSIX seconds are accepted too.
    assert sched.window_at(datetime(2026, 11, 26, 23, 0, tzinfo=SH).timestamp()) is not None

    assert sched.nearest_high(datetime(2026, 11, 25, 8, 0, tzinfo=SH)).ts == EVENTS[0].ts  # type: ignore[union-attr]
    assert sched.nearest_high(datetime(2026, 11, 25, 9, 0, tzinfo=SH)).ts == EVENTS[2].ts  # type: ignore[union-attr]
    assert sched.nearest_high(datetime(2020, 1, 1, tzinfo=UTC)).ts == EVENTS[0].ts  # type: ignore[union-attr]
    assert sched.nearest_high(datetime(2030, 1, 1, tzinfo=UTC)).ts == EVENTS[-1].ts  # type: ignore[union-attr]
    assert len(sched) == 5  # lows are not highs
    with pytest.raises(ValueError, match="naive"):
        sched.window_at(datetime(2026, 11, 25, 12))


def test_schedule_night_only_and_empty() -> None:
    night = TideSchedule(EVENTS, night_only=True)
    assert night.window_at(datetime(2026, 11, 25, 12, 0, tzinfo=SH)) is None
    assert night.window_at(datetime(2026, 11, 25, 19, 0, tzinfo=SH)) is not None
    empty = TideSchedule([])
    assert empty.window_at(datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert empty.nearest_high(datetime(2026, 1, 1, tzinfo=UTC)) is None


def test_schedule_agrees_with_linear_scan_on_a_year(kanmen_2026: list[TideEvent]) -> None:
    sched = TideSchedule(kanmen_2026)
    rng = np.random.default_rng(7)
    t0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    for s in rng.uniform(t0, t0 + 365 * 86400, size=400):
        ts = datetime.fromtimestamp(float(s), tz=UTC)
        expect = [w for w in sched.windows if w.contains(ts)]
        got = sched.window_at(ts)
        assert (got is None) == (not expect)
        if got is not None:
            assert got in expect
        nh = sched.nearest_high(ts)
        best = min((e for e in kanmen_2026 if e.kind == "high"), key=lambda e: abs(e.ts.timestamp() - s))
        assert nh is not None and abs(nh.ts.timestamp() - s) == pytest.approx(abs(best.ts.timestamp() - s))


# ---------------------------------------------------------------- table import


TABLE = """\
# 石浦 demo import test - not real data
station,timestamp,height_m,kind
shipu,2026-11-25T04:36+08:00,4.12,high
shipu,2026-11-25T10:58+08:00,0.33,low

shipu,2026-11-25 16:50:00+08:00,3.98,高潮
shipu,2026-11-25T23:05,0.41,low
shipu,2026-11-26T05:20Z,4.20,high
shipu,not-a-time,1.0,high
shipu,2026-11-26T11:40+08:00,abc,low
shipu,2026-11-26T17:30+08:00,3.9,flood
shipu,2026-11-26T23:50+08:00
,2026-11-27T06:00+08:00,4.1,high
shipu,2026-11-25T04:36+08:00,4.12,high
shipu,2026-11-27T12:20+08:00,nan,low
"""


def test_table_import_keeps_good_rows_and_reports_bad_ones() -> None:
    events, errors = parse_tide_table_csv(TABLE)
    assert [(e.ts.astimezone(SH).strftime("%d %H:%M"), e.kind) for e in events] == [
        ("25 04:36", "high"),
        ("25 10:58", "low"),
        ("25 16:50", "high"),
        ("26 13:20", "high"),  # 05:20Z
    ]
    assert all(e.ts.utcoffset() == timedelta(0) for e in events)
    assert events[0].height_m == pytest.approx(4.12) and events[0].station == "shipu"
    by_line = {e.line: e.message for e in errors}
    assert sorted(by_line) == [7, 9, 10, 11, 12, 13, 14, 15]
    assert "naive" in by_line[7] and "+08:00" in by_line[7]
    assert "ISO 8601" in by_line[9]
    assert "number" in by_line[10]
    assert "high" in by_line[11]
    assert "fields" in by_line[12]
    assert "station" in by_line[13]
    assert "duplicate of line 3" in by_line[14]
    assert "plausible" in by_line[15]


def test_table_import_header_and_encoding_problems() -> None:
    events, errors = parse_tide_table_csv("time,height\n2026-01-01T00:00Z,1\n")
    assert events == [] and errors[0].line == 1 and "missing" in errors[0].message
    events, errors = parse_tide_table_csv("")
    assert events == [] and errors and errors[0].line == 0
    raw = "\ufeffkind,height_m,timestamp,station\nlow,-1.5,2026-01-01T00:00+08:00,s\n".encode()
    events, errors = parse_tide_table_csv(raw)
    assert errors == [] and events[0].kind == "low" and events[0].ts == datetime(2025, 12, 31, 16, tzinfo=UTC)
    events, errors = parse_tide_table_csv(b"\xff\xfe\x00")
    assert events == [] and "UTF-8" in errors[0].message


def test_events_to_csv_round_trip() -> None:
    ev = [_high(2026, 11, 25, 5, 30), _low(2026, 11, 25, 11, 40)]
    text = events_to_csv(ev, station="demo", comments=["PREDICTED"])
    assert text.splitlines()[0] == "# PREDICTED"
    back, errors = parse_tide_table_csv(text)
    assert errors == []
    assert [(e.ts, e.kind, e.height_m) for e in back] == [(e.ts, e.kind, e.height_m) for e in ev]
