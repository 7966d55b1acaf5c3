"""Enforcement REST API: thin views that parse, call a service or selector, and respond.

An illegal task transition answers 409 with the current state and the allowed actions;
bad input answers 400 with Chinese messages; another department's task is 404.
"""
from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import F, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import checked_body, error, query_datetime
from apps.core.models import Department
from apps.core.permissions import roles_allowed
from apps.core.roles import Role

from . import selectors, services
from . import serializers as inp
from .models import Case, Dispatch, DispatchPlan, Evidence, PlanSubtask, SeizedGoods, Task
from .serializers import (
    DisposalStepSerializer,
    CaseListSerializer,
    CaseSerializer,
    DispatchSerializer,
    EvidenceSerializer,
    PlanSerializer,
    PlanSubtaskSerializer,
    TaskDetailSerializer,
    TaskSerializer,
)
from .subjects import subject_resolve, subject_types

COMMAND = (Role.COMMANDER, Role.DUTY_OFFICER)
CommandOnly = roles_allowed(*COMMAND, read_roles=[Role.AUDITOR])
PlanAccess = roles_allowed(*COMMAND, read_roles=[Role.AUDITOR, Role.DEPT_HEAD, Role.DEPT_OFFICER])
CaseAccess = roles_allowed(*COMMAND, Role.DEPT_HEAD, Role.DEPT_OFFICER, read_roles=[Role.AUDITOR])


def _department(value) -> Department:
    if value in (None, ""):
        raise ValidationError({"department": _("请选择部门。")})
    try:
        return Department.objects.get(pk=int(value))
    except (TypeError, ValueError):
        dept = Department.objects.filter(code=str(value)).first()
    except Department.DoesNotExist:
        dept = None
    if dept is None:
        raise ValidationError({"department": _("找不到部门「%(department)s」。") % {"department": value}})
    return dept


def _bool(value) -> bool:
    return str(value).lower() in {"1", "true", "yes", "on", "是"}


# --- Tasks -----------------------------------------------------------------------------------------
class TaskFilter(django_filters.FilterSet):
    """``?level=red,orange`` (any of), ``?township=石浦镇``, ``?place=`` (place or township name contains)."""

    level = django_filters.BaseInFilter(field_name="level")
    township = django_filters.CharFilter(field_name="dispatch__township")
    place = django_filters.CharFilter(method="filter_place")

    class Meta:
        model = Task
        fields = ["state", "level", "sector", "department", "dispatch", "warning"]

    def filter_place(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(dispatch__township__icontains=value) | Q(warning__geofence__name__icontains=value)
                               | Q(warning__geofence__township__icontains=value))


class TaskViewSet(viewsets.ReadOnlyModelViewSet):
    """Tasks the user may see: ``?state=&level=&sector=&department=&township=&place=&open=1&board=1``;
    ``?ordering=`` by ``level_rank`` (red first with ``-level_rank``), ``ack_due_at``, ``feedback_due_at``,
    ``assigned_at``, ``township``; transitions as POST actions. Each task carries its ``subject``
    (where and who: place, vessels, plates, warning time)."""

    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    permission_classes = [CaseAccess]
    filterset_class = TaskFilter
    search_fields = ["title", "dispatch__title", "dispatch__township", "warning__geofence__name"]
    ordering_fields = ["assigned_at", "ack_due_at", "feedback_due_at", "id", "level_rank", "township"]

    def get_queryset(self):
        user = self.request.user
        if self.action == "list" and _bool(self.request.query_params.get("board", "")):
            return selectors.tasks_board(user=user)
        qs = selectors.tasks_for_user(user=user).annotate(level_rank=selectors.level_order(), township=F("dispatch__township"))
        if _bool(self.request.query_params.get("open", "")):
            qs = qs.open()
        return qs.order_by("-assigned_at", "-id") if self.action == "list" and "ordering" not in self.request.query_params else qs

    def get_serializer_class(self):
        return TaskDetailSerializer if self.action == "retrieve" else TaskSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def _run(self, request, fn, **kwargs):
        task = self.get_object()
        try:
            task = fn(task=task, actor=request.user, **kwargs)
        except services.TransitionRefused as exc:
            return error(exc.messages[0], status=status.HTTP_409_CONFLICT, state=exc.state, state_label=exc.state_label,
                         allowed=exc.allowed)
        return Response(TaskDetailSerializer(task, context=self.get_serializer_context()).data)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._run(request, services.task_acknowledge)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._run(request, services.task_start)

    @extend_schema(request={"multipart/form-data": inp.TaskFeedbackInput, "application/json": inp.TaskFeedbackInput})
    @action(detail=True, methods=["post"])
    def feedback(self, request, pk=None):
        data = request.data
        return self._run(request, services.task_submit_feedback, text=data.get("text", ""),
                         arrived_at=data.get("arrived_at"), result=data.get("result", ""),
                         attachments=request.FILES.getlist("attachments"))

    @extend_schema(request=inp.TaskNoteInput)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._run(request, services.task_verify, note=request.data.get("note", ""))

    @extend_schema(request=inp.TaskReasonInput)
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        return self._run(request, services.task_send_back, reason=request.data.get("reason", ""))

    @extend_schema(request=inp.TaskReasonInput)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._run(request, services.task_reject, reason=request.data.get("reason", ""))

    @extend_schema(request=inp.TaskReassignInput)
    @action(detail=True, methods=["post"])
    def reassign(self, request, pk=None):
        return self._run(request, services.task_reassign, department=_department(request.data.get("department")),
                         note=request.data.get("note", ""))


# --- Dispatch ----------------------------------------------------------------------------------------
class DispatchViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """POST ``{subject_type, subject_id, level?, note?}``: one-click joint dispatch (一键联动)."""

    queryset = Dispatch.objects.select_related("content_type").order_by("-created_at", "-id")
    serializer_class = DispatchSerializer
    permission_classes = [CommandOnly]
    filterset_fields = ["level", "kind", "auto", "warning"]

    def create(self, request, *args, **kwargs):
        data = request.data
        subject = subject_resolve(subject_type=data.get("subject_type", ""), subject_id=data.get("subject_id"),
                                  user=request.user)
        dispatch = services.dispatch_subject(subject=subject, actor=request.user, level=data.get("level") or None,
                                             note=data.get("note", "") or "")
        return Response(DispatchSerializer(dispatch, context={"request": request}).data, status=status.HTTP_201_CREATED)


#: OpenAPI schema of a plain list of objects.
_LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": {}}}


class SubjectTypesView(APIView):
    permission_classes = [CommandOnly]

    @extend_schema(responses={200: _LIST_OF_OBJECTS})
    def get(self, request):
        return Response([{"name": t.name, "model": t.model_label, "label": t.label} for t in subject_types()])


class DispatchableWarningsView(APIView):
    """Open warnings not yet dispatched (the board's one-click list)."""

    permission_classes = [CommandOnly]

    @extend_schema(responses={200: _LIST_OF_OBJECTS})
    def get(self, request):
        rows = selectors.warnings_dispatchable()
        return Response([
            {"id": w.pk, "kind": w.kind, "kind_label": w.get_kind_display(), "level": w.level,
             "level_label": w.get_level_display(), "score": w.score, "title": str(w),
             "place": w.geofence.name if w.geofence_id else "", "start": w.start}
            for w in rows
        ])


class PerformanceView(APIView):
    """Department evaluation inputs: ``?since=&until=`` (ISO times)."""

    permission_classes = [CommandOnly]

    @extend_schema(responses={200: _LIST_OF_OBJECTS},
                   parameters=[OpenApiParameter("since", OpenApiTypes.DATETIME), OpenApiParameter("until", OpenApiTypes.DATETIME)])
    def get(self, request):
        since = query_datetime(request, "since")
        until = query_datetime(request, "until")
        return Response(selectors.department_performance(since=since, until=until))


# --- Plans -----------------------------------------------------------------------------------------
class PlanViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Dispatch plans (commander and duty officer edit; departments read). Deactivate instead of deleting."""

    queryset = DispatchPlan.objects.prefetch_related("subtasks__department").order_by("id")
    serializer_class = PlanSerializer
    permission_classes = [PlanAccess]

    def _save(self, request, plan=None):
        data = checked_body(PlanSerializer, request, plan)
        current = plan or DispatchPlan()
        plan = services.plan_save(
            actor=request.user, plan=plan, kind=data.get("kind", current.kind), name=data.get("name", current.name),
            auto_dispatch_min_level=data.get("auto_dispatch_min_level", current.auto_dispatch_min_level),
            active=_bool(data.get("active", current.active)), note=data.get("note", current.note),
            channels=data.get("channels"),
        )
        return Response(PlanSerializer(plan).data, status=status.HTTP_200_OK if current.pk else status.HTTP_201_CREATED)

    def create(self, request, *args, **kwargs):
        return self._save(request)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object())


class PlanSubtaskViewSet(viewsets.ModelViewSet):
    queryset = PlanSubtask.objects.select_related("department", "plan")
    serializer_class = PlanSubtaskSerializer
    permission_classes = [PlanAccess]
    filterset_fields = ["plan", "level", "sector", "department"]

    def _save(self, request, subtask=None):
        data = checked_body(PlanSubtaskSerializer, request, subtask)
        cur = subtask or PlanSubtask()
        plan = get_object_or_404(DispatchPlan, pk=data.get("plan", cur.plan_id)) if (data.get("plan") or cur.plan_id) else None
        if plan is None:
            raise ValidationError({"plan": _("请选择预案。")})
        rule = data.get("department_rule", cur.department_rule or PlanSubtask.DepartmentRule.FIXED)
        dept_value = data.get("department", cur.department_id)
        department = _department(dept_value) if rule == PlanSubtask.DepartmentRule.FIXED and dept_value not in (None, "") else None
        subtask = services.plan_subtask_save(
            actor=request.user, plan=plan, subtask=subtask, level=data.get("level", cur.level),
            sector=data.get("sector", cur.sector), department=department, department_rule=rule,
            title=data.get("title", cur.title), instructions=data.get("instructions", cur.instructions),
            ack_minutes=data.get("ack_minutes", cur.ack_minutes), arrive_minutes=data.get("arrive_minutes", cur.arrive_minutes),
            feedback_minutes=data.get("feedback_minutes", cur.feedback_minutes), order=int(data.get("order", cur.order or 0) or 0),
        )
        return Response(PlanSubtaskSerializer(subtask).data, status=status.HTTP_200_OK if cur.pk else status.HTTP_201_CREATED)

    def create(self, request, *args, **kwargs):
        return self._save(request)

    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object())

    def destroy(self, request, *args, **kwargs):
        services.plan_subtask_delete(actor=request.user, subtask=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Cases ---------------------------------------------------------------------------------------------
class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Case files the user may see (operations centre: all; a department: the cases it takes part in)."""

    queryset = Case.objects.all()
    serializer_class = CaseSerializer
    permission_classes = [CaseAccess]
    filterset_fields = ["status"]
    search_fields = ["number", "title"]

    def get_queryset(self):
        return selectors.cases_for_user(user=self.request.user)

    def get_serializer_class(self):
        return CaseListSerializer if self.action == "list" else CaseSerializer

    def _detail(self, case):
        case = selectors.cases_for_user(user=self.request.user).get(pk=case.pk)
        return Response(CaseSerializer(case, context=self.get_serializer_context()).data)

    def create(self, request, *args, **kwargs):
        data = request.data
        departments = [_department(d) for d in (data.getlist("departments") if hasattr(data, "getlist") else data.get("departments", []))]
        case = services.case_open(actor=request.user, title=data.get("title", ""), summary=data.get("summary", ""),
                                  departments=departments)
        return Response(CaseSerializer(case, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def timeline(self, request, pk=None):
        items = selectors.case_timeline(case=self.get_object())
        return Response([{**i, "at": i["at"].isoformat()} for i in items])

    @extend_schema(request=inp.CaseSummaryInput)
    @action(detail=True, methods=["post"])
    def summary(self, request, pk=None):
        case = services.case_update(case=self.get_object(), actor=request.user, summary=request.data.get("summary", ""))
        return self._detail(case)

    @extend_schema(request={"multipart/form-data": inp.CaseEvidenceInput})
    @action(detail=True, methods=["post"])
    def evidence(self, request, pk=None):
        case = self.get_object()
        task = None
        if request.data.get("task"):
            task = Task.objects.filter(pk=request.data.get("task"), dispatch_id=case.dispatch_id).first()
            if task is None:
                raise ValidationError({"task": _("该任务不属于本案件。")})
        evidence = services.evidence_add(case=case, actor=request.user, upload=request.FILES.get("file"),
                                         kind=request.data.get("kind") or None, note=request.data.get("note", ""), task=task)
        return Response(EvidenceSerializer(evidence).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=inp.CasePersonInput)
    @action(detail=True, methods=["post"])
    def people(self, request, pk=None):
        d = request.data
        services.case_add_person(case=self.get_object(), actor=request.user, role=d.get("role", ""),
                                 name=d.get("name", ""), id_number=d.get("id_number", ""), note=d.get("note", ""))
        return self._detail(self.get_object())

    @extend_schema(request=inp.CaseVesselInput)
    @action(detail=True, methods=["post"])
    def vessels(self, request, pk=None):
        d = request.data
        services.case_add_vessel(case=self.get_object(), actor=request.user, name=d.get("name", ""),
                                 external_id=d.get("external_id", ""), seized=_bool(d.get("seized", "")), note=d.get("note", ""))
        return self._detail(self.get_object())

    @extend_schema(request=inp.CaseVehicleInput)
    @action(detail=True, methods=["post"])
    def vehicles(self, request, pk=None):
        d = request.data
        services.case_add_vehicle(case=self.get_object(), actor=request.user, plate=d.get("plate", ""),
                                  description=d.get("description", ""), seized=_bool(d.get("seized", "")), note=d.get("note", ""))
        return self._detail(self.get_object())

    @extend_schema(request=inp.CaseGoodsInput)
    @action(detail=True, methods=["post"])
    def goods(self, request, pk=None):
        d = request.data
        services.goods_add(case=self.get_object(), actor=request.user, kind=d.get("kind", ""),
                           description=d.get("description", ""), quantity=d.get("quantity"), unit=d.get("unit", ""),
                           estimated_value_yuan=d.get("estimated_value_yuan"))
        return self._detail(self.get_object())

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._detail(services.case_close(case=self.get_object(), actor=request.user))


class GoodsViewSet(viewsets.GenericViewSet):
    """``POST /goods/{id}/sign/ {step, site?, quantity_confirmed?, method?, cost_bearer?, cost_yuan?, subsidy_rate_pct?, evidence?, note?}``."""

    queryset = SeizedGoods.objects.all()
    permission_classes = [CaseAccess]
    serializer_class = DisposalStepSerializer

    def get_queryset(self):
        return SeizedGoods.objects.filter(case__in=selectors.cases_for_user(user=self.request.user)).select_related("case")

    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        goods = self.get_object()
        d = request.data
        evidence = None
        if d.get("evidence"):
            evidence = Evidence.objects.filter(pk=d.get("evidence"), case_id=goods.case_id).first()
            if evidence is None:
                raise ValidationError({"evidence": _("所选证据不属于本案件。")})
        step = services.disposal_step_sign(
            goods=goods, actor=request.user, step=d.get("step", ""), site=d.get("site", ""),
            quantity_confirmed=d.get("quantity_confirmed"), method=d.get("method", ""),
            cost_bearer=d.get("cost_bearer", ""), cost_yuan=d.get("cost_yuan"),
            subsidy_rate_pct=d.get("subsidy_rate_pct"), evidence=evidence, note=d.get("note", ""),
        )
        return Response(DisposalStepSerializer(step).data, status=status.HTTP_201_CREATED)
