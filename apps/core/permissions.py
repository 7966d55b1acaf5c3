"""Who may do what: DRF permission classes and page mixins built on roles and departments."""
from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.mixins import AccessMixin
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .roles import Role


def _is_staff_member(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "role", None))


class IsStaffMember(BasePermission):
    """Any signed-in platform user; auditors only read."""

    message = _("需要登录平台账号。")

    def has_permission(self, request, view) -> bool:
        if not _is_staff_member(request.user):
            return False
        if request.user.role == Role.AUDITOR and request.method not in SAFE_METHODS:
            self.message = _("审计员只能查看，不能修改。")
            return False
        return True


def roles_allowed(*roles: Role, read_roles: Iterable[Role] = ()) -> type[BasePermission]:
    """A permission class: ``roles`` may read and write; ``read_roles`` may only read."""
    write = frozenset(roles)
    read = write | frozenset(read_roles)

    class RolesAllowed(BasePermission):
        message = _("您的角色无权执行此操作。")

        def has_permission(self, request, view) -> bool:
            if not _is_staff_member(request.user):
                return False
            allowed = read if request.method in SAFE_METHODS else write
            return request.user.role in allowed

    RolesAllowed.__name__ = "RolesAllowed_" + "_".join(sorted(read))
    return RolesAllowed


class RoleRequiredMixin(AccessMixin):
    """Page views: refuse (403) a signed-in user whose role is not in ``allowed_roles``."""

    allowed_roles: Iterable[Role] = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.allowed_roles and request.user.role not in set(self.allowed_roles):
            self.raise_exception = True
            return self.handle_no_permission()
        return super().dispatch(request, *args, **kwargs)
