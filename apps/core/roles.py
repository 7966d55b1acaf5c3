"""Roles of the platform and what each may do, in one place.

A role answers *what* a user may do; the department answers *whose* records. Command
roles (operations centre) see across departments; department roles see their own
department's records and what is shared with it.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMMANDER = "commander", _("作战中心指挥长")
    DUTY_OFFICER = "duty_officer", _("值班员")
    DEPT_OFFICER = "dept_officer", _("部门执法人员")
    DEPT_HEAD = "dept_head", _("部门负责人")
    GRID_WORKER = "grid_worker", _("网格员")
    PIER_CHIEF = "pier_chief", _("码长")
    AUDITOR = "auditor", _("审计员")


COMMAND_ROLES = frozenset({Role.COMMANDER, Role.DUTY_OFFICER})
DEPARTMENT_ROLES = frozenset({Role.DEPT_OFFICER, Role.DEPT_HEAD})
FIELD_ROLES = frozenset({Role.GRID_WORKER, Role.PIER_CHIEF})
# Roles that may read every module's records (not edit them): the operations centre and audit.
READ_ALL_ROLES = COMMAND_ROLES | {Role.AUDITOR}
