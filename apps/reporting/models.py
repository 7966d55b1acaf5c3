"""Public participation (宣防动态实时): tips from the public, the thread with the handler,
rewards paid to a tip code, and the education and bulletin pages.

A tip is reached by the public only through its code and secret (only a hash of the secret
is stored). The tipster's contact, when given, is encrypted at rest (``crypto.py``) and read
only through ``services.tip_identity_read`` (permission ``reporting.view_tipster_identity``,
every read on the audit trail). No IP address is stored anywhere.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.core.roles import READ_ALL_ROLES
from apps.elements.models import Warning

# --- Tips ----------------------------------------------------------------------------------


class TipQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The operations centre and auditors see every tip; departments see dispatched work in enforcement."""
        if user.is_authenticated and getattr(user, "role", None) in READ_ALL_ROLES:
            return self
        return self.none()


class Tip(models.Model):
    """One tip from the public. ``state``: new → duplicate / false / useful → dispatched → closed."""

    class Category(models.TextChoices):
        BOAT_UNLOADING = "boat_unloading", _("船只靠岸卸货")
        TRUCKS_AT_PIER = "trucks_at_pier", _("码头有货车接驳")
        STORED_GOODS = "stored_goods", _("可疑货物囤放")
        SUSPICIOUS_PEOPLE = "suspicious_people", _("可疑人员活动")
        OTHER = "other", _("其他")

    class State(models.TextChoices):
        NEW = "new", _("待研判")
        DUPLICATE = "duplicate", _("重复线索")
        FALSE = "false", _("不实线索")
        USEFUL = "useful", _("有效线索")
        DISPATCHED = "dispatched", _("已派发")
        CLOSED = "closed", _("已办结")

    Level = Warning.Level  # the platform's one grading

    code = models.CharField(_("举报编码"), max_length=20, unique=True)
    secret_hash = models.CharField(max_length=200)
    category = models.CharField(_("类别"), max_length=30, choices=Category.choices)
    description = models.TextField(_("情况描述"), max_length=2000)
    place_text = models.CharField(_("地点描述"), max_length=200, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    seen_at = models.DateTimeField(_("发现时间"), null=True, blank=True)
    has_contact = models.BooleanField(_("留有联系方式"), default=False)
    contact_ciphertext = models.TextField(blank=True, help_text=_("Fernet 加密的联系方式，只能经授权读取"))
    state = FSMField(_("状态"), max_length=20, choices=State.choices, default=State.NEW, db_index=True)
    level = models.CharField(_("等级"), max_length=10, choices=Level.choices, default=Level.YELLOW)
    triage_outcome = models.CharField(_("研判结果"), max_length=20, blank=True, help_text=_("duplicate / false / useful"))
    triage_note = models.CharField(_("研判意见"), max_length=500, blank=True)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates")
    warning = models.ForeignKey(
        "elements.Warning", null=True, blank=True, on_delete=models.SET_NULL, related_name="tips", verbose_name=_("关联预警")
    )
    case = models.ForeignKey(
        "enforcement.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="tips", verbose_name=_("关联案件")
    )
    dispatch = models.ForeignKey(
        "enforcement.Dispatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("联动派发")
    )
    triaged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    triaged_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TipQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("view_tipster_identity", _("可查看举报人身份与联系方式"))]
        verbose_name = _("群众举报")
        verbose_name_plural = _("群众举报")

    def __str__(self) -> str:
        return self.code

    # --- the contract enforcement.dispatch_subject reads (never the tipster's identity) ----
    def dispatch_title(self) -> str:
        return f"群众举报 {self.code}：{self.get_category_display()}"

    def dispatch_level(self) -> str:
        return self.level

    def dispatch_kind(self) -> str:
        return "tip"

    # --- state machine ------------------------------------------------------------------
    @transition(field=state, source=State.NEW, target=State.DUPLICATE)
    def mark_duplicate(self) -> None:
        pass

    @transition(field=state, source=State.NEW, target=State.FALSE)
    def mark_false(self) -> None:
        pass

    @transition(field=state, source=State.NEW, target=State.USEFUL)
    def mark_useful(self) -> None:
        pass

    @transition(field=state, source=State.USEFUL, target=State.DISPATCHED)
    def mark_dispatched(self) -> None:
        pass

    @transition(field=state, source=[State.DUPLICATE, State.FALSE, State.USEFUL, State.DISPATCHED], target=State.CLOSED)
    def close(self) -> None:
        self.closed_at = timezone.now()


class TipAttachment(models.Model):
    """A photo (re-encoded, metadata dropped) or a short video (metadata boxes blanked) of a tip."""

    class Kind(models.TextChoices):
        IMAGE = "image", _("照片")
        VIDEO = "video", _("视频")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    file = models.FileField(upload_to="reporting/tips/%Y/%m/")
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("举报附件")
        verbose_name_plural = _("举报附件")

    def __str__(self) -> str:
        return f"{self.tip_id}/{self.pk}"


class TipMessage(models.Model):
    """The thread between the tipster (known only by the tip code) and the handlers."""

    class Author(models.TextChoices):
        TIPSTER = "tipster", _("举报人")
        HANDLER = "handler", _("办理人员")

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=Author.choices)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("举报沟通记录")
        verbose_name_plural = _("举报沟通记录")

    def __str__(self) -> str:
        return f"{self.tip_id}:{self.author}:{self.pk}"


class IdentityRead(models.Model):
    """Our own log of every read of a tipster's identity (the audit trail has an ACCESS entry too)."""

    tip = models.ForeignKey(Tip, on_delete=models.CASCADE, related_name="identity_reads")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=40, default="contact")
    reason = models.CharField(_("查看事由"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("举报人信息查看记录")
        verbose_name_plural = _("举报人信息查看记录")

    def __str__(self) -> str:
        return f"{self.reader_id} read {self.field} of tip {self.tip_id}"


# --- Rewards -------------------------------------------------------------------------------


class RewardRule(models.Model):
    """A regular (常态) or special-campaign (专项) reward rule: an amount range by outcome and goods value."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("常态举报奖励")
        CAMPAIGN = "campaign", _("专项举报奖励")

    class Outcome(models.TextChoices):
        USEFUL_CLUE = "useful_clue", _("线索属实")
        SEIZURE = "seizure", _("查获走私货物")
        CASE_SOLVED = "case_solved", _("破获走私案件")

    name = models.CharField(_("名称"), max_length=100, unique=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, default=Kind.REGULAR)
    outcome = models.CharField(_("举报结果"), max_length=20, choices=Outcome.choices)
    goods_value_min_yuan = models.DecimalField(_("案值下限（元）"), max_digits=14, decimal_places=2, default=0)
    goods_value_max_yuan = models.DecimalField(_("案值上限（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    amount_min_yuan = models.DecimalField(_("奖励下限（元）"), max_digits=12, decimal_places=2)
    amount_max_yuan = models.DecimalField(_("奖励上限（元）"), max_digits=12, decimal_places=2)
    campaign_start = models.DateField(_("专项开始"), null=True, blank=True)
    campaign_end = models.DateField(_("专项结束"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    description = models.TextField(_("说明"), blank=True, max_length=2000)

    class Meta:
        ordering = ["kind", "outcome", "goods_value_min_yuan"]
        verbose_name = _("举报奖励规则")
        verbose_name_plural = _("举报奖励规则")

    def __str__(self) -> str:
        return self.name


class Reward(models.Model):
    """A reward for one tip: proposed → approved → paid (or rejected), paid to the tip code."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("已提议")
        APPROVED = "approved", _("已审批")
        PAID = "paid", _("已发放")
        REJECTED = "rejected", _("未批准")

    class ClaimMethod(models.TextChoices):
        BY_CODE = "by_code", _("凭举报编码和密钥匿名领取")
        REVEAL_NAME = "reveal_name", _("自愿提供姓名与账户转账")

    tip = models.ForeignKey(Tip, on_delete=models.PROTECT, related_name="rewards")
    rule = models.ForeignKey(RewardRule, on_delete=models.PROTECT, related_name="rewards")
    outcome = models.CharField(_("举报结果"), max_length=20, choices=RewardRule.Outcome.choices)
    goods_value_yuan = models.DecimalField(_("案值（元）"), max_digits=14, decimal_places=2, default=0)
    amount_yuan = models.DecimalField(_("奖励金额（元）"), max_digits=12, decimal_places=2)
    state = FSMField(_("状态"), max_length=20, choices=State.choices, default=State.PROPOSED, db_index=True)
    reason = models.CharField(_("提议理由"), max_length=500, blank=True)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    claim_method = models.CharField(_("领取方式"), max_length=20, choices=ClaimMethod.choices, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    payee_ciphertext = models.TextField(blank=True, help_text=_("举报人自愿提供的收款信息（加密）"))
    paid_to_code = models.CharField(_("发放对象（举报编码）"), max_length=20, blank=True)
    payment_reference = models.CharField(_("发放凭证号"), max_length=80, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("举报奖励")
        verbose_name_plural = _("举报奖励")

    def __str__(self) -> str:
        return f"{self.tip.code} ¥{self.amount_yuan}"

    @transition(field=state, source=State.PROPOSED, target=State.APPROVED)
    def approve(self) -> None:
        self.approved_at = timezone.now()

    @transition(field=state, source=State.PROPOSED, target=State.REJECTED)
    def reject(self) -> None:
        pass

    @transition(field=state, source=State.APPROVED, target=State.PAID)
    def pay(self) -> None:
        self.paid_at = timezone.now()


# --- Education and bulletins -----------------------------------------------------------------


class BulletinQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=Bulletin.State.PUBLISHED)


class Bulletin(models.Model):
    """Laws, training material, typical cases, case and alert bulletins: draft → published → withdrawn."""

    class Kind(models.TextChoices):
        LAW = "law", _("法律法规")
        TRAINING = "training", _("教育培训")
        TYPICAL_CASE = "typical_case", _("典型案例")
        CASE_BULLETIN = "case_bulletin", _("案情通报")
        ALERT_BULLETIN = "alert_bulletin", _("警情通报")

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PUBLISHED = "published", _("已发布")
        WITHDRAWN = "withdrawn", _("已撤回")

    kind = models.CharField(_("栏目"), max_length=20, choices=Kind.choices, db_index=True)
    title = models.CharField(_("标题"), max_length=120)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    body = models.TextField(_("正文"), max_length=20000)
    source = models.CharField(_("来源/文号"), max_length=120, blank=True)
    state = FSMField(_("状态"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("宣传与通报")
        verbose_name_plural = _("宣传与通报")

    def __str__(self) -> str:
        return self.title

    @transition(field=state, source=[State.DRAFT, State.WITHDRAWN], target=State.PUBLISHED)
    def publish(self) -> None:
        self.published_at = timezone.now()

    @transition(field=state, source=State.PUBLISHED, target=State.WITHDRAWN)
    def withdraw(self) -> None:
        pass
