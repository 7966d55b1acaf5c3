"""What enforcement tells people outside the platform, and through which routes (notification interface).

The dispatch plan names the routes per warning level (``DispatchPlan.channels``): the
routes a new task is announced on (red: group robot + SMS to the department's duty phone
and its heads; orange: robot; yellow / blue: the inbox only), and the routes an unanswered
task re-notifies through at its missed deadline (red: SMS). Messages name the task and the
dispatch, never a tipster: a tip's dispatch title carries no identity.
"""
from __future__ import annotations

from django.db import transaction

from apps.core import notify
from apps.core.models import Department, User
from apps.core.roles import Role
from apps.elements.models import Warning

from .models import Task, plan_routes

ROUTE_LABELS = {"robot": "工作群机器人", "sms": "短信", "email": "邮件"}


def task_link(task: Task) -> str:
    return f"/enforcement/inbox/?task={task.pk}"


def routes_label(routes) -> str:
    return "、".join(ROUTE_LABELS.get(r, r) for r in routes) or "平台收件箱"


def _send_after_commit(message: notify.Notification) -> None:
    transaction.on_commit(lambda: notify.send(message))


def where_and_who(task: Task) -> str:
    """The task's place, vessels, vehicles and warning time as one line (``subjects.subject_text``)."""
    from .subjects import subject_cards, subject_text

    return subject_text(subject_cards([task.dispatch])[task.dispatch_id])


def _heads(department_id: int) -> list[User]:
    return list(User.objects.filter(department_id=department_id, role=Role.DEPT_HEAD, is_active=True))


def task_assigned(*, task: Task, title_prefix: str = "新任务", body: str | None = None) -> None:
    """A new (or reassigned) task: the department, through the plan's routes for its level."""
    routes = tuple(plan_routes(task.dispatch.plan, task.level)["notify"])
    level_label = Warning.Level(task.level).label
    title = f"{title_prefix}（{level_label}）：{task.title}"
    body = body or f"{task.dispatch.title}。请在 {task.ack_minutes} 分钟内签收，{task.feedback_minutes} 分钟内反馈。"
    where = where_and_who(task)
    body = f"{body}\n{where}" if where else body
    key = f"task:{task.pk}:assigned:{task.reassign_count}"
    common = {"title": title, "body": body, "link": task_link(task), "level": task.level, "reason": "dispatch", "task_id": task.pk}
    _send_after_commit(notify.Notification(recipient=f"dept:{task.department.code}", channels=routes, key=f"{key}:dept", **common))
    if "sms" in routes:
        for head in _heads(task.department_id):
            _send_after_commit(notify.Notification(recipient=f"user:{head.username}", channels=("sms",), key=f"{key}:head", **common))


def task_escalated(*, task: Task, reason: str, label: str, centre: Department) -> str:
    """An overdue task: the department, its heads and the operations centre, through the plan's escalation routes.

    Returns the words for the task's timeline (e.g. "短信通知部门负责人").
    """
    routes = tuple(plan_routes(task.dispatch.plan, task.level)["escalate"])
    title = f"任务超时升级：{task.title}"
    body = f"{task.department.name}「{task.title}」{label}（{task.dispatch.title}）。"
    where = where_and_who(task)
    body = f"{body}\n{where}" if where else body
    key = f"task:{task.pk}:escalated:{reason}:{task.reassign_count}"
    common = {"title": title, "body": body, "level": task.level, "reason": "escalation", "task_id": task.pk}
    link = task_link(task)
    _send_after_commit(notify.Notification(recipient=f"dept:{task.department.code}", channels=routes, link=link, key=f"{key}:dept", **common))
    for head in _heads(task.department_id):
        _send_after_commit(notify.Notification(recipient=f"user:{head.username}", channels=routes, link=link, key=f"{key}:head", **common))
    _send_after_commit(notify.Notification(recipient=f"dept:{centre.code}", channels=("robot",), link="/enforcement/board/",
                                           key=f"{key}:centre", **common))
    return f"{routes_label(routes)}通知部门及负责人" if routes else "平台收件箱提醒"
