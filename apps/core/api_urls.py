from django.urls import include, path
from rest_framework.routers import DefaultRouter

from . import views_api

router = DefaultRouter()
router.register("departments", views_api.DepartmentViewSet)

app_name = "core-api"
urlpatterns = [
    path("basemap/", views_api.BasemapView.as_view(), name="basemap"),
    path("me/", views_api.MeView.as_view(), name="me"),
    path("audit/", views_api.AuditTrailView.as_view(), name="audit"),
    path("", include(router.urls)),
]
