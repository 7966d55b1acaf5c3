from django.apps import AppConfig


class ElementsConfig(AppConfig):
    name = "apps.elements"
    label = "elements"
    verbose_name = "要素管控"
