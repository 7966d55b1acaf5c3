from django.apps import AppConfig


class EnforcementConfig(AppConfig):
    name = "apps.enforcement"
    label = "enforcement"
    verbose_name = "执法协同"
