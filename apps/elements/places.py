"""The elements' registered places on the base map (``apps.core.basemap``): geofences and checkpoints."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def geofence_places(user) -> Iterator[dict[str, Any]]:
    """Piers, coves, beaches, landing points, anchorages: public names (the tip form shows them too)."""
    from .models import Geofence

    labels = dict(Geofence.Kind.choices)
    for name, kind, township, lon, lat in Geofence.objects.values_list("name", "kind", "township", "centroid_lon", "centroid_lat"):
        yield {"name": name, "kind": kind, "kind_label": labels.get(kind, kind), "township": township, "lon": lon, "lat": lat}


def checkpoint_places(user) -> Iterator[dict[str, Any]]:
    """Road checkpoints (卡口): staff only (never asked for the public)."""
    from django.utils.translation import gettext as _

    from .models import Checkpoint

    label = _("卡口")
    for name, township, lon, lat in Checkpoint.objects.values_list("name", "township", "lon", "lat"):
        yield {"name": name, "kind": "checkpoint", "kind_label": label, "township": township, "lon": lon, "lat": lat}
