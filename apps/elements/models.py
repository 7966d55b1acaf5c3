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
        RADAR = "radar", _("雷达目标")
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
        DARK_TARGET = "dark_target", _("雷达暗目标")
        SENSOR_ALERT = "sensor_alert", _("闲置码头夜间感知告警")

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
        WITHDRAWN = "withdrawn", _("已撤销")  # late data showed it did not happen (reason in the evidence)

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
        return _("%(level)s%(kind)s #%(pk)s") % {"level": self.get_level_display(), "kind": self.get_kind_display(), "pk": self.pk}


# --------------------------------------------------------------------------------------------
# The track pipeline's own tables.
# --------------------------------------------------------------------------------------------

#: Stored coordinates are integers of 1e-7 degree (about 1 cm): compact (4 bytes each) and
#: exact, so the live pipeline and a replay from stored fixes see the very same numbers
#: (the ingest quantises every fix before the detectors see it, see ``convert.py``).
COORD_SCALE = 10_000_000
#: Speed over ground in 0.1 kn and course in 0.1 degree (the AIS resolution), as smallint.
MOTION_SCALE = 10


class StoredFix(models.Model):
    """One stored position of a vessel: 28 bytes of data per row.

    On PostgreSQL the table is partitioned by UTC day (``elements_fix_pYYYYMMDD`` plus a
    default partition; created by migration 0002 and on demand by ``fixstore.py``) so that
    retention drops whole partitions; on SQLite it is a plain table. The primary key
    ``(vessel, ts)`` makes the same fix ingested twice stored once.
    """

    pk = models.CompositePrimaryKey("vessel_id", "ts")
    vessel = models.ForeignKey(Vessel, on_delete=models.CASCADE, related_name="+", db_index=False)
    ts = models.DateTimeField()
    lon_e7 = models.IntegerField()
    lat_e7 = models.IntegerField()
    sog_dkn = models.SmallIntegerField(null=True)
    cog_ddeg = models.SmallIntegerField(null=True)

    class Meta:
        db_table = "elements_fix"
        verbose_name = _("船位")
        verbose_name_plural = _("船位")

    @property
    def lon(self) -> float:
        return self.lon_e7 / COORD_SCALE

    @property
    def lat(self) -> float:
        return self.lat_e7 / COORD_SCALE

    @property
    def sog_kn(self) -> float | None:
        return None if self.sog_dkn is None else self.sog_dkn / MOTION_SCALE

    @property
    def cog_deg(self) -> float | None:
        return None if self.cog_ddeg is None else self.cog_ddeg / MOTION_SCALE


class IngestRun(models.Model):
    """One ingest (a file, an upload, a stretch of a live feed) and what became of its input."""

    class Kind(models.TextChoices):
        AIS = "ais", _("AIS 报文")
        POSITIONS = "positions", _("北斗/通用船位")
        CHECKPOINTS = "checkpoints", _("卡口过车")
        AIS_FEED = "ais_feed", _("AIS 实时接收")
        RADAR = "radar", _("雷达目标")
        RADAR_FEED = "radar_feed", _("雷达实时接收")

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        DONE = "done", _("完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("来源"), max_length=255, blank=True, help_text=_("文件名、接口或接收端口"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("开始"), auto_now_add=True)
    finished_at = models.DateTimeField(_("结束"), null=True, blank=True)
    read = models.PositiveIntegerField(_("读入"), default=0, help_text=_("行数或记录数"))
    decoded = models.PositiveIntegerField(_("解码"), default=0, help_text=_("解析出的船位、静态报告或过车记录"))
    accepted = models.PositiveIntegerField(_("通过校验"), default=0)
    stored = models.PositiveIntegerField(_("新入库"), default=0)
    duplicates = models.PositiveIntegerField(_("重复"), default=0)
    quarantined = models.JSONField(_("隔离（按原因）"), default=dict, blank=True)
    warnings_new = models.PositiveIntegerField(_("新预警"), default=0)
    warnings_updated = models.PositiveIntegerField(_("更新预警"), default=0)
    stats = models.JSONField(_("其他统计"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    actor = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("操作人")
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("数据接入批次")
        verbose_name_plural = _("数据接入批次")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name} #{self.pk}"

    @property
    def quarantined_total(self) -> int:
        return sum(self.quarantined.values())


class FixHandoff(models.Model):
    """Fixes stored but not judged yet: the durable hand-off from the store step to the detect step.

    Written in the same transaction as the fixes it names (so a stored fix always has its
    mark), drained by the single-flight detect step and deleted in the detect step's own
    transaction (so a crash on either side leaves the mark for the next detect step).
    ``fixes`` holds the fixes in wire form (``convert.fix_to_wire``).
    """

    run = models.ForeignKey(IngestRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    fixes = models.JSONField(default=list)

    class Meta:
        ordering = ["id"]
        verbose_name = _("待研判船位")
        verbose_name_plural = _("待研判船位")


class QuarantineRecord(models.Model):
    """Input that was refused (garbled sentence, bad checksum, impossible position ...), kept with its reason."""

    run = models.ForeignKey(IngestRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="quarantine")
    source = models.CharField(_("来源"), max_length=40)
    raw = models.TextField(_("原始数据"))
    reason = models.CharField(_("原因"), max_length=40, db_index=True)
    detail = models.TextField(_("说明"), blank=True)
    data_ts = models.DateTimeField(_("数据时间"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("隔离数据")
        verbose_name_plural = _("隔离数据")


class Checkpoint(models.Model):
    """A road checkpoint (卡口) camera; its captures are checked against vessel stops nearby."""

    code = models.CharField(_("卡口编号"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    lon = models.FloatField()
    lat = models.FloatField()
    township = models.CharField(_("所属镇乡"), max_length=60, blank=True)
    road = models.CharField(_("道路"), max_length=120, blank=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("卡口")
        verbose_name_plural = _("卡口")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class VehicleCaptureRecord(models.Model):
    """One vehicle seen by a checkpoint camera (plate normalised)."""

    checkpoint_code = models.CharField(_("卡口编号"), max_length=60)
    checkpoint = models.ForeignKey(
        Checkpoint, null=True, blank=True, on_delete=models.SET_NULL, related_name="captures"
    )
    plate = models.CharField(_("车牌"), max_length=20, db_index=True)
    ts = models.DateTimeField(_("时间"), db_index=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    run = models.ForeignKey(IngestRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        db_table = "elements_vehiclecapture"
        ordering = ["-ts"]
        constraints = [
            models.UniqueConstraint(fields=["checkpoint_code", "plate", "ts"], name="vehiclecapture_once")
        ]
        verbose_name = _("卡口过车")
        verbose_name_plural = _("卡口过车")


class WatchEntry(models.Model):
    """The watch list (布控名单): a vessel by id, a group of vessels, or a vehicle plate."""

    class Kind(models.TextChoices):
        VESSEL = "vessel", _("船舶")
        VESSEL_GROUP = "vessel_group", _("船舶分组")
        PLATE = "plate", _("车牌")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    value = models.CharField(_("MMSI/终端号、分组名或车牌"), max_length=60)
    reason = models.CharField(_("布控原因"), max_length=200, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="watchentry_once")]
        verbose_name = _("布控名单")
        verbose_name_plural = _("布控名单")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class Holiday(models.Model):
    """A public holiday (local date); smugglers prefer them (seed 003), so they raise the score."""

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=60)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class TideStation(models.Model):
    """A tide station: published harmonic constants (to predict) and/or an imported tide table."""

    code = models.CharField(_("站号"), max_length=80, unique=True)
    name = models.CharField(_("站名"), max_length=120)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    datum = models.CharField(_("基准面"), max_length=200, blank=True)
    constants = models.JSONField(_("调和常数"), null=True, blank=True, help_text=_("geodata/tides/*.json 的格式"))
    source = models.TextField(_("数据来源"), blank=True)
    is_default = models.BooleanField(_("巡航默认站"), default=False)

    class Meta:
        ordering = ["-is_default", "code"]
        verbose_name = _("潮位站")
        verbose_name_plural = _("潮位站")

    def __str__(self) -> str:
        return self.name


class TideEventRecord(models.Model):
    """A high or low water of a station, imported from a tide table or predicted."""

    class Kind(models.TextChoices):
        HIGH = "high", _("高潮")
        LOW = "low", _("低潮")

    class Origin(models.TextChoices):
        TABLE = "table", _("潮汐表")
        PREDICTED = "predicted", _("调和预报")

    station = models.ForeignKey(TideStation, on_delete=models.CASCADE, related_name="events")
    ts = models.DateTimeField(_("时间"))
    height_m = models.FloatField(_("潮高 (米)"))
    kind = models.CharField(_("类型"), max_length=4, choices=Kind.choices)
    origin = models.CharField(_("来源"), max_length=10, choices=Origin.choices)

    class Meta:
        db_table = "elements_tideevent"
        ordering = ["ts"]
        constraints = [models.UniqueConstraint(fields=["station", "ts"], name="tideevent_once")]
        verbose_name = _("潮汐")
        verbose_name_plural = _("潮汐")


class RiskModel(models.Model):
    """The AHP risk model the operations centre edits: one row, its history on the audit trail."""

    factors = models.JSONField(_("风险因子"))
    matrix = models.JSONField(_("两两比较矩阵"))
    weights = models.JSONField(_("权重"))
    cr = models.FloatField(_("一致性比率 CR"))
    thresholds = models.JSONField(_("等级阈值"))
    updated_by = models.ForeignKey("core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("风险模型")
        verbose_name_plural = _("风险模型")


class DetectorSetting(models.Model):
    """Detector parameters for an area (a township) and a season (local month range).

    ``params`` overrides the defaults per detector: ``{"idle_pier_landing": {"min_dwell_min": 20}}``
    (names as in ``apps.elements.domain.detectors``). The most specific setting wins:
    township and season, then township all year, then county-wide season, then the
    county-wide all-year setting (which replaces the built-in defaults).
    """

    township = models.CharField(_("镇乡"), max_length=60, blank=True, help_text=_("留空表示全县"))
    month_from = models.PositiveSmallIntegerField(_("起始月"), default=1)
    month_to = models.PositiveSmallIntegerField(_("结束月"), default=12)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["township", "month_from", "id"]
        verbose_name = _("检测规则设置")
        verbose_name_plural = _("检测规则设置")

    @property
    def all_year(self) -> bool:
        return (self.month_from, self.month_to) in ((1, 12),) or self.month_to % 12 + 1 == self.month_from


class FieldSignal(models.Model):
    """A signal from another module (a grid worker's report, a market finding ...) near the coast.

    The score takes it as corroboration when it lies near the geofence and time of a vessel stop.
    """

    kind = models.CharField(_("类型"), max_length=40)
    lon = models.FloatField()
    lat = models.FloatField()
    at = models.DateTimeField(_("时间"), db_index=True)
    weight = models.FloatField(_("权重"), default=1.0, help_text=_("0-1"))
    ref = models.CharField(_("来源记录"), max_length=120, blank=True, help_text=_("如 sources.report:12"))
    details = models.JSONField(_("证据"), default=dict, blank=True, help_text=_("进入预警证据的内容，如抓拍照片、设备编号"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("外部线索信号")
        verbose_name_plural = _("外部线索信号")


class RadarAssociation(models.Model):
    """A radar track found to be a cooperative (AIS/Beidou) vessel: "radar R2 track 17 = MMSI 412440001"."""

    radar_target = models.CharField(_("雷达目标"), max_length=40, db_index=True, help_text=_("radar:<雷达编号>:<航迹号>"))
    sensor_code = models.CharField(_("雷达"), max_length=60, db_index=True)
    target_number = models.PositiveIntegerField(_("目标编号"))
    vessel_id = models.CharField(_("船舶（MMSI/北斗）"), max_length=40, db_index=True)
    since = models.DateTimeField(_("关联起始"))
    last = models.DateTimeField(_("最近确认"), db_index=True)
    mean_distance_m = models.FloatField(_("平均距离（米）"))
    samples = models.PositiveIntegerField(_("比对次数"), default=0)
    active = models.BooleanField(_("有效"), default=True)

    class Meta:
        ordering = ["-last", "-id"]
        constraints = [models.UniqueConstraint(fields=["radar_target", "vessel_id"], name="radar_association_once")]
        verbose_name = _("雷达航迹关联")
        verbose_name_plural = _("雷达航迹关联")

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        from django.utils import timezone

        since = timezone.localtime(self.since).strftime("%H:%M")
        return (f"雷达 {self.sensor_code} 目标 {self.target_number} = {self.vessel_id}"
                f"（自 {since} 起，平均距离 {self.mean_distance_m:.0f} 米）")
