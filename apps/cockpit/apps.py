from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CockpitConfig(AppConfig):
    name = "apps.cockpit"
    label = "cockpit"
    verbose_name = _("决策驾驶舱")

    def ready(self) -> None:
        from apps.core.audit import track

        from .models import EvaluationWeights

        track(EvaluationWeights)
