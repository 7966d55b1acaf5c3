"""Demo data of public participation: tips in several states (one with contact), reward rules,
published bulletins and a law text. Idempotent. Tip codes and secrets are printed once."""
from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.core.models import User

from . import services
from .models import Bulletin, RewardRule, Tip

DEMO_TIPS = [
    # category, description, place, lon, lat, contact (name, phone), outcome, reply
    ("boat_unloading", "凌晨两点左右，一艘没有开灯的铁壳船靠在闲置码头，十几个人往岸上搬纸箱，岸边停着两辆厢式货车。", "高塘岛西侧闲置码头", 121.905, 29.097, ("老陈", "13800000000"), "useful", "感谢您的举报，已安排核查。如再看到该船，请及时在此留言。"),
    ("stored_goods", "村里一个冷库最近半夜频繁进出冷链车，卸的冻品外包装都是外文，没有中文标签。", "鹤浦镇某冷库", None, None, None, None, None),
    ("trucks_at_pier", "码头边每隔两三天就有大货车深夜停靠，车上没有牌照。", "定山附近码头", 121.82, 29.40, None, "false", "经核查为正常水产运输，感谢关注。"),
    ("suspicious_people", "有陌生人在码头边拍照，打听海警巡逻的时间。", "石浦渔港附近", 121.95, 29.20, None, "duplicate", None),
]

DEMO_BULLETINS = [
    ("law", "中华人民共和国海关法（摘录）", "走私行为的界定与法律责任。", "全国人民代表大会常务委员会",
     "第八十二条 违反本法及有关法律、行政法规，逃避海关监管，偷逃应纳税款、逃避国家有关进出境的禁止性或者限制性管理，有下列情形之一的，是走私行为：\n（一）运输、携带、邮寄国家禁止或者限制进出境货物、物品或者依法应当缴纳税款的货物、物品进出境的；\n（二）未经海关许可并且未缴纳应纳税款、交验有关许可证件，擅自将保税货物、特定减免税货物以及其他海关监管货物、物品、进境的境外运输工具，在境内销售的；\n（三）有逃避海关监管，构成走私的其他行为的。"),
    ("law", "浙江省反走私综合治理条例（要点）", "地方政府、部门与村（居）在反走私综合治理中的职责。", "浙江省人大常委会",
     "县级以上人民政府应当加强对反走私综合治理工作的领导，建立健全反走私综合治理工作协调机制。\n村（居）民委员会应当协助做好反走私宣传教育、线索收集等工作。\n鼓励单位和个人举报走私违法犯罪行为，对举报属实的，按照规定给予奖励，并对举报人的信息予以保密。"),
    ("training", "村干部“码长”反走私巡查要点", "码长日常巡查看什么、怎么报。", "县反走私综合治理办公室",
     "一、结合潮汐，重点关注涨潮峰值前后两小时的闲置码头、岙口。\n二、留意夜间无灯靠泊船只、码头附近停放的无牌或遮挡号牌车辆。\n三、发现可疑情况，立即通过平台上报，拍照时注意自身安全。"),
    ("typical_case", "高塘岛走私冻品案", "利用“探路船”吸引执法力量、凌晨在闲置码头卸货的典型案例。", "县公安局",
     "2021年，走私团伙先派“探路船”在附近海域活动，吸引执法力量注意，随后主船关闭定位信号，在凌晨涨潮时段靠泊高塘岛闲置码头，1至2小时内完成卸货并由货车转运。联合作战中心根据群众举报和船舶轨迹研判，组织公安、海警联合行动，查获走私冻品一批。"),
    ("alert_bulletin", "春节前后走私高发警示", "节假日前后走私活动易发，请群众提高警惕。", "县反走私综合治理办公室",
     "节假日前后执法力量相对薄弱，走私分子常选择此时作案。请沿海群众留意夜间异常靠泊、卸货和车辆接驳，发现线索及时举报。举报可匿名，举报人信息严格保密。"),
]


def load(stdout) -> None:
    commander = User.objects.filter(username="commander").first()
    duty = User.objects.filter(username="duty").first()
    if commander is None or duty is None:
        stdout.write("reporting demo needs the core demo users (commander, duty); skipped")
        return
    group = services.custodian_group_ensure()
    commander.groups.add(group)
    stdout.write(f"custodian group「{group.name}」: commander")

    today = timezone.localdate()
    services.reward_rule_save(
        actor=commander, name="常态举报奖励（线索属实）", kind="regular", outcome="useful_clue",
        amount_min_yuan=200, amount_max_yuan=2000, description="举报线索经查证属实的，给予 200 至 2000 元奖励。",
    )
    services.reward_rule_save(
        actor=commander, name="常态举报奖励（查获走私货物）", kind="regular", outcome="seizure",
        goods_value_min_yuan=0, goods_value_max_yuan=1000000, amount_min_yuan=1000, amount_max_yuan=20000,
        description="根据查获货物案值，给予 1000 至 20000 元奖励。",
    )
    services.reward_rule_save(
        actor=commander, name="海上反走私专项行动举报奖励", kind="campaign", outcome="seizure",
        goods_value_min_yuan=0, amount_min_yuan=5000, amount_max_yuan=50000,
        campaign_start=today - timedelta(days=30), campaign_end=today + timedelta(days=90),
        description="专项行动期间，举报走私冻品、成品油、香烟并查获的，加大奖励力度。",
    )
    stdout.write(f"reward rules: {RewardRule.objects.count()}")

    for kind, title, summary, source, body in DEMO_BULLETINS:
        bulletin = Bulletin.objects.filter(title=title).first()
        if bulletin is None:
            bulletin = services.bulletin_create(actor=duty, kind=kind, title=title, summary=summary, source=source, body=body)
        if bulletin.state != Bulletin.State.PUBLISHED:
            services.bulletin_publish(bulletin=bulletin, actor=commander)
    stdout.write(f"bulletins published: {Bulletin.objects.published().count()}")

    receipts = []
    for category, description, place, lon, lat, contact, outcome, reply in DEMO_TIPS:
        if Tip.objects.filter(description=description).exists():
            continue
        receipt = services.tip_submit(
            category=category, description=description, place_text=place, lon=lon, lat=lat,
            seen_at=timezone.now() - timedelta(days=2, hours=3),
            contact_name=contact[0] if contact else "", contact_phone=contact[1] if contact else "",
        )
        tip = receipt.tip
        if outcome:
            first = Tip.objects.exclude(pk=tip.pk).order_by("id").first()
            services.tip_triage(tip=tip, actor=duty, outcome=outcome, note="演示研判", duplicate_of_code=first.code if first else "")
        if reply:
            services.tip_reply(tip=tip, actor=duty, body=reply)
        if outcome == "useful":
            try:  # one-click dispatch to the departments through enforcement's plans
                services.tip_dispatch(tip=tip, actor=duty, level="orange", note="群众举报，请核查")
            except ValidationError as exc:
                stdout.write(f"  tip {tip.code} not dispatched: {'；'.join(exc.messages)}")
        if outcome == "false":
            services.tip_close(tip=Tip.objects.get(pk=tip.pk), actor=duty, note="核查完毕")
        receipts.append((receipt.code, receipt.secret, tip.get_category_display()))
    if receipts:
        stdout.write("demo tips (code / secret, shown once):")
        for code, secret, label in receipts:
            stdout.write(f"  {code}  {secret}  {label}")
    stdout.write(f"tips: {Tip.objects.count()}")
