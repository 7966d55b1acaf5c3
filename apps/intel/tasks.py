"""Celery tasks of the registry: take ids, re-read, call a service (idempotent)."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="intel.case_links")
def case_links(case_id: int) -> int:
    from apps.enforcement.models import Case

    from .services import links_from_case

    case = Case.objects.filter(pk=case_id).first()
    return links_from_case(case=case) if case else 0


@shared_task(name="intel.tip_collide")
def tip_collide(tip_id: int) -> int:
    from apps.reporting.models import Tip

    from . import services

    tip = Tip.objects.filter(pk=tip_id).first()
    return len(services.tip_collide(tip=tip)) if tip else 0


@shared_task(name="intel.finding_links")
def finding_links(finding_id: int) -> int:
    from apps.sources.models import MarketFinding

    from .services import links_from_finding

    finding = MarketFinding.objects.filter(pk=finding_id).select_related("record", "entity").first()
    return links_from_finding(finding=finding) if finding else 0
