"""Reads of the registry: watched plates for the pipeline, an element as a user may see it,
the network around elements (nodes, links, communities), a path, a timeline, the exports."""
from __future__ import annotations

import dataclasses
import io
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import graph
from .models import Element, Hit, Link

NODE_FIELDS = ("pk", "kind", "label", "watch_level", "roles", "id_masked", "department__name", "expires_at", "vessel_id")


def watched_plates() -> frozenset[str]:
    """Plates of registry vehicles with a watch level that has not expired (the pipeline's vehicle check)."""
    now = timezone.now()
    return frozenset(
        Element.objects.filter(kind=Element.Kind.VEHICLE).exclude(watch_level="")
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).values_list("key", flat=True)
    )


def element_payload(el: Element) -> dict[str, Any]:
    """An element as every user who may see it sees it: masked label and ID number, never the sealed identity."""
    return {
        "id": el.pk, "kind": el.kind, "kind_display": str(el.get_kind_display()), "key": _public_key(el),
        "label": el.label, "roles": el.roles, "id_masked": el.id_masked, "watch_level": el.watch_level,
        "watch_level_display": str(el.get_watch_level_display()), "reason": el.reason, "source": el.source,
        "department": el.department.name if el.department_id else None,
        "expires_at": el.expires_at.isoformat() if el.expires_at else None, "attrs": el.attrs,
        "lon": el.lon, "lat": el.lat,
    }


def _public_key(el) -> str:
    return "" if el.kind == Element.Kind.PERSON else el.key


def _link_row_payload(r: tuple) -> dict[str, Any]:
    return {
        "id": r[0], "source": r[1], "target": r[2], "kind": r[3], "kind_display": str(Link.Kind(r[3]).label),
        "origin": r[4], "origin_display": str(Link.Source(r[4]).label), "label": r[5] or (r[11] or ""),
        "confidence": round(float(r[6]), 2), "start": _iso(r[7]), "end": _iso(r[8]), "seen_count": r[9],
        "active": bool(r[10]), "case": r[11], "case_closed": r[12] == "closed",
    }


def _iso(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    return v.isoformat()


def network(*, user, starts: list[int], hops: int = 2, f: graph.LinkFilter = graph.LinkFilter()) -> dict[str, Any]:
    """The elements within ``hops`` links of ``starts`` that ``user`` may see, and the links between them."""
    visible = Element.objects.visible_to(user)
    starts = list(visible.filter(pk__in=starts).values_list("pk", flat=True))
    scoped = _scoped(f, user)
    ids, rows = graph.neighbourhood(starts, hops=hops, f=scoped)
    return _graph_payload(ids, rows, starts=starts, truncated=len(rows) >= graph.MAX_LINKS)


def _scoped(f: graph.LinkFilter, user) -> graph.LinkFilter:
    """``f`` limited to the elements ``user`` may see (command roles and auditors: all)."""
    if _reads_all(user):
        return f

    def visible(ids: set[int]) -> set[int]:
        return set(Element.objects.visible_to(user).filter(pk__in=list(ids)).values_list("pk", flat=True))

    return dataclasses.replace(f, visible=visible)


def _reads_all(user) -> bool:
    from apps.core.roles import READ_ALL_ROLES

    return getattr(user, "role", None) in READ_ALL_ROLES


def _graph_payload(ids, rows, *, starts, truncated=False) -> dict[str, Any]:
    groups = graph.communities(ids, rows)
    nodes = []
    for el in Element.objects.filter(pk__in=list(ids)).select_related("department"):
        p = element_payload(el)
        p["community"] = groups.get(el.pk, 0)
        p["start"] = el.pk in starts
        nodes.append(p)
    return {"nodes": nodes, "links": [_link_row_payload(r) for r in rows], "truncated": truncated}


def path(*, user, a: int, b: int, f: graph.LinkFilter = graph.LinkFilter()) -> dict[str, Any] | None:
    scoped = _scoped(f, user)
    found = graph.shortest_path(a, b, f=scoped)
    if found is None:
        return None
    nodes, rows = found
    payload = _graph_payload(nodes, rows, starts=[a, b])
    order = {n: i for i, n in enumerate(nodes)}
    payload["nodes"].sort(key=lambda n: order[n["id"]])
    payload["path"] = nodes
    return payload


def timeline(*, el: Element, user, limit: int = 200) -> list[dict[str, Any]]:
    """Sightings of an element: track stops and warnings (vessel), checkpoint captures (vehicle),
    tips and market findings it collided with, cases it was linked by — newest first."""
    from apps.elements.models import VehicleCaptureRecord, Warning

    items: list[dict[str, Any]] = []
    if el.kind == Element.Kind.VESSEL:
        for w in Warning.objects.filter(vessels__contains=[el.key]).order_by("-start")[:limit] if _json_contains() else \
                [w for w in Warning.objects.order_by("-start")[:2000] if el.key in (w.vessels or [])][:limit]:
            items.append({"at": w.start.isoformat(), "kind": "warning", "kind_display": _("预警"),
                          "text": f"{w.get_kind_display()} · {w.get_level_display()}" + (f" · {w.geofence.name}" if w.geofence_id else ""),
                          "ref": f"warning:{w.pk}"})
    if el.kind == Element.Kind.VEHICLE:
        for c in VehicleCaptureRecord.objects.filter(plate=el.key).order_by("-ts")[:limit]:
            items.append({"at": c.ts.isoformat(), "kind": "capture", "kind_display": _("卡口过车"),
                          "text": c.checkpoint_code, "ref": f"capture:{c.pk}"})
    for h in Hit.objects.filter(element=el).order_by("-created_at")[:limit]:
        items.append({"at": h.created_at.isoformat(), "kind": h.subject, "kind_display": str(h.get_subject_display()),
                      "text": h.summary, "ref": f"{h.subject}:{h.subject_id}"})
    seen_cases = set()
    for link in Link.objects.filter(Q(src=el) | Q(dst=el), case__isnull=False).select_related("case"):
        if link.case_id in seen_cases:
            continue
        seen_cases.add(link.case_id)
        items.append({"at": (link.start or link.created_at).isoformat(), "kind": "case", "kind_display": _("案件"),
                      "text": f"{link.case.number} {link.case.title} · {link.case.get_status_display()}",
                      "ref": f"case:{link.case_id}"})
    items.sort(key=lambda i: i["at"], reverse=True)
    return items[:limit]


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


# --------------------------------------------------------------------------- exports
def network_graphml(payload: dict[str, Any]) -> bytes:
    """The network as GraphML (for the analysts' own tools); people appear masked."""
    import networkx as nx

    g = nx.MultiGraph()
    for n in payload["nodes"]:
        g.add_node(n["id"], kind=n["kind"], label=n["label"], key=n["key"], watch_level=n["watch_level"] or "",
                   id_masked=n["id_masked"] or "", community=int(n.get("community", 0)))
    for e in payload["links"]:
        g.add_edge(e["source"], e["target"], key=e["id"], kind=e["kind"], origin=e["origin"], label=e["label"],
                   confidence=float(e["confidence"]), start=e["start"] or "", end=e["end"] or "")
    buf = io.BytesIO()
    nx.write_graphml(g, buf, encoding="utf-8")
    return buf.getvalue()


def network_xlsx(payload: dict[str, Any], *, generated_at: datetime | None = None) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = _("要素")
    ws.append([_("编号"), _("类别"), _("名称"), _("识别码"), _("证件号（脱敏）"), _("身份"), _("关注等级"), _("归属部门"), _("群组")])
    for n in payload["nodes"]:
        ws.append([n["id"], n["kind_display"], n["label"], n["key"], n["id_masked"], n["roles"],
                   n["watch_level_display"], n["department"] or "", n.get("community", 0)])
    ws2 = wb.create_sheet(_("关联"))
    ws2.append([_("编号"), _("要素甲"), _("要素乙"), _("关系"), _("来源"), _("说明"), _("可信度"), _("开始"), _("结束"), _("次数")])
    for e in payload["links"]:
        ws2.append([e["id"], e["source"], e["target"], e["kind_display"], e["origin_display"], e["label"],
                    e["confidence"], e["start"] or "", e["end"] or "", e["seen_count"]])
    if generated_at:
        ws.append([])
        ws.append([_("导出时间"), generated_at.isoformat()])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
