"""Conventions every module's API follows: pagination, errors, department-scoped querysets."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from auditlog.context import auditlog_value
from rest_framework import exceptions, pagination
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response


class Pagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 500); responses carry ``count``, ``next``, ``previous``, ``results``."""

    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    """DRF's handler, plus Django ``ValidationError`` from services turned into a 400."""
    from rest_framework.views import exception_handler as drf_exception_handler  # import cycle otherwise

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)


class VisibleToUserMixin:
    """ViewSets over a model whose manager has ``visible_to(user)``: the department rule in one place."""

    def get_queryset(self):
        return self.queryset.model.objects.visible_to(self.request.user)


def error(message: str, status: int = 400, **extra) -> Response:
    return Response({"detail": message, **extra}, status=status)


class AuditedTokenAuthentication(TokenAuthentication):
    """Token auth that also names the user on the audit trail.

    The audit middleware runs before DRF authenticates a token, so it only knows session
    users; this puts the token's user into the same audit context.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            try:
                context = auditlog_value.get()
            except LookupError:
                context = None
            if context is not None and context.get("actor") is None:
                context["actor"] = result[0]
        return result
