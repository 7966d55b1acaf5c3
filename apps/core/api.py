"""Conventions every module's API follows: pagination, errors, department-scoped querysets."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from auditlog.context import auditlog_value
from rest_framework import exceptions, pagination, parsers
from rest_framework.authentication import TokenAuthentication
from django.utils.translation import gettext as _
from rest_framework.response import Response


class Pagination(pagination.PageNumberPagination):
    """``?page=N&page_size=M`` (at most 500); responses carry ``count``, ``next``, ``previous``, ``results``."""

    page_size_query_param = "page_size"
    max_page_size = 500


class ObjectJSONParser(parsers.JSONParser):
    """JSON bodies are objects: ``[null, null]`` or ``"x"`` is a 400 here, before any view calls
    ``request.data.get`` on it. (The one endpoint taking a JSON list, positions upload, reads
    the raw body.)"""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if not isinstance(data, dict):
            raise exceptions.ParseError(_("请求体须为 JSON 对象（{...}），而不是 %(kind)s。") % {"kind": type(data).__name__})
        return data


def exception_handler(exc, context):
    """DRF's handler, plus the errors every endpoint may meet, as 400s with a Chinese message:
    Django ``ValidationError`` from services, and the database refusing a value (out of its
    range, e.g. a time zone offset PostgreSQL does not take) or a constraint (unique, check)
    that a serializer did not catch first."""
    from rest_framework.views import exception_handler as drf_exception_handler  # import cycle otherwise

    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DataError):
        exc = exceptions.ValidationError({"detail": [_("输入的值超出了可接受的范围或格式（例如时间、时区或长度），请检查后重试。")]})
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"detail": [_("输入与已有数据冲突或不满足约束（例如重复、取值范围），未保存。")]})
    return drf_exception_handler(exc, context)


class VisibleToUserMixin:
    """ViewSets over a model whose manager has ``visible_to(user)``: the department rule in one place."""

    def get_queryset(self):
        return self.queryset.model.objects.visible_to(self.request.user)


def query_datetime(request, name: str):
    """An optional ISO 8601 time from the query string; a bad one is a 400 naming the parameter."""
    from django.utils.dateparse import parse_datetime

    raw = request.query_params.get(name) or ""
    if not raw:
        return None
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise exceptions.ValidationError({name: [_("时间格式无效，应为 ISO 8601（如 2026-11-20T01:00:00+08:00）。")]})
    return value


def checked_body(serializer_class, request, instance=None):
    """``request.data`` once it passes the endpoint's own serializer (types, lengths, choices,
    ranges, NUL characters): for views that read fields from the body by hand and call a service.
    Partial, as the service checks what is required; a bad field is a 400 that names it."""
    serializer = serializer_class(instance, data=request.data, partial=True, context={"request": request})
    serializer.is_valid(raise_exception=True)
    return request.data


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
