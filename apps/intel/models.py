"""Key elements (重点要素库) and the links between them.

An :class:`Element` is a person, vehicle, vessel, company (market entity), phone or place
the operations centre keeps an eye on, with a watch level, the reason, the source, the
department that owns the entry and an expiry. Vessels and companies point at the rows the
platform already has (``elements.Vessel``, ``sources.MarketEntity``); a person's name and
ID-card number are sealed with the tipster keys (``apps/reporting/crypto.py``) and read only
through ``services.person_identity_read`` (permission ``intel.view_person_identity``,
every read on the audit trail); everyone else sees ``label`` (张某) and ``id_masked``.

A :class:`Link` joins two elements (stored once, ``src_id < dst_id``, indexed both ways)
with a kind, a source, a time span and a confidence. Automatic links (cases, checkpoint
co-occurrence, market findings) are idempotent on (ends, kind, source, ref); officers add
and retire links by hand, on the audit trail.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.roles import DEPARTMENT_ROLES, READ_ALL_ROLES


class WatchLevel(models.TextChoices):
    NONE = "", _("一般")
    ATTENTION = "attention", _("关注")
    KEY = "key", _("重点")
    CONTROL = "control", _("布控")


class ElementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Command roles and auditors see every element; a department its own and the shared ones."""
        role = getattr(user, "role", None)
        if not user.is_authenticated:
            return self.none()
        if role in READ_ALL_ROLES:
            return self
        if role in DEPARTMENT_ROLES and user.department_id:
            return self.filter(Q(department_id=user.department_id) | Q(department__isnull=True))
        return self.none()


class Element(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("人员")
        VEHICLE = "vehicle", _("车辆")
        VESSEL = "vessel", _("船舶")
        COMPANY = "company", _("企业/市场主体")
        PHONE = "phone", _("电话")
        PLACE = "place", _("场所")

    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices, db_index=True)
    key = models.CharField(_("识别码"), max_length=120, help_text=_("车牌、MMSI、号码、证件号摘要等归一化标识"))
    label = models.CharField(_("名称"), max_length=120)
    roles = models.CharField(_("身份"), max_length=120, blank=True, help_text=_("船主、司机、望风等，逗号分隔"))
    identity_ciphertext = models.TextField(blank=True, help_text=_("Fernet 加密的姓名与证件号，只能经授权读取"))
    id_masked = models.CharField(_("证件号（脱敏）"), max_length=30, blank=True)
    vessel = models.ForeignKey("elements.Vessel", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    entity = models.ForeignKey("sources.MarketEntity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    attrs = models.JSONField(_("其他信息"), default=dict, blank=True)
    watch_level = models.CharField(_("关注等级"), max_length=10, choices=WatchLevel.choices, default="", blank=True, db_index=True)
    reason = models.CharField(_("列管理由"), max_length=200, blank=True)
    source = models.CharField(_("来源"), max_length=40, blank=True)
    department = models.ForeignKey("core.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("归属部门"))
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ElementQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "label", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="intel_element_kind_key")]
        permissions = [("view_person_identity", _("可查看重点人员身份信息"))]
        verbose_name = _("重点要素")
        verbose_name_plural = _("重点要素")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.label}"


class LinkQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def visible_to(self, user):
        """Links whose both ends the user may see."""
        if getattr(user, "role", None) in READ_ALL_ROLES and user.is_authenticated:
            return self
        visible = Element.objects.visible_to(user).values("pk")
        return self.filter(src__in=visible, dst__in=visible)


class Link(models.Model):
    class Kind(models.TextChoices):
        OWNS = "owns", _("所有")
        DRIVES = "drives", _("驾驶")
        CREWS = "crews", _("船员")
        CALLED = "called", _("通话")
        PAID = "paid", _("资金往来")
        USES = "uses", _("使用")
        SEEN_TOGETHER = "seen_together", _("同行/同现")
        SAME_CASE = "same_case", _("同案")
        GOODS_TRACED = "goods_traced", _("货物溯源")

    class Source(models.TextChoices):
        CASE = "case", _("案件")
        TIP = "tip", _("举报")
        CHECKPOINT = "checkpoint", _("卡口同现")
        MARKET = "market", _("市场监管")
        REGISTRY = "registry", _("要素库")
        OFFICER = "officer", _("民警研判")

    src = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="links_out")
    dst = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(_("关系"), max_length=20, choices=Kind.choices)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    ref = models.CharField(_("来源记录"), max_length=80, blank=True, help_text=_("如 case:12、warning:40"))
    label = models.CharField(_("说明"), max_length=120, blank=True, help_text=_("如案件编号"))
    case = models.ForeignKey("enforcement.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    start = models.DateTimeField(_("开始时间"), null=True, blank=True)
    end = models.DateTimeField(_("结束时间"), null=True, blank=True)
    confidence = models.FloatField(_("可信度"), default=0.5)
    seen_count = models.PositiveIntegerField(_("出现次数"), default=1)
    active = models.BooleanField(_("有效"), default=True, db_index=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # indexed both ways: the unique constraint's index leads with (src, dst), this one with (dst, src)
        indexes = [models.Index(fields=["dst", "src"], name="intel_link_dst_src")]
        constraints = [
            models.UniqueConstraint(fields=["src", "dst", "kind", "source", "ref"], name="intel_link_once"),
            models.CheckConstraint(condition=Q(src__lt=models.F("dst")), name="intel_link_ordered"),
            models.CheckConstraint(condition=Q(confidence__gte=0.0) & Q(confidence__lte=1.0), name="intel_link_confidence"),
        ]
        verbose_name = _("要素关联")
        verbose_name_plural = _("要素关联")

    def __str__(self) -> str:
        return f"{self.src_id}-{self.get_kind_display()}-{self.dst_id}"


class Hit(models.Model):
    """A live record (warning, tip, capture, market finding) that collided with the registry or the graph."""

    class Subject(models.TextChoices):
        WARNING = "warning", _("预警")
        TIP = "tip", _("举报")
        CAPTURE = "capture", _("卡口过车")
        FINDING = "finding", _("市场监管发现")

    subject = models.CharField(_("对象"), max_length=10, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField()
    element = models.ForeignKey(Element, on_delete=models.CASCADE, related_name="hits")
    hops = models.PositiveSmallIntegerField(default=0)
    chain = models.JSONField(default=list)
    summary = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["subject", "subject_id", "element"], name="intel_hit_once")]
        indexes = [models.Index(fields=["subject", "subject_id"])]
        verbose_name = _("碰撞命中")
        verbose_name_plural = _("碰撞命中")


class NetworkExport(models.Model):
    """One export of a network (GraphML/XLSX) by a command role: who, what, when (on the audit trail)."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    fmt = models.CharField(max_length=10)
    starts = models.JSONField(default=list)
    nodes = models.PositiveIntegerField(default=0)
    links = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("关系网络导出")
        verbose_name_plural = _("关系网络导出")
