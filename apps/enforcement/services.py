"""Enforcement writes: plans, one-click dispatch, task transitions, escalation, cases, disposal.

Every function here validates first, checks role *and* department, writes atomically
(the audit trail records the diffs, with the actor), records a task event where a task
changes, pushes the change live after commit and sends notifications after commit.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from apps.core import live, notify
from apps.core.models import Department, User
from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, Role
from apps.elements.models import Warning

from . import events, notices
from .files import upload_check
from .models import (
    ANY_KIND,
    DISPOSAL_ORDER,
    Case,
    CasePerson,
    CaseVehicle,
    CaseVessel,
    Dispatch,
    DispatchPlan,
    DisposalStep,
    Evidence,
    GoodsKind,
    PlanSubtask,
    SeizedGoods,
    Sector,
    Task,
    TaskEvent,
    level_rank,
)
from .plan_defaults import DEFAULT_PLANS, LEVEL_DEADLINES, PLAN_ROUTES, TOWNSHIP
from .subjects import register_subject_type, subject_describe  # noqa: F401  (re-exported for other apps)

log = logging.getLogger(__name__)

MAX_ATTACHMENTS = 10
CLOCK_SKEW = timedelta(minutes=5)


# --- Errors ----------------------------------------------------------------------------------
class TransitionRefused(ValidationError):
    """An illegal task transition: carries the current state and what is allowed now (HTTP 409)."""

    def __init__(self, *, task: Task, action: str, user) -> None:
        self.state = task.state
        self.state_label = str(Task.State(task.state).label)
        self.allowed = task_allowed_actions(task=task, user=user)
        label = ACTION_LABELS.get(action, action)
        allowed = _("、").join(str(a["label"]) for a in self.allowed)
        message = _("任务当前状态为「%(state)s」，不能执行「%(action)s」。") % {"state": self.state_label, "action": label} + (
            _("当前可执行：%(actions)s。") % {"actions": allowed} if allowed else _("您当前没有可执行的操作。")
        )
        super().__init__(message, code="invalid_transition")


# API action name -> (model transition, label)
ACTIONS: dict[str, str] = {
    "acknowledge": "acknowledge",
    "start": "start",
    "feedback": "submit_feedback",
    "verify": "verify",
    "send_back": "send_back",
    "reject": "reject",
    "reassign": "reassign",
}
ACTION_LABELS: dict[str, str] = {
    "acknowledge": gettext_lazy("签收"),
    "start": gettext_lazy("开始处置"),
    "feedback": gettext_lazy("提交反馈"),
    "submit_feedback": gettext_lazy("提交反馈"),
    "verify": gettext_lazy("核实办结"),
    "send_back": gettext_lazy("退回补充"),
    "reject": gettext_lazy("拒收"),
    "reassign": gettext_lazy("改派"),
    "escalate": gettext_lazy("超时升级"),
}


def task_allowed_actions(*, task: Task, user) -> list[dict[str, str]]:
    """The actions ``user`` may take on ``task`` now (API names and Chinese labels)."""
    by_method = {method: name for name, method in ACTIONS.items()}
    result = []
    for t in task.get_available_user_state_transitions(user):
        if t.name in by_method:
            result.append({"name": by_method[t.name], "label": str(ACTION_LABELS[by_method[t.name]])})
    return result


# --- Audit actor -------------------------------------------------------------------------------
@contextmanager
def _audit_actor(actor):
    """Name ``actor`` on the audit entries written inside (keeps the request's address if it is the same user)."""
    if actor is None:
        yield
        return
    try:
        previous = auditlog_value.get()
    except LookupError:
        previous = None
    remote_addr = previous.get("remote_addr") if previous and previous.get("actor") == actor else None
    try:
        with set_actor(actor, remote_addr=remote_addr):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)


# --- Permission helpers ------------------------------------------------------------------------
def _require_command(actor, what: str | None = None) -> None:
    if actor is None or getattr(actor, "role", None) not in COMMAND_ROLES:
        what = what if what is not None else pgettext("permission", "此操作")
        raise PermissionDenied(_("只有联合作战中心（指挥长、值班员）可以%(what)s。") % {"what": what})


def _require_task_department(task: Task, actor) -> None:
    if actor is None or actor.role not in DEPARTMENT_ROLES or actor.department_id != task.department_id:
        raise PermissionDenied(_("只有任务所属部门的执法人员或负责人可以办理此任务。"))


def _require_case_participant(case: Case, actor) -> None:
    if actor is not None and actor.role in COMMAND_ROLES:
        return
    if (
        actor is not None
        and actor.role in DEPARTMENT_ROLES
        and actor.department_id
        and case.departments.filter(pk=actor.department_id).exists()
    ):
        return
    raise PermissionDenied(_("只有联合作战中心或参办本案的部门可以修改案件。"))


def _operations_centre() -> Department:
    dept = Department.objects.filter(hosts_operations_centre=True).order_by("id").first()
    if dept is None:
        from apps.core.departments import ensure_departments

        ensure_departments()
        dept = Department.objects.filter(hosts_operations_centre=True).order_by("id").first()
    return dept


# --- Plans ----------------------------------------------------------------------------------------
def ensure_default_plans() -> dict[str, DispatchPlan]:
    """Create the default four-level plans where missing (idempotent; never overwrites edits)."""
    from apps.core.departments import ensure_departments

    depts = {d.code: d for d in Department.objects.all()}
    if not depts:
        depts = ensure_departments()
    plans = {}
    with transaction.atomic():
        for kind, name, min_level, by_level in DEFAULT_PLANS:
            plan, created = DispatchPlan.objects.get_or_create(
                kind=kind, defaults={"name": name, "auto_dispatch_min_level": min_level}
            )
            plans[kind] = plan
            if not created:
                continue
            for level, subtasks in by_level.items():
                ack, arrive, feedback = LEVEL_DEADLINES[level]
                for order, (sector, dept_code, title, instructions) in enumerate(subtasks):
                    township = dept_code == TOWNSHIP
                    PlanSubtask.objects.create(
                        plan=plan,
                        level=level,
                        sector=sector,
                        department_rule=PlanSubtask.DepartmentRule.TOWNSHIP if township else PlanSubtask.DepartmentRule.FIXED,
                        department=None if township else depts[dept_code],
                        title=title,
                        instructions=instructions,
                        ack_minutes=ack,
                        arrive_minutes=arrive,
                        feedback_minutes=feedback,
                        order=order,
                    )
    return plans


def _valid_kinds() -> set[str]:
    return {ANY_KIND} | {k.value for k in Warning.Kind}


def _plan_channels_errors(channels) -> str | None:
    if not isinstance(channels, dict):
        return _("通知方式必须是按等级的 JSON 对象。")
    for level, routes in channels.items():
        if level_rank(level) == 0 or not isinstance(routes, dict) or set(routes) - {"notify", "escalate"}:
            return _("通知方式格式：{\"red\": {\"notify\": [\"robot\", \"sms\"], \"escalate\": [\"sms\"]}, ...}")
        for key, values in routes.items():
            if not isinstance(values, list) or any(v not in PLAN_ROUTES for v in values):
                return _("通知方式只能是 robot（工作群机器人）、sms（短信）、email（邮件）。")
    return None


def plan_save(*, actor, plan: DispatchPlan | None = None, kind: str, name: str,
              auto_dispatch_min_level: str, active: bool = True, note: str = "",
              channels: dict | None = None) -> DispatchPlan:
    """Create or change a plan (commander / duty officer); ``channels``: the notification routes per level."""
    _require_command(actor, pgettext("permission", "修改派发预案"))
    errors = {}
    if channels is not None and (problem := _plan_channels_errors(channels)):
        errors["channels"] = problem
    if kind not in _valid_kinds():
        errors["kind"] = _("未知的预警类型「%(kind)s」。") % {"kind": kind}
    if level_rank(auto_dispatch_min_level) == 0:
        errors["auto_dispatch_min_level"] = _("自动派发等级必须是红/橙/黄/蓝之一。")
    if not (name or "").strip():
        errors["name"] = _("请填写预案名称。")
    if kind and DispatchPlan.objects.filter(kind=kind).exclude(pk=getattr(plan, "pk", None)).exists():
        errors["kind"] = _("该预警类型已有预案。")
    if errors:
        raise ValidationError(errors)
    with _audit_actor(actor), transaction.atomic():
        plan = plan or DispatchPlan()
        plan.kind, plan.name, plan.auto_dispatch_min_level = kind, name.strip(), auto_dispatch_min_level
        plan.active, plan.note = active, note
        if channels is not None:
            plan.channels = channels
        plan.save()
    return plan


def plan_subtask_save(*, actor, plan: DispatchPlan, subtask: PlanSubtask | None = None, level: str, sector: str,
                      department: Department | None, department_rule: str = PlanSubtask.DepartmentRule.FIXED,
                      title: str, instructions: str = "", ack_minutes: int, arrive_minutes: int,
                      feedback_minutes: int, order: int = 0) -> PlanSubtask:
    """Create or change one subtask of a plan (commander / duty officer)."""
    _require_command(actor, pgettext("permission", "修改派发预案"))
    errors = {}
    if level_rank(level) == 0:
        errors["level"] = _("等级必须是红/橙/黄/蓝之一。")
    if sector not in Sector.values:
        errors["sector"] = _("管控环节必须是海上/岸上/路上/市场之一。")
    if department_rule not in PlanSubtask.DepartmentRule.values:
        errors["department_rule"] = _("未知的责任部门规则。")
    elif department_rule == PlanSubtask.DepartmentRule.FIXED and department is None:
        errors["department"] = _("指定部门的子任务必须选择责任部门。")
    if not (title or "").strip():
        errors["title"] = _("请填写任务名称。")
    try:
        ack, arrive, feedback = int(ack_minutes), int(arrive_minutes), int(feedback_minutes)
    except (TypeError, ValueError):
        errors["ack_minutes"] = _("时限必须是整数分钟。")
    else:
        if min(ack, arrive, feedback) <= 0:
            errors["ack_minutes"] = _("时限必须大于 0 分钟。")
        elif not ack <= arrive <= feedback:
            errors["feedback_minutes"] = _("时限应满足：签收 ≤ 到场 ≤ 反馈。")
    if errors:
        raise ValidationError(errors)
    with _audit_actor(actor), transaction.atomic():
        subtask = subtask or PlanSubtask(plan=plan)
        subtask.plan = plan
        subtask.level, subtask.sector, subtask.department_rule = level, sector, department_rule
        subtask.department = department if department_rule == PlanSubtask.DepartmentRule.FIXED else None
        subtask.title, subtask.instructions = title.strip(), instructions
        subtask.ack_minutes, subtask.arrive_minutes, subtask.feedback_minutes = ack, arrive, feedback
        subtask.order = order
        subtask.save()
    return subtask


def plan_subtask_delete(*, actor, subtask: PlanSubtask) -> None:
    _require_command(actor, pgettext("permission", "修改派发预案"))
    with _audit_actor(actor), transaction.atomic():
        subtask.delete()


def plan_subtasks_for(*, kind: str | None, level: str) -> tuple[DispatchPlan | None, list[PlanSubtask]]:
    """The plan and its subtasks for a kind and level: the kind's own plan, else the general one."""
    if not DispatchPlan.objects.exists():
        ensure_default_plans()
    for candidate in ([kind] if kind and kind != ANY_KIND else []) + [ANY_KIND]:
        plan = DispatchPlan.objects.filter(kind=candidate, active=True).first()
        if plan is None:
            continue
        subtasks = list(plan.subtasks.filter(level=level).select_related("department").order_by("order", "id"))
        if subtasks:
            return plan, subtasks
    return None, []


def auto_dispatch_min_level(*, kind: str | None) -> str:
    if not DispatchPlan.objects.exists():
        ensure_default_plans()
    for candidate in ([kind] if kind else []) + [ANY_KIND]:
        plan = DispatchPlan.objects.filter(kind=candidate, active=True).first()
        if plan is not None:
            return plan.auto_dispatch_min_level
    return Warning.Level.ORANGE


# --- Dispatch ----------------------------------------------------------------------------------------
def _township_department(township: str) -> Department | None:
    name = (township or "").strip()
    if not name:
        return None
    for dept in Department.objects.filter(kind=Department.Kind.TOWNSHIP):
        if dept.code == name or dept.name == name or dept.name.startswith(name) or name.startswith(dept.name[:2]):
            return dept
    return None


def _task_payload(task: Task) -> dict[str, Any]:
    return {
        "id": task.pk,
        "state": task.state,
        "state_label": str(Task.State(task.state).label),
        "department_id": task.department_id,
        "level": task.level,
        "dispatch_id": task.dispatch_id,
    }


def _push_task(task: Task, event: str, extra_groups: Iterable[str] = ()) -> None:
    groups = [live.group_department(task.department_id), live.GROUP_COMMAND, *extra_groups]
    live.push(list(dict.fromkeys(groups)), event, _task_payload(task))


def _notify_after_commit(notification: notify.Notification) -> None:
    transaction.on_commit(lambda: notify.send(notification))


def _new_case_number(now: datetime) -> str:
    year = timezone.localtime(now).year
    prefix = f"XS{year}-"
    last = Case.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True).first()
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _case_create(*, title: str, actor, dispatch: Dispatch | None = None, summary: str = "") -> Case:
    now = timezone.now()
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Case.objects.create(
                    number=_new_case_number(now),
                    title=title[:200],
                    dispatch=dispatch,
                    warning=dispatch.warning if dispatch else None,
                    summary=summary,
                    created_by=actor,
                )
        except IntegrityError:
            continue
    raise ValidationError(_("案件编号生成冲突，请重试。"))


def _dispatch(*, subject, actor, level: str | None, note: str, auto: bool) -> Dispatch:
    if not auto:
        _require_command(actor, pgettext("permission", "一键联动派发"))
    info = subject_describe(subject)
    chosen = level or info.level
    if level_rank(chosen) == 0:
        raise ValidationError({"level": _("请选择预警等级（红色/橙色/黄色/蓝色）。")})
    kind = info.kind or ANY_KIND
    plan, subtasks = plan_subtasks_for(kind=kind, level=chosen)
    if not subtasks:
        raise ValidationError({"level": _("%(level)s等级没有配置派发预案，请先在派发预案中配置子任务。") % {"level": Warning.Level(chosen).label}})
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(subject)
    warning = subject if isinstance(subject, Warning) else None

    with _audit_actor(actor), transaction.atomic():
        dispatch, created = Dispatch.objects.get_or_create(
            content_type=content_type,
            object_id=subject.pk,
            defaults={
                "warning": warning, "title": info.title, "kind": kind, "level": chosen, "plan": plan,
                "lon": info.lon, "lat": info.lat, "township": info.township, "note": note,
                "auto": auto, "created_by": actor,
            },
        )
        dispatch = Dispatch.objects.select_for_update().get(pk=dispatch.pk)
        if not created:
            if level_rank(chosen) < level_rank(dispatch.level):
                return dispatch  # a lower level adds nothing to what was already sent
            if level_rank(chosen) > level_rank(dispatch.level) or (note and note != dispatch.note):
                dispatch.level = chosen if level_rank(chosen) > level_rank(dispatch.level) else dispatch.level
                dispatch.plan = plan
                if note:
                    dispatch.note = note
                dispatch.save(update_fields=["level", "plan", "note", "updated_at"])
        case = getattr(dispatch, "case", None) if not created else None
        if case is None:
            case = Case.objects.filter(dispatch=dispatch).first() or _case_create(title=info.title, actor=actor, dispatch=dispatch)

        existing = set(dispatch.tasks.values_list("slot", flat=True))
        centre = None
        new_tasks = []
        for sub in subtasks:
            if sub.slot in existing:
                continue
            existing.add(sub.slot)
            instructions = sub.instructions
            if sub.department_rule == PlanSubtask.DepartmentRule.TOWNSHIP:
                department = _township_department(dispatch.township)
                if department is None:
                    centre = centre or _operations_centre()
                    department = centre
                    instructions = "【属地未识别，请作战中心改派给属地镇乡】" + instructions
            else:
                department = sub.department
            task = Task.objects.create(
                dispatch=dispatch, warning=warning, department=department, slot=sub.slot, sector=sub.sector,
                level=chosen, title=sub.title, instructions=instructions,
                ack_minutes=sub.ack_minutes, arrive_minutes=sub.arrive_minutes, feedback_minutes=sub.feedback_minutes,
                assigned_at=now,
                ack_due_at=now + timedelta(minutes=sub.ack_minutes),
                arrive_due_at=now + timedelta(minutes=sub.arrive_minutes),
                feedback_due_at=now + timedelta(minutes=sub.feedback_minutes),
            )
            TaskEvent.objects.create(
                task=task, kind=TaskEvent.Kind.CREATED, to_state=task.state, actor=actor, department=department,
                note=("自动派发" if auto else "一键联动派发") + (f"：{note}" if note else ""), at=now,
            )
            new_tasks.append(task)
            case.departments.add(department)
        if warning is not None and new_tasks and warning.status == Warning.Status.OPEN:
            warning.status = Warning.Status.DISPATCHED
            warning.save(update_fields=["status", "updated_at"])
        for task in new_tasks:
            _push_task(task, events.TASK_NEW)
            notices.task_assigned(task=task)
    return dispatch


def dispatch_subject(*, subject, actor, level: str | None = None, note: str = "") -> Dispatch:
    """One-click joint dispatch (一键联动) of any subject into its plan's department tasks.

    ``subject``: any model instance (a Warning, a Tip, a grid report, a market finding). It
    may expose ``dispatch_title()``, ``dispatch_level()``, ``dispatch_kind()``,
    ``dispatch_township()`` and ``lon``/``lat``. ``level`` (red/orange/yellow/blue) is the
    duty officer's choice and wins over the subject's own. ``actor`` must be a commander
    or duty officer. Idempotent per subject: a second call adds only the subtasks a
    higher level brings.
    """
    return _dispatch(subject=subject, actor=actor, level=level, note=note, auto=False)


def warning_auto_dispatch(*, warning_id: int) -> Dispatch | None:
    """Dispatch a new or updated warning automatically when its level reaches the plan's auto level.

    Idempotent: an update during the same episode adds nothing; an escalation to a higher
    level adds that level's extra subtasks.
    """
    warning = Warning.objects.select_related("geofence").filter(pk=warning_id).first()
    if warning is None or warning.status in (Warning.Status.CLOSED, Warning.Status.FALSE_ALARM, Warning.Status.WITHDRAWN):
        return None
    if level_rank(warning.level) < level_rank(auto_dispatch_min_level(kind=warning.kind)):
        return None
    return _dispatch(subject=warning, actor=None, level=warning.level, note="", auto=True)


# --- Task transitions -------------------------------------------------------------------------------
def _transition(*, task: Task, actor, action: str, check, event_kind: str, mutate=None, note: str = "",
                push_event: str = events.TASK_CHANGED, extra_groups: Sequence[str] = ()) -> Task:
    method_name = ACTIONS.get(action, action)
    with _audit_actor(actor), transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        check(locked, actor)
        method = getattr(locked, method_name)
        if not can_proceed(method):
            raise TransitionRefused(task=locked, action=action, user=actor)
        before = locked.state
        method()
        now = timezone.now()
        if mutate is not None:
            mutate(locked, now)
        locked.save()
        TaskEvent.objects.create(
            task=locked, kind=event_kind, from_state=before, to_state=locked.state, actor=actor,
            department=actor.department if actor is not None else None, note=note, at=now,
        )
        _push_task(locked, push_event, extra_groups)
    task.refresh_from_db()
    return locked


def task_acknowledge(*, task: Task, actor) -> Task:
    """签收: the department confirms it has the task (acknowledge time counts in the evaluation)."""
    def mutate(t, now):
        t.acknowledged_at, t.acknowledged_by = now, actor

    return _transition(task=task, actor=actor, action="acknowledge", check=_require_task_department,
                       event_kind=TaskEvent.Kind.ACKNOWLEDGED, mutate=mutate)


def task_start(*, task: Task, actor) -> Task:
    """开始处置: forces are on their way."""
    def mutate(t, now):
        t.started_at = now

    return _transition(task=task, actor=actor, action="start", check=_require_task_department,
                       event_kind=TaskEvent.Kind.STARTED, mutate=mutate)


def _parse_when(value, field: str) -> datetime:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str) and value.strip():
        when = parse_datetime(value.strip())
        if when is None:
            raise ValidationError({field: _("时间格式不正确。")})
    else:
        raise ValidationError({field: _("请填写到场时间。")})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    return when


def task_submit_feedback(*, task: Task, actor, text: str, arrived_at, result: str,
                         attachments: Sequence = ()) -> Task:
    """提交反馈: what was found and done, when the forces arrived, with photos or documents."""
    errors = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("请填写处置反馈内容。")
    elif len(text) > 5000:
        errors["text"] = _("反馈内容不能超过 5000 字。")
    if result not in Task.Result.values:
        errors["result"] = _("请选择处置结果。")
    try:
        arrived = _parse_when(arrived_at, "arrived_at")
    except ValidationError as exc:
        errors.update(exc.message_dict)
        arrived = None
    if arrived is not None:
        if arrived > timezone.now() + CLOCK_SKEW:
            errors["arrived_at"] = _("到场时间不能晚于当前时间。")
        elif arrived < task.assigned_at - CLOCK_SKEW:
            errors["arrived_at"] = _("到场时间不能早于任务派发时间。")
    attachments = list(attachments or [])
    if len(attachments) > MAX_ATTACHMENTS:
        errors["attachments"] = _("附件最多 %(n)s 个。") % {"n": MAX_ATTACHMENTS}
    checked = []
    if not errors:
        for upload in attachments:
            checked.append((upload, upload_check(upload=upload, kind=None)))
    if errors:
        raise ValidationError(errors)

    def mutate(t, now):
        t.arrived_at, t.feedback_at, t.feedback_by = arrived, now, actor
        t.feedback_text, t.feedback_result = text, result
        case = Case.objects.filter(dispatch_id=t.dispatch_id).first()
        for upload, check in checked:
            _evidence_save(case=case, actor=actor, upload=upload, check=check, task=t, note="任务反馈附件")

    return _transition(task=task, actor=actor, action="feedback", check=_require_task_department,
                       event_kind=TaskEvent.Kind.FEEDBACK, mutate=mutate, note=text[:200])


def task_verify(*, task: Task, actor, note: str = "") -> Task:
    """核实办结: the operations centre checks the feedback and closes the task."""
    def mutate(t, now):
        t.closed_at, t.closed_by = now, actor

    done = _transition(task=task, actor=actor, action="verify",
                       check=lambda t, a: _require_command(a, pgettext("permission", "核实办结任务")),
                       event_kind=TaskEvent.Kind.VERIFIED, mutate=mutate, note=note)
    _close_warning_if_done(done, actor=actor)
    return done


def _close_warning_if_done(task: Task, *, actor) -> None:
    """The loop closes: when every task of a warning's dispatch is verified, the warning is closed."""
    if task.warning_id is None:
        return
    with _audit_actor(actor), transaction.atomic():
        if Task.objects.filter(dispatch_id=task.dispatch_id).exclude(state=Task.State.CLOSED).exists():
            return
        warning = Warning.objects.select_for_update().filter(pk=task.warning_id).first()
        if warning is not None and warning.status == Warning.Status.DISPATCHED:
            warning.status = Warning.Status.CLOSED
            warning.save(update_fields=["status", "updated_at"])


def task_send_back(*, task: Task, actor, reason: str) -> Task:
    """退回补充: the feedback is not enough; the department continues."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写退回理由。")})
    return _transition(task=task, actor=actor, action="send_back",
                       check=lambda t, a: _require_command(a, pgettext("permission", "退回任务")),
                       event_kind=TaskEvent.Kind.SENT_BACK, note=reason)


def task_reject(*, task: Task, actor, reason: str) -> Task:
    """拒收: the department says the task is not theirs; it goes back to the operations centre."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写拒收理由。")})

    def mutate(t, now):
        t.rejected_at, t.reject_reason = now, reason

    return _transition(task=task, actor=actor, action="reject", check=_require_task_department,
                       event_kind=TaskEvent.Kind.REJECTED, mutate=mutate, note=reason)


def task_reassign(*, task: Task, actor, department: Department, note: str = "") -> Task:
    """改派: the operations centre gives a rejected, escalated or unacknowledged task to another department."""
    if department is None:
        raise ValidationError({"department": _("请选择改派的部门。")})
    if department.pk == task.department_id:
        raise ValidationError({"department": _("改派的部门不能与当前部门相同。")})
    old_department_id = task.department_id

    def mutate(t, now):
        t.department = department
        t.assigned_at = now
        t.ack_due_at = now + timedelta(minutes=t.ack_minutes)
        t.arrive_due_at = now + timedelta(minutes=t.arrive_minutes)
        t.feedback_due_at = now + timedelta(minutes=t.feedback_minutes)
        t.acknowledged_at = t.acknowledged_by = t.started_at = t.rejected_at = None
        t.reject_reason = ""
        t.escalated_for = []
        t.reassign_count += 1
        case = Case.objects.filter(dispatch_id=t.dispatch_id).first()
        if case is not None:
            case.departments.add(department)

    done = _transition(task=task, actor=actor, action="reassign",
                       check=lambda t, a: _require_command(a, pgettext("permission", "改派任务")),
                       event_kind=TaskEvent.Kind.REASSIGNED, mutate=mutate,
                       note=f"改派给{department.name}" + (f"：{note}" if note else ""),
                       push_event=events.TASK_NEW, extra_groups=[live.group_department(old_department_id)])
    with transaction.atomic():
        notices.task_assigned(task=done, title_prefix="改派任务",
                              body=f"{done.dispatch.title}。请在 {done.ack_minutes} 分钟内签收。")
    return done


# --- Escalation -------------------------------------------------------------------------------------
def task_escalate(*, task: Task, reason: str, now: datetime | None = None) -> Task | None:
    """超时升级 (system): mark an overdue task escalated, tell the department head and the operations centre.

    Returns None when the task is no longer overdue for ``reason`` (someone acted meanwhile).
    """
    from .selectors import overdue_reason

    now = now or timezone.now()
    with transaction.atomic():
        locked = Task.objects.select_for_update().select_related("department", "dispatch").get(pk=task.pk)
        if overdue_reason(task=locked, now=now) != reason or not can_proceed(locked.escalate):
            return None
        before = locked.state
        locked.escalate()
        locked.escalated_at = now
        locked.escalated_for = [*locked.escalated_for, reason]
        locked.save()
        label = "未按时签收" if reason == "ack" else "未按时反馈"
        told = notices.task_escalated(task=locked, reason=reason, label=label, centre=_operations_centre())
        TaskEvent.objects.create(task=locked, kind=TaskEvent.Kind.ESCALATED, from_state=before,
                                 to_state=locked.state, department=locked.department, note=f"{label}；{told}", at=now)
        heads = User.objects.filter(department_id=locked.department_id, role=Role.DEPT_HEAD, is_active=True)
        _push_task(locked, events.TASK_ESCALATED, [live.group_user(pk) for pk in heads.values_list("pk", flat=True)])
    return locked


def tasks_escalate_overdue(*, now: datetime | None = None) -> list[int]:
    """The beat job (every minute): escalate every overdue task once per missed deadline; returns their ids."""
    from .selectors import tasks_overdue

    now = now or timezone.now()
    escalated = []
    for task, reason in tasks_overdue(now=now):
        try:
            if task_escalate(task=task, reason=reason, now=now) is not None:
                escalated.append(task.pk)
        except Exception:  # one bad row must not stop the others
            log.exception("escalating task %s failed", task.pk)
    return escalated


# --- Cases ----------------------------------------------------------------------------------------
def case_open(*, actor, title: str, summary: str = "", departments: Iterable[Department] = ()) -> Case:
    """Open a case file without a dispatch (e.g. a seizure found in the market)."""
    _require_command(actor, pgettext("permission", "立案"))
    if not (title or "").strip():
        raise ValidationError({"title": _("请填写案件名称。")})
    with _audit_actor(actor), transaction.atomic():
        case = _case_create(title=title.strip(), actor=actor, summary=summary)
        for dept in departments:
            case.departments.add(dept)
    return case


def case_update(*, case: Case, actor, summary: str) -> Case:
    _require_case_participant(case, actor)
    with _audit_actor(actor), transaction.atomic():
        case.summary = summary
        case.save(update_fields=["summary"])
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return case


def _case_groups(case: Case) -> list[str]:
    return [live.GROUP_COMMAND] + [live.group_department(d) for d in case.departments.values_list("id", flat=True)]


def case_add_person(*, case: Case, actor, role: str, name: str, id_number: str = "", note: str = "") -> CasePerson:
    _require_case_participant(case, actor)
    errors = {}
    if role not in CasePerson.Role.values:
        errors["role"] = _("请选择涉案人员身份。")
    if not (name or "").strip():
        errors["name"] = _("请填写姓名。")
    if errors:
        raise ValidationError(errors)
    with _audit_actor(actor), transaction.atomic():
        person = CasePerson.objects.create(case=case, role=role, name=name.strip(), id_number=(id_number or "").strip(), note=note)
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return person


def case_add_vessel(*, case: Case, actor, name: str, external_id: str = "", seized: bool = False, note: str = "") -> CaseVessel:
    from apps.elements.models import Vessel

    _require_case_participant(case, actor)
    if not (name or "").strip() and not (external_id or "").strip():
        raise ValidationError({"name": _("请填写船名或 MMSI/终端号。")})
    vessel = Vessel.objects.filter(external_id=external_id.strip()).first() if external_id else None
    with _audit_actor(actor), transaction.atomic():
        row = CaseVessel.objects.create(case=case, vessel=vessel, name=(name or external_id).strip(),
                                        external_id=(external_id or "").strip(), seized=bool(seized), note=note)
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return row


def case_add_vehicle(*, case: Case, actor, plate: str, description: str = "", seized: bool = False, note: str = "") -> CaseVehicle:
    _require_case_participant(case, actor)
    if not (plate or "").strip():
        raise ValidationError({"plate": _("请填写车牌号。")})
    with _audit_actor(actor), transaction.atomic():
        row = CaseVehicle.objects.create(case=case, plate=plate.strip().upper(), description=description,
                                         seized=bool(seized), note=note)
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return row


def _evidence_save(*, case: Case | None, actor, upload, check, task: Task | None = None, note: str = "") -> Evidence:
    if case is None:
        raise ValidationError({"attachments": _("该任务没有案件，无法保存附件。")})
    evidence = Evidence(
        case=case, task=task, kind=check.kind, original_name=upload.name[:200], content_type=check.content_type,
        size_bytes=check.size_bytes, sha256=check.sha256, note=note[:200], uploaded_by=actor,
        department=getattr(actor, "department", None),
    )
    evidence.file.save(f"{check.sha256[:16]}-{timezone.now():%H%M%S%f}.{check.extension}", upload, save=False)
    evidence.save()
    return evidence


def evidence_add(*, case: Case, actor, upload, kind: str | None = None, note: str = "", task: Task | None = None) -> Evidence:
    """Add a photo, document or track snapshot to a case (checked by real content type and size)."""
    _require_case_participant(case, actor)
    if task is not None and task.dispatch_id != getattr(case, "dispatch_id", None):
        raise ValidationError({"task": _("该任务不属于本案件。")})
    check = upload_check(upload=upload, kind=kind)
    with _audit_actor(actor), transaction.atomic():
        evidence = _evidence_save(case=case, actor=actor, upload=upload, check=check, task=task, note=note)
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return evidence


# Default custodian (the department that receives and disposes) per kind of goods.
CUSTODIANS = {
    GoodsKind.TOBACCO: "tobacco",
    GoodsKind.REFINED_OIL: "commerce",
    GoodsKind.FROZEN_GOODS: "market",
    GoodsKind.SUGAR: "customs",
    GoodsKind.OTHER: "customs",
}


def _decimal(value, field: str, *, minimum: Decimal | None = Decimal("0"), maximum: Decimal | None = None,
             required: bool = True, label: str = "") -> Decimal | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError({field: _("请填写%(label)s。") % {"label": label}})
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("%(label)s必须是数字。") % {"label": label}}) from None
    if not number.is_finite():
        raise ValidationError({field: _("%(label)s必须是数字。") % {"label": label}})
    if minimum is not None and number < minimum:
        raise ValidationError({field: _("%(label)s不能小于 %(minimum)s。") % {"label": label, "minimum": minimum}})
    if maximum is not None and number > maximum:
        raise ValidationError({field: _("%(label)s不能大于 %(maximum)s。") % {"label": label, "maximum": maximum}})
    return number


def goods_add(*, case: Case, actor, kind: str, description: str, quantity, unit: str, estimated_value_yuan,
              seized_at: datetime | None = None, custodian_department: Department | None = None) -> SeizedGoods:
    """Record seized goods on a case; the custodian department joins the case for the disposal chain."""
    _require_case_participant(case, actor)
    errors = {}
    if kind not in GoodsKind.values:
        errors["kind"] = _("物品类别必须是成品油、冻品、烟草、白糖或其他。")
    if not (description or "").strip():
        errors["description"] = _("请填写品名规格。")
    if not (unit or "").strip():
        errors["unit"] = _("请填写单位。")
    try:
        qty = _decimal(quantity, "quantity", minimum=Decimal("0.001"), label=_("数量"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        value = _decimal(estimated_value_yuan, "estimated_value_yuan", label=_("估值"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if custodian_department is None:
        custodian_department = Department.objects.get(code=CUSTODIANS[GoodsKind(kind)])
    with _audit_actor(actor), transaction.atomic():
        goods = SeizedGoods.objects.create(
            case=case, kind=kind, description=description.strip(), quantity=qty, unit=unit.strip(),
            estimated_value_yuan=value, custodian_department=custodian_department,
            seized_at=seized_at or timezone.now(), created_by=actor,
        )
        case.departments.add(custodian_department)
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return goods


def disposal_next_step(*, goods: SeizedGoods) -> str | None:
    done = goods.steps.count()
    return DISPOSAL_ORDER[done] if done < len(DISPOSAL_ORDER) else None


def disposal_step_sign(*, goods: SeizedGoods, actor, step: str, site: str = "", quantity_confirmed=None,
                       method: str = "", cost_bearer: str = "", cost_yuan=None, subsidy_rate_pct=None,
                       evidence: Evidence | None = None, note: str = "") -> DisposalStep:
    """Sign the next step of the disposal chain (person + department); a step out of order is refused."""
    case = goods.case
    _require_case_participant(case, actor)
    if actor.department_id is None:
        raise ValidationError(_("签署人必须属于一个部门。"))
    if step not in DISPOSAL_ORDER:
        raise ValidationError({"step": _("未知的处置环节「%(step)s」。") % {"step": step}})
    label = DisposalStep.Step(step).label
    with _audit_actor(actor), transaction.atomic():
        goods = SeizedGoods.objects.select_for_update().get(pk=goods.pk)
        expected = disposal_next_step(goods=goods)
        if expected is None:
            raise ValidationError({"step": _("该物品的处置流程已全部完成。")})
        if step != expected:
            if goods.steps.filter(step=step).exists():
                raise ValidationError({"step": _("「%(step)s」已经签署过，下一步是「%(next)s」。") % {
                    "step": label, "next": DisposalStep.Step(expected).label}})
            raise ValidationError({"step": _("处置环节必须按顺序签署，不能跳过：请先完成「%(next)s」，再签署「%(step)s」。") % {
                "next": DisposalStep.Step(expected).label, "step": label}})
        row = DisposalStep(goods=goods, step=step, order=DISPOSAL_ORDER.index(step) + 1, signed_by=actor,
                           department=actor.department, signed_at=timezone.now(), note=(note or "").strip())
        errors = {}
        if step in (DisposalStep.Step.RECEIVING_SITE, DisposalStep.Step.STORAGE):
            if not (site or "").strip():
                errors["site"] = _("请填写指定接收场所。") if step == DisposalStep.Step.RECEIVING_SITE else _("请填写仓储地点。")
            row.site = (site or "").strip()
        elif step == DisposalStep.Step.COUNT_CONFIRM:
            try:
                row.quantity_confirmed = _decimal(quantity_confirmed, "quantity_confirmed", label=_("清点数量"))
                if row.quantity_confirmed != goods.quantity and not row.note:
                    errors["note"] = _("清点数量与查扣数量（%(quantity)s%(unit)s）不一致，请在备注中说明。") % {
                        "quantity": goods.quantity, "unit": goods.unit}
            except ValidationError as exc:
                errors.update(exc.message_dict)
        elif step == DisposalStep.Step.EVIDENCE_FIXED:
            if evidence is None or evidence.case_id != case.pk:
                errors["evidence"] = _("销毁前必须固定证据：请先上传本案的照片或文书，并选择该证据。")
            row.evidence = evidence
        elif step == DisposalStep.Step.HARMLESS_DISPOSAL:
            if not (method or "").strip():
                errors["method"] = _("请填写无害化处置方式。")
            row.method = (method or "").strip()
        elif step == DisposalStep.Step.COST_SETTLEMENT:
            if not (cost_bearer or "").strip():
                errors["cost_bearer"] = _("请填写费用承担主体。")
            row.cost_bearer = (cost_bearer or "").strip()
            for field, value, kwargs in (("cost_yuan", cost_yuan, {"label": _("处置费用")}),
                                         ("subsidy_rate_pct", subsidy_rate_pct, {"label": _("补助比例"), "maximum": Decimal("100")})):
                try:
                    setattr(row, field, _decimal(value, field, **kwargs))
                except ValidationError as exc:
                    errors.update(exc.message_dict)
        if errors:
            raise ValidationError(errors)
        row.save()
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return row


def case_close(*, case: Case, actor) -> Case:
    """结案: every task closed and every seized item's disposal chain complete."""
    _require_command(actor, pgettext("permission", "结案"))
    if case.status == Case.Status.CLOSED:
        raise ValidationError(_("案件已经结案。"))
    problems = []
    if case.dispatch_id and Task.objects.filter(dispatch_id=case.dispatch_id).exclude(state=Task.State.CLOSED).exists():
        problems.append(_("仍有未办结的任务"))
    for goods in case.goods.all():
        if disposal_next_step(goods=goods) is not None:
            problems.append(_("「%(goods)s」处置流程未完成") % {"goods": goods.description})
    if problems:
        raise ValidationError(_("不能结案：%(problems)s。") % {"problems": _("；").join(problems)})
    with _audit_actor(actor), transaction.atomic():
        case.status = Case.Status.CLOSED
        case.closed_at = timezone.now()
        case.save(update_fields=["status", "closed_at"])
        live.push(_case_groups(case), events.CASE_CHANGED, {"id": case.pk})
    return case
