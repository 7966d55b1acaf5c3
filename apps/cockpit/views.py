"""Cockpit pages: the operations-centre screen, the evaluation table and its exports.

Who: commander and duty officers (the operations centre) and the auditor (read only);
department and field staff get 403 — the cockpit shows every department's work.
"""
from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import Role

from . import events, exports, services
from .api import evaluation_cached
from .evaluation import METRIC_LABELS, METRICS
from .serializers import EvaluationQuery

READERS = [Role.COMMANDER, Role.DUTY_OFFICER, Role.AUDITOR]


class DashboardPage(RoleRequiredMixin, TemplateView):
    """The cockpit: live map, indicators, trends and tonight's tide (``?layout=wall`` for the wall screen)."""

    template_name = "cockpit/dashboard.html"
    allowed_roles = READERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        layout = self.request.GET.get("layout", "")
        ctx["layout"] = layout if layout in ("wall", "laptop") else ""
        ctx["cockpit_config"] = events.page_config()
        return ctx


def _period(request) -> tuple[date, date, dict]:
    s = EvaluationQuery(data=request.GET)
    if s.is_valid():
        return s.validated_data["start"], s.validated_data["end"], {}
    today = timezone.localdate()
    return today.replace(day=1), today, s.errors


class EvaluationPage(RoleRequiredMixin, TemplateView):
    """The ranked department evaluation for a chosen period; the commander edits the weights here."""

    template_name = "cockpit/evaluation.html"
    allowed_roles = READERS

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        start, end, errors = _period(self.request)
        data = evaluation_cached(start=start, end=end)
        weights = services.evaluation_weights_get()
        ctx.update(
            {
                "data": data,
                "start": start,
                "end": end,
                "period_errors": [str(m) for msgs in errors.values() for m in msgs],
                "weights_row": weights,
                "weight_fields": [(m, METRIC_LABELS[m], getattr(weights, m)) for m in METRICS],
                "can_edit_weights": self.request.user.role == Role.COMMANDER,
                "metric_labels": METRIC_LABELS,
            }
        )
        return ctx

    def post(self, request, *args, **kwargs):
        """Commander: change the weighting (validated by the service; the audit trail keeps before/after)."""
        if request.user.role != Role.COMMANDER:
            raise PermissionDenied(_("只有作战中心指挥长可以调整考核权重。"))
        weights = {m: request.POST.get(m, "") for m in METRICS}
        try:
            services.evaluation_weights_update(actor=request.user, weights=weights, note=request.POST.get("note", ""))
        except ValidationError as exc:
            for m in exc.messages:
                messages.error(request, m)
        else:
            messages.success(request, _("考核权重已更新。"))
        return redirect(request.get_full_path())


class EvaluationExport(RoleRequiredMixin, View):
    """The evaluation as ``.xlsx`` or ``.pdf`` for the period in the query string."""

    allowed_roles = READERS
    fmt = "xlsx"

    def get(self, request):
        start, end, errors = _period(request)
        if errors:
            return HttpResponse("；".join(str(m) for msgs in errors.values() for m in msgs), status=400,
                                content_type="text/plain; charset=utf-8")
        data = evaluation_cached(start=start, end=end)
        now = timezone.localtime()
        name = f"department-evaluation-{start:%Y%m%d}-{end:%Y%m%d}"
        if self.fmt == "pdf":
            body, ctype = exports.evaluation_pdf(data, generated_at=now), "application/pdf"
        else:
            body = exports.evaluation_xlsx(data, generated_at=now)
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="{name}.{self.fmt}"'
        return response
