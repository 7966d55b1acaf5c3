"""Outbound notifications (DingTalk / 浙政钉 and WeCom robots, SMS, email): an interface and its backends.

Callers build a :class:`Notification` and call :func:`send` (after commit). Backends are
named in ``settings.NOTIFICATION_BACKENDS``: ``LogBackend`` writes a log line, and
``apps.notifications.backend.GatewayBackend`` turns the message into delivery records sent
through the recipient's configured gateways (see ``apps/notifications``). A gateway is a
true outside border: tests run local HTTP servers that check it, nothing else is mocked.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("xiangshan.notify")


@dataclass(frozen=True)
class Notification:
    recipient: str  # "dept:CODE", "user:USERNAME" or a phone number
    title: str
    body: str
    link: str = ""
    # which routes ("robot", "sms", "email"); None: the recipient's usual ones (a department's
    # group robots, a person's own channels, SMS for a phone number); (): the inbox only
    channels: tuple[str, ...] | None = None
    level: str = ""          # the warning level, where there is one
    reason: str = ""         # "dispatch", "escalation" or "" (other)
    task_id: int | None = None  # the enforcement task it is about (shown on the task)
    key: str = ""            # idempotency: the same key never makes a second delivery


class Backend(Protocol):
    def send(self, notification: Notification) -> None: ...


class LogBackend:
    """Writes every notification to the log (never a secret: messages carry none)."""

    def send(self, notification: Notification) -> None:
        log.info("notify %s: %s — %s %s", notification.recipient, notification.title, notification.body, notification.link)


def backends() -> list[Backend]:
    return [import_string(path)() for path in settings.NOTIFICATION_BACKENDS]


def send(notification: Notification) -> None:
    for backend in backends():
        try:
            backend.send(notification)
        except Exception:  # one gateway down must not stop the others
            log.exception("notification backend %s failed", type(backend).__name__)
