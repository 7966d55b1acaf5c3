"""Demo data of the foundation: departments and one user per role (passwords printed once)."""
from __future__ import annotations

import secrets

from .departments import ensure_departments
from .models import User
from .roles import Role

# username, display name, role, department code
DEMO_USERS: list[tuple[str, str, Role, str]] = [
    ("commander", "指挥长 王军", Role.COMMANDER, "antismuggling"),
    ("duty", "值班员 李明", Role.DUTY_OFFICER, "antismuggling"),
    ("police1", "民警 陈刚", Role.DEPT_OFFICER, "police"),
    ("police_head", "公安局负责人 赵强", Role.DEPT_HEAD, "police"),
    ("coastguard1", "海警 周海", Role.DEPT_OFFICER, "coastguard"),
    ("coastguard_head", "海警负责人 吴涛", Role.DEPT_HEAD, "coastguard"),
    ("customs1", "关员 郑洁", Role.DEPT_OFFICER, "customs"),
    ("tobacco1", "烟草稽查 孙亮", Role.DEPT_OFFICER, "tobacco"),
    ("market1", "市场监管 钱芳", Role.DEPT_OFFICER, "market"),
    ("gaotang1", "高塘岛乡干部 何平", Role.DEPT_OFFICER, "gaotang"),
    ("grid1", "网格员 林晓", Role.GRID_WORKER, "gaotang"),
    ("pierchief1", "码长 张伟", Role.PIER_CHIEF, "gaotang"),
    ("auditor", "审计员 冯清", Role.AUDITOR, "discipline"),
]


def load(stdout) -> None:
    departments = ensure_departments()
    stdout.write(f"departments: {len(departments)}")
    logins = []
    for username, display_name, role, dept_code in DEMO_USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"display_name": display_name, "role": role, "department": departments[dept_code]},
        )
        if created:
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            if role == Role.COMMANDER:
                user.is_staff = user.is_superuser = True
            user.save()
            logins.append((username, password, user.get_role_display(), departments[dept_code].name))
    if logins:
        stdout.write("demo logins (shown once; reset with `manage.py changepassword NAME`):")
        for username, password, role, dept in logins:
            stdout.write(f"  {username:<16} {password:<14} {role} · {dept}")
    else:
        stdout.write("demo users already exist (passwords were shown when they were created)")
