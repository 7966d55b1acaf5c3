"""Notification writes: channel configuration, turning a message into deliveries, sending one delivery.

Delivery is at most once per notification. A worker claims a notification under a row
lock (pending/retrying -> sending) and records an attempt before it calls the gateway, so
a redelivered Celery message (``acks_late``) finds it claimed and does nothing. If a worker
dies while sending, nobody knows whether the gateway got the message: the sweep marks it
failed with "result unknown" after ``SENDING_STALE`` rather than send it twice, and an
operator may resend it from the operations page.
"""
from __future__ import annotations

import logging
import re
import uuid
from urllib.parse import urlsplit
from dataclasses import dataclass
from datetime import datetime, timedelta

from auditlog.context import set_actor
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import notify
from apps.core.models import Department, User
from apps.core.roles import COMMAND_ROLES, Role

from . import gateways, sealing
from .models import Attempt, Channel, Notification, Route

log = logging.getLogger(__name__)

SENDING_STALE = timedelta(minutes=10)  # past the Celery hard time limit: the sender is dead
PHONE = re.compile(r"^\+?[\d\- ]{6,20}$")


def _max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 5))


def retry_delay_s(attempt: int) -> float:
    """Exponential backoff: base, 2x base, 4x base ... capped at one hour."""
    base = float(getattr(settings, "NOTIFY_RETRY_BASE_S", 30))
    return min(base * 2 ** max(attempt - 1, 0), 3600.0)


# --- Channels ----------------------------------------------------------------------------------------
def _require_channel_manager(actor, department: Department | None, user: User | None) -> None:
    if actor is None or not actor.is_authenticated:
        raise PermissionDenied(_("请先登录。"))
    if actor.role in COMMAND_ROLES or actor.is_superuser:
        return
    if department is None and user is None:
        raise PermissionDenied(_("只有作战中心可以配置全县通用通道。"))
    if actor.role == Role.DEPT_HEAD and department is not None and department.pk == actor.department_id:
        return
    if user is not None and user.pk == actor.pk:
        return
    raise PermissionDenied(_("只有作战中心或本部门负责人可以配置通知通道。"))


def _hosts_refused(values) -> list[str]:
    """Hosts of ``values`` (URLs) outside ``settings.NOTIFY_ALLOWED_HOSTS`` (empty setting: any host)."""
    allowed = {h.lower() for h in getattr(settings, "NOTIFY_ALLOWED_HOSTS", [])}
    if not allowed:
        return []
    hosts = [(urlsplit(v).hostname or "").lower() for v in values if v and v.startswith(("http://", "https://"))]
    return [h for h in hosts if h not in allowed]


def channel_check(*, channel: Channel | None, name: str, kind: str, department: Department | None,
                  options: dict | None, secrets: dict[str, str] | None) -> dict[str, str]:
    """Validate a channel's fields; returns its secrets merged with the stored ones (blank keeps a stored value)."""
    if kind not in Channel.Kind.values:
        raise ValidationError({"kind": _("不支持的通道类型。")})
    if not (name or "").strip():
        raise ValidationError({"name": _("请填写通道名称。")})
    options = options or {}
    if not isinstance(options, dict):
        raise ValidationError({"options": _("参数必须是 JSON 对象。")})
    allowed = sealing.SECRET_FIELDS[kind]
    unknown = set(secrets or {}) - set(allowed)
    if unknown:
        raise ValidationError({"secrets": _("%(kind)s 通道不接受这些保密字段：%(fields)s") % {
            "kind": Channel.Kind(kind).label, "fields": "、".join(sorted(unknown))}})
    stored = sealing.unseal(channel.secrets_sealed) if channel is not None and channel.kind == kind else {}
    merged = {**stored, **{k: str(v).strip() for k, v in (secrets or {}).items() if str(v or "").strip()}}
    missing = [f for f in sealing.REQUIRED[kind] if not merged.get(f)]
    if missing:
        raise ValidationError({"secrets": _("请填写：%(fields)s") % {"fields": "、".join(missing)}})
    for field in ("webhook", "url"):
        value = merged.get(field, "")
        if value and not value.startswith(("http://", "https://", "env:")):
            raise ValidationError({"secrets": _("%(field)s 必须是 http(s) 地址或 env:变量名。") % {"field": field}})
    refused = _hosts_refused([merged.get("webhook", ""), merged.get("url", ""), str(options.get("endpoint", ""))])
    if refused:
        raise ValidationError({"secrets": _("地址 %(hosts)s 不在允许的网关主机名单（NOTIFY_ALLOWED_HOSTS）内。") % {"hosts": "、".join(refused)}})
    if kind == Channel.Kind.EMAIL and department is not None and not options.get("to"):
        raise ValidationError({"options": _("部门邮件通道请在参数中填写收件地址 to。")})
    return merged


def channel_save(
    *, actor, channel: Channel | None = None, name: str, kind: str, department: Department | None = None,
    user: User | None = None, active: bool = True, options: dict | None = None, secrets: dict[str, str] | None = None,
) -> Channel:
    """Create or change a channel. Secrets left blank keep their stored value; they are sealed, never echoed."""
    if department is not None and user is not None:
        raise ValidationError({"user": _("通道属于一个部门或一个人，不能同时指定。")})
    _require_channel_manager(actor, department, user)
    if channel is not None:  # and may change the channel as it is now (a county-wide one: command only)
        _require_channel_manager(actor, channel.department, channel.user)
    merged = channel_check(channel=channel, name=name, kind=kind, department=department, options=options, secrets=secrets)
    options = options or {}
    with set_actor(actor), transaction.atomic():
        channel = channel or Channel()
        channel.name, channel.kind, channel.department, channel.user = name.strip(), kind, department, user
        channel.active, channel.options = active, options
        channel.secrets_sealed = sealing.seal(merged)
        channel.save()
    return channel


def channel_delete(*, actor, channel: Channel) -> None:
    _require_channel_manager(actor, channel.department, channel.user)
    if channel.department_id is None and channel.user_id is None and actor.role not in COMMAND_ROLES:
        raise PermissionDenied(_("只有作战中心可以删除全县通用通道。"))
    with set_actor(actor), transaction.atomic():
        channel.delete()


# --- Turning a message into deliveries ---------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    route: str
    channel: Channel | None
    address: str = ""
    error: str = ""


def _sms_channel(department_id: int | None) -> Channel | None:
    qs = Channel.objects.filter(active=True, kind__in=[Channel.Kind.SMS_TENCENT, Channel.Kind.SMS_HTTP], user__isnull=True)
    return (qs.filter(department_id=department_id).first() if department_id else None) or qs.filter(department__isnull=True).first()


def _sms_targets(phones, department_id: int | None) -> list[Target]:
    phones = [p.strip() for p in phones if p and p.strip()]
    if not phones:
        return []
    channel = _sms_channel(department_id)
    return [Target(Route.SMS, channel, phone, "" if channel else _("未配置短信网关。")) for phone in phones]


def _email_targets(channels, fallback: str = "") -> list[Target]:
    out = []
    for ch in channels:
        to = ch.options.get("to") or ([fallback] if fallback else [])
        out += [Target(Route.EMAIL, ch, addr) for addr in ([to] if isinstance(to, str) else to)]
    if not out and fallback:
        out.append(Target(Route.EMAIL, None, fallback))
    return out


def _owner_targets(routes, channels: list[Channel], *, phone: str, department_id: int | None, email: str = "") -> list[Target]:
    """The targets of a department's or a person's own channels (robots, email) and phone (SMS)."""
    targets: list[Target] = []
    for route in routes:
        if route == Route.ROBOT:
            targets += [Target(Route.ROBOT, ch) for ch in channels if ch.kind in (Channel.Kind.DINGTALK, Channel.Kind.WECOM)]
        elif route == Route.SMS:
            targets += _sms_targets([phone], department_id)
        elif route == Route.EMAIL:
            targets += _email_targets([ch for ch in channels if ch.kind == Channel.Kind.EMAIL], email)
    return targets


def resolve_targets(message: notify.Notification) -> tuple[list[Target], Department | None]:
    """Where a message goes: ``dept:CODE``, ``user:USERNAME`` or a phone number, through its routes.

    Routes None: a department's group robots, a person's own channels, SMS for a phone number.
    """
    recipient = message.recipient.strip()
    routes = message.channels
    active = Channel.objects.filter(active=True)
    if recipient.startswith("dept:"):
        dept = Department.objects.filter(code=recipient[5:]).first()
        if dept is None:
            return [], None
        routes = (Route.ROBOT,) if routes is None else routes
        return _owner_targets(routes, list(active.filter(department=dept)), phone=dept.phone, department_id=dept.pk), dept
    if recipient.startswith("user:"):
        user = User.objects.filter(username=recipient[5:], is_active=True).select_related("department").first()
        if user is None:
            return [], None
        mine = list(active.filter(user=user))
        routes = tuple(dict.fromkeys(ch.route for ch in mine)) if routes is None else routes
        return _owner_targets(routes, mine, phone=user.phone, department_id=user.department_id, email=user.email), user.department
    if PHONE.match(recipient):
        routes = (Route.SMS,) if routes is None else routes
        return (_sms_targets([recipient], None) if Route.SMS in routes else []), None
    return [], None


def notifications_create(*, message: notify.Notification) -> list[Notification]:
    """Record one notification per target of ``message`` and send each after commit; idempotent per ``message.key``."""
    targets, department = resolve_targets(message)
    if not targets:
        return []
    task_department_id = None
    if message.task_id:
        from apps.enforcement.models import Task

        task_department_id = Task.objects.filter(pk=message.task_id).values_list("department_id", flat=True).first()
    prefix = message.key or uuid.uuid4().hex
    now = timezone.now()
    rows = {}
    for t in targets:
        key = f"{prefix}:{t.route}:{t.channel.pk if t.channel else '-'}:{t.address}"[:200]
        rows[key] = Notification(
            key=key, route=t.route, channel=t.channel, channel_kind=t.channel.kind if t.channel else "",
            address=t.address, recipient=message.recipient[:120], department_id=task_department_id or (department.pk if department else None),
            task_id=message.task_id if task_department_id else None, level=message.level, reason=message.reason or Notification.Reason.OTHER,
            title=message.title[:200], body=message.body, link=message.link[:300],
            state=Notification.State.FAILED if t.error else Notification.State.PENDING,
            last_error=t.error,
        )
    with transaction.atomic():
        existing = set(Notification.objects.filter(key__in=list(rows)).values_list("key", flat=True))
        Notification.objects.bulk_create([n for k, n in rows.items() if k not in existing], ignore_conflicts=True)
        created = list(Notification.objects.filter(key__in=[k for k in rows if k not in existing]))
        pending = [n.pk for n in created if n.state == Notification.State.PENDING]
        transaction.on_commit(lambda: _enqueue(pending))
    for n in created:
        if n.state == Notification.State.FAILED:
            log.warning("notification %s not sent: %s", n.pk, n.last_error)
    return created


def _enqueue(ids) -> None:
    from .tasks import deliver

    for pk in ids:
        deliver.delay(pk)


# --- Sending one notification ----------------------------------------------------------------------------
def _finish(notification_id: int, number: int, **changes) -> None:
    Notification.objects.filter(pk=notification_id, state=Notification.State.SENDING, attempt_count=number).update(
        updated_at=timezone.now(), **changes)


def notification_deliver(*, notification_id: int) -> float | None:
    """Send one notification once; returns the seconds until a retry is due, or None when done.

    Idempotent: a notification that is not pending or retrying (already sent, failed, or
    being sent by another worker) is left alone.
    """
    now = timezone.now()
    with transaction.atomic():
        n = Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("channel").filter(pk=notification_id).first()
        if n is None or n.state not in (Notification.State.PENDING, Notification.State.RETRYING):
            return None
        n.attempt_count += 1
        n.state, n.sending_since, n.next_attempt_at = Notification.State.SENDING, now, None
        n.save(update_fields=["attempt_count", "state", "sending_since", "next_attempt_at", "updated_at"])
        attempt = Attempt.objects.create(notification=n, number=n.attempt_count, started_at=now, outcome=Attempt.Outcome.UNKNOWN)

    channel = n.channel
    kind = channel.kind if channel else (Channel.Kind.EMAIL if n.route == Route.EMAIL else "")
    secrets: dict[str, str] = {}
    try:
        if kind not in gateways.GATEWAYS:
            raise gateways.GatewayError(_("通道已删除或未配置。"), transient=False)
        if channel is not None and not channel.active:
            raise gateways.GatewayError(_("通道已停用。"), transient=False)
        try:
            secrets = sealing.resolve(channel.secrets_sealed) if channel else {}
        except ValidationError as exc:
            raise gateways.GatewayError("；".join(exc.messages), transient=False) from None
        refused = _hosts_refused([secrets.get("webhook", ""), secrets.get("url", ""), str((channel.options if channel else {}).get("endpoint", ""))])
        if refused:
            raise gateways.GatewayError(_("地址 %(hosts)s 不在允许的网关主机名单（NOTIFY_ALLOWED_HOSTS）内。") % {"hosts": "、".join(refused)}, transient=False)
        message = gateways.Message(title=n.title, body=n.body, link=gateways.absolute(n.link))
        receipt = gateways.GATEWAYS[kind].send(message=message, address=n.address, options=channel.options if channel else {}, secrets=secrets)
    except gateways.GatewayError as exc:
        done = timezone.now()
        retry = exc.transient and n.attempt_count < _max_attempts()
        Attempt.objects.filter(pk=attempt.pk).update(
            finished_at=done, outcome=Attempt.Outcome.RETRY if retry else Attempt.Outcome.FAILED,
            http_status=exc.http_status, gateway_code=exc.code[:60], detail=exc.detail)
        delay = retry_delay_s(n.attempt_count) if retry else None
        _finish(n.pk, n.attempt_count, state=Notification.State.RETRYING if retry else Notification.State.FAILED,
                last_error=exc.detail, next_attempt_at=done + timedelta(seconds=delay) if retry else None)
        log.warning("notification %s attempt %s %s: %s", n.pk, n.attempt_count, "will retry" if retry else "failed", exc.detail)
        return delay
    except Exception as exc:  # a bug or a bad option: final, recorded, never a secret in the text
        detail = gateways.redact(f"{type(exc).__name__}: {exc}", secrets)
        Attempt.objects.filter(pk=attempt.pk).update(finished_at=timezone.now(), outcome=Attempt.Outcome.FAILED, detail=detail)
        _finish(n.pk, n.attempt_count, state=Notification.State.FAILED, last_error=detail)
        log.error("notification %s failed: %s", n.pk, detail)
        return None
    done = timezone.now()
    Attempt.objects.filter(pk=attempt.pk).update(
        finished_at=done, outcome=Attempt.Outcome.ACCEPTED, http_status=receipt.http_status,
        gateway_code=receipt.code[:60], detail=receipt.detail[:1000])
    _finish(n.pk, n.attempt_count, state=Notification.State.ACCEPTED, accepted_at=done, last_error="")
    return None


def notifications_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Beat job: give up on sends whose worker died (result unknown), re-queue retries whose message was lost."""
    now = now or timezone.now()
    stale = list(Notification.objects.filter(state=Notification.State.SENDING, sending_since__lt=now - SENDING_STALE).values_list("pk", "attempt_count"))
    note = _("发送过程中工作进程中断，网关是否收到未知；为免重复发送未自动重发，可在通知运维页面手动重发。")
    for pk, number in stale:
        Attempt.objects.filter(notification_id=pk, number=number, finished_at__isnull=True).update(finished_at=now, detail=note)
        _finish(pk, number, state=Notification.State.FAILED, last_error=note)
    lost = list(Notification.objects.filter(
        state__in=[Notification.State.PENDING, Notification.State.RETRYING],
        updated_at__lt=now - timedelta(minutes=2),
    ).exclude(next_attempt_at__gt=now - timedelta(minutes=1)).values_list("pk", flat=True)[:500])
    _enqueue(lost)
    return {"unknown": len(stale), "requeued": len(lost)}


def notification_resend(*, notification: Notification, actor) -> Notification:
    """An operator sends a failed notification again (a new attempt on the same record)."""
    if actor is None or actor.role not in COMMAND_ROLES:
        raise PermissionDenied(_("只有作战中心可以重发通知。"))
    if notification.state != Notification.State.FAILED:
        raise ValidationError(_("只有发送失败的通知可以重发。"))
    with set_actor(actor), transaction.atomic():
        notification.state, notification.next_attempt_at = Notification.State.RETRYING, None
        notification.save(update_fields=["state", "next_attempt_at", "updated_at"])
        pk = notification.pk
        transaction.on_commit(lambda: _enqueue([pk]))
    return notification


def channels_rotate_keys() -> int:
    """Re-seal every channel's secrets with the first key (part of ``rotate_tipster_keys``)."""
    count = 0
    for ch in Channel.objects.exclude(secrets_sealed=""):
        Channel.objects.filter(pk=ch.pk).update(secrets_sealed=sealing.rotate(ch.secrets_sealed))
        count += 1
    return count
