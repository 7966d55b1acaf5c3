"""Public participation writes: tips, the thread, triage, identity reads, rewards, bulletins.

Every function validates first and raises ``ValidationError`` (Chinese) or ``PermissionDenied``;
writes are atomic; live pushes go out after commit and never carry the tipster's identity.
"""
from __future__ import annotations

import json
import re
import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import live
from apps.core.audit import record_access
from apps.core.roles import COMMAND_ROLES, Role

from . import crypto, events, protection
from .models import Bulletin, IdentityRead, Reward, RewardRule, Tip, TipAttachment, TipMessage
from .uploads import MAX_FILES, CleanFile

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed without doubt
CUSTODIAN_GROUP = "举报人信息保管员"
IDENTITY_PERMISSION = "reporting.view_tipster_identity"
DESCRIPTION_MIN, DESCRIPTION_MAX = 5, 2000
MESSAGE_MAX = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- helpers -------------------------------------------------------------------------------
def _text(value, *, field: str, max_len: int, min_len: int = 0, required: bool = False, multiline: bool = False) -> str:
    text = _CONTROL.sub("", str(value or ""))
    if not multiline:
        text = text.replace("\r", " ").replace("\n", " ")
    text = text.strip()
    if required and not text:
        raise ValidationError({field: _("此项必填。")})
    if text and len(text) < min_len:
        raise ValidationError({field: _("至少填写 %(n)s 个字。") % {"n": min_len}})
    if len(text) > max_len:
        raise ValidationError({field: _("不能超过 %(n)s 个字（现有 %(count)s 个）。") % {"n": max_len, "count": len(text)}})
    return text


def _require_command(actor) -> None:
    if not (actor and actor.is_authenticated and actor.role in COMMAND_ROLES):
        raise PermissionDenied(_("只有联合作战中心（指挥长、值班员）可以办理群众举报。"))


def _push(event: str, payload: dict) -> None:
    live.push(live.GROUP_COMMAND, event, payload)


def _group(n: int) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _unused in range(n))


def normalise_code(code: str) -> str:
    raw = re.sub(r"[^0-9A-Za-z]", "", str(code or ""))[:20].upper()
    if raw.startswith("XS"):
        raw = raw[2:]
    return f"XS-{raw[:4]}-{raw[4:8]}" if len(raw) == 8 else ""


def normalise_secret(secret: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", str(secret or ""))[:64].upper()


@lru_cache(maxsize=1)
def _county_area():
    """The county polygon widened by ~10 km of sea (WGS84); a bounding box if the file is missing."""
    from shapely.geometry import box, shape
    from shapely.prepared import prep

    path = Path(settings.BASE_DIR) / "geodata" / "xiangshan_county_wgs84.geojson"
    try:
        features = json.loads(path.read_text())["features"]
        area = shape(features[0]["geometry"]).buffer(0.1)
    except (OSError, KeyError, IndexError, ValueError):
        area = box(121.4, 28.7, 122.45, 29.8)
    return prep(area)


def _location(lon, lat) -> tuple[float | None, float | None]:
    if lon in (None, "") and lat in (None, ""):
        return None, None
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise ValidationError({"location": _("地图位置无效，请重新在地图上点选。")}) from None
    from shapely.geometry import Point

    if not (-180 <= lon_f <= 180 and -90 <= lat_f <= 90) or not _county_area().contains(Point(lon_f, lat_f)):
        raise ValidationError({"location": _("所选位置不在象山县范围内，请在地图上重新点选或用文字描述。")})
    return round(lon_f, 6), round(lat_f, 6)


# --- tips from the public -------------------------------------------------------------------
@dataclass(frozen=True)
class TipReceipt:
    tip: Tip
    code: str
    secret: str  # shown once to the tipster; only its hash is stored


def tip_submit(
    *,
    category: str,
    description: str,
    place_text: str = "",
    lon: float | str | None = None,
    lat: float | str | None = None,
    seen_at: datetime | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    files: list[CleanFile] = (),
) -> TipReceipt:
    """Store a tip from the public with its (already cleaned) files; return its code and secret."""
    if category not in Tip.Category.values:
        raise ValidationError({"category": _("请选择看到的情况类别。")})
    description = _text(description, field="description", max_len=DESCRIPTION_MAX, min_len=DESCRIPTION_MIN, required=True, multiline=True)
    place_text = _text(place_text, field="place_text", max_len=200)
    lon_f, lat_f = _location(lon, lat)
    if lon_f is None and not place_text:
        raise ValidationError({"location": _("请在地图上点选位置，或用文字描述地点。")})
    now = timezone.now()
    if seen_at is not None:
        if seen_at > now + timedelta(hours=1):
            raise ValidationError({"seen_at": _("发现时间不能晚于现在。")})
        if seen_at < now - timedelta(days=366):
            raise ValidationError({"seen_at": _("发现时间不能早于一年前。")})
    contact_name = _text(contact_name, field="contact_name", max_len=40)
    contact_phone = _text(contact_phone, field="contact_phone", max_len=60)
    files = list(files)
    if len(files) > MAX_FILES:
        raise ValidationError({"files": _("最多上传 %(n)s 个文件。") % {"n": MAX_FILES}})

    secret = "-".join(_group(4) for _unused in range(5))
    level = Tip.Level.ORANGE if category in (Tip.Category.BOAT_UNLOADING, Tip.Category.TRUCKS_AT_PIER) else Tip.Level.YELLOW
    written: list[str] = []
    try:
        with transaction.atomic():
            for _unused in range(20):
                code = f"XS-{_group(4)}-{_group(4)}"
                if not Tip.objects.filter(code=code).exists():
                    break
            has_contact = bool(contact_name or contact_phone)
            tip = Tip.objects.create(
                code=code,
                secret_hash=make_password(normalise_secret(secret)),
                category=category,
                description=description,
                place_text=place_text,
                lon=lon_f,
                lat=lat_f,
                seen_at=seen_at,
                level=level,
                has_contact=has_contact,
                contact_ciphertext=crypto.seal({"name": contact_name, "phone": contact_phone}) if has_contact else "",
            )
            for clean in files:
                attachment = TipAttachment(tip=tip, kind=clean.kind, content_type=clean.content_type, size_bytes=len(clean.data), sha256=clean.sha256)
                attachment.file.save(f"{secrets.token_hex(16)}.{clean.extension}", ContentFile(clean.data), save=False)
                written.append(attachment.file.name)
                attachment.save()
            _push(events.TIP_NEW, {"id": tip.pk, "code": tip.code, "category": tip.category, "level": tip.level})
    except BaseException:
        for name in written:  # nothing of a failed submission stays on disk
            TipAttachment.file.field.storage.delete(name)
        raise
    return TipReceipt(tip=tip, code=code, secret=secret)


class AccessRefused(ValidationError):
    """A wrong code/secret, or a locked code: one message for all, so nothing is learnt by guessing."""


def tip_authenticate(*, code: str, secret: str) -> Tip:
    """The tip whose code and secret these are; ``AccessRefused`` (Chinese) otherwise or when locked."""
    code_n, secret_n = normalise_code(code), normalise_secret(secret)
    if code_n and protection.code_locked(code=code_n):
        raise AccessRefused(_("该举报编码连续验证失败次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": protection.LOCK_S // 60}, code="locked")
    tip = Tip.objects.filter(code=code_n).first() if code_n else None
    if tip is None:
        make_password(secret_n or "x")  # the same work as a real check: no timing hint that the code exists
        ok = False
    else:
        ok = bool(secret_n) and check_password(secret_n, tip.secret_hash)
    if not ok:
        if code_n:
            protection.code_failure_record(code=code_n)
        raise AccessRefused(_("举报编码或查询密钥不正确。"), code="wrong")
    protection.code_failures_clear(code=code_n)
    return tip


def tip_message_post_by_tipster(*, tip: Tip, body: str) -> TipMessage:
    body = _text(body, field="body", max_len=MESSAGE_MAX, required=True, multiline=True)
    if tip.state == Tip.State.CLOSED:
        raise ValidationError({"body": _("该举报已办结，如有新情况请提交新的举报。")})
    message = TipMessage.objects.create(tip=tip, author=TipMessage.Author.TIPSTER, body=body)
    _push(events.TIP_MESSAGE, {"id": tip.pk, "code": tip.code})
    return message


# --- handling by the operations centre --------------------------------------------------------
def tip_reply(*, tip: Tip, actor, body: str) -> TipMessage:
    """A handler's message to the tipster (shown on the status page under "办理人员", no name)."""
    _require_command(actor)
    body = _text(body, field="body", max_len=MESSAGE_MAX, required=True, multiline=True)
    message = TipMessage.objects.create(tip=tip, author=TipMessage.Author.HANDLER, handler=actor, body=body)
    _push(events.TIP_CHANGED, {"id": tip.pk, "code": tip.code, "state": tip.state})
    return message


TRIAGE_OUTCOMES = {"duplicate": "mark_duplicate", "false": "mark_false", "useful": "mark_useful"}


@transaction.atomic
def tip_triage(*, tip: Tip, actor, outcome: str, note: str = "", level: str | None = None, duplicate_of_code: str = "") -> Tip:
    """Judge a new tip: duplicate (of another tip's code), false, or useful (with a level)."""
    _require_command(actor)
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    if outcome not in TRIAGE_OUTCOMES:
        raise ValidationError({"outcome": _("请选择研判结果：重复、不实或有效。")})
    if tip.state != Tip.State.NEW:
        raise ValidationError(_("该举报已研判（%(state)s），不能再次研判。") % {"state": tip.get_state_display()})
    if level:
        if level not in Tip.Level.values:
            raise ValidationError({"level": _("等级无效。")})
        tip.level = level
    if outcome == "duplicate":
        original = Tip.objects.filter(code=normalise_code(duplicate_of_code)).exclude(pk=tip.pk).first()
        if original is None:
            raise ValidationError({"duplicate_of": _("请填写与之重复的原举报编码。")})
        tip.duplicate_of = original
    tip.triage_note = _text(note, field="note", max_len=500)
    getattr(tip, TRIAGE_OUTCOMES[outcome])()
    tip.triage_outcome = outcome
    tip.triaged_by, tip.triaged_at = actor, timezone.now()
    tip.save()
    _push(events.TIP_CHANGED, {"id": tip.pk, "code": tip.code, "state": tip.state})
    return tip


@transaction.atomic
def tip_link(*, tip: Tip, actor, warning_id: int | None = None, case_id: int | str | None = None) -> Tip:
    """Link a tip to a warning and/or an enforcement case (empty values leave a link as it is)."""
    _require_command(actor)
    from apps.elements.models import Warning

    tip = Tip.objects.select_for_update().get(pk=tip.pk)

    if warning_id not in (None, ""):
        warning = Warning.objects.filter(pk=_int(warning_id, "warning")).first()
        if warning is None:
            raise ValidationError({"warning": _("预警 #%(id)s 不存在。") % {"id": warning_id}})
        tip.warning = warning
    if case_id not in (None, ""):
        from apps.enforcement.models import Case

        case = Case.objects.filter(pk=_int(case_id, "case")).first()
        if case is None:
            raise ValidationError({"case": _("案件 #%(id)s 不存在。") % {"id": case_id}})
        tip.case = case
    tip.save()
    _push(events.TIP_CHANGED, {"id": tip.pk, "code": tip.code, "state": tip.state})
    return tip


def _int(value, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("编号必须是数字。")}) from None


@transaction.atomic
def tip_dispatch(*, tip: Tip, actor, level: str | None = None, note: str = "") -> Tip:
    """Send a useful tip to the departments through enforcement's one-click dispatch."""
    _require_command(actor)
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    if tip.state != Tip.State.USEFUL:
        raise ValidationError(_("只有研判为有效的举报才能派发。"))
    from apps.enforcement.models import Case
    from apps.enforcement.services import dispatch_subject

    if level:
        if level not in Tip.Level.values:
            raise ValidationError({"level": _("等级无效。")})
        tip.level = level
        tip.save(update_fields=["level", "updated_at"])
    dispatch = dispatch_subject(subject=tip, actor=actor, level=level, note=_text(note, field="note", max_len=500))
    tip.dispatch = dispatch
    tip.case = tip.case or Case.objects.filter(dispatch=dispatch).first()  # the case file enforcement opened
    tip.mark_dispatched()
    tip.save()
    _push(events.TIP_CHANGED, {"id": tip.pk, "code": tip.code, "state": tip.state})
    return tip


@transaction.atomic
def tip_close(*, tip: Tip, actor, note: str = "") -> Tip:
    _require_command(actor)
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    if tip.state in (Tip.State.NEW, Tip.State.CLOSED):
        raise ValidationError(_("待研判或已办结的举报不能办结。"))
    if note:
        tip.triage_note = _text(note, field="note", max_len=500)
    tip.close()
    tip.save()
    _push(events.TIP_CHANGED, {"id": tip.pk, "code": tip.code, "state": tip.state})
    return tip


# --- the tipster's identity ---------------------------------------------------------------------
def custodian_group_ensure() -> Group:
    """The "举报人信息保管员" group holding ``reporting.view_tipster_identity`` (idempotent)."""
    group, _unused = Group.objects.get_or_create(name=CUSTODIAN_GROUP)
    perm = Permission.objects.get(content_type__app_label="reporting", codename="view_tipster_identity")
    group.permissions.add(perm)
    return group


def tip_identity_read(*, tip: Tip, actor, reason: str) -> dict[str, str]:
    """The tipster's contact, for a holder of the designated permission; every read is audited."""
    if not (actor and actor.is_authenticated and actor.is_active and actor.has_perm(IDENTITY_PERMISSION)):
        raise PermissionDenied(_("只有举报人信息保管员可以查看举报人联系方式。"))
    reason = _text(reason, field="reason", max_len=200, min_len=2, required=True)
    with transaction.atomic(), _audited_as(actor):
        IdentityRead.objects.create(tip=tip, reader=actor, field="contact", reason=reason)
        record_access(tip)  # the auditlog ACCESS entry: who and from where
    if not tip.has_contact:
        return {"name": "", "phone": ""}
    return crypto.unseal(tip.contact_ciphertext)


@contextmanager
def _audited_as(actor):
    """Audit entries inside name ``actor`` (the address still comes from the request's audit context)."""
    from auditlog.context import auditlog_value, set_actor

    try:
        context = auditlog_value.get()
    except LookupError:
        context = None
    if context is None:
        with set_actor(actor):
            yield
        return
    if context.get("actor") is None:  # e.g. an API client authenticated after the audit middleware ran
        context["actor"] = actor
    yield


def tip_contacts_rotate() -> int:
    """Re-encrypt every stored identity with the first key of ``TIPSTER_KEYS``; returns the count."""
    count = 0
    with transaction.atomic():
        for tip in Tip.objects.select_for_update().exclude(contact_ciphertext=""):
            tip.contact_ciphertext = crypto.rotate(tip.contact_ciphertext)
            tip.save(update_fields=["contact_ciphertext"])
            count += 1
        for reward in Reward.objects.select_for_update().exclude(payee_ciphertext=""):
            reward.payee_ciphertext = crypto.rotate(reward.payee_ciphertext)
            reward.save(update_fields=["payee_ciphertext"])
            count += 1
    return count


# --- rewards ----------------------------------------------------------------------------------
def _money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: _("金额格式不正确。")}) from None
    if amount < 0 or amount > Decimal("100000000"):
        raise ValidationError({field: _("金额超出范围。")})
    return amount


def reward_rule_save(
    *,
    actor,
    name: str,
    kind: str,
    outcome: str,
    amount_min_yuan,
    amount_max_yuan,
    goods_value_min_yuan=0,
    goods_value_max_yuan=None,
    campaign_start=None,
    campaign_end=None,
    description: str = "",
    active: bool = True,
) -> RewardRule:
    """Create or update (by name) a reward rule. Commander only."""
    if not (actor and actor.is_authenticated and actor.role == Role.COMMANDER):
        raise PermissionDenied(_("只有指挥长可以设定举报奖励规则。"))
    if kind not in RewardRule.Kind.values or outcome not in RewardRule.Outcome.values:
        raise ValidationError(_("奖励规则的类别或结果无效。"))
    low, high = _money(amount_min_yuan, "amount_min_yuan"), _money(amount_max_yuan, "amount_max_yuan")
    if low > high:
        raise ValidationError({"amount_max_yuan": _("奖励上限不能低于下限。")})
    g_low = _money(goods_value_min_yuan or 0, "goods_value_min_yuan")
    g_high = None if goods_value_max_yuan in (None, "") else _money(goods_value_max_yuan, "goods_value_max_yuan")
    if g_high is not None and g_high < g_low:
        raise ValidationError({"goods_value_max_yuan": _("案值上限不能低于下限。")})
    if kind == RewardRule.Kind.CAMPAIGN and not (campaign_start and campaign_end and campaign_start <= campaign_end):
        raise ValidationError({"campaign_end": _("专项奖励须设定起止日期。")})
    rule, _unused = RewardRule.objects.update_or_create(
        name=_text(name, field="name", max_len=100, required=True),
        defaults=dict(
            kind=kind, outcome=outcome, amount_min_yuan=low, amount_max_yuan=high, goods_value_min_yuan=g_low,
            goods_value_max_yuan=g_high, campaign_start=campaign_start if kind == RewardRule.Kind.CAMPAIGN else None,
            campaign_end=campaign_end if kind == RewardRule.Kind.CAMPAIGN else None,
            description=_text(description, field="description", max_len=2000, multiline=True), active=active,
        ),
    )
    return rule


@transaction.atomic
def reward_propose(*, tip: Tip, actor, rule: RewardRule, outcome: str, amount_yuan, goods_value_yuan=0, reason: str = "") -> Reward:
    """Propose a reward for a useful tip under ``rule``; the amount must be inside the rule's range."""
    _require_command(actor)
    tip = Tip.objects.select_for_update().get(pk=tip.pk)
    if tip.triage_outcome != "useful":
        raise ValidationError(_("只有经研判有效的举报才能申请奖励。"))
    if tip.rewards.exclude(state=Reward.State.REJECTED).exists():
        raise ValidationError(_("该举报已有奖励记录。"))
    if not rule.active:
        raise ValidationError({"rule": _("该奖励规则已停用。")})
    if outcome != rule.outcome:
        raise ValidationError({"outcome": _("该规则只适用于「%(outcome)s」。") % {"outcome": rule.get_outcome_display()}})
    amount, goods = _money(amount_yuan, "amount_yuan"), _money(goods_value_yuan or 0, "goods_value_yuan")
    if goods < rule.goods_value_min_yuan or (rule.goods_value_max_yuan is not None and goods > rule.goods_value_max_yuan):
        raise ValidationError({"goods_value_yuan": _("案值不在该规则的适用范围内。")})
    if not (rule.amount_min_yuan <= amount <= rule.amount_max_yuan):
        raise ValidationError({"amount_yuan": _("奖励金额须在 %(min)s 至 %(max)s 元之间。") % {"min": rule.amount_min_yuan, "max": rule.amount_max_yuan}})
    if rule.kind == RewardRule.Kind.CAMPAIGN:
        day = timezone.localdate(tip.created_at)
        if not (rule.campaign_start <= day <= rule.campaign_end):
            raise ValidationError({"rule": _("该举报不在专项奖励活动期间内。")})
    reward = Reward.objects.create(
        tip=tip, rule=rule, outcome=outcome, amount_yuan=amount, goods_value_yuan=goods,
        reason=_text(reason, field="reason", max_len=500), proposed_by=actor,
    )
    _push(events.REWARD_CHANGED, {"id": reward.pk, "tip": tip.pk, "state": reward.state})
    return reward


@transaction.atomic
def reward_approve(*, reward: Reward, actor) -> Reward:
    """The commander approves a proposed reward; the approver must not be the proposer."""
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if not (actor and actor.is_authenticated and actor.role == Role.COMMANDER):
        raise PermissionDenied(_("只有指挥长可以审批举报奖励。"))
    if actor.pk == reward.proposed_by_id:
        raise ValidationError(_("审批人不能与提议人为同一人。"))
    if reward.state != Reward.State.PROPOSED:
        raise ValidationError(_("只有待审批的奖励可以审批。"))
    reward.approve()
    reward.approved_by = actor
    reward.save()
    _push(events.REWARD_CHANGED, {"id": reward.pk, "tip": reward.tip_id, "state": reward.state})
    return reward


@transaction.atomic
def reward_reject(*, reward: Reward, actor, reason: str = "") -> Reward:
    reward = Reward.objects.select_for_update().get(pk=reward.pk)
    if not (actor and actor.is_authenticated and actor.role == Role.COMMANDER):
        raise PermissionDenied(_("只有指挥长可以审批举报奖励。"))
    if reward.state != Reward.State.PROPOSED:
        raise ValidationError(_("只有待审批的奖励可以驳回。"))
    reward.reject()
    reward.approved_by = actor
    if reason:
        reward.reason = _text(f"{reward.reason}（驳回：{reason}）", field="reason", max_len=500)
    reward.save()
    return reward


@transaction.atomic
def reward_claim(*, tip: Tip, reward_id: int, method: str, payee_name: str = "", payee_account: str = "") -> Reward:
    """The tipster (authenticated by code + secret) claims an approved reward; anonymous by default."""
    reward = Reward.objects.select_for_update().filter(pk=reward_id, tip=tip).first()
    if reward is None or reward.state != Reward.State.APPROVED:
        raise ValidationError(_("没有可领取的奖励。"))
    if reward.claimed_at:
        raise ValidationError(_("该奖励已申请领取，请等待发放。"))
    if method not in Reward.ClaimMethod.values:
        raise ValidationError({"method": _("请选择领取方式。")})
    reward.claim_method, reward.claimed_at = method, timezone.now()
    if method == Reward.ClaimMethod.REVEAL_NAME:
        name = _text(payee_name, field="payee_name", max_len=40, required=True)
        account = _text(payee_account, field="payee_account", max_len=80, required=True)
        reward.payee_ciphertext = crypto.seal({"name": name, "account": account})
    reward.save()
    _push(events.REWARD_CHANGED, {"id": reward.pk, "tip": tip.pk, "state": reward.state})
    return reward


@transaction.atomic
def reward_pay(*, reward: Reward, actor, payment_reference: str) -> Reward:
    """Record payment of an approved, claimed reward — to the tip code, never to a name on file."""
    _require_command(actor)
    reward = Reward.objects.select_for_update().select_related("tip").get(pk=reward.pk)
    if reward.state != Reward.State.APPROVED:
        raise ValidationError(_("只有已审批的奖励可以发放。"))
    if not reward.claimed_at:
        raise ValidationError(_("举报人尚未凭举报编码申请领取。"))
    reward.payment_reference = _text(payment_reference, field="payment_reference", max_len=80, required=True)
    reward.paid_to_code = reward.tip.code
    reward.paid_by = actor
    reward.pay()
    reward.save()
    _push(events.REWARD_CHANGED, {"id": reward.pk, "tip": reward.tip_id, "state": reward.state})
    return reward


# --- education and bulletins ----------------------------------------------------------------------
def _bulletin_fields(*, kind: str, title: str, summary: str, body: str, source: str) -> dict:
    if kind not in Bulletin.Kind.values:
        raise ValidationError({"kind": _("请选择栏目。")})
    return dict(
        kind=kind,
        title=_text(title, field="title", max_len=120, min_len=2, required=True),
        summary=_text(summary, field="summary", max_len=300),
        body=_text(body, field="body", max_len=20000, min_len=5, required=True, multiline=True),
        source=_text(source, field="source", max_len=120),
    )


def bulletin_create(*, actor, kind: str, title: str, body: str, summary: str = "", source: str = "") -> Bulletin:
    """Draft a bulletin (command roles)."""
    _require_command(actor)
    return Bulletin.objects.create(author=actor, **_bulletin_fields(kind=kind, title=title, summary=summary, body=body, source=source))


def bulletin_update(*, bulletin: Bulletin, actor, kind: str, title: str, body: str, summary: str = "", source: str = "") -> Bulletin:
    _require_command(actor)
    for field, value in _bulletin_fields(kind=kind, title=title, summary=summary, body=body, source=source).items():
        setattr(bulletin, field, value)
    bulletin.save()
    return bulletin


@transaction.atomic
def bulletin_publish(*, bulletin: Bulletin, actor) -> Bulletin:
    _require_command(actor)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.state == Bulletin.State.PUBLISHED:
        raise ValidationError(_("该内容已发布。"))
    bulletin.publish()
    bulletin.published_by = actor
    bulletin.save()
    return bulletin


@transaction.atomic
def bulletin_withdraw(*, bulletin: Bulletin, actor) -> Bulletin:
    _require_command(actor)
    bulletin = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
    if bulletin.state != Bulletin.State.PUBLISHED:
        raise ValidationError(_("只有已发布的内容可以撤回。"))
    bulletin.withdraw()
    bulletin.save()
    return bulletin
