from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import Bulletin, Tip


class TipSerializer(serializers.ModelSerializer):
    """A tip for staff: never the contact (that is read only through the identity endpoint)."""

    category_display = serializers.CharField(source="get_category_display", read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    attachments = serializers.SerializerMethodField()

    class Meta:
        model = Tip
        fields = [
            "id", "code", "category", "category_display", "description", "place_text", "lon", "lat", "seen_at",
            "state", "state_display", "level", "triage_outcome", "triage_note", "warning", "has_contact",
            "attachments", "created_at", "updated_at",
        ]

    def get_attachments(self, obj) -> list[dict]:
        from django.urls import reverse

        return [{"id": a.pk, "kind": a.kind, "url": reverse("reporting:attachment", args=[a.pk])} for a in obj.attachments.all()]


class IdentityReadInput(serializers.Serializer):
    reason = serializers.CharField(max_length=200, error_messages={"required": _("请填写查看事由。"), "blank": _("请填写查看事由。")})


class BulletinSerializer(serializers.ModelSerializer):
    class Meta:
        model = Bulletin
        fields = ["id", "kind", "title", "summary", "source", "state", "published_at"]
