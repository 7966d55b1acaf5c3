"""Pages of the registry: the list with import, and the network view."""
from __future__ import annotations

from django.views.generic import TemplateView

from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, Role

from .models import Element, Link, WatchLevel
from .services import IDENTITY_PERMISSION

PAGE_ROLES = [*COMMAND_ROLES, *DEPARTMENT_ROLES, Role.AUDITOR]


class RegistryPage(RoleRequiredMixin, TemplateView):
    template_name = "intel/registry.html"
    allowed_roles = PAGE_ROLES

    def get_context_data(self, **kwargs):
        user = self.request.user
        ctx = super().get_context_data(**kwargs)
        ctx.update(
            kinds=Element.Kind.choices, watch_levels=WatchLevel.choices,
            can_write=user.role != Role.AUDITOR,
            can_read_identity=user.has_perm(IDENTITY_PERMISSION) and user.role != Role.AUDITOR,
        )
        return ctx


class NetworkPage(RoleRequiredMixin, TemplateView):
    template_name = "intel/network.html"
    allowed_roles = PAGE_ROLES

    def get_context_data(self, **kwargs):
        user = self.request.user
        ctx = super().get_context_data(**kwargs)
        q = self.request.GET
        ctx.update(
            start_element=q.get("element", ""), start_warning=q.get("warning", ""), start_case=q.get("case", ""),
            link_kinds=Link.Kind.choices, element_kinds=Element.Kind.choices,
            can_export=user.role in COMMAND_ROLES, can_write=user.role != Role.AUDITOR,
        )
        return ctx
