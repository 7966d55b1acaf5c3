"""The notifications operations page: deliveries with their attempts, resend, channels per department."""
from __future__ import annotations

from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from apps.core.models import Department
from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import Role

from . import sealing
from .models import Channel, Notification, Route


def js_strings() -> dict[str, str]:
    return {
        "none": _("暂无"), "resend": _("重发"), "resent": _("已重新发送"), "saved": _("已保存"), "deleted": _("已删除"),
        "attempt": _("第 %s 次"), "secret_set": _("已设置（不再显示）"), "secret_keep": _("留空则保持原值"),
        "edit": _("编辑"), "delete": _("删除"), "confirm_delete": _("确定删除这个通道吗？"), "county": _("全县通用"),
        "deliveries": _("通知送达"), "in_flight": _("发送中"), "failed": _("失败"),
    }


class OperationsPage(RoleRequiredMixin, TemplateView):
    """通知运维: every notification with its attempts, the delivery rate per channel, the channels."""

    template_name = "notifications/operations.html"
    allowed_roles = [Role.COMMANDER, Role.DUTY_OFFICER, Role.AUDITOR, Role.DEPT_HEAD]

    def get_context_data(self, **kwargs):
        user = self.request.user
        departments = Department.objects.order_by("id") if user.is_command else Department.objects.filter(pk=user.department_id)
        return {
            **super().get_context_data(**kwargs),
            "states": Notification.State.choices,
            "routes": [r for r in Route.choices if r[0] != Route.INBOX],
            "kinds": Channel.Kind.choices,
            "secret_fields": sealing.SECRET_FIELDS,
            "departments": departments,
            "can_resend": user.is_command,
            "can_configure": user.is_command or user.role == Role.DEPT_HEAD,
            "js_strings": js_strings(),
        }
