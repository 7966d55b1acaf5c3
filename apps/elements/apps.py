from django.apps import AppConfig


class ElementsConfig(AppConfig):
    name = "apps.elements"
    label = "elements"
    verbose_name = "要素管控"

    def ready(self) -> None:
        from apps.core.audit import track

        from .models import Geofence, Vessel, Warning

        track(Vessel, exclude_fields=["last_seen", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg"])
        track(Geofence)
        track(Warning)
