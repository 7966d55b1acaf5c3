"""Output shapes of the enforcement API (inputs are validated by the services, with Chinese messages)."""
from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from apps.core.models import Department

from . import selectors, services
from .models import (
    Case,
    CasePerson,
    CaseVehicle,
    CaseVessel,
    Dispatch,
    DispatchPlan,
    DisposalStep,
    Evidence,
    PlanSubtask,
    SeizedGoods,
    Task,
    TaskEvent,
)
from .subjects import subject_cards, subject_type_of


class DepartmentMiniSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name"]


class EvidenceSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    url = serializers.SerializerMethodField()
    uploaded_by = serializers.StringRelatedField(allow_null=True)
    department = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Evidence
        fields = ["id", "kind", "kind_label", "original_name", "content_type", "size_bytes", "sha256", "note",
                  "task", "uploaded_by", "department", "created_at", "url"]

    def get_url(self, obj) -> str:
        return reverse("enforcement:evidence", args=[obj.pk])


class TaskEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor = serializers.StringRelatedField(allow_null=True)
    department = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = TaskEvent
        fields = ["id", "kind", "kind_label", "from_state", "to_state", "actor", "department", "note", "at"]


class DispatchMiniSerializer(serializers.ModelSerializer):
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    subject_type = serializers.SerializerMethodField()

    class Meta:
        model = Dispatch
        fields = ["id", "title", "kind", "level", "level_label", "auto", "lon", "lat", "township", "note",
                  "subject_type", "object_id", "warning", "created_at"]

    def get_subject_type(self, obj) -> str | None:
        model = obj.content_type.model_class()
        return subject_type_of(model) if model is not None else None


class TaskListSerializer(serializers.ListSerializer):
    """Builds the subject cards (where and who) of a whole page at once: a fixed number of queries."""

    def to_representation(self, data):
        items = list(data.all() if hasattr(data, "all") else data)
        cards = subject_cards({t.dispatch_id: t.dispatch for t in items}.values())
        self.child.context["subject_cards"] = {**self.child.context.get("subject_cards", {}), **cards}
        return super().to_representation(items)


class TaskSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    sector_label = serializers.CharField(source="get_sector_display", read_only=True)
    result_label = serializers.CharField(source="get_feedback_result_display", read_only=True)
    department = DepartmentMiniSerializer(read_only=True, allow_null=True)
    dispatch = DispatchMiniSerializer(read_only=True, allow_null=True)
    case = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    acknowledged_by = serializers.StringRelatedField(allow_null=True)
    feedback_by = serializers.StringRelatedField(allow_null=True)
    closed_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Task
        fields = [
            "id", "title", "instructions", "sector", "sector_label", "level", "level_label", "state", "state_label",
            "department", "dispatch", "case", "warning",
            "assigned_at", "ack_due_at", "arrive_due_at", "feedback_due_at", "overdue",
            "acknowledged_at", "acknowledged_by", "started_at", "arrived_at", "feedback_at", "feedback_by",
            "feedback_text", "feedback_result", "result_label", "closed_at", "closed_by",
            "rejected_at", "reject_reason", "escalated_at", "escalated_for", "reassign_count", "actions", "subject",
        ]
        list_serializer_class = TaskListSerializer

    def get_subject(self, obj) -> dict:
        """Where and who (``apps.enforcement.subjects.subject_cards``): place, vessels, plates, warning time."""
        cards = self.context.get("subject_cards") or {}
        if obj.dispatch_id not in cards:
            cards = subject_cards([obj.dispatch])
        return cards[obj.dispatch_id]

    def get_case(self, obj) -> dict | None:
        case = getattr(obj.dispatch, "case", None)
        return {"id": case.pk, "number": case.number} if case else None

    def get_overdue(self, obj) -> bool:
        return selectors.task_is_overdue(task=obj, now=self.context.get("now") or timezone.now())

    def get_actions(self, obj) -> list[dict]:
        request = self.context.get("request")
        return services.task_allowed_actions(task=obj, user=request.user) if request else []


class TaskDetailSerializer(TaskSerializer):
    events = TaskEventSerializer(many=True, read_only=True)
    attachments = EvidenceSerializer(many=True, read_only=True)

    class Meta(TaskSerializer.Meta):
        fields = TaskSerializer.Meta.fields + ["events", "attachments"]


class DispatchSerializer(DispatchMiniSerializer):
    tasks = serializers.SerializerMethodField()
    case = serializers.SerializerMethodField()

    class Meta(DispatchMiniSerializer.Meta):
        fields = DispatchMiniSerializer.Meta.fields + ["tasks", "case"]

    def get_tasks(self, obj) -> list[dict]:
        return [
            {"id": t.pk, "title": t.title, "sector": t.sector, "department": t.department.name, "state": t.state,
             "level": t.level, "ack_due_at": t.ack_due_at, "feedback_due_at": t.feedback_due_at}
            for t in obj.tasks.select_related("department").order_by("id")
        ]

    def get_case(self, obj) -> dict | None:
        case = Case.objects.filter(dispatch=obj).first()
        return {"id": case.pk, "number": case.number} if case else None


class PlanSubtaskSerializer(serializers.ModelSerializer):
    department = DepartmentMiniSerializer(read_only=True, allow_null=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    sector_label = serializers.CharField(source="get_sector_display", read_only=True)

    class Meta:
        model = PlanSubtask
        fields = ["id", "plan", "level", "level_label", "sector", "sector_label", "department_rule", "department",
                  "title", "instructions", "ack_minutes", "arrive_minutes", "feedback_minutes", "order"]


class PlanSerializer(serializers.ModelSerializer):
    subtasks = PlanSubtaskSerializer(many=True, read_only=True)

    class Meta:
        model = DispatchPlan
        fields = ["id", "kind", "name", "auto_dispatch_min_level", "active", "note", "channels", "updated_at", "subtasks"]


class DisposalStepSerializer(serializers.ModelSerializer):
    step_label = serializers.CharField(source="get_step_display", read_only=True)
    signed_by = serializers.StringRelatedField(allow_null=True)
    department = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = DisposalStep
        fields = ["id", "step", "step_label", "order", "signed_by", "department", "signed_at", "site",
                  "quantity_confirmed", "method", "cost_bearer", "cost_yuan", "subsidy_rate_pct", "evidence", "note"]


class SeizedGoodsSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    custodian_department = DepartmentMiniSerializer(read_only=True, allow_null=True)
    steps = DisposalStepSerializer(many=True, read_only=True)
    chain = serializers.SerializerMethodField()

    class Meta:
        model = SeizedGoods
        fields = ["id", "kind", "kind_label", "description", "quantity", "unit", "estimated_value_yuan",
                  "custodian_department", "seized_at", "steps", "chain"]

    def get_chain(self, obj) -> list[dict]:
        done = {s.step: s for s in obj.steps.all()}
        next_step = services.disposal_next_step(goods=obj)
        return [
            {"step": value, "label": str(label), "order": i + 1, "signed": value in done, "next": value == next_step}
            for i, (value, label) in enumerate(DisposalStep.Step.choices)
        ]


class CasePersonSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    id_number = serializers.SerializerMethodField()

    class Meta:
        model = CasePerson
        fields = ["id", "role", "role_label", "name", "id_number", "note", "created_at"]

    def get_id_number(self, obj) -> str:
        """ID numbers in full for the operations centre only; others see them masked."""
        request = self.context.get("request")
        if not obj.id_number or (request and request.user.is_command):
            return obj.id_number
        n = obj.id_number
        return n[:3] + "*" * max(len(n) - 7, 0) + n[-4:] if len(n) > 7 else "*" * len(n)


class CaseVesselSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseVessel
        fields = ["id", "vessel", "name", "external_id", "seized", "note", "created_at"]


class CaseVehicleSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseVehicle
        fields = ["id", "plate", "description", "seized", "note", "created_at"]


class CaseListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    level = serializers.SerializerMethodField()
    level_label = serializers.SerializerMethodField()
    departments = DepartmentMiniSerializer(many=True, read_only=True)

    class Meta:
        model = Case
        fields = ["id", "number", "title", "status", "status_label", "level", "level_label", "departments",
                  "created_at", "closed_at"]

    def get_level(self, obj) -> str | None:
        return obj.dispatch.level if obj.dispatch_id else None

    def get_level_label(self, obj) -> str | None:
        return obj.dispatch.get_level_display() if obj.dispatch_id else None


class CaseSerializer(CaseListSerializer):
    people = CasePersonSerializer(many=True, read_only=True)
    vessels = CaseVesselSerializer(many=True, read_only=True)
    vehicles = CaseVehicleSerializer(many=True, read_only=True)
    goods = SeizedGoodsSerializer(many=True, read_only=True)
    evidence = EvidenceSerializer(many=True, read_only=True)
    dispatch = DispatchMiniSerializer(read_only=True, allow_null=True)
    tasks = serializers.SerializerMethodField()
    can_edit = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()

    class Meta(CaseListSerializer.Meta):
        fields = CaseListSerializer.Meta.fields + ["summary", "dispatch", "warning", "people", "vessels", "vehicles",
                                                   "goods", "evidence", "tasks", "can_edit", "subject"]

    def get_subject(self, obj) -> dict | None:
        """Where and who (``apps.enforcement.subjects.subject_cards``) of the dispatch the case came from."""
        return subject_cards([obj.dispatch])[obj.dispatch_id] if obj.dispatch_id else None

    def get_tasks(self, obj) -> list[dict]:
        if not obj.dispatch_id:
            return []
        request = self.context.get("request")
        tasks = Task.objects.filter(dispatch_id=obj.dispatch_id).select_related("department").order_by("id")
        return [
            {"id": t.pk, "title": t.title, "department": t.department.name, "state": t.state,
             "state_label": t.get_state_display(), "sector_label": t.get_sector_display(),
             "feedback_text": t.feedback_text if (request and (request.user.reads_everything or request.user.department_id == t.department_id)) else "",
             "result_label": t.get_feedback_result_display()}
            for t in tasks
        ]

    def get_can_edit(self, obj) -> bool:
        request = self.context.get("request")
        if request is None:
            return False
        user = request.user
        return bool(user.is_command or (user.is_department_staff and obj.departments.filter(pk=user.department_id).exists()))


# --- What the action endpoints take (request bodies in the API description) -----------------------
class TaskFeedbackInput(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, help_text="处置情况")
    arrived_at = serializers.DateTimeField(required=False, allow_null=True)
    result = serializers.CharField(required=False, allow_blank=True, help_text="处置结果代码")
    attachments = serializers.ListField(child=serializers.FileField(), required=False)


class TaskNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class TaskReasonInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True)


class TaskReassignInput(serializers.Serializer):
    department = serializers.CharField(help_text="部门编号或代码")
    note = serializers.CharField(required=False, allow_blank=True)


class CaseSummaryInput(serializers.Serializer):
    summary = serializers.CharField(allow_blank=True)


class CaseEvidenceInput(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
    task = serializers.IntegerField(required=False, allow_null=True)


class CasePersonInput(serializers.Serializer):
    role = serializers.CharField()
    name = serializers.CharField()
    id_number = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class CaseVesselInput(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True)
    external_id = serializers.CharField(required=False, allow_blank=True)
    seized = serializers.BooleanField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class CaseVehicleInput(serializers.Serializer):
    plate = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    seized = serializers.BooleanField(required=False)
    note = serializers.CharField(required=False, allow_blank=True)


class CaseGoodsInput(serializers.Serializer):
    kind = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True)
    unit = serializers.CharField(required=False, allow_blank=True)
    estimated_value_yuan = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
