"""REST API of the key-element registry: elements, links, the network, paths, timelines, exports."""
from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api import VisibleToUserMixin, error
from apps.core.permissions import roles_allowed
from apps.core.roles import COMMAND_ROLES, DEPARTMENT_ROLES, Role

from . import graph, selectors, services
from .models import Element, Link
from .serializers import (
    ElementInput, ElementSerializer, GraphOut, ImportInput, LinkInput, LinkSerializer, NetworkQuery, PathQuery,
    ReasonInput,
)

#: the operations centre and departments keep the registry; auditors read it
Registry = roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES, read_roles=[Role.AUDITOR])
ExportRoles = roles_allowed(*COMMAND_ROLES)


class ElementList(VisibleToUserMixin, generics.ListAPIView):
    """Elements the user may see; POST adds (or updates) one — a person's name and ID number are sealed."""

    queryset = Element.objects.all()
    serializer_class = ElementSerializer
    permission_classes = [Registry]
    filterset_fields = ["kind", "watch_level"]
    search_fields = ["label", "key", "roles", "reason"]
    ordering_fields = ["label", "created_at", "watch_level"]

    def get_queryset(self):
        return super().get_queryset().select_related("department")

    @extend_schema(request=ElementInput, responses={201: ElementSerializer})
    def post(self, request):
        data = ElementInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        common = dict(actor=request.user, department=request.user.department, watch_level=d.get("watch_level", ""),
                      reason=d.get("reason") or None, expires_at=d.get("expires_at"), source="officer")
        if d["kind"] == Element.Kind.PERSON:
            el, _c = services.person_save(name=d["name"], id_number=d.get("id_number", ""), phones=d.get("phones", []),
                                          roles=d.get("roles", ""), **common)
        else:
            from .importers import RegistryRow, _row

            row: RegistryRow
            try:
                row = _row(0, {"kind": d["kind"], "name": d["name"], "key": d.get("key", "")})
            except ValueError as exc:
                return error(str(exc))
            el, _c = services.element_save(kind=row.kind, key=row.key, label=row.name, roles=d.get("roles") or None,
                                           **common)
        return Response(ElementSerializer(el).data, status=201)


class ElementDetail(VisibleToUserMixin, generics.RetrieveAPIView):
    queryset = Element.objects.all()
    serializer_class = ElementSerializer
    permission_classes = [Registry]


class ElementIdentity(APIView):
    """POST ``{"reason": ...}`` → a person's name and full ID number; custodians only, every read audited."""

    permission_classes = [roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES)]

    @extend_schema(request=ReasonInput, responses=inline_serializer(
        "PersonIdentityOut", {"id": serializers.IntegerField(), "identity": serializers.DictField(child=serializers.CharField())}))
    def post(self, request, pk: int):
        el = get_object_or_404(Element.objects.visible_to(request.user), pk=pk)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        identity = services.person_identity_read(element=el, actor=request.user, reason=data.validated_data["reason"])
        response = Response({"id": el.pk, "identity": identity})
        response["Cache-Control"] = "no-store"
        return response


class ElementTimeline(APIView):
    permission_classes = [Registry]

    @extend_schema(responses=inline_serializer("ElementTimeline", {"items": serializers.ListField(child=serializers.DictField())}))
    def get(self, request, pk: int):
        el = get_object_or_404(Element.objects.visible_to(request.user), pk=pk)
        return Response({"items": selectors.timeline(el=el, user=request.user)})


class RegistryImport(APIView):
    """Upload a registry file (CSV/XLSX): good rows saved, every bad row reported with its number."""

    permission_classes = [roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES)]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportInput}, responses=inline_serializer("RegistryImportOut", {
        "rows": serializers.IntegerField(), "created": serializers.IntegerField(), "updated": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField())}))
    def post(self, request):
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        f = data.validated_data["file"]
        if f.size > 5 * 1024 * 1024:
            return error(_("文件过大（最多 5 MB）。"))
        report = services.registry_import(data=f.read(), filename=f.name, actor=request.user)
        return Response(report, status=200)


class LinkList(generics.ListAPIView):
    """Links the user may see (both ends visible); POST adds a link by hand (source: officer's note)."""

    serializer_class = LinkSerializer
    permission_classes = [Registry]
    filterset_fields = ["kind", "source", "active", "src", "dst"]
    ordering_fields = ["created_at", "confidence"]

    def get_queryset(self):
        return Link.objects.visible_to(self.request.user).select_related("case")

    @extend_schema(request=LinkInput, responses={201: LinkSerializer})
    def post(self, request):
        data = LinkInput(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        visible = Element.objects.visible_to(request.user)
        a = get_object_or_404(visible, pk=d["a"])
        b = get_object_or_404(visible, pk=d["b"])
        link = services.link_add(a=a, b=b, kind=d["kind"], source=Link.Source.OFFICER, ref=f"user:{request.user.pk}",
                                 start=d.get("start"), end=d.get("end"), confidence=d["confidence"], note=d["note"],
                                 actor=request.user)
        return Response(LinkSerializer(link).data, status=201)


class LinkRetire(APIView):
    permission_classes = [roles_allowed(*COMMAND_ROLES, *DEPARTMENT_ROLES)]

    @extend_schema(request=ReasonInput, responses=LinkSerializer)
    def post(self, request, pk: int):
        link = get_object_or_404(Link.objects.visible_to(request.user), pk=pk)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(LinkSerializer(services.link_retire(link=link, actor=request.user,
                                                            reason=data.validated_data["reason"])).data)


def _starts(request, q: dict) -> list[int]:
    """Start elements: ``elements=1,2``, or a warning's vessels, or a case's members (each as the user may see them)."""
    ids: list[int] = []
    for part in (q.get("elements") or "").split(","):
        if part.strip().isdigit():
            ids.append(int(part))
    if q.get("warning"):
        from apps.elements.models import Warning

        w = get_object_or_404(Warning.objects.visible_to(request.user), pk=q["warning"])
        ids += list(Element.objects.filter(kind=Element.Kind.VESSEL, key__in=w.vessels).values_list("pk", flat=True))
    if q.get("case"):
        from apps.enforcement.models import Case

        case = get_object_or_404(Case.objects.visible_to(request.user), pk=q["case"])
        for s, d in Link.objects.filter(case=case).values_list("src_id", "dst_id"):
            ids += [s, d]
    return sorted(set(ids))


def _filter(q: dict) -> graph.LinkFilter:
    kinds = tuple(k for k in (q.get("kinds") or "").split(",") if k in Link.Kind.values)
    return graph.LinkFilter(min_confidence=q.get("min_confidence") or 0.0, start=q.get("start"), end=q.get("end"),
                            kinds=kinds, include_retired=q.get("include_retired", False))


_NETWORK_PARAMS = [
    OpenApiParameter("elements", str, description="comma-separated element ids"),
    OpenApiParameter("warning", int), OpenApiParameter("case", int),
    OpenApiParameter("hops", int), OpenApiParameter("min_confidence", float),
    OpenApiParameter("start", OpenApiTypes.DATETIME), OpenApiParameter("end", OpenApiTypes.DATETIME),
    OpenApiParameter("kinds", str, description="comma-separated link kinds"),
]


class Network(APIView):
    """The elements within ``hops`` (default 2) links of the start elements, with communities."""

    permission_classes = [Registry]

    @extend_schema(parameters=_NETWORK_PARAMS, responses=GraphOut)
    def get(self, request):
        q = NetworkQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        starts = _starts(request, q.validated_data)
        if not starts:
            return Response({"nodes": [], "links": [], "truncated": False})
        return Response(selectors.network(user=request.user, starts=starts, hops=q.validated_data["hops"],
                                          f=_filter(q.validated_data)))


class Path(APIView):
    """The shortest chain of links between two elements (fewest links, then the most confident)."""

    permission_classes = [Registry]

    @extend_schema(parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True),
                               OpenApiParameter("min_confidence", float)], responses=GraphOut)
    def get(self, request):
        q = PathQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        visible = Element.objects.visible_to(request.user)
        a = get_object_or_404(visible, pk=q.validated_data["a"])
        b = get_object_or_404(visible, pk=q.validated_data["b"])
        found = selectors.path(user=request.user, a=a.pk, b=b.pk, f=_filter(q.validated_data))
        if found is None:
            return error(_("两个要素之间在 6 步以内没有关联。"), status=404)
        return Response(found)


class NetworkExportApi(APIView):
    """The network as GraphML or XLSX, for command roles only; every export is logged on the audit trail."""

    permission_classes = [ExportRoles]

    @extend_schema(parameters=[*_NETWORK_PARAMS, OpenApiParameter("fmt", str, enum=["graphml", "xlsx"])],
                   responses={(200, "application/graphml+xml"): OpenApiTypes.BINARY,
                              (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY})
    def get(self, request):
        fmt = request.query_params.get("fmt", "graphml")  # not "format": DRF reads that as a renderer
        if fmt not in ("graphml", "xlsx"):
            return error(_("导出格式只能是 graphml 或 xlsx。"))
        q = NetworkQuery(data=request.query_params)
        q.is_valid(raise_exception=True)
        starts = _starts(request, q.validated_data)
        payload = selectors.network(user=request.user, starts=starts, hops=q.validated_data["hops"],
                                    f=_filter(q.validated_data))
        services.network_export_record(actor=request.user, fmt=fmt, starts=starts, payload=payload)
        now = timezone.now()
        if fmt == "xlsx":
            body = selectors.network_xlsx(payload, generated_at=now)
            ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        else:
            body = selectors.network_graphml(payload)
            ctype = "application/graphml+xml"
        response = HttpResponse(body, content_type=ctype)
        response["Content-Disposition"] = f'attachment; filename="network-{now:%Y%m%d-%H%M}.{fmt}"'
        response["Cache-Control"] = "no-store"
        return response
