"""Outbound notification channels, and every notification sent through them as data.

A :class:`Channel` is one gateway account or endpoint (a department's DingTalk or WeCom
group robot, the county's SMS account, an email list), configured per department or per
user. Its secrets (webhook tokens, signing secrets, SMS keys) are sealed with the
platform's MultiFernet keys (``settings.TIPSTER_KEYS``, as tipster identities) or named as
``env:VARIABLE``; they are never shown again after saving and never logged.

A :class:`Notification` is one message to one route and address, with its
:class:`Attempt` rows: each attempt says whether the gateway accepted it, or its error.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Route(models.TextChoices):
    """How a message reaches people; dispatch plans name routes per warning level."""

    INBOX = "inbox", _("平台收件箱")
    ROBOT = "robot", _("工作群机器人")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


# the order in which an unanswered task climbs from channel to channel
ROUTE_LADDER = [Route.INBOX, Route.ROBOT, Route.SMS]


class ChannelQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The operations centre and audit see every channel; others their department's, the county's and their own."""
        if user.reads_everything:
            return self
        return self.filter(Q(department_id=user.department_id, department__isnull=False) | Q(user=user)
                           | Q(department__isnull=True, user__isnull=True))


class Channel(models.Model):
    class Kind(models.TextChoices):
        DINGTALK = "dingtalk", _("钉钉/浙政钉群机器人")
        WECOM = "wecom", _("企业微信群机器人")
        SMS_TENCENT = "sms_tencent", _("腾讯云短信")
        SMS_HTTP = "sms_http", _("自建短信网关（HTTP）")
        EMAIL = "email", _("电子邮件")

    ROUTES = {
        Kind.DINGTALK: Route.ROBOT,
        Kind.WECOM: Route.ROBOT,
        Kind.SMS_TENCENT: Route.SMS,
        Kind.SMS_HTTP: Route.SMS,
        Kind.EMAIL: Route.EMAIL,
    }

    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="notify_channels", help_text=_("留空且未指定人员：全县通用（如短信账号）"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("人员"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="notify_channels", help_text=_("个人自己的通道（个人机器人、邮箱）"),
    )
    active = models.BooleanField(_("启用"), default=True)
    options = models.JSONField(_("参数"), default=dict, blank=True, help_text=_("非保密参数，如短信应用 ID、签名、模板 ID、收件地址"))
    secrets_sealed = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("通知通道")
        verbose_name_plural = _("通知通道")
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=True) | Q(user__isnull=True), name="notify_channel_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"

    @property
    def route(self) -> str:
        return self.ROUTES[self.kind]

    @property
    def has_secrets(self) -> bool:
        return bool(self.secrets_sealed)


class NotificationQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user.reads_everything:
            return self
        if user.department_id:
            return self.filter(department_id=user.department_id)
        return self.none()


class Notification(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        RETRYING = "retrying", _("等待重试")
        ACCEPTED = "accepted", _("网关已接收")
        FAILED = "failed", _("发送失败")

    class Reason(models.TextChoices):
        DISPATCH = "dispatch", _("派发")
        ESCALATION = "escalation", _("超时升级")
        OTHER = "other", _("其他")

    key = models.CharField(max_length=200, unique=True, help_text=_("去重键：同一条通知只建一次"))
    route = models.CharField(_("方式"), max_length=10, choices=Route.choices)
    channel = models.ForeignKey(Channel, verbose_name=_("通道"), null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications")
    channel_kind = models.CharField(_("通道类型"), max_length=20, choices=Channel.Kind.choices, blank=True)
    address = models.CharField(_("接收号码/地址"), max_length=200, blank=True)
    recipient = models.CharField(_("接收对象"), max_length=120, blank=True)
    department = models.ForeignKey(
        "core.Department", verbose_name=_("部门"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    task = models.ForeignKey(
        "enforcement.Task", verbose_name=_("任务"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="notifications",
    )
    level = models.CharField(_("等级"), max_length=10, blank=True)
    reason = models.CharField(_("事由"), max_length=12, choices=Reason.choices, default=Reason.OTHER)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempt_count = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次重试"), null=True, blank=True)
    sending_since = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    last_error = models.TextField(_("错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["task", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_route_display()} {self.title}"


class Attempt(models.Model):
    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("网关已接收")
        RETRY = "retry", _("临时错误，将重试")
        FAILED = "failed", _("失败")
        UNKNOWN = "unknown", _("结果未知")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField(_("第几次"))
    started_at = models.DateTimeField(_("开始"))
    finished_at = models.DateTimeField(_("结束"), null=True, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=Outcome.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP 状态"), null=True, blank=True)
    gateway_code = models.CharField(_("网关代码"), max_length=60, blank=True)
    detail = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["notification_id", "number"]
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        constraints = [models.UniqueConstraint(fields=["notification", "number"], name="notify_attempt_number")]
