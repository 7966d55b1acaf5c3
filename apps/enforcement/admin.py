"""Admin: the operations centre edits dispatch plans here too; task states change only through services."""
from django.contrib import admin

from .models import Case, Dispatch, DispatchPlan, DisposalStep, PlanSubtask, SeizedGoods, Task, TaskEvent


class PlanSubtaskInline(admin.TabularInline):
    model = PlanSubtask
    extra = 0
    fields = ["level", "order", "sector", "department_rule", "department", "title", "instructions",
              "ack_minutes", "arrive_minutes", "feedback_minutes"]


@admin.register(DispatchPlan)
class DispatchPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "auto_dispatch_min_level", "active", "updated_at"]
    inlines = [PlanSubtaskInline]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Dispatch)
class DispatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "level", "kind", "auto", "created_at"]
    list_filter = ["level", "auto"]


class TaskEventInline(admin.TabularInline):
    model = TaskEvent
    extra = 0
    can_delete = False
    readonly_fields = ["kind", "from_state", "to_state", "actor", "department", "note", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "department", "level", "state", "assigned_at", "ack_due_at", "feedback_due_at"]
    list_filter = ["state", "level", "department"]
    inlines = [TaskEventInline]


class DisposalStepInline(admin.TabularInline):
    model = DisposalStep
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(SeizedGoods)
class SeizedGoodsAdmin(ReadOnlyAdmin):
    list_display = ["id", "case", "kind", "description", "quantity", "unit", "estimated_value_yuan"]
    inlines = [DisposalStepInline]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "title", "status", "created_at"]
    list_filter = ["status"]
