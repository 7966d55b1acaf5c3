"""A warning's evidence in words: labelled rows with units and Beijing times, never raw keys and floats.

``evidence_rows(mapping)`` turns a detector's parameters or findings (``{"min_dwell_min": 30.0,
"enabled": True, "kinds": ["pier", "cove"], "stop_start": "2026-12-01T18:10:00+00:00"}``) into
``[("最短停留", "30 分钟"), ("启用", "是"), ("适用点位类型", "码头、岙口"), ("停靠开始", "2026-12-02 02:10")]``.
Known keys have a Chinese label; the unit comes from the key's suffix (``_min``, ``_m``, ``_kn``,
``_h``, ``_s``, ``_deg``), so a new parameter reads sensibly before anyone labels it.
"""
from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

LABELS = {
    # detector parameters
    "enabled": _("启用"), "kinds": _("适用点位类型"), "statuses": _("适用点位状态"), "max_speed_kn": _("视为停船的航速上限"),
    "min_dwell_min": _("触发所需夜间停留"), "unload_min": _("卸货时长（行为分满分）"), "mooring_min": _("超过即视为停泊"),
    "night_start": _("夜间开始"), "night_end": _("夜间结束"), "require_night": _("仅夜间"),
    "min_gap_min": _("信号中断下限"), "max_gap_min": _("信号中断上限"), "long_gap_min": _("长时中断"),
    "near_coast_m": _("离岸距离上限"), "near_pier_m": _("近码头距离"), "coastal_risk": _("近岸风险系数"),
    "max_plausible_kn": _("合理航速上限"), "nowhere_m": _("原地不动距离"), "ignore_in_port": _("在港内不计"),
    "min_stop_min": _("最短停靠"), "window_h": _("统计时段"), "min_separation_h": _("两次停靠最短间隔"),
    "by_group": _("按布控分组合并"), "max_distance_m": _("最大距离"), "min_duration_min": _("最短持续"),
    "min_port_distance_m": _("离港距离下限"), "max_time_skew_s": _("船位时间差上限"), "max_pause_min": _("最长中断"),
    "sample_interval_s": _("采样间隔"), "location_risk": _("地点风险系数"), "max_stay_min": _("探路船停留上限"),
    "max_stop_min": _("探路船停船上限"), "probe_max_speed_kn": _("探路船航速上限"), "window_min": _("跟进时限"),
    "min_lead_min": _("最短领先时间"), "follower_stop_min": _("跟进船停靠下限"), "before_min": _("停靠前时段"),
    "after_min": _("停靠后时段"),
    # findings
    "dwell_min": _("停留时长"), "night_dwell_min": _("夜间停留时长"), "stop_start": _("停靠开始"),
    "stop_last_seen": _("最后一次看到"), "longest_silence_min": _("最长信号中断"), "silent_at_pier": _("在码头关闭信号"),
    "scouted_by": _("探路船"), "duration_min": _("持续时长"), "min_distance_m": _("最近距离"),
    "close_samples": _("近距离船位数"), "gap_min": _("信号中断时长"), "distance_m": _("距离"),
    "implied_speed_kn": _("推算航速"), "stops": _("停靠次数"), "stops_in_burst": _("本轮停靠次数"),
    "intervals_h": _("停靠间隔"), "lag_min": _("相隔"), "probe_arrive": _("探路船到达"), "probe_leave": _("探路船离开"),
    "probe_stay_min": _("探路船停留"), "follower_arrive": _("跟进船到达"), "scout": _("探路船"), "follower": _("跟进船"),
    "arrive": _("到达"), "captures": _("卡口抓拍"), "vessel": _("船舶"), "ts": _("时间"), "plate": _("车牌"),
    "checkpoint_id": _("卡口"), "status": _("状态"),
}
UNITS = (("_min", _("分钟")), ("_kn", _("节")), ("_m", _("米")), ("_h", _("小时")), ("_s", _("秒")), ("_deg", "°"),
         ("_pct", "%"))
VALUE_LABELS = {
    "pier": _("码头"), "cove": _("岙口"), "beach": _("沙滩"), "landing_point": _("登陆点"), "anchorage": _("锚地"),
    "idle": _("闲置"), "active": _("在用"), "watched": _("布控车辆"), "unknown": _("未登记车辆"),
}


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}" if abs(value) >= 10_000 else str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{value:.1f}".rstrip("0").rstrip(".")


def _when(value: str | datetime) -> str | None:
    dt = value if isinstance(value, datetime) else parse_datetime(value) if isinstance(value, str) and len(value) >= 16 else None
    if dt is None:
        return None
    if timezone.is_naive(dt):
        dt = dt.replace(tzinfo=UTC)
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M")


def value_text(key: str, value: Any) -> str:
    """One value in words, with the unit its key names."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("是") if value else _("否"))
    if isinstance(value, time):
        return value.strftime("%H:%M")
    when = _when(value) if isinstance(value, (str, datetime)) else None
    if when:
        return when
    if isinstance(value, (int, float)):
        unit = next((str(u) for suffix, u in UNITS if key.endswith(suffix)), "")
        return f"{_number(value)} {unit}".strip()
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            return "；".join("，".join(f"{label_of(k)} {value_text(k, v)}" for k, v in item.items()) for item in value)
        return "、".join(value_text(key, v) for v in value) or "—"
    if isinstance(value, dict):
        return "，".join(f"{label_of(k)} {value_text(k, v)}" for k, v in value.items()) or "—"
    return str(VALUE_LABELS.get(value, value))


def label_of(key: str) -> str:
    return str(LABELS.get(key, key.replace("_", " ")))


def evidence_rows(mapping: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value in words) for each entry, in the order the labels are listed above, then the rest."""
    order = {k: i for i, k in enumerate(LABELS)}
    items = sorted((mapping or {}).items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return [(label_of(k), value_text(k, v)) for k, v in items]
