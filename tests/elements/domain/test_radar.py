"""Radar target reports: TTM/TLL with tag blocks, CSV, track numbering, sensor coverage."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.elements.domain import radar
from apps.elements.domain.sensors import Coverage, Sensor, destination, range_bearing

R2 = (121.95, 29.20)
RX = datetime(2021, 3, 20, 18, 30, tzinfo=UTC)


def _cs(body: str) -> str:
    x = 0
    for ch in body.encode():
        x ^= ch
    return f"{x:02X}"


def line(sentence: str, *, sensor: str = "R2", c: int = 1616265000) -> str:
    tb = f"s:{sensor},c:{c}"
    body = sentence
    return f"\\{tb}*{_cs(tb)}\\${body}*{_cs(body)}"


def test_ttm_range_and_bearing_become_a_position_from_the_registered_radar():
    dec = radar.RadarNmeaDecoder({"R2": R2})
    r = dec.decode(line("RATTM,17,2.00,090.0,T,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A"), RX)
    assert isinstance(r, radar.RadarReport)
    assert r.sensor_id == "R2" and r.number == 17
    assert r.ts == datetime.fromtimestamp(1616265000, UTC)
    dist, brg = range_bearing(*R2, r.lon, r.lat)
    assert dist == pytest.approx(2 * 1852, abs=1) and brg == pytest.approx(90, abs=0.01)
    assert r.sog_kn == pytest.approx(12.0) and r.cog_deg == pytest.approx(270.0)


def test_ttm_in_kilometres_converts_speed_to_knots():
    dec = radar.RadarNmeaDecoder({"R2": R2})
    r = dec.decode(line("RATTM,3,1.0,000.0,T,18.52,010.0,T,,,K,,T,,,A"), RX)
    assert r.sog_kn == pytest.approx(10.0)
    assert range_bearing(*R2, r.lon, r.lat)[0] == pytest.approx(1000, abs=1)


def test_tll_position_and_lost_status():
    dec = radar.RadarNmeaDecoder({"R2": R2})
    r = dec.decode(line("RATLL,05,2912.000,N,12157.000,E,TGT5,183000.00,T,"), RX)
    assert (r.lat, r.lon) == (pytest.approx(29.2), pytest.approx(121.95))
    lost = dec.decode(line("RATLL,05,2912.000,N,12157.000,E,TGT5,183000.00,L,"), RX)
    assert lost.lost


@pytest.mark.parametrize(
    "text,reason",
    [
        ("\\s:R2,c:1616265000*00\\$RATTM,17,2.00,090.0,T,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A*57", "bad_tag_block"),
        ("$RATTM,17,2.00,090.0,T,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A*00", "bad_tag_block"),
        (line("RATTM,17,2.00,090.0,T,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A")[:-2] + "00", "bad_checksum"),
        (line("RATTM,17,2.00,090.0,T,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A", sensor="R9"), "unknown_sensor"),
        (line("RATTM,17,2.00,090.0,R,12.0,270.0,T,0.5,10.0,N,TGT17,T,,,A"), "bad_target"),
        (line("GPGGA,183000,2912.000,N,12157.000,E,1,08,0.9,10,M,,M,,"), "unsupported"),
        (line("RATLL,05,9912.000,N,12157.000,E,TGT5,183000.00,T,"), "bad_position"),
        ("\\s:R2,c:1616265000*00 no end", "bad_tag_block"),
    ],
)
def test_bad_lines_are_quarantined_with_a_reason(text, reason):
    out = radar.RadarNmeaDecoder({"R2": R2}).decode(text, RX)
    assert isinstance(out, radar.Quarantined), out
    assert out.reason == reason and out.raw == text.strip() and out.source == "radar"


def test_csv_rows_and_bad_rows():
    data = (
        "sensor_id,target_id,timestamp,lat,lon,sog,cog\n"
        "R2,17,2021-03-21T02:30:00+08:00,29.2,121.95,8,45\n"
        "R2,x,2021-03-21T02:30:00+08:00,29.2,121.95,8,45\n"
        "R9,17,2021-03-21T02:30:00+08:00,29.2,121.95,8,45\n"
        "R2,18,2021-03-21T02:30:00,29.2,121.95,8,45\n"
    )
    out = list(radar.iter_radar_csv(data, {"R2": R2}))
    assert isinstance(out[0], radar.RadarReport) and out[0].ts == datetime(2021, 3, 20, 18, 30, tzinfo=UTC)
    assert [o.reason for o in out[1:]] == ["bad_target", "unknown_sensor", "bad_timestamp"]


def _rep(n, t, lon, lat, lost=False):
    return radar.RadarReport("R2", n, RX + timedelta(seconds=t), lon, lat, 5.0, 90.0, lost)


def test_reused_target_numbers_start_new_tracks():
    num = radar.TrackNumbering(lost_after_s=180, max_speed_kn=60)
    a = num.fix(_rep(17, 0, 121.95, 29.2))
    b = num.fix(_rep(17, 10, 121.9502, 29.2))
    assert a.vessel_id == b.vessel_id == "radar:R2:17@20210320T183000"
    # reappears after a loss: a new physical track
    c = num.fix(_rep(17, 400, 121.9504, 29.2))
    assert c.vessel_id != a.vessel_id
    # an implausible jump (5 km in 10 s): a new track
    d = num.fix(_rep(17, 410, 122.0, 29.2))
    assert d.vessel_id not in (a.vessel_id, c.vessel_id)
    # "lost" ends the track; the number's next report starts another
    assert num.fix(_rep(17, 420, 122.0, 29.2, lost=True)) is None
    e = num.fix(_rep(17, 425, 122.0, 29.2))
    assert e.vessel_id != d.vessel_id
    again = radar.TrackNumbering.from_dict(num.to_dict())
    assert again.fix(_rep(17, 430, 122.0001, 29.2)).vessel_id == e.vessel_id
    assert radar.parse_target_id(e.vessel_id) == ("R2", 17)
    assert radar.describe_target(e.vessel_id) == "雷达 R2 目标 17"


def test_coverage_circle_and_camera_sector():
    r = Sensor("R2", "radar", *R2, range_m=10_000)
    cam = Sensor("C1", "camera", *R2, range_m=500, bearing_deg=90, fov_deg=60)
    cov = Coverage([r, cam])
    assert cov.radars_seeing(*destination(*R2, 200, 9_000)) == ["R2"]
    assert not cov.covered(*destination(*R2, 200, 11_000))
    assert cam.covers(*destination(*R2, 100, 400)) and not cam.covers(*destination(*R2, 180, 400))
    assert cam.coverage_geojson()["type"] == "Polygon"
