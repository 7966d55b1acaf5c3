from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SourcesConfig(AppConfig):
    name = "apps.sources"
    label = "sources"
    verbose_name = _("源头治理")

    def ready(self) -> None:
        from celery.schedules import crontab
        from django.conf import settings

        from apps.core.audit import track

        from . import models as m

        for model in (
            m.Grid,
            m.TeamMember,
            m.PierChief,
            m.PatrolPlan,
            m.Photo,
            m.Checkin,
            m.ProtectedSite,
            m.SiteStandard,
            m.MarketEntity,
            m.RegulatedRecord,
            m.Inspection,
        ):
            track(model)
        # heartbeats only touch last_heartbeat_at (not audited); status changes are
        track(m.Facility, exclude_fields=["last_heartbeat_at", "last_data_at", "token_hash"])
        track(m.SensorEvent)
        track(m.GridTeam, m2m_fields={"geofences"})
        track(m.GridReport, m2m_fields={"photos"})
        track(m.RepairTask, m2m_fields={"before_photos", "after_photos"})
        track(m.MarketFinding, m2m_fields={"photos"})

        settings.CELERY_BEAT_SCHEDULE.update(
            {
                "sources.generate_patrol_plans": {"task": "sources.generate_patrol_plans", "schedule": crontab(hour=14, minute=0)},
                "sources.flag_missed_checkins": {"task": "sources.flag_missed_checkins", "schedule": 300.0},
                "sources.check_device_heartbeats": {"task": "sources.check_device_heartbeats", "schedule": 60.0},
                "sources.retry_pending_signals": {"task": "sources.retry_pending_signals", "schedule": 600.0},
            }
        )

        # one-click dispatch (enforcement): suspicious field reports and market findings
        from apps.core.basemap import register_places
        from apps.enforcement.services import register_subject_type

        from .places import sensor_places

        register_places("sensors", sensor_places)

        register_subject_type("grid_report", "sources.GridReport", label=pgettext_lazy("dispatch subject", "网格上报"))
        register_subject_type("market_finding", "sources.MarketFinding", label=pgettext_lazy("dispatch subject", "行业监管发现"))
