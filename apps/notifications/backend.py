"""The notification interface's gateway backend (``apps.core.notify``): records deliveries, sends them by Celery."""
from __future__ import annotations

from apps.core.notify import Notification


class GatewayBackend:
    def send(self, notification: Notification) -> None:
        if notification.channels == ():  # inbox only
            return
        from .services import notifications_create

        notifications_create(message=notification)
