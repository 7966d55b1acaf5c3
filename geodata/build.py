#!/usr/bin/env python3
"""Regenerate the derived geography and tide files in ``geodata/`` (idempotent).

Run from the repository root::

    .venv/bin/python geodata/build.py          # rebuild, write only files that changed
    .venv/bin/python geodata/build.py --check  # exit 1 if any derived file is stale

Sources (never edited here; see geodata/SOURCES.md):

* ``xiangshan_county_gcj02.geojson`` and ``ningbo_districts_gcj02.geojson``: byte copies
  of ``shared/data/geo/{xiangshan_county,ningbo_districts}.geojson`` (Aliyun DataV,
  GCJ-02). When the shared folder is beside the repository the copies are refreshed
  from it; otherwise the committed copies are used.
* ``tides/kanmen.json``: published harmonic constants (TICON-4).

Derived (all WGS84):

* ``xiangshan_county_wgs84.geojson``: the county converted GCJ-02 -> WGS84 with
  ``apps.elements.domain.datum.gcj02_to_wgs84``.
* ``demo_geofences.geojson``: illustrative piers, coves, beaches, landing points (snapped
  onto the county coastline, i.e. the county boundary minus its borders with the other
  Ningbo districts) and anchorages (checked to be at sea).
* ``demo_checkpoints.geojson``: illustrative road checkpoints, inland near piers.
* ``tides/kanmen_predicted_demo.csv``: a PREDICTED (not official) high/low-water table.

Distances are computed in UTM zone 51N (EPSG:32651), metres.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import shapely.ops
from pyproj import Transformer
from shapely.geometry import Point, mapping, shape

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

from apps.elements.domain.datum import gcj02_to_wgs84  # noqa: E402
from apps.elements.domain.tides import events_to_csv, high_low_waters, load_constants  # noqa: E402

SHARED_GEO = Path(os.environ.get("XIANGSHAN_SHARED_GEO", REPO.parent / "shared" / "data" / "geo"))

COUNTY_GCJ = HERE / "xiangshan_county_gcj02.geojson"
DISTRICTS_GCJ = HERE / "ningbo_districts_gcj02.geojson"
COUNTY_WGS = HERE / "xiangshan_county_wgs84.geojson"
GEOFENCES = HERE / "demo_geofences.geojson"
CHECKPOINTS = HERE / "demo_checkpoints.geojson"
DISTRICTS_WGS = HERE / "ningbo_districts_wgs84.geojson"
TOWNSHIPS = HERE / "townships_labels.geojson"
TIDE_CONSTANTS = HERE / "tides" / "kanmen.json"
TIDE_DEMO_TABLE = HERE / "tides" / "kanmen_predicted_demo.csv"

XIANGSHAN_ADCODE = 330225
LAND_BORDER_BUFFER_M = 300.0  # county boundary within this of another district is not coast
MAX_SNAP_M = 2500.0  # a target further than this from the coast is a data-entry mistake
ANCHORAGE_MIN_OFFSHORE_M = 800.0
CHECKPOINT_MIN_INLAND_M = 500.0
CHECKPOINT_TARGET_M = 1500.0
TIDE_DEMO_START = datetime(2026, 11, 1, tzinfo=UTC)
TIDE_DEMO_END = datetime(2028, 1, 1, tzinfo=UTC)

NOTE = "示意位置，非实测"
DISTRICT_SIMPLIFY_DEG = 0.0005  # ~50 m: enough for a base map at county zooms
TOWNSHIP_INLAND_M = 300.0
TOWNSHIP_NOTE = "镇乡（街道）名称标注位置为约略示意，仅用于地图标注"
#: The county's 18 townships and subdistricts (names real), with label points hand-placed
#: from general map knowledge (approximate, a few km; labels only, never used for judging).
TOWNSHIP_LABELS: tuple[tuple[str, float, float], ...] = (
    ("丹东街道", 121.900, 29.490), ("丹西街道", 121.835, 29.462), ("爵溪街道", 121.950, 29.455),
    ("西周镇", 121.720, 29.550), ("墙头镇", 121.800, 29.520), ("黄避岙乡", 121.780, 29.580),
    ("东陈乡", 121.860, 29.560), ("涂茨镇", 121.930, 29.520), ("大徐镇", 121.730, 29.460),
    ("泗洲头镇", 121.720, 29.380), ("贤庠镇", 121.800, 29.400), ("茅洋乡", 121.800, 29.330),
    ("晓塘乡", 121.880, 29.330), ("新桥镇", 121.770, 29.270), ("定塘镇", 121.850, 29.230),
    ("石浦镇", 121.930, 29.210), ("鹤浦镇", 121.940, 29.110), ("高塘岛乡", 121.830, 29.075),
)
COORD_DECIMALS = 6  # ~0.1 m

_to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32651", always_xy=True)
_to_wgs = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True)


# ------------------------------------------------------------------ feature list


@dataclass(frozen=True)
class Demo:
    """One illustrative feature: target (lon, lat) WGS84 near where it should sit."""

    code: str
    name: str
    kind: str  # pier | cove | beach | landing_point | anchorage
    status: str  # active | idle
    township: str
    pier_chief: str | None
    lon: float
    lat: float


# Targets are approximate positions just off the intended stretch of coast; the build
# snaps each onto the nearest coastline point. Place names are those of seed 003
# (高塘, 鹤浦, 定山) and of Xiangshan's coastal towns; sites and people are invented.
# 西周 (Xizhou) is left out on purpose: the county polygon's Xiangshan-Bay edge is an
# administrative line in the water shared with 奉化/鄞州, not the shore (see SOURCES.md).
GEOFENCE_DEMOS: tuple[Demo, ...] = (
    Demo("demo-gt-01", "高塘岛乡 花岙闲置码头", "pier", "idle", "高塘岛乡", "码长 张某", 121.8035, 29.0395),
    Demo("demo-gt-02", "高塘岛乡 高塘岛东岙闲置码头", "pier", "idle", "高塘岛乡", "码长 李某", 121.8340, 29.0760),
    Demo("demo-gt-03", "高塘岛乡 高塘岛南岙口", "cove", "idle", "高塘岛乡", "码长 李某", 121.8150, 29.0560),
    Demo("demo-gt-04", "高塘岛乡 高塘岛西侧登陆点", "landing_point", "idle", "高塘岛乡", "码长 王某", 121.7880, 29.0900),
    Demo("demo-gt-05", "高塘岛乡 高塘渔港码头", "pier", "active", "高塘岛乡", "码长 王某", 121.8285, 29.0615),
    Demo("demo-hp-01", "鹤浦镇 南田岛东岸闲置码头", "pier", "idle", "鹤浦镇", "码长 陈某", 121.9660, 29.0750),
    Demo("demo-hp-02", "鹤浦镇 南田岛南岙口", "cove", "idle", "鹤浦镇", "码长 陈某", 121.9580, 29.0580),
    Demo("demo-hp-03", "鹤浦镇 南田岛南侧沙滩", "beach", "idle", "鹤浦镇", "码长 周某", 121.9250, 29.0560),
    Demo("demo-hp-04", "鹤浦镇 鹤浦渔港码头", "pier", "active", "鹤浦镇", "码长 周某", 121.9720, 29.1000),
    Demo("demo-hp-05", "鹤浦镇 南田岛西侧登陆点", "landing_point", "idle", "鹤浦镇", "码长 吴某", 121.9040, 29.0760),
    Demo("demo-ds-01", "定塘镇 定山闲置码头", "pier", "idle", "定塘镇", "码长 郑某", 121.8500, 29.0920),
    Demo("demo-ds-02", "定塘镇 定山岙口", "cove", "idle", "定塘镇", "码长 郑某", 121.8700, 29.1020),
    Demo("demo-ds-03", "定塘镇 沿海登陆点", "landing_point", "idle", "定塘镇", "码长 孙某", 121.7620, 29.1400),
    Demo("demo-sp-01", "石浦镇 石浦港闲置码头", "pier", "idle", "石浦镇", "码长 林某", 121.9550, 29.1980),
    Demo("demo-sp-02", "石浦镇 渔港码头", "pier", "active", "石浦镇", "码长 林某", 121.9350, 29.1920),
    Demo("demo-sp-03", "石浦镇 东门岛闲置码头", "pier", "idle", "石浦镇", "码长 黄某", 121.9820, 29.1750),
    Demo("demo-sp-04", "石浦镇 东侧岙口", "cove", "idle", "石浦镇", "码长 黄某", 121.9650, 29.2500),
    Demo("demo-jx-01", "爵溪街道 闲置码头", "pier", "idle", "爵溪街道", "码长 徐某", 121.9900, 29.4450),
    Demo("demo-jx-02", "爵溪街道 沙滩", "beach", "idle", "爵溪街道", "码长 徐某", 121.9750, 29.4200),
    Demo("demo-jx-03", "爵溪街道 岙口", "cove", "idle", "爵溪街道", "码长 马某", 121.9850, 29.4650),
    Demo("demo-an-01", "石浦港外 檀头山以西锚地（示意）", "anchorage", "active", "石浦镇", None, 121.9900, 29.1450),
    Demo("demo-an-02", "三门湾口 高塘岛以东锚地（示意）", "anchorage", "active", "高塘岛乡", None, 121.8700, 29.0500),
)

RADIUS_M = {"pier": 150, "cove": 300, "beach": 400, "landing_point": 150, "anchorage": 800}

# (code, name, township, geofence code it guards)
CHECKPOINT_DEMOS: tuple[tuple[str, str, str, str], ...] = (
    ("demo-kk-01", "高塘岛乡 岛内道路卡口（示意）", "高塘岛乡", "demo-gt-02"),
    ("demo-kk-02", "鹤浦镇 南田岛东路卡口（示意）", "鹤浦镇", "demo-hp-01"),
    ("demo-kk-03", "鹤浦镇 南田岛西路卡口（示意）", "鹤浦镇", "demo-hp-05"),
    ("demo-kk-04", "定塘镇 沿海公路卡口（示意）", "定塘镇", "demo-ds-01"),
    ("demo-kk-05", "石浦镇 港区道路卡口（示意）", "石浦镇", "demo-sp-01"),
    ("demo-kk-06", "爵溪街道 沿海公路卡口（示意）", "爵溪街道", "demo-jx-01"),
)


# ---------------------------------------------------------------------- helpers


def _gcj_geom_to_wgs(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: np.column_stack(gcj02_to_wgs84(c[:, 0], c[:, 1])))


def _utm(geom: Any) -> Any:
    return shapely.transform(geom, lambda c: np.column_stack(_to_utm.transform(c[:, 0], c[:, 1])))


def _round_coords(obj: Any, nd: int) -> Any:
    if isinstance(obj, float):
        return round(obj, nd)
    if isinstance(obj, (list, tuple)):
        return [_round_coords(o, nd) for o in obj]
    return obj


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


class Writer:
    """Writes only changed files; in check mode records stale ones instead."""

    def __init__(self, check: bool) -> None:
        self.check = check
        self.stale: list[Path] = []

    def text(self, path: Path, content: str) -> None:
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old == content:
            return
        if self.check:
            self.stale.append(path)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        print(f"wrote {path.relative_to(REPO)}")

    def copy(self, src: Path, dst: Path) -> None:
        if dst.exists() and dst.read_bytes() == src.read_bytes():
            return
        if self.check:
            self.stale.append(dst)
            return
        shutil.copyfile(src, dst)
        print(f"copied {src} -> {dst.relative_to(REPO)}")


# ------------------------------------------------------------------------ steps


def refresh_sources(w: Writer) -> None:
    for name, dst in (("xiangshan_county.geojson", COUNTY_GCJ), ("ningbo_districts.geojson", DISTRICTS_GCJ)):
        src = SHARED_GEO / name
        if src.exists():
            w.copy(src, dst)
        elif not dst.exists():
            raise SystemExit(f"missing source {src} and no committed copy {dst}")


def load_geography() -> tuple[dict[str, Any], Any, Any]:
    """County feature collection (GCJ), county WGS84 geometry, other districts WGS84."""
    county = json.loads(COUNTY_GCJ.read_text(encoding="utf-8"))
    county_wgs = _gcj_geom_to_wgs(shape(county["features"][0]["geometry"]))
    districts = json.loads(DISTRICTS_GCJ.read_text(encoding="utf-8"))
    others = shapely.union_all(
        [
            _gcj_geom_to_wgs(shape(f["geometry"]))
            for f in districts["features"]
            if f["properties"].get("adcode") != XIANGSHAN_ADCODE
        ]
    )
    return county, county_wgs, others


def build_county_wgs84(w: Writer, county: dict[str, Any], county_wgs: Any) -> None:
    feat = county["features"][0]
    props = dict(feat["properties"])
    for key in ("center", "centroid"):
        if key in props:
            lon, lat = gcj02_to_wgs84(props[key][0], props[key][1])
            props[key] = [round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)]
    geom = mapping(county_wgs)
    doc = {
        "type": "FeatureCollection",
        "name": "xiangshan_county_wgs84",
        "datum": "WGS84 (EPSG:4326)",
        "derived_from": "xiangshan_county_gcj02.geojson via apps.elements.domain.datum.gcj02_to_wgs84",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": geom["type"], "coordinates": _round_coords(geom["coordinates"], COORD_DECIMALS)},
            }
        ],
    }
    w.text(COUNTY_WGS, _dumps(doc))


def build_districts_wgs84(w: Writer) -> None:
    """The other Ningbo districts in WGS84, simplified to ~50 m: the base map's neighbouring land."""
    districts = json.loads(DISTRICTS_GCJ.read_text(encoding="utf-8"))
    features = []
    for f in districts["features"]:
        props = f["properties"]
        if props.get("adcode") == XIANGSHAN_ADCODE:
            continue
        geom = _gcj_geom_to_wgs(shape(f["geometry"])).simplify(DISTRICT_SIMPLIFY_DEG, preserve_topology=True)
        label = geom.representative_point()
        gj = mapping(geom)
        features.append({
            "type": "Feature",
            "properties": {"adcode": props.get("adcode"), "name": props.get("name"),
                           "label": [round(label.x, 5), round(label.y, 5)]},
            "geometry": {"type": gj["type"], "coordinates": _round_coords(gj["coordinates"], 5)},
        })
    doc = {
        "type": "FeatureCollection",
        "name": "ningbo_districts_wgs84",
        "datum": "WGS84 (EPSG:4326)",
        "derived_from": "ningbo_districts_gcj02.geojson via apps.elements.domain.datum.gcj02_to_wgs84, "
                        f"Xiangshan removed, simplified to {DISTRICT_SIMPLIFY_DEG} deg",
        "features": features,
    }
    w.text(DISTRICTS_WGS, _dumps(doc))


def build_township_labels(w: Writer, county_wgs: Any) -> None:
    """Label points of the county's townships (approximate, for map labels only).

    Each hand-placed point is moved onto land (the nearest point of the county polygon,
    pulled 300 m inland) if it fell in the sea of the simplified outline.
    """
    land_utm = _utm(county_wgs)
    inner = land_utm.buffer(-TOWNSHIP_INLAND_M)
    features = []
    for name, lon, lat in TOWNSHIP_LABELS:
        x, y = _to_utm.transform(lon, lat)
        pt = Point(x, y)
        if not inner.contains(pt):
            pt = shapely.ops.nearest_points(inner, pt)[0]
        plon, plat = _point_wgs(pt.x, pt.y)
        features.append({
            "type": "Feature",
            "properties": {"name": name, "kind": "township", "illustrative": True, "note": TOWNSHIP_NOTE},
            "geometry": {"type": "Point", "coordinates": [plon, plat]},
        })
    doc = {"type": "FeatureCollection", "name": "townships_labels", "datum": "WGS84 (EPSG:4326)", "features": features}
    w.text(TOWNSHIPS, _dumps(doc))


def coastline_utm(county_wgs: Any, others_wgs: Any) -> Any:
    """County boundary minus its borders with the other districts, in UTM metres."""
    boundary = _utm(county_wgs.boundary)
    land_borders = _utm(others_wgs).buffer(LAND_BORDER_BUFFER_M)
    return boundary.difference(land_borders)


def _point_wgs(x: float, y: float) -> tuple[float, float]:
    lon, lat = _to_wgs.transform(x, y)
    return round(float(lon), COORD_DECIMALS), round(float(lat), COORD_DECIMALS)


def build_geofences(w: Writer, county_wgs: Any, others_wgs: Any) -> dict[str, tuple[float, float]]:
    coast = coastline_utm(county_wgs, others_wgs)
    land = _utm(county_wgs)
    other_land = _utm(others_wgs)
    feats: list[dict[str, Any]] = []
    placed: dict[str, tuple[float, float]] = {}
    for d in GEOFENCE_DEMOS:
        tx, ty = _to_utm.transform(d.lon, d.lat)
        target = Point(tx, ty)
        if d.kind == "anchorage":
            off = land.boundary.distance(target)
            if land.contains(target) or other_land.contains(target) or off < ANCHORAGE_MIN_OFFSHORE_M:
                raise SystemExit(f"{d.code}: anchorage target is not >= {ANCHORAGE_MIN_OFFSHORE_M} m out at sea")
            lon, lat = _point_wgs(tx, ty)
        else:
            snap = Point(shapely.shortest_line(coast, target).coords[0])
            if snap.distance(target) > MAX_SNAP_M:
                raise SystemExit(f"{d.code}: target {d.lon},{d.lat} is {snap.distance(target):.0f} m from the coast")
            lon, lat = _point_wgs(snap.x, snap.y)
        placed[d.code] = (lon, lat)
        feats.append(
            {
                "type": "Feature",
                "id": d.code,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "code": d.code,
                    "name": d.name,
                    "kind": d.kind,
                    "status": d.status,
                    "township": d.township,
                    "pier_chief": d.pier_chief,
                    "radius_m": RADIUS_M[d.kind],
                    "illustrative": True,
                    "note": NOTE,
                },
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "demo_geofences",
        "datum": "WGS84 (EPSG:4326)",
        "illustrative": True,
        "note": (
            "示意数据：码头、岙口、沙滩、登陆点位置为演示用途，吸附在象山县边界（DataV 简化岸线，"
            "已转 WGS84）上，非实测；锚地为海上示意点。radius_m 为建议的缓冲半径（米）。"
        ),
        "features": feats,
    }
    w.text(GEOFENCES, _dumps(doc))
    return placed


def build_checkpoints(w: Writer, county_wgs: Any, others_wgs: Any, placed: dict[str, tuple[float, float]]) -> None:
    coast = coastline_utm(county_wgs, others_wgs)
    land = _utm(county_wgs)
    offsets = np.arange(-3000.0, 3000.0 + 1.0, 100.0)
    feats: list[dict[str, Any]] = []
    for code, name, township, near in CHECKPOINT_DEMOS:
        px, py = _to_utm.transform(*placed[near])
        gx, gy = np.meshgrid(px + offsets, py + offsets)
        pts = shapely.points(gx.ravel(), gy.ravel())
        inside = shapely.contains(land, pts)
        inland = shapely.distance(coast, pts) >= CHECKPOINT_MIN_INLAND_M
        ok = np.nonzero(inside & inland)[0]
        if ok.size == 0:
            raise SystemExit(f"{code}: no inland spot within 3 km of {near}")
        d = np.hypot(gx.ravel()[ok] - px, gy.ravel()[ok] - py)
        best = ok[np.lexsort((gy.ravel()[ok], gx.ravel()[ok], np.abs(d - CHECKPOINT_TARGET_M)))[0]]
        lon, lat = _point_wgs(float(gx.ravel()[best]), float(gy.ravel()[best]))
        feats.append(
            {
                "type": "Feature",
                "id": code,
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": {
                    "code": code,
                    "name": name,
                    "kind": "checkpoint",
                    "township": township,
                    "near_geofence": near,
                    "illustrative": True,
                    "note": NOTE,
                },
            }
        )
    doc = {
        "type": "FeatureCollection",
        "name": "demo_checkpoints",
        "datum": "WGS84 (EPSG:4326)",
        "illustrative": True,
        "note": "示意卡口：陆上道路卡口的演示位置（距示意码头约 1.5 km、距岸线至少 500 m），非实测。",
        "features": feats,
    }
    w.text(CHECKPOINTS, _dumps(doc))


def build_tide_demo_table(w: Writer) -> None:
    constants = load_constants(TIDE_CONSTANTS)
    events = high_low_waters(constants, TIDE_DEMO_START, TIDE_DEMO_END)
    comments = (
        "PREDICTED tide table - NOT an official tide table, NOT observed, NOT for navigation.",
        "预测潮汐表（非官方潮汐表）：由公开调和常数推算，仅供演示。",
        f"Station: {constants.station} ({constants.station_id}), {constants.lat}N {constants.lon}E.",
        "Kanmen is ~140 km SSW of Shipu: these are NOT Xiangshan times (see geodata/tides/SOURCES.md).",
        f"Constants: TICON-4 (geodata/tides/kanmen.json); datum: {constants.datum}; heights in m.",
        "Generated by geodata/build.py with apps.elements.domain.tides.high_low_waters (UTide).",
        "Timestamps: Asia/Shanghai (UTC+08:00), rounded to the minute.",
    )
    text = events_to_csv(events, comments=comments, station="kanmen-predicted")
    w.text(TIDE_DEMO_TABLE, text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report stale files, write nothing")
    args = ap.parse_args(argv)
    w = Writer(check=args.check)
    refresh_sources(w)
    county, county_wgs, others = load_geography()
    build_county_wgs84(w, county, county_wgs)
    placed = build_geofences(w, county_wgs, others)
    build_checkpoints(w, county_wgs, others, placed)
    build_districts_wgs84(w)
    build_township_labels(w, county_wgs)
    build_tide_demo_table(w)
    if w.stale:
        for p in w.stale:
            print(f"stale: {p.relative_to(REPO)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
