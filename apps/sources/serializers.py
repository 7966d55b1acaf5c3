"""Small input/output serializers of the source-governance API (no logic: services decide)."""
from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from . import selectors
from .models import (
    Checkin,
    Facility,
    SensorEvent,
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
)


def photo_url(photo_id: int) -> str:
    return reverse("sources:photo", args=[photo_id])


@extend_schema_field(serializers.ListField(child=serializers.CharField()))
class PhotoUrlsField(serializers.Field):
    """A many-to-many of photos as a list of URLs served by ``sources:photo``."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, manager):
        return [photo_url(p.id) for p in manager.all()]


# --------------------------------------------------------------------------- grid and plans


class GridSerializer(serializers.ModelSerializer):
    township_name = serializers.CharField(source="township.name", read_only=True)

    class Meta:
        model = Grid
        fields = ["id", "code", "name", "township", "township_name", "note"]


class GridTeamSerializer(serializers.ModelSerializer):
    grid_name = serializers.CharField(source="grid.name", read_only=True)
    township = serializers.IntegerField(source="grid.township_id", read_only=True)
    members = serializers.SerializerMethodField()
    places = serializers.SerializerMethodField()

    class Meta:
        model = GridTeam
        fields = ["id", "name", "grid", "grid_name", "township", "active", "members", "places"]

    def get_members(self, team) -> list[dict[str, Any]]:
        return [
            {"user": m.user_id, "name": str(m.user), "role": m.role, "role_label": m.get_role_display()}
            for m in team.members.all()
        ]

    def get_places(self, team) -> list[dict[str, Any]]:
        return [{"id": g.id, "name": g.name, "kind": g.kind} for g in team.geofences.all()]


class PatrolPlanSerializer(serializers.ModelSerializer):
    team_name = serializers.CharField(source="team.name", read_only=True)
    township = serializers.IntegerField(source="team.grid.township_id", read_only=True)
    township_name = serializers.CharField(source="team.grid.township.name", read_only=True)
    place = serializers.CharField(source="geofence.name", read_only=True)
    place_kind = serializers.CharField(source="geofence.kind", read_only=True)
    lon = serializers.FloatField(source="geofence.centroid_lon", read_only=True)
    lat = serializers.FloatField(source="geofence.centroid_lat", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    window_label = serializers.SerializerMethodField()

    class Meta:
        model = PatrolPlan
        fields = [
            "id", "night", "team", "team_name", "township", "township_name", "geofence", "place", "place_kind", "lon", "lat",
            "window_start", "peak", "window_end", "window_label", "status", "status_label", "checked_in_at", "flagged_at",
        ]

    def get_window_label(self, plan) -> str:
        return selectors.fmt_window(plan.window_start, plan.window_end)


class CheckinSerializer(serializers.ModelSerializer):
    photo = serializers.SerializerMethodField()
    place = serializers.CharField(source="plan.geofence.name", read_only=True)
    user_name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = Checkin
        fields = ["id", "plan", "place", "user", "user_name", "lon", "lat", "accuracy_m", "at", "received_at", "photo", "client_uuid"]

    def get_photo(self, checkin) -> str:
        return photo_url(checkin.photo_id)


class GridReportSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    reporter_name = serializers.CharField(source="reporter.__str__", read_only=True)
    place = serializers.CharField(source="geofence.name", default="", read_only=True)
    facility_name = serializers.CharField(source="facility.name", default="", read_only=True)
    township_name = serializers.CharField(source="township.name", default="", read_only=True)
    photos = PhotoUrlsField()
    repair_task = serializers.SerializerMethodField()

    class Meta:
        model = GridReport
        fields = [
            "id", "kind", "kind_label", "description", "lon", "lat", "accuracy_m", "at", "received_at", "reporter",
            "reporter_name", "township", "township_name", "geofence", "place", "facility", "facility_name", "photos",
            "client_uuid", "signalled_at", "signal_error", "dispatched_at", "repair_task",
        ]

    def get_repair_task(self, report) -> int | None:
        task = report.repair_tasks.order_by("id").first()
        return task.id if task else None


# --------------------------------------------------------------------------- facilities


class ProtectedSiteSerializer(serializers.ModelSerializer):
    site_type_label = serializers.CharField(source="get_site_type_display", read_only=True)

    class Meta:
        model = ProtectedSite
        fields = ["id", "name", "site_type", "site_type_label", "geofence", "township", "lon", "lat"]


class SiteStandardSerializer(serializers.ModelSerializer):
    site_type_label = serializers.CharField(source="get_site_type_display", read_only=True)
    facility_kind_label = serializers.CharField(source="get_facility_kind_display", read_only=True)

    class Meta:
        model = SiteStandard
        fields = ["id", "site_type", "site_type_label", "facility_kind", "facility_kind_label", "min_count"]


class FacilitySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    site_name = serializers.CharField(source="site.name", read_only=True)
    department_name = serializers.CharField(source="responsible_department.name", read_only=True)
    is_device = serializers.BooleanField(read_only=True)

    class Meta:
        model = Facility
        fields = [
            "id", "code", "name", "kind", "kind_label", "status", "status_label", "site", "site_name",
            "responsible_department", "department_name", "is_device", "heartbeat_timeout_min", "last_heartbeat_at",
            "lon", "lat", "installed_at", "range_m", "bearing_deg", "fov_deg", "last_data_at",
        ]


class SensorEventInSerializer(serializers.Serializer):
    """What a device posts (documentation of ``POST /api/sources/devices/events/``)."""

    sensor_id = serializers.CharField(required=False)
    timestamp = serializers.DateTimeField()
    kind = serializers.ChoiceField(choices=SensorEvent.Kind.choices)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False)
    snapshot = serializers.CharField(required=False, help_text="base64 JPEG/PNG/WebP, or a file in multipart")
    video_url = serializers.URLField(required=False)


class SensorEventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    sensor_id = serializers.CharField(source="facility.code", read_only=True)
    snapshot_url = serializers.SerializerMethodField()

    class Meta:
        model = SensorEvent
        fields = ["id", "sensor_id", "facility", "kind", "kind_label", "at", "confidence", "snapshot_url", "video_url",
                  "received_at", "warning_id", "repair_task"]

    def get_snapshot_url(self, obj) -> str:
        return photo_url(obj.snapshot_id) if obj.snapshot_id else ""


class RepairTaskSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    source_label = serializers.CharField(source="get_source_display", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    facility_name = serializers.CharField(source="facility.name", default="", read_only=True)
    site_name = serializers.CharField(source="site.name", default="", read_only=True)
    before_photos = PhotoUrlsField()
    after_photos = PhotoUrlsField()

    class Meta:
        model = RepairTask
        fields = [
            "id", "title", "description", "source", "source_label", "state", "state_label", "department",
            "department_name", "facility", "facility_name", "site", "site_name", "report", "before_photos",
            "after_photos", "opened_at", "started_at", "closed_at", "close_note",
        ]


# --------------------------------------------------------------------------- industry


class MarketEntitySerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = MarketEntity
        fields = [
            "id", "kind", "kind_label", "name", "license_no", "address", "township", "supervising_department",
            "lon", "lat", "contact_name", "contact_phone", "active",
        ]


class MarketEntityInput(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField(max_length=120)
    license_no = serializers.CharField(required=False, allow_blank=True, default="")
    address = serializers.CharField(required=False, allow_blank=True, default="")
    lon = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(required=False, allow_blank=True, default="")


class RegulatedRecordSerializer(serializers.ModelSerializer):
    process_label = serializers.CharField(source="get_process_display", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)

    class Meta:
        model = RegulatedRecord
        fields = [
            "id", "process", "process_label", "entity", "entity_name", "subject", "goods", "quantity", "unit",
            "source_document", "legal_source", "occurred_at", "details", "created_at",
        ]


class RegulatedRecordInput(serializers.Serializer):
    process = serializers.CharField()
    entity = serializers.IntegerField()
    subject = serializers.CharField(max_length=120)
    occurred_at = serializers.DateTimeField()
    goods = serializers.CharField(required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True, default=None)
    unit = serializers.CharField(required=False, allow_blank=True, default="")
    source_document = serializers.CharField(required=False, allow_blank=True, default="")
    legal_source = serializers.BooleanField(required=False, allow_null=True, default=None)
    details = serializers.JSONField(required=False, default=dict)


class MarketFindingSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    flagged = serializers.BooleanField(read_only=True)
    photos = PhotoUrlsField()

    class Meta:
        model = MarketFinding
        fields = [
            "id", "entity", "entity_name", "inspection", "record", "kind", "kind_label", "goods", "quantity", "unit",
            "description", "status", "status_label", "flagged", "signalled_at", "signal_error", "photos", "created_at",
        ]


class InspectionSerializer(serializers.ModelSerializer):
    entity_name = serializers.CharField(source="entity.name", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True)
    findings = MarketFindingSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = ["id", "entity", "entity_name", "department", "department_name", "inspector", "at", "summary", "findings"]


class FindingInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MarketFinding.Kind.choices)
    goods = serializers.CharField(required=False, allow_blank=True, default="")
    quantity = serializers.DecimalField(max_digits=14, decimal_places=3, required=False, allow_null=True, default=None)
    unit = serializers.CharField(required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class InspectionInput(serializers.Serializer):
    entity = serializers.IntegerField()
    at = serializers.DateTimeField()
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    findings = FindingInput(many=True, required=False, default=list)


class PlanGenerateInput(serializers.Serializer):
    """``plans/generate/``: the night to plan (default: tonight)."""

    date = serializers.DateField(required=False)


class DispatchInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=["red", "orange", "yellow", "blue"], required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
