"""Source governance (源头治理): grid patrols, pier chiefs, physical-defence facilities and
industry supervision (seed 003, "源头智能监测" and "群防群治").

Who sees what (``visible_to``) is decided here, once per model:

* command roles and auditors read everything;
* a township's department staff (``Department.Kind.TOWNSHIP``) see their township;
* grid workers and pier chiefs see their township's plans, grids and facilities and their
  own check-ins and reports;
* a department sees the repair tasks it is responsible for;
* market supervision, tobacco and commerce see industry supervision.
"""
from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from apps.core.models import Department
from apps.core.roles import FIELD_ROLES, READ_ALL_ROLES
from apps.elements.models import Geofence

#: Departments that supervise the trades (seed 003 IV.2: 行业监管).
INDUSTRY_DEPARTMENT_CODES = frozenset({"market", "tobacco", "commerce"})


def _reads_all(user) -> bool:
    return bool(user and user.is_authenticated and user.role in READ_ALL_ROLES)


def _township_id(user) -> int | None:
    """The township (a department of kind township) the user belongs to, if any."""
    dept = getattr(user, "department", None)
    if dept is not None and dept.kind == Department.Kind.TOWNSHIP:
        return dept.pk
    return None


def _is_field(user) -> bool:
    return user.role in FIELD_ROLES


def is_industry_user(user) -> bool:
    dept = getattr(user, "department", None)
    return bool(dept is not None and dept.code in INDUSTRY_DEPARTMENT_CODES and user.is_department_staff)


# --------------------------------------------------------------------------- grid structure


class GridQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        township = _township_id(user)
        return self.filter(township_id=township) if township else self.none()


class Grid(models.Model):
    """A patrol grid (网格) of a township."""

    township = models.ForeignKey(
        Department,
        verbose_name=_("镇乡街道"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"kind": Department.Kind.TOWNSHIP},
    )
    code = models.SlugField(_("编号"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = GridQuerySet.as_manager()

    class Meta:
        ordering = ["township_id", "code"]
        verbose_name = _("网格")
        verbose_name_plural = _("网格")

    def __str__(self) -> str:
        return f"{self.township} · {self.name}"


class GridTeamQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        township = _township_id(user)
        return self.filter(grid__township_id=township) if township else self.none()


class GridTeam(models.Model):
    """A micro-grid team, "1+3+N": one leader, three core members, N volunteers."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="teams")
    name = models.CharField(_("名称"), max_length=80)
    geofences = models.ManyToManyField(
        Geofence, verbose_name=_("巡查点位"), related_name="patrol_teams", blank=True, help_text=_("本队负责巡查的码头、岙口、滩涂")
    )
    active = models.BooleanField(_("在岗"), default=True)

    objects = GridTeamQuerySet.as_manager()

    class Meta:
        ordering = ["grid_id", "name"]
        constraints = [models.UniqueConstraint(fields=["grid", "name"], name="sources_team_grid_name")]
        verbose_name = _("微网格队伍")
        verbose_name_plural = _("微网格队伍")

    def __str__(self) -> str:
        return self.name

    @property
    def township_id(self) -> int:
        return self.grid.township_id


class TeamMember(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("队长")
        CORE = "core", _("骨干")
        VOLUNTEER = "volunteer", _("志愿者")

    team = models.ForeignKey(GridTeam, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grid_memberships")
    role = models.CharField(_("队内角色"), max_length=12, choices=Role.choices)

    class Meta:
        ordering = ["team_id", "role", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="sources_member_team_user"),
            models.UniqueConstraint(fields=["team"], condition=Q(role="leader"), name="sources_member_one_leader"),
        ]
        verbose_name = _("队员")
        verbose_name_plural = _("队员")

    def __str__(self) -> str:
        return f"{self.team} · {self.user} ({self.get_role_display()})"


class PierChief(models.Model):
    """码长: the village cadre answering for one pier (seed 003: 建立村干部任“码长”制)."""

    geofence = models.OneToOneField(Geofence, verbose_name=_("码头"), on_delete=models.CASCADE, related_name="chief")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("码长"), on_delete=models.PROTECT, related_name="piers")
    since = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("码长")
        verbose_name_plural = _("码长")

    def __str__(self) -> str:
        return f"{self.geofence} · {self.user}"


# --------------------------------------------------------------------------- patrols


class PatrolPlanQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        township = _township_id(user)
        return self.filter(team__grid__township_id=township) if township else self.none()


class PatrolPlan(ConcurrentTransitionMixin, models.Model):
    """One team at one place for one nightly tide window (high water ± 2 h)."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("待打卡")
        CHECKED_IN = "checked_in", _("已打卡")
        MISSED = "missed", _("未到岗")

    team = models.ForeignKey(GridTeam, verbose_name=_("队伍"), on_delete=models.CASCADE, related_name="plans")
    geofence = models.ForeignKey(Geofence, verbose_name=_("点位"), on_delete=models.CASCADE, related_name="patrol_plans")
    night = models.DateField(_("巡查日期"), db_index=True, help_text=_("当晚的日期（18:00 至次日 06:00 属于同一晚）"))
    window_start = models.DateTimeField(_("时段开始"))
    peak = models.DateTimeField(_("高潮时刻"))
    window_end = models.DateTimeField(_("时段结束"), db_index=True)
    status = FSMField(_("状态"), default=Status.PLANNED, choices=Status.choices, db_index=True)
    checked_in_at = models.DateTimeField(_("打卡时间"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("未到岗通报时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatrolPlanQuerySet.as_manager()

    class Meta:
        ordering = ["window_start", "team_id", "geofence_id"]
        constraints = [models.UniqueConstraint(fields=["team", "geofence", "peak"], name="sources_plan_team_site_peak")]
        verbose_name = _("巡查计划")
        verbose_name_plural = _("巡查计划")

    def __str__(self) -> str:
        return f"{self.night} {self.team} @ {self.geofence}"

    @transition(field=status, source=[Status.PLANNED, Status.MISSED], target=Status.CHECKED_IN)
    def mark_checked_in(self, *, at) -> None:
        self.checked_in_at = at

    @transition(field=status, source=Status.PLANNED, target=Status.MISSED)
    def mark_missed(self, *, at) -> None:
        self.flagged_at = at


def _photo_path(instance, filename: str) -> str:
    ext = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}.get(instance.content_type, "bin")
    return f"sources/photos/{uuid.uuid4().hex}.{ext}"


class Photo(models.Model):
    """An uploaded photo, re-encoded without EXIF; served only through ``sources:photo``."""

    file = models.FileField(upload_to=_photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("照片")
        verbose_name_plural = _("照片")

    def __str__(self) -> str:
        return f"photo #{self.pk}"


class CheckinQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        if _is_field(user):
            return self.filter(user=user)
        township = _township_id(user)
        return self.filter(plan__team__grid__township_id=township) if township else self.none()


class Checkin(models.Model):
    """A patrol check-in: inside the place's geofence, in the window, with photo and location."""

    plan = models.ForeignKey(PatrolPlan, verbose_name=_("巡查计划"), on_delete=models.PROTECT, related_name="checkins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="checkins")
    lon = models.FloatField()
    lat = models.FloatField()
    accuracy_m = models.FloatField(_("定位精度（米）"), null=True, blank=True)
    at = models.DateTimeField(_("打卡时间（手机）"))
    received_at = models.DateTimeField(_("到达服务器时间"), auto_now_add=True)
    photo = models.ForeignKey(Photo, on_delete=models.PROTECT, related_name="checkins")
    client_uuid = models.UUIDField(_("提交编号"), unique=True, help_text=_("手机端生成，重复提交只记录一次"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = CheckinQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = _("巡查打卡")
        verbose_name_plural = _("巡查打卡")

    def __str__(self) -> str:
        return f"{self.user} @ {self.plan.geofence} {self.at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------- facilities


class SiteType(models.TextChoices):
    UNMANNED_PIER = "unmanned_pier", _("无人码头")
    BEACH_LANDING = "beach_landing", _("冲滩点")
    ROAD_CHECKPOINT = "road_checkpoint", _("重要道路卡口")
    SENSOR_STATION = "sensor_station", _("雷达等感知站点")


class FacilityKind(models.TextChoices):
    HEIGHT_BAR = "height_bar", _("限高杆")
    CCTV = "cctv", _("视频监控")
    INFRARED = "infrared", _("红外哨兵")
    LIGHT = "light", _("照明灯")
    BARRIER = "barrier", _("隔离栏")
    SIGN = "sign", _("警示牌")
    RADAR = "radar", _("岸基雷达")


#: Facilities that report heartbeats and can go silent.
DEVICE_KINDS = frozenset({FacilityKind.CCTV, FacilityKind.INFRARED, FacilityKind.RADAR})
#: Facilities that see targets (``import_sensors``): a sensor's kind as the import names it -> facility kind.
SENSOR_KINDS = {"radar": FacilityKind.RADAR, "camera": FacilityKind.CCTV, "infrared": FacilityKind.INFRARED}


class ProtectedSiteQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        q = Q(facilities__responsible_department_id=user.department_id) if user.department_id else Q(pk__in=[])
        township = _township_id(user)
        if township:
            q |= Q(township_id=township)
        return self.filter(q).distinct()


class ProtectedSite(models.Model):
    """A place that must carry physical-defence facilities: a pier, a landing beach, a road checkpoint."""

    name = models.CharField(_("名称"), max_length=120, unique=True)
    site_type = models.CharField(_("点位类型"), max_length=20, choices=SiteType.choices)
    geofence = models.OneToOneField(
        Geofence, verbose_name=_("电子围栏"), null=True, blank=True, on_delete=models.SET_NULL, related_name="protected_site"
    )
    township = models.ForeignKey(
        Department, verbose_name=_("镇乡街道"), null=True, blank=True, on_delete=models.PROTECT, related_name="protected_sites"
    )
    lon = models.FloatField()
    lat = models.FloatField()

    objects = ProtectedSiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("防范点位")
        verbose_name_plural = _("防范点位")

    def __str__(self) -> str:
        return self.name


class SiteStandard(models.Model):
    """防范设施标准: how many of which facility a site type must carry (seed 003 IV.1)."""

    site_type = models.CharField(_("点位类型"), max_length=20, choices=SiteType.choices)
    facility_kind = models.CharField(_("设施类型"), max_length=20, choices=FacilityKind.choices)
    min_count = models.PositiveSmallIntegerField(_("最少数量"))

    class Meta:
        ordering = ["site_type", "facility_kind"]
        constraints = [models.UniqueConstraint(fields=["site_type", "facility_kind"], name="sources_standard_type_kind")]
        verbose_name = _("防范设施标准")
        verbose_name_plural = _("防范设施标准")

    def __str__(self) -> str:
        return f"{self.get_site_type_display()}: {self.get_facility_kind_display()} ≥ {self.min_count}"


class FacilityQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        q = Q(responsible_department_id=user.department_id) if user.department_id else Q(pk__in=[])
        township = _township_id(user)
        if township:
            q |= Q(site__township_id=township)
        return self.filter(q)


class Facility(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("正常")
        DAMAGED = "damaged", _("损坏")
        DOWN = "down", _("离线")

    site = models.ForeignKey(ProtectedSite, verbose_name=_("点位"), on_delete=models.CASCADE, related_name="facilities")
    kind = models.CharField(_("类型"), max_length=20, choices=FacilityKind.choices)
    code = models.SlugField(_("编号"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OK, db_index=True)
    responsible_department = models.ForeignKey(
        Department, verbose_name=_("维护责任部门"), on_delete=models.PROTECT, related_name="facilities"
    )
    heartbeat_timeout_min = models.PositiveIntegerField(_("心跳超时（分钟）"), default=10)
    last_heartbeat_at = models.DateTimeField(_("最近心跳"), null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    installed_at = models.DateField(_("安装日期"), null=True, blank=True)
    # what a sensor (radar, camera, infrared sentinel) sees; empty for passive facilities
    range_m = models.FloatField(_("探测距离（米）"), null=True, blank=True, help_text=_("雷达作用距离；摄像机可视距离"))
    bearing_deg = models.FloatField(_("朝向（度）"), null=True, blank=True, help_text=_("摄像机光轴方位，正北为 0"))
    fov_deg = models.FloatField(_("视场角（度）"), null=True, blank=True)
    last_data_at = models.DateTimeField(_("最近数据"), null=True, blank=True, help_text=_("最近一次收到目标或事件"))

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["site_id", "kind", "code"]
        verbose_name = _("防范设施")
        verbose_name_plural = _("防范设施")

    def __str__(self) -> str:
        return f"{self.site} · {self.name}"

    @property
    def is_device(self) -> bool:
        return self.kind in DEVICE_KINDS

    @property
    def is_sensor(self) -> bool:
        return self.kind in SENSOR_KINDS.values() and self.lon is not None and self.lat is not None


class SensorEventQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        return self.filter(facility__in=Facility.objects.visible_to(user))


class SensorEvent(models.Model):
    """What a camera or infrared sentinel reported (``POST /api/sources/devices/events/``, ``ingest_sensor_events``)."""

    class Kind(models.TextChoices):
        VESSEL = "vessel", _("船只")
        PERSON = "person", _("人员")
        VEHICLE = "vehicle", _("车辆")
        LINE_CROSSING = "line_crossing", _("越线")
        IR_TRIGGER = "ir_trigger", _("红外触发")
        DAMAGE = "damage", _("设备损坏")
        OCCLUSION = "occlusion", _("镜头遮挡")

    facility = models.ForeignKey(Facility, verbose_name=_("设备"), on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    at = models.DateTimeField(_("发生时间"), db_index=True)
    confidence = models.FloatField(_("置信度"), default=1.0)
    snapshot = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.PROTECT, related_name="sensor_events")
    video_url = models.URLField(_("视频链接"), max_length=500, blank=True, help_text=_("视频留在视频共享平台，这里只存链接"))
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)
    signalled_at = models.DateTimeField(_("已送预警模型"), null=True, blank=True)
    warning_id = models.IntegerField(_("预警"), null=True, blank=True, help_text=_("无船舶可解释时产生的预警"))
    repair_task = models.ForeignKey("RepairTask", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = SensorEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.UniqueConstraint(fields=["facility", "kind", "at"], name="sources_sensor_event_once")]
        verbose_name = _("感知设备事件")
        verbose_name_plural = _("感知设备事件")

    def __str__(self) -> str:
        return f"{self.facility.code} {self.kind} {self.at:%Y-%m-%d %H:%M}"


# --------------------------------------------------------------------------- field reports


class GridReportQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        if _is_field(user):
            return self.filter(reporter=user)
        q = Q(repair_tasks__department_id=user.department_id) if user.department_id else Q(pk__in=[])
        township = _township_id(user)
        if township:
            q |= Q(township_id=township)
        return self.filter(q).distinct()


class GridReport(models.Model):
    """A grid worker's report from the field: suspicious activity or facility damage."""

    class Kind(models.TextChoices):
        UNLOADING = "unloading", _("可疑船只卸货")
        TRUCKS = "trucks", _("可疑车辆等候")
        STRANGERS = "strangers", _("可疑陌生人员")
        SUSPICIOUS_OTHER = "suspicious_other", _("其他可疑情况")
        DAMAGE = "damage", _("设施损坏")

    SUSPICIOUS_KINDS = frozenset({Kind.UNLOADING, Kind.TRUCKS, Kind.STRANGERS, Kind.SUSPICIOUS_OTHER})

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, db_index=True)
    description = models.TextField(_("情况描述"), blank=True, max_length=2000)
    lon = models.FloatField()
    lat = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(_("发现时间"))
    received_at = models.DateTimeField(auto_now_add=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="grid_reports")
    township = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="grid_reports"
    )
    geofence = models.ForeignKey(Geofence, null=True, blank=True, on_delete=models.SET_NULL, related_name="grid_reports")
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")
    photos = models.ManyToManyField(Photo, related_name="grid_reports", blank=True)
    client_uuid = models.UUIDField(_("提交编号"), unique=True)
    signalled_at = models.DateTimeField(_("已送预警模型"), null=True, blank=True)
    signal_error = models.CharField(max_length=200, blank=True)
    dispatched_at = models.DateTimeField(_("派发时间"), null=True, blank=True)

    objects = GridReportQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("网格上报")
        verbose_name_plural = _("网格上报")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_suspicious(self) -> bool:
        return self.kind in self.SUSPICIOUS_KINDS

    # --- the enforcement module's "subject" interface (one-click dispatch) ---------------
    def dispatch_title(self) -> str:
        where = self.geofence.name if self.geofence_id else f"{self.lon:.5f},{self.lat:.5f}"
        return f"网格上报：{self.get_kind_display()}（{where}）"

    def dispatch_level(self) -> str:
        return "orange" if self.kind in (self.Kind.UNLOADING, self.Kind.TRUCKS) else "yellow"

    def dispatch_kind(self) -> str:
        return "field_report"

    def dispatch_township(self) -> str:
        if self.township_id:
            return self.township.name
        return self.geofence.township if self.geofence_id else ""


class RepairTaskQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user):
            return self
        if _is_field(user):
            return self.filter(report__reporter=user)
        q = Q(department_id=user.department_id) if user.department_id else Q(pk__in=[])
        township = _township_id(user)
        if township:
            q |= Q(site__township_id=township)
        return self.filter(q)


class RepairTask(ConcurrentTransitionMixin, models.Model):
    """A facility to repair, pushed to the responsible department and tracked to completion."""

    class State(models.TextChoices):
        OPEN = "open", _("待维修")
        IN_REPAIR = "in_repair", _("维修中")
        CLOSED = "closed", _("已修复")

    class Source(models.TextChoices):
        DAMAGE_REPORT = "damage_report", _("网格员上报损坏")
        DEVICE_DOWN = "device_down", _("设备心跳中断")
        SENSOR_ALARM = "sensor_alarm", _("设备自报损坏或遮挡")
        MANUAL = "manual", _("人工登记")

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("说明"), blank=True)
    source = models.CharField(_("来源"), max_length=20, choices=Source.choices)
    facility = models.ForeignKey(Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="repair_tasks")
    site = models.ForeignKey(ProtectedSite, null=True, blank=True, on_delete=models.SET_NULL, related_name="repair_tasks")
    report = models.ForeignKey(GridReport, null=True, blank=True, on_delete=models.SET_NULL, related_name="repair_tasks")
    department = models.ForeignKey(Department, verbose_name=_("责任部门"), on_delete=models.PROTECT, related_name="repair_tasks")
    state = FSMField(_("状态"), default=State.OPEN, choices=State.choices, db_index=True)
    before_photos = models.ManyToManyField(Photo, related_name="repairs_before", blank=True)
    after_photos = models.ManyToManyField(Photo, related_name="repairs_after", blank=True)
    opened_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    close_note = models.CharField(_("修复说明"), max_length=500, blank=True)

    objects = RepairTaskQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("维修任务")
        verbose_name_plural = _("维修任务")

    def __str__(self) -> str:
        return f"{self.title} ({self.get_state_display()})"

    def has_after_photo(self) -> bool:
        return self.pk is not None and self.after_photos.exists()

    @transition(field=state, source=State.OPEN, target=State.IN_REPAIR)
    def start(self, *, by, at) -> None:
        self.started_by, self.started_at = by, at

    @transition(field=state, source=State.IN_REPAIR, target=State.CLOSED, conditions=[has_after_photo])
    def close(self, *, by, at, note: str = "") -> None:
        self.closed_by, self.closed_at, self.close_note = by, at, note


# --------------------------------------------------------------------------- industry supervision


class IndustryQuerySet(models.QuerySet):
    def visible_to(self, user):
        if _reads_all(user) or is_industry_user(user):
            return self
        return self.none()


class MarketEntity(models.Model):
    """One of the 6 kinds of market entity the trades' goods pass through."""

    class Kind(models.TextChoices):
        SHIPYARD = "shipyard", _("修造船厂")
        FREIGHT_STATION = "freight_station", _("货运站")
        COLD_STORE = "cold_store", _("存储冷库")
        FUEL_STATION = "fuel_station", _("加油站")
        OIL_DEPOT = "oil_depot", _("油库储运点")
        CIGARETTE_SHOP = "cigarette_shop", _("香烟销售点")

    kind = models.CharField(_("主体类型"), max_length=20, choices=Kind.choices, db_index=True)
    name = models.CharField(_("名称"), max_length=120)
    license_no = models.CharField(_("统一社会信用代码/许可证号"), max_length=60, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    township = models.ForeignKey(Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supervising_department = models.ForeignKey(
        Department, verbose_name=_("监管部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="supervised_entities"
    )
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    active = models.BooleanField(_("在营"), default=True)

    objects = IndustryQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="sources_entity_kind_name")]
        verbose_name = _("市场主体")
        verbose_name_plural = _("市场主体")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_kind_display()}）"


class RegulatedRecord(models.Model):
    """An entry in one of the 4 regulated processes (seed 003 IV.2)."""

    class Process(models.TextChoices):
        SHIP_REPAIR = "ship_repair", _("船舶修造登记")
        SPECIAL_VEHICLE = "special_vehicle", _("特种车辆使用登记")
        FROZEN_GOODS = "frozen_goods", _("冻品存储运输检查")
        CIGARETTE_TRADE = "cigarette_trade", _("香烟批发零售")

    process = models.CharField(_("监管流程"), max_length=20, choices=Process.choices, db_index=True)
    entity = models.ForeignKey(MarketEntity, verbose_name=_("市场主体"), on_delete=models.PROTECT, related_name="records")
    subject = models.CharField(_("登记对象"), max_length=120, help_text=_("船名、车牌或货物批次"))
    goods = models.CharField(_("货物"), max_length=120, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    source_document = models.CharField(_("合法来源凭证"), max_length=120, blank=True)
    legal_source = models.BooleanField(_("来源合法"), default=True)
    occurred_at = models.DateTimeField(_("发生时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    details = models.JSONField(_("其他信息"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IndustryQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("行业监管登记")
        verbose_name_plural = _("行业监管登记")

    def __str__(self) -> str:
        return f"{self.get_process_display()} · {self.subject}"


class Inspection(models.Model):
    """An inspection of a market entity, with its findings."""

    entity = models.ForeignKey(MarketEntity, verbose_name=_("市场主体"), on_delete=models.PROTECT, related_name="inspections")
    department = models.ForeignKey(Department, verbose_name=_("检查部门"), on_delete=models.PROTECT, related_name="+")
    inspector = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("检查时间"))
    summary = models.TextField(_("检查情况"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IndustryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("检查")
        verbose_name_plural = _("检查")

    def __str__(self) -> str:
        return f"{self.entity} {self.at:%Y-%m-%d}"


class MarketFinding(models.Model):
    """What an inspection (or a regulated record) found; goods without a legal source are flagged."""

    class Kind(models.TextChoices):
        NO_LEGAL_SOURCE = "no_legal_source", _("无合法来源货物")
        UNREGISTERED = "unregistered", _("未按规定登记")
        LICENCE = "licence", _("证照问题")
        OTHER = "other", _("其他问题")

    class Status(models.TextChoices):
        OPEN = "open", _("待处置")
        DISPATCHED = "dispatched", _("已派发")
        CLOSED = "closed", _("已整改")

    entity = models.ForeignKey(MarketEntity, on_delete=models.PROTECT, related_name="findings")
    inspection = models.ForeignKey(Inspection, null=True, blank=True, on_delete=models.CASCADE, related_name="findings")
    record = models.ForeignKey(RegulatedRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="findings")
    kind = models.CharField(_("问题类型"), max_length=20, choices=Kind.choices)
    goods = models.CharField(_("货物"), max_length=120, blank=True)
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3, null=True, blank=True)
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    description = models.TextField(_("说明"), blank=True)
    photos = models.ManyToManyField(Photo, related_name="market_findings", blank=True)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    signalled_at = models.DateTimeField(null=True, blank=True)
    signal_error = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IndustryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("检查发现")
        verbose_name_plural = _("检查发现")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.entity}"

    @property
    def flagged(self) -> bool:
        return self.kind == self.Kind.NO_LEGAL_SOURCE

    @property
    def lon(self) -> float | None:
        return self.entity.lon

    @property
    def lat(self) -> float | None:
        return self.entity.lat

    def dispatch_title(self) -> str:
        goods = f"：{self.goods}" if self.goods else ""
        return f"{self.entity.name}{self.get_kind_display()}{goods}"

    def dispatch_level(self) -> str:
        return "orange" if self.flagged else "blue"

    def dispatch_kind(self) -> str:
        return "illegal_goods" if self.flagged else "market_finding"

    def dispatch_township(self) -> str:
        return self.entity.township.name if self.entity.township_id else ""
