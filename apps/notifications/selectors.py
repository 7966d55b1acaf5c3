"""Notification reads: delivery per channel for the cockpit, a task's deliveries, the operations list."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from .models import Channel, Notification, Route


def delivery_rates(*, since: datetime | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per channel kind: notifications sent, accepted by the gateway, failed, still in flight, and the rate.

    ``rate_pct`` is accepted / (accepted + failed) in percent (None when nothing finished).
    """
    now = now or timezone.now()
    since = since or now - timedelta(days=30)
    rows = (
        Notification.objects.filter(created_at__gte=since, created_at__lte=now)
        .values("route", "channel_kind")
        .annotate(
            total=Count("id"),
            accepted=Count("id", filter=Q(state=Notification.State.ACCEPTED)),
            failed=Count("id", filter=Q(state=Notification.State.FAILED)),
        )
        .order_by("route", "channel_kind")
    )
    kinds = dict(Channel.Kind.choices)
    routes = dict(Route.choices)
    out = []
    for r in rows:
        finished = r["accepted"] + r["failed"]
        out.append({
            "route": r["route"], "route_label": str(routes.get(r["route"], r["route"])),
            "channel_kind": r["channel_kind"],
            "label": str(kinds.get(r["channel_kind"], "")) or str(routes.get(r["route"], r["route"])),
            "total": r["total"], "accepted": r["accepted"], "failed": r["failed"],
            "in_flight": r["total"] - finished,
            "rate_pct": round(100.0 * r["accepted"] / finished, 1) if finished else None,
        })
    return out


def notifications_for_list(*, user):
    return Notification.objects.visible_to(user).select_related("channel", "department", "task").prefetch_related("attempts")


def task_delivery_summary(*, user, task_ids: list[int]) -> dict[str, list[dict[str, Any]]]:
    """Per task: how its notifications fared, by route and state (the small section on a task card)."""
    rows = (
        Notification.objects.visible_to(user).filter(task_id__in=task_ids[:500])
        .values("task_id", "route", "state").annotate(count=Count("id")).order_by("task_id", "route", "state")
    )
    routes, states = dict(Route.choices), dict(Notification.State.choices)
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r["task_id"]), []).append({
            "route": r["route"], "route_label": str(routes.get(r["route"], r["route"])),
            "state": r["state"], "state_label": str(states.get(r["state"], r["state"])), "count": r["count"],
        })
    return out
