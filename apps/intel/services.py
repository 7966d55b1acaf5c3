"""Writes of the key-element registry: elements, people (sealed identity), links, imports,
automatic links from the other modules, collisions of tips and market findings, and the
level rule for a new link that reaches a closed case.

Every write is atomic, on the audit trail (``apps.core.audit``), and validates first with a
clear Chinese ``ValidationError``.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from apps.core.audit import audit_actor, record_access
from apps.reporting import crypto

from . import domain, importers
from .models import Element, Hit, Link, WatchLevel

log = logging.getLogger(__name__)

IDENTITY_PERMISSION = "intel.view_person_identity"
#: confidence of a vehicle–vessel co-occurrence seen once, and from the second time on
CO_OCCURRENCE_CONFIDENCE = (0.5, 0.8)
CASE_LINK_CONFIDENCE = 0.9


def _context_changed() -> None:
    """The watched plates feed the track pipeline's vehicle check: rebuild its context."""
    from apps.elements.runtime import context_changed

    transaction.on_commit(context_changed)


# --------------------------------------------------------------------------- elements
def element_save(*, kind: str, key: str, label: str, actor=None, department=None, **fields: Any) -> tuple[Element, bool]:
    """Create or update the element (``kind``, ``key``); only the fields given are changed."""
    if kind not in Element.Kind.values:
        raise ValidationError(_("未知的要素类别：%(kind)s") % {"kind": kind})
    key = (key or "").strip()[:120]
    if not key:
        raise ValidationError(_("要素缺少识别码。"))
    if "watch_level" in fields and fields["watch_level"] not in WatchLevel.values:
        raise ValidationError(_("未知的关注等级。"))
    with transaction.atomic(), audit_actor(actor):
        el = Element.objects.select_for_update().filter(kind=kind, key=key).first()
        created = el is None
        if created:
            el = Element(kind=kind, key=key, label=(label or key)[:120], department=department,
                         created_by=actor if getattr(actor, "pk", None) else None)
        elif label:
            el.label = label[:120]
        for name, value in fields.items():
            if value is None:
                continue
            if name == "attrs":
                value = {**el.attrs, **value}
            setattr(el, name, value)
        if created or el.department_id is None:
            el.department = el.department or department
        el.save()
    if kind == Element.Kind.VEHICLE:
        _context_changed()
    return el, created


def _person_key(*, id_number: str, name: str, phones: Sequence[str], scope: str = "") -> str:
    """A stable key that never shows the ID number or name (keyed hash)."""
    if id_number:
        return "id:" + salted_hmac("intel.person", id_number.upper()).hexdigest()[:32]
    basis = f"{scope}|{name}|{','.join(sorted(phones))}"
    return "nm:" + salted_hmac("intel.person", basis).hexdigest()[:32]


def person_save(*, name: str, id_number: str = "", phones: Sequence[str] = (), roles: str = "", actor=None,
                department=None, scope: str = "", source: str = "", **fields: Any) -> tuple[Element, bool]:
    """A person: name and ID number sealed, ``label`` 张某, ``id_masked``; each phone an element linked by "uses"."""
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("人员必须填写姓名。"))
    id_number = (id_number or "").strip().upper()
    if id_number and not domain.valid_id_number(id_number):
        raise ValidationError(_("证件号码无效（18 位，校验位不符）。"))
    phones = [domain.normalise_phone(p) for p in phones if p]
    key = _person_key(id_number=id_number, name=name, phones=phones, scope=scope)
    with transaction.atomic():
        el, created = element_save(
            kind=Element.Kind.PERSON, key=key, label=domain.mask_name(name), actor=actor, department=department,
            identity_ciphertext=crypto.seal({"name": name, "id_number": id_number}),
            id_masked=domain.mask_id_number(id_number) if id_number else None,
            roles=roles or None, source=source or None, **fields,
        )
        for phone in phones:
            ph, _c = element_save(kind=Element.Kind.PHONE, key=phone, label=phone, actor=actor, department=department,
                                  source=source or None)
            link_add(a=el, b=ph, kind=Link.Kind.USES, source=Link.Source.REGISTRY, confidence=0.9, actor=actor)
    return el, created


def person_identity_read(*, element: Element, actor, reason: str) -> dict[str, str]:
    """A person's name and full ID number, for a custodian; every read is an ACCESS entry on the audit trail."""
    if element.kind != Element.Kind.PERSON:
        raise ValidationError(_("只有人员有身份信息。"))
    if not (actor and actor.is_authenticated and actor.is_active and actor.has_perm(IDENTITY_PERMISSION)):
        raise PermissionDenied(_("只有身份信息保管员可以查看人员证件号码。"))
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("请填写查看理由。"))
    with audit_actor(actor):
        record_access(element)
    log.info("person identity of element %s read by user %s", element.pk, actor.pk)
    return crypto.unseal(element.identity_ciphertext) if element.identity_ciphertext else {"name": "", "id_number": ""}


def custodian_group_ensure():
    """The reporting custodians also hold the people's identities (one group, two permissions)."""
    from django.contrib.auth.models import Permission

    from apps.reporting.services import custodian_group_ensure as reporting_group

    group = reporting_group()
    group.permissions.add(Permission.objects.get(content_type__app_label="intel", codename="view_person_identity"))
    return group


# --------------------------------------------------------------------------- import
def registry_import(*, data: bytes, filename: str, actor=None, department=None) -> dict[str, Any]:
    """Import a registry file (CSV/XLSX): every good row saved, every bad row reported with its number."""
    try:
        parsed = importers.read_registry(data, filename)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    department = department or getattr(actor, "department", None)
    report: dict[str, Any] = {"rows": len(parsed.rows) + len(parsed.errors), "created": 0, "updated": 0,
                              "errors": [{"row": n, "message": m} for n, m in parsed.errors]}
    for row in parsed.rows:
        common = dict(watch_level=row.watch_level, reason=row.reason or None, source=row.source or "registry",
                      expires_at=row.expires_at, actor=actor, department=department)
        try:
            with transaction.atomic():
                if row.kind == Element.Kind.PERSON:
                    _el, created = person_save(name=row.name, id_number=row.id_number, phones=row.phones,
                                               roles=row.roles, **common)
                else:
                    _el, created = element_save(kind=row.kind, key=row.key, label=row.name, roles=row.roles or None,
                                                attrs=row.attrs or None, lon=row.lon, lat=row.lat, **common)
        except ValidationError as exc:
            report["errors"].append({"row": row.row, "message": "；".join(exc.messages)})
            continue
        report["created" if created else "updated"] += 1
    report["errors"].sort(key=lambda e: e["row"])
    return report


# --------------------------------------------------------------------------- links
def link_add(*, a: Element, b: Element, kind: str, source: str, ref: str = "", label: str = "", case=None,
             start: datetime | None = None, end: datetime | None = None, confidence: float = 0.5, note: str = "",
             actor=None) -> Link:
    """Add the link (idempotent on ends, kind, source, ref): a repeat widens the span and keeps the higher confidence.

    After commit, live warnings reached by the link are re-checked (:func:`warnings_raise_for_link`).
    """
    if a.pk == b.pk:
        raise ValidationError(_("不能把要素与自身关联。"))
    if kind not in Link.Kind.values or source not in Link.Source.values:
        raise ValidationError(_("未知的关联类型或来源。"))
    try:
        confidence = float(confidence)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("可信度必须是 0 到 1 之间的数字。")) from exc
    if not 0.0 <= confidence <= 1.0:
        raise ValidationError(_("可信度必须是 0 到 1 之间的数字。"))
    if start and end and end < start:
        raise ValidationError(_("结束时间早于开始时间。"))
    src, dst = (a, b) if a.pk < b.pk else (b, a)
    with transaction.atomic(), audit_actor(actor):
        link = Link.objects.select_for_update().filter(src=src, dst=dst, kind=kind, source=source, ref=ref[:80]).first()
        new = link is None
        if new:
            link = Link(src=src, dst=dst, kind=kind, source=source, ref=ref[:80], label=label[:120], case=case,
                        start=start, end=end, confidence=confidence, note=note[:200],
                        created_by=actor if getattr(actor, "pk", None) else None)
            link.save()
        else:
            changed = not link.active
            link.active, link.retired_at = True, None
            if start and (link.start is None or start < link.start):
                link.start, changed = start, True
            if end and (link.end is None or end > link.end):
                link.end, changed = end, True
            if confidence > link.confidence:
                link.confidence, changed = confidence, True
            if changed:
                link.save()
        transaction.on_commit(lambda lid=link.pk: _recheck_on_commit(lid))
    return link


def _recheck_on_commit(link_id: int) -> None:
    try:
        warnings_raise_for_link(link_id=link_id)
    except Exception:
        log.exception("re-check of live warnings for link %s failed", link_id)


def link_retire(*, link: Link, actor, reason: str) -> Link:
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError(_("请填写撤销理由。"))
    if not link.active:
        raise ValidationError(_("该关联已撤销。"))
    with transaction.atomic(), audit_actor(actor):
        link.active = False
        link.retired_at = timezone.now()
        link.retired_by = actor if getattr(actor, "pk", None) else None
        link.note = f"{link.note} 撤销：{reason}".strip()[:200]
        link.save()
    return link


def _pairwise(items: Sequence[Element]) -> Iterable[tuple[Element, Element]]:
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            if a.pk != b.pk:
                yield a, b


# --------------------------------------------------------------------------- automatic links
def links_from_case(*, case) -> int:
    """People, vessels and vehicles of one case become elements linked "same case" (idempotent)."""
    department = case.departments.order_by("pk").first()
    members: list[Element] = []
    span = [t for t in (case.created_at, case.closed_at) if t is not None]
    for p in case.people.all():
        el, _c = person_save(name=p.name, id_number=p.id_number if domain.valid_id_number(p.id_number) else "",
                             roles=p.get_role_display(), scope="" if p.id_number else f"case:{case.pk}",
                             department=department, source="case")
        members.append(el)
    for v in case.vessels.all():
        ext = v.external_id or (v.vessel.external_id if v.vessel_id else "")
        el, _c = element_save(kind=Element.Kind.VESSEL, key=ext or f"name:{v.name}", label=v.name or ext,
                              vessel=v.vessel, department=department, source="case")
        members.append(el)
    for v in case.vehicles.all():
        plate = domain.normalise_plate(v.plate)
        el, _c = element_save(kind=Element.Kind.VEHICLE, key=plate, label=plate, department=department, source="case",
                              attrs={"vehicle_kind": v.description} if v.description else None)
        members.append(el)
    n = 0
    for a, b in _pairwise(members):
        link_add(a=a, b=b, kind=Link.Kind.SAME_CASE, source=Link.Source.CASE, ref=f"case:{case.pk}", label=case.number,
                 case=case, start=min(span), end=max(span), confidence=CASE_LINK_CONFIDENCE)
        n += 1
    return n


def links_from_vehicle_vessel(event) -> int:
    """A plate captured near a pier during a vessel's stop there (the vehicle–vessel finding): "seen together".

    One link per vessel and plate; each warning episode is one sighting, and from the second
    sighting on the link's confidence rises (a vessel and a truck seen together twice).
    """
    captures = (event.evidence or {}).get("captures") or []
    n = 0
    for vessel_id in event.vessels:
        vessel, _c = element_save(kind=Element.Kind.VESSEL, key=vessel_id, label=vessel_id, source="checkpoint")
        for cap in captures:
            plate = domain.normalise_plate(cap.get("plate", ""))
            if not plate:
                continue
            ts = cap.get("ts")
            ts = datetime.fromisoformat(ts) if isinstance(ts, str) else ts
            truck, _c = element_save(kind=Element.Kind.VEHICLE, key=plate, label=plate, source="checkpoint")
            _co_occurrence(vessel, truck, sighting=event.episode_key, at=ts or event.start)
            n += 1
    return n


def _co_occurrence(vessel: Element, truck: Element, *, sighting: str, at: datetime) -> Link:
    src, dst = (vessel, truck) if vessel.pk < truck.pk else (truck, vessel)
    with transaction.atomic():
        link = link_add(a=src, b=dst, kind=Link.Kind.SEEN_TOGETHER, source=Link.Source.CHECKPOINT,
                        label=_("卡口同现"), start=at, end=at, confidence=CO_OCCURRENCE_CONFIDENCE[0])
        link = Link.objects.select_for_update().get(pk=link.pk)
        # the last sightings, as short digests of their episode keys, in the note ("s:ab12cd34 ...")
        seen = [t for t in (link.note or "").split() if t.startswith("s:")]
        key = "s:" + hashlib.sha1(sighting.encode()).hexdigest()[:8]
        if key not in seen:
            seen.append(key)
            link.seen_count = link.seen_count + 1 if len(seen) > 1 else 1
            link.note = " ".join(seen[-16:])
            if link.seen_count >= 2:
                link.confidence = max(link.confidence, CO_OCCURRENCE_CONFIDENCE[1])
            link.save(update_fields=["seen_count", "note", "confidence"])
    return link


def links_from_finding(*, finding) -> int:
    """A market finding whose goods trace to a vehicle (its regulated record's subject is a plate)."""
    record = finding.record
    if record is None:
        return 0
    plates = domain.plates_in(record.subject)
    if not plates:
        return 0
    entity = finding.entity
    company, _c = element_save(kind=Element.Kind.COMPANY, key=entity.license_no or entity.name, label=entity.name,
                               entity=entity, department=entity.supervising_department, source="market")
    n = 0
    for plate in plates:
        truck, _c = element_save(kind=Element.Kind.VEHICLE, key=plate, label=plate, source="market")
        link_add(a=company, b=truck, kind=Link.Kind.GOODS_TRACED, source=Link.Source.MARKET,
                 ref=f"finding:{finding.pk}", label=finding.goods[:120], start=record.occurred_at,
                 end=finding.created_at, confidence=0.7)
        hits_record(subject=Hit.Subject.FINDING, subject_id=finding.pk, starts=[truck.pk, company.pk])
        n += 1
    return n


# --------------------------------------------------------------------------- collisions
def hits_record(*, subject: str, subject_id: int, starts: Sequence[int]) -> list[Hit]:
    """Record which registry elements (and what the graph says within two hops) a live record touched."""
    from .collision import collide_elements

    result = collide_elements(list(starts))
    hits = []
    for chain in result.chains:
        hit, _c = Hit.objects.update_or_create(
            subject=subject, subject_id=subject_id, element_id=chain["element"],
            defaults={"hops": chain["hops"], "chain": chain["path"], "summary": chain["text"][:300]},
        )
        hits.append(hit)
    return hits


def tip_collide(*, tip) -> list[Hit]:
    """A tip's plates and phone numbers checked against the registry and the graph."""
    text = f"{tip.description} {tip.place_text}"
    keys = Q(kind=Element.Kind.VEHICLE, key__in=domain.plates_in(text)) | Q(kind=Element.Kind.PHONE,
                                                                          key__in=domain.phones_in(text))
    starts = list(Element.objects.filter(keys).values_list("pk", flat=True))
    return hits_record(subject=Hit.Subject.TIP, subject_id=tip.pk, starts=starts) if starts else []


def warnings_raise_for_link(*, link_id: int) -> list[int]:
    """The documented rule: a new link that connects a live warning to a closed case (within two
    links of the warning's vessel) raises that warning one level, once per case; the chain goes
    into the evidence. Returns the ids of the warnings raised."""
    from apps.elements.models import Warning
    from apps.elements.services import warning_level_raise

    from . import graph
    from .collision import collide_elements

    link = Link.objects.filter(pk=link_id, active=True).first()
    if link is None:
        return []
    ids, _rows = graph.neighbourhood([link.src_id, link.dst_id], hops=2)
    vessels = dict(Element.objects.filter(pk__in=ids, kind=Element.Kind.VESSEL).values_list("key", "pk"))
    if not vessels:
        return []
    raised = []
    live = Warning.objects.filter(status__in=[Warning.Status.OPEN, Warning.Status.DISPATCHED])
    for w in live.order_by("-pk")[:500]:
        mine = [vessels[v] for v in w.vessels if v in vessels]
        if not mine:
            continue
        result = collide_elements(mine)
        known = set((w.evidence or {}).get("key_element_cases", []))
        new_cases = sorted(result.closed_cases - known)
        if not new_cases:
            continue
        chains = [c for c in result.chains if set(c["cases"]) & set(new_cases)]
        warning_level_raise(
            warning=w, level=domain.raise_level(w.level),
            evidence={"key_elements": chains[:10], "key_element_cases": sorted(known | result.closed_cases),
                      "level_raised_by": {"rule": "new_link_closed_case", "link": link.pk, "cases": new_cases}},
        )
        raised.append(w.pk)
    return raised


def network_export_record(*, actor, fmt: str, starts: Sequence[int], payload: dict[str, Any]):
    """Log an export (the row is on the audit trail with the actor and address)."""
    from .models import NetworkExport

    with audit_actor(actor):
        return NetworkExport.objects.create(actor=actor, fmt=fmt, starts=list(starts)[:200],
                                            nodes=len(payload["nodes"]), links=len(payload["links"]))


def person_identities_rotate() -> int:
    """Re-encrypt every sealed person identity with the first key of ``TIPSTER_KEYS``; returns the count."""
    n = 0
    for pk, token in Element.objects.exclude(identity_ciphertext="").values_list("pk", "identity_ciphertext").iterator():
        Element.objects.filter(pk=pk).update(identity_ciphertext=crypto.rotate(token))
        n += 1
    return n
