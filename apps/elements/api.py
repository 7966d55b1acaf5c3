"""Element-control REST API (mounted at /api/elements/): thin views over services and selectors."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import VisibleToUserMixin, error
from apps.core.permissions import IsStaffMember, roles_allowed
from apps.core.roles import Role

from . import ingest, selectors, serializers, services
from .models import DetectorSetting, Geofence, Holiday, IngestRun, QuarantineRecord, Vessel, WatchEntry, Warning

CommandWrite = roles_allowed(Role.COMMANDER, Role.DUTY_OFFICER, read_roles=[Role.AUDITOR])
CommanderOnly = roles_allowed(Role.COMMANDER, read_roles=[Role.DUTY_OFFICER, Role.AUDITOR])
Uploaders = roles_allowed(Role.COMMANDER, Role.DUTY_OFFICER, Role.DEPT_OFFICER, Role.DEPT_HEAD)

#: Largest position or capture upload accepted in one request.
UPLOAD_LIMIT_BYTES = min(int(getattr(settings, "UPLOAD_MAX_BYTES", 20 * 1024 * 1024)), 10 * 1024 * 1024)
MAX_TRACK_DAYS = 31


def _parse_time(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace(" ", "+") if value.count(" ") == 1 and "T" in value else value)
    except ValueError as exc:
        raise ValidationError({name: [_("时间格式无效（应为 ISO 8601，如 2026-11-25T02:00:00+08:00）：%(value)s") % {"value": value}]}) from exc
    if timezone.is_naive(dt):
        dt = timezone.make_aware(dt)  # a bare local time from a page is Beijing time
    return dt


# ------------------------------------------------------------------------------ vessels
class VesselViewSet(viewsets.ReadOnlyModelViewSet):
    """Live vessel positions (last fix per vessel; ``?bbox=minlon,minlat,maxlon,maxlat``, ``?since=``) and tracks."""

    serializer_class = serializers.VesselPositionSerializer
    permission_classes = [IsStaffMember]
    queryset = Vessel.objects.all()
    filterset_fields = ["source", "registered", "watch_group"]
    search_fields = ["external_id", "name", "callsign"]

    def get_queryset(self):
        if self.action != "list":
            return Vessel.objects.all()
        bbox = None
        raw = self.request.query_params.get("bbox")
        if raw:
            try:
                parts = [float(x) for x in raw.split(",")]
                if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
                    raise ValueError
                bbox = tuple(parts)
            except ValueError as exc:
                raise ValidationError({"bbox": [_("bbox 应为 最小经度,最小纬度,最大经度,最大纬度")]}) from exc
        since = _parse_time(self.request.query_params.get("since"), "since")
        return selectors.vessel_positions(bbox=bbox, since=since)

    @extend_schema(responses=OpenApiTypes.OBJECT, parameters=[
        OpenApiParameter("start", OpenApiTypes.DATETIME), OpenApiParameter("end", OpenApiTypes.DATETIME)])
    @action(detail=True, methods=["get"])
    def track(self, request, pk=None):
        """The vessel's stored fixes between ``start`` and ``end`` (ISO 8601; default: the last 24 hours)."""
        vessel = self.get_object()
        end = _parse_time(request.query_params.get("end"), "end") or timezone.now()
        start = _parse_time(request.query_params.get("start"), "start") or end - timedelta(days=1)
        if end < start:
            return error(_("结束时间早于开始时间。"))
        if end - start > timedelta(days=MAX_TRACK_DAYS):
            return error(_("查询时段最长 %(days)s 天。") % {"days": MAX_TRACK_DAYS})
        return Response({"vessel": vessel.external_id, "start": start.isoformat(), "end": end.isoformat(),
                         "fixes": selectors.vessel_track(vessel=vessel, start=start, end=end)})


# ------------------------------------------------------------------------------ geography
_GEO = OpenApiTypes.OBJECT  # GeoJSON


@extend_schema_view(
    list=extend_schema(operation_id="elements_geofences_list", responses=_GEO,
                       parameters=[OpenApiParameter(n, str) for n in ("kind", "status", "township")]),
    retrieve=extend_schema(responses=_GEO, parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
    create=extend_schema(request=serializers.GeofenceInputSerializer, responses=_GEO),
    update=extend_schema(request=serializers.GeofenceInputSerializer, responses=_GEO,
                         parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
    partial_update=extend_schema(request=serializers.GeofenceInputSerializer, responses=_GEO,
                                 parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
    destroy=extend_schema(responses={204: None}, parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH)]),
)
class GeofenceViewSet(viewsets.ViewSet):
    """Geofences as a GeoJSON FeatureCollection; the operations centre creates, edits and deletes them."""

    permission_classes = [roles_allowed(Role.COMMANDER, Role.DUTY_OFFICER, read_roles=[
        Role.DEPT_OFFICER, Role.DEPT_HEAD, Role.GRID_WORKER, Role.PIER_CHIEF, Role.AUDITOR])]

    def list(self, request):
        qs = Geofence.objects.all()
        for field in ("kind", "status", "township"):
            if request.query_params.get(field):
                qs = qs.filter(**{field: request.query_params[field]})
        return Response(selectors.geofences_feature_collection(queryset=qs))

    def retrieve(self, request, pk=None):
        return Response(selectors.geofence_feature(get_object_or_404(Geofence, pk=pk)))

    def create(self, request):
        data = serializers.GeofenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        g = services.geofence_save(data=data.validated_data, actor=request.user)
        return Response(selectors.geofence_feature(g), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None):
        g = get_object_or_404(Geofence, pk=pk)
        data = serializers.GeofenceInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(selectors.geofence_feature(
            services.geofence_save(data=data.validated_data, instance=g, actor=request.user)))

    partial_update = update

    def destroy(self, request, pk=None):
        services.geofence_delete(geofence=get_object_or_404(Geofence, pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GeographyView(APIView):
    """The county boundary (WGS84 GeoJSON) for maps."""

    permission_classes = [IsStaffMember]

    @extend_schema(responses=_GEO)
    def get(self, request):
        return Response(selectors.county_boundary())


# ------------------------------------------------------------------------------ warnings
class WarningFilter(django_filters.FilterSet):
    level = django_filters.BaseInFilter(field_name="level")
    kind = django_filters.BaseInFilter(field_name="kind")
    status = django_filters.BaseInFilter(field_name="status")
    start_after = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="gte")
    start_before = django_filters.IsoDateTimeFilter(field_name="start", lookup_expr="lte")
    vessel = django_filters.CharFilter(method="filter_vessel")
    geofence = django_filters.NumberFilter(field_name="geofence_id")

    class Meta:
        model = Warning
        fields = ["level", "kind", "status", "geofence"]

    def filter_vessel(self, queryset, name, value):
        from django.db import connection

        if connection.vendor == "postgresql":
            return queryset.filter(vessels__contains=[value])
        ids = Warning.objects.filter(vessels__icontains=value).values_list("pk", "vessels")
        return queryset.filter(pk__in=[pk for pk, vessels in ids if value in (vessels or [])])


class WarningViewSet(VisibleToUserMixin, viewsets.ReadOnlyModelViewSet):
    """Warnings the user may see: the operations centre and auditors all, a department those it was tasked with.

    Filters: ``level``, ``kind``, ``status`` (comma-separated lists), ``start_after`` /
    ``start_before`` (ISO 8601), ``vessel``, ``geofence``; ``?ordering=-score``.
    """

    queryset = Warning.objects.all()
    permission_classes = [IsStaffMember]
    filterset_class = WarningFilter
    search_fields = ["episode_key", "geofence__name"]
    ordering_fields = ["start", "score", "created_at", "updated_at", "level"]

    def get_queryset(self):
        return super().get_queryset().select_related("geofence")

    def get_serializer_class(self):
        return serializers.WarningDetailSerializer if self.action != "list" else serializers.WarningListSerializer

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def replay(self, request, pk=None):
        """Re-run the pipeline on the stored fixes of the warning's vessels and time: same kind, level, score?"""
        return Response(selectors.warning_replay(warning=self.get_object()))


# ------------------------------------------------------------------------------ uploads
def _upload_body(request) -> tuple[bytes, str | None, str]:
    """(bytes, format, name) of a raw-body or multipart upload; refuses oversize bodies before reading."""
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > UPLOAD_LIMIT_BYTES:
        raise _TooBig()
    ctype = (request.content_type or "").lower()
    if ctype.startswith("multipart/"):
        f = request.FILES.get("file")
        if f is None:
            raise ValidationError({"file": [_("请上传文件（字段名 file）。")]})
        if f.size > UPLOAD_LIMIT_BYTES:
            raise _TooBig()
        name = f.name or "upload"
        fmt = "json" if name.lower().endswith(".json") else "csv" if name.lower().endswith(".csv") else None
        return f.read(), fmt, name
    body = request.body
    if len(body) > UPLOAD_LIMIT_BYTES:
        raise _TooBig()
    fmt = "json" if "json" in ctype else "csv" if ("csv" in ctype or ctype.startswith("text/")) else None
    return body, fmt, "api upload"


class _TooBig(Exception):
    pass


def _too_big() -> Response:
    return error(_("上传内容超过 {mb} MB，请分批上传。").format(mb=UPLOAD_LIMIT_BYTES // (1024 * 1024)), status=413)


class PositionUploadView(APIView):
    """Beidou / generic positions, CSV or JSON (``source,vessel_id,timestamp,lat,lon,sog,cog``).

    Good rows are accepted whatever the bad ones: 202 when every row was good, 400 with the
    refused rows (row number, reason, detail) otherwise. Processing continues on the workers;
    follow it at ``runs/<run>/``.
    """

    permission_classes = [Uploaders]

    @extend_schema(request={"text/csv": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT,
                            "multipart/form-data": OpenApiTypes.BINARY}, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        try:
            data, fmt, name = _upload_body(request)
        except _TooBig:
            return _too_big()
        if not data.strip():
            return error(_("上传内容为空。"))
        wait = bool(settings.CELERY_TASK_ALWAYS_EAGER)
        result = ingest.positions_ingest(data=data, name=name, fmt=fmt, wait=wait, actor=request.user)
        return _upload_response(result, what=_("船位"))


class CaptureUploadView(APIView):
    """Checkpoint (卡口) captures, CSV ``checkpoint_id,plate,timestamp,lat,lon``."""

    permission_classes = [Uploaders]

    @extend_schema(request={"text/csv": OpenApiTypes.STR, "multipart/form-data": OpenApiTypes.BINARY},
                   responses=OpenApiTypes.OBJECT)
    def post(self, request):
        try:
            data, _fmt, name = _upload_body(request)
        except _TooBig:
            return _too_big()
        if not data.strip():
            return error(_("上传内容为空。"))
        result = ingest.captures_ingest(data=data, name=name, actor=request.user, wait=False)
        return _upload_response(result, what=_("过车"))


def _upload_response(result: dict, *, what: str) -> Response:
    good = result.get("fixes") or result.get("captures") or 0
    if not result["read"]:
        return error(_("上传内容中没有{what}记录（应有表头和数据行）。").format(what=what), run=result["run"])
    body = {
        "run": result["run"],
        "read": result["read"],
        "accepted": good,
        "refused": len(result["row_errors"]),
        "errors": result["row_errors"],
        "stored": result.get("stored", 0),
        "duplicates": result.get("duplicates", 0),
        "warnings_new": result.get("warnings_new", 0),
    }
    if result["row_errors"]:
        body["detail"] = _("{bad} 条{what}记录有误，已隔离；其余 {good} 条已接收。").format(
            bad=len(result["row_errors"]), what=what, good=good)
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    body["detail"] = _("已接收 {good} 条{what}记录。").format(good=good, what=what)
    return Response(body, status=status.HTTP_202_ACCEPTED)


class IngestRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Ingest runs and their counts (read, decoded, stored, duplicates, quarantined by reason, warnings)."""

    queryset = IngestRun.objects.all()
    serializer_class = serializers.IngestRunSerializer
    permission_classes = [CommandWrite]
    filterset_fields = ["kind", "status"]

    def get_permissions(self):
        if self.action == "retrieve":  # an uploader may follow their own run
            return [IsStaffMember()]
        return super().get_permissions()

    def get_object(self):
        run = super().get_object()
        user = self.request.user
        if self.action == "retrieve" and not user.reads_everything and run.actor_id != user.pk:
            self.permission_denied(self.request, message=_("只能查看自己提交的接入批次。"))
        return run


class QuarantineViewSet(viewsets.ReadOnlyModelViewSet):
    """Refused input with its reason (command roles and auditors)."""

    queryset = QuarantineRecord.objects.all()
    serializer_class = serializers.QuarantineSerializer
    permission_classes = [CommandWrite]
    filterset_fields = ["reason", "source", "run"]
    search_fields = ["raw", "detail"]


# ------------------------------------------------------------------------------ risk model, settings
class RiskModelView(APIView):
    """The AHP risk model: factors, pairwise matrix, weights, consistency ratio, level thresholds.

    PUT (commander only) replaces the matrix (and thresholds); a matrix with CR > 0.1 is
    refused with 400 and its CR. Every change is on the audit trail.
    """

    permission_classes = [CommanderOnly]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(_risk_model_body(services.risk_model_current()))

    @extend_schema(request=serializers.RiskModelInputSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request):
        data = serializers.RiskModelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            model = services.risk_model_update(
                matrix=data.validated_data["matrix"], thresholds=data.validated_data.get("thresholds"),
                actor=request.user,
            )
        except services.RiskModelInconsistent as exc:
            return error(exc.messages[0], cr=round(exc.cr, 4), max_cr=exc.max_cr)
        return Response(_risk_model_body(model))


def _risk_model_body(model) -> dict:
    return {
        "factors": model.factors,
        "matrix": model.matrix,
        "weights": model.weights,
        "cr": model.cr,
        "thresholds": model.thresholds,
        "updated_at": model.updated_at,
        "updated_by": str(model.updated_by) if model.updated_by_id else None,
    }


class WatchEntryViewSet(viewsets.ModelViewSet):
    """The watch list: vessels by id, groups of vessels, vehicle plates (operations centre)."""

    queryset = WatchEntry.objects.all()
    serializer_class = serializers.WatchEntrySerializer
    permission_classes = [CommandWrite]
    filterset_fields = ["kind", "active"]
    search_fields = ["value", "reason"]

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = services.watch_entry_add(kind=d["kind"], value=d["value"], reason=d.get("reason", ""),
                                                       actor=self.request.user)


class HolidayViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    queryset = Holiday.objects.all()
    serializer_class = serializers.HolidaySerializer
    permission_classes = [CommandWrite]

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = services.holiday_add(day=d["date"], name=d["name"])


class DetectorSettingViewSet(viewsets.ModelViewSet):
    """Detector parameters per township and season (commander)."""

    queryset = DetectorSetting.objects.all()
    serializer_class = serializers.DetectorSettingSerializer
    permission_classes = [CommanderOnly]

    def perform_create(self, serializer):
        serializer.instance = services.detector_setting_save(actor=self.request.user, **self._args(serializer))

    def perform_update(self, serializer):
        serializer.instance = services.detector_setting_save(
            instance=serializer.instance, actor=self.request.user, **self._args(serializer))

    @staticmethod
    def _args(serializer) -> dict:
        d = {**({} if serializer.instance is None else {
            "township": serializer.instance.township, "month_from": serializer.instance.month_from,
            "month_to": serializer.instance.month_to, "params": serializer.instance.params,
            "note": serializer.instance.note}), **serializer.validated_data}
        return {"township": d.get("township", ""), "month_from": d.get("month_from", 1), "month_to": d.get("month_to", 12),
                "params": d.get("params", {}), "note": d.get("note", "")}


# ------------------------------------------------------------------------------ tides
class TideWindowsView(APIView):
    """Tonight's joint-patrol windows (high water ± the configured minutes) and the tide curve.

    ``?date=YYYY-MM-DD`` (default: today, Beijing time): the night from 12:00 that day to 12:00 the next.
    """

    permission_classes = [IsStaffMember]

    @extend_schema(parameters=[OpenApiParameter("date", OpenApiTypes.DATE)], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        raw = request.query_params.get("date")
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                return error(_("日期格式无效（应为 YYYY-MM-DD）：%(value)s") % {"value": raw})
        else:
            day = timezone.localdate()
        return Response(selectors.tide_windows(day=day))
