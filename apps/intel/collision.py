"""Collision of the live flow with the registry and the link graph (two hops).

:func:`warning_event_collide` is the one hook the warning flow calls
(``apps.elements.services.warning_upsert_with_action``): it adds the vehicle–vessel
co-occurrence links of the event, reads the warning's vessels' two-hop neighbourhood,
raises the ``watchlist``/``history`` factors by the rule in ``domain.py``, re-scores with the
event's own weights and thresholds, and names the chain in the evidence.
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from django.db import transaction

from apps.elements.domain.ahp import level_for, score

from . import domain, graph
from .models import Element

log = logging.getLogger(__name__)


def elements_for_vessels(vessel_ids: Iterable[str]) -> list[int]:
    return list(Element.objects.filter(kind=Element.Kind.VESSEL, key__in=list(vessel_ids)).values_list("pk", flat=True))


def collide_elements(starts: list[int]) -> domain.Collision:
    """What the graph says within two links of ``starts`` (every element, no department filter)."""
    if not starts:
        return domain.Collision()
    ids, rows = graph.neighbourhood(starts, hops=2)
    nodes = {
        pk: domain.Node(id=pk, kind=kind, label=label, watch_level=wl, roles=roles)
        for pk, kind, label, wl, roles in Element.objects.filter(pk__in=ids).values_list(
            "pk", "kind", "label", "watch_level", "roles")
    }
    return domain.collide(starts, nodes, [graph.row_edge(r) for r in rows])


def warning_event_collide(event):
    """The pipeline's ``WarningEvent`` with the key-element collision applied (or unchanged).

    Never fails the warning: an error here is logged and the event goes on as it came.
    """
    try:
        with transaction.atomic():  # a savepoint: a failed query here must not break the batch
            if event.kind == "vehicle_vessel":
                from .services import links_from_vehicle_vessel

                links_from_vehicle_vessel(event)
            result = collide_elements(elements_for_vessels(event.vessels))
    except Exception:
        log.exception("key-element collision of %s failed; the warning goes on without it", event.episode_key)
        return event
    if not result.hit:
        return event
    factors = dict(event.factors)
    factors["watchlist"] = max(float(factors.get("watchlist", 0.0)), result.watchlist)
    factors["history"] = max(float(factors.get("history", 0.0)), result.history)
    weights = (event.rule or {}).get("weights")
    thresholds = (event.rule or {}).get("thresholds")
    new_score, contributions = event.score, event.contributions
    level = event.level
    if weights:
        new_score, contributions = score(factors, weights=weights)
        if thresholds:
            level = level_for(new_score, thresholds=thresholds)
    raised = _raised_before(event.episode_key)
    if raised and level is not None:
        level = domain.raise_level(level)  # a raise by a new link (services.warnings_raise_for_link) holds
    evidence = {**event.evidence, "key_elements": [
        {k: c[k] for k in ("element", "hops", "watch_level", "cases", "path", "text")} for c in result.chains[:10]
    ], "key_element_cases": sorted(result.closed_cases)}
    if raised:
        evidence["level_raised_by"] = raised
    return dataclasses.replace(event, factors=factors, score=new_score, contributions=contributions, level=level,
                               evidence=evidence)


def _raised_before(episode_key: str) -> dict | None:
    from apps.elements.models import Warning

    ev = Warning.objects.filter(episode_key=episode_key[:200]).values_list("evidence", flat=True).first()
    return (ev or {}).get("level_raised_by") if isinstance(ev, dict) else None
