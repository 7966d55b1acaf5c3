"""REST API of source governance, mounted at ``/api/sources/``: parse, call a service or selector, respond."""
from __future__ import annotations

from datetime import date as Date
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_ratelimit.core import is_ratelimited
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import ObjectJSONParser as JSONParser
from apps.core.api import VisibleToUserMixin, error
from apps.core.permissions import roles_allowed
from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, FIELD_ROLES, READ_ALL_ROLES, Role

from . import selectors, serializers as s, services
from .models import (
    SensorEvent,
    Checkin,
    Facility,
    Grid,
    GridReport,
    GridTeam,
    Inspection,
    MarketEntity,
    MarketFinding,
    PatrolPlan,
    ProtectedSite,
    RegulatedRecord,
    RepairTask,
    SiteStandard,
    is_industry_user,
)

FieldOnly = roles_allowed(*FIELD_ROLES)
FieldWriteStaffRead = roles_allowed(*FIELD_ROLES, read_roles=[*COMMAND_ROLES, *DEPARTMENT_ROLES, Role.AUDITOR])
CommandWrite = roles_allowed(*COMMAND_ROLES, read_roles=[Role.AUDITOR, *DEPARTMENT_ROLES, *FIELD_ROLES])
CommandOnly = roles_allowed(*COMMAND_ROLES, read_roles=[Role.AUDITOR])
StaffWrite = roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES, read_roles=[Role.AUDITOR, *FIELD_ROLES])
IndustryRoles = roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES, read_roles=[Role.AUDITOR])


class IndustryWriters(BasePermission):
    """Writes in industry supervision: the operations centre and market supervision, tobacco, commerce."""

    message = gettext_lazy("只有市场监管、烟草、商务部门或联合作战中心可以办理行业监管。")

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return request.user.role in COMMAND_ROLES or is_industry_user(request.user)


def _date(value: str | None, default: Date) -> Date:
    if not value:
        return default
    try:
        return Date.fromisoformat(value)
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD。")) from None


# --------------------------------------------------------------------------- the phone


class MobileTodayView(APIView):
    """What the phone page needs, also kept on the phone for offline use: plans and places."""

    permission_classes = [FieldOnly]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        now = timezone.now()
        plans = selectors.plans_for_worker(user=request.user, now=now)
        return Response(
            {
                "now": now.isoformat(),
                "plans": s.PatrolPlanSerializer(plans, many=True).data,
                "places": selectors.report_places_for(user=request.user),
                "report_kinds": [{"value": v, "label": str(lbl)} for v, lbl in GridReport.Kind.choices],
            }
        )


class CheckinViewSet(VisibleToUserMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Check-ins. POST (multipart): plan, lon, lat, accuracy_m, at, photo, client_uuid.
    201 for a new check-in, 200 with the original for a replayed ``client_uuid``."""

    queryset = Checkin.objects.all()
    serializer_class = s.CheckinSerializer
    permission_classes = [FieldWriteStaffRead]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["plan", "user"]
    ordering_fields = ["at", "received_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("plan__geofence", "user")

    def create(self, request):
        d = request.data
        checkin, created = services.checkin_record(
            actor=request.user,
            plan_id=d.get("plan"),
            lon=d.get("lon"),
            lat=d.get("lat"),
            at=d.get("at"),
            photo=request.FILES.get("photo"),
            client_uuid=d.get("client_uuid"),
            accuracy_m=d.get("accuracy_m"),
            note=d.get("note", ""),
        )
        body = {**s.CheckinSerializer(checkin).data, "replayed": not created}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GridReportViewSet(VisibleToUserMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Field reports. POST (multipart): kind, description, lon, lat, at, client_uuid, photos (files),
    facility. 201 new, 200 replay. ``dispatch/`` (operations centre): one-click enforcement."""

    queryset = GridReport.objects.all()
    serializer_class = s.GridReportSerializer
    permission_classes = [FieldWriteStaffRead]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["kind", "township", "geofence"]
    search_fields = ["description"]
    ordering_fields = ["at", "received_at"]

    def get_queryset(self):
        return super().get_queryset().select_related("reporter", "geofence", "facility", "township").prefetch_related("photos")

    def create(self, request):
        d = request.data
        report, created = services.grid_report_file(
            actor=request.user,
            kind=d.get("kind", ""),
            lon=d.get("lon"),
            lat=d.get("lat"),
            at=d.get("at"),
            client_uuid=d.get("client_uuid"),
            photos=request.FILES.getlist("photos"),
            description=d.get("description", ""),
            facility_id=d.get("facility"),
            accuracy_m=d.get("accuracy_m"),
        )
        body = {**s.GridReportSerializer(report).data, "replayed": not created}
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=s.DispatchInput)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch", permission_classes=[roles_allowed(*COMMAND_ROLES)])
    def dispatch_report(self, request, pk=None):
        report = self.get_object()
        inp = s.DispatchInput(data=request.data)
        inp.is_valid(raise_exception=True)
        dispatch = services.grid_report_dispatch(report=report, actor=request.user, **inp.validated_data)
        return Response({"report": report.id, "dispatch": getattr(dispatch, "pk", None)}, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- grid and plans


class GridViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Grid.objects.all()
    serializer_class = s.GridSerializer
    filterset_fields = ["township"]


class GridTeamViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    queryset = GridTeam.objects.all()
    serializer_class = s.GridTeamSerializer
    filterset_fields = ["grid", "grid__township"]

    def get_queryset(self):
        return super().get_queryset().select_related("grid").prefetch_related("members__user", "geofences")


class PatrolPlanViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    """Patrol plans (tide windows × teams × places). ``generate/`` (operations centre) makes a night's plans."""

    queryset = PatrolPlan.objects.all()
    serializer_class = s.PatrolPlanSerializer
    permission_classes = [CommandWrite]
    filterset_fields = ["night", "status", "team", "geofence", "team__grid__township"]
    ordering_fields = ["window_start", "night"]

    def get_queryset(self):
        return super().get_queryset().select_related("team__grid__township", "geofence")

    @extend_schema(request=s.PlanGenerateInput, responses={201: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"])
    def generate(self, request):
        night = _date(request.data.get("date"), selectors.night_of(timezone.now()))
        created = services.patrol_plans_generate(date=night)
        return Response({"night": night.isoformat(), "created": len(created)}, status=status.HTTP_201_CREATED)


class AttendanceView(APIView):
    """Attendance per team or per township: ``?by=team|township&date_from=&date_to=`` (default last 7 nights)."""

    permission_classes = [roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES, read_roles=[*READ_ALL_ROLES, *FIELD_ROLES])]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        today = selectors.night_of(timezone.now())
        date_to = _date(request.query_params.get("date_to"), today)
        date_from = _date(request.query_params.get("date_from"), date_to - timedelta(days=6))
        if date_from > date_to:
            return error(_("开始日期不能晚于结束日期。"))
        by = request.query_params.get("by", "team")
        if by not in ("team", "township"):
            return error(_("by 只能是 team 或 township。"))
        fn = selectors.attendance_by_team if by == "team" else selectors.attendance_by_township
        return Response(
            {"by": by, "date_from": date_from.isoformat(), "date_to": date_to.isoformat(), "results": fn(user=request.user, date_from=date_from, date_to=date_to)}
        )


# --------------------------------------------------------------------------- facilities


class ProtectedSiteViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    queryset = ProtectedSite.objects.all()
    serializer_class = s.ProtectedSiteSerializer
    filterset_fields = ["site_type", "township"]
    search_fields = ["name"]


class SiteStandardViewSet(viewsets.ReadOnlyModelViewSet):
    """Facility standards per site type; POST (operations centre) sets one: site_type, facility_kind, min_count."""

    queryset = SiteStandard.objects.all()
    serializer_class = s.SiteStandardSerializer
    permission_classes = [CommandWrite]
    pagination_class = None

    def create(self, request):
        std = services.site_standard_set(
            actor=request.user,
            site_type=request.data.get("site_type", ""),
            facility_kind=request.data.get("facility_kind", ""),
            min_count=request.data.get("min_count", -1),
        )
        return Response(s.SiteStandardSerializer(std).data, status=status.HTTP_201_CREATED)


class ComplianceView(APIView):
    """What each site lacks against its type's standard. ``?township=<id>&lacking=1``."""

    permission_classes = [roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES, read_roles=[Role.AUDITOR])]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        township = request.query_params.get("township")
        rows = selectors.site_compliance(
            user=request.user,
            township_id=int(township) if township and township.isdigit() else None,
            only_lacking=request.query_params.get("lacking") in ("1", "true"),
        )
        return Response({"count": len(rows), "results": rows})


class FacilityViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    """Facilities. ``token/`` (operations centre or the responsible department's head) issues a device token, shown once."""

    queryset = Facility.objects.all()
    serializer_class = s.FacilitySerializer
    filterset_fields = ["site", "kind", "status", "responsible_department"]
    search_fields = ["name", "code"]

    def get_queryset(self):
        return super().get_queryset().select_related("site", "responsible_department")

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["post"], permission_classes=[roles_allowed(*COMMAND_ROLES, Role.DEPT_HEAD)])
    def token(self, request, pk=None):
        facility = self.get_object()
        if request.user.role == Role.DEPT_HEAD and facility.responsible_department_id != request.user.department_id:
            return error(_("只能为本部门负责的设备签发令牌。"), status=403)
        return Response({"facility": facility.id, "token": services.facility_issue_token(facility=facility)})


def _device_token(request) -> str:
    token = request.headers.get("X-Device-Token", "")
    auth = request.headers.get("Authorization", "")
    if not token and auth.startswith("Device "):
        token = auth[len("Device ") :].strip()
    return token


class DeviceHeartbeatView(APIView):
    """Devices post here every minute: header ``X-Device-Token: <token>`` (or ``Authorization: Device <token>``)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        if is_ratelimited(request, group="sources.heartbeat", key="ip", rate="600/m", increment=True):
            return error(_("心跳过于频繁。"), status=429)
        token = _device_token(request)
        if not token:
            return error(_("缺少设备令牌。"), status=401)
        try:
            facility = services.facility_heartbeat(token=token)
        except PermissionError as exc:
            return error(str(exc), status=401)
        return Response({"facility": facility.id, "status": facility.status, "at": facility.last_heartbeat_at})


class DeviceEventView(APIView):
    """A camera or infrared sentinel reports an event, with its device token (as heartbeats).

    JSON ``{"sensor_id", "timestamp" (ISO 8601 with zone), "kind", "confidence", "snapshot" (base64,
    optional), "video_url" (optional)}`` or multipart with the snapshot as a file. The same event
    sent twice is stored once (200 instead of 201).
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(request=s.SensorEventInSerializer, responses={201: s.SensorEventSerializer, 200: s.SensorEventSerializer})
    def post(self, request):
        from .sensors import device_for_token, sensor_event_record

        if is_ratelimited(request, group="sources.device_event", key="ip", rate="600/m", increment=True):
            return error(_("事件上报过于频繁。"), status=429)
        facility = device_for_token(_device_token(request))
        if facility is None:
            return error(_("设备令牌无效或缺失。"), status=401)
        data = {k: request.data.get(k) for k in ("sensor_id", "timestamp", "kind", "confidence", "snapshot", "video_url")}
        if request.FILES.get("snapshot") is not None:
            data["snapshot"] = request.FILES["snapshot"]
        try:
            result = sensor_event_record(data={k: v for k, v in data.items() if v is not None}, facility=facility)
        except ValidationError as exc:
            return error("；".join(exc.messages))
        body = s.SensorEventSerializer(result.event).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class SensorEventViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    """Camera and sentinel events (who sees the device sees its events)."""

    queryset = SensorEvent.objects.all()
    serializer_class = s.SensorEventSerializer
    filterset_fields = ["facility", "kind"]
    ordering_fields = ["at"]

    def get_queryset(self):
        return super().get_queryset().select_related("facility", "snapshot")


class RepairTaskViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    """Repair tasks: ``start/``, ``photos/`` (multipart: stage=before|after, photos), ``close/`` (multipart:
    after photos + note; refused without an after photo)."""

    queryset = RepairTask.objects.all()
    serializer_class = s.RepairTaskSerializer
    permission_classes = [StaffWrite]
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    filterset_fields = ["state", "department", "source", "facility", "site"]
    ordering_fields = ["opened_at", "closed_at"]

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .select_related("department", "facility", "site")
            .prefetch_related("before_photos", "after_photos")
        )

    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        task = services.repair_task_start(task=self.get_object(), actor=request.user, before_photos=request.FILES.getlist("photos"))
        return Response(s.RepairTaskSerializer(task).data)

    @action(detail=True, methods=["post"])
    def photos(self, request, pk=None):
        task = self.get_object()
        services.repair_task_add_photos(task=task, actor=request.user, stage=request.data.get("stage", ""), uploads=request.FILES.getlist("photos"))
        return Response(s.RepairTaskSerializer(RepairTask.objects.get(pk=task.pk)).data)

    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        task = services.repair_task_close(
            task=self.get_object(),
            actor=request.user,
            after_photos=request.FILES.getlist("photos"),
            note=request.data.get("note", ""),
        )
        return Response(s.RepairTaskSerializer(task).data)


# --------------------------------------------------------------------------- industry supervision


class _IndustryMixin(VisibleToUserMixin):
    permission_classes = [IndustryRoles, IndustryWriters]


class MarketEntityViewSet(_IndustryMixin, viewsets.ReadOnlyModelViewSet):
    """The 6 kinds of market entity. POST registers (or updates, by kind + name) one."""

    queryset = MarketEntity.objects.all()
    serializer_class = s.MarketEntitySerializer
    filterset_fields = ["kind", "township", "supervising_department", "active"]
    search_fields = ["name", "license_no", "address"]

    def create(self, request):
        inp = s.MarketEntityInput(data=request.data)
        inp.is_valid(raise_exception=True)
        entity = services.market_entity_register(actor=request.user, **inp.validated_data)
        return Response(s.MarketEntitySerializer(entity).data, status=status.HTTP_201_CREATED)


class RegulatedRecordViewSet(_IndustryMixin, viewsets.ReadOnlyModelViewSet):
    """The 4 regulated processes. A record of goods without a legal source opens a flagged finding."""

    queryset = RegulatedRecord.objects.all()
    serializer_class = s.RegulatedRecordSerializer
    filterset_fields = ["process", "entity", "legal_source"]
    search_fields = ["subject", "goods", "source_document"]

    def get_queryset(self):
        return super().get_queryset().select_related("entity")

    def create(self, request):
        inp = s.RegulatedRecordInput(data=request.data)
        inp.is_valid(raise_exception=True)
        data = dict(inp.validated_data)
        entity = get_object_or_404(MarketEntity.objects.visible_to(request.user), pk=data.pop("entity"))
        record = services.regulated_record_create(actor=request.user, entity=entity, **data)
        return Response(s.RegulatedRecordSerializer(record).data, status=status.HTTP_201_CREATED)


class InspectionViewSet(_IndustryMixin, viewsets.ReadOnlyModelViewSet):
    """Inspections with findings (JSON: entity, at, summary, findings: [{kind, goods, quantity, unit, description}])."""

    queryset = Inspection.objects.all()
    serializer_class = s.InspectionSerializer
    filterset_fields = ["entity", "department"]

    def get_queryset(self):
        return super().get_queryset().select_related("entity", "department").prefetch_related("findings__entity", "findings__photos")

    def create(self, request):
        inp = s.InspectionInput(data=request.data)
        inp.is_valid(raise_exception=True)
        data = dict(inp.validated_data)
        entity = get_object_or_404(MarketEntity.objects.visible_to(request.user), pk=data.pop("entity"))
        inspection = services.inspection_record(actor=request.user, entity=entity, **data)
        return Response(s.InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED)


class MarketFindingViewSet(_IndustryMixin, viewsets.ReadOnlyModelViewSet):
    """Findings; ``dispatch/`` sends one to enforcement (one-click)."""

    queryset = MarketFinding.objects.all()
    serializer_class = s.MarketFindingSerializer
    filterset_fields = ["entity", "kind", "status"]

    def get_queryset(self):
        return super().get_queryset().select_related("entity").prefetch_related("photos")

    @extend_schema(request=s.DispatchInput)
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch", permission_classes=[roles_allowed(*COMMAND_ROLES)])
    def dispatch_finding(self, request, pk=None):
        finding = self.get_object()
        inp = s.DispatchInput(data=request.data)
        inp.is_valid(raise_exception=True)
        dispatch = services.market_finding_dispatch(finding=finding, actor=request.user, **inp.validated_data)
        return Response({"finding": finding.id, "dispatch": getattr(dispatch, "pk", None)}, status=status.HTTP_201_CREATED)
