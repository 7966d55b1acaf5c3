from django.urls import include, path
from apps.core.routers import Router

from . import views_api

router = Router()
router.register("departments", views_api.DepartmentViewSet)

app_name = "core-api"
urlpatterns = [
    path("basemap/", views_api.BasemapView.as_view(), name="basemap"),
    path("me/", views_api.MeView.as_view(), name="me"),
    path("audit/", views_api.AuditTrailView.as_view(), name="audit"),
    path("", include(router.urls)),
]
