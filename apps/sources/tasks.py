"""Celery tasks of source governance: take ids, re-read rows, idempotent, call a service."""
from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone


@shared_task(name="sources.signal_grid_report", autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def signal_grid_report(report_id: int) -> bool:
    """A suspicious-activity report becomes an input to the warning score."""
    from . import services

    return services.grid_report_signal(report_id=report_id)


@shared_task(name="sources.signal_market_finding", autoretry_for=(Exception,), retry_backoff=True, retry_backoff_max=600, max_retries=5)
def signal_market_finding(finding_id: int) -> bool:
    """Goods without a legal source go into the warning flow."""
    from . import services

    return services.market_finding_signal(finding_id=finding_id)


@shared_task(name="sources.generate_patrol_plans")
def generate_patrol_plans() -> int:
    """Daily: tonight's and tomorrow night's plans from the tide windows (idempotent)."""
    from . import selectors, services

    today = selectors.night_of(timezone.now())
    created = services.patrol_plans_generate(date=today)
    created += services.patrol_plans_generate(date=today + timedelta(days=1))
    return len(created)


@shared_task(name="sources.flag_missed_checkins")
def flag_missed_checkins() -> int:
    """After each window: plans with no check-in are flagged to the township and the operations centre."""
    from . import services

    return len(services.patrol_plans_flag_missed())


@shared_task(name="sources.check_device_heartbeats")
def check_device_heartbeats() -> int:
    """Silent cameras and sensors are marked down and get a repair task."""
    from . import services

    return len(services.facilities_check_heartbeats())


@shared_task(name="sources.retry_pending_signals")
def retry_pending_signals() -> int:
    from . import services

    return services.pending_signals_retry()
