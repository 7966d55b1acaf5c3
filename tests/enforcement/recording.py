"""The one allowed fake: a notification gateway (SMS / DingTalk) that records what it was asked to send."""
from __future__ import annotations

from apps.core.notify import Notification


class RecordingBackend:
    sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        RecordingBackend.sent.append(notification)
