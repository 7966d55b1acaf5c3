from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Element, Link, WatchLevel


class ElementSerializer(serializers.ModelSerializer):
    """An element as anyone allowed to see it sees it: masked name and ID number, no sealed identity."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    watch_level_display = serializers.CharField(source="get_watch_level_display", read_only=True)
    department = serializers.CharField(source="department.name", default=None, read_only=True, allow_null=True)
    key = serializers.SerializerMethodField()

    class Meta:
        model = Element
        fields = ["id", "kind", "kind_display", "key", "label", "roles", "id_masked", "watch_level",
                  "watch_level_display", "reason", "source", "department", "expires_at", "attrs", "lon", "lat",
                  "created_at", "updated_at"]

    def get_key(self, obj) -> str:
        return "" if obj.kind == Element.Kind.PERSON else obj.key


class ElementInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Element.Kind.choices)
    name = serializers.CharField(max_length=120)
    key = serializers.CharField(max_length=120, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=30, required=False, allow_blank=True)
    phones = serializers.ListField(child=serializers.CharField(max_length=20), required=False)
    roles = serializers.CharField(max_length=120, required=False, allow_blank=True)
    watch_level = serializers.ChoiceField(choices=WatchLevel.choices, required=False, allow_blank=True)
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class LinkSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    source_display = serializers.CharField(source="get_source_display", read_only=True)
    case_number = serializers.CharField(source="case.number", default=None, read_only=True, allow_null=True)

    class Meta:
        model = Link
        fields = ["id", "src", "dst", "kind", "kind_display", "source", "source_display", "ref", "label", "case_number",
                  "start", "end", "confidence", "seen_count", "active", "note", "retired_at", "created_at"]


class LinkInput(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Link.Kind.choices)
    start = serializers.DateTimeField(required=False, allow_null=True)
    end = serializers.DateTimeField(required=False, allow_null=True)
    confidence = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.6)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, min_length=2, error_messages={"min_length": _("请填写理由。")})


class ImportInput(serializers.Serializer):
    file = serializers.FileField()


class NetworkQuery(serializers.Serializer):
    elements = serializers.CharField(required=False, allow_blank=True, help_text="comma-separated element ids")
    warning = serializers.IntegerField(required=False)
    case = serializers.IntegerField(required=False)
    hops = serializers.IntegerField(required=False, min_value=1, max_value=3, default=2)
    min_confidence = serializers.FloatField(required=False, min_value=0.0, max_value=1.0, default=0.0)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    kinds = serializers.CharField(required=False, allow_blank=True)
    include_retired = serializers.BooleanField(required=False, default=False)


class PathQuery(serializers.Serializer):
    a = serializers.IntegerField()
    b = serializers.IntegerField()
    min_confidence = serializers.FloatField(required=False, min_value=0.0, max_value=1.0, default=0.0)


class GraphNode(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    label = serializers.CharField()
    watch_level = serializers.CharField()
    community = serializers.IntegerField()
    start = serializers.BooleanField()


class GraphLink(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.IntegerField()
    target = serializers.IntegerField()
    kind = serializers.CharField()
    origin = serializers.CharField()
    label = serializers.CharField()
    confidence = serializers.FloatField()
    start = serializers.CharField(allow_null=True)
    end = serializers.CharField(allow_null=True)


class GraphOut(serializers.Serializer):
    nodes = GraphNode(many=True)
    links = GraphLink(many=True)
    truncated = serializers.BooleanField(required=False)
    path = serializers.ListField(child=serializers.IntegerField(), required=False)
