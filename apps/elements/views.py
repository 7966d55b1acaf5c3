"""Element-control pages: the live warnings list and a warning's evidence."""
from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import Role

from .models import Warning

PAGE_ROLES = [Role.COMMANDER, Role.DUTY_OFFICER, Role.DEPT_OFFICER, Role.DEPT_HEAD, Role.AUDITOR]


class WarningsPage(RoleRequiredMixin, TemplateView):
    """Live list: filters, new warnings appear without reload (``warning.new``)."""

    template_name = "elements/warnings.html"
    allowed_roles = PAGE_ROLES

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["kinds"] = Warning.Kind.choices
        ctx["levels"] = Warning.Level.choices
        ctx["statuses"] = Warning.Status.choices
        return ctx


class WarningDetailPage(RoleRequiredMixin, TemplateView):
    """One warning with its evidence: factor contributions, rule, tide window, fixes on a map."""

    template_name = "elements/warning_detail.html"
    allowed_roles = PAGE_ROLES

    def get_context_data(self, **kwargs):
        from .selectors import warning_evidence_view

        ctx = super().get_context_data(**kwargs)
        warning = Warning.objects.visible_to(self.request.user).select_related("geofence").filter(pk=kwargs["pk"]).first()
        if warning is None:
            raise Http404(_("预警不存在或无权查看"))
        ctx["warning"] = warning
        ctx.update(warning_evidence_view(warning=warning))
        return ctx
