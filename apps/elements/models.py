"""Element control: the registry of vessels and places, and the warnings raised on them.

Only the records other modules build on are defined here first (Vessel, Geofence,
Warning); the track pipeline's own tables follow below them.
"""
from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.roles import READ_ALL_ROLES


class Vessel(models.Model):
    """A vessel as the feeds know it: MMSI for AIS, terminal id for Beidou."""

    class Source(models.TextChoices):
        AIS = "ais", "AIS"
        BEIDOU = "beidou", _("北斗")
        OTHER = "other", _("其他")

    source = models.CharField(_("来源"), max_length=20, choices=Source.choices, default=Source.AIS)
    external_id = models.CharField(_("MMSI/终端号"), max_length=40)
    name = models.CharField(_("船名"), max_length=80, blank=True)
    callsign = models.CharField(_("呼号"), max_length=20, blank=True)
    imo = models.PositiveIntegerField(null=True, blank=True)
    ship_type = models.PositiveSmallIntegerField(null=True, blank=True)
    registered = models.BooleanField(_("已登记"), default=True, help_text=_("未登记（未知）船舶是风险因素"))
    watch_group = models.CharField(_("布控分组"), max_length=60, blank=True, db_index=True)
    owner = models.CharField(_("船主"), max_length=80, blank=True)
    home_port = models.CharField(_("船籍港"), max_length=80, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True, db_index=True)
    last_lon = models.FloatField(null=True, blank=True)
    last_lat = models.FloatField(null=True, blank=True)
    last_sog_kn = models.FloatField(null=True, blank=True)
    last_cog_deg = models.FloatField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="vessel_source_external_id")]
        indexes = [models.Index(fields=["external_id"])]
        verbose_name = _("船舶")
        verbose_name_plural = _("船舶")

    def __str__(self) -> str:
        return f"{self.name or self.external_id}"


class Geofence(models.Model):
    """A pier, cove (岙口), beach, landing point or anchorage, as a WGS84 polygon (GeoJSON)."""

    class Kind(models.TextChoices):
        PIER = "pier", _("码头")
        COVE = "cove", _("岙口")
        BEACH = "beach", _("沙滩")
        LANDING_POINT = "landing_point", _("登陆点")
        ANCHORAGE = "anchorage", _("锚地")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在用")
        IDLE = "idle", _("闲置")

    name = models.CharField(_("名称"), max_length=120, unique=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE)
    township = models.CharField(_("所属镇乡"), max_length=60, blank=True, db_index=True)
    pier_chief = models.CharField(_("码长"), max_length=60, blank=True)
    geometry = models.JSONField(_("范围 (GeoJSON, WGS84)"))
    centroid_lon = models.FloatField()
    centroid_lat = models.FloatField()
    properties = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("电子围栏")
        verbose_name_plural = _("电子围栏")

    def __str__(self) -> str:
        return self.name


class WarningQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The operations centre and auditors see every warning; a department sees those it was tasked with."""
        if user.role in READ_ALL_ROLES:
            return self
        if not user.department_id:
            return self.none()
        return self.filter(Q(tasks__department_id=user.department_id)).distinct()


class Warning(models.Model):
    """A graded warning with its evidence: what the pipeline (or a field report) found."""

    class Kind(models.TextChoices):
        IDLE_PIER_LANDING = "idle_pier_landing", _("闲置码头夜间靠泊")
        DARK_VESSEL = "dark_vessel", _("船舶关闭信号")
        REPEAT_VISIT = "repeat_visit", _("反复靠泊")
        RENDEZVOUS = "rendezvous", _("海上过驳")
        SCOUT_BOAT = "scout_boat", _("探路船")
        VEHICLE_VESSEL = "vehicle_vessel", _("车船碰撞")
        FIELD_REPORT = "field_report", _("网格上报")
        ILLEGAL_GOODS = "illegal_goods", _("来源不明货物")

    class Level(models.TextChoices):
        RED = "red", _("红色")
        ORANGE = "orange", _("橙色")
        YELLOW = "yellow", _("黄色")
        BLUE = "blue", _("蓝色")

    class Status(models.TextChoices):
        OPEN = "open", _("待处置")
        DISPATCHED = "dispatched", _("已派发")
        CLOSED = "closed", _("已办结")
        FALSE_ALARM = "false_alarm", _("误报")

    LEVEL_RANK = {"red": 4, "orange": 3, "yellow": 2, "blue": 1}

    kind = models.CharField(_("类型"), max_length=30, choices=Kind.choices, db_index=True)
    level = models.CharField(_("等级"), max_length=10, choices=Level.choices, db_index=True)
    score = models.FloatField(_("风险分"))
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.OPEN, db_index=True)
    episode_key = models.CharField(max_length=200, unique=True, help_text=_("同一事件持续期间只产生一条预警"))
    vessels = models.JSONField(_("船舶"), default=list, help_text=_("MMSI 或北斗终端号，原样"))
    geofence = models.ForeignKey(Geofence, null=True, blank=True, on_delete=models.SET_NULL, related_name="warnings")
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    start = models.DateTimeField(_("开始"), db_index=True)
    end = models.DateTimeField(_("结束"))
    evidence = models.JSONField(_("证据"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WarningQuerySet.as_manager()

    class Meta:
        ordering = ["-start", "-id"]
        indexes = [models.Index(fields=["status", "level"]), models.Index(fields=["created_at", "kind"])]
        verbose_name = _("预警")
        verbose_name_plural = _("预警")

    def __str__(self) -> str:
        return f"{self.get_level_display()}{self.get_kind_display()} #{self.pk}"
