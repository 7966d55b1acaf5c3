from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# The escalation job runs every minute. It is declared in CELERY_BEAT_SCHEDULE (the settings
# dict every app adds to in ready()): django_celery_beat's DatabaseScheduler copies that dict
# into its PeriodicTask table each time beat starts (update_from_dict), so the entry is
# created idempotently without database access at import time, and ops can still pause it
# in the admin.
ESCALATE_OVERDUE_SCHEDULE = {"task": "enforcement.escalate_overdue", "schedule": 60.0, "options": {"expires": 55}}


class EnforcementConfig(AppConfig):
    name = "apps.enforcement"
    label = "enforcement"
    verbose_name = _("执法协同")

    def ready(self) -> None:
        from django.conf import settings

        from apps.core.audit import track

        from . import models
        from .subjects import register_subject_type

        for model in (
            models.DispatchPlan, models.PlanSubtask, models.Dispatch, models.Task, models.TaskEvent, models.Case,
            models.Evidence, models.CasePerson, models.CaseVessel, models.CaseVehicle, models.SeizedGoods,
            models.DisposalStep,
        ):
            track(model)
        register_subject_type("warning", "elements.Warning", label=pgettext_lazy("dispatch subject", "预警"))
        schedule = getattr(settings, "CELERY_BEAT_SCHEDULE", None)
        if isinstance(schedule, dict):
            schedule.setdefault("enforcement.escalate_overdue", ESCALATE_OVERDUE_SCHEDULE)
