"""Demo data of enforcement: default plans, the demo warnings dispatched, one tobacco case mid-way through disposal."""
from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import Department, User
from apps.core.roles import Role
from apps.elements.models import Warning

from . import services
from .models import Case, SeizedGoods, Task

CASE_TITLE = "“3·12”走私香烟案（演示）"


def _user(username: str, role: str) -> User | None:
    return User.objects.filter(username=username).first() or User.objects.filter(role=role).first()


def _png() -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 200), (235, 240, 246))
    ImageDraw.Draw(img).rectangle((20, 20, 300, 180), outline=(13, 42, 74), width=4)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return SimpleUploadedFile("seized-cigarettes.png", buf.getvalue(), content_type="image/png")


def load(stdout) -> None:
    plans = services.ensure_default_plans()
    stdout.write(f"dispatch plans: {len(plans)}")
    duty = _user("duty", Role.DUTY_OFFICER)
    police = _user("police1", Role.DEPT_OFFICER)
    commander = _user("commander", Role.COMMANDER)
    tobacco = User.objects.filter(username="tobacco1").first()

    dispatched = []
    for warning in Warning.objects.exclude(status__in=[Warning.Status.CLOSED, Warning.Status.FALSE_ALARM]).order_by("-start")[:20]:
        try:
            if duty is not None:
                dispatched.append(services.dispatch_subject(subject=warning, actor=duty, note="演示数据"))
            else:
                d = services.warning_auto_dispatch(warning_id=warning.pk)
                if d is not None:
                    dispatched.append(d)
        except Exception as exc:  # a demo warning without a plan must not stop the demo
            stdout.write(f"  warning #{warning.pk} not dispatched: {exc}")
    stdout.write(f"dispatched warnings: {len(dispatched)}")

    # Some progress on the first dispatch, so the board and the inbox show every state.
    if dispatched and police is not None:
        task = Task.objects.filter(dispatch__in=dispatched, department=police.department).order_by("id").first()
        if task is not None and task.state == Task.State.NEW:
            services.task_acknowledge(task=task, actor=police)
            services.task_start(task=task, actor=police)

    if Case.objects.filter(title=CASE_TITLE).exists() or commander is None:
        return
    case = services.case_open(
        actor=commander, title=CASE_TITLE,
        summary="凌晨，一艘无名渔船在高塘岛闲置码头卸货，接驳货车被路面卡口拦截，查获走私卷烟。",
        departments=Department.objects.filter(code__in=["police", "coastguard", "gaotang"]),
    )
    services.case_add_person(case=case, actor=commander, role="pier_boss", name="王某（码头接应）")
    services.case_add_vessel(case=case, actor=commander, name="无名渔船", seized=True, note="船体无船名船号")
    services.case_add_vehicle(case=case, actor=commander, plate="浙B·7X123", description="厢式货车", seized=True)
    photo = services.evidence_add(case=case, actor=commander, upload=_png(), kind="photo", note="现场查扣照片")
    goods: SeizedGoods = services.goods_add(
        case=case, actor=commander, kind="tobacco", description="走私卷烟（多品牌）", quantity=Decimal("1200"),
        unit="条", estimated_value_yuan=Decimal("360000"),
    )
    signer_police = police or commander
    signer_tobacco = tobacco or commander
    services.disposal_step_sign(goods=goods, actor=signer_police, step="handover", note="现场移交烟草专卖局")
    services.disposal_step_sign(goods=goods, actor=signer_tobacco, step="receiving_site", site="县烟草专卖局涉案卷烟仓库")
    services.disposal_step_sign(goods=goods, actor=signer_tobacco, step="count_confirm", quantity_confirmed=Decimal("1200"))
    stdout.write(f"case {case.number}: tobacco disposal at step 4 of 7 (evidence photo #{photo.pk} uploaded)")
