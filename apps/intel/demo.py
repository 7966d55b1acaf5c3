"""Demo data of the key-element registry: a small, believable network around an old closed case.

Case 3·12 (2025, frozen goods, closed): the boss 陈某, the pier contact 林某 and the driver 周某;
the carrier 浙象运 00318 and the truck 浙B·5K321. Since then 林某 owns the fishing boat 浙象渔
01233 that the demo tracks land at an idle pier at night (so its warning names the chain), the
same truck was seen twice at a pier checkpoint during 浙象渔 05871's stops, a cold store's frozen
goods trace to it, and the boss's phone called the pier contact's. The tobacco case of the
enforcement demo is linked as well. All names, numbers and ID numbers are illustrative.
Idempotent.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from apps.core.models import Department, User

from . import services
from .models import Element, Link

CASE_NUMBER = "2025-3·12（示意）"
# illustrative ID numbers with a valid check digit
PEOPLE = [
    ("boss", "陈建国", "330225197512124565", ["13805740312"], "组织者", "key", "3·12案组织者，刑满释放后仍与原团伙联系"),
    ("pier", "林海", "330225199005051233", ["13905748866"], "码头接应,船主", "key", "3·12案码头接应"),
    ("driver", "周平", "330225198001010018", [], "司机", "attention", "3·12案运输司机"),
]


def load(stdout) -> None:
    from apps.enforcement.models import Case, CasePerson, CaseVehicle, CaseVessel
    from apps.sources.models import MarketEntity

    commander = User.objects.filter(username="commander").first()
    police = Department.objects.filter(code="police").first()
    if commander is None:
        stdout.write("intel demo needs the core demo users; skipped")
        return
    group = services.custodian_group_ensure()
    commander.groups.add(group)
    case = Case.objects.filter(number=CASE_NUMBER).first()
    if case is None:
        case = Case.objects.create(number=CASE_NUMBER, title="高塘岛走私冻品案（示意）", status=Case.Status.CLOSED,
                                   summary="主船凌晨靠泊闲置码头卸货，厢式货车转运至冷库。",
                                   closed_at=datetime(2025, 9, 30, tzinfo=UTC), created_by=commander)
        if police:
            case.departments.add(police)
        for key, name, idn, _ph, _r, _w, _why in PEOPLE:
            role = {"boss": "boss", "pier": "pier_boss", "driver": "transport"}[key]
            CasePerson.objects.create(case=case, role=role, name=name, id_number=idn)
        CaseVessel.objects.create(case=case, name="浙象运 00318（示意）", external_id="412440003")
        CaseVehicle.objects.create(case=case, plate="浙B·5K321", description="厢式冷藏车")
    services.links_from_case(case=case)

    people = {}
    for key, name, idn, phones, roles, watch, why in PEOPLE:
        people[key], _c = services.person_save(
            name=name, id_number=idn, phones=phones, roles=roles, watch_level=watch, reason=why, source="demo",
            department=police, actor=commander, expires_at=timezone.now() + timedelta(days=365))

    def el(kind, key, label, **kw):
        return services.element_save(kind=kind, key=key, label=label, actor=commander, source="demo", **kw)[0]

    boat = el("vessel", "412440001", "浙象渔 01233（示意）")
    boat2 = el("vessel", "412440002", "浙象渔 05871（示意）")
    truck = el("vehicle", "浙B5K321", "浙B5K321", watch_level="control", reason="3·12案涉案车辆", department=police,
               attrs={"vehicle_kind": "厢式冷藏车"})
    pier = el("place", "高塘岛西侧闲置码头", "高塘岛西侧闲置码头", lon=121.905, lat=29.097)
    t0 = timezone.now() - timedelta(days=20)
    link = services.link_add
    link(a=people["pier"], b=boat, kind=Link.Kind.OWNS, source=Link.Source.REGISTRY, confidence=0.95,
         start=datetime(2025, 11, 1, tzinfo=UTC), actor=commander)
    link(a=people["driver"], b=truck, kind=Link.Kind.DRIVES, source=Link.Source.OFFICER, confidence=0.7, actor=commander,
         note="走访获知")
    phones = {p.key: p for p in Element.objects.filter(kind="phone", key__in=["13805740312", "13905748866"])}
    if len(phones) == 2:
        link(a=phones["13805740312"], b=phones["13905748866"], kind=Link.Kind.CALLED, source=Link.Source.OFFICER,
             start=t0, end=t0 + timedelta(days=3), confidence=0.6, actor=commander, note="话单：3 天内 14 次通话")
    co = link(a=boat2, b=truck, kind=Link.Kind.SEEN_TOGETHER, source=Link.Source.CHECKPOINT, label="卡口同现",
              start=t0, end=t0 + timedelta(days=9), confidence=0.8)
    Link.objects.filter(pk=co.pk).update(seen_count=2)
    link(a=boat, b=pier, kind=Link.Kind.SEEN_TOGETHER, source=Link.Source.OFFICER, confidence=0.5,
         start=t0 + timedelta(days=15), actor=commander, note="夜间靠泊")
    store = MarketEntity.objects.filter(kind="cold_store").first() or MarketEntity.objects.first()
    if store is not None:
        company = el("company", store.license_no or store.name, store.name, entity=store)
        link(a=company, b=truck, kind=Link.Kind.GOODS_TRACED, source=Link.Source.MARKET, confidence=0.7,
             label="冻品无合法来源", start=t0 + timedelta(days=5))
    for other in Case.objects.exclude(pk=case.pk):
        services.links_from_case(case=other)
    stdout.write(f"key elements: {Element.objects.count()}, links: {Link.objects.count()} (case {CASE_NUMBER} closed)")
