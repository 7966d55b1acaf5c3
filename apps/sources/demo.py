"""Demo data of source governance (idempotent): grids and "1+3+N" teams per township with the
demo grid worker and pier chief, tonight's patrol plans, facilities at the demo piers (one
camera down, with its repair task), market entities, regulated records and an inspection."""
from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from apps.core.models import Department, User
from apps.elements.models import Geofence

from . import selectors, services
from .models import Facility, FacilityKind, Inspection, MarketEntity, RegulatedRecord, RepairTask, SiteType

TOWNSHIPS = ["gaotang", "hepu", "dingtang"]

# Installed facilities per site type: deliberately short of the standard here and there,
# so the compliance view has something to show. (kind, count)
INSTALLED = {
    SiteType.UNMANNED_PIER: [(FacilityKind.HEIGHT_BAR, 1), (FacilityKind.CCTV, 2), (FacilityKind.INFRARED, 1), (FacilityKind.LIGHT, 1), (FacilityKind.SIGN, 1)],
    SiteType.BEACH_LANDING: [(FacilityKind.CCTV, 1), (FacilityKind.INFRARED, 1), (FacilityKind.SIGN, 2)],
}
DEVICE_DEPARTMENT = "police"  # cameras and sentinels: the police's video network; the rest: the township

ENTITIES = [
    ("shipyard", "象山某修造船厂（示例）", 121.90, 29.18, "hepu"),
    ("freight_station", "定塘某货运站（示例）", 121.78, 29.08, "dingtang"),
    ("cold_store", "高塘某冷链仓储（示例）", 121.93, 29.12, "gaotang"),
    ("fuel_station", "鹤浦某加油站（示例）", 121.98, 29.20, "hepu"),
    ("oil_depot", "石浦某油库储运点（示例）", 121.95, 29.22, None),
    ("cigarette_shop", "定塘某烟酒商行（示例）", 121.79, 29.09, "dingtang"),
]


def load(stdout) -> None:
    services.site_standards_ensure_defaults()
    users = {u.username: u for u in User.objects.filter(username__in=["grid1", "pierchief1", "market1", "commander"])}
    depts = {d.code: d for d in Department.objects.all()}
    teams = 0
    for code in TOWNSHIPS:
        township = depts.get(code)
        if township is None:
            continue
        fences = list(Geofence.objects.filter(township=township.name).exclude(kind=Geofence.Kind.ANCHORAGE).order_by("name"))
        if not fences:
            stdout.write(f"  {township.name}: no geofences yet (load the elements demo first)")
            continue
        grid = services.grid_create(township=township, code=f"{code}-1", name=f"{township.name}沿海网格")
        team = services.grid_team_create(grid=grid, name=f"{township.name}反走私微网格", geofences=fences)
        teams += 1
        if code == "gaotang":
            if "grid1" in users and users["grid1"].department_id == township.id:
                services.team_member_add(team=team, user=users["grid1"], role="leader")
            if "pierchief1" in users and users["pierchief1"].department_id == township.id:
                services.team_member_add(team=team, user=users["pierchief1"], role="core")
                pier = next((g for g in fences if g.kind == Geofence.Kind.PIER), fences[0])
                services.pier_chief_assign(geofence=pier, user=users["pierchief1"])
        _facilities(fences=fences, township=township, police=depts.get(DEVICE_DEPARTMENT))
    night = selectors.night_of(timezone.now())
    plans = services.patrol_plans_generate(date=night) + services.patrol_plans_generate(date=night + timedelta(days=1))
    stdout.write(f"grid teams: {teams}, new patrol plans: {len(plans)} (tonight {night})")
    _camera_down(stdout)
    _industry(stdout, depts=depts, actor=users.get("market1") or users.get("commander"))


def _facilities(*, fences, township, police) -> None:
    for fence in fences:
        site = services.protected_site_for_geofence(geofence=fence)
        for kind, count in INSTALLED.get(site.site_type, []):
            for n in range(1, count + 1):
                device = kind in (FacilityKind.CCTV, FacilityKind.INFRARED)
                services.facility_register(
                    site=site,
                    kind=kind,
                    code=f"demo-{site.id}-{kind}-{n}",
                    name=f"{fence.name} {FacilityKind(kind).label} {n} 号",
                    responsible_department=police if device and police else township,
                    lon=fence.centroid_lon,
                    lat=fence.centroid_lat,
                )


def _camera_down(stdout) -> None:
    """One camera at a Gaotang pier stopped sending heartbeats: down, with its repair task."""
    camera = Facility.objects.filter(kind=FacilityKind.CCTV, site__township__code="gaotang").order_by("code").first()
    if camera is None or RepairTask.objects.filter(facility=camera).exists():
        return
    token = services.facility_issue_token(facility=camera)
    Facility.objects.filter(pk=camera.pk).update(last_heartbeat_at=timezone.now() - timedelta(minutes=45))
    services.facilities_check_heartbeats()
    stdout.write(f"camera down: {camera.name} (device token, shown once: {token})")


def _industry(stdout, *, depts, actor) -> None:
    if actor is None:
        return
    entities = {}
    for kind, name, lon, lat, town in ENTITIES:
        entities[kind] = services.market_entity_register(
            actor=actor, kind=kind, name=name, township=depts.get(town) if town else None,
            supervising_department=depts.get("tobacco" if kind == "cigarette_shop" else "market"), lon=lon, lat=lat,
        )
    now = timezone.now()
    if not RegulatedRecord.objects.filter(entity__in=entities.values()).exists():
        services.regulated_record_create(
            actor=actor, process="ship_repair", entity=entities["shipyard"], subject="浙象渔 05123（示例）",
            occurred_at=now - timedelta(days=2), details={"repair": "更换主机", "owner": "示例船东"},
        )
        services.regulated_record_create(
            actor=actor, process="special_vehicle", entity=entities["oil_depot"], subject="浙B·D0000（示例油罐车）",
            occurred_at=now - timedelta(days=1), details={"vehicle_type": "油罐车"},
        )
        services.regulated_record_create(
            actor=actor, process="frozen_goods", entity=entities["cold_store"], subject="入库批次 0001（示例）", goods="冻牛肉",
            quantity="8", unit="吨", source_document="报关单 示例0001", occurred_at=now - timedelta(hours=20),
        )
        services.regulated_record_create(
            actor=actor, process="cigarette_trade", entity=entities["cigarette_shop"], subject="进货单 示例0002", goods="卷烟",
            quantity="50", unit="条", occurred_at=now - timedelta(hours=5),
        )  # no source document: a flagged finding
    if actor.department_id and not Inspection.objects.filter(entity=entities["cold_store"]).exists():
        services.inspection_record(
            actor=actor, entity=entities["cold_store"], at=now - timedelta(hours=3), summary="冷链专项检查（示例）",
            findings=[{"kind": "no_legal_source", "goods": "冻鸡爪", "quantity": "600", "unit": "公斤", "description": "无报关单和检疫证明"}],
        )
    stdout.write(f"market entities: {MarketEntity.objects.count()}, regulated records: {RegulatedRecord.objects.count()}")
