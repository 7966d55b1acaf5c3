"""The base map every page draws under its own layers: offline geography and the registered places.

What it serves (all WGS84, lon/lat degrees):

* ``land``: the county (``geodata/xiangshan_county_wgs84.geojson``) and ``districts``: the
  neighbouring Ningbo districts (``geodata/ningbo_districts_wgs84.geojson``); the sea is
  the map's background colour.
* ``townships``: label points of the county's townships (``geodata/townships_labels.geojson``).
* ``places``: every registered place a user may see, labelled by name on the map: piers,
  coves, beaches, landing points (elements), road checkpoints, sensors (sources)...
* ``tiles``: the configured tile service (``settings.MAP_TILES``) or ``None``.

Apps add their places in ``AppConfig.ready`` (no model imported here)::

    from apps.core.basemap import register_places
    register_places("geofences", my_provider, public=True)

A provider is ``provider(user) -> iterable of dict(name, kind, kind_label, lon, lat, township)``;
``user`` is ``None`` for the public (tip form): only providers marked ``public`` are asked then,
so sensor and checkpoint positions are never shown to anonymous visitors.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings

Place = dict[str, Any]
Provider = Callable[[Any], Iterable[Place]]


@dataclass(frozen=True)
class PlaceSource:
    name: str
    provider: Provider
    public: bool


_SOURCES: dict[str, PlaceSource] = {}
_EMPTY = {"type": "FeatureCollection", "features": []}


def register_places(name: str, provider: Provider, *, public: bool = False) -> None:
    """Add (or replace, idempotent by ``name``) a provider of labelled places."""
    _SOURCES[name] = PlaceSource(name=name, provider=provider, public=public)


@lru_cache(maxsize=8)
def _geodata(name: str) -> dict[str, Any]:
    path = Path(settings.BASE_DIR) / "geodata" / name
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return dict(_EMPTY)


def tiles_config() -> dict[str, Any] | None:
    """The configured tile service, or ``None`` (the local base map alone)."""
    tiles = getattr(settings, "MAP_TILES", None) or {}
    if not tiles.get("url"):
        return None
    return {
        "url": tiles["url"],
        "attribution": tiles.get("attribution", ""),
        "max_zoom": int(tiles.get("max_zoom") or 18),
        "subdomains": tiles.get("subdomains", ""),
    }


def places_for(user) -> list[Place]:
    """Every place ``user`` may see (``None``: the public), sorted by kind then name."""
    out: list[Place] = []
    for source in _SOURCES.values():
        if user is None and not source.public:
            continue
        for p in source.provider(user):
            if p.get("lon") is None or p.get("lat") is None:
                continue
            out.append({
                "name": str(p.get("name") or ""), "kind": p.get("kind") or source.name,
                "kind_label": str(p.get("kind_label") or ""), "township": str(p.get("township") or ""),
                "lon": round(float(p["lon"]), 6), "lat": round(float(p["lat"]), 6),
            })
    out.sort(key=lambda p: (p["kind"], p["name"]))
    return out


def basemap_for(user) -> dict[str, Any]:
    """The whole base map for one viewer (``user=None`` or anonymous: the public view)."""
    if user is not None and not getattr(user, "is_authenticated", False):
        user = None
    return {
        "tiles": tiles_config(),
        "land": _geodata("xiangshan_county_wgs84.geojson"),
        "districts": _geodata("ningbo_districts_wgs84.geojson"),
        "townships": [
            {"name": f["properties"]["name"], "lon": f["geometry"]["coordinates"][0], "lat": f["geometry"]["coordinates"][1]}
            for f in _geodata("townships_labels.geojson").get("features", [])
        ],
        "places": places_for(user),
    }
