"""Enforcement coordination: dispatch plans, dispatches, department tasks, cases and disposal.

The loop the seed asks for (执法高效协同): a warning (or a tip, a grid report, a market
finding) is dispatched with one click into the smallest tasks, one per department and
control sector (sea / shore / road / market), each with deadlines; the departments
acknowledge, act and feed back; the operations centre verifies; overdue tasks escalate.
A dispatch's tasks roll up into a case file with evidence, people, vessels, vehicles,
seized goods and the goods' disposal chain.

Task states are a django-fsm machine (protected field: only transitions change it); the
transitions are called by ``services.py`` only, which checks role and department,
records timestamps and events, and pushes the change live.
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, READ_ALL_ROLES
from apps.elements.models import Warning

from .files import private_storage
from .plan_defaults import LEVEL_CHANNELS, PLAN_ROUTES, level_channels

Level = Warning.Level
LEVEL_RANK: dict[str, int] = dict(Warning.LEVEL_RANK)
ANY_KIND = "any"


def level_rank(level: str | None) -> int:
    return LEVEL_RANK.get(level or "", 0)


class Sector(models.TextChoices):
    """The four-in-one control of seed 003 III.4: sea, shore, road, market."""

    SEA = "sea", _("海上")
    SHORE = "shore", _("岸上")
    ROAD = "road", _("路上")
    MARKET = "market", _("市场")


# --- Dispatch plans -----------------------------------------------------------------------
class DispatchPlan(models.Model):
    """Per warning kind (or ``any``): which subtasks each level sends out, and from which level on automatically."""

    kind = models.CharField(_("预警类型"), max_length=30, unique=True, help_text=_("预警类型代码，any 表示通用预案"))
    name = models.CharField(_("预案名称"), max_length=80)
    auto_dispatch_min_level = models.CharField(
        _("自动派发最低等级"), max_length=10, choices=Level.choices, default=Level.ORANGE
    )
    active = models.BooleanField(_("启用"), default=True)
    note = models.TextField(_("说明"), blank=True)
    channels = models.JSONField(
        _("通知方式"), default=level_channels, blank=True,
        help_text=_("每个等级：派发时通知方式 notify，超时未签收时升级通知方式 escalate（robot 工作群机器人、sms 短信、email 邮件）"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("派发预案")
        verbose_name_plural = _("派发预案")

    def __str__(self) -> str:
        return self.name

    def routes_for(self, level: str) -> dict[str, list[str]]:
        """``{"notify": [...], "escalate": [...]}`` of ``level`` (the defaults where the plan says nothing)."""
        return plan_routes(self, level)


def plan_routes(plan: DispatchPlan | None, level: str) -> dict[str, list[str]]:
    default = LEVEL_CHANNELS.get(level, {"notify": [], "escalate": []})
    mine = (plan.channels or {}).get(level) if plan is not None and isinstance(plan.channels, dict) else None
    mine = mine if isinstance(mine, dict) else {}
    return {k: [r for r in mine.get(k, default[k]) if r in PLAN_ROUTES] for k in ("notify", "escalate")}


class PlanSubtask(models.Model):
    """One smallest task of a plan at one level: a department, a sector and three deadlines (minutes)."""

    class DepartmentRule(models.TextChoices):
        FIXED = "fixed", _("指定部门")
        TOWNSHIP = "township", _("属地镇乡（按预警位置）")

    plan = models.ForeignKey(DispatchPlan, on_delete=models.CASCADE, related_name="subtasks", verbose_name=_("预案"))
    level = models.CharField(_("预警等级"), max_length=10, choices=Level.choices)
    sector = models.CharField(_("管控环节"), max_length=10, choices=Sector.choices)
    department_rule = models.CharField(
        _("责任部门规则"), max_length=10, choices=DepartmentRule.choices, default=DepartmentRule.FIXED
    )
    department = models.ForeignKey(
        "core.Department", null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("责任部门")
    )
    title = models.CharField(_("任务"), max_length=120)
    instructions = models.TextField(_("力量配置与要求"), blank=True)
    ack_minutes = models.PositiveIntegerField(_("签收时限（分钟）"))
    arrive_minutes = models.PositiveIntegerField(_("到场时限（分钟）"))
    feedback_minutes = models.PositiveIntegerField(_("反馈时限（分钟）"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["plan_id", "level", "order", "id"]
        verbose_name = _("预案子任务")
        verbose_name_plural = _("预案子任务")
        constraints = [
            models.CheckConstraint(
                condition=Q(department_rule="township") | Q(department__isnull=False), name="plansubtask_fixed_has_department"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · {self.get_level_display()} · {self.title}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.department_rule == self.DepartmentRule.FIXED and self.department_id is None:
            raise ValidationError({"department": _("指定部门的子任务必须选择责任部门。")})
        if None not in (self.ack_minutes, self.arrive_minutes, self.feedback_minutes) and not (
            0 < self.ack_minutes <= self.arrive_minutes <= self.feedback_minutes
        ):
            raise ValidationError({"feedback_minutes": _("时限应满足：0 < 签收 ≤ 到场 ≤ 反馈。")})

    @property
    def slot(self) -> str:
        """What makes a subtask "the same" across levels: sector + department (or the township rule)."""
        who = "township" if self.department_rule == self.DepartmentRule.TOWNSHIP else self.department.code
        return f"{self.sector}:{who}"


# --- Dispatches and tasks ------------------------------------------------------------------
class Dispatch(models.Model):
    """One-click joint dispatch (一键联动) of one subject: a warning, a tip, a grid report, a finding."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    warning = models.ForeignKey(
        "elements.Warning", null=True, blank=True, on_delete=models.SET_NULL, related_name="dispatches"
    )
    title = models.CharField(_("事由"), max_length=200)
    kind = models.CharField(_("类型"), max_length=30, default=ANY_KIND)
    level = models.CharField(_("等级"), max_length=10, choices=Level.choices)
    plan = models.ForeignKey(DispatchPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="dispatches")
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    township = models.CharField(_("属地"), max_length=60, blank=True)
    note = models.TextField(_("派发说明"), blank=True)
    auto = models.BooleanField(_("自动派发"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["content_type", "object_id"], name="dispatch_one_per_subject")]
        verbose_name = _("联动派发")
        verbose_name_plural = _("联动派发")

    def __str__(self) -> str:
        return f"{self.get_level_display()} {self.title}"


class TaskQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The operations centre and auditors see every task; a department sees its own."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.role in READ_ALL_ROLES:
            return self
        if user.role in DEPARTMENT_ROLES and user.department_id:
            return self.filter(department_id=user.department_id)
        return self.none()

    def open(self):
        return self.exclude(state=Task.State.CLOSED)


def _is_department_staff(task: "Task", user) -> bool:
    return bool(user and user.role in DEPARTMENT_ROLES and user.department_id == task.department_id)


def _is_command(task: "Task", user) -> bool:
    return bool(user and user.role in COMMAND_ROLES)


def _is_system(task: "Task", user) -> bool:
    """The escalation job runs as the system (no user) or on a command user's behalf."""
    return user is None or user.role in COMMAND_ROLES


def _not_acknowledged(task: "Task") -> bool:
    return task.acknowledged_at is None


def _acknowledged_not_started(task: "Task") -> bool:
    return task.acknowledged_at is not None and task.started_at is None


def _started(task: "Task") -> bool:
    return task.started_at is not None


def _not_started(task: "Task") -> bool:
    return task.started_at is None


class Task(models.Model):
    """The smallest unit of enforcement work, owned by one department, with deadlines.

    ``escalated`` keeps the progress made so far in the timestamps, so the department
    continues from where it stopped (acknowledge, start or feed back) once escalated.
    """

    class State(models.TextChoices):
        NEW = "new", _("待签收")
        ACKNOWLEDGED = "acknowledged", _("已签收")
        IN_PROGRESS = "in_progress", _("处置中")
        FEEDBACK_SUBMITTED = "feedback_submitted", _("已反馈")
        CLOSED = "closed", _("已办结")
        REJECTED = "rejected", _("已拒收")
        ESCALATED = "escalated", _("超时升级")

    class Result(models.TextChoices):
        SEIZED = "seized", _("查获走私")
        INTERCEPTED = "intercepted", _("拦截盘查，未发现违法")
        NOTHING_FOUND = "nothing_found", _("到场未发现异常")
        SUSPECTS_FLED = "suspects_fled", _("嫌疑人员逃离")
        TRANSFERRED = "transferred", _("移交其他部门")
        OTHER = "other", _("其他")

    dispatch = models.ForeignKey(Dispatch, on_delete=models.CASCADE, related_name="tasks")
    warning = models.ForeignKey(
        "elements.Warning", null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    department = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="enforcement_tasks", verbose_name=_("责任部门")
    )
    slot = models.CharField(max_length=60, help_text=_("环节:部门，同一派发内唯一（升级时不重复派发）"))
    sector = models.CharField(_("管控环节"), max_length=10, choices=Sector.choices)
    level = models.CharField(_("等级"), max_length=10, choices=Level.choices)
    title = models.CharField(_("任务"), max_length=200)
    instructions = models.TextField(_("力量配置与要求"), blank=True)
    state = FSMField(_("状态"), default=State.NEW, choices=State.choices, protected=True, db_index=True)

    ack_minutes = models.PositiveIntegerField()
    arrive_minutes = models.PositiveIntegerField()
    feedback_minutes = models.PositiveIntegerField()
    assigned_at = models.DateTimeField(_("派发时间"))
    ack_due_at = models.DateTimeField(_("签收截止"), db_index=True)
    arrive_due_at = models.DateTimeField(_("到场截止"))
    feedback_due_at = models.DateTimeField(_("反馈截止"), db_index=True)

    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("开始处置"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("到场时间"), null=True, blank=True)
    feedback_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    feedback_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    feedback_text = models.TextField(_("反馈内容"), blank=True)
    feedback_result = models.CharField(_("处置结果"), max_length=20, choices=Result.choices, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejected_at = models.DateTimeField(_("拒收时间"), null=True, blank=True)
    reject_reason = models.TextField(_("拒收理由"), blank=True)
    escalated_at = models.DateTimeField(_("升级时间"), null=True, blank=True)
    escalated_for = models.JSONField(_("升级原因"), default=list, blank=True)
    reassign_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["-assigned_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["dispatch", "slot"], name="task_one_per_slot")]
        indexes = [
            models.Index(fields=["department", "state"]),
            models.Index(fields=["assigned_at"]),  # cockpit trends and evaluation windows
            models.Index(fields=["closed_at"]),
        ]
        verbose_name = _("执法任务")
        verbose_name_plural = _("执法任务")

    def __str__(self) -> str:
        return f"{self.title} #{self.pk}"

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        # The protected state may be reloaded from the database (never set by hand).
        if fields is None or "state" in fields:
            self.__dict__.pop("state", None)
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)

    # Transitions: called by services only (they set the timestamps and save).
    @transition(field=state, source=[State.NEW, State.ESCALATED], target=State.ACKNOWLEDGED,
                conditions=[_not_acknowledged], permission=_is_department_staff, custom={"label": _("签收")})
    def acknowledge(self) -> None:
        pass

    @transition(field=state, source=[State.ACKNOWLEDGED, State.ESCALATED], target=State.IN_PROGRESS,
                conditions=[_acknowledged_not_started], permission=_is_department_staff, custom={"label": _("开始处置")})
    def start(self) -> None:
        pass

    @transition(field=state, source=[State.IN_PROGRESS, State.ESCALATED], target=State.FEEDBACK_SUBMITTED,
                conditions=[_started], permission=_is_department_staff, custom={"label": _("提交反馈")})
    def submit_feedback(self) -> None:
        pass

    @transition(field=state, source=State.FEEDBACK_SUBMITTED, target=State.CLOSED,
                permission=_is_command, custom={"label": _("核实办结")})
    def verify(self) -> None:
        pass

    @transition(field=state, source=State.FEEDBACK_SUBMITTED, target=State.IN_PROGRESS,
                permission=_is_command, custom={"label": _("退回补充")})
    def send_back(self) -> None:
        pass

    @transition(field=state, source=[State.NEW, State.ACKNOWLEDGED, State.ESCALATED], target=State.REJECTED,
                conditions=[_not_started], permission=_is_department_staff, custom={"label": _("拒收")})
    def reject(self) -> None:
        pass

    @transition(field=state, source=[State.NEW, State.REJECTED, State.ESCALATED], target=State.NEW,
                permission=_is_command, custom={"label": _("改派")})
    def reassign(self) -> None:
        pass

    @transition(field=state, source=[State.NEW, State.ACKNOWLEDGED, State.IN_PROGRESS], target=State.ESCALATED,
                permission=_is_system, custom={"label": _("超时升级")})
    def escalate(self) -> None:
        pass


class TaskEvent(models.Model):
    """What happened to a task, in order: the task's own timeline (the audit trail keeps the diffs)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("派发")
        ACKNOWLEDGED = "acknowledged", _("签收")
        STARTED = "started", _("开始处置")
        FEEDBACK = "feedback", _("提交反馈")
        VERIFIED = "verified", _("核实办结")
        SENT_BACK = "sent_back", _("退回补充")
        REJECTED = "rejected", _("拒收")
        REASSIGNED = "reassigned", _("改派")
        ESCALATED = "escalated", _("超时升级")
        WARNING_CHANGED = "warning_changed", _("预警更正或撤销")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("任务事件")
        verbose_name_plural = _("任务事件")


# --- Cases ------------------------------------------------------------------------------------
class CaseQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The operations centre and auditors see every case; a department sees the cases it takes part in."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.role in READ_ALL_ROLES:
            return self
        if user.role in DEPARTMENT_ROLES and user.department_id:
            return self.filter(departments=user.department_id).distinct()
        return self.none()


class Case(models.Model):
    """The case file (案件) a dispatch's tasks roll up into."""

    class Status(models.TextChoices):
        OPEN = "open", _("办理中")
        CLOSED = "closed", _("已结案")

    number = models.CharField(_("案件编号"), max_length=30, unique=True)
    title = models.CharField(_("案件名称"), max_length=200)
    dispatch = models.OneToOneField(Dispatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="case")
    warning = models.ForeignKey("elements.Warning", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    summary = models.TextField(_("简要案情"), blank=True)
    departments = models.ManyToManyField("core.Department", related_name="enforcement_cases", verbose_name=_("参办部门"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Evidence(models.Model):
    """A photo, document or track snapshot; the file lives in private storage, served through a checked view."""

    class Kind(models.TextChoices):
        PHOTO = "photo", _("照片")
        DOCUMENT = "document", _("文书")
        TRACK_SNAPSHOT = "track_snapshot", _("轨迹快照")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="evidence")
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    file = models.FileField(storage=private_storage, upload_to="enforcement/evidence/%Y/%m/", max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    department = models.ForeignKey("core.Department", null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("证据")
        verbose_name_plural = _("证据")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.original_name}"


class CasePerson(models.Model):
    class Role(models.TextChoices):
        BOSS = "boss", _("组织者")
        PIER_BOSS = "pier_boss", _("码头接应")
        TRANSPORT = "transport", _("运输")
        ESCORT = "escort", _("望风护送")
        CREW = "crew", _("船员")
        SUSPECT = "suspect", _("其他嫌疑人")
        WITNESS = "witness", _("证人")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(_("身份"), max_length=20, choices=Role.choices)
    name = models.CharField(_("姓名"), max_length=60)
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("涉案人员")
        verbose_name_plural = _("涉案人员")

    def __str__(self) -> str:
        return self.name


class CaseVessel(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="vessels")
    vessel = models.ForeignKey("elements.Vessel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("船名"), max_length=80)
    external_id = models.CharField(_("MMSI/终端号"), max_length=40, blank=True)
    seized = models.BooleanField(_("已扣押"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("涉案船舶")
        verbose_name_plural = _("涉案船舶")

    def __str__(self) -> str:
        return self.name


class CaseVehicle(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="vehicles")
    plate = models.CharField(_("车牌号"), max_length=20)
    description = models.CharField(_("车型"), max_length=60, blank=True)
    seized = models.BooleanField(_("已扣押"), default=False)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("涉案车辆")
        verbose_name_plural = _("涉案车辆")

    def __str__(self) -> str:
        return self.plate


# --- Seized goods and their disposal chain -----------------------------------------------------
class GoodsKind(models.TextChoices):
    REFINED_OIL = "refined_oil", _("成品油")
    FROZEN_GOODS = "frozen_goods", _("冻品")
    TOBACCO = "tobacco", _("烟草")
    SUGAR = "sugar", _("白糖")
    OTHER = "other", _("其他")


class SeizedGoods(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="goods")
    kind = models.CharField(_("物品类别"), max_length=20, choices=GoodsKind.choices)
    description = models.CharField(_("品名规格"), max_length=200)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3)
    unit = models.CharField(_("单位"), max_length=20)
    estimated_value_yuan = models.DecimalField(_("估值（元）"), max_digits=16, decimal_places=2)
    custodian_department = models.ForeignKey(
        "core.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("处置主管部门")
    )
    seized_at = models.DateTimeField(_("查扣时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("涉案物品")
        verbose_name_plural = _("涉案物品")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.description} {self.quantity}{self.unit}"


class DisposalStep(models.Model):
    """One signed step of a seized item's disposal chain; rows are written in ``Step`` order only.

    The chain is ordered rows rather than an FSM so that every step keeps its own signer,
    department, time and details; ``services.disposal_step_sign`` refuses any step that is
    not the next one, and the unique constraints keep one row per step.
    """

    class Step(models.TextChoices):
        HANDOVER = "handover", _("物品交接")
        RECEIVING_SITE = "receiving_site", _("指定场所接收")
        COUNT_CONFIRM = "count_confirm", _("清点确认")
        EVIDENCE_FIXED = "evidence_fixed", _("销毁前证据固定")
        STORAGE = "storage", _("安全仓储")
        HARMLESS_DISPOSAL = "harmless_disposal", _("无害化处置")
        COST_SETTLEMENT = "cost_settlement", _("费用承担与补助")

    goods = models.ForeignKey(SeizedGoods, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(_("环节"), max_length=20, choices=Step.choices)
    order = models.PositiveSmallIntegerField()
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("签署人"))
    department = models.ForeignKey("core.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("签署部门"))
    signed_at = models.DateTimeField(_("签署时间"))
    site = models.CharField(_("场所/地点"), max_length=120, blank=True)
    quantity_confirmed = models.DecimalField(_("清点数量"), max_digits=14, decimal_places=3, null=True, blank=True)
    method = models.CharField(_("处置方式"), max_length=120, blank=True)
    cost_bearer = models.CharField(_("费用承担主体"), max_length=120, blank=True)
    cost_yuan = models.DecimalField(_("处置费用（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    subsidy_rate_pct = models.DecimalField(_("补助比例（%）"), max_digits=5, decimal_places=2, null=True, blank=True)
    evidence = models.ForeignKey(Evidence, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["goods_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["goods", "step"], name="disposal_one_row_per_step"),
            models.UniqueConstraint(fields=["goods", "order"], name="disposal_one_row_per_order"),
        ]
        verbose_name = _("处置环节")
        verbose_name_plural = _("处置环节")

    def __str__(self) -> str:
        return f"{self.goods} · {self.get_step_display()}"


DISPOSAL_ORDER: list[str] = [s.value for s in DisposalStep.Step]
