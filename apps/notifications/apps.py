from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# every 5 minutes: sends whose worker died are marked "result unknown", lost retries re-queued
SWEEP_SCHEDULE = {"task": "notifications.sweep", "schedule": 300.0, "options": {"expires": 290}}


class NotificationsConfig(AppConfig):
    name = "apps.notifications"
    label = "notifications"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from django.conf import settings

        from apps.core.audit import track

        from . import models

        track(models.Channel, exclude_fields=["secrets_sealed"])
        track(models.Notification)
        track(models.Attempt)
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault("notifications.sweep", SWEEP_SCHEDULE)
