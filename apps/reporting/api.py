"""REST API of public participation (staff only): tips, the identity read, indicators."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import VisibleToUserMixin
from apps.core.permissions import roles_allowed
from apps.core.roles import COMMAND_ROLES, Role

from . import selectors, services
from .models import Tip
from .serializers import IdentityReadInput, TipSerializer

ReadTips = roles_allowed(*COMMAND_ROLES, read_roles=[Role.AUDITOR])


class TipList(VisibleToUserMixin, generics.ListAPIView):
    queryset = Tip.objects.all()
    serializer_class = TipSerializer
    permission_classes = [ReadTips]
    filterset_fields = ["state", "category", "level"]
    search_fields = ["code", "description", "place_text"]
    ordering_fields = ["created_at", "state"]

    def get_queryset(self):
        return super().get_queryset().prefetch_related("attachments")


class TipDetailApi(VisibleToUserMixin, generics.RetrieveAPIView):
    queryset = Tip.objects.all()
    serializer_class = TipSerializer
    permission_classes = [ReadTips]


class TipIdentity(APIView):
    """POST ``{"reason": ...}`` → the tipster's contact. Only holders of ``reporting.view_tipster_identity``;
    every read is on the audit trail (ACCESS) and in the tip's identity-read log."""

    permission_classes = [roles_allowed(*COMMAND_ROLES)]

    @extend_schema(
        request=IdentityReadInput,
        responses=inline_serializer("TipIdentityOut", {"code": serializers.CharField(), "contact": serializers.DictField(child=serializers.CharField())}),
    )
    def post(self, request, pk: int):
        tip = get_object_or_404(Tip.objects.visible_to(request.user), pk=pk)
        data = IdentityReadInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = services.tip_identity_read(tip=tip, actor=request.user, reason=data.validated_data["reason"])
        response = Response({"code": tip.code, "contact": contact})
        response["Cache-Control"] = "no-store"
        return response


class Indicators(APIView):
    permission_classes = [roles_allowed(*COMMAND_ROLES, read_roles=[Role.AUDITOR])]

    @extend_schema(responses=inline_serializer("TipIndicators", {
        "total": serializers.IntegerField(), "by_state": serializers.DictField(child=serializers.IntegerField()),
        "useful_share": serializers.FloatField(allow_null=True), "rewards_paid": serializers.IntegerField(),
    }))
    def get(self, request):
        return Response(selectors.tip_indicators())
