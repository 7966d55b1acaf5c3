from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from .roles import COMMAND_ROLES, DEPARTMENT_ROLES, FIELD_ROLES, READ_ALL_ROLES, Role


class Department(models.Model):
    """One of the county's departments taking part in the joint anti-smuggling work."""

    class Kind(models.TextChoices):
        LEAD = "lead", _("牵头单位")
        ENFORCEMENT = "enforcement", _("执法部门")
        ADMINISTRATIVE = "administrative", _("行政管理部门")
        TOWNSHIP = "township", _("镇乡街道")
        SUPERVISION = "supervision", _("监督部门")

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=80, unique=True)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    hosts_operations_centre = models.BooleanField(_("联合作战中心所在"), default=False)
    phone = models.CharField(_("值班电话"), max_length=40, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.DEPT_OFFICER)
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=40, blank=True)
    phone = models.CharField(_("手机"), max_length=40, blank=True)

    @property
    def is_command(self) -> bool:
        return self.role in COMMAND_ROLES

    @property
    def is_department_staff(self) -> bool:
        return self.role in DEPARTMENT_ROLES

    @property
    def is_field_worker(self) -> bool:
        return self.role in FIELD_ROLES

    @property
    def reads_everything(self) -> bool:
        return self.role in READ_ALL_ROLES

    def __str__(self) -> str:
        return self.display_name or self.username


class LiveEvent(models.Model):
    """Outbox for live pushes raised outside the web process on the embedded default.

    With Redis, pushes go straight to the channel layer. Without it, a command-line
    ingest cannot reach the web process's in-memory layer, so the push is written here
    in the same transaction and the web process relays it (``apps.core.live``).
    """

    group = models.CharField(max_length=120)
    event = models.CharField(max_length=60)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
