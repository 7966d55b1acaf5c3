"""Reading a registry file (CSV or XLSX) into checked rows; no database writes.

Headers are Chinese (as the county's spreadsheets are) or the English field names. Every
row is either a :class:`RegistryRow` or an error ``(row number, message)``; one bad row
never stops the others.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.translation import gettext as _

from . import domain

HEADERS = {
    "类别": "kind", "kind": "kind",
    "名称": "name", "姓名": "name", "name": "name",
    "标识": "key", "车牌": "key", "船号": "key", "mmsi": "key", "号码": "key", "key": "key",
    "证件号码": "id_number", "身份证号": "id_number", "id_number": "id_number",
    "电话": "phones", "联系电话": "phones", "phones": "phones",
    "身份": "roles", "角色": "roles", "roles": "roles",
    "关注等级": "watch_level", "等级": "watch_level", "watch_level": "watch_level",
    "列管理由": "reason", "理由": "reason", "reason": "reason",
    "来源": "source", "source": "source",
    "到期日期": "expires", "到期": "expires", "expires": "expires",
    "车型": "vehicle_kind", "vehicle_kind": "vehicle_kind",
    "所有人": "owner", "owner": "owner",
    "经度": "lon", "lon": "lon", "纬度": "lat", "lat": "lat",
}
KIND_ALIASES = {
    "人员": "person", "人": "person", "person": "person",
    "车辆": "vehicle", "车": "vehicle", "vehicle": "vehicle",
    "船舶": "vessel", "船": "vessel", "vessel": "vessel",
    "企业": "company", "市场主体": "company", "公司": "company", "company": "company",
    "电话": "phone", "手机": "phone", "phone": "phone",
    "场所": "place", "地点": "place", "place": "place",
}
WATCH_ALIASES = {"": "", "一般": "", "关注": "attention", "attention": "attention", "重点": "key", "key": "key",
                 "布控": "control", "control": "control"}


@dataclass
class RegistryRow:
    row: int
    kind: str
    key: str
    name: str
    id_number: str = ""
    phones: list[str] = field(default_factory=list)
    roles: str = ""
    watch_level: str = ""
    reason: str = ""
    source: str = ""
    expires_at: datetime | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    lon: float | None = None
    lat: float | None = None


@dataclass
class RegistryFile:
    rows: list[RegistryRow]
    errors: list[tuple[int, str]]


def _table(data: bytes, filename: str) -> list[list[Any]]:
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    text = data.decode("utf-8-sig") if not data.startswith(b"\xff\xfe") else data.decode("utf-16")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()


def _expiry(v: Any) -> datetime | None:
    if v in (None, ""):
        return None
    if isinstance(v, datetime):
        return v if v.tzinfo else v.replace(tzinfo=UTC)
    if isinstance(v, date):
        return datetime.combine(v, time(23, 59), tzinfo=UTC)
    d = date.fromisoformat(_cell(v).replace("/", "-"))
    return datetime.combine(d, time(23, 59), tzinfo=UTC)


def read_registry(data: bytes, filename: str) -> RegistryFile:
    """Rows of a registry file; a file that cannot be read at all raises ``ValueError`` (Chinese)."""
    try:
        table = _table(data, filename)
    except Exception as exc:  # a broken file is one clear error, not a crash
        raise ValueError(_("无法读取文件（请使用 UTF-8 CSV 或 XLSX）：%(error)s") % {"error": exc}) from exc
    table = [r for r in table if any(_cell(c) for c in r)]
    if not table:
        raise ValueError(_("文件为空。"))
    cols = [HEADERS.get(_cell(h).lower(), HEADERS.get(_cell(h))) for h in table[0]]
    if "kind" not in cols or ("name" not in cols and "key" not in cols):
        raise ValueError(_("缺少表头：至少需要“类别”和“名称”或“标识”。"))
    rows, errors = [], []
    for n, raw in enumerate(table[1:], start=2):
        values = {c: raw[i] for i, c in enumerate(cols) if c and i < len(raw)}
        try:
            rows.append(_row(n, values))
        except ValueError as exc:
            errors.append((n, str(exc)))
    return RegistryFile(rows=rows, errors=errors)


def _row(n: int, v: dict[str, Any]) -> RegistryRow:
    kind = KIND_ALIASES.get(_cell(v.get("kind")).lower())
    if kind is None:
        raise ValueError(_("未知的类别“%(kind)s”（人员/车辆/船舶/企业/电话/场所）") % {"kind": _cell(v.get("kind"))})
    name, key = _cell(v.get("name"))[:120], _cell(v.get("key"))
    watch = WATCH_ALIASES.get(_cell(v.get("watch_level")).lower())
    if watch is None:
        raise ValueError(_("未知的关注等级“%(level)s”（一般/关注/重点/布控）") % {"level": _cell(v.get("watch_level"))})
    try:
        expires = _expiry(v.get("expires"))
    except ValueError as exc:
        raise ValueError(_("到期日期格式应为 YYYY-MM-DD")) from exc
    row = RegistryRow(row=n, kind=kind, key="", name=name, watch_level=watch, reason=_cell(v.get("reason"))[:200],
                      source=_cell(v.get("source"))[:40], expires_at=expires, roles=_cell(v.get("roles"))[:120])
    phones = [domain.normalise_phone(p) for p in _cell(v.get("phones")).replace("；", ";").replace("，", ",").replace(";", ",").split(",") if p.strip()]
    if any(len(p) < 7 or len(p) > 15 for p in phones):
        raise ValueError(_("电话号码无效"))
    row.phones = phones
    if kind == "person":
        if not name:
            raise ValueError(_("人员必须填写姓名"))
        idn = _cell(v.get("id_number")).upper()
        if idn and not domain.valid_id_number(idn):
            raise ValueError(_("证件号码无效（18 位，校验位不符）"))
        row.id_number = idn
    elif kind == "vehicle":
        key = domain.normalise_plate(key or name)
        if not domain.plates_in(key):
            raise ValueError(_("车牌号无效：%(plate)s") % {"plate": key or "-"})
        row.attrs = {k: _cell(v.get(k)) for k in ("vehicle_kind", "owner") if _cell(v.get(k))}
    elif kind == "phone":
        key = domain.normalise_phone(key or name)
        if not 7 <= len(key) <= 15:
            raise ValueError(_("电话号码无效"))
    elif kind == "vessel":
        key = key.strip()
        if not key:
            raise ValueError(_("船舶必须填写 MMSI/终端号（标识）"))
    else:
        key = key or name
        if not key:
            raise ValueError(_("必须填写名称或标识"))
    if kind == "place" and (v.get("lon") not in (None, "") or v.get("lat") not in (None, "")):
        try:
            row.lon, row.lat = float(_cell(v.get("lon"))), float(_cell(v.get("lat")))
        except ValueError as exc:
            raise ValueError(_("经纬度必须是数字")) from exc
        if not (-180 <= row.lon <= 180 and -90 <= row.lat <= 90):
            raise ValueError(_("经纬度超出范围"))
    row.key = key[:120]
    row.name = row.name or key
    return row
