"""Pages of source governance: the grid worker's phone page (installable, offline), the
overview for the operations centre, repair tasks for departments, industry supervision."""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from apps.core.permissions import RoleRequiredMixin
from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, FIELD_ROLES, Role

from . import selectors
from .models import (
    GridReport,
    Inspection,
    MarketEntity,
    MarketFinding,
    Photo,
    RegulatedRecord,
    RepairTask,
    is_industry_user,
)

MOBILE_SCOPE = "/sources/mobile/"
# The phone page's shell: what the service worker caches so the page opens offline.
SHELL_STATIC = [
    "css/app.css",
    "js/app.js",
    "js/live.js",
    "sources/mobile.css",
    "sources/mobile.js",
    "sources/icons/icon-192.png",
    "sources/icons/icon-512.png",
    "favicon.svg",
    # the shared map (static/js/map.js) and its vendored libraries: the check-in panel's small map works offline
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet.markercluster/MarkerCluster.css",
    "vendor/leaflet.markercluster/leaflet.markercluster.js",
    "css/map.css",
    "js/map.js",
]


class MobilePage(RoleRequiredMixin, TemplateView):
    """The grid worker's phone page: check in, report, queue offline, sync exactly once."""

    template_name = "sources/mobile.html"
    allowed_roles = list(FIELD_ROLES)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["m_text"] = MOBILE_TEXT
        ctx["report_kinds"] = GridReport.Kind.choices
        return ctx


# Strings the phone page's script shows (translated here, handed over as JSON).
MOBILE_TEXT = {
    "online": _("在线"),
    "offline": _("离线"),
    "synced": _("已全部上传"),
    "syncing": _("正在上传…"),
    "waiting": _("等待网络，恢复后自动上传"),
    "auth": _("登录已失效，请刷新页面重新登录（记录仍保存在手机上）"),
    "no_plans": _("今晚没有巡查计划。"),
    "offline_data": _("（离线数据）"),
    "checkin": _("打卡"),
    "report": _("上报"),
    "need_photo": _("请先拍摄现场照片。"),
    "need_kind": _("请选择上报类型。"),
    "need_place": _("设施损坏请选择点位或设施，或写明情况。"),
    "locating": _("正在获取定位…"),
    "no_geo": _("无法获取手机定位，请打开定位权限后重试。"),
    "queued": _("已保存到手机，正在上传…"),
    "queued_offline": _("已保存到手机，联网后自动上传。"),
    "uploaded": _("已上传"),
    "replayed": _("已上传（服务器已有此记录）"),
    "refused": _("被拒绝"),
    "delete": _("删除"),
    "pending": _("待上传"),
    "window": _("时段"),
    "status": _("状态"),
}


@lru_cache(maxsize=1)
def _shell_version() -> str:
    """Changes whenever a shell file changes, so phones drop the old cache."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent / "templates" / "sources"
    paths = [finders.find(p) for p in SHELL_STATIC] + [here / "mobile.html", here / "sw.js"]
    paths += [mo for d in settings.LOCALE_PATHS for mo in sorted(Path(d).glob("*/LC_MESSAGES/djangojs.mo"))]
    for path in paths:
        if path:
            digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def service_worker(request):
    """The phone page's service worker, served from the page's own path so its scope covers it."""
    from django.template.loader import render_to_string

    catalog = reverse("javascript-catalog")  # the page's translated strings: by language, so network first
    basemap = reverse("core-api:basemap")  # the offline base map, network first like the catalog
    shell = [MOBILE_SCOPE, MOBILE_SCOPE + "manifest.webmanifest", catalog, basemap] + [static(p) for p in SHELL_STATIC]
    body = render_to_string(
        "sources/sw.js",
        {
            "version": _shell_version(),
            "shell_json": json.dumps(shell),
            "fresh_json": json.dumps([catalog, basemap]),
            "scope": MOBILE_SCOPE,
        },
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = MOBILE_SCOPE
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    """Web app manifest: the phone page installs as "网格巡查"."""
    data = {
        "name": "象山反走私 · 网格巡查",
        "short_name": "网格巡查",
        "description": "网格员、码长巡查打卡与上报（离线可用）",
        "lang": "zh-CN",
        "start_url": MOBILE_SCOPE,
        "scope": MOBILE_SCOPE,
        "id": MOBILE_SCOPE,
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#0d2a4a",
        "theme_color": "#0d2a4a",
        "icons": [
            {"src": static("sources/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static("sources/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/manifest+json; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@login_required
@require_GET
def photo(request, pk: int):
    """A stored photo, only for a user who may see a record it belongs to."""
    item = get_object_or_404(Photo, pk=pk)
    if not selectors.photo_visible_to(user=request.user, photo=item):
        raise PermissionDenied(_("无权查看此照片。"))
    try:
        fh = item.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("照片文件缺失。")) from None
    response = FileResponse(fh, content_type=item.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Disposition"] = f'inline; filename="photo-{item.pk}"'
    return response


class OverviewPage(RoleRequiredMixin, TemplateView):
    """Operations centre: tonight's patrols, missed check-ins, facility compliance, repairs, reports."""

    template_name = "sources/overview.html"
    allowed_roles = [*COMMAND_ROLES, Role.AUDITOR]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        now = timezone.now()
        night = selectors.night_of(now)
        ctx.update(
            counts=selectors.overview_counts(user=user, now=now),
            night=night,
            townships=selectors.attendance_by_township(user=user, date_from=night, date_to=night),
            week=selectors.attendance_by_township(user=user, date_from=night - timezone.timedelta(days=6), date_to=night),
            missed=selectors.missed_plans(user=user, since=now - timezone.timedelta(days=2)),
            compliance=selectors.site_compliance(user=user),
            repairs=RepairTask.objects.visible_to(user)
            .exclude(state=RepairTask.State.CLOSED)
            .select_related("department", "facility", "site")[:50],
            reports=GridReport.objects.visible_to(user).select_related("reporter", "geofence", "township")[:30],
            can_dispatch=user.role in COMMAND_ROLES,
        )
        return ctx


class RepairsPage(RoleRequiredMixin, TemplateView):
    """Repair tasks of the user's department (all, for the operations centre): start, close with an after photo."""

    template_name = "sources/repairs.html"
    allowed_roles = [*COMMAND_ROLES, *DEPARTMENT_ROLES, Role.AUDITOR]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        tasks = (
            RepairTask.objects.visible_to(user)
            .select_related("department", "facility", "site")
            .prefetch_related("before_photos", "after_photos")
        )
        ctx.update(
            open_tasks=tasks.exclude(state=RepairTask.State.CLOSED),
            closed_tasks=tasks.filter(state=RepairTask.State.CLOSED)[:30],
            can_act=user.role in COMMAND_ROLES or user.is_department_staff,
        )
        return ctx


class IndustryPage(RoleRequiredMixin, TemplateView):
    """Industry supervision: the 6 kinds of market entity, the 4 processes, inspections and findings."""

    template_name = "sources/industry.html"
    allowed_roles = [*COMMAND_ROLES, *DEPARTMENT_ROLES, Role.AUDITOR]

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and user.is_department_staff and not is_industry_user(user):
            raise PermissionDenied(_("只有市场监管、烟草、商务部门可以查看行业监管。"))
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        user = self.request.user
        entities = MarketEntity.objects.visible_to(user)
        ctx.update(
            kinds=selectors.entity_counts(user=user),
            entities=entities.select_related("township")[:200],
            processes=RegulatedRecord.Process.choices,
            records=RegulatedRecord.objects.visible_to(user).select_related("entity")[:50],
            inspections=Inspection.objects.visible_to(user).select_related("entity", "department")[:30],
            findings=MarketFinding.objects.visible_to(user).select_related("entity")[:50],
            finding_kinds=MarketFinding.Kind.choices,
            can_write=user.role in COMMAND_ROLES or is_industry_user(user),
            can_dispatch=user.role in COMMAND_ROLES,
        )
        return ctx
