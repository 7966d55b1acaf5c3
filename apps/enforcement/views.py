"""Enforcement pages: the operations-centre task board, the department inbox, case files.

Pages render a shell; the data comes from ``/api/enforcement/`` (the source of truth) and
is reloaded whenever a live push says something changed or the socket reconnects.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.generic import TemplateView

from apps.core.audit import record_access
from apps.core.models import Department
from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import Role

from . import selectors
from .models import Case, CasePerson, DisposalStep, Evidence, GoodsKind, Level, Task

STAFF_ROLES = [Role.COMMANDER, Role.DUTY_OFFICER, Role.DEPT_OFFICER, Role.DEPT_HEAD, Role.AUDITOR]


def js_strings() -> dict[str, str]:
    """UI text the page scripts need, translated on the server (Chinese first)."""
    return {
        "new_task": _("新任务到达"), "changed": _("任务已更新"), "escalated": _("任务超时升级"),
        "overdue": _("已超时"), "left_min": _("剩余 %s 分钟"), "ack_due": _("签收截止"),
        "arrive_due": _("到场截止"), "feedback_due": _("反馈截止"), "reason": _("事由"),
        "instructions": _("力量配置与要求"), "feedback": _("反馈"), "result": _("处置结果"),
        "arrived_at": _("到场时间"), "attachments": _("附件"), "submit": _("提交"), "cancel": _("取消"),
        "reject_reason": _("拒收理由"), "send_back_reason": _("请填写退回理由"), "done": _("操作成功"),
        "none": _("暂无"), "dispatched": _("已派发，任务已推送到各部门"), "case": pgettext("label before a case number", "案件"),
        "reassign_to": _("改派给"), "signed": _("已签署"), "sign": _("签署"), "next": _("下一步"),
        "site": _("场所/地点"), "quantity": _("清点数量"), "method": _("处置方式"), "cost_bearer": _("费用承担主体"),
        "cost_yuan": _("处置费用（元）"), "subsidy": _("补助比例（%）"), "evidence": _("证据"), "note": _("备注"),
        "choose_evidence": _("选择已上传的证据"), "system": _("系统"), "escalated_tag": _("已升级"),
        "department": _("部门"), "closed_recent": _("近 24 小时办结"), "one_click": _("一键联动"),
    }


class BoardPage(RoleRequiredMixin, TemplateView):
    """联合作战中心任务看板: all open tasks by level and deadline; one-click dispatch; verify; reassign."""

    template_name = "enforcement/board.html"
    allowed_roles = [Role.COMMANDER, Role.DUTY_OFFICER, Role.AUDITOR]

    def get_context_data(self, **kwargs):
        return {
            **super().get_context_data(**kwargs),
            "departments": Department.objects.order_by("id"),
            "levels": Level.choices,
            "can_act": self.request.user.is_command,
            "js_strings": js_strings(),
        }


class InboxPage(RoleRequiredMixin, TemplateView):
    """部门任务: the department's tasks, live, with acknowledge / start / feedback / reject."""

    template_name = "enforcement/inbox.html"
    allowed_roles = [Role.DEPT_OFFICER, Role.DEPT_HEAD]

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "results": Task.Result.choices, "js_strings": js_strings()}


class CaseListPage(RoleRequiredMixin, TemplateView):
    template_name = "enforcement/cases.html"
    allowed_roles = STAFF_ROLES


class CasePage(RoleRequiredMixin, TemplateView):
    """案件: evidence, people, vessels, vehicles, seized goods with the disposal chain, timeline."""

    template_name = "enforcement/case.html"
    allowed_roles = STAFF_ROLES

    def get_context_data(self, **kwargs):
        case = get_object_or_404(selectors.cases_for_user(user=self.request.user), pk=kwargs["pk"])
        return {
            **super().get_context_data(**kwargs),
            "case": case,
            "goods_kinds": GoodsKind.choices,
            "person_roles": CasePerson.Role.choices,
            "evidence_kinds": Evidence.Kind.choices,
            "steps": DisposalStep.Step.choices,
            "js_strings": js_strings(),
        }


@login_required
def evidence_file(request, pk: int):
    """An evidence file, only for users who may see its case; never a public URL."""
    if request.user.role not in STAFF_ROLES:
        raise Http404
    evidence = get_object_or_404(Evidence.objects.filter(case__in=selectors.cases_for_user(user=request.user)), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404(_("文件不存在")) from None
    record_access(evidence)
    inline = evidence.content_type.startswith("image/") or evidence.content_type == "application/pdf"
    response = FileResponse(handle, content_type=evidence.content_type, as_attachment=not inline,
                            filename=evidence.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
