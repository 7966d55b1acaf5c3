"""Warnings: the writes that create, update and withdraw them from the pipeline's events.

Split out of ``services.py`` (which re-exports these names). One warning per episode key:
``warning_upsert`` creates or updates it (and records when the platform knew the evidence:
``evidence.first_known`` with the detection delay, ``evidence.known_at`` of the latest
judgement); a kind that late data changed (a dark gap that was a stop at a pier) tells the
departments holding its tasks; ``warning_withdraw`` withdraws a warning that late data
disproved, with the reason, on the audit trail, and tells them too.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.core import live, notify

from . import events
from .models import Geofence, Warning

log = logging.getLogger(__name__)

#: evidence entries of the warning's own history that a pipeline update keeps
_KEPT_EVIDENCE = ("first_known", "kind_changed", "withdrawn")

#: why a warning was withdrawn, for people (the pipeline gives the code)
WITHDRAW_REASONS = {
    "disproved_by_late_data": gettext_noop("迟到的数据表明该事件并未发生"),
    "merged": gettext_noop("迟到的数据把它与同一对船舶的另一次会合连成一次"),
}


def warning_status_set(*, warning: Warning, status: str) -> Warning:
    """Change a warning's status (used by enforcement when it dispatches / closes the warning)."""
    if status not in Warning.Status.values:
        raise ValidationError(_("未知的预警状态：%(status)s") % {"status": status})
    if warning.status != status:
        warning.status = status
        warning.save(update_fields=["status", "updated_at"])
        _push_warning(warning, events.WARNING_UPDATED)
    return warning


@transaction.atomic
def warning_level_raise(*, warning: Warning, level: str, evidence: Mapping[str, Any]) -> Warning:
    """Raise a warning's level from outside the pipeline (a key-element link, apps/intel), with why in the evidence."""
    old_rank = Warning.LEVEL_RANK.get(warning.level, 0)
    warning.evidence = {**(warning.evidence or {}), **evidence}
    if Warning.LEVEL_RANK.get(level, 0) > old_rank:
        warning.level = level
    warning.save(update_fields=["level", "evidence", "updated_at"])
    _push_warning(warning, events.WARNING_UPDATED)
    still_open = warning.status in (Warning.Status.OPEN, Warning.Status.DISPATCHED)
    if Warning.LEVEL_RANK.get(warning.level, 0) > old_rank and still_open:
        transaction.on_commit(lambda wid=warning.pk: _dispatch_on_commit(wid))
    return warning


def warning_live_payload(warning: Warning) -> dict[str, Any]:
    return {
        "id": warning.pk,
        "kind": warning.kind,
        "kind_display": str(warning.get_kind_display()),
        "level": warning.level,
        "level_display": str(warning.get_level_display()),
        "score": round(warning.score, 1),
        "status": warning.status,
        "geofence": warning.geofence.name if warning.geofence_id and warning.geofence else None,
        "vessels": list(warning.vessels),
        "lon": warning.lon,
        "lat": warning.lat,
        "start": warning.start.isoformat(),
        "end": warning.end.isoformat(),
        "updated_at": warning.updated_at.isoformat() if warning.updated_at else None,
    }


def _push_warning(warning: Warning, event: str) -> None:
    """Full row to the operations centre; only the id and grade to every other open map page."""
    live.push(live.GROUP_COMMAND, event, warning_live_payload(warning))
    live.push(live.GROUP_MAP, event, {"id": warning.pk, "kind": warning.kind, "level": warning.level})


def _dispatch_on_commit(warning_id: int) -> None:
    """Hand the warning to enforcement; a failure there must never lose the warning."""
    try:
        from apps.enforcement.tasks import auto_dispatch_warning

        auto_dispatch_warning.delay(warning_id)
    except Exception:
        log.exception("auto dispatch of warning %s failed; the warning is kept", warning_id)


def _warning_values(event) -> dict[str, Any]:
    """Model fields of a warning from a pipeline ``WarningEvent``."""
    geofence = None
    if event.geofence_id is not None:
        geofence = (
            Geofence.objects.filter(pk=event.geofence_id).only("pk", "name", "centroid_lon", "centroid_lat").first()
        )
    lon = lat = None
    if geofence is not None:
        lon, lat = geofence.centroid_lon, geofence.centroid_lat
    elif event.fixes:
        lon, lat = event.fixes[-1].lon, event.fixes[-1].lat
    evidence = event.to_dict()
    for key in ("action", "episode_key", "vessels", "start", "end"):
        evidence.pop(key, None)
    evidence["details"] = evidence.pop("evidence", {})  # the detector's own findings (dwell, gap, captures ...)
    evidence["level_raw"] = event.level  # None when an update fell below the lowest level
    # event time of the evidence vs when the platform knew it (this judgement): the detection delay
    known = timezone.now()
    evidence["known_at"] = known.isoformat()
    evidence["evidence_end"] = event.end.isoformat()
    return {
        "kind": event.kind,
        "score": max(0.0, min(100.0, float(event.score))),
        "vessels": list(event.vessels),
        "geofence": geofence,
        "lon": lon,
        "lat": lat,
        "start": event.start,
        "end": event.end,
        "evidence": evidence,
    }


def _key_elements_collide(event):
    """The key-element registry and its links (apps/intel) raise ``watchlist``/``history`` and name the chain."""
    from apps.intel.collision import warning_event_collide

    return warning_event_collide(event)


@transaction.atomic
def warning_upsert_with_action(*, event) -> tuple[Warning, bool]:
    """:func:`warning_upsert` that also says whether the warning was created."""
    if event.kind not in Warning.Kind.values:
        raise ValidationError(_("未知的预警类型：%(kind)s") % {"kind": event.kind})
    event = _key_elements_collide(event)
    key = event.episode_key[:200]
    warning = Warning.objects.select_for_update().filter(episode_key=key).first()
    created = warning is None
    if created and event.level is None:
        raise ValidationError(_("预警事件低于最低等级，且没有可更新的预警。"))
    values = _warning_values(event)
    if created:
        warning = Warning(episode_key=key, level=event.level, **values)
        ev = warning.evidence
        ev["first_known"] = {"at": ev["known_at"], "evidence_end": ev["evidence_end"],
                             "delay_s": round((timezone.now() - event.end).total_seconds(), 1)}
        warning.save()
        _push_warning(warning, events.WARNING_NEW)
        transaction.on_commit(lambda wid=warning.pk: _dispatch_on_commit(wid))
        return warning, True
    old_rank = Warning.LEVEL_RANK.get(warning.level, 0)
    old_kind = warning.kind
    kept = {k: v for k, v in (warning.evidence or {}).items() if k in _KEPT_EVIDENCE}
    for k, v in values.items():
        setattr(warning, k, v)
    warning.evidence.update(kept)
    if event.level is not None:
        warning.level = event.level  # below the lowest level: the warning keeps its last grade
    if old_kind != warning.kind:
        warning.evidence["kind_changed"] = {"from": old_kind, "at": timezone.now().isoformat(),
                                            "late_data": (warning.evidence.get("details") or {}).get("late_data")}
    warning.save()
    _push_warning(warning, events.WARNING_UPDATED)
    if old_kind != warning.kind:
        body = _("迟到的数据改变了预警 %(key)s 的判断：%(old)s → %(new)s") % {
            "key": warning.pk, "old": Warning.Kind(old_kind).label, "new": warning.get_kind_display()}
        _tell_task_holders(warning, title=_("预警已更正"), body=body)
    escalated = Warning.LEVEL_RANK.get(warning.level, 0) > old_rank
    if escalated and warning.status in (Warning.Status.OPEN, Warning.Status.DISPATCHED):
        # enforcement adds the higher level's subtasks (its dispatch is idempotent per level)
        transaction.on_commit(lambda wid=warning.pk: _dispatch_on_commit(wid))
    return warning, False


def warning_upsert(*, event) -> Warning:
    """Create or update the warning of a pipeline ``WarningEvent`` (one warning per episode_key).

    After commit: a live push (``warning.new`` / ``warning.updated``) to the operations
    centre and the map pages, and — for a new or escalated warning — the enforcement
    module's ``auto_dispatch_warning`` task (a failure there is logged, never loses the warning).
    """
    return warning_upsert_with_action(event=event)[0]




def warning_events_apply(*, events_: Iterable, counts: dict[str, Any]) -> None:
    """The pipeline's warning events of a batch (new, update, withdraw); an event that cannot
    become a warning is logged, never fails the batch."""
    for event in events_:
        try:
            with transaction.atomic():
                if event.action == "withdraw":
                    if warning_withdraw_event(event=event) is not None:
                        counts["warnings_withdrawn"] = counts.get("warnings_withdrawn", 0) + 1
                    continue
                _unused, created = warning_upsert_with_action(event=event)
        except ValidationError as exc:
            log.warning("warning event %s not stored: %s", getattr(event, "episode_key", "?"), exc.messages)
            counts["warnings_refused"] = counts.get("warnings_refused", 0) + 1
            continue
        counts["warnings_new" if created else "warnings_updated"] += 1


def _tell_task_holders(warning: Warning, *, title: str, body: str) -> None:
    """Every department holding a task of the warning is told: a ``warning_changed`` entry on
    the task's timeline, a live push to the department and (after commit) a notification."""
    from apps.enforcement.models import Task, TaskEvent

    tasks = list(Task.objects.filter(warning=warning).select_related("department"))
    if not tasks:
        return
    now = timezone.now()
    TaskEvent.objects.bulk_create([
        TaskEvent(task=t, kind=TaskEvent.Kind.WARNING_CHANGED, from_state=t.state, to_state=t.state,
                  department_id=t.department_id, note=f"{title}：{body}", at=now)
        for t in tasks
    ])
    payload = {"id": warning.pk, "kind": warning.kind, "status": warning.status, "title": title, "body": body}
    for dept_id in sorted({t.department_id for t in tasks}):
        live.push(live.group_department(dept_id), events.WARNING_UPDATED, payload)
    for t in tasks:
        message = notify.Notification(
            recipient=f"dept:{t.department.code}", title=title, body=body, task_id=t.pk,
            key=f"warning-changed:{warning.pk}:{t.pk}:{now.isoformat()}",
        )
        transaction.on_commit(lambda m=message: notify.send(m))


@transaction.atomic
def warning_withdraw(*, warning: Warning, reason: str, detail: Mapping[str, Any] | None = None) -> Warning:
    """Withdraw a warning that is no more (``reason`` a code of :data:`WITHDRAW_REASONS`).

    The status becomes ``withdrawn`` (the audit trail records it), the reason goes into the
    evidence, the operations centre and map pages get ``warning.updated``, and every
    department holding one of its tasks is told (live push + notification).
    """
    if reason not in WITHDRAW_REASONS:
        raise ValidationError(_("未知的撤销原因：%(reason)s") % {"reason": reason})
    warning = Warning.objects.select_for_update().get(pk=warning.pk)
    if warning.status == Warning.Status.WITHDRAWN:
        return warning
    text = _(WITHDRAW_REASONS[reason])
    warning.evidence = {**(warning.evidence or {}), "withdrawn": {
        "reason": reason, "text": text, "at": timezone.now().isoformat(), "previous_status": warning.status,
        **{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in (detail or {}).items()},
    }}
    warning.status = Warning.Status.WITHDRAWN
    warning.save(update_fields=["status", "evidence", "updated_at"])
    _push_warning(warning, events.WARNING_UPDATED)
    _tell_task_holders(warning, title=_("预警已撤销"), body=_("预警 %(key)s 已撤销：%(reason)s") % {"key": warning.pk,
                                                                                               "reason": text})
    return warning


def warning_withdraw_event(*, event) -> Warning | None:
    """Apply a pipeline ``WarningEvent`` with ``action="withdraw"`` (None: no such warning)."""
    warning = Warning.objects.filter(episode_key=event.episode_key[:200]).first()
    if warning is None:
        return None
    detail = {k: v for k, v in dict(event.evidence).items() if k != "reason"}
    reason = event.evidence.get("reason", "disproved_by_late_data")
    return warning_withdraw(warning=warning, reason=reason, detail=detail)
