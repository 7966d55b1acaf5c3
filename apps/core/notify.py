"""Outbound notifications (SMS, DingTalk-style gateways): an interface and a log backend.

Backends are named in ``settings.NOTIFICATION_BACKENDS``. A gateway is a true outside
border: tests replace it, nothing else is mocked.
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
    recipient: str  # a phone number, user name or department code, as the backend needs
    title: str
    body: str
    link: str = ""


class Backend(Protocol):
    def send(self, notification: Notification) -> None: ...


class LogBackend:
    """Writes every notification to the log; the default where no gateway is configured."""

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
