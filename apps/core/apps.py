from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "平台基础"

    def ready(self) -> None:
        from . import audit

        audit.register_models()
