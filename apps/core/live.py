"""Live pushes to open pages: group names and the one way to publish.

Channels delivery is at-most-once: a push only tells a page that something changed; the
REST API stays the source of truth and a page reloads its state when it (re)connects.
Pushes are sent after the surrounding transaction commits, so a page never hears about
a row it cannot read yet.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

# Group names: one place for the whole platform.
GROUP_COMMAND = "command"  # operations centre: commander and duty officers
GROUP_MAP = "map"  # every signed-in staff page that shows the live map / counters


def group_department(department_id: int) -> str:
    return f"dept.{department_id}"


def group_user(user_id: int) -> str:
    return f"user.{user_id}"


def groups_for_user(user) -> list[str]:
    groups = [group_user(user.pk), GROUP_MAP]
    if user.is_command:
        groups.append(GROUP_COMMAND)
    if user.department_id:
        groups.append(group_department(user.department_id))
    return groups


_web_process = False


def mark_web_process() -> None:
    """Called by the ASGI application: pushes from this process reach its channel layer."""
    global _web_process
    _web_process = True


def _needs_outbox(layer) -> bool:
    return isinstance(layer, InMemoryChannelLayer) and not _web_process


def _send(groups: list[str], event: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    if _needs_outbox(layer):
        from .models import LiveEvent

        LiveEvent.objects.bulk_create([LiveEvent(group=g, event=event, payload=payload) for g in groups])
        return
    message = {"type": "live.event", "event": event, "payload": payload}
    try:
        for group in groups:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a push is a notification: never let it fail the write it follows
        log.exception("live push %s to %s failed", event, groups)


def push(groups: str | Iterable[str], event: str, payload: dict[str, Any]) -> None:
    """Publish ``event`` with a JSON ``payload`` to ``groups`` once the transaction commits."""
    group_list = [groups] if isinstance(groups, str) else list(groups)
    transaction.on_commit(lambda: _send(group_list, event, payload))


# --- Embedded-default relay: the web process forwards outbox rows to its layer. ------------
_relay_task: asyncio.Task | None = None


async def _relay_forever(interval_s: float = 0.5) -> None:
    from channels.db import database_sync_to_async

    from .models import LiveEvent

    @database_sync_to_async
    def take_batch() -> list[tuple[str, str, dict]]:
        with transaction.atomic():
            rows = list(LiveEvent.objects.order_by("id")[:500])
            LiveEvent.objects.filter(id__in=[r.id for r in rows]).delete()
        return [(r.group, r.event, r.payload) for r in rows]

    layer = get_channel_layer()
    while True:
        try:
            for group, event, payload in await take_batch():
                await layer.group_send(group, {"type": "live.event", "event": event, "payload": payload})
        except Exception:
            log.exception("live relay failed; retrying")
        await asyncio.sleep(interval_s)


def ensure_relay() -> None:
    """Start the outbox relay in this (web) process if the embedded layer needs it."""
    global _relay_task
    if not isinstance(get_channel_layer(), InMemoryChannelLayer):
        return
    if _relay_task is None or _relay_task.done():
        _relay_task = asyncio.get_running_loop().create_task(_relay_forever())
