from django.urls import path
from apps.core.routers import Router

from . import api

app_name = "elements-api"

router = Router()
router.register("vessels", api.VesselViewSet, basename="vessel")
router.register("geofences", api.GeofenceViewSet, basename="geofence")
router.register("warnings", api.WarningViewSet, basename="warning")
router.register("runs", api.IngestRunViewSet, basename="run")
router.register("quarantine", api.QuarantineViewSet, basename="quarantine")
router.register("watchlist", api.WatchEntryViewSet, basename="watchlist")
router.register("holidays", api.HolidayViewSet, basename="holiday")
router.register("detector-settings", api.DetectorSettingViewSet, basename="detector-setting")

urlpatterns = [
    path("geography/", api.GeographyView.as_view(), name="geography"),
    path("positions/", api.PositionUploadView.as_view(), name="positions"),
    path("captures/", api.CaptureUploadView.as_view(), name="captures"),
    path("risk-model/", api.RiskModelView.as_view(), name="risk-model"),
    path("tides/windows/", api.TideWindowsView.as_view(), name="tide-windows"),
    *router.urls,
]
