from django.apps import AppConfig


class CockpitConfig(AppConfig):
    name = "apps.cockpit"
    label = "cockpit"
    verbose_name = "决策驾驶舱"

    def ready(self) -> None:
        from apps.core.audit import track

        from .models import EvaluationWeights

        track(EvaluationWeights)
