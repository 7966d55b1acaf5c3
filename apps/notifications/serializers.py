from __future__ import annotations

from rest_framework import serializers

from . import sealing
from .models import Attempt, Channel, Notification


class AttemptSerializer(serializers.ModelSerializer):
    outcome_label = serializers.CharField(source="get_outcome_display", read_only=True)

    class Meta:
        model = Attempt
        fields = ["number", "started_at", "finished_at", "outcome", "outcome_label", "http_status", "gateway_code", "detail"]


class NotificationSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    route_label = serializers.CharField(source="get_route_display", read_only=True)
    channel_name = serializers.CharField(source="channel.name", read_only=True, default="")
    channel_kind_label = serializers.CharField(source="get_channel_kind_display", read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default="")
    address = serializers.SerializerMethodField()
    attempts = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "task", "level", "reason", "route", "route_label", "channel", "channel_name", "channel_kind",
                  "channel_kind_label", "recipient", "address", "department", "department_name", "title", "body", "state",
                  "state_label", "attempt_count", "next_attempt_at", "accepted_at", "last_error", "created_at", "attempts"]

    def get_address(self, obj) -> str:
        """Phone numbers are shown masked (13800000001 -> 138****0001)."""
        a = obj.address
        if obj.route == "sms" and len(a) >= 7:
            return a[:3] + "****" + a[-4:]
        return a


class ChannelSerializer(serializers.ModelSerializer):
    """A channel as shown: which secret fields are set, never their values."""

    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    route = serializers.CharField(read_only=True)
    department_name = serializers.CharField(source="department.name", read_only=True, default="")
    user_name = serializers.CharField(source="user.username", read_only=True, default="")
    secrets_set = serializers.SerializerMethodField()
    secret_fields = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = ["id", "name", "kind", "kind_label", "route", "department", "department_name", "user", "user_name",
                  "active", "options", "secret_fields", "secrets_set", "created_at", "updated_at"]

    def get_secrets_set(self, obj) -> list[str]:
        try:
            return sorted(sealing.unseal(obj.secrets_sealed))
        except Exception:  # a key was dropped before re-sealing: say so, show nothing
            return ["?"]

    def get_secret_fields(self, obj) -> list[str]:
        return list(sealing.SECRET_FIELDS.get(obj.kind, ()))


class ChannelInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False)
    kind = serializers.ChoiceField(choices=Channel.Kind.choices, required=False)
    department = serializers.IntegerField(required=False, allow_null=True)
    user = serializers.IntegerField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)
    options = serializers.JSONField(required=False)
    secrets = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False,
                                    help_text="写入后不再显示；留空的字段保持原值。值可写 env:变量名，从环境变量读取。")


class DeliveryRateSerializer(serializers.Serializer):
    route = serializers.CharField()
    route_label = serializers.CharField()
    channel_kind = serializers.CharField()
    label = serializers.CharField()
    total = serializers.IntegerField()
    accepted = serializers.IntegerField()
    failed = serializers.IntegerField()
    in_flight = serializers.IntegerField()
    rate_pct = serializers.FloatField(allow_null=True)
