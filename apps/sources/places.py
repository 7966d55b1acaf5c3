"""Sensors (CCTV, infrared sentinels) on the base map (``apps.core.basemap``): staff only, as each may see them."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def sensor_places(user) -> Iterator[dict[str, Any]]:
    from .models import DEVICE_KINDS, Facility, FacilityKind

    labels = dict(FacilityKind.choices)
    rows = (Facility.objects.visible_to(user).filter(kind__in=list(DEVICE_KINDS), lon__isnull=False, lat__isnull=False)
            .values_list("name", "kind", "site__name", "lon", "lat"))
    for name, kind, site, lon, lat in rows:
        yield {"name": name, "kind": "sensor", "kind_label": labels.get(kind, kind), "township": "", "lon": lon, "lat": lat, "site": site}
