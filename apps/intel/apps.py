from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _ensure_custodian_group(sender, **kwargs) -> None:
    from .services import custodian_group_ensure

    custodian_group_ensure()


def _case_changed(sender, instance, **kwargs) -> None:
    """A case's people, vessels or vehicles changed: re-derive its links after commit (a task)."""
    from django.db import transaction

    from .tasks import case_links

    case_id = getattr(instance, "case_id", None) or instance.pk
    transaction.on_commit(lambda: case_links.delay(case_id))


def _tip_saved(sender, instance, created, **kwargs) -> None:
    if created:
        from django.db import transaction

        from .tasks import tip_collide

        transaction.on_commit(lambda: tip_collide.delay(instance.pk))


def _finding_saved(sender, instance, created, **kwargs) -> None:
    if created:
        from django.db import transaction

        from .tasks import finding_links

        transaction.on_commit(lambda: finding_links.delay(instance.pk))


class IntelConfig(AppConfig):
    name = "apps.intel"
    label = "intel"
    verbose_name = _("重点要素库")

    def ready(self) -> None:
        from apps.core.audit import track
        from apps.enforcement.models import CasePerson, CaseVehicle, CaseVessel
        from apps.reporting.models import Tip
        from apps.sources.models import MarketFinding

        from .models import Element, Hit, Link, NetworkExport

        # the sealed identity stays off the audit trail; reads of it are ACCESS entries
        track(Element, exclude_fields=["identity_ciphertext"])
        track(Link)
        track(Hit)
        track(NetworkExport)
        post_migrate.connect(_ensure_custodian_group, sender=self, dispatch_uid="intel.custodian_group")
        # The other modules' records feed the registry through tasks scheduled after commit
        # (the receivers only schedule; the work is in services).
        for model in (CasePerson, CaseVessel, CaseVehicle):
            post_save.connect(_case_changed, sender=model, dispatch_uid=f"intel.case_links.{model.__name__}")
        post_save.connect(_tip_saved, sender=Tip, dispatch_uid="intel.tip_collide")
        post_save.connect(_finding_saved, sender=MarketFinding, dispatch_uid="intel.finding_links")
