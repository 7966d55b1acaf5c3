from auditlog.models import LogEntry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework import generics, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from .filters import AuditEntryFilter
from .models import Department
from .permissions import roles_allowed
from .roles import Role
from .serializers import AuditEntrySerializer, DepartmentSerializer, MeSerializer


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Department.objects.all()
    serializer_class = DepartmentSerializer
    search_fields = ["name", "name_en", "code"]


class AuditTrailView(generics.ListAPIView):
    """The audit trail, newest first. Auditors and the commander read it; nobody writes it."""

    queryset = LogEntry.objects.select_related("content_type", "actor").order_by("-timestamp", "-id")
    serializer_class = AuditEntrySerializer
    permission_classes = [roles_allowed(read_roles=[Role.AUDITOR, Role.COMMANDER])]
    filterset_class = AuditEntryFilter
    search_fields = ["object_repr", "changes_text"]


class BasemapView(APIView):
    """The offline base map (land, neighbouring districts, township labels), the places the
    viewer may see, and the configured tile service. Open to the public tip form too, which
    gets only the public places (no checkpoints, no sensors)."""

    permission_classes = [AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        from .basemap import basemap_for

        response = Response(basemap_for(request.user))
        response["Cache-Control"] = "private, max-age=300"
        response["Vary"] = "Cookie"
        return response
