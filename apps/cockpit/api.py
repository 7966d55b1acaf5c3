"""Cockpit REST API: thin views over ``selectors.py`` (reads) and ``services.py`` (the weights).

Read access: the operations centre (commander, duty officer) and the auditor; department
and field staff are refused (403) — the cockpit shows every department's work. Answers
carry an ETag (a repeated poll of an unchanged answer costs no body) and short private
cache lifetimes; the heavier history reads (trends, evaluation, tide) are also cached
server-side for a minute.
"""
from __future__ import annotations

import hashlib
import json

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import error
from apps.core.permissions import roles_allowed
from apps.core.roles import Role

from . import selectors, services
from .serializers import EvaluationQuery, MapQuery, SummaryQuery, TideQuery, TrendsQuery, WeightsSerializer

CockpitReaders = roles_allowed(Role.COMMANDER, Role.DUTY_OFFICER, read_roles=[Role.AUDITOR])
WeightsEditors = roles_allowed(Role.COMMANDER, read_roles=[Role.DUTY_OFFICER, Role.AUDITOR])


def json_response(request, data, *, max_age: int = 0) -> HttpResponse:
    """JSON with a strong ETag; ``304 Not Modified`` when the client already has it."""
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={max_age}", "Vary": "Cookie, Authorization"}
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        return HttpResponse(status=304, headers=headers)
    return HttpResponse(body, content_type="application/json; charset=utf-8", headers=headers)


def _query(serializer_class, request):
    s = serializer_class(data=request.query_params)
    s.is_valid(raise_exception=True)
    return s.validated_data


def _cached(key: str, ttl_s: int, compute):
    data = cache.get(key)
    if data is None:
        data = compute()
        cache.set(key, data, ttl_s)
    return data


class SummaryApi(APIView):
    """Every counter of the cockpit in one answer (``?days=30`` for the period counters)."""

    permission_classes = [CockpitReaders]

    @extend_schema(parameters=[SummaryQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = _query(SummaryQuery, request)
        return json_response(request, selectors.cockpit_summary(days=q["days"]))


class TrendsApi(APIView):
    """Series per day or week: ``?days=30&bucket=day|week``."""

    permission_classes = [CockpitReaders]

    @extend_schema(parameters=[TrendsQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = _query(TrendsQuery, request)
        today = timezone.localdate().isoformat()
        data = _cached(
            f"cockpit:trends:{today}:{q['days']}:{q['bucket']}", 60,
            lambda: selectors.cockpit_trends(days=q["days"], bucket=q["bucket"]),
        )
        return json_response(request, data, max_age=30)


class MapApi(APIView):
    """Everything the map draws, in one bounded answer (``?hours=6``)."""

    permission_classes = [CockpitReaders]

    @extend_schema(parameters=[MapQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = _query(MapQuery, request)
        return json_response(request, selectors.cockpit_map(hours=q["hours"]))


class BoundaryApi(APIView):
    """The county outline (GeoJSON, WGS84)."""

    permission_classes = [CockpitReaders]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return json_response(request, selectors.county_boundary(), max_age=86400)


class DetailApi(APIView):
    """The side panel of a clicked vessel, warning, geofence, facility or team (details and history)."""

    permission_classes = [CockpitReaders]
    KINDS = ("vessel", "warning", "geofence", "facility", "team")

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, kind: str, pk: int):
        if kind not in self.KINDS:
            return error(_("未知的对象类型：%(kind)s") % {"kind": kind}, status=404)
        data = selectors.detail(kind=kind, pk=pk)
        if data is None:
            return error(_("未找到该对象。"), status=404)
        return json_response(request, data)


class TideApi(APIView):
    """Tonight's tide curve and the joint-patrol windows (``?date=YYYY-MM-DD``)."""

    permission_classes = [CockpitReaders]

    @extend_schema(parameters=[TideQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = _query(TideQuery, request)
        return json_response(request, selectors.tide_tonight(day=q.get("date")), max_age=300)


class EvaluationApi(APIView):
    """The ranked department evaluation: ``?start=YYYY-MM-DD&end=YYYY-MM-DD`` (local dates, inclusive)."""

    permission_classes = [CockpitReaders]

    @extend_schema(parameters=[EvaluationQuery], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        q = _query(EvaluationQuery, request)
        return json_response(request, evaluation_cached(start=q["start"], end=q["end"]))


def evaluation_cached(*, start, end) -> dict:
    weights = services.evaluation_weights_get()
    key = f"cockpit:evaluation:{start}:{end}:{weights.pk}:{weights.updated_at.timestamp()}"
    return _cached(key, 60, lambda: selectors.department_evaluation(start=start, end=end))


class WeightsApi(APIView):
    """The evaluation weighting: everyone in the cockpit reads it, the commander changes it (PUT)."""

    permission_classes = [WeightsEditors]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(_weights_body(services.evaluation_weights_get()))

    @extend_schema(request=WeightsSerializer, responses=OpenApiTypes.OBJECT)
    def put(self, request):
        s = WeightsSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        note = data.pop("note", "")
        row = services.evaluation_weights_update(actor=request.user, weights=data, note=note)
        return Response(_weights_body(row))


def _weights_body(row) -> dict:
    from .evaluation import METRIC_LABELS, METRICS

    return {
        "weights": {m: str(getattr(row, m)) for m in METRICS},
        "labels": METRIC_LABELS,
        "note": row.note,
        "updated_by": str(row.updated_by) if row.updated_by_id else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }
