from auditlog.models import LogEntry
from rest_framework import serializers

from .models import Department, User


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["id", "code", "name", "name_en", "kind", "hosts_operations_centre", "phone"]


class MeSerializer(serializers.ModelSerializer):
    department = DepartmentSerializer(read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "department"]


class AuditEntrySerializer(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    action = serializers.CharField(source="get_action_display")
    actor = serializers.SerializerMethodField()
    changes = serializers.JSONField(source="changes_dict")

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "model", "object_pk", "object_repr", "action", "actor", "remote_addr", "changes"]

    def get_model(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"

    def get_actor(self, obj) -> str | None:
        return obj.actor.username if obj.actor_id else None
