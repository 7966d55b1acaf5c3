from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.db.models.signals import post_migrate


def _ensure_custodian_group(sender, **kwargs) -> None:
    from .services import custodian_group_ensure

    custodian_group_ensure()


class ReportingConfig(AppConfig):
    name = "apps.reporting"
    label = "reporting"
    verbose_name = _("宣防与群众举报")

    def ready(self) -> None:
        from apps.core.audit import track

        from .models import Bulletin, IdentityRead, Reward, RewardRule, Tip, TipAttachment, TipMessage

        # The secret's hash and the ciphertexts stay off the audit trail; reads of the identity are ACCESS entries.
        track(Tip, exclude_fields=["secret_hash", "contact_ciphertext"])
        track(TipAttachment)
        track(TipMessage)
        track(IdentityRead)
        track(RewardRule)
        track(Reward, exclude_fields=["payee_ciphertext"])
        track(Bulletin)
        post_migrate.connect(_ensure_custodian_group, sender=self, dispatch_uid="reporting.custodian_group")
        from apps.enforcement.subjects import register_subject_type

        register_subject_type("tip", "reporting.Tip", label=pgettext_lazy("dispatch subject", "群众举报"))
