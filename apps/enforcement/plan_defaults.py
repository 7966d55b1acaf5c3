"""Default dispatch plans: the four-level, sea / shore / road / market control of seed 003 (III.4).

Red sends every force with the shortest deadlines; orange the core joint forces; yellow a
verification by police, coast guard and the township; blue a township check on site.
Deadlines are minutes to acknowledge / to arrive / to feed back. The operations centre
edits the plans afterwards (API and admin); these defaults are written only where a plan
does not exist yet.
"""
from __future__ import annotations

# level -> (ack_minutes, arrive_minutes, feedback_minutes)
LEVEL_DEADLINES: dict[str, tuple[int, int, int]] = {
    "red": (5, 30, 120),
    "orange": (10, 60, 240),
    "yellow": (30, 120, 720),
    "blue": (60, 240, 1440),
}

TOWNSHIP = "@township"  # the township of the warning's place (falls back to the operations centre)

# (sector, department code or TOWNSHIP, title, instructions)
Subtask = tuple[str, str, str, str]

ANY_PLAN: dict[str, list[Subtask]] = {
    "red": [
        ("sea", "coastguard", "海上拦截", "海警艇立即前出，拦截涉事船舶并登临检查；通报母船、探路船动向。"),
        ("sea", "maritime", "海上管控", "核查涉事船舶 AIS/北斗动态，协助封控相关水域。"),
        ("shore", "police", "码头布控", "派警力赶赴码头/岙口，控制现场人员、车辆和货物。"),
        ("road", "police", "路面堵截", "在通往码头的道路卡口设卡，拦截接驳运输车辆。"),
        ("road", TOWNSHIP, "属地封控", "镇乡网格队伍封控进出路口，协助排查可疑人员车辆。"),
        ("shore", "fisheries", "渔船核查", "核查涉事渔船证照、船籍和船东信息。"),
        ("market", "customs", "货物查验", "对涉案货物进行属性认定、查验和查扣。"),
        ("market", "tobacco", "卷烟鉴别", "对涉案卷烟进行鉴别，对接扣押卷烟的接收处置。"),
        ("market", "market", "市场排查", "排查冷库、加油站、销售点等下游市场主体。"),
    ],
    "orange": [
        ("sea", "coastguard", "海上拦截", "海警艇前出拦截涉事船舶并登临检查。"),
        ("shore", "police", "码头布控", "派警力赶赴码头/岙口，控制现场人员、车辆和货物。"),
        ("road", TOWNSHIP, "属地封控", "镇乡网格队伍封控进出路口，协助排查。"),
        ("market", "customs", "货物查验", "对可能的涉案货物进行查验和属性认定。"),
    ],
    "yellow": [
        ("shore", "police", "码头核查", "派员到码头核查人员、车辆和船舶情况并反馈。"),
        ("sea", "coastguard", "海上巡查", "结合巡航安排，对涉事水域巡查核实。"),
        ("shore", TOWNSHIP, "岸线核查", "属地网格员到岸线核实并拍照反馈。"),
    ],
    "blue": [
        ("shore", TOWNSHIP, "属地核查", "网格员到现场核实情况，拍照定位反馈。"),
    ],
}

DARK_VESSEL_PLAN: dict[str, list[Subtask]] = {
    "red": [
        ("sea", "coastguard", "海上拦截", "海警艇前出，按最后位置搜寻并拦截失联船舶。"),
        ("sea", "maritime", "海上管控", "调取雷达与 AIS 历史轨迹，协助搜寻失联船舶。"),
        ("shore", "fisheries", "渔船核查", "核查船籍、船东，联系船东说明关闭信号原因。"),
        ("shore", "police", "码头布控", "对失联船舶可能靠泊的码头布控。"),
        ("road", TOWNSHIP, "属地封控", "镇乡网格队伍封控码头进出路口。"),
    ],
    "orange": [
        ("sea", "coastguard", "海上拦截", "按最后位置搜寻并拦截失联船舶。"),
        ("sea", "maritime", "海上管控", "调取雷达与 AIS 历史轨迹，协助搜寻。"),
        ("shore", "fisheries", "渔船核查", "核查船籍、船东，联系船东说明关闭信号原因。"),
    ],
    "yellow": [
        ("sea", "maritime", "信号核查", "联系船舶恢复信号，核查关闭期间轨迹。"),
        ("shore", "fisheries", "渔船核查", "联系船东说明关闭信号原因并登记。"),
    ],
    "blue": [
        ("shore", "fisheries", "船东提醒", "电话联系船东核实并提醒保持信号开启。"),
    ],
}

ILLEGAL_GOODS_PLAN: dict[str, list[Subtask]] = {
    "red": [
        ("market", "market", "市场查处", "对来源不明货物所在场所立即检查、封存。"),
        ("market", "customs", "货物查验", "认定货物属性，涉嫌走私的依法查扣。"),
        ("market", "tobacco", "卷烟鉴别", "涉及卷烟的进行鉴别并对接处置。"),
        ("market", "commerce", "成品油流通核查", "涉及成品油的核查经营资质和购销台账。"),
        ("shore", "police", "线索追查", "追查货物来源、运输环节和关联人员。"),
    ],
    "orange": [
        ("market", "market", "市场查处", "对来源不明货物所在场所检查、封存。"),
        ("market", "customs", "货物查验", "认定货物属性，涉嫌走私的依法查扣。"),
        ("shore", "police", "线索追查", "追查货物来源和关联人员。"),
    ],
    "yellow": [
        ("market", "market", "市场核查", "核查货物合法来源凭证。"),
        ("market", "tobacco", "卷烟核查", "涉及卷烟的核查准运证和进货渠道。"),
    ],
    "blue": [
        ("market", "market", "市场核查", "核查货物合法来源凭证并反馈。"),
    ],
}

DARK_TARGET_PLAN: dict[str, list[Subtask]] = {
    "red": [
        ("sea", "coastguard", "海上拦截", "按雷达目标实时位置前出拦截，登临查明船舶身份和货物。"),
        ("sea", "maritime", "目标识别", "调取雷达、视频资料识别目标，核查是否有 AIS/北斗未报告的船舶。"),
        ("shore", "police", "码头布控", "对目标驶向的码头/岙口布控，控制现场人员、车辆和货物。"),
        ("road", TOWNSHIP, "属地封控", "镇乡网格队伍封控码头进出路口。"),
    ],
    "orange": [
        ("sea", "coastguard", "海上拦截", "按雷达目标实时位置前出拦截并查明身份。"),
        ("sea", "maritime", "目标识别", "调取雷达、视频资料识别目标。"),
        ("shore", "police", "码头布控", "对目标驶向的码头/岙口布控。"),
    ],
    "yellow": [
        ("sea", "maritime", "目标识别", "调取雷达、视频资料识别目标并反馈。"),
        ("shore", TOWNSHIP, "岸线核查", "属地网格员到目标附近岸线核实并拍照反馈。"),
    ],
    "blue": [
        ("sea", "maritime", "目标核查", "核查雷达目标身份并反馈。"),
    ],
}

SENSOR_ALERT_PLAN: dict[str, list[Subtask]] = {
    "red": [
        ("shore", "police", "码头处置", "立即派警力赶赴码头，查看视频/红外告警原因，控制现场。"),
        ("road", TOWNSHIP, "属地封控", "镇乡网格队伍封控码头进出路口。"),
    ],
    "orange": [
        ("shore", "police", "码头核查", "派警力赶赴码头核查视频/红外告警原因。"),
        ("shore", TOWNSHIP, "属地核查", "码长或网格员到场核实并拍照反馈。"),
    ],
    "yellow": [
        ("shore", TOWNSHIP, "属地核查", "码长或网格员到场核实并拍照反馈。"),
    ],
    "blue": [
        ("shore", TOWNSHIP, "视频复核", "属地复核视频抓拍，必要时到场核实。"),
    ],
}

# kind, name, auto-dispatch minimum level, subtasks by level
DEFAULT_PLANS: list[tuple[str, str, str, dict[str, list[Subtask]]]] = [
    ("any", "通用“四位一体”分级处置预案", "orange", ANY_PLAN),
    ("dark_vessel", "船舶关闭信号处置预案", "orange", DARK_VESSEL_PLAN),
    ("illegal_goods", "来源不明货物处置预案", "orange", ILLEGAL_GOODS_PLAN),
    ("dark_target", "雷达暗目标处置预案", "orange", DARK_TARGET_PLAN),
    ("sensor_alert", "闲置码头夜间感知告警处置预案", "orange", SENSOR_ALERT_PLAN),
]

# level -> the routes a new task is notified through ("notify"), and the routes an
# unanswered task re-notifies through at its missed deadline ("escalate"). Routes: robot
# (the department's DingTalk / WeCom group robots), sms (the department's duty phone and
# its heads' phones), email. The inbox page and live push are always there.
LEVEL_CHANNELS: dict[str, dict[str, list[str]]] = {
    "red": {"notify": ["robot", "sms"], "escalate": ["sms"]},
    "orange": {"notify": ["robot"], "escalate": ["sms"]},
    "yellow": {"notify": [], "escalate": ["robot"]},
    "blue": {"notify": [], "escalate": []},
}
PLAN_ROUTES = ("robot", "sms", "email")


def level_channels() -> dict[str, dict[str, list[str]]]:
    """A fresh copy of the defaults (the model field's default)."""
    return {level: {k: list(v) for k, v in routes.items()} for level, routes in LEVEL_CHANNELS.items()}
