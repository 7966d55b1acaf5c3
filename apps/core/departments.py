"""The 14 departments of the county's joint anti-smuggling work (seed 003 and the domain brief)."""
from .models import Department

K = Department.Kind
# code, name, English name, kind, hosts the joint operations centre
COUNTY_DEPARTMENTS: list[tuple[str, str, str, str, bool]] = [
    ("police", "县公安局", "Public Security Bureau", K.LEAD, False),
    ("antismuggling", "县口岸打私办", "Port Anti-smuggling Office", K.LEAD, True),
    ("coastguard", "海警工作站", "Coast Guard", K.ENFORCEMENT, False),
    ("maritime", "海事处", "Maritime Safety Administration", K.ENFORCEMENT, False),
    ("customs", "海关", "Customs", K.ENFORCEMENT, False),
    ("fisheries", "县水利和渔业局", "Water Resources and Fisheries Bureau", K.ADMINISTRATIVE, False),
    ("commerce", "县商务局", "Commerce Bureau", K.ADMINISTRATIVE, False),
    ("tobacco", "县烟草专卖局", "Tobacco Monopoly Bureau", K.ENFORCEMENT, False),
    ("market", "县市场监管局", "Market Supervision Bureau", K.ENFORCEMENT, False),
    ("port", "县港航管理中心", "Port and Shipping Centre", K.ADMINISTRATIVE, False),
    ("discipline", "县纪委监委", "Discipline Inspection Commission", K.SUPERVISION, False),
    ("gaotang", "高塘岛乡", "Gaotang Island Township", K.TOWNSHIP, False),
    ("hepu", "鹤浦镇", "Hepu Town", K.TOWNSHIP, False),
    ("dingtang", "定塘镇", "Dingtang Town", K.TOWNSHIP, False),
]


def ensure_departments() -> dict[str, Department]:
    """Create or update the county's departments; returns them by code (idempotent)."""
    result = {}
    for code, name, name_en, kind, hosts in COUNTY_DEPARTMENTS:
        dept, _ = Department.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "kind": kind, "hosts_operations_centre": hosts}
        )
        result[code] = dept
    return result
