"""Notifications REST API: deliveries with their attempts (per task too), channels (secrets write-only), delivery rates."""
from __future__ import annotations

from datetime import timedelta

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.models import Department, User

from . import selectors, services
from .models import Channel, Notification
from .serializers import ChannelInputSerializer, ChannelSerializer, DeliveryRateSerializer, NotificationSerializer


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """Every notification sent (or being sent) with its attempts; ``?task=ID`` gives one task's."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_fields = ["task", "state", "route", "channel_kind", "reason", "level", "department"]
    search_fields = ["title", "recipient"]
    ordering_fields = ["created_at", "state"]

    def get_queryset(self):
        return selectors.notifications_for_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """重发: the operations centre sends a failed notification again."""
        n = services.notification_resend(notification=self.get_object(), actor=request.user)
        return Response(NotificationSerializer(n).data)


class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Notification channels per department or person. Secrets are accepted, sealed and never returned."""

    queryset = Channel.objects.all()
    serializer_class = ChannelSerializer
    filterset_fields = ["kind", "department", "user", "active"]

    def get_queryset(self):
        return Channel.objects.visible_to(self.request.user).select_related("department", "user")

    def _save(self, request, channel=None):
        data = ChannelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        dept_id = v.get("department", channel.department_id if channel else None)
        user_id = v.get("user", channel.user_id if channel else None)
        saved = services.channel_save(
            actor=request.user, channel=channel,
            name=v.get("name", channel.name if channel else ""), kind=v.get("kind", channel.kind if channel else ""),
            department=get_object_or_404(Department, pk=dept_id) if dept_id else None,
            user=get_object_or_404(User, pk=user_id) if user_id else None,
            active=v.get("active", channel.active if channel else True),
            options=v.get("options", channel.options if channel else {}), secrets=v.get("secrets") or {},
        )
        return Response(ChannelSerializer(saved).data, status=status.HTTP_200_OK if channel else status.HTTP_201_CREATED)

    @extend_schema(request=ChannelInputSerializer, responses=ChannelSerializer)
    def create(self, request, *args, **kwargs):
        return self._save(request)

    @extend_schema(request=ChannelInputSerializer, responses=ChannelSerializer)
    def update(self, request, *args, **kwargs):
        return self._save(request, self.get_object())

    @extend_schema(request=ChannelInputSerializer, responses=ChannelSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self._save(request, self.get_object())

    def destroy(self, request, *args, **kwargs):
        services.channel_delete(actor=request.user, channel=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryRatesView(APIView):
    """Delivery per channel over the last ``days`` (default 30): sent, accepted, failed, rate."""

    @extend_schema(parameters=[OpenApiParameter("days", int)], responses=DeliveryRateSerializer(many=True))
    def get(self, request):
        try:
            days = min(max(int(request.query_params.get("days", 30)), 1), 366)
        except ValueError:
            days = 30
        rows = selectors.delivery_rates(since=timezone.now() - timedelta(days=days))
        return Response(DeliveryRateSerializer(rows, many=True).data)


class TaskSummaryView(APIView):
    """``?tasks=1,2,3``: per task, its notifications counted by route and state (for task cards)."""

    @extend_schema(parameters=[OpenApiParameter("tasks", str, description="任务编号，逗号分隔")],
                   responses={200: {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "object"}}}})
    def get(self, request):
        ids = [int(x) for x in request.query_params.get("tasks", "").split(",") if x.strip().isdigit()]
        return Response(selectors.task_delivery_summary(user=request.user, task_ids=ids))
