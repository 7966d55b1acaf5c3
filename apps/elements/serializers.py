"""Small input/output serializers of the element-control API."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import DetectorSetting, Holiday, IngestRun, QuarantineRecord, Vessel, WatchEntry, Warning


class VesselPositionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Vessel
        fields = [
            "id", "source", "external_id", "name", "callsign", "ship_type", "registered", "watch_group",
            "last_seen", "last_lon", "last_lat", "last_sog_kn", "last_cog_deg",
        ]


class WarningListSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    geofence = serializers.SerializerMethodField()

    class Meta:
        model = Warning
        fields = [
            "id", "kind", "kind_display", "level", "level_display", "score", "status", "status_display",
            "vessels", "geofence", "lon", "lat", "start", "end", "created_at", "updated_at",
        ]

    def get_geofence(self, obj) -> dict | None:
        if obj.geofence_id is None or obj.geofence is None:
            return None
        return {"id": obj.geofence_id, "name": obj.geofence.name, "kind": obj.geofence.kind,
                "township": obj.geofence.township}


class WarningDetailSerializer(WarningListSerializer):
    class Meta(WarningListSerializer.Meta):
        fields = [*WarningListSerializer.Meta.fields, "episode_key", "evidence"]


class GeofenceInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    kind = serializers.CharField(max_length=20, required=False)
    status = serializers.CharField(max_length=10, required=False)
    township = serializers.CharField(max_length=60, required=False, allow_blank=True)
    pier_chief = serializers.CharField(max_length=60, required=False, allow_blank=True)
    radius_m = serializers.FloatField(required=False, min_value=1, max_value=20000)
    geometry = serializers.JSONField(required=False)


class RiskModelInputSerializer(serializers.Serializer):
    matrix = serializers.ListField(child=serializers.ListField(child=serializers.FloatField()))
    thresholds = serializers.DictField(child=serializers.FloatField(), required=False)


class QuarantineSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuarantineRecord
        fields = ["id", "run", "source", "raw", "reason", "detail", "data_ts", "received_at"]


class IngestRunSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    progress = serializers.SerializerMethodField(help_text="运行中的进度：定位总数（读完输入后才知道）、已处理数、比例、每秒处理数、预计剩余秒数")

    class Meta:
        model = IngestRun
        fields = [
            "id", "kind", "kind_display", "name", "status", "status_display", "started_at", "finished_at", "read",
            "decoded", "accepted", "stored", "duplicates", "quarantined", "warnings_new", "warnings_updated", "stats",
            "error", "progress",
        ]

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "fixes_total": {"type": "integer", "nullable": True},
                "fixes_done": {"type": "integer"},
                "fraction": {"type": "number", "nullable": True},
                "fixes_per_s": {"type": "number"},
                "seconds_left": {"type": "number", "nullable": True},
            },
        }
    )
    def get_progress(self, run: IngestRun) -> dict:
        from django.utils import timezone

        total = run.stats.get("fixes_total")
        done = int(run.stats.get("fixes_done", 0))
        if run.status == IngestRun.Status.DONE and total is not None:
            done = max(done, int(total))
        end = run.finished_at or timezone.now()
        elapsed = max((end - run.started_at).total_seconds(), 1e-3)
        rate = done / elapsed
        fraction = min(1.0, done / total) if total else (1.0 if total == 0 else None)
        left = None
        if total is not None and run.status == IngestRun.Status.RUNNING and rate > 0:
            left = round(max(0, total - done) / rate, 1)
        return {"fixes_total": total, "fixes_done": done, "fraction": fraction, "fixes_per_s": round(rate, 1),
                "seconds_left": left}


class WatchEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = WatchEntry
        fields = ["id", "kind", "value", "reason", "active", "created_at"]
        read_only_fields = ["created_at"]


class HolidaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Holiday
        fields = ["id", "date", "name"]


class DetectorSettingSerializer(serializers.ModelSerializer):
    class Meta:
        model = DetectorSetting
        fields = ["id", "township", "month_from", "month_to", "params", "note", "updated_at"]
        read_only_fields = ["updated_at"]
