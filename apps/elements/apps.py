from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ElementsConfig(AppConfig):
    name = "apps.elements"
    label = "elements"
    verbose_name = _("要素管控")

    def ready(self) -> None:
        from django.conf import settings
        from django.db.models.signals import post_delete, post_save

        from apps.core.audit import track

        from . import models
        from .runtime import context_changed

        track(models.Vessel, exclude_fields=["last_seen", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg"])
        track(models.Geofence)
        track(models.Warning)
        # Every table an operator edits is on the audit trail (the risk model's history lives there).
        for model in (
            models.Checkpoint,
            models.WatchEntry,
            models.Holiday,
            models.TideStation,
            models.RiskModel,
            models.DetectorSetting,
            models.FieldSignal,
            models.RadarAssociation,
        ):
            track(model)  # (ingest runs are operational counters, not edits: kept off the trail)

        # Cache invalidation only (no business logic): workers rebuild the pipeline context
        # when a table it is built from changes.
        def changed(sender, **kwargs) -> None:
            context_changed()

        def vessel_changed(sender, instance, update_fields=None, **kwargs) -> None:
            if update_fields is None or {"registered", "watch_group"} & set(update_fields):
                context_changed()

        for model in (
            models.Geofence,
            models.Checkpoint,
            models.WatchEntry,
            models.Holiday,
            models.TideStation,
            models.TideEventRecord,
            models.RiskModel,
            models.DetectorSetting,
            models.FieldSignal,
        ):
            post_save.connect(changed, sender=model, dispatch_uid=f"elements-ctx-save-{model.__name__}")
            post_delete.connect(changed, sender=model, dispatch_uid=f"elements-ctx-del-{model.__name__}")
        post_save.connect(vessel_changed, sender=models.Vessel, dispatch_uid="elements-ctx-vessel")
        post_delete.connect(changed, sender=models.Vessel, dispatch_uid="elements-ctx-vessel-del")

        from apps.core.basemap import register_places

        from .places import checkpoint_places, geofence_places

        register_places("geofences", geofence_places, public=True)
        register_places("checkpoints", checkpoint_places)

        schedule = settings.CELERY_BEAT_SCHEDULE
        schedule.setdefault("elements.fix_retention", {"task": "elements.fix_retention", "schedule": 6 * 3600.0})
        schedule.setdefault(
            "elements.tide_predict_ahead", {"task": "elements.tide_predict_ahead", "schedule": 24 * 3600.0, "args": (30,)}
        )
