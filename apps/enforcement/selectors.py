"""Enforcement reads: boards, overdue tasks, case timelines, department evaluation."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Case as When_, F, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.elements.models import Warning

from .models import (
    LEVEL_RANK,
    Case,
    CasePerson,
    CaseVehicle,
    CaseVessel,
    Dispatch,
    DisposalStep,
    Evidence,
    SeizedGoods,
    Task,
    TaskEvent,
)

OPEN_STATES = [s for s in Task.State.values if s != Task.State.CLOSED]


def level_order():
    return When_(*[When(level=lvl, then=Value(rank)) for lvl, rank in LEVEL_RANK.items()], default=Value(0),
                 output_field=IntegerField())


def tasks_for_user(*, user) -> QuerySet[Task]:
    return Task.objects.visible_to(user).select_related("department", "dispatch", "dispatch__case", "dispatch__content_type")


def tasks_board(*, user, closed_since: datetime | None = None) -> QuerySet[Task]:
    """Open tasks by level (red first) and nearest deadline, then those closed since ``closed_since``."""
    closed_since = closed_since or timezone.now() - timedelta(hours=24)
    return (
        tasks_for_user(user=user)
        .filter(Q(state__in=OPEN_STATES) | Q(state=Task.State.CLOSED, closed_at__gte=closed_since))
        .annotate(level_rank=level_order(), township=F("dispatch__township"))
        .order_by("-level_rank", "ack_due_at", "id")
    )


def task_is_overdue(*, task: Task, now: datetime | None = None) -> bool:
    """Past the deadline that matters now (acknowledge while unacknowledged, then feed back); escalated ones are."""
    now = now or timezone.now()
    if task.state == Task.State.ESCALATED:
        return True
    if task.state == Task.State.NEW:
        return task.ack_due_at < now
    if task.state in (Task.State.ACKNOWLEDGED, Task.State.IN_PROGRESS):
        return task.feedback_due_at < now
    return False


def overdue_reason(*, task: Task, now: datetime) -> str | None:
    """``"ack"`` or ``"feedback"`` when a deadline has passed and was not escalated yet; else None."""
    if task.state == Task.State.NEW and task.ack_due_at < now and "ack" not in task.escalated_for:
        return "ack"
    if (
        task.state in (Task.State.ACKNOWLEDGED, Task.State.IN_PROGRESS)
        and task.feedback_due_at < now
        and "feedback" not in task.escalated_for
    ):
        return "feedback"
    return None


def tasks_overdue(*, now: datetime) -> list[tuple[Task, str]]:
    candidates = Task.objects.filter(
        Q(state=Task.State.NEW, ack_due_at__lt=now)
        | Q(state__in=[Task.State.ACKNOWLEDGED, Task.State.IN_PROGRESS], feedback_due_at__lt=now)
    ).order_by("id")
    result = []
    for task in candidates:
        reason = overdue_reason(task=task, now=now)
        if reason:
            result.append((task, reason))
    return result


def warnings_dispatchable(*, limit: int = 50) -> QuerySet[Warning]:
    """Open warnings not yet dispatched, most severe first (for the board's one-click dispatch)."""
    rank = When_(*[When(level=lvl, then=Value(r)) for lvl, r in LEVEL_RANK.items()], default=Value(0),
                 output_field=IntegerField())
    return (
        Warning.objects.filter(status=Warning.Status.OPEN)
        .exclude(dispatches__isnull=False)
        .select_related("geofence")
        .annotate(level_rank=rank)
        .order_by("-level_rank", "-start")[:limit]
    )


def dispatch_for_subject(*, subject) -> Dispatch | None:
    """The dispatch of a subject (a warning, tip, grid report...), if it was dispatched."""
    ct = ContentType.objects.get_for_model(subject)
    return Dispatch.objects.filter(content_type=ct, object_id=subject.pk).first()


def dispatch_progress(*, subject) -> dict[str, Any] | None:
    """How far a subject's tasks have come: for the tip and grid-report modules' feedback."""
    dispatch = dispatch_for_subject(subject=subject)
    if dispatch is None:
        return None
    tasks = list(dispatch.tasks.all())
    return {
        "dispatch_id": dispatch.pk,
        "level": dispatch.level,
        "tasks": len(tasks),
        "closed": sum(t.state == Task.State.CLOSED for t in tasks),
        "results": sorted({t.feedback_result for t in tasks if t.feedback_result}),
        "all_closed": bool(tasks) and all(t.state == Task.State.CLOSED for t in tasks),
    }


def cases_for_user(*, user) -> QuerySet[Case]:
    return Case.objects.visible_to(user).select_related("dispatch", "warning").prefetch_related("departments")


def case_timeline(*, case: Case) -> list[dict[str, Any]]:
    """The case's story in time order: the warning, the dispatch, every task event and every audited case record."""
    items: list[dict[str, Any]] = []
    if case.warning_id:
        w = case.warning
        items.append({"at": w.created_at, "source": "warning", "title": _("产生预警：%(warning)s") % {"warning": w},
                      "actor": _("系统"), "note": ""})
    if case.dispatch_id:
        d = case.dispatch
        items.append({"at": d.created_at, "source": "dispatch",
                      "title": _("%(how)s（%(level)s）") % {
                          "how": _("自动派发") if d.auto else _("一键联动派发"), "level": d.get_level_display()},
                      "actor": str(d.created_by) if d.created_by_id else _("系统"), "note": d.note})
        for ev in TaskEvent.objects.filter(task__dispatch_id=case.dispatch_id).select_related("task", "actor", "department", "task__department"):
            who = str(ev.actor) if ev.actor_id else _("系统")
            items.append({"at": ev.at, "source": "task",
                          "title": _("%(department)s·%(task)s：%(event)s") % {
                              "department": ev.task.department.name, "task": ev.task.title, "event": ev.get_kind_display()},
                          "actor": _("%(actor)s（%(department)s）") % {"actor": who, "department": ev.department.name}
                          if ev.department_id and ev.actor_id else who,
                          "note": ev.note})
    # Audited records of the case file itself (creations and changes), from the audit trail.
    related: list[tuple[type, list[int]]] = [
        (Case, [case.pk]),
        (SeizedGoods, list(case.goods.values_list("id", flat=True))),
        (DisposalStep, list(DisposalStep.objects.filter(goods__case=case).values_list("id", flat=True))),
        (Evidence, list(case.evidence.values_list("id", flat=True))),
        (CasePerson, list(case.people.values_list("id", flat=True))),
        (CaseVessel, list(case.vessels.values_list("id", flat=True))),
        (CaseVehicle, list(case.vehicles.values_list("id", flat=True))),
    ]
    verbs = {
        LogEntry.Action.CREATE: pgettext("case timeline", "新增"),
        LogEntry.Action.UPDATE: pgettext("case timeline", "修改"),
        LogEntry.Action.DELETE: pgettext("case timeline", "删除"),
    }
    for model, ids in related:
        if not ids:
            continue
        ct = ContentType.objects.get_for_model(model)
        entries = LogEntry.objects.filter(content_type=ct, object_pk__in=[str(i) for i in ids],
                                          action__in=list(verbs)).select_related("actor")
        for e in entries:
            if model is Case and e.action == LogEntry.Action.UPDATE and set(e.changes_dict) <= {"summary"}:
                title = _("修改简要案情")
            else:
                title = _("%(verb)s%(model)s：%(object)s") % {"verb": verbs[e.action], "model": model._meta.verbose_name, "object": e.object_repr}
            items.append({"at": e.timestamp, "source": "audit", "title": title,
                          "actor": str(e.actor) if e.actor_id else _("系统"), "note": ""})
    items.sort(key=lambda i: i["at"])
    return items


def department_performance(*, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """Per department: tasks, mean minutes to acknowledge, on-time rates, feedback completeness, escalations.

    For the cockpit's department evaluation. Rates are 0..1 (None where nothing to rate).
    A feedback is complete when it has a result, an arrival time, text of at least 10
    characters and at least one attachment.
    """
    qs = Task.objects.select_related("department")
    if since:
        qs = qs.filter(assigned_at__gte=since)
    if until:
        qs = qs.filter(assigned_at__lt=until)
    attachment_counts: dict[int, int] = {}
    for task_id in Evidence.objects.filter(task__in=qs).values_list("task_id", flat=True):
        attachment_counts[task_id] = attachment_counts.get(task_id, 0) + 1
    rows: dict[int, dict[str, Any]] = {}
    for t in qs:
        r = rows.setdefault(t.department_id, {
            "department_id": t.department_id, "department": t.department.name, "tasks": 0, "acknowledged": 0,
            "_ack_minutes": [], "ack_on_time": 0, "arrived": 0, "arrive_on_time": 0, "feedback": 0,
            "feedback_on_time": 0, "feedback_complete": 0, "closed": 0, "escalations": 0, "rejected": 0,
        })
        r["tasks"] += 1
        if t.acknowledged_at:
            r["acknowledged"] += 1
            r["_ack_minutes"].append((t.acknowledged_at - t.assigned_at).total_seconds() / 60)
            r["ack_on_time"] += t.acknowledged_at <= t.ack_due_at
        if t.arrived_at:
            r["arrived"] += 1
            r["arrive_on_time"] += t.arrived_at <= t.arrive_due_at
        if t.feedback_at:
            r["feedback"] += 1
            r["feedback_on_time"] += t.feedback_at <= t.feedback_due_at
            r["feedback_complete"] += bool(
                t.feedback_result and t.arrived_at and len(t.feedback_text.strip()) >= 10 and attachment_counts.get(t.pk)
            )
        r["closed"] += t.state == Task.State.CLOSED
        r["escalations"] += len(t.escalated_for)
        r["rejected"] += t.state == Task.State.REJECTED
    result = []
    for r in rows.values():
        mins = r.pop("_ack_minutes")
        r["mean_ack_minutes"] = round(sum(mins) / len(mins), 1) if mins else None
        r["ack_on_time_rate"] = round(r["ack_on_time"] / r["tasks"], 3) if r["tasks"] else None
        r["arrive_on_time_rate"] = round(r["arrive_on_time"] / r["arrived"], 3) if r["arrived"] else None
        r["feedback_on_time_rate"] = round(r["feedback_on_time"] / r["tasks"], 3) if r["tasks"] else None
        r["feedback_completeness"] = round(r["feedback_complete"] / r["feedback"], 3) if r["feedback"] else None
        result.append(r)
    return sorted(result, key=lambda r: r["department_id"])
